using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace OpsTools.TestKit;

/// <summary>
/// Stands in for the notification services on 127.0.0.1 (a <see cref="HealthServer"/>): Slack's incoming webhook
/// (/slack/services/...) and Web API (/slack/api/chat.postMessage, conversations.create, conversations.setTopic),
/// a Teams Workflows trigger (/teams/..., envelope; /teams-card/..., bare card), PagerDuty Events API v2
/// (/pagerduty/v2/enqueue), Opsgenie alerts (/opsgenie/v2/alerts, .../{alias}/close) and a generic webhook
/// (/webhook/...). Each checks the payload against the service's published format and limits and answers as the
/// service does (Slack "ok" / "invalid_payload" / "channel_not_found", {"ok":false,"error":...}; PagerDuty 202/400;
/// Opsgenie 202/401/422; a Teams flow's 400 error object). <see cref="Script"/> queues answers (429 with
/// Retry-After, 5xx) a path gives before its normal one. Every request is kept with its exact bytes.
/// </summary>
public sealed class NotificationReceiver : IDisposable
{
    public sealed record Received(string Path, string Query, IReadOnlyDictionary<string, string> Headers, byte[] Bytes, DateTime At)
    {
        public string Body => Encoding.UTF8.GetString(Bytes);
        public JsonNode? Json => JsonNode.Parse(Body);
    }

    public sealed record Answer(int Status, string Body, int? RetryAfterSeconds = null, string ContentType = "text/plain");

    private readonly HealthServer _server;
    public ConcurrentQueue<Received> Requests { get; } = new();
    /// <summary>Format problems found per request (empty when every payload followed the published format).</summary>
    public ConcurrentQueue<string> Violations { get; } = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<Answer>> _scripts = new();

    /// <summary>The Slack bot token the Web API accepts.</summary>
    public string SlackToken { get; } = "xoxb-test-" + Guid.NewGuid().ToString("N")[..12];
    /// <summary>The PagerDuty routing key accepted (32 characters, as PagerDuty's are).</summary>
    public string RoutingKey { get; } = Guid.NewGuid().ToString("N");
    /// <summary>The Opsgenie API key accepted.</summary>
    public string OpsgenieKey { get; } = Guid.NewGuid().ToString();
    /// <summary>Channels the Slack Web API knows (names without '#', and ids).</summary>
    public ConcurrentDictionary<string, string> Channels { get; } = new(StringComparer.Ordinal) { ["ops"] = "C0OPS0001" };
    /// <summary>Slack webhook paths that answer channel_not_found (404) / channel_is_archived (410).</summary>
    public ConcurrentDictionary<string, string> WebhookErrors { get; } = new();
    /// <summary>Open PagerDuty incidents by dedup key (trigger opens, resolve closes).</summary>
    public ConcurrentDictionary<string, string> PagerDutyOpen { get; } = new();
    /// <summary>Open Opsgenie alerts by alias.</summary>
    public ConcurrentDictionary<string, string> OpsgenieOpen { get; } = new();

    public NotificationReceiver()
    {
        _server = HealthServer.Start(app => app.MapPost("/{**path}", Handle));
    }

    public Uri Base => _server.HttpBase;
    /// <summary>A webhook URL with a secret-looking path, as Slack gives them.</summary>
    public Uri SlackWebhook(string secret = "XXXXXXXXXXXXXXXXXXXXXXXX") => new(Base, $"/slack/services/T0000TEST/B0000TEST/{secret}");
    public Uri SlackApi => new(Base, "/slack/api/");
    public Uri TeamsWebhook(bool bareCard = false, string sig = "s1gn4tur3s3cr3t") =>
        new(Base, $"/{(bareCard ? "teams-card" : "teams")}/powerautomate/automations/direct/workflows/0f0e/triggers/manual/paths/invoke?api-version=1&sig={sig}");
    public Uri PagerDuty => new(Base, "/pagerduty/v2/enqueue");
    public Uri Opsgenie => new(Base, "/opsgenie/v2/alerts");
    public Uri Webhook(string secret = "hook-s3cret-path") => new(Base, $"/webhook/{secret}");

