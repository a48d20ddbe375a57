namespace OpsTools.Backup;

/// <summary>What a backup is of.</summary>
public enum BackupKind
{
    /// <summary>A pg_dump archive of one PostgreSQL database.</summary>
    Database,
    /// <summary>A tar.gz of a folder (uploads, configuration).</summary>
    Directory,
}

/// <summary>How far a backup has been proven good.</summary>
public enum BackupVerification
{
    /// <summary>Written and checksummed at backup time, never tested since.</summary>
    Unverified = 0,
    /// <summary>Test-Backup -Quick passed: checksum matches and the archive's table of contents reads.</summary>
    ChecksumVerified = 1,
    /// <summary>A restore drill passed: restored into a scratch database and the row counts matched the manifest.</summary>
    RestoreVerified = 2,
    /// <summary>The last test failed (see LastTestMessage). Never used as a good backup.</summary>
    Failed = 3,
    /// <summary>The archive has no manifest, or the manifest does not match it: not a usable backup.</summary>
    Incomplete = 4,
}

/// <summary>One backup in a backup store: the archive and what its manifest says about it.</summary>
public class BackupInfo
{
    /// <summary>Stable identifier: &lt;name&gt;/&lt;yyyyMMddTHHmmssfffZ&gt;.</summary>
    public string Id { get; set; } = "";
    public BackupKind Kind { get; set; }
    /// <summary>The database name (Kind Database) or the folder's name (Kind Directory); backups are grouped by it.</summary>
    public string Name { get; set; } = "";
    /// <summary>For database backups: the database. Same as Name; there so pipelines bind -Database.</summary>
    public string? Database { get; set; }
    /// <summary>Full path of the archive (a file, or a folder for pg_dump's directory format).</summary>
    public string Path { get; set; } = "";
    /// <summary>Full path of the manifest (JSON) beside it.</summary>
    public string ManifestPath { get; set; } = "";
    /// <summary>The backup store (root folder) it belongs to.</summary>
    public string Store { get; set; } = "";
    /// <summary>custom, directory (pg_dump) or tar.gz.</summary>
    public string Format { get; set; } = "";
    public long SizeBytes { get; set; }
    /// <summary>SHA-256 of the archive (for directory format: of its files in name order), lowercase hex.</summary>
    public string Sha256 { get; set; } = "";
    public DateTime StartTime { get; set; }
    public DateTime EndTime { get; set; }
    public TimeSpan Duration => EndTime - StartTime;
    /// <summary>Age of the backup at the time it was listed.</summary>
    public TimeSpan Age => DateTime.UtcNow - EndTime;
    /// <summary>Source server (host:port) for database backups, or the source folder for directory backups.</summary>
    public string? Source { get; set; }
    public string? ServerVersion { get; set; }
    public string? PgDumpVersion { get; set; }
    public string OpsToolsVersion { get; set; } = "";
    /// <summary>The machine the backup ran on. (Not "Host": that would bind to -Server/-Host of the database
    /// commands when a backup is piped into them.)</summary>
    public string? MachineName { get; set; }
    /// <summary>OS user that ran it.</summary>
    public string? User { get; set; }
    /// <summary>Rows per table (schema.table) at backup time (estimates are never used: exact counts in the dump's snapshot).</summary>
    public IReadOnlyDictionary<string, long> RowCounts { get; set; } = new Dictionary<string, long>();
    /// <summary>Files (directory backups): count and total bytes of the source.</summary>
    public long? FileCount { get; set; }
    public BackupVerification Verification { get; set; }
    public DateTime? LastTestTime { get; set; }
    public string? LastTestMessage { get; set; }

    public override string ToString() => $"{Id} ({Format}, {SizeBytes} bytes, {Verification})";
}
