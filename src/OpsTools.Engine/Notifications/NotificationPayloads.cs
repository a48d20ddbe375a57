using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace OpsTools.Engine.Notifications;

/// <summary>One problem (or healed problem) a notification speaks of.</summary>
public sealed record NoticeItem(string DedupKey, string Check, string Area, string Target, string Status, string Message, string? Value, string? Threshold, string? Environment, DateTime Timestamp);

/// <summary>What one notification says: a summary of check results, or a plain message (an incident update).</summary>
public sealed class NoticeContent
{
    public string Title { get; init; } = "";
    /// <summary>A plain message's text, sent as written (Slack mrkdwn and mentions pass through); null for a summary.</summary>
    public string? Text { get; init; }
    /// <summary>Critical, Error, Warning or Info.</summary>
    public string Severity { get; init; } = "Info";
    public string Environment { get; init; } = "";
    public IReadOnlyList<NoticeItem> Problems { get; init; } = Array.Empty<NoticeItem>();
    public IReadOnlyList<NoticeItem> Resolved { get; init; } = Array.Empty<NoticeItem>();
    /// <summary>Check results looked at (a summary's "of N checks").</summary>
    public int Checked { get; init; }
    public string? Mention { get; init; }
    public DateTime Timestamp { get; init; } = DateTime.UtcNow;
}

/// <summary>A payload ready to send, with what it says for results and -WhatIf.</summary>
public sealed record Payload(string Json, bool Truncated, int Items);

/// <summary>
/// The published formats: Slack (incoming webhook and chat.postMessage: text + Block Kit), Microsoft Teams Workflows
/// (a message envelope with an Adaptive Card 1.4 attachment, or the bare card), PagerDuty Events API v2, Opsgenie
/// (and Jira Service Management's Opsgenie-compatible integration API) alerts, and a generic JSON template. Each
/// keeps to its service's size limits and says so in the message when something was left out.
/// </summary>
public static class NotificationPayloads
{
    public const int SlackTextLimit = 40_000;
    public const int SlackBlockLimit = 50;
    public const int SlackSectionLimit = 3_000;
    public const int SlackHeaderLimit = 150;
    public const int TeamsByteLimit = 28 * 1024;
    public const int PagerDutyByteLimit = 512 * 1024;
    public const int PagerDutySummaryLimit = 1024;
    public const int OpsgenieMessageLimit = 130;
    public const int OpsgenieDescriptionLimit = 15_000;
    public const int DedupKeyLimit = 255;

