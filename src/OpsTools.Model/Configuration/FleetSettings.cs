namespace OpsTools.Configuration;

/// <summary>
/// The hosts an environment's checks run on through PowerShell remoting over SSH (<c>Fleet</c> section), read by
/// Invoke-FleetCheck -Environment. Key authentication only: the key file's passphrase, if any, belongs to ssh-agent.
/// </summary>
public sealed class FleetSettings
{
    /// <summary>Each host as <c>host</c>, <c>user@host</c>, <c>host:port</c> or <c>user@host:port</c>.</summary>
    public IReadOnlyList<string> Hosts { get; set; } = Array.Empty<string>();
    /// <summary>The SSH user for hosts that do not name one (default: ssh's own, the current user or ~/.ssh/config).</summary>
    public string? UserName { get; set; }
    /// <summary>The private key file (relative paths are relative to the environment file's folder).</summary>
    public string? KeyFilePath { get; set; }
    /// <summary>The SSH port for hosts that do not name one (default 22).</summary>
    public int? Port { get; set; }
    /// <summary>How many hosts run at once (default 32, as Invoke-Command).</summary>
    public int? ThrottleLimit { get; set; }
    /// <summary>How long one host may take, from its start, before it is stopped and reported Unknown (default 600 s).</summary>
    public double? TimeoutSec { get; set; }

    public override string ToString() => $"{Hosts.Count} host(s)";
}
