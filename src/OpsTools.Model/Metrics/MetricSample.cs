using System.Globalization;

namespace OpsTools.Metrics;

/// <summary>The type a metric family declares (# TYPE). Untyped samples are <see cref="Unknown"/>.</summary>
public enum MetricType
{
    Unknown = 0,
    Counter,
    Gauge,
    Histogram,
    GaugeHistogram,
    Summary,
    Info,
    StateSet,
}

/// <summary>One sample of a /metrics exposition (Prometheus text 0.0.4 or OpenMetrics 1.0) as Get-Metric returns it.</summary>
public sealed class MetricSample
{
    /// <summary>The sample's name as exposed, e.g. <c>http_requests_total</c>, <c>http_request_duration_seconds_bucket</c>.</summary>
    public string Name { get; set; } = "";
    /// <summary>The family it belongs to (the name of its # TYPE line), e.g. <c>http_request_duration_seconds</c>.</summary>
    public string Family { get; set; } = "";
    /// <summary>Its labels, in the order exposed.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; set; } = EmptyLabels;
    /// <summary>The value (NaN and ±Infinity are values too).</summary>
    public double Value { get; set; }
    /// <summary>The sample's own timestamp when the exposition gives one (UTC), else null.</summary>
    public DateTime? Timestamp { get; set; }
    /// <summary>The family's declared type.</summary>
    public MetricType Type { get; set; }
    /// <summary>The family's # HELP text.</summary>
    public string? Help { get; set; }
    /// <summary>The family's # UNIT (OpenMetrics).</summary>
    public string? Unit { get; set; }
    /// <summary>The endpoint it was read from (URL without credentials).</summary>
    public string Target { get; set; } = "";

    /// <summary>The labels as PromQL writes them: <c>{code="200",method="GET"}</c> (empty when there are none).</summary>
    public string LabelText => Labels.Count == 0 ? "" :
        "{" + string.Join(",", Labels.Select(kv => kv.Key + "=\"" + kv.Value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"")) + "}";

    /// <summary>One label's value, or null.</summary>
    public string? Label(string name) => Labels.TryGetValue(name, out var v) ? v : null;

    internal static readonly IReadOnlyDictionary<string, string> EmptyLabels = new Dictionary<string, string>();

    public override string ToString() => Name + LabelText + " " + Value.ToString("R", CultureInfo.InvariantCulture);
}

/// <summary>Every sample of one endpoint at one moment: what Get-Metric -AsSnapshot returns and Get-MetricCheck -Baseline takes.</summary>
public sealed class MetricSnapshot
{
    /// <summary>The endpoint (URL without credentials).</summary>
    public string Target { get; set; } = "";
    /// <summary>The name of the endpoint in the environment file, when it came from one.</summary>
    public string? Name { get; set; }
    /// <summary>When the exposition was read (UTC, the moment the answer arrived).</summary>
    public DateTime Timestamp { get; set; }
    /// <summary>The format the endpoint answered in: <c>text/plain; version=0.0.4</c> or <c>application/openmetrics-text; version=1.0.0</c>.</summary>
    public string Format { get; set; } = "";
    /// <summary>The samples.</summary>
    public IReadOnlyList<MetricSample> Samples { get; set; } = Array.Empty<MetricSample>();
    /// <summary>How many samples.</summary>
    public int Count => Samples.Count;

    public override string ToString() => $"{Target} at {Timestamp:u}: {Samples.Count} samples";
}
