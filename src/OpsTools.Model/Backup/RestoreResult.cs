using OpsTools.Database;

namespace OpsTools.Backup;

/// <summary>What Restore-Backup did: where the backup now lives, what became of the database it replaced, and where the safety backup is.</summary>
public class RestoreResult : IDbIdentity
{
    /// <summary>The restored backup (&lt;name&gt;/&lt;stamp&gt;).</summary>
    public string BackupId { get; set; } = "";
    /// <summary>The database the restore was for (-Target, default the backup's database).</summary>
    public string Target { get; set; } = "";
    /// <summary>The database that now holds the restored data: Target after a swap, or the -AsDatabase name.</summary>
    public string RestoredAs { get; set; } = "";
    /// <summary>The target's previous state, kept renamed (&lt;target&gt;_pre_restore_&lt;stamp&gt;); null when nothing was replaced.</summary>
    public string? PreviousDatabase { get; set; }
    /// <summary>The archive of the safety backup taken of the target before the swap; null with -NoSafetyBackup, -AsDatabase, or no existing target.</summary>
    public string? SafetyBackupPath { get; set; }
    /// <summary>Tables whose exact row counts were compared with the manifest (all matched, or nothing was swapped).</summary>
    public int TablesVerified { get; set; }
    public TimeSpan Duration { get; set; }
    /// <summary>True only when the restored database is in place and verified.</summary>
    public bool Succeeded { get; set; }
    public string Message { get; set; } = "";
    /// <summary>The server as host:port/database (the restored database).</summary>
    public string Instance { get; set; } = "";
    public string Server { get; set; } = "";
    public int Port { get; set; }
    /// <summary>Same as RestoredAs, so the next database command in a pipeline binds to the restored database.</summary>
    public string Database { get; set; } = "";
    /// <summary>The connection settings of the run (no secret), for the next command in the pipeline.</summary>
    public string? ConnectionId { get; set; }
    public string? Environment { get; set; }

    public override string ToString() => $"{BackupId} -> {RestoredAs} ({(Succeeded ? "restored" : "FAILED")})";
}
