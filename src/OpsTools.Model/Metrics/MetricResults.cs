namespace OpsTools.Metrics;

/// <summary>
/// One runbook figure computed from an app's /metrics over a window (error rate, request rate, p95/p99 latency,
/// memory %, connections, or a gauge or counter the environment names), as a check result.
/// "No traffic in the window" and NaN are an explicit Unknown with that reason, never Healthy.
/// </summary>
public sealed class MetricCheckResult : CheckResult
{
    /// <summary>Which figure: ErrorRate, RequestRate, LatencyP95, LatencyP99, MemoryPercent, Connections, or the environment's name for it.</summary>
    public string Figure { get; set; } = "";
    /// <summary>The endpoint's name (environment) or host:port/path.</summary>
    public string Endpoint { get; set; } = "";
    /// <summary>The number, in <see cref="Unit"/> (NaN when it could not be computed).</summary>
    public double Number { get; set; } = double.NaN;
    /// <summary>percent, requests/s, ms, bytes, or empty.</summary>
    public string Unit { get; set; } = "";
    /// <summary>The window the rates and percentiles are over (zero for a gauge read once).</summary>
    public TimeSpan Window { get; set; }
    /// <summary>The PromQL expression that gives the same figure in Prometheus.</summary>
    public string? PromQL { get; set; }
    /// <summary>Counter resets seen in the window (a restart of the app); handled as Prometheus does.</summary>
    public int CounterResets { get; set; }
}

/// <summary>One series of a Prometheus query result (vector, matrix, scalar or string) as Invoke-PromQuery returns it.</summary>
public sealed class PromSeries
{
    /// <summary>vector, matrix, scalar or string.</summary>
    public string ResultType { get; set; } = "";
    /// <summary>The series' metric name (<c>__name__</c>), when it has one.</summary>
    public string? Name { get; set; }
    /// <summary>The series' labels (with <c>__name__</c> left out).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
    /// <summary>The value (vector, scalar), or the last value (matrix).</summary>
    public double Value { get; set; } = double.NaN;
    /// <summary>The text of a string result.</summary>
    public string? Text { get; set; }
    /// <summary>The evaluation time of <see cref="Value"/> (UTC).</summary>
    public DateTime Timestamp { get; set; }
    /// <summary>Every point of a matrix result, oldest first.</summary>
    public IReadOnlyList<PromPoint> Values { get; set; } = Array.Empty<PromPoint>();
    /// <summary>The query.</summary>
    public string Query { get; set; } = "";
    /// <summary>The Prometheus it was asked (URL without credentials).</summary>
    public string Source { get; set; } = "";

    /// <summary>The labels as PromQL writes them.</summary>
    public string LabelText => Labels.Count == 0 ? "" : "{" + string.Join(",", Labels.Select(kv => $"{kv.Key}=\"{kv.Value}\"")) + "}";

    public override string ToString() => (Name ?? "") + LabelText + " " + (Text ?? Value.ToString("R", System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>One point of a range query.</summary>
public readonly record struct PromPoint(DateTime Timestamp, double Value);

/// <summary>A named PromQL check of the environment file, as a check result.</summary>
public sealed class PromCheckResult : CheckResult
{
    /// <summary>The check's name in the environment file.</summary>
    public string Name { get; set; } = "";
    /// <summary>The PromQL expression.</summary>
    public string Query { get; set; } = "";
    /// <summary>The series the status was taken from (its labels), when the result had several.</summary>
    public string? Series { get; set; }
    /// <summary>The number (NaN when the result was empty or NaN).</summary>
    public double Number { get; set; } = double.NaN;
}

/// <summary>An alert as Prometheus (/api/v1/alerts), Alertmanager (/api/v2/alerts) or the ALERTS series (overnight) report it, as a check result.</summary>
public sealed class AlertResult : CheckResult
{
    /// <summary>The alert's name (alertname label).</summary>
    public string AlertName { get; set; } = "";
    /// <summary>The severity label (critical, warning, info ...), when it has one.</summary>
    public string? Severity { get; set; }
    /// <summary>firing or pending (Prometheus); active, suppressed or unprocessed (Alertmanager); firing or resolved (overnight).</summary>
    public string State { get; set; } = "";
    /// <summary>Prometheus, Alertmanager or History.</summary>
    public string Source { get; set; } = "";
    /// <summary>Since when it is active (Prometheus activeAt, Alertmanager startsAt, first seen firing in the range).</summary>
    public DateTime? Since { get; set; }
    /// <summary>Last seen firing (overnight alerts), else null.</summary>
    public DateTime? LastSeen { get; set; }
    /// <summary>The summary (or description) annotation.</summary>
    public string? Summary { get; set; }
    /// <summary>True when Alertmanager has it silenced.</summary>
    public bool Silenced { get; set; }
    /// <summary>True when Alertmanager has it inhibited by another alert.</summary>
    public bool Inhibited { get; set; }
    /// <summary>The silences that hold it.</summary>
    public IReadOnlyList<string> SilencedBy { get; set; } = Array.Empty<string>();
    /// <summary>Every label.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
    /// <summary>Every annotation.</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; set; } = new Dictionary<string, string>();
}

/// <summary>A figure the app reports in its own JSON (e.g. <c>.queue_size</c> of /triage/statistics), judged against thresholds.</summary>
public sealed class AppFigureResult : CheckResult
{
    /// <summary>The figure's name (environment) or its path.</summary>
    public string Name { get; set; } = "";
    /// <summary>The property path read, e.g. <c>.circuit_breakers.ai.state</c>.</summary>
    public string Path { get; set; } = "";
    /// <summary>The number, when the value is numeric.</summary>
    public double? Number { get; set; }
    /// <summary>The value as text, as the app sent it.</summary>
    public string? Text { get; set; }
    /// <summary>The HTTP status code of the answer, when one came.</summary>
    public int? StatusCode { get; set; }
}

/// <summary>What an app answered to a named action (e.g. POST /api/ai-service?action=reset-circuit-breaker).</summary>
public sealed class AppActionResult
{
    /// <summary>The action's name.</summary>
    public string Name { get; set; } = "";
    /// <summary>GET, POST, PUT, PATCH or DELETE.</summary>
    public string Method { get; set; } = "";
    /// <summary>The URL (without credentials).</summary>
    public string Target { get; set; } = "";
    /// <summary>The HTTP status code.</summary>
    public int StatusCode { get; set; }
    /// <summary>True for 2xx.</summary>
    public bool Succeeded { get; set; }
    /// <summary>The answer's content type.</summary>
    public string? ContentType { get; set; }
    /// <summary>The answer's body as text (at most 64 KiB; secrets redacted).</summary>
    public string? Body { get; set; }
    /// <summary>How long it took.</summary>
    public TimeSpan Duration { get; set; }
    /// <summary>When it finished (UTC).</summary>
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;
    /// <summary>The environment, when one was given.</summary>
    public string? Environment { get; set; }

    public override string ToString() => $"{Method} {Target}: {StatusCode}";
}
