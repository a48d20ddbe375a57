namespace OpsTools.Configuration;

/// <summary>One TLS endpoint an environment file names (<c>Certificates.Endpoints</c>).</summary>
public sealed class CertificateEndpoint
{
    /// <summary>host:port or a URL (https://, postgres://, smtp://).</summary>
    public string Endpoint { get; set; } = "";
    /// <summary>The SNI name when it differs from the host.</summary>
    public string? ServerName { get; set; }
    /// <summary>None, Postgres or Smtp (default: from the URL scheme).</summary>
    public string? StartTls { get; set; }
    /// <summary>The label whose thresholds apply.</summary>
    public string? Label { get; set; }

    public override string ToString() => Endpoint;
}

/// <summary>A certificate file or folder an environment file names (<c>Certificates.Paths</c>).</summary>
public sealed class CertificatePath
{
    public string Path { get; set; } = "";
    /// <summary>Folders: look in sub-folders too (default true).</summary>
    public bool Recurse { get; set; } = true;
    /// <summary>Environment variable that holds the PFX/PKCS#12 password.</summary>
    public string? PasswordVariable { get; set; }
    /// <summary>The label whose thresholds apply.</summary>
    public string? Label { get; set; }

    public override string ToString() => Path;
}

/// <summary>Expiry thresholds in days for one label.</summary>
public sealed class CertificateLabelThresholds
{
    public double? WarningDays { get; set; }
    public double? CriticalDays { get; set; }
}

/// <summary>The certificates of one environment (<c>Certificates</c> section).</summary>
public sealed class CertificateSettings
{
    /// <summary>TLS endpoints whose served certificates are checked.</summary>
    public IReadOnlyList<CertificateEndpoint> Endpoints { get; set; } = Array.Empty<CertificateEndpoint>();
    /// <summary>Certificate files and folders.</summary>
    public IReadOnlyList<CertificatePath> Paths { get; set; } = Array.Empty<CertificatePath>();
    /// <summary>A PEM file of CA certificates to trust instead of the system store.</summary>
    public string? CaFile { get; set; }
    /// <summary>Check the TLS secrets and cert-manager Certificates of the Kubernetes section's namespace.</summary>
    public bool Kubernetes { get; set; }
    /// <summary>Per-label thresholds (e.g. manual = @{ WarningDays = 45; CriticalDays = 14 }).</summary>
    public IReadOnlyDictionary<string, CertificateLabelThresholds> Labels { get; set; } = new Dictionary<string, CertificateLabelThresholds>(StringComparer.OrdinalIgnoreCase);

    public override string ToString() => $"{Endpoints.Count} endpoint(s), {Paths.Count} path(s){(Kubernetes ? ", Kubernetes" : "")}";
}
