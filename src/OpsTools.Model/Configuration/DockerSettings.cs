namespace OpsTools.Configuration;

/// <summary>The Docker engine an environment file names (<c>Docker</c> section).</summary>
public sealed class DockerSettings
{
    /// <summary>The engine endpoint (unix:///var/run/docker.sock, tcp://host:2376, npipe://./pipe/docker_engine); default: DOCKER_HOST, the current Docker context, the platform's socket.</summary>
    public string? Host { get; set; }
    /// <summary>A Docker context name (docker context ls) instead of Host.</summary>
    public string? Context { get; set; }
    /// <summary>The Compose project the checks and scaling commands look at (com.docker.compose.project).</summary>
    public string? ComposeProject { get; set; }
    /// <summary>Folder with ca.pem, cert.pem, key.pem for tcp with TLS (DOCKER_CERT_PATH).</summary>
    public string? CertPath { get; set; }
    /// <summary>Verify the engine's certificate against ca.pem (DOCKER_TLS_VERIFY); default true when CertPath is set.</summary>
    public bool? TlsVerify { get; set; }

    public override string ToString() => Host ?? Context ?? "(default engine)";
}
