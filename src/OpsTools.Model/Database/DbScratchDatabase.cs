namespace OpsTools.Database;

/// <summary>
/// A scratch database OpsTools creates on a server (Restore-Backup's &lt;target&gt;_restore_&lt;stamp&gt;, the restore
/// drill's opstools_drill_&lt;name&gt;_&lt;random&gt;), as Get-DbScratchDatabase lists it and Remove-DbScratchDatabase drops it.
/// </summary>
public class DbScratchDatabase : IDbIdentity
{
    /// <summary>The environment entry's name, or host:port/database.</summary>
    public string Instance { get; set; } = "";
    public string Server { get; set; } = "";
    public int Port { get; set; }
    /// <summary>The database the command connected to (never the scratch database itself).</summary>
    public string Database { get; set; } = "";
    public string? ConnectionId { get; set; }

    /// <summary>The scratch database's name.</summary>
    public string Name { get; set; } = "";
    /// <summary>Restore (Restore-Backup's new database before the swap) or Drill (Test-Backup's restore drill).</summary>
    public string Kind { get; set; } = "";
    /// <summary>The database it was restored for (Restore: the name before _restore_; Drill: the backup's name as the drill spelled it).</summary>
    public string? For { get; set; }
    /// <summary>pg_database_size; null when the role may not connect to it.</summary>
    public long? SizeBytes { get; set; }
    /// <summary>When it was created (UTC), from the stamp in its name (Restore); null for drills (their name has no time).</summary>
    public DateTime? Created { get; set; }
    /// <summary>now − Created.</summary>
    public TimeSpan? Age { get; set; }
    /// <summary>Owned (a running OpsTools holds its advisory lock), InUse (no owner, but sessions are connected to it), Orphaned (neither: safe to drop), Dropped.</summary>
    public DbScratchState State { get; set; }
    /// <summary>The owner's server session: the backend pid holding the scratch lock; null without an owner.</summary>
    public int? OwnerSession { get; set; }
    /// <summary>The owner's application_name ("OpsTools Restore-Backup (pid 4242 on host1)").</summary>
    public string? OwnerApplication { get; set; }
    /// <summary>The process id of the OpsTools process that owns it (from its application_name); null without an owner.</summary>
    public int? OwnerProcessId { get; set; }
    /// <summary>The host the owner process runs on (from its application_name).</summary>
    public string? OwnerHost { get; set; }
    /// <summary>Sessions connected to the scratch database now (a running pg_restore, someone looking at it).</summary>
    public int Sessions { get; set; }
    /// <summary>Remove-DbScratchDatabase dropped it (confirmed gone from pg_database).</summary>
    public bool Dropped { get; set; }
    /// <summary>Why it is in this state, and what to do.</summary>
    public string Message { get; set; } = "";

    /// <summary>Orphaned: no running OpsTools owns it and nobody is connected.</summary>
    public bool IsOrphan => State == DbScratchState.Orphaned;

    public override string ToString() => $"{Name} {State}";
}

/// <summary>Who a scratch database belongs to.</summary>
public enum DbScratchState
{
    /// <summary>A running OpsTools (Restore-Backup, Test-Backup -Drill) holds its advisory lock: never dropped.</summary>
    Owned,
    /// <summary>No owner, but sessions are connected to it: not dropped (someone uses it).</summary>
    InUse,
    /// <summary>No owner and nobody connected: left behind by a killed host or a dead server; safe to drop.</summary>
    Orphaned,
    /// <summary>Dropped by Remove-DbScratchDatabase.</summary>
    Dropped,
}
