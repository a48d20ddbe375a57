using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using OpsTools.Configuration;
using OpsTools.Engine.Health;
using OpsTools.Engine.Security;
using OpsTools.Metrics;

namespace OpsTools.Engine.Metrics;

/// <summary>An app's own JSON answers: a figure read by property path and judged, and named actions.</summary>
public static class AppJson
{
    /// <summary>
    /// Reads one value at <paramref name="path"/> (jq-style: <c>.queue_size</c>, <c>.circuit_breakers.ai.state</c>,
    /// <c>.items[0].count</c>, <c>.["odd key"]</c>) and judges it. An unreachable app is Critical; a missing value,
    /// null or a body that is not JSON is Unknown with the reason.
    /// </summary>
    public static async Task<AppFigureResult> ReadFigureAsync(HealthProbeRequest target, AppFigureSettings figure, string? environment, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        var r = new AppFigureResult
        {
            Check = "AppFigure", Area = "Metrics", Name = figure.Name, Path = NormalizePath(figure.Path), Target = target.DisplayUri + " " + NormalizePath(figure.Path),
            Environment = environment,
            Threshold = figure.Expected.Count > 0 ? $"expect {string.Join(" or ", figure.Expected)}" : MetricFigures.Thresholds(figure.Warning, figure.Critical, figure.Below),
        };
        try
        {
            using var exchange = await MetricsExchange.SendAsync(target, HttpMethod.Get, "application/json, */*;q=0.5", null, ct).ConfigureAwait(false);
            r.StatusCode = exchange.StatusCode;
            var (text, truncated) = await exchange.ReadTextAsync(4 * 1024 * 1024).ConfigureAwait(false);
            if (exchange.StatusCode is < 200 or > 299)
                return Done(r, CheckStatus.Critical, $"HTTP {exchange.StatusText}: the app did not give the figure", started, target);
            JsonDocument doc;
            try { doc = JsonDocument.Parse(text); }
            catch (JsonException e)
            {
                return Done(r, CheckStatus.Unknown, truncated ? "the answer is larger than 4 MiB and was cut" : $"the answer is not JSON ({e.Message.Split('.')[0]})", started, target);
            }
            using (doc)
            {
                if (!TryResolve(doc.RootElement, r.Path, out var value, out var problem))
                    return Done(r, CheckStatus.Unknown, problem, started, target);
                return Judge(r, figure, value, started, target);
            }
        }
        catch (OpsToolsException e)
        {
            return Done(r, e.Kind == OpsErrorKind.Timeout ? CheckStatus.Critical : CheckStatus.Critical, e.Message.TrimEnd('.'), started, target);
        }
    }

