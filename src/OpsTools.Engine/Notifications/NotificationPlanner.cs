using System.Globalization;
using OpsTools.Configuration;
using OpsTools.Notifications;

namespace OpsTools.Engine.Notifications;

/// <summary>
/// Turns check results (or a plain message) into the deliveries of one target: one summary for Slack, Teams and
/// webhooks; one trigger per problem and one resolve per healed problem for PagerDuty and Opsgenie. A problem is a
/// result at or above the level (Warning: Warning, Critical and Unknown, as -FailOn counts; Critical: Critical). A
/// problem alerted before (the state) has healed when this run checked it again and found it below the level, or
/// ran the same check and no longer reports that target; checks that did not run this time resolve nothing.
/// </summary>
public static class NotificationPlanner
{
    public static bool AtLevel(CheckStatus status, string level) =>
        level.Equals("Critical", StringComparison.OrdinalIgnoreCase) ? status == CheckStatus.Critical : status != CheckStatus.Healthy;

    public static NoticeItem Item(CheckResult r, string environment) => new(
        NotificationPayloads.DedupKey(r.Environment ?? environment, r.Check, r.Target), r.Check, r.Area, r.Target, r.Status.ToString(),
        r.Message, r.Value is null ? null : Convert.ToString(r.Value, CultureInfo.InvariantCulture), r.Threshold, r.Environment ?? environment, r.Timestamp);

    /// <summary>The problems now and the healed ones, given what the state holds open for the target.</summary>
    public static (List<NoticeItem> Problems, List<NoticeItem> Resolved) Compare(IReadOnlyList<CheckResult> results, string level, string environment,
        IReadOnlyDictionary<string, NoticeItem> open)
    {
        var items = results.Select(r => (Result: r, Item: Item(r, environment))).ToList();
        var problems = items.Where(x => AtLevel(x.Result.Status, level)).Select(x => x.Item)
            .GroupBy(i => i.DedupKey).Select(g => g.First()).ToList();
        var problemKeys = problems.Select(p => p.DedupKey).ToHashSet(StringComparer.Ordinal);
        var seenKeys = items.Select(x => x.Item.DedupKey).ToHashSet(StringComparer.Ordinal);
        var checksRun = items.Select(x => (x.Item.Environment, x.Item.Check)).ToHashSet();
        var resolved = open.Values.Where(o => !problemKeys.Contains(o.DedupKey) && (seenKeys.Contains(o.DedupKey) || checksRun.Contains((o.Environment, o.Check))))
            .OrderBy(o => o.Check, StringComparer.Ordinal).ThenBy(o => o.Target, StringComparer.Ordinal).ToList();
        return (problems, resolved);
    }

    public static string SummaryTitle(string environment, IReadOnlyList<NoticeItem> problems, IReadOnlyList<NoticeItem> resolved, int checkedCount)
    {
        if (problems.Count == 0)
            return resolved.Count > 0 ? $"[{environment}] RESOLVED: {resolved.Count} problem(s) healed; nothing at the level now" : $"[{environment}] All {checkedCount} checks below the level";
        var parts = problems.GroupBy(p => p.Status).OrderByDescending(g => g.Key == "Critical" ? 3 : g.Key == "Warning" ? 2 : 1)
            .Select(g => $"{g.Count()} {g.Key.ToLowerInvariant()}");
        return $"[{environment}] {string.Join(", ", parts)} of {checkedCount} checks" + (resolved.Count > 0 ? $"; {resolved.Count} resolved" : "");
    }

    public static string SeverityOf(IEnumerable<NoticeItem> problems)
    {
        var list = problems.ToList();
        return list.Any(p => p.Status == "Critical") ? "Critical" : list.Count > 0 ? "Warning" : "Info";
    }

    /// <summary>The deliveries for check results. <paramref name="open"/> is the target's state; accepted deliveries update it.</summary>
    public static List<Delivery> ForResults(ResolvedTarget t, IReadOnlyList<CheckResult> results, string level, string environment,
        Dictionary<string, NoticeItem> open, bool always)
    {
        var (problems, resolved) = Compare(results, level, environment, open);
        var list = new List<Delivery>();
        if (t.Service is "PagerDuty" or "Opsgenie")
        {
            foreach (var p in problems)
            {
                var item = p;
                list.Add(Trigger(t, item, environment, _ => open[item.DedupKey] = item));
            }
            foreach (var r in resolved)
            {
                var item = r;
                list.Add(ResolveAlert(t, item.DedupKey, $"Healed: {item.Check} {item.Target} is below the level again.", item.Check + " " + item.Target, _ => open.Remove(item.DedupKey)));
            }
            return list;
        }
        if (problems.Count == 0 && resolved.Count == 0 && !always) return list;
        var content = new NoticeContent
        {
            Title = SummaryTitle(environment, problems, resolved, results.Count),
            Severity = SeverityOf(problems),
            Environment = environment,
            Problems = problems,
            Resolved = resolved,
            Checked = results.Count,
            Mention = problems.Count > 0 ? t.Mention : null,
        };
        list.Add(Message(t, content, "Summary", _ =>
        {
            foreach (var r in resolved) open.Remove(r.DedupKey);
            foreach (var p in problems) open[p.DedupKey] = p;
        }));
        return list;
    }

