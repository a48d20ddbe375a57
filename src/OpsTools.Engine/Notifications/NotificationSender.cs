using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using OpsTools.Engine.Health;
using OpsTools.Engine.Security;
using OpsTools.Notifications;

namespace OpsTools.Engine.Notifications;

/// <summary>How a service answers, so the sender can tell accepted, rejected (with the service's reason) and retry.</summary>
public enum AnswerKind { SlackWebhook, SlackApi, Teams, PagerDuty, Opsgenie, Webhook }

/// <summary>A notification target with its secrets read (never shown: <see cref="Secrets"/> masks them in every text).</summary>
public sealed class ResolvedTarget
{
    public required string Name { get; init; }
    /// <summary>Slack, Teams, PagerDuty, Opsgenie or Webhook.</summary>
    public required string Service { get; init; }
    /// <summary>The webhook URL (a secret).</summary>
    public Uri? WebhookUrl { get; init; }
    /// <summary>The bot token, routing key or API key (a secret).</summary>
    public string? Key { get; init; }
    /// <summary>The service's endpoint (not secret): PagerDuty events, Opsgenie alerts, Slack Web API base.</summary>
    public Uri? Endpoint { get; init; }
    public string? Channel { get; init; }
    public bool BareCard { get; init; }
    public string? Template { get; init; }
    public string? Mention { get; init; }
    public string? Source { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
    public string? Environment { get; init; }

    /// <summary>Slack with a bot token: the Web API (chat.postMessage to <see cref="Channel"/>) instead of a webhook.</summary>
    public bool UsesSlackApi => Service == "Slack" && Key is not null;

    public IEnumerable<string> Secrets()
    {
        if (WebhookUrl is not null)
        {
            yield return WebhookUrl.OriginalString;
            yield return WebhookUrl.AbsoluteUri;
            // The path and query of a webhook URL are its secret part (hooks.slack.com/services/T/B/XXXX).
            if (WebhookUrl.PathAndQuery.Length > 4) yield return WebhookUrl.PathAndQuery;
        }
        if (Key is not null) yield return Key;
    }

    /// <summary>Text as it may be shown: every secret of the target masked.</summary>
    public string Redact(string? text) => Redaction.RedactText(text, Secrets());

    /// <summary>A URL as it may be shown: a webhook URL is scheme://host/*** (its path is the secret).</summary>
    public string Show(Uri uri) =>
        WebhookUrl is not null && uri.Host == WebhookUrl.Host && uri.AbsolutePath.StartsWith(WebhookUrl.AbsolutePath, StringComparison.Ordinal)
            ? $"{uri.Scheme}://{uri.Authority}/{Redaction.Mask}"
            : Redact(Redaction.RedactUri(uri));
}

/// <summary>One request to send, with what its result reports.</summary>
public sealed class Delivery
{
    public required string Action { get; init; }
    public required Uri Uri { get; init; }
    public required string Json { get; init; }
    public required AnswerKind Answer { get; init; }
    public Dictionary<string, string> Headers { get; init; } = new(StringComparer.OrdinalIgnoreCase);
    public string? DedupKey { get; init; }
    public int Items { get; init; }
    public bool Truncated { get; init; }
    public string Subject { get; init; } = "";
    public string? Channel { get; init; }
    /// <summary>Runs when the service accepted it (state changes: remember an alert, forget a resolved one).</summary>
    public Action<NotificationResult>? OnAccepted { get; init; }
    public int Bytes => NotificationJson.Utf8.GetByteCount(Json);
}

/// <summary>
/// Sends deliveries: UTF-8 JSON, one timeout per attempt, 429 answered after its Retry-After (at most
/// <see cref="MaxRetryAfter"/>), 5xx and no answer retried with the shared backoff (<see cref="Retry"/>), and the
/// service's answer read for its own reason (Slack's "invalid_payload", chat.postMessage's "channel_not_found",
/// PagerDuty's errors, a Teams flow's error code). Secrets never reach a result, a verbose line or an error.
/// </summary>
public static class NotificationSender
{
    public const int DefaultMaxAttempts = 4;
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    private sealed record Attempt(int? Status, string Body, TimeSpan? RetryAfter, string? Failure);

