namespace OpsTools.Configuration;

/// <summary>The environment file's <c>Backup</c> section.</summary>
public sealed class BackupSettings
{
    /// <summary>The backup store: a local or mounted folder.</summary>
    public string? Path { get; set; }
    /// <summary>Keep backups younger than this many days (runbooks: 30).</summary>
    public int? RetentionDays { get; set; }
    /// <summary>Keep at least this many newest backups of each database or folder.</summary>
    public int? KeepLast { get; set; }
    /// <summary>The daily check wants a backup younger than this many hours (default 26: a nightly backup plus slack).</summary>
    public double? MaxAgeHours { get; set; }
    /// <summary>Folders backed up with Backup-Directory (uploads ...).</summary>
    public IReadOnlyList<string> Directories { get; set; } = Array.Empty<string>();
    /// <summary>The mode of the files OpsTools writes into the store ("0600", the default; "0640" or "0660" for a backup group).</summary>
    public string? FileMode { get; set; }
}