    /// <summary>Queues answers for requests whose path starts with <paramref name="pathPrefix"/>, given before the normal answer.</summary>
    public void Script(string pathPrefix, params Answer[] answers)
    {
        var q = _scripts.GetOrAdd(pathPrefix, _ => new ConcurrentQueue<Answer>());
        foreach (var a in answers) q.Enqueue(a);
    }

    public IReadOnlyList<Received> To(string pathPrefix) => Requests.Where(r => r.Path.StartsWith(pathPrefix, StringComparison.Ordinal)).ToList();

    private async Task Handle(HttpContext ctx)
    {
        using var ms = new MemoryStream();
        await ctx.Request.Body.CopyToAsync(ms);
        var path = ctx.Request.Path.Value ?? "/";
        var r = new Received(path, ctx.Request.QueryString.Value ?? "",
            ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), ms.ToArray(), DateTime.UtcNow);
        Requests.Enqueue(r);
        foreach (var (prefix, q) in _scripts)
        {
            if (path.StartsWith(prefix, StringComparison.Ordinal) && q.TryDequeue(out var scripted))
            {
                await Write(ctx, scripted);
                return;
            }
        }
        var answer = path switch
        {
            _ when path.StartsWith("/slack/services/", StringComparison.Ordinal) => SlackWebhookAnswer(r),
            _ when path.StartsWith("/slack/api/", StringComparison.Ordinal) => SlackApiAnswer(r, path["/slack/api/".Length..]),
            _ when path.StartsWith("/teams-card/", StringComparison.Ordinal) => TeamsAnswer(r, bareCard: true),
            _ when path.StartsWith("/teams/", StringComparison.Ordinal) => TeamsAnswer(r, bareCard: false),
            "/pagerduty/v2/enqueue" => PagerDutyAnswer(r),
            _ when path.StartsWith("/opsgenie/v2/alerts", StringComparison.Ordinal) => OpsgenieAnswer(r, path),
            _ when path.StartsWith("/webhook/", StringComparison.Ordinal) => WebhookAnswer(r),
            _ => new Answer(404, "not found"),
        };
        await Write(ctx, answer);
    }

    private static async Task Write(HttpContext ctx, Answer a)
    {
        ctx.Response.StatusCode = a.Status;
        ctx.Response.ContentType = a.ContentType;
        if (a.RetryAfterSeconds is { } s) ctx.Response.Headers["Retry-After"] = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await ctx.Response.WriteAsync(a.Body);
    }

    private bool Utf8Json(Received r, out JsonObject obj, out string problem)
    {
        obj = null!;
        problem = "";
        if (!r.Headers.TryGetValue("Content-Type", out var ct) || !ct.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        { problem = $"Content-Type is '{ct}', not application/json"; return false; }
        try { _ = new UTF8Encoding(false, true).GetString(r.Bytes); }
        catch (DecoderFallbackException) { problem = "the body is not valid UTF-8"; return false; }
        try
        {
            if (JsonNode.Parse(r.Bytes) is JsonObject o) { obj = o; return true; }
            problem = "the body is not a JSON object";
        }
        catch (JsonException e) { problem = "the body is not JSON: " + e.Message; }
        return false;
    }

    private string Violation(Received r, string what)
    {
        Violations.Enqueue($"{r.Path}: {what}");
        return what;
    }

    // Slack: text (40,000), blocks (50; header plain_text 150; section mrkdwn 3,000; context).
    private string? SlackFormat(JsonObject o)
    {
        var text = o["text"]?.GetValueKind() == JsonValueKind.String ? (string)o["text"]! : null;
        var blocks = o["blocks"] as JsonArray;
        if (text is null && blocks is null) return "neither text nor blocks";
        if (text is { Length: > 40_000 }) return $"text has {text.Length} characters (limit 40,000)";
        if (blocks is null) return null;
        if (blocks.Count > 50) return $"{blocks.Count} blocks (limit 50)";
        foreach (var b in blocks)
        {
            var type = (string?)b?["type"];
            switch (type)
            {
                case "header":
                    if ((string?)b!["text"]?["type"] != "plain_text") return "a header's text is not plain_text";
                    if (((string?)b["text"]?["text"])?.Length is not (> 0 and <= 150)) return "a header's text is empty or over 150 characters";
                    break;
                case "section":
                    var t = (string?)b!["text"]?["text"];
                    if ((string?)b["text"]?["type"] is not ("mrkdwn" or "plain_text")) return "a section's text type is not mrkdwn/plain_text";
                    if (t is not { Length: > 0 and <= 3000 }) return "a section's text is empty or over 3,000 characters";
                    break;
                case "context":
                    if (b!["elements"] is not JsonArray { Count: > 0 and <= 10 }) return "a context block needs 1-10 elements";
                    break;
                case "divider": break;
                default: return $"unknown block type '{type}'";
            }
        }
        return null;
    }

    private Answer SlackWebhookAnswer(Received r)
    {
        if (WebhookErrors.TryGetValue(r.Path, out var error))
            return new Answer(error == "channel_is_archived" ? 410 : 404, error);
        if (!Utf8Json(r, out var o, out var problem) || SlackFormat(o) is { } p2 && (problem = p2) is not null)
        {
            Violation(r, problem);
            return new Answer(400, "invalid_payload");
        }
        return new Answer(200, "ok");
    }

    private static Answer SlackJson(object o) => new(200, JsonSerializer.Serialize(o), null, "application/json; charset=utf-8");

    private Answer SlackApiAnswer(Received r, string method)
    {
        if (!r.Headers.TryGetValue("Authorization", out var auth) || auth != "Bearer " + SlackToken) return SlackJson(new { ok = false, error = "invalid_auth" });
        if (!Utf8Json(r, out var o, out var problem)) { Violation(r, problem); return SlackJson(new { ok = false, error = "invalid_json" }); }
        switch (method)
        {
            case "chat.postMessage":
            {
                var channel = ((string?)o["channel"])?.TrimStart('#');
                if (string.IsNullOrEmpty(channel)) return SlackJson(new { ok = false, error = "channel_not_found" });
                var id = Channels.TryGetValue(channel, out var byName) ? byName : Channels.Values.Contains(channel) ? channel : null;
                if (id is null) return SlackJson(new { ok = false, error = "channel_not_found" });
                if (SlackFormat(o) is { } bad) { Violation(r, bad); return SlackJson(new { ok = false, error = "invalid_blocks" }); }
                return SlackJson(new { ok = true, channel = id, ts = "1765069200.000100" });
            }
            case "conversations.create":
            {
                var name = (string?)o["name"] ?? "";
                if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z0-9][a-z0-9_-]{0,79}$")) return SlackJson(new { ok = false, error = "invalid_name_specials" });
                if (Channels.ContainsKey(name)) return SlackJson(new { ok = false, error = "name_taken" });
                var id = "C0NEW" + (Channels.Count + 1).ToString("0000", System.Globalization.CultureInfo.InvariantCulture);
                Channels[name] = id;
                return SlackJson(new { ok = true, channel = new { id, name } });
            }
            case "conversations.setTopic":
            {
                var channel = (string?)o["channel"] ?? "";
                if (!Channels.Values.Contains(channel)) return SlackJson(new { ok = false, error = "channel_not_found" });
                if (((string?)o["topic"])?.Length is not (>= 0 and <= 250)) return SlackJson(new { ok = false, error = "too_long" });
                return SlackJson(new { ok = true, topic = (string?)o["topic"] });
            }
            default: return SlackJson(new { ok = false, error = "unknown_method" });
        }
    }

    private static Answer TeamsError(string code, string message) =>
        new(400, JsonSerializer.Serialize(new { error = new { code, message } }), null, "application/json; charset=utf-8");

    private Answer TeamsAnswer(Received r, bool bareCard)
    {
        if (!r.Query.Contains("sig=", StringComparison.Ordinal))
            return new Answer(401, JsonSerializer.Serialize(new { error = new { code = "DirectApiAuthorizationRequired", message = "The request must be authenticated" } }), null, "application/json");
        if (r.Bytes.Length > 28 * 1024) { Violation(r, $"{r.Bytes.Length} bytes (limit 28 KB)"); return new Answer(413, JsonSerializer.Serialize(new { error = new { code = "MessageSizeExceeded", message = "The message is larger than 28 KB." } }), null, "application/json"); }
        if (!Utf8Json(r, out var o, out var problem)) { Violation(r, problem); return TeamsError("InvalidRequestContent", "The request content is not valid JSON."); }
        JsonObject? card;
        if (bareCard) card = o;
        else
        {
            if ((string?)o["type"] != "message" || o["attachments"] is not JsonArray { Count: > 0 } atts)
            { Violation(r, "not a message envelope with attachments"); return TeamsError("TriggerInputSchemaMismatch", "The input body for trigger 'manual' of type 'Request' did not match its schema definition. Error details: 'Required properties are missing from object: type, attachments.'."); }
            if ((string?)atts[0]!["contentType"] != "application/vnd.microsoft.card.adaptive")
            { Violation(r, "attachment contentType is not application/vnd.microsoft.card.adaptive"); return TeamsError("TriggerInputSchemaMismatch", "The attachment is not an Adaptive Card."); }
            card = atts[0]!["content"] as JsonObject;
        }
        if (card is null || (string?)card["type"] != "AdaptiveCard" || card["body"] is not JsonArray)
        { Violation(r, "no AdaptiveCard with a body"); return TeamsError("TriggerInputSchemaMismatch", "The input body for trigger 'manual' did not match its schema definition: an AdaptiveCard is expected."); }
        if ((string?)card["version"] is not ("1.0" or "1.1" or "1.2" or "1.3" or "1.4"))
        { Violation(r, $"card version {(string?)card["version"]} (Teams renders up to 1.4 in webhooks)"); return TeamsError("InvalidRequestContent", "Unsupported card version."); }
        foreach (var item in (JsonArray)card["body"]!)
            if ((string?)item?["type"] is not ("TextBlock" or "FactSet" or "ColumnSet" or "Container" or "Image"))
            { Violation(r, $"unknown card element '{(string?)item?["type"]}'"); return TeamsError("InvalidRequestContent", "Unknown element type."); }
        return new Answer(202, "");
    }

    private static Answer PdInvalid(params string[] errors) =>
        new(400, JsonSerializer.Serialize(new { status = "invalid event", message = "Event object is invalid", errors }), null, "application/json");

    private Answer PagerDutyAnswer(Received r)
    {
        if (r.Bytes.Length > 512 * 1024) { Violation(r, $"{r.Bytes.Length} bytes (limit 512 KB)"); return new Answer(413, "Request Entity Too Large"); }
        if (!Utf8Json(r, out var o, out var problem)) { Violation(r, problem); return PdInvalid("Invalid JSON"); }
        var errors = new List<string>();
        if ((string?)o["routing_key"] is not { Length: 32 } key) errors.Add("'routing_key' is invalid");
        else if (key != RoutingKey) return new Answer(400, JsonSerializer.Serialize(new { status = "invalid event", message = "Event object is invalid", errors = new[] { "Invalid routing key" } }), null, "application/json");
        var action = (string?)o["event_action"];
        if (action is not ("trigger" or "acknowledge" or "resolve")) errors.Add("'event_action' is missing or invalid");
        var dedup = (string?)o["dedup_key"];
        if (dedup is { Length: > 255 }) errors.Add("'dedup_key' is longer than 255 characters");
        if (action == "trigger")
        {
            var p = o["payload"] as JsonObject;
            if (p is null) errors.Add("'payload' is missing");
            else
            {
                if ((string?)p["summary"] is not { Length: > 0 and <= 1024 }) errors.Add("'payload.summary' is missing or longer than 1024 characters");
                if ((string?)p["source"] is not { Length: > 0 }) errors.Add("'payload.source' is missing");
                if ((string?)p["severity"] is not ("critical" or "error" or "warning" or "info")) errors.Add("'payload.severity' is invalid");
            }
        }
        else if (action is "acknowledge" or "resolve" && dedup is null) errors.Add("'dedup_key' is required for " + action);
        if (errors.Count > 0) { foreach (var e in errors) Violation(r, e); return PdInvalid(errors.ToArray()); }
        dedup ??= Guid.NewGuid().ToString("N");
        if (action == "trigger") PagerDutyOpen[dedup] = (string)o["payload"]!["summary"]!;
        else if (action == "resolve") PagerDutyOpen.TryRemove(dedup, out _);
        return new Answer(202, JsonSerializer.Serialize(new { status = "success", message = "Event processed", dedup_key = dedup }), null, "application/json");
    }

    private Answer OpsgenieAnswer(Received r, string path)
    {
        if (!r.Headers.TryGetValue("Authorization", out var auth) || auth != "GenieKey " + OpsgenieKey)
            return new Answer(401, JsonSerializer.Serialize(new { message = "Key format is not valid!", took = 0.0, requestId = Guid.NewGuid() }), null, "application/json");
        if (!Utf8Json(r, out var o, out var problem)) { Violation(r, problem); return new Answer(400, JsonSerializer.Serialize(new { message = "Could not parse the request body" }), null, "application/json"); }
        var accepted = new Answer(202, JsonSerializer.Serialize(new { result = "Request will be processed", took = 0.01, requestId = Guid.NewGuid() }), null, "application/json");
        if (path.EndsWith("/close", StringComparison.Ordinal))
        {
            if (!r.Query.Contains("identifierType=alias", StringComparison.Ordinal)) { Violation(r, "close without identifierType=alias"); }
            var alias = Uri.UnescapeDataString(path["/opsgenie/v2/alerts/".Length..^"/close".Length]);
            OpsgenieOpen.TryRemove(alias, out _);
            return accepted;
        }
        var errors = new Dictionary<string, string>();
        if ((string?)o["message"] is not { Length: > 0 and <= 130 }) errors["message"] = "Message can not be empty or longer than 130 characters.";
        if ((string?)o["alias"] is { Length: > 512 }) errors["alias"] = "Alias can not be longer than 512 characters.";
        if ((string?)o["description"] is { Length: > 15000 }) errors["description"] = "Description can not be longer than 15000 characters.";
        if ((string?)o["priority"] is { } pr && pr is not ("P1" or "P2" or "P3" or "P4" or "P5")) errors["priority"] = "Priority should be one of [P1, P2, P3, P4, P5]";
        if (errors.Count > 0)
        {
            foreach (var e in errors.Values) Violation(r, e);
            return new Answer(422, JsonSerializer.Serialize(new { message = "Request body is not processable. Please check the errors.", errors, took = 0.0 }), null, "application/json");
        }
        OpsgenieOpen[(string?)o["alias"] ?? Guid.NewGuid().ToString()] = (string)o["message"]!;
        return accepted;
    }

    private Answer WebhookAnswer(Received r)
    {
        if (!Utf8Json(r, out _, out var problem)) { Violation(r, problem); return new Answer(400, "bad json: " + problem); }
        return new Answer(200, "{\"received\":true}", null, "application/json");
    }

    public void Dispose() => _server.Dispose();
}
