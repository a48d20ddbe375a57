namespace OpsTools.Backup;

/// <summary>How thoroughly Test-Backup tested a backup.</summary>
public enum BackupTestMode
{
    /// <summary>Checksum and size against the manifest, and pg_restore --list reads the archive (tar.gz: the archive reads to its end).</summary>
    Quick,
    /// <summary>The quick checks, then a restore into a scratch database, row counts compared with the manifest, scratch database dropped.</summary>
    Drill,
}

/// <summary>
/// What Test-Backup found for one backup. Healthy only when every check of the mode passed;
/// Critical when the backup is bad (the manifest then says Failed); Unknown when the test itself could
/// not run (no pg_restore, drill server unreachable) and says nothing about the backup.
/// </summary>
public class BackupTestResult : CheckResult
{
    public BackupTestResult()
    {
        Check = "BackupTest";
        Area = "Backup";
    }

    /// <summary>The backup's Id (&lt;name&gt;/&lt;yyyyMMddTHHmmssfffZ&gt;), or its archive path when it has no usable manifest.</summary>
    public string BackupId { get; set; } = "";
    /// <summary>The database (or folder) the backup is of, when known.</summary>
    public string? Name { get; set; }
    /// <summary>Full path of the archive tested.</summary>
    public string Path { get; set; } = "";
    /// <summary>Full path of the manifest beside it.</summary>
    public string ManifestPath { get; set; } = "";
    public BackupTestMode Mode { get; set; }
    /// <summary>The state now recorded in the manifest (null when it could not be recorded: no readable manifest, or the test could not run).</summary>
    public BackupVerification? Verification { get; set; }
    /// <summary>Size and SHA-256 of the archive match the manifest (null: not checked).</summary>
    public bool? ChecksumOk { get; set; }
    /// <summary>pg_restore --list read the archive and it holds data for every table of the manifest (null: not checked).</summary>
    public bool? ArchiveReadable { get; set; }
    /// <summary>Bytes hashed.</summary>
    public long BytesHashed { get; set; }
    /// <summary>Tables whose rows were counted in the scratch database (drill).</summary>
    public int TablesCompared { get; set; }
    /// <summary>Every difference found by the drill: "schema.table expected N got M", "schema.table missing from the restore", "schema.table not in the manifest".</summary>
    public List<string> TablesMismatched { get => _tablesMismatched; set => _tablesMismatched = TextList.From(value); }
    private List<string> _tablesMismatched = new TextList<string>();
    /// <summary>The scratch database the drill restored into (null for Quick).</summary>
    public string? ScratchDatabase { get; set; }
    /// <summary>The drill server (user@host:port), without secrets.</summary>
    public string? DrillServer { get; set; }
    /// <summary>The scratch database was dropped and is confirmed gone (null when none was created).</summary>
    public bool? ScratchDropped { get; set; }
    /// <summary>The pg_restore used.</summary>
    public string? PgRestore { get; set; }
}
