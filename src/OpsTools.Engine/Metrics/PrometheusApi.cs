using System.Globalization;
using System.Text.Json;
using OpsTools.Engine.Health;
using OpsTools.Engine.Security;
using OpsTools.Metrics;

namespace OpsTools.Engine.Metrics;

/// <summary>
/// Prometheus's HTTP API (/api/v1/query, /api/v1/query_range, /api/v1/alerts) and Alertmanager's (/api/v2/alerts).
/// Errors Prometheus reports (bad_data, execution, timeout, canceled) become <see cref="OpsToolsException"/>s that
/// quote Prometheus's own message; no answer is a Timeout or ConnectionError.
/// </summary>
public sealed class PrometheusApi
{
    /// <summary>Queries longer than this go by POST even when GET was asked (URLs have limits).</summary>
    public const int MaxGetQueryLength = 4000;

    private readonly HealthProbeRequest _target;

    public PrometheusApi(HealthProbeRequest target) => _target = target;

    public string Source => _target.DisplayUri;

    private Uri Endpoint(string path, string? query = null)
    {
        var b = new UriBuilder(_target.Uri);
        var basePath = b.Path.EndsWith('/') ? b.Path : b.Path + "/";
        b.Path = basePath + path;
        b.Query = query ?? "";
        return b.Uri;
    }

    /// <summary>An instant query at <paramref name="time"/> (now when null).</summary>
    public Task<IReadOnlyList<PromSeries>> QueryAsync(string query, DateTime? time, bool post, CancellationToken ct)
    {
        var args = new List<KeyValuePair<string, string>> { new("query", query) };
        if (time is DateTime t) args.Add(new("time", Unix(t)));
        args.Add(new("timeout", Seconds(_target.Timeout)));
        return RunAsync("api/v1/query", args, query, post, ct);
    }

    /// <summary>A range query.</summary>
    public Task<IReadOnlyList<PromSeries>> QueryRangeAsync(string query, DateTime start, DateTime end, TimeSpan step, bool post, CancellationToken ct)
    {
        if (step <= TimeSpan.Zero) throw new OpsToolsException("PromQueryInvalid", OpsErrorKind.InvalidArgument, "The step of a range query must be positive.");
        var args = new List<KeyValuePair<string, string>>
        {
            new("query", query), new("start", Unix(start)), new("end", Unix(end)),
            new("step", step.TotalSeconds.ToString("R", CultureInfo.InvariantCulture)), new("timeout", Seconds(_target.Timeout)),
        };
        return RunAsync("api/v1/query_range", args, query, post, ct);
    }

    private async Task<IReadOnlyList<PromSeries>> RunAsync(string path, List<KeyValuePair<string, string>> args, string query, bool post, CancellationToken ct)
    {
        post |= query.Length > MaxGetQueryLength;
        using var form = new FormUrlEncodedContent(args);
        MetricsExchange exchange;
        if (post)
            exchange = await MetricsExchange.SendAsync(_target, HttpMethod.Post, "application/json", form, ct, Endpoint(path)).ConfigureAwait(false);
        else
        {
            var qs = await form.ReadAsStringAsync(ct).ConfigureAwait(false);
            exchange = await MetricsExchange.SendAsync(_target, HttpMethod.Get, "application/json", null, ct, Endpoint(path, qs)).ConfigureAwait(false);
        }
        using (exchange)
        {
            var root = await ReadJsonAsync(exchange, query).ConfigureAwait(false);
            using var doc = root;
            var data = doc.RootElement.GetProperty("data");
            var type = data.GetProperty("resultType").GetString() ?? "";
            var result = data.GetProperty("result");
            var list = new List<PromSeries>();
            switch (type)
            {
                case "vector":
                    foreach (var s in result.EnumerateArray())
                    {
                        var (name, labels) = Labels(s.GetProperty("metric"));
                        var (t, v) = Point(s.GetProperty("value"));
                        list.Add(new PromSeries { ResultType = type, Name = name, Labels = labels, Value = v, Timestamp = t, Query = query, Source = Source });
                    }
                    break;
                case "matrix":
                    foreach (var s in result.EnumerateArray())
                    {
                        var (name, labels) = Labels(s.GetProperty("metric"));
                        var points = new List<PromPoint>();
                        if (s.TryGetProperty("values", out var values))
                            foreach (var p in values.EnumerateArray()) { var (t, v) = Point(p); points.Add(new PromPoint(t, v)); }
                        list.Add(new PromSeries
                        {
                            ResultType = type, Name = name, Labels = labels, Values = points, Query = query, Source = Source,
                            Value = points.Count > 0 ? points[^1].Value : double.NaN, Timestamp = points.Count > 0 ? points[^1].Timestamp : default,
                        });
                    }
                    break;
                case "scalar":
                {
                    var (t, v) = Point(result);
                    list.Add(new PromSeries { ResultType = type, Value = v, Timestamp = t, Query = query, Source = Source });
                    break;
                }
                case "string":
                {
                    var t = DateTime.UnixEpoch.AddSeconds(result[0].GetDouble());
                    list.Add(new PromSeries { ResultType = type, Text = result[1].GetString(), Timestamp = t, Query = query, Source = Source });
                    break;
                }
                default:
                    throw new OpsToolsException("PromAnswerInvalid", OpsErrorKind.InvalidData, $"{Source} answered with a result type '{type}' OpsTools does not know.", Source);
            }
            return list;
        }
    }

