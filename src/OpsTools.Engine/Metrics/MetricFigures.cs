using System.Globalization;
using System.Text.RegularExpressions;
using OpsTools.Configuration;
using OpsTools.Metrics;

namespace OpsTools.Engine.Metrics;

/// <summary>Which names the runbook figures are read from; the environment's Metrics entry fills them, else the usual names.</summary>
public sealed class FigureNames
{
    public string? RequestMetric { get; init; }
    public string LatencyMetric { get; init; } = "http_request_duration_seconds";
    public string? StatusLabel { get; init; }
    public string? ConnectionsMetric { get; init; }
    public double? ConnectionsWarning { get; init; }
    public double? ConnectionsCritical { get; init; }
    public string? MemoryMetric { get; init; }
    public double? MemoryLimitBytes { get; init; }
    public IReadOnlyList<MetricFigureSettings> Figures { get; init; } = Array.Empty<MetricFigureSettings>();
    /// <summary>Only series whose labels match these (wildcards), for every figure (e.g. a job or route).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public static readonly string[] ConnectionGauges =
        { "http_connections_active", "kestrel_active_connections", "microsoft_aspnetcore_server_kestrel_current_connections" };

    public static FigureNames From(MetricsEndpoint? e) => e is null ? new FigureNames() : new FigureNames
    {
        RequestMetric = e.RequestMetric,
        LatencyMetric = e.LatencyMetric ?? "http_request_duration_seconds",
        StatusLabel = e.StatusLabel,
        ConnectionsMetric = e.ConnectionsMetric,
        ConnectionsWarning = e.ConnectionsWarning,
        ConnectionsCritical = e.ConnectionsCritical,
        MemoryMetric = e.MemoryMetric,
        MemoryLimitBytes = e.MemoryLimitBytes,
        Figures = e.Figures,
    };

    /// <summary>True for the sample names the figures need (so a scrape keeps only those).</summary>
    public bool Wants(string name)
    {
        if (name.StartsWith(LatencyMetric, StringComparison.Ordinal)) return true;
        if (RequestMetric is not null ? name == RequestMetric : name == "http_requests_total") return true;
        if (name is "process_cpu_seconds_total" or "process_resident_memory_bytes" or "node_memory_MemTotal_bytes" or "node_memory_MemAvailable_bytes") return true;
        if (name == MemoryMetric) return true;
        if (ConnectionsMetric is not null ? name == ConnectionsMetric : Array.IndexOf(ConnectionGauges, name) >= 0) return true;
        foreach (var f in Figures) if (f.Metric == name) return true;
        return false;
    }
}

