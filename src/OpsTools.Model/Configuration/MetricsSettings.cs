namespace OpsTools.Configuration;

/// <summary>How an environment file reaches one HTTP(S) service: URL, credentials by reference, certificate policy, timeout.</summary>
public abstract class HttpTargetSettings
{
    /// <summary>A short name (completion, results).</summary>
    public string Name { get; set; } = "";
    /// <summary>The absolute http or https URL.</summary>
    public Uri Uri { get; set; } = null!;
    /// <summary>Extra request headers (values are never shown).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; set; } = new Dictionary<string, string>();
    /// <summary>Name of an environment variable that holds a bearer token.</summary>
    public string? BearerTokenVariable { get; set; }
    /// <summary>Accept any server certificate (curl -k).</summary>
    public bool SkipCertificateCheck { get; set; }
    /// <summary>Timeout in seconds, when it differs from the command's.</summary>
    public double? TimeoutSec { get; set; }

    public override string ToString() => $"{Name} ({Uri})";
}

/// <summary>A named gauge or counter of an app's /metrics the environment wants judged (<c>Metrics[].Figures</c>).</summary>
public sealed class MetricFigureSettings
{
    /// <summary>The figure's name in results.</summary>
    public string Name { get; set; } = "";
    /// <summary>The sample name, e.g. <c>triage_queue_size</c>.</summary>
    public string Metric { get; set; } = "";
    /// <summary>Gauge (the value now, summed over matching series), Rate (per second over the window), Increase (over the window), or Growth (gauge change per second).</summary>
    public string Kind { get; set; } = "Gauge";
    /// <summary>Only series with these label values (wildcards allowed).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
    /// <summary>Above this: Warning.</summary>
    public double? Warning { get; set; }
    /// <summary>Above this: Critical.</summary>
    public double? Critical { get; set; }
}

/// <summary>An app's /metrics endpoint (<c>Metrics</c> section) and the names its figures are read from.</summary>
public sealed class MetricsEndpoint : HttpTargetSettings
{
    /// <summary>The request counter (default: http_requests_total, else the latency histogram's _count).</summary>
    public string? RequestMetric { get; set; }
    /// <summary>The latency histogram (default: http_request_duration_seconds).</summary>
    public string? LatencyMetric { get; set; }
    /// <summary>The label that holds the status code (default: status, else code).</summary>
    public string? StatusLabel { get; set; }
    /// <summary>The active-connections gauge (default: http_connections_active).</summary>
    public string? ConnectionsMetric { get; set; }
    /// <summary>Connections above which it warns (runbooks: database connections alert &gt; 15).</summary>
    public double? ConnectionsWarning { get; set; }
    /// <summary>Connections above which it is critical.</summary>
    public double? ConnectionsCritical { get; set; }
    /// <summary>The memory-in-use gauge, in bytes (default: process_resident_memory_bytes with MemoryLimitBytes; node_memory_* when exposed).</summary>
    public string? MemoryMetric { get; set; }
    /// <summary>The memory limit the memory gauge is a share of, in bytes.</summary>
    public double? MemoryLimitBytes { get; set; }
    /// <summary>Gauges and counters to judge.</summary>
    public IReadOnlyList<MetricFigureSettings> Figures { get; set; } = Array.Empty<MetricFigureSettings>();
}

/// <summary>A named PromQL check (<c>Prometheus.Checks</c>).</summary>
public sealed class PromCheckSettings
{
    public string Name { get; set; } = "";
    /// <summary>The PromQL expression.</summary>
    public string Query { get; set; } = "";
    /// <summary>Above this: Warning (or below, with Below = $true).</summary>
    public double? Warning { get; set; }
    /// <summary>Above this: Critical (or below, with Below = $true).</summary>
    public double? Critical { get; set; }
    /// <summary>Lower values are worse (availability, free space).</summary>
    public bool Below { get; set; }
    /// <summary>What an empty result means: Unknown (default), Healthy (e.g. "no 5xx series"), Warning or Critical.</summary>
    public CheckStatus IfEmpty { get; set; } = CheckStatus.Unknown;
    /// <summary>A unit for messages (%, s, ms ...).</summary>
    public string? Unit { get; set; }
}

/// <summary>The Prometheus server (<c>Prometheus</c> section): its URL, credentials by reference, named checks.</summary>
public sealed class PrometheusSettings : HttpTargetSettings
{
    public IReadOnlyList<PromCheckSettings> Checks { get; set; } = Array.Empty<PromCheckSettings>();
    /// <summary>Hours the daily check looks back for overnight alerts (default 12).</summary>
    public double? OvernightHours { get; set; }
    /// <summary>The PromQL selector of the app's series for the daily error-rate and p95 figures, e.g. <c>job="shop-api"</c>.</summary>
    public string? Selector { get; set; }
}

/// <summary>The Alertmanager (<c>Alertmanager</c> section).</summary>
public sealed class AlertmanagerSettings : HttpTargetSettings
{
}

/// <summary>A figure read from an app's JSON answer (<c>AppFigures</c> section).</summary>
public sealed class AppFigureSettings : HttpTargetSettings
{
    /// <summary>The property path, e.g. <c>.queue_size</c>, <c>.circuit_breakers.ai.state</c>, <c>.items[0].count</c>.</summary>
    public string Path { get; set; } = "";
    public double? Warning { get; set; }
    public double? Critical { get; set; }
    /// <summary>Lower values are worse.</summary>
    public bool Below { get; set; }
    /// <summary>For text values: the values that are healthy (e.g. 'closed'); anything else is <see cref="Otherwise"/>.</summary>
    public IReadOnlyList<string> Expected { get; set; } = Array.Empty<string>();
    /// <summary>The status of a text value not in Expected (default Critical).</summary>
    public CheckStatus Otherwise { get; set; } = CheckStatus.Critical;
}

/// <summary>A named app action (<c>AppActions</c> section), e.g. reset-circuit-breaker.</summary>
public sealed class AppActionSettings : HttpTargetSettings
{
    /// <summary>GET, POST, PUT, PATCH or DELETE (default POST).</summary>
    public string Method { get; set; } = "POST";
    /// <summary>A request body (JSON text), if any.</summary>
    public string? Body { get; set; }
    /// <summary>The body's content type (default application/json).</summary>
    public string? ContentType { get; set; }
    /// <summary>What the action does, for the confirmation prompt.</summary>
    public string? Description { get; set; }
}