    public static async Task<NotificationResult> SendAsync(ResolvedTarget target, Delivery d, int maxAttempts, Action<string>? verbose, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var bytes = NotificationJson.Utf8.GetBytes(d.Json);
        var attempts = 0;
        string? stopReason = null;
        var last = await Retry.RunAsync(async n =>
        {
            attempts = n;
            return await OnceAsync(target, d, bytes, ct).ConfigureAwait(false);
        }, o =>
        {
            var a = o.Result!;
            if (a.Status == 429 || (d.Answer == AnswerKind.SlackApi && a.Status == 200 && ReadSlackApi(a.Body).Error == "ratelimited"))
            {
                var wait = a.RetryAfter ?? TimeSpan.FromSeconds(1);
                if (wait > MaxRetryAfter) { stopReason = $"rate_limited: the service asked to wait {wait.TotalSeconds:0} s (Retry-After), longer than the {MaxRetryAfter.TotalSeconds:0} s OpsTools waits"; return null; }
                return wait;
            }
            if (a.Status is null || a.Status >= 500) return Retry.Backoff(o.Attempt + 1, immediate: 0, baseMs: 500, capMs: 8000);
            return null;
        }, maxAttempts, (next, wait) => verbose?.Invoke($"{target.Name} ({target.Service}) {d.Action}: attempt {next} of {maxAttempts} in {wait.TotalSeconds:0.##} s."), ct).ConfigureAwait(false);

        var (status, reason) = Interpret(d.Answer, last);
        if (stopReason is not null) { status = NotificationStatus.Failed; reason = stopReason; }
        var result = new NotificationResult
        {
            Target = target.Name,
            Service = target.Service,
            Action = d.Action,
            Status = status,
            HttpStatus = last.Status,
            Reason = reason is null ? null : target.Redact(Redaction.ScrubText(reason)),
            Attempts = attempts,
            DedupKey = d.DedupKey,
            Problems = d.Items,
            Truncated = d.Truncated,
            Bytes = bytes.Length,
            Subject = d.Subject,
            Channel = d.Channel,
            Duration = sw.Elapsed,
            Timestamp = DateTime.UtcNow,
            Environment = target.Environment,
        };
        if (status == NotificationStatus.Accepted) d.OnAccepted?.Invoke(result);
        if (d.Answer == AnswerKind.SlackApi && status == NotificationStatus.Accepted && ReadSlackApi(last.Body).ChannelId is { } id) result.Channel = id;
        return result;
    }