/// <summary>
/// The runbook figures of one app from two reads of its /metrics (a window): error rate (5xx share), request rate,
/// p95/p99 latency from the histogram buckets (PromQL's histogram_quantile over the buckets' increase), CPU and
/// memory, active connections and the gauges and counters the environment names. Counters that went down were
/// reset (the app restarted): their increase is the new value, as Prometheus's increase() counts it. A series
/// that first appears in the window counts from zero. No traffic, a missing metric or a NaN is an Unknown result
/// that says so, never Healthy.
/// </summary>
public static class MetricFigures
{
    public static IReadOnlyList<MetricCheckResult> Compute(MetricSnapshot? before, MetricSnapshot after, FigureNames names,
        ThresholdSet thresholds, string endpoint, string? environment)
    {
        var results = new List<MetricCheckResult>();
        var window = before is null ? TimeSpan.Zero : after.Timestamp - before.Timestamp;
        var seconds = window.TotalSeconds;
        var w = PromWindow(window);
        var now = Filter(after.Samples, names.Labels);
        var then = before is null ? null : Index(Filter(before.Samples, names.Labels));

        MetricCheckResult New(string figure, string unit, string? promql) => new()
        {
            Check = "Metric." + figure, Area = "Metrics", Figure = figure, Unit = unit, Target = after.Target + "#" + figure,
            Endpoint = endpoint, Environment = environment, Window = window, PromQL = promql, Timestamp = after.Timestamp,
        };

        // ---- requests, errors, latency (need a window) ----
        var requestName = names.RequestMetric
            ?? (now.Any(s => s.Name == "http_requests_total") ? "http_requests_total" : names.LatencyMetric + "_count");
        var requests = now.Where(s => s.Name == requestName).ToList();
        var statusLabel = names.StatusLabel
            ?? (requests.Any(s => s.Labels.ContainsKey("status")) ? "status" : "code");

        if (then is null)
        {
            var r = New("RequestRate", "requests/s", null);
            Unknown(r, "one read of /metrics gives no window: use -Interval, or pipe in an earlier snapshot with -Baseline");
            results.Add(r);
        }
        else if (requests.Count == 0)
        {
            foreach (var fig in new[] { "RequestRate", "ErrorRate" })
            {
                var r = New(fig, fig == "ErrorRate" ? "percent" : "requests/s", null);
                Unknown(r, $"the endpoint exposes no '{requestName}' (set RequestMetric in the environment's Metrics entry)");
                results.Add(r);
            }
        }
        else
        {
            var (total, resets) = SumIncrease(requests, then);
            var (errors, _) = SumIncrease(requests.Where(s => IsServerError(s.Label(statusLabel))), then);

            var rate = New("RequestRate", "requests/s", $"sum(rate({requestName}[{w}]))");
            rate.CounterResets = resets;
            rate.Number = total / seconds;
            rate.Value = Round(rate.Number);
            rate.Status = CheckStatus.Healthy;
            rate.Message = $"{Fmt(rate.Number)} requests/s ({Fmt(total)} requests in {Fmt(seconds)} s){ResetNote(resets)}";
            results.Add(rate);

            var er = New("ErrorRate", "percent", $"sum(rate({requestName}{{{statusLabel}=~\"5..\"}}[{w}])) / sum(rate({requestName}[{w}])) * 100");
            er.CounterResets = resets;
            er.Threshold = $"warn > {Fmt(thresholds.ErrorRateWarningPercent)} %; critical > {Fmt(thresholds.ErrorRateCriticalPercent)} %";
            if (total <= 0)
                Unknown(er, $"no requests in the window of {Fmt(seconds)} s: no error rate to judge");
            else
            {
                er.Number = errors / total * 100;
                er.Value = Round(er.Number);
                Judge(er, er.Number, thresholds.ErrorRateWarningPercent, thresholds.ErrorRateCriticalPercent, false,
                    $"{Fmt(er.Number)} % of requests failed with 5xx ({Fmt(errors)} of {Fmt(total)} in {Fmt(seconds)} s){ResetNote(resets)}");
            }
            results.Add(er);
        }

        var buckets = now.Where(s => s.Name == names.LatencyMetric + "_bucket").ToList();
        var toMs = names.LatencyMetric.EndsWith("_milliseconds", StringComparison.Ordinal) ? 1.0 : 1000.0;
        foreach (var (q, fig) in new[] { (0.95, "LatencyP95"), (0.99, "LatencyP99") })
        {
            var r = New(fig, "ms", $"histogram_quantile({Fmt(q)}, sum by (le) (increase({names.LatencyMetric}_bucket[{w}])))");
            var warn = q == 0.95 ? thresholds.P95WarningMs : thresholds.LatencyCriticalMs;
            r.Threshold = q == 0.95 ? $"warn > {Fmt(thresholds.P95WarningMs)} ms; critical > {Fmt(thresholds.LatencyCriticalMs)} ms" : $"warn > {Fmt(thresholds.LatencyCriticalMs)} ms";
            if (then is null) { Unknown(r, "one read of /metrics gives no window: use -Interval, or pipe in an earlier snapshot with -Baseline"); results.Add(r); continue; }
            if (buckets.Count == 0) { Unknown(r, $"the endpoint exposes no '{names.LatencyMetric}_bucket' histogram (set LatencyMetric in the environment's Metrics entry)"); results.Add(r); continue; }
            var (perLe, resets, bad) = IncreaseByLe(buckets, then);
            r.CounterResets = resets;
            var quantile = HistogramQuantile.Compute(q, perLe.Select(kv => new HistogramQuantile.Bucket(kv.Key, kv.Value)));
            var observations = perLe.TryGetValue(double.PositiveInfinity, out var inf) ? inf : 0;
            if (double.IsNaN(quantile))
            {
                Unknown(r, observations == 0 && perLe.ContainsKey(double.PositiveInfinity)
                    ? $"no requests in the window of {Fmt(seconds)} s: histogram_quantile is NaN"
                    : $"histogram_quantile is NaN ({(perLe.ContainsKey(double.PositiveInfinity) ? "fewer than two buckets" : "no +Inf bucket")}){(bad > 0 ? $"; {bad} bucket(s) with an le that is not a number" : "")}");
                results.Add(r);
                continue;
            }
            r.Number = quantile * toMs;
            r.Value = Round(r.Number);
            var crit = q == 0.95 ? thresholds.LatencyCriticalMs : double.PositiveInfinity;
            var inTop = double.IsFinite(quantile) && perLe.Keys.Where(double.IsFinite).DefaultIfEmpty(double.NaN).Max() == quantile && observations > 0;
            Judge(r, r.Number, warn, crit, false,
                $"{Fmt(q * 100)}th percentile {Fmt(r.Number)} ms over {Fmt(observations)} requests in {Fmt(seconds)} s{(inTop ? " (at the highest finite bucket: the real value may be higher)" : "")}{ResetNote(resets)}");
            results.Add(r);
        }

        // ---- CPU (a window) and memory (now) ----
        var cpu = now.Where(s => s.Name == "process_cpu_seconds_total").ToList();
        if (cpu.Count > 0 && then is not null && seconds > 0)
        {
            var (used, resets) = SumIncrease(cpu, then);
            var r = New("CpuPercent", "percent", $"rate(process_cpu_seconds_total[{w}]) * 100");
            r.CounterResets = resets;
            r.Number = used / seconds * 100;
            r.Value = Round(r.Number);
            r.Threshold = $"warn > {Fmt(thresholds.CpuWarningPercent)} % (of one CPU)";
            Judge(r, r.Number, thresholds.CpuWarningPercent, double.PositiveInfinity, false, $"the process used {Fmt(r.Number)} % of one CPU over {Fmt(seconds)} s{ResetNote(resets)}");
            results.Add(r);
        }

        var memTotal = Sum(now, "node_memory_MemTotal_bytes");
        var memAvail = Sum(now, "node_memory_MemAvailable_bytes");
        var memName = names.MemoryMetric ?? "process_resident_memory_bytes";
        var memUsed = Sum(now, memName);
        MetricCheckResult? mem = null;
        if (memTotal is > 0 && memAvail is double avail)
        {
            mem = New("MemoryPercent", "percent", "(node_memory_MemTotal_bytes - node_memory_MemAvailable_bytes) / node_memory_MemTotal_bytes * 100");
            mem.Number = (memTotal.Value - avail) / memTotal.Value * 100;
            mem.Message = $"{Fmt(mem.Number)} % of memory in use ({Sizes(memTotal.Value - avail)} of {Sizes(memTotal.Value)})";
        }
        else if (names.MemoryLimitBytes is > 0)
        {
            mem = New("MemoryPercent", "percent", $"{memName} / {Fmt(names.MemoryLimitBytes.Value)} * 100");
            if (memUsed is double used)
            {
                mem.Number = used / names.MemoryLimitBytes.Value * 100;
                mem.Message = $"{Fmt(mem.Number)} % of the {Sizes(names.MemoryLimitBytes.Value)} limit in use ({Sizes(used)}, {memName})";
            }
            else Unknown(mem, $"the endpoint exposes no '{memName}'");
        }
        if (mem is not null)
        {
            mem.Threshold = $"warn > {Fmt(thresholds.MemoryWarningPercent)} %; critical > {Fmt(thresholds.MemoryCriticalPercent)} %";
            if (!double.IsNaN(mem.Number))
            {
                mem.Value = Round(mem.Number);
                Judge(mem, mem.Number, thresholds.MemoryWarningPercent, thresholds.MemoryCriticalPercent, false, mem.Message);
            }
            mem.Window = TimeSpan.Zero;
            results.Add(mem);
        }

        // ---- connections ----
        var connName = names.ConnectionsMetric ?? FigureNames.ConnectionGauges.FirstOrDefault(n => now.Any(s => s.Name == n));
        if (connName is not null)
        {
            var r = New("Connections", "", connName);
            r.Window = TimeSpan.Zero;
            var value = Sum(now, connName);
            if (value is double v)
            {
                r.Number = v;
                r.Value = Round(v);
                r.Threshold = Thresholds(names.ConnectionsWarning, names.ConnectionsCritical, false);
                Judge(r, v, names.ConnectionsWarning ?? double.PositiveInfinity, names.ConnectionsCritical ?? double.PositiveInfinity, false, $"{Fmt(v)} active connections ({connName})");
            }
            else Unknown(r, $"the endpoint exposes no '{connName}'");
            results.Add(r);
        }

        // ---- the environment's own gauges and counters ----
        foreach (var f in names.Figures)
        {
            var series = Filter(now.Where(s => s.Name == f.Metric), f.Labels).ToList();
            var r = New(f.Name, f.Kind is "Rate" or "Growth" ? "/s" : "", PromFor(f, w));
            r.Check = "Metric." + f.Name;
            r.Threshold = Thresholds(f.Warning, f.Critical, false);
            if (series.Count == 0) { Unknown(r, $"the endpoint exposes no '{f.Metric}'{(f.Labels.Count > 0 ? " with those labels" : "")}"); results.Add(r); continue; }
            double value;
            string how;
            if (f.Kind == "Gauge")
            {
                value = series.Sum(s => s.Value);
                r.Window = TimeSpan.Zero;
                how = $"{f.Metric} is {Fmt(value)}";
            }
            else if (then is null)
            {
                Unknown(r, $"a {f.Kind.ToLowerInvariant()} needs a window: use -Interval, or pipe in an earlier snapshot with -Baseline");
                results.Add(r);
                continue;
            }
            else if (f.Kind == "Growth")
            {
                var before2 = Filter((before!.Samples).Where(s => s.Name == f.Metric), f.Labels).Sum(s => s.Value);
                value = (series.Sum(s => s.Value) - before2) / seconds;
                how = $"{f.Metric} grew by {Fmt(value)}/s over {Fmt(seconds)} s";
            }
            else
            {
                var (inc, resets) = SumIncrease(series, then);
                r.CounterResets = resets;
                value = f.Kind == "Rate" ? inc / seconds : inc;
                how = f.Kind == "Rate" ? $"{f.Metric} rose {Fmt(value)}/s over {Fmt(seconds)} s{ResetNote(resets)}" : $"{f.Metric} rose by {Fmt(value)} in {Fmt(seconds)} s{ResetNote(resets)}";
            }
            r.Number = value;
            if (double.IsNaN(value)) { Unknown(r, $"{f.Metric} is NaN"); results.Add(r); continue; }
            r.Value = Round(value);
            Judge(r, value, f.Warning ?? double.PositiveInfinity, f.Critical ?? double.PositiveInfinity, false, how);
            results.Add(r);
        }
        return results;
    }

