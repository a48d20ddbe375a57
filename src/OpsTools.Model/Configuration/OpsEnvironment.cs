namespace OpsTools.Configuration;

/// <summary>One HTTP(S) health endpoint named by an environment file.</summary>
public sealed class HealthEndpoint
{
    /// <summary>A short name for reports (defaults to host and path).</summary>
    public string Name { get; set; } = "";
    /// <summary>The absolute http or https URL to probe.</summary>
    public Uri Uri { get; set; } = null!;
    /// <summary>Status codes that count as an answer (default 200-299).</summary>
    public IReadOnlyList<int> ExpectedStatus { get; set; } = Array.Empty<int>();
    /// <summary>Extra request headers (values are never shown).</summary>
    public IReadOnlyDictionary<string, string> Headers { get; set; } = new Dictionary<string, string>();
    /// <summary>Name of an environment variable that holds a bearer token for this endpoint.</summary>
    public string? BearerTokenVariable { get; set; }
    /// <summary>Accept any server certificate (what <c>curl -k</c> does).</summary>
    public bool SkipCertificateCheck { get; set; }
    /// <summary>Per-endpoint timeout in seconds, when it differs from the command's.</summary>
    public double? TimeoutSec { get; set; }
    /// <summary>
    /// Why this endpoint cannot be probed as written (a value outside its allowed range, naming the file and the key), or null.
    /// An endpoint with a problem is one Unknown result; the other endpoints of the file are probed as usual.
    /// </summary>
    public string? Problem { get; set; }

    public override string ToString() => $"{Name} ({Uri})";
}

/// <summary>
/// One deployment's targets, read from a <c>*.ops.psd1</c> file as data (no code runs).
/// Sections that belong to areas not covered by a typed property are kept as read, in <see cref="Sections"/>.
/// </summary>
public sealed class OpsEnvironment
{
    /// <summary>The environment's name (the file's <c>Name</c>, or its file name without <c>.ops.psd1</c>).</summary>
    public string Name { get; set; } = "";
    /// <summary>The full path of the file it was read from.</summary>
    public string? Path { get; set; }
    /// <summary>Health endpoints to probe (<c>AppHealth</c>).</summary>
    public IReadOnlyList<HealthEndpoint> AppHealth { get; set; } = Array.Empty<HealthEndpoint>();
    /// <summary>Mount points the disk check looks at (<c>Host.DiskMounts</c>); empty means every real file system.</summary>
    public IReadOnlyList<string> DiskMounts { get; set; } = Array.Empty<string>();
    /// <summary>PostgreSQL databases (<c>Databases</c>).</summary>
    public IReadOnlyList<DatabaseEndpoint> Databases { get; set; } = Array.Empty<DatabaseEndpoint>();
    /// <summary>The backup store and retention (<c>Backup</c>), or null when the file has none.</summary>
    public BackupSettings? Backup { get; set; }
    /// <summary>The Kubernetes/OpenShift cluster and namespace (<c>Kubernetes</c>), or null when the file has none.</summary>
    public KubernetesSettings? Kubernetes { get; set; }
    /// <summary>The Docker engine and Compose project (<c>Docker</c>), or null when the file has none.</summary>
    public DockerSettings? Docker { get; set; }
    /// <summary>The apps' /metrics endpoints (<c>Metrics</c>).</summary>
    public IReadOnlyList<MetricsEndpoint> Metrics { get; set; } = Array.Empty<MetricsEndpoint>();
    /// <summary>The Prometheus server and its named checks (<c>Prometheus</c>), or null.</summary>
    public PrometheusSettings? Prometheus { get; set; }
    /// <summary>The Alertmanager (<c>Alertmanager</c>), or null.</summary>
    public AlertmanagerSettings? Alertmanager { get; set; }
    /// <summary>Figures read from the apps' own JSON answers (<c>AppFigures</c>).</summary>
    public IReadOnlyList<AppFigureSettings> AppFigures { get; set; } = Array.Empty<AppFigureSettings>();
    /// <summary>Named app actions (<c>AppActions</c>).</summary>
    public IReadOnlyList<AppActionSettings> AppActions { get; set; } = Array.Empty<AppActionSettings>();
    /// <summary>The Redis server (<c>Redis</c>), or null when the file has none.</summary>
    public RedisSettings? Redis { get; set; }
    /// <summary>Queues whose size the daily check reads from the Redis server (<c>Queues</c>).</summary>
    public IReadOnlyList<QueueEntry> Queues { get; set; } = Array.Empty<QueueEntry>();
    /// <summary>The PgBouncer admin console (<c>PgBouncer</c>), or null when the file has none.</summary>
    public PgBouncerSettings? PgBouncer { get; set; }
    /// <summary>Log sources, error classes and cleanup rules (<c>Logs</c>), or null when the file has none.</summary>
    public LogSettings? Logs { get; set; }
    /// <summary>Certificates to check: endpoints, files, Kubernetes (<c>Certificates</c>), or null when the file has none.</summary>
    public CertificateSettings? Certificates { get; set; }
    /// <summary>Where incident folders live and who is told (<c>Incidents</c>), or null when the file has none.</summary>
    public IncidentSettings? Incidents { get; set; }

    /// <summary>The hosts Invoke-FleetCheck -Environment runs on (<c>Fleet</c>), or null when the file has none.</summary>
    public FleetSettings? Fleet { get; set; }
    /// <summary>Where and when to tell people: notification targets, default target and level, state file (<c>Notifications</c>), or null.</summary>
    public NotificationSettings? Notifications { get; set; }
    /// <summary>Thresholds: the runbook defaults with the file's overrides applied.</summary>
    public ThresholdSet Thresholds { get; set; } = new();
    /// <summary>Every top-level section of the file as read (Databases, Kubernetes, Docker, Logs, Backup ...).</summary>
    public IReadOnlyDictionary<string, object?> Sections { get; set; } = new Dictionary<string, object?>();

    public override string ToString() => Path is null ? Name : $"{Name} ({Path})";
}
