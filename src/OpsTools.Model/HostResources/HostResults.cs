namespace OpsTools.HostResources;

/// <summary>Space on one mounted file system (what <c>df -h</c> shows).</summary>
public class DiskUsageResult : CheckResult
{
    /// <summary>Where the file system is mounted (a drive root on Windows).</summary>
    public string Mount { get; set; } = "";
    /// <summary>The path that was asked for (-Path, or an environment's Host.DiskMounts entry); null when every file system was listed.</summary>
    public string? Path { get; set; }
    /// <summary>The file system type (ext4, xfs, NTFS ...).</summary>
    public string FileSystem { get; set; } = "";
    /// <summary>The size of the file system in bytes.</summary>
    public long SizeBytes { get; set; }
    /// <summary>Bytes in use.</summary>
    public long UsedBytes { get; set; }
    /// <summary>Bytes available to unprivileged users (df's "Avail").</summary>
    public long FreeBytes { get; set; }
    /// <summary>Used share of the space available to users, as df computes Use%: used / (used + free) × 100.</summary>
    public double UsedPercent { get; set; }
    /// <summary>100 − UsedPercent.</summary>
    public double FreePercent { get; set; }
    /// <summary>SizeBytes in GiB, rounded to two places.</summary>
    public double SizeGB => Math.Round(SizeBytes / 1073741824.0, 2);
    /// <summary>FreeBytes in GiB, rounded to two places.</summary>
    public double FreeGB => Math.Round(FreeBytes / 1073741824.0, 2);
}

/// <summary>Physical memory and swap of the host (what <c>free</c> shows).</summary>
public class MemoryUsageResult : CheckResult
{
    /// <summary>Installed memory visible to the OS, in bytes.</summary>
    public long TotalBytes { get; set; }
    /// <summary>Memory that new work can use without swapping (MemAvailable on Linux), in bytes.</summary>
    public long AvailableBytes { get; set; }
    /// <summary>TotalBytes − AvailableBytes.</summary>
    public long UsedBytes { get; set; }
    /// <summary>UsedBytes / TotalBytes × 100.</summary>
    public double UsedPercent { get; set; }
    /// <summary>Swap size in bytes (0 when there is none).</summary>
    public long SwapTotalBytes { get; set; }
    /// <summary>Swap in use, in bytes.</summary>
    public long SwapUsedBytes { get; set; }
    /// <summary>TotalBytes in GiB, rounded to two places.</summary>
    public double TotalGB => Math.Round(TotalBytes / 1073741824.0, 2);
    /// <summary>AvailableBytes in GiB, rounded to two places.</summary>
    public double AvailableGB => Math.Round(AvailableBytes / 1073741824.0, 2);
}
