namespace OpsTools.Configuration;

/// <summary>A cleanup rule of an environment's <c>Logs</c> section: files in Path matching Include, older than OlderThanDays.</summary>
public sealed class LogCleanupRule
{
    public string Path { get; set; } = "";
    /// <summary>File-name patterns (find -name); default *.log, *.log.*, *.gz.</summary>
    public IReadOnlyList<string> Include { get; set; } = new[] { "*.log", "*.log.*", "*.gz" };
    public double OlderThanDays { get; set; } = 30;
    /// <summary>Also in subfolders (links never followed).</summary>
    public bool Recurse { get; set; }
    public override string ToString() => $"{Path} ({string.Join(", ", Include)}) older than {OlderThanDays} days";
}

/// <summary>The log sources an environment file names (<c>Logs</c> section) and what counts as an error.</summary>
public sealed class LogSettings
{
    /// <summary>Files, folders and globs (/app/logs/api-*.log*; rotated .gz included).</summary>
    public IReadOnlyList<string> Paths { get; set; } = Array.Empty<string>();
    /// <summary>Containers on the Docker section's engine (docker logs NAME).</summary>
    public IReadOnlyList<string> Containers { get; set; } = Array.Empty<string>();
    /// <summary>Deployments in the Kubernetes section's namespace (every pod's log).</summary>
    public IReadOnlyList<string> Deployments { get; set; } = Array.Empty<string>();
    /// <summary>systemd units read from the journal (journalctl -u).</summary>
    public IReadOnlyList<string> JournalUnits { get; set; } = Array.Empty<string>();
    /// <summary>journalctl -p for the units (default: every priority; the pattern decides).</summary>
    public string? JournalPriority { get; set; }
    /// <summary>The regular expression that makes a line an error (default 'error|critical|fatal', case-insensitive).</summary>
    public string? Pattern { get; set; }
    public bool CaseSensitive { get; set; }
    /// <summary>Named error classes: name = regular expression (Database = 'psycopg2|could not connect', Redis = 'redis.*(timeout|refused)').</summary>
    public IReadOnlyDictionary<string, string> Classes { get; set; } = new Dictionary<string, string>();
    /// <summary>What the weekly maintenance removes (Remove-OldLog).</summary>
    public IReadOnlyList<LogCleanupRule> Cleanup { get; set; } = Array.Empty<LogCleanupRule>();

    public override string ToString() => $"{Paths.Count} path(s), {Containers.Count} container(s), {Deployments.Count} deployment(s), {JournalUnits.Count} unit(s)";
}