    private static string PromFor(MetricFigureSettings f, string w)
    {
        var sel = f.Metric + (f.Labels.Count == 0 ? "" : "{" + string.Join(",", f.Labels.Select(kv => $"{kv.Key}=\"{kv.Value}\"")) + "}");
        return f.Kind switch
        {
            "Rate" => $"sum(rate({sel}[{w}]))",
            "Increase" => $"sum(increase({sel}[{w}]))",
            "Growth" => $"sum(deriv({sel}[{w}]))",
            _ => $"sum({sel})",
        };
    }

    /// <summary>The series of <paramref name="samples"/> whose labels match every pattern (wildcards).</summary>
    public static IEnumerable<MetricSample> Filter(IEnumerable<MetricSample> samples, IReadOnlyDictionary<string, string> labels)
    {
        if (labels.Count == 0) return samples as IReadOnlyList<MetricSample> ?? samples.ToList();
        var patterns = labels.Select(kv => (kv.Key, Wildcard(kv.Value))).ToList();
        return samples.Where(s => patterns.All(p => p.Item2.IsMatch(s.Label(p.Key) ?? ""))).ToList();
    }

    /// <summary>A wildcard pattern (* ? [abc]) as a whole-value, case-insensitive regex.</summary>
    public static Regex Wildcard(string pattern) =>
        new("^" + Regex.Escape(pattern).Replace("\\*", ".*").Replace("\\?", ".").Replace("\\[", "[") + "$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private static IReadOnlyList<MetricSample> Filter(IReadOnlyList<MetricSample> samples, IReadOnlyDictionary<string, string> labels) =>
        labels.Count == 0 ? samples : Filter((IEnumerable<MetricSample>)samples, labels).ToList();

    /// <summary>A series' identity: name and labels in name order.</summary>
    public static string SeriesKey(MetricSample s)
    {
        if (s.Labels.Count == 0) return s.Name;
        var sb = new System.Text.StringBuilder(s.Name).Append('{');
        foreach (var kv in s.Labels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            sb.Append(kv.Key).Append('=').Append('"').Append(kv.Value.Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"').Append(',');
        return sb.Append('}').ToString();
    }

    private static Dictionary<string, double> Index(IEnumerable<MetricSample> samples)
    {
        var d = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var s in samples) d[SeriesKey(s)] = s.Value;
        return d;
    }

    /// <summary>Increase of one counter between two reads, as Prometheus's increase() counts it over two samples: a drop is a reset, and the new value is the increase.</summary>
    public static double Increase(double before, double after, out bool reset)
    {
        reset = after < before;
        return reset ? after : after - before;
    }

    private static (double Sum, int Resets) SumIncrease(IEnumerable<MetricSample> now, Dictionary<string, double> then)
    {
        double sum = 0;
        var resets = 0;
        foreach (var s in now)
        {
            var before = then.TryGetValue(SeriesKey(s), out var b) ? b : 0;
            sum += Increase(before, s.Value, out var reset);
            if (reset) resets++;
        }
        return (sum, resets);
    }

    private static (SortedDictionary<double, double> PerLe, int Resets, int Bad) IncreaseByLe(IEnumerable<MetricSample> buckets, Dictionary<string, double> then)
    {
        var perLe = new SortedDictionary<double, double>();
        var resets = 0;
        var bad = 0;
        foreach (var s in buckets)
        {
            if (!HistogramQuantile.TryParseBound(s.Label("le"), out var le) || double.IsNaN(le)) { bad++; continue; }
            var before = then.TryGetValue(SeriesKey(s), out var b) ? b : 0;
            var inc = Increase(before, s.Value, out var reset);
            if (reset) resets++;
            perLe[le] = perLe.TryGetValue(le, out var acc) ? acc + inc : inc;
        }
        return (perLe, resets, bad);
    }

    private static double? Sum(IReadOnlyList<MetricSample> samples, string name)
    {
        double? sum = null;
        foreach (var s in samples) if (s.Name == name) sum = (sum ?? 0) + s.Value;
        return sum;
    }

    private static bool IsServerError(string? code) =>
        code is { Length: 3 } && code[0] == '5' && char.IsDigit(code[1]) && char.IsDigit(code[2])
        || string.Equals(code, "5xx", StringComparison.OrdinalIgnoreCase);

    private static void Unknown(MetricCheckResult r, string reason)
    {
        r.Status = CheckStatus.Unknown;
        r.Number = double.NaN;
        r.Value = null;
        r.Message = char.ToUpperInvariant(reason[0]) + reason[1..] + ".";
    }

    private static void Judge(MetricCheckResult r, double value, double warning, double critical, bool below, string message)
    {
        if (double.IsNaN(value)) { Unknown(r, "the value is NaN"); return; }
        var overCrit = below ? value < critical : value > critical;
        var overWarn = below ? value < warning : value > warning;
        r.Status = overCrit ? CheckStatus.Critical : overWarn ? CheckStatus.Warning : CheckStatus.Healthy;
        r.Message = message + (r.Status switch
        {
            CheckStatus.Critical => $"; above the critical threshold of {Fmt(critical)}",
            CheckStatus.Warning => $"; above the warning threshold of {Fmt(warning)}",
            _ => "",
        });
    }

    public static string Thresholds(double? warning, double? critical, bool below)
    {
        var op = below ? "<" : ">";
        var parts = new List<string>();
        if (warning is double w) parts.Add($"warn {op} {Fmt(w)}");
        if (critical is double c) parts.Add($"critical {op} {Fmt(c)}");
        return parts.Count == 0 ? "no threshold" : string.Join("; ", parts);
    }

    private static string ResetNote(int resets) => resets == 0 ? "" : $"; {resets} counter reset(s) in the window (a restart), counted as Prometheus does";

    /// <summary>A PromQL duration for a window: "15s", "5m", "90s".</summary>
    public static string PromWindow(TimeSpan window)
    {
        var s = Math.Max(1, (long)Math.Round(window.TotalSeconds));
        return s % 3600 == 0 ? $"{s / 3600}h" : s % 60 == 0 ? $"{s / 60}m" : $"{s}s";
    }

    public static double Round(double v) => double.IsFinite(v) ? Math.Round(v, Math.Abs(v) >= 100 ? 1 : 3) : v;

    public static string Fmt(double v) =>
        double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf"
        : v.ToString(Math.Abs(v) >= 100 ? "0.#" : "0.###", CultureInfo.InvariantCulture);

    private static string Sizes(double bytes) => ByteSize.Format(bytes, ByteFormat.Iec);
}