    /// <summary>A plain message (an incident update): posted as is; for PagerDuty/Opsgenie a trigger (or a resolve) under <paramref name="dedupKey"/>.</summary>
    public static Delivery ForMessage(ResolvedTarget t, string title, string text, string severity, string environment, string? dedupKey, bool resolve,
        Dictionary<string, NoticeItem> open)
    {
        var key = dedupKey ?? NotificationPayloads.DedupKey(environment, "Message", title);
        if (t.Service is "PagerDuty" or "Opsgenie")
        {
            if (resolve) return ResolveAlert(t, key, title + (text.Length > 0 ? ": " + text : ""), title, _ => open.Remove(key));
            var item = new NoticeItem(key, "Message", "Incidents", title, severity, text, null, null, environment, DateTime.UtcNow);
            return Trigger(t, item, environment, _ => open[key] = item, severity);
        }
        var content = new NoticeContent { Title = title, Text = text, Severity = severity, Environment = environment, Mention = t.Mention };
        return Message(t, content, "Message", null) is var d && dedupKey is null ? d : new Delivery
        {
            Action = d.Action, Uri = d.Uri, Json = d.Json, Answer = d.Answer, Headers = d.Headers, Items = d.Items, Truncated = d.Truncated,
            Subject = d.Subject, Channel = d.Channel, DedupKey = key,
        };
    }

    private static Delivery Message(ResolvedTarget t, NoticeContent content, string action, Action<NotificationResult>? onAccepted)
    {
        switch (t.Service)
        {
            case "Slack" when t.UsesSlackApi:
            {
                var p = NotificationPayloads.Slack(content, t.Channel);
                return new Delivery
                {
                    Action = action, Uri = SlackApi(t, "chat.postMessage"), Json = p.Json, Answer = AnswerKind.SlackApi, Items = p.Items, Truncated = p.Truncated,
                    Subject = content.Title, Channel = t.Channel, OnAccepted = onAccepted,
                    Headers = new(StringComparer.OrdinalIgnoreCase) { ["Authorization"] = "Bearer " + t.Key },
                };
            }
            case "Slack":
            {
                var p = NotificationPayloads.Slack(content);
                return new Delivery { Action = action, Uri = t.WebhookUrl!, Json = p.Json, Answer = AnswerKind.SlackWebhook, Items = p.Items, Truncated = p.Truncated, Subject = content.Title, OnAccepted = onAccepted };
            }
            case "Teams":
            {
                var p = NotificationPayloads.Teams(content, t.BareCard);
                return new Delivery { Action = action, Uri = t.WebhookUrl!, Json = p.Json, Answer = AnswerKind.Teams, Items = p.Items, Truncated = p.Truncated, Subject = content.Title, OnAccepted = onAccepted };
            }
            default:
            {
                var p = NotificationPayloads.Webhook(content, t.Template);
                return new Delivery { Action = action, Uri = t.WebhookUrl!, Json = p.Json, Answer = AnswerKind.Webhook, Items = p.Items, Truncated = p.Truncated, Subject = content.Title, OnAccepted = onAccepted };
            }
        }
    }

    public static Uri PagerDutyDefault { get; } = new("https://events.pagerduty.com/v2/enqueue");
    public static Uri OpsgenieDefault { get; } = new("https://api.opsgenie.com/v2/alerts");
    public static Uri SlackApiDefault { get; } = new("https://slack.com/api/");

    public static Uri SlackApi(ResolvedTarget t, string method)
    {
        var b = t.Endpoint ?? SlackApiDefault;
        return new Uri(b.AbsoluteUri.EndsWith('/') ? b : new Uri(b.AbsoluteUri + "/"), method);
    }

