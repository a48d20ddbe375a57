namespace OpsTools.Configuration;

/// <summary>The environment file's <c>Notifications</c> section: where to tell people, and when.</summary>
public sealed class NotificationSettings
{
    /// <summary>The target the checklists' -Notify (and Send-OpsNotification without -Target) uses.</summary>
    public string? Default { get; set; }
    /// <summary>The level at or above which the checklists notify: Warning or Critical (default Critical).</summary>
    public string Level { get; set; } = "Critical";
    /// <summary>
    /// The state file that remembers which problems were alerted, so that healed ones are resolved on the next run
    /// (owner-only). Null: the per-user default (~/.local/state/opstools/notifications/&lt;environment&gt;.json).
    /// </summary>
    public string? StatePath { get; set; }
    /// <summary>The named targets.</summary>
    public IReadOnlyList<NotificationTarget> Targets { get; set; } = Array.Empty<NotificationTarget>();
}

/// <summary>One notification target. Secrets are named (environment variables), never written in the file.</summary>
public sealed class NotificationTarget
{
    /// <summary>The target's name (-Target).</summary>
    public string Name { get; set; } = "";
    /// <summary>Slack, Teams, PagerDuty, Opsgenie or Webhook.</summary>
    public string Service { get; set; } = "";
    /// <summary>The variable that holds the webhook URL (Slack incoming webhook, Teams Workflows trigger URL, a generic webhook).</summary>
    public string? UrlVariable { get; set; }
    /// <summary>The variable that holds the Slack bot token (xoxb-...), the PagerDuty routing key or the Opsgenie/JSM API key.</summary>
    public string? KeyVariable { get; set; }
    /// <summary>A service endpoint that is not secret: PagerDuty's events URL, Opsgenie's (or JSM's) alerts URL, Slack's Web API base.</summary>
    public Uri? Uri { get; set; }
    /// <summary>Slack: the channel the bot token posts to (#ops or C0123...).</summary>
    public string? Channel { get; set; }
    /// <summary>Teams: Envelope (a message with an Adaptive Card attachment, the Workflows default) or Card (the bare card).</summary>
    public string Format { get; set; } = "Envelope";
    /// <summary>Webhook: the JSON template, with {{placeholders}} (see about_OpsTools_Environments).</summary>
    public string? Template { get; set; }
    /// <summary>Text put before a summary (a Slack mention such as &lt;!subteam^S0123&gt; or &lt;@U0123&gt;), sent as written.</summary>
    public string? Mention { get; set; }
    /// <summary>PagerDuty payload.source / Opsgenie source (default: the environment's name).</summary>
    public string? Source { get; set; }
    /// <summary>Seconds one request may take.</summary>
    public double? TimeoutSec { get; set; }

    public override string ToString() => $"{Name} ({Service})";
}
