namespace OpsTools.Backup;

/// <summary>What Restore-Directory did: which archive went where, and where the previous content was kept.</summary>
public sealed class DirectoryRestoreResult
{
    /// <summary>The backup's identifier (&lt;name&gt;/&lt;yyyyMMddTHHmmssfffZ&gt;), from its manifest.</summary>
    public string BackupId { get; set; } = "";
    /// <summary>Full path of the tar.gz archive that was restored (the source).</summary>
    public string Archive { get; set; } = "";
    /// <summary>Full path of the manifest whose SHA-256 the archive was checked against.</summary>
    public string ManifestPath { get; set; } = "";
    /// <summary>The SHA-256 of the archive (checked before and during extraction).</summary>
    public string Sha256 { get; set; } = "";
    /// <summary>Full path of the folder that now holds the restored tree.</summary>
    public string Destination { get; set; } = "";
    /// <summary>Regular files restored (equal to the manifest's FileCount).</summary>
    public long FileCount { get; set; }
    /// <summary>Directories restored (not counting the destination itself).</summary>
    public long DirectoryCount { get; set; }
    /// <summary>Symbolic links restored.</summary>
    public long LinkCount { get; set; }
    /// <summary>Bytes of file content restored.</summary>
    public long Bytes { get; set; }
    /// <summary>Where the destination's previous content was moved (kept, never deleted), or null when the destination was missing or empty.</summary>
    public string? PreviousMovedTo { get; set; }
    public TimeSpan Duration { get; set; }
    /// <summary>When the restore finished (UTC).</summary>
    public DateTime Timestamp { get; set; }
    public string Message { get; set; } = "";

    public override string ToString() => Message;
}