    private static Delivery Trigger(ResolvedTarget t, NoticeItem p, string environment, Action<NotificationResult> onAccepted, string? severity = null)
    {
        var source = t.Source ?? environment;
        // The alert's title is one line: a message (an incident update) gives its title and the first line of its text, a
        // check result its one-line form; the whole text stays in custom_details.message (and Opsgenie's description).
        var summary = (p.Check == "Message"
                ? $"[{environment}] {p.Target}" + (p.Message.Split('\n', 2)[0].TrimEnd('\r') is { Length: > 0 } firstLine ? ": " + firstLine : "")
                : $"[{environment}] {p.Status} {p.Check} {p.Target}: {p.Message}")
            .ReplaceLineEndings(" ");
        var details = new Dictionary<string, string?>
        {
            ["status"] = p.Status, ["check"] = p.Check, ["target"] = p.Target, ["message"] = p.Message,
            ["value"] = p.Value, ["threshold"] = p.Threshold, ["environment"] = p.Environment,
        };
        if (t.Service == "PagerDuty")
        {
            var pd = NotificationPayloads.PagerDutyTrigger(t.Key!, p.DedupKey, summary, source, NotificationPayloads.PagerDutySeverity(severity ?? p.Status),
                p.Check == "Message" ? null : p.Target, string.IsNullOrEmpty(p.Area) ? null : p.Area, p.Check, details, p.Timestamp);
            return new Delivery { Action = "Trigger", Uri = t.Endpoint ?? PagerDutyDefault, Json = pd.Json, Answer = AnswerKind.PagerDuty, DedupKey = p.DedupKey, Items = 1, Truncated = pd.Truncated, Subject = summary, OnAccepted = onAccepted };
        }
        var og = NotificationPayloads.OpsgenieCreate(summary, p.DedupKey, $"{p.Message}\n\nValue: {p.Value ?? "-"}\nThreshold: {p.Threshold ?? "-"}\nEnvironment: {p.Environment}",
            NotificationPayloads.OpsgeniePriority(severity ?? p.Status), source, p.Check == "Message" ? null : p.Target,
            new[] { "opstools", environment, p.Check }, details);
        return new Delivery
        {
            Action = "Trigger", Uri = t.Endpoint ?? OpsgenieDefault, Json = og.Json, Answer = AnswerKind.Opsgenie, DedupKey = p.DedupKey, Items = 1, Truncated = og.Truncated,
            Subject = summary, OnAccepted = onAccepted, Headers = new(StringComparer.OrdinalIgnoreCase) { ["Authorization"] = "GenieKey " + t.Key },
        };
    }

    private static Delivery ResolveAlert(ResolvedTarget t, string key, string note, string subject, Action<NotificationResult> onAccepted)
    {
        if (t.Service == "PagerDuty")
        {
            var pd = NotificationPayloads.PagerDutyAction(t.Key!, key, "resolve");
            return new Delivery { Action = "Resolve", Uri = t.Endpoint ?? PagerDutyDefault, Json = pd.Json, Answer = AnswerKind.PagerDuty, DedupKey = key, Items = 1, Subject = "Resolved: " + subject, OnAccepted = onAccepted };
        }
        var baseUri = (t.Endpoint ?? OpsgenieDefault).AbsoluteUri.TrimEnd('/');
        var og = NotificationPayloads.OpsgenieClose(t.Source ?? t.Environment ?? "OpsTools", note);
        return new Delivery
        {
            Action = "Resolve", Uri = new Uri($"{baseUri}/{Uri.EscapeDataString(key)}/close?identifierType=alias"), Json = og.Json, Answer = AnswerKind.Opsgenie,
            DedupKey = key, Items = 1, Subject = "Resolved: " + subject, OnAccepted = onAccepted,
            Headers = new(StringComparer.OrdinalIgnoreCase) { ["Authorization"] = "GenieKey " + t.Key },
        };
    }

    /// <summary>Slack Web API: create the incident channel (conversations.create).</summary>
    public static Delivery CreateChannel(ResolvedTarget t, string name) => new()
    {
        Action = "CreateChannel", Uri = SlackApi(t, "conversations.create"), Answer = AnswerKind.SlackApi, Subject = "#" + name, Channel = name,
        Json = NotificationJson.Write(new System.Text.Json.Nodes.JsonObject { ["name"] = name, ["is_private"] = false }),
        Headers = new(StringComparer.OrdinalIgnoreCase) { ["Authorization"] = "Bearer " + t.Key },
    };

    /// <summary>Slack Web API: set a channel's topic (conversations.setTopic).</summary>
    public static Delivery SetTopic(ResolvedTarget t, string channelId, string topic) => new()
    {
        Action = "SetTopic", Uri = SlackApi(t, "conversations.setTopic"), Answer = AnswerKind.SlackApi, Subject = topic, Channel = channelId,
        Json = NotificationJson.Write(new System.Text.Json.Nodes.JsonObject { ["channel"] = channelId, ["topic"] = topic.Length > 250 ? topic[..250] : topic }),
        Headers = new(StringComparer.OrdinalIgnoreCase) { ["Authorization"] = "Bearer " + t.Key },
    };
}