    private static async Task<Attempt> OnceAsync(ResolvedTarget target, Delivery d, byte[] bytes, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(target.Timeout);
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, d.Uri);
            message.Content = new ByteArrayContent(bytes);
            message.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json; charset=utf-8");
            message.Headers.TryAddWithoutValidation("User-Agent", "OpsTools");
            foreach (var (k, v) in d.Headers) message.Headers.TryAddWithoutValidation(k, v);
            using var response = await AppHealthProber.ClientFor(false).SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var body = await ReadBodyAsync(response, timeout.Token).ConfigureAwait(false);
            TimeSpan? retryAfter = response.Headers.RetryAfter switch
            {
                { Delta: { } delta } => delta,
                { Date: { } date } => date - DateTimeOffset.UtcNow is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero,
                _ => null,
            };
            return new Attempt((int)response.StatusCode, body, retryAfter, null);
        }
        catch (Exception e) when (!ct.IsCancellationRequested && (e is OperationCanceledException or HttpRequestException or IOException))
        {
            var why = e is OperationCanceledException
                ? $"no answer within {target.Timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s"
                : "no answer: " + (e.InnerException?.Message ?? e.Message);
            return new Attempt(null, "", null, $"{why} ({target.Show(d.Uri)})");
        }
    }

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var buffer = new byte[64 * 1024];
        var total = 0;
        int n;
        while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), ct).ConfigureAwait(false)) > 0) total += n;
        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static (string? Error, string? ChannelId) ReadSlackApi(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return ("not_json", null);
            var ok = root.TryGetProperty("ok", out var okEl) && okEl.ValueKind == JsonValueKind.True;
            string? channel = root.TryGetProperty("channel", out var ch)
                ? ch.ValueKind == JsonValueKind.String ? ch.GetString() : ch.ValueKind == JsonValueKind.Object && ch.TryGetProperty("id", out var id) ? id.GetString() : null
                : null;
            return (ok ? null : root.TryGetProperty("error", out var err) ? err.GetString() ?? "error" : "error", channel);
        }
        catch (JsonException) { return ("not_json", null); }
    }

    private static string? JsonReason(string body, params string[] paths)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            var parts = new List<string>();
            foreach (var path in paths)
            {
                var el = doc.RootElement;
                var found = true;
                foreach (var p in path.Split('.'))
                {
                    if (el.ValueKind == JsonValueKind.Object && el.TryGetProperty(p, out var next)) el = next;
                    else { found = false; break; }
                }
                if (!found) continue;
                if (el.ValueKind == JsonValueKind.String && el.GetString() is { Length: > 0 } s) parts.Add(s);
                else if (el.ValueKind == JsonValueKind.Array) parts.AddRange(el.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String ? x.GetString()! : x.GetRawText()));
                else if (el.ValueKind == JsonValueKind.Object) parts.Add(string.Join("; ", el.EnumerateObject().Select(x => $"{x.Name}: {(x.Value.ValueKind == JsonValueKind.String ? x.Value.GetString() : x.Value.GetRawText())}")));
            }
            return parts.Count == 0 ? null : string.Join(": ", parts);
        }
        catch (JsonException) { return null; }
    }

    private static string Snippet(string body)
    {
        var s = body.Trim().ReplaceLineEndings(" ");
        return s.Length > 300 ? s[..300] + "…" : s;
    }

    private static (NotificationStatus, string?) Interpret(AnswerKind kind, Attempt a)
    {
        if (a.Status is null) return (NotificationStatus.Failed, a.Failure);
        var code = a.Status.Value;
        if (code == 429) return (NotificationStatus.Failed, "rate_limited: still HTTP 429 after every attempt");
        if (code >= 500) return (NotificationStatus.Failed, $"HTTP {code}" + (a.Body.Length > 0 ? ": " + Snippet(a.Body) : ""));
        switch (kind)
        {
            case AnswerKind.SlackWebhook:
                if (code == 200 && a.Body.Trim() == "ok") return (NotificationStatus.Accepted, null);
                return (NotificationStatus.Rejected, a.Body.Trim().Length > 0 ? Snippet(a.Body) : $"HTTP {code}");
            case AnswerKind.SlackApi:
                if (code is >= 200 and < 300)
                {
                    var (error, _) = ReadSlackApi(a.Body);
                    return error is null ? (NotificationStatus.Accepted, null) : (NotificationStatus.Rejected, error);
                }
                return (NotificationStatus.Rejected, ReadSlackApi(a.Body).Error is { } e && e != "not_json" ? e : $"HTTP {code}");
            case AnswerKind.PagerDuty:
                if (code is >= 200 and < 300) return (NotificationStatus.Accepted, null);
                return (NotificationStatus.Rejected, JsonReason(a.Body, "message", "errors") ?? $"HTTP {code}" + (a.Body.Length > 0 ? ": " + Snippet(a.Body) : ""));
            case AnswerKind.Opsgenie:
                if (code is >= 200 and < 300) return (NotificationStatus.Accepted, null);
                return (NotificationStatus.Rejected, JsonReason(a.Body, "message", "errors") ?? $"HTTP {code}");
            case AnswerKind.Teams:
                if (code is >= 200 and < 300) return (NotificationStatus.Accepted, null);
                return (NotificationStatus.Rejected, JsonReason(a.Body, "error.code", "error.message") ?? $"HTTP {code}" + (a.Body.Length > 0 ? ": " + Snippet(a.Body) : ""));
            default:
                if (code is >= 200 and < 300) return (NotificationStatus.Accepted, null);
                return (NotificationStatus.Rejected, $"HTTP {code}" + (a.Body.Length > 0 ? ": " + Snippet(a.Body) : ""));
        }
    }
}