    /// <summary>Active alerts as Prometheus sees them (firing and pending).</summary>
    public async Task<IReadOnlyList<AlertResult>> AlertsAsync(CancellationToken ct)
    {
        using var exchange = await MetricsExchange.SendAsync(_target, HttpMethod.Get, "application/json", null, ct, Endpoint("api/v1/alerts")).ConfigureAwait(false);
        using var doc = await ReadJsonAsync(exchange, null).ConfigureAwait(false);
        var list = new List<AlertResult>();
        foreach (var a in doc.RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray())
        {
            var labels = Strings(a, "labels");
            var annotations = Strings(a, "annotations");
            var state = a.TryGetProperty("state", out var st) ? st.GetString() ?? "" : "";
            DateTime? since = a.TryGetProperty("activeAt", out var at) && at.ValueKind == JsonValueKind.String && DateTime.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d) ? d : null;
            var r = Alert(labels, annotations, state, "Prometheus", since);
            if (a.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String) r.Value = ParseDouble(v.GetString());
            list.Add(r);
        }
        return list;
    }

    /// <summary>Alerts as Alertmanager holds them: active, suppressed (silenced or inhibited) or unprocessed.</summary>
    public static async Task<IReadOnlyList<AlertResult>> AlertmanagerAlertsAsync(HealthProbeRequest target, CancellationToken ct)
    {
        var api = new PrometheusApi(target);
        using var exchange = await MetricsExchange.SendAsync(target, HttpMethod.Get, "application/json", null, ct, api.Endpoint("api/v2/alerts")).ConfigureAwait(false);
        using var doc = await api.ReadJsonAsync(exchange, null, alertmanager: true).ConfigureAwait(false);
        var list = new List<AlertResult>();
        foreach (var a in doc.RootElement.EnumerateArray())
        {
            var labels = Strings(a, "labels");
            var annotations = Strings(a, "annotations");
            var status = a.GetProperty("status");
            var state = status.TryGetProperty("state", out var s) ? s.GetString() ?? "" : "";
            DateTime? since = a.TryGetProperty("startsAt", out var at) && DateTime.TryParse(at.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var d) ? d : null;
            var r = Alert(labels, annotations, state, "Alertmanager", since);
            var silencedBy = status.TryGetProperty("silencedBy", out var sb) && sb.ValueKind == JsonValueKind.Array ? sb.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : new List<string>();
            var inhibitedBy = status.TryGetProperty("inhibitedBy", out var ib) && ib.ValueKind == JsonValueKind.Array ? ib.EnumerateArray().Select(x => x.GetString() ?? "").ToList() : new List<string>();
            r.SilencedBy = silencedBy;
            r.Silenced = silencedBy.Count > 0;
            r.Inhibited = inhibitedBy.Count > 0;
            if (r.Silenced || r.Inhibited)
            {
                r.Status = CheckStatus.Healthy;
                r.Message = (r.Silenced ? $"silenced ({string.Join(", ", silencedBy)})" : "inhibited by another alert") + ": " + r.Message;
            }
            list.Add(r);
        }
        return list;
    }

    /// <summary>
    /// What fired in a window: a range query over ALERTS{alertstate="firing"}, one result per alert series with when it
    /// was first and last seen firing and whether it still fires at the end.
    /// </summary>
    public async Task<IReadOnlyList<AlertResult>> FiredAsync(DateTime start, DateTime end, CancellationToken ct)
    {
        var range = end - start;
        var step = TimeSpan.FromSeconds(Math.Max(15, Math.Ceiling(range.TotalSeconds / 10000)));
        if (range.TotalSeconds >= 3600) step = TimeSpan.FromSeconds(Math.Max(step.TotalSeconds, 60));
        var series = await QueryRangeAsync("ALERTS{alertstate=\"firing\"}", start, end, step, post: false, ct).ConfigureAwait(false);
        var list = new List<AlertResult>();
        foreach (var s in series)
        {
            if (s.Values.Count == 0) continue;
            var labels = s.Labels.Where(kv => kv.Key != "alertstate").ToDictionary(kv => kv.Key, kv => kv.Value);
            var first = s.Values[0].Timestamp;
            var last = s.Values[^1].Timestamp;
            var still = end - last <= step + step;
            var r = Alert(labels, new Dictionary<string, string>(), still ? "firing" : "resolved", "History", first);
            r.Check = "Alert.Overnight";
            r.LastSeen = last;
            var sev = r.Severity ?? "";
            if (!still)
            {
                r.Status = SeverityStatus(r.Severity) == CheckStatus.Healthy ? CheckStatus.Healthy : CheckStatus.Warning;
                r.Message = $"{r.AlertName}{(r.Severity is null ? "" : $" ({sev})")} fired from {first:yyyy-MM-dd HH:mm} to {last:yyyy-MM-dd HH:mm} UTC and is resolved";
            }
            else
                r.Message = $"{r.AlertName}{(r.Severity is null ? "" : $" ({sev})")} fires since {first:yyyy-MM-dd HH:mm} UTC (at least)";
            r.Value = (last - first).TotalMinutes;
            list.Add(r);
        }
        return list.OrderBy(a => a.Since).ToList();
    }

    private static AlertResult Alert(Dictionary<string, string> labels, Dictionary<string, string> annotations, string state, string source, DateTime? since)
    {
        labels.TryGetValue("alertname", out var name);
        labels.TryGetValue("severity", out var severity);
        var summary = annotations.TryGetValue("summary", out var s) ? s : annotations.TryGetValue("description", out var d) ? d : annotations.TryGetValue("message", out var m) ? m : null;
        var status = state is "pending" ? CheckStatus.Healthy : SeverityStatus(severity);
        var who = string.Join(",", labels.Where(kv => kv.Key is not ("alertname" or "severity")).Select(kv => $"{kv.Key}={kv.Value}"));
        return new AlertResult
        {
            Check = "Alert", Area = "Metrics", AlertName = name ?? "(no alertname)", Severity = severity, State = state, Source = source,
            Since = since, Summary = summary, Labels = labels, Annotations = annotations, Status = status,
            Target = (name ?? "alert") + (who.Length > 0 ? "{" + who + "}" : ""),
            Threshold = "critical severity: Critical; other severities: Warning; info/none and pending: Healthy",
            Message = $"{name}{(severity is null ? "" : $" ({severity})")} {(state == "pending" ? "pending (not firing yet)" : state)}{(since is DateTime t ? $" since {t:yyyy-MM-dd HH:mm} UTC" : "")}{(summary is null ? "" : ": " + summary)}",
        };
    }

    /// <summary>The status an alert's severity label gives: critical/page/error/high: Critical; info/none/low: Healthy; anything else: Warning.</summary>
    public static CheckStatus SeverityStatus(string? severity) => (severity ?? "").ToLowerInvariant() switch
    {
        "critical" or "page" or "error" or "high" or "p0" or "p1" => CheckStatus.Critical,
        "info" or "none" or "low" or "informational" => CheckStatus.Healthy,
        _ => CheckStatus.Warning,
    };

    private async Task<JsonDocument> ReadJsonAsync(MetricsExchange exchange, string? query, bool alertmanager = false)
    {
        var (text, _) = await exchange.ReadTextAsync().ConfigureAwait(false);
        JsonDocument? doc = null;
        try { doc = JsonDocument.Parse(text); } catch (JsonException) { }
        var ok = exchange.StatusCode is >= 200 and <= 299;
        if (alertmanager)
        {
            if (ok && doc is not null && doc.RootElement.ValueKind == JsonValueKind.Array) return doc;
            doc?.Dispose();
            throw new OpsToolsException(ok ? "AlertmanagerAnswerInvalid" : "AlertmanagerError", ok ? OpsErrorKind.InvalidData : OpsErrorKind.OperationFailed,
                $"{Source} (Alertmanager) answered HTTP {exchange.StatusText}{(ok ? " with something that is not a list of alerts" : ": " + Excerpt(text))}. Is it Alertmanager 0.16 or later (API v2)?", Source);
        }
        if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("status", out var status))
        {
            doc?.Dispose();
            throw new OpsToolsException("PromAnswerInvalid", ok ? OpsErrorKind.InvalidData : OpsErrorKind.OperationFailed,
                $"{Source} answered HTTP {exchange.StatusText} with something that is not Prometheus's API{(text.Length > 0 ? ": " + Excerpt(text) : "")}. Is the URL the Prometheus (or Thanos querier) base address?", Source);
        }
        if (status.GetString() == "success") return doc;
        var errorType = doc.RootElement.TryGetProperty("errorType", out var et) ? et.GetString() ?? "" : "";
        var error = doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() ?? "" : "";
        doc.Dispose();
        var q = query is null ? "" : $" '{(query.Length > 120 ? query[..120] + "..." : query)}'";
        throw errorType switch
        {
            "bad_data" => new OpsToolsException("PromQueryInvalid", OpsErrorKind.InvalidArgument, $"Prometheus refused the query{q}: {error}", query),
            "timeout" => new OpsToolsException("PromQueryTimeout", OpsErrorKind.Timeout, $"Prometheus gave up on the query{q} at its timeout ({Seconds(_target.Timeout)}): {error}", query),
            "canceled" => new OpsToolsException("PromQueryTimeout", OpsErrorKind.Timeout, $"Prometheus cancelled the query{q}: {error}", query),
            "execution" => new OpsToolsException("PromQueryFailed", OpsErrorKind.OperationFailed, $"Prometheus could not run the query{q}: {error}", query),
            _ => new OpsToolsException("PromQueryFailed", OpsErrorKind.OperationFailed, $"Prometheus answered HTTP {exchange.StatusText} ({errorType}) to the query{q}: {error}", query),
        };
    }

    private string Excerpt(string text)
    {
        var t = Redaction.RedactText(Redaction.ScrubText(text.Length > 200 ? text[..200] + "..." : text), _target.Secrets()).Trim();
        return t.Length == 0 ? "(empty)" : t;
    }

    private static (string? Name, IReadOnlyDictionary<string, string> Labels) Labels(JsonElement metric)
    {
        string? name = null;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in metric.EnumerateObject())
        {
            if (p.Name == "__name__") name = p.Value.GetString();
            else labels[p.Name] = p.Value.GetString() ?? "";
        }
        return (name, labels);
    }

    private static Dictionary<string, string> Strings(JsonElement e, string property)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.TryGetProperty(property, out var o) && o.ValueKind == JsonValueKind.Object)
            foreach (var p in o.EnumerateObject()) d[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : p.Value.ToString();
        return d;
    }

    private static (DateTime Time, double Value) Point(JsonElement pair) =>
        (DateTime.UnixEpoch.AddTicks((long)Math.Round(pair[0].GetDouble() * TimeSpan.TicksPerSecond)), ParseDouble(pair[1].GetString()));

    /// <summary>Prometheus sends values as strings: "1.5", "NaN", "+Inf", "-Inf".</summary>
    public static double ParseDouble(string? s) => s switch
    {
        null => double.NaN,
        "NaN" => double.NaN,
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN,
    };

    /// <summary>A time as Prometheus takes it: Unix seconds with milliseconds.</summary>
    public static string Unix(DateTime t) =>
        ((t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t) - DateTime.UnixEpoch).Ticks is var ticks
            ? (ticks / 10_000 / 1000m).ToString("0.###", CultureInfo.InvariantCulture) : "";

    private static string Seconds(TimeSpan t) => Math.Max(1, Math.Floor(t.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s";
}