    /// <summary>
    /// The stable key of a problem: environment, check and target (<c>opstools:prod:DbHealth:db1</c>); one that would be
    /// longer than 255 characters (PagerDuty's limit) keeps its start and ends with a hash of the whole.
    /// </summary>
    public static string DedupKey(string? environment, string check, string target)
    {
        var key = $"opstools:{environment ?? "default"}:{check}:{target}";
        if (key.Length <= DedupKeyLimit) return key;
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16].ToLowerInvariant();
        return key[..(DedupKeyLimit - 17)] + "#" + hash;
    }

    public static string Icon(string status) => status switch
    {
        "Critical" => ":red_circle:",
        "Warning" => ":large_orange_circle:",
        "Unknown" => ":white_circle:",
        "Healthy" or "Resolved" => ":large_green_circle:",
        _ => ":information_source:",
    };

    /// <summary>Slack's escaping of text that is data, not markup: &amp; &lt; &gt; (a check message's "&lt; 90 %" is not a link).</summary>
    public static string SlackEscape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

    private static string Cut(string s, int max, string note = "…")
    {
        if (s.Length <= max) return s;
        var keep = Math.Max(0, max - note.Length);
        if (keep > 0 && char.IsHighSurrogate(s[keep - 1])) keep--;
        return s[..keep] + note;
    }

    private static string ItemLine(NoticeItem p) =>
        $"*{p.Status}* `{SlackEscape(p.Check)}` {SlackEscape(p.Target)}: {SlackEscape(p.Message)}";

    private static string Footer(NoticeContent c) =>
        $"OpsTools · {c.Environment} · {c.Timestamp.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC" + (c.Checked > 0 ? $" · {c.Checked} checks" : "");

    // ---- Slack ------------------------------------------------------------------------------------------------

    /// <summary>Slack: <c>{"text", "blocks"}</c>, plus <c>"channel"</c> for chat.postMessage.</summary>
    public static Payload Slack(NoticeContent c, string? channel = null)
    {
        var truncated = false;
        var lines = new List<string>();
        var sections = new List<string>();
        if (c.Text is not null)
        {
            lines.Add(c.Text);
            for (var i = 0; i < c.Text.Length; i += SlackSectionLimit)
                sections.Add(c.Text.Substring(i, Math.Min(SlackSectionLimit, c.Text.Length - i)));
        }
        foreach (var p in c.Problems)
        {
            var line = Icon(p.Status) + " " + ItemLine(p);
            lines.Add(line);
            sections.Add(Cut(line, SlackSectionLimit));
        }
        foreach (var r in c.Resolved)
        {
            var line = $"{Icon("Resolved")} *Resolved* `{SlackEscape(r.Check)}` {SlackEscape(r.Target)} (was {r.Status}: {SlackEscape(r.Message)})";
            lines.Add(line);
            sections.Add(Cut(line, SlackSectionLimit));
        }

        // The text (what notifications and old clients show): everything, up to 40,000 characters.
        var head = (c.Mention is null ? "" : c.Mention + " ") + "*" + SlackEscape(c.Title) + "*";
        var text = new StringBuilder(head);
        var shownLines = 0;
        foreach (var line in lines)
        {
            if (text.Length + 1 + line.Length > SlackTextLimit - 200) break;
            text.Append('\n').Append(line);
            shownLines++;
        }
        if (shownLines < lines.Count)
        {
            truncated = true;
            text.Append($"\n_… {lines.Count - shownLines} more line(s) not shown: Slack's limit is {SlackTextLimit:N0} characters._");
        }

        var blocks = new JsonArray
        {
            new JsonObject { ["type"] = "header", ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = Cut(c.Title, SlackHeaderLimit), ["emoji"] = true } },
        };
        if (c.Mention is not null)
            blocks.Add(Section(c.Mention));
        var room = SlackBlockLimit - blocks.Count - 1; // the footer
        var shown = sections.Count <= room ? sections.Count : room - 1;
        foreach (var s in sections.Take(shown)) blocks.Add(Section(s));
        if (shown < sections.Count)
        {
            truncated = true;
            blocks.Add(Section($"_… {sections.Count - shown} more not shown here: Slack allows {SlackBlockLimit} blocks in a message._"));
        }
        blocks.Add(new JsonObject { ["type"] = "context", ["elements"] = new JsonArray { new JsonObject { ["type"] = "mrkdwn", ["text"] = Footer(c) } } });

        var o = new JsonObject();
        if (channel is not null) o["channel"] = channel;
        o["text"] = text.ToString();
        o["blocks"] = blocks;
        return new Payload(NotificationJson.Write(o), truncated, c.Problems.Count + c.Resolved.Count);

        static JsonObject Section(string mrkdwn) => new() { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = mrkdwn } };
    }

    // ---- Teams ------------------------------------------------------------------------------------------------

    /// <summary>Teams Workflows: the envelope <c>{"type":"message","attachments":[{contentType adaptive, content: card}]}</c>, or the bare card.</summary>
    public static Payload Teams(NoticeContent c, bool bareCard)
    {
        var facts = c.Problems.Select(p => (Title: $"{p.Status} · {p.Check}", Value: $"{p.Target}: {p.Message}"))
            .Concat(c.Resolved.Select(r => (Title: $"Resolved · {r.Check}", Value: $"{r.Target} (was {r.Status}: {r.Message})"))).ToList();
        var text = c.Text;
        var shown = facts.Count;
        for (; ; )
        {
            var json = NotificationJson.Write(Build(shown, text, facts.Count - shown));
            var bytes = NotificationJson.Utf8.GetByteCount(json);
            if (bytes <= TeamsByteLimit) return new Payload(json, shown < facts.Count || !ReferenceEquals(text, c.Text), c.Problems.Count + c.Resolved.Count);
            if (shown > 0) shown = Math.Max(0, Math.Min(shown - 1, (int)(shown * (double)TeamsByteLimit / bytes)));
            else if (text is not null && text.Length > 100) text = Cut(text, Math.Max(100, text.Length - (bytes - TeamsByteLimit) - 200), "… (cut: Teams' 28 KB message limit)");
            else return new Payload(json, true, c.Problems.Count + c.Resolved.Count);
        }

        JsonNode Build(int count, string? body, int hidden)
        {
            var color = c.Severity switch { "Critical" or "Error" => "Attention", "Warning" => "Warning", _ => c.Problems.Count == 0 && c.Resolved.Count > 0 ? "Good" : "Default" };
            var items = new JsonArray
            {
                new JsonObject { ["type"] = "TextBlock", ["text"] = c.Title, ["size"] = "Large", ["weight"] = "Bolder", ["color"] = color, ["wrap"] = true },
                new JsonObject { ["type"] = "TextBlock", ["text"] = Footer(c), ["isSubtle"] = true, ["spacing"] = "None", ["wrap"] = true },
            };
            if (c.Mention is not null) items.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = c.Mention, ["wrap"] = true });
            if (body is not null) items.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = body, ["wrap"] = true });
            if (count > 0)
                items.Add(new JsonObject
                {
                    ["type"] = "FactSet",
                    ["facts"] = new JsonArray(facts.Take(count).Select(f => (JsonNode)new JsonObject { ["title"] = f.Title, ["value"] = f.Value }).ToArray()),
                });
            if (hidden > 0)
                items.Add(new JsonObject { ["type"] = "TextBlock", ["text"] = $"… {hidden} more not shown: Teams' limit is 28 KB a message.", ["isSubtle"] = true, ["wrap"] = true });
            var card = new JsonObject
            {
                ["type"] = "AdaptiveCard",
                ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
                ["version"] = "1.4",
                ["body"] = items,
                ["msteams"] = new JsonObject { ["width"] = "Full" },
            };
            if (bareCard) return card;
            return new JsonObject
            {
                ["type"] = "message",
                ["attachments"] = new JsonArray
                {
                    new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["contentUrl"] = null, ["content"] = card },
                },
            };
        }
    }

    // ---- PagerDuty --------------------------------------------------------------------------------------------

    public static string PagerDutySeverity(string status) => status switch
    {
        "Critical" => "critical",
        "Error" => "error",
        "Warning" or "Unknown" => "warning",
        _ => "info",
    };

    /// <summary>PagerDuty Events API v2: a trigger event for one problem (or a plain message).</summary>
    public static Payload PagerDutyTrigger(string routingKey, string dedupKey, string summary, string source, string severity,
        string? component, string? group, string? @class, IReadOnlyDictionary<string, string?> details, DateTime timestamp)
    {
        var truncated = false;
        var cutSummary = Cut(summary, PagerDutySummaryLimit);
        truncated |= cutSummary.Length != summary.Length;
        var d = details.ToDictionary(kv => kv.Key, kv => kv.Value);
        for (; ; )
        {
            var payload = new JsonObject
            {
                ["summary"] = cutSummary,
                ["source"] = source,
                ["severity"] = severity,
                ["timestamp"] = timestamp.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            };
            if (component is not null) payload["component"] = component;
            if (group is not null) payload["group"] = group;
            if (@class is not null) payload["class"] = @class;
            var cd = new JsonObject();
            foreach (var (k, v) in d) if (v is not null) cd[k] = v;
            payload["custom_details"] = cd;
            var json = NotificationJson.Write(new JsonObject
            {
                ["routing_key"] = routingKey,
                ["event_action"] = "trigger",
                ["dedup_key"] = dedupKey,
                ["client"] = "OpsTools",
                ["payload"] = payload,
            });
            var bytes = NotificationJson.Utf8.GetByteCount(json);
            if (bytes <= PagerDutyByteLimit) return new Payload(json, truncated, 1);
            // Too big: the longest detail is cut (and says so) until it fits.
            var longest = d.Where(kv => kv.Value is not null).OrderByDescending(kv => kv.Value!.Length).First();
            var big = longest.Value!;
            var bytesPerChar = Math.Max(1.0, NotificationJson.Utf8.GetByteCount(big) / (double)Math.Max(1, big.Length));
            d[longest.Key] = Cut(big, Math.Max(0, (int)(big.Length - (bytes - PagerDutyByteLimit) / bytesPerChar) - 100), "… (cut: PagerDuty's 512 KB limit)");
            truncated = true;
        }
    }

    /// <summary>PagerDuty Events API v2: resolve (or acknowledge) by dedup key.</summary>
    public static Payload PagerDutyAction(string routingKey, string dedupKey, string action) =>
        new(NotificationJson.Write(new JsonObject { ["routing_key"] = routingKey, ["event_action"] = action, ["dedup_key"] = dedupKey }), false, 1);

    // ---- Opsgenie / JSM ---------------------------------------------------------------------------------------

    public static string OpsgeniePriority(string severity) => severity switch
    {
        "Critical" => "P1",
        "Error" => "P2",
        "Warning" or "Unknown" => "P3",
        _ => "P5",
    };

    /// <summary>Opsgenie alert (POST /v2/alerts): message (130), alias (the dedup key), description (15,000), priority, details.</summary>
    public static Payload OpsgenieCreate(string message, string alias, string description, string priority, string source, string? entity,
        IEnumerable<string> tags, IReadOnlyDictionary<string, string?> details)
    {
        var m = Cut(message, OpsgenieMessageLimit);
        var desc = Cut(description, OpsgenieDescriptionLimit, "… (cut: Opsgenie's 15,000-character description limit)");
        var o = new JsonObject
        {
            ["message"] = m,
            ["alias"] = alias,
            ["description"] = desc,
            ["priority"] = priority,
            ["source"] = source,
        };
        if (entity is not null) o["entity"] = Cut(entity, 512);
        o["tags"] = new JsonArray(tags.Distinct().Select(t => (JsonNode)JsonValue.Create(t)!).ToArray());
        var dd = new JsonObject();
        foreach (var (k, v) in details) if (v is not null) dd[k] = Cut(v, 8000);
        o["details"] = dd;
        return new Payload(NotificationJson.Write(o), m.Length != message.Length || desc.Length != description.Length, 1);
    }

    /// <summary>Opsgenie close (POST /v2/alerts/{alias}/close?identifierType=alias).</summary>
    public static Payload OpsgenieClose(string source, string note) =>
        new(NotificationJson.Write(new JsonObject { ["source"] = source, ["user"] = "OpsTools", ["note"] = Cut(note, 25_000) }), false, 1);

    // ---- Generic webhook --------------------------------------------------------------------------------------

    /// <summary>The template used when a Webhook target has none.</summary>
    public const string DefaultTemplate =
        "{\"title\":{{title}},\"text\":{{text}},\"severity\":{{severity}},\"environment\":{{environment}},\"timestamp\":{{timestamp}},\"problems\":{{problems}},\"resolved\":{{resolved}}}";

    public static readonly string[] Placeholders = { "title", "text", "severity", "environment", "timestamp", "count", "problems", "resolved" };

    /// <summary>
    /// A generic webhook: the template with each {{placeholder}} replaced by its value as JSON (strings quoted and
    /// escaped, lists as arrays); the result must be JSON, else <see cref="OpsToolsException"/> WebhookTemplateInvalid.
    /// </summary>
    public static Payload Webhook(NoticeContent c, string? template)
    {
        var t = template ?? DefaultTemplate;
        JsonArray Items(IEnumerable<NoticeItem> items) => new(items.Select(p => (JsonNode)new JsonObject
        {
            ["check"] = p.Check, ["target"] = p.Target, ["status"] = p.Status, ["message"] = p.Message,
            ["value"] = p.Value, ["threshold"] = p.Threshold, ["dedupKey"] = p.DedupKey,
        }).ToArray());
        var text = c.Text ?? string.Join("\n", c.Problems.Select(p => $"{p.Status} {p.Check} {p.Target}: {p.Message}")
            .Concat(c.Resolved.Select(r => $"Resolved {r.Check} {r.Target}")));
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
        {
            ["title"] = NotificationJson.Quote(c.Title),
            ["text"] = NotificationJson.Quote(text),
            ["severity"] = NotificationJson.Quote(c.Severity),
            ["environment"] = NotificationJson.Quote(c.Environment),
            ["timestamp"] = NotificationJson.Quote(c.Timestamp.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)),
            ["count"] = c.Problems.Count.ToString(CultureInfo.InvariantCulture),
            ["problems"] = NotificationJson.Write(Items(c.Problems)),
            ["resolved"] = NotificationJson.Write(Items(c.Resolved)),
        };
        var json = System.Text.RegularExpressions.Regex.Replace(t, @"\{\{\s*(\w+)\s*\}\}", m =>
            values.TryGetValue(m.Groups[1].Value, out var v) ? v
                : throw new OpsToolsException("WebhookTemplateInvalid", OpsErrorKind.InvalidArgument,
                    $"The webhook template has an unknown placeholder {m.Value}. Known: {string.Join(", ", Placeholders.Select(p => "{{" + p + "}}"))}."));
        try { using var _ = System.Text.Json.JsonDocument.Parse(json); }
        catch (System.Text.Json.JsonException e)
        {
            throw new OpsToolsException("WebhookTemplateInvalid", OpsErrorKind.InvalidArgument,
                $"The webhook template does not give JSON once filled in ({e.Message}). Put placeholders where a JSON value goes, without quotes: {{\"title\": {{{{title}}}}}}.");
        }
        return new Payload(json, false, c.Problems.Count + c.Resolved.Count);
    }
}
