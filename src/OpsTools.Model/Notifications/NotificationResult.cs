namespace OpsTools.Notifications;

/// <summary>How a delivery ended.</summary>
public enum NotificationStatus
{
    /// <summary>The service took it (Slack "ok", PagerDuty/Opsgenie/Teams 202, a webhook's 2xx).</summary>
    Accepted = 0,
    /// <summary>The service answered and refused it, with its reason (invalid_payload, channel_not_found, a 400's errors ...).</summary>
    Rejected = 1,
    /// <summary>No usable answer: connection refused, timeout, 5xx or 429 after every attempt.</summary>
    Failed = 2,
}

/// <summary>One delivery to one notification target: a summary, an alert, a resolve, a message, a channel.</summary>
public sealed class NotificationResult
{
    /// <summary>The target's name (from the environment's Notifications section, or the service for an ad-hoc target).</summary>
    public string Target { get; set; } = "";
    /// <summary>Slack, SlackApi, Teams, PagerDuty, Opsgenie or Webhook.</summary>
    public string Service { get; set; } = "";
    /// <summary>Summary, Trigger, Resolve, Message, CreateChannel or SetTopic.</summary>
    public string Action { get; set; } = "";
    /// <summary>Accepted, Rejected or Failed.</summary>
    public NotificationStatus Status { get; set; }
    /// <summary>The HTTP status of the last answer (null when none came).</summary>
    public int? HttpStatus { get; set; }
    /// <summary>The service's own reason (invalid_payload, channel_not_found, rate_limited, a PagerDuty error ...) or why no answer came.</summary>
    public string? Reason { get; set; }
    /// <summary>Requests sent (retries after 429 and 5xx included).</summary>
    public int Attempts { get; set; }
    /// <summary>The dedup key (PagerDuty dedup_key, Opsgenie alias) of an alert or resolve; null for summaries.</summary>
    public string? DedupKey { get; set; }
    /// <summary>The check results the delivery speaks of (problems for a summary or an alert, the healed one for a resolve).</summary>
    public int Problems { get; set; }
    /// <summary>True when the payload was cut to the service's size limit (the message says so to its readers).</summary>
    public bool Truncated { get; set; }
    /// <summary>Size of the payload sent, in bytes (UTF-8).</summary>
    public int Bytes { get; set; }
    /// <summary>What the delivery said, in one line (its title or summary).</summary>
    public string Subject { get; set; } = "";
    /// <summary>The channel posted to or created (Slack Web API).</summary>
    public string? Channel { get; set; }
    /// <summary>How long the delivery took, retries and waits included.</summary>
    public TimeSpan Duration { get; set; }
    /// <summary>When it finished, UTC.</summary>
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;
    /// <summary>The environment the target belongs to.</summary>
    public string? Environment { get; set; }

    /// <summary>True when the service took it.</summary>
    public bool Succeeded => Status == NotificationStatus.Accepted;

    public override string ToString() => $"{Status} {Service} {Target} {Action}{(Reason is null ? "" : ": " + Reason)}";
}
