namespace OpsTools.Health;

/// <summary>Why a probe did not get a usable answer. <c>None</c> when it did.</summary>
public enum ProbeFailure
{
    None = 0,
    /// <summary>The host name did not resolve.</summary>
    NameResolution,
    /// <summary>Nothing listens on the port (connection refused).</summary>
    ConnectionRefused,
    /// <summary>The connection failed or was reset for another reason.</summary>
    Connection,
    /// <summary>No complete answer within the timeout.</summary>
    Timeout,
    /// <summary>The TLS handshake or certificate validation failed.</summary>
    Tls,
    /// <summary>The status code was not one of the expected ones.</summary>
    UnexpectedStatus,
    /// <summary>The body claimed to be JSON but could not be parsed.</summary>
    MalformedBody,
    /// <summary>The body reported the service (or a component) unhealthy.</summary>
    ReportedUnhealthy,
}

/// <summary>The result of probing one HTTP(S) health endpoint.</summary>
public class AppHealthResult : CheckResult
{
    /// <summary>The endpoint that was probed.</summary>
    public Uri? Uri { get; set; }

    /// <summary>The endpoint's name from the environment file, or its host and path.</summary>
    public string Name { get; set; } = "";

    /// <summary>The HTTP status code, when an answer came back.</summary>
    public int? StatusCode { get; set; }

    /// <summary>Time to the complete answer, in milliseconds.</summary>
    public double? LatencyMs { get; set; }

    /// <summary>The overall status the body reported (e.g. "healthy", "UP", "Degraded"), when it reported one.</summary>
    public string? ReportedStatus { get; set; }

    /// <summary>The body's content type.</summary>
    public string? ContentType { get; set; }

    /// <summary>The first part of a body that was not JSON (at most 200 characters).</summary>
    public string? BodyExcerpt { get; set; }

    /// <summary>Why no usable answer came back, or None.</summary>
    public ProbeFailure Failure { get; set; }

    /// <summary>The components the body listed, each as its own result.</summary>
    public IReadOnlyList<ComponentHealthResult> Components { get => _components; set => _components = TextList.From(value, c => $"{c.Component}={c.Status}"); }
    private IReadOnlyList<ComponentHealthResult> _components = new TextList<ComponentHealthResult>();
}

/// <summary>One component (database, cache, disk ...) reported by a health endpoint's body.</summary>
public class ComponentHealthResult : CheckResult
{
    /// <summary>The endpoint whose body listed this component.</summary>
    public Uri? Uri { get; set; }

    /// <summary>The name of the endpoint whose body listed this component (its AppHealthResult's Name).</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>
    /// The endpoint's name, as on its AppHealthResult (the same as Endpoint), so that Select-Object Name,
    /// Group-Object Name and Where-Object Name keep a component with the endpoint it belongs to.
    /// </summary>
    public string Name { get; set; } = "";

    /// <summary>The component's path in the body, nested names joined with '/', e.g. "db" or "redis/primary".</summary>
    public string Component { get; set; } = "";

    /// <summary>The status as the service wrote it.</summary>
    public string? ReportedStatus { get; set; }

    /// <summary>The component's other fields (details, description, data), flattened to text values.</summary>
    public IReadOnlyDictionary<string, string> Details { get => _details; set => _details = TextList.From(value); }
    private IReadOnlyDictionary<string, string> _details = new TextMap();
}
