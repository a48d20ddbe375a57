namespace OpsTools.Backup;

/// <summary>What Invoke-BackupRetention decided (and did) for one entry of a backup store.</summary>
public enum RetentionAction
{
    /// <summary>Kept by the policy (see Reason).</summary>
    Keep,
    /// <summary>The policy removes it; not removed (yet): -WhatIf, or declined at a confirmation prompt.</summary>
    Remove,
    /// <summary>Removed: manifest first, then the archive.</summary>
    Removed,
    /// <summary>The policy removes it but the removal failed (see Reason; an error record was written too).</summary>
    Failed,
}

/// <summary>One backup (or leftover of an unfinished one) considered by Invoke-BackupRetention, with the decision and why.</summary>
public class RetentionDecision
{
    /// <summary>The backup's Id (&lt;name&gt;/&lt;time&gt;), or &lt;group&gt;/&lt;file&gt; for leftovers without a manifest.</summary>
    public string Id { get; set; } = "";
    /// <summary>The database or folder name the backups are grouped by.</summary>
    public string Name { get; set; } = "";
    /// <summary>When the backup ended (UTC); for leftovers, the last write time.</summary>
    public DateTime EndTime { get; set; }
    /// <summary>Age at the time the policy was applied.</summary>
    public TimeSpan Age { get; set; }
    /// <summary>The backup's verification state (Incomplete for orphan archives and stale temporary files).</summary>
    public BackupVerification Verification { get; set; }
    public RetentionAction Action { get; set; }
    /// <summary>Why: "older than 30 days", "kept: newest verified backup of app", ...</summary>
    public string Reason { get; set; } = "";
    /// <summary>The archive (file, or folder for pg_dump's directory format) or leftover.</summary>
    public string Path { get; set; } = "";
    /// <summary>The manifest beside it (may not exist for leftovers).</summary>
    public string ManifestPath { get; set; } = "";
    public long SizeBytes { get; set; }
    /// <summary>The backup store (root folder).</summary>
    public string Store { get; set; } = "";

    public override string ToString() => $"{Id}: {Action} ({Reason})";
}
