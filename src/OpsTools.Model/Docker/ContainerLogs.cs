namespace OpsTools.Docker;

/// <summary>One line of a container's log as Get-ContainerLog returns it: which container, which stream, when, what.</summary>
public sealed class ContainerLogLine
{
    /// <summary>The engine the container runs on.</summary>
    public string DockerHost { get; set; } = "";
    /// <summary>The container name (without the leading '/').</summary>
    public string Container { get; set; } = "";
    public string ContainerId { get; set; } = "";
    /// <summary>stdout or stderr.</summary>
    public string Stream { get; set; } = "stdout";
    /// <summary>When the container wrote it (the engine's timestamp, UTC).</summary>
    public DateTime? Time { get; set; }
    public string Line { get; set; } = "";
    /// <summary>Carries the engine to the next command in a pipeline (no secret).</summary>
    public string DockerId { get; set; } = "";
    public override string ToString() => Line;
}

/// <summary>
/// One container's resource use, as one line of <c>docker stats --no-stream</c> shows it, as a check result:
/// the status comes from the memory percent (MemoryWarningPercent / MemoryCriticalPercent, as host memory) and the
/// CPU percent (CpuWarningPercent).
/// </summary>
public sealed class ContainerStatResult : CheckResult
{
    /// <summary>The engine the container runs on.</summary>
    public string DockerHost { get; set; } = "";
    /// <summary>The container name (docker stats' NAME).</summary>
    public string Name { get; set; } = "";
    public string ContainerId { get; set; } = "";
    public string? ComposeProject { get; set; }
    public string? ComposeService { get; set; }
    /// <summary>CPU use in percent of one CPU (docker stats' CPU %: 200 = two CPUs busy).</summary>
    public double CpuPercent { get; set; }
    /// <summary>Online CPUs the engine reported (the scale of CpuPercent: at most OnlineCpus × 100).</summary>
    public int OnlineCpus { get; set; }
    /// <summary>Memory in use, without the page cache (usage − inactive_file, as docker stats computes MEM USAGE).</summary>
    public long MemoryUsedBytes { get; set; }
    /// <summary>The memory limit (--memory), else the host's memory (docker stats' LIMIT).</summary>
    public long MemoryLimitBytes { get; set; }
    /// <summary>MemoryUsedBytes / MemoryLimitBytes × 100 (docker stats' MEM %).</summary>
    public double MemoryPercent { get; set; }
    public long NetworkRxBytes { get; set; }
    public long NetworkTxBytes { get; set; }
    public long BlockReadBytes { get; set; }
    public long BlockWriteBytes { get; set; }
    /// <summary>Processes and threads in the container (docker stats' PIDS).</summary>
    public long Pids { get; set; }
    /// <summary>Carries the engine to the next command in a pipeline (no secret).</summary>
    public string DockerId { get; set; } = "";
    /// <summary>"12.5MiB / 64MiB", as docker stats' MEM USAGE / LIMIT.</summary>
    public string MemUsage => $"{ByteSize.Format(MemoryUsedBytes, ByteFormat.DockerBinary)} / {ByteSize.Format(MemoryLimitBytes, ByteFormat.DockerBinary)}";
    /// <summary>"1.2kB / 648B", as docker stats' NET I/O.</summary>
    public string NetIO => $"{ByteSize.Format(NetworkRxBytes, ByteFormat.DockerDecimal)} / {ByteSize.Format(NetworkTxBytes, ByteFormat.DockerDecimal)}";
    /// <summary>"0B / 4.1kB", as docker stats' BLOCK I/O.</summary>
    public string BlockIO => $"{ByteSize.Format(BlockReadBytes, ByteFormat.DockerDecimal)} / {ByteSize.Format(BlockWriteBytes, ByteFormat.DockerDecimal)}";
}