    private static AppFigureResult Judge(AppFigureResult r, AppFigureSettings f, JsonElement value, DateTime started, HealthProbeRequest target)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return Done(r, CheckStatus.Unknown, $"{r.Path} is null", started, target);
            case JsonValueKind.Object or JsonValueKind.Array:
                r.Text = Clip(value.GetRawText());
                return Done(r, CheckStatus.Unknown, $"{r.Path} is {(value.ValueKind == JsonValueKind.Object ? "an object" : "a list")}, not a value (go one level deeper)", started, target);
        }
        var text = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
        r.Text = Clip(text);
        double? number = value.ValueKind == JsonValueKind.Number ? value.GetDouble()
            : value.ValueKind == JsonValueKind.String && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : null;
        r.Number = number;
        r.Value = number is double n ? n : text;
        if (f.Expected.Count > 0)
        {
            var ok = f.Expected.Any(e => string.Equals(e, text, StringComparison.OrdinalIgnoreCase));
            return Done(r, ok ? CheckStatus.Healthy : f.Otherwise, ok ? $"{r.Path} is {text}" : $"{r.Path} is {text}, expected {string.Join(" or ", f.Expected)}", started, target);
        }
        if (number is not double v)
            return f.Warning is null && f.Critical is null
                ? Done(r, CheckStatus.Healthy, $"{r.Path} is {Clip(text)} (no threshold)", started, target)
                : Done(r, CheckStatus.Unknown, $"{r.Path} is '{Clip(text)}', not a number to compare with the thresholds", started, target);
        if (double.IsNaN(v)) return Done(r, CheckStatus.Unknown, $"{r.Path} is NaN", started, target);
        bool Over(double? t) => t is double x && (f.Below ? v < x : v > x);
        var status = Over(f.Critical) ? CheckStatus.Critical : Over(f.Warning) ? CheckStatus.Warning : CheckStatus.Healthy;
        var word = f.Below ? "below" : "above";
        var msg = $"{r.Path} is {MetricFigures.Fmt(v)}" + status switch
        {
            CheckStatus.Critical => $"; {word} the critical threshold of {MetricFigures.Fmt(f.Critical!.Value)}",
            CheckStatus.Warning => $"; {word} the warning threshold of {MetricFigures.Fmt(f.Warning!.Value)}",
            _ => "",
        };
        return Done(r, status, msg, started, target);
    }

    private static AppFigureResult Done(AppFigureResult r, CheckStatus status, string message, DateTime started, HealthProbeRequest target)
    {
        r.Status = status;
        r.Message = Redaction.RedactText(char.ToUpperInvariant(message[0]) + message[1..] + (message.EndsWith('.') ? "" : "."), target.Secrets());
        r.Timestamp = DateTime.UtcNow;
        r.Duration = r.Timestamp - started;
        return r;
    }

    private static string Clip(string s) => s.Length > 200 ? s[..200] + "..." : s;

    /// <summary>".a.b" for "a.b", ".a.b" as is.</summary>
    public static string NormalizePath(string path)
    {
        var p = path.Trim();
        return p.StartsWith('.') || p.StartsWith('[') ? p : "." + p;
    }

    /// <summary>Follows a jq-style path: .name, .["name"], [index] (negative counts from the end).</summary>
    public static bool TryResolve(JsonElement root, string path, out JsonElement value, out string problem)
    {
        value = root;
        problem = "";
        var p = NormalizePath(path);
        var i = 0;
        var walked = new StringBuilder();
        while (i < p.Length)
        {
            if (p[i] == '.' && i + 1 < p.Length && p[i + 1] != '[')
            {
                var start = ++i;
                while (i < p.Length && p[i] != '.' && p[i] != '[') i++;
                var key = p[start..i];
                if (!Step(ref value, key, walked, out problem)) return false;
                walked.Append('.').Append(key);
            }
            else if (p[i] == '.' && i + 1 == p.Length) { i++; }
            else if (p[i] == '[' || (p[i] == '.' && p[i + 1] == '['))
            {
                if (p[i] == '.') i++;
                var close = p.IndexOf(']', i);
                if (close < 0) { problem = $"the path '{path}' has a '[' without ']'"; return false; }
                var inner = p[(i + 1)..close].Trim();
                i = close + 1;
                if (inner.Length >= 2 && (inner[0] == '"' || inner[0] == '\'') && inner[^1] == inner[0])
                {
                    var key = inner[1..^1];
                    if (!Step(ref value, key, walked, out problem)) return false;
                    walked.Append("[\"").Append(key).Append("\"]");
                }
                else if (int.TryParse(inner, NumberStyles.Integer, CultureInfo.InvariantCulture, out var index))
                {
                    if (value.ValueKind != JsonValueKind.Array) { problem = $"{Where(walked)} is not a list, so it has no [{index}]"; return false; }
                    var len = value.GetArrayLength();
                    var at = index < 0 ? len + index : index;
                    if (at < 0 || at >= len) { problem = $"{Where(walked)} has {len} item(s), no [{index}]"; return false; }
                    value = value[at];
                    walked.Append('[').Append(index).Append(']');
                }
                else { problem = $"'[{inner}]' in the path '{path}' is neither an index nor a quoted key"; return false; }
            }
            else { problem = $"the path '{path}' is not a property path such as .queue_size or .items[0].count"; return false; }
        }
        return true;
    }

    private static bool Step(ref JsonElement value, string key, StringBuilder walked, out string problem)
    {
        problem = "";
        if (value.ValueKind != JsonValueKind.Object) { problem = $"{Where(walked)} is not an object, so it has no .{key}"; return false; }
        if (value.TryGetProperty(key, out var next)) { value = next; return true; }
        // Property names in JSON are case-sensitive; accept a unique case-insensitive match, as PowerShell's objects would.
        var matches = value.EnumerateObject().Where(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count == 1) { value = matches[0].Value; return true; }
        var keys = value.EnumerateObject().Select(p => p.Name).Take(12).ToList();
        problem = $"the answer has no .{key} at {Where(walked)} (its keys: {(keys.Count == 0 ? "none" : string.Join(", ", keys))})";
        return false;
    }

    private static string Where(StringBuilder walked) => walked.Length == 0 ? "the top" : walked.ToString();

    /// <summary>Sends a named action and returns what the app answered (any status). Throws <see cref="OpsToolsException"/> when no answer came.</summary>
    public static async Task<AppActionResult> InvokeActionAsync(HealthProbeRequest target, AppActionSettings action, string? environment, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        HttpContent? content = null;
        if (action.Body is not null)
        {
            content = new StringContent(action.Body, Encoding.UTF8);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(action.ContentType ?? "application/json");
        }
        else if (action.Method is "POST" or "PUT" or "PATCH")
            content = new ByteArrayContent(Array.Empty<byte>()); // Content-Length: 0, as curl -X POST sends
        using var exchange = await MetricsExchange.SendAsync(target, new HttpMethod(action.Method), "application/json, */*;q=0.5", content, ct).ConfigureAwait(false);
        var (text, truncated) = await exchange.ReadTextAsync(64 * 1024).ConfigureAwait(false);
        var body = Redaction.RedactText(text, target.Secrets());
        return new AppActionResult
        {
            Name = action.Name, Method = action.Method, Target = target.DisplayUri, StatusCode = exchange.StatusCode,
            Succeeded = exchange.StatusCode is >= 200 and <= 299, ContentType = exchange.ContentType,
            Body = truncated ? body + "..." : body, Duration = DateTime.UtcNow - started, Timestamp = DateTime.UtcNow, Environment = environment,
        };
    }
}
