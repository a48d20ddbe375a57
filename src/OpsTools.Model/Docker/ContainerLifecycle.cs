namespace OpsTools.Docker;

/// <summary>
/// A container turned into a check result (Get-ContainerHealth): unhealthy (with the last health-check output),
/// restarting, exited with a non-zero code, OOM killed, restart count growing. It is a check result, so it joins
/// the checklists and Export-OpsReport as it is.
/// </summary>
public sealed class ContainerHealthResult : CheckResult
{
    public ContainerHealthResult()
    {
        Check = "ContainerHealth";
        Area = "Docker";
    }

    /// <summary>The engine it runs on.</summary>
    public string DockerHost { get; set; } = "";
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string? ComposeProject { get; set; }
    public string? ComposeService { get; set; }
    public string Image { get; set; } = "";
    /// <summary>created, running, paused, restarting, removing, exited, dead.</summary>
    public string State { get; set; } = "";
    /// <summary>docker ps's STATUS text.</summary>
    public string ContainerStatus { get; set; } = "";
    /// <summary>healthy, unhealthy, starting, or none (no health check).</summary>
    public string Health { get; set; } = "none";
    /// <summary>The output of the last health check.</summary>
    public string? LastHealthOutput { get; set; }
    public int HealthFailingStreak { get; set; }
    /// <summary>How many times the engine restarted it since it was created (restart policy).</summary>
    public long RestartCount { get; set; }
    /// <summary>The restart count of the baseline (-Baseline / -PreviousRestartCount); null without one.</summary>
    public long? PreviousRestartCount { get; set; }
    /// <summary>Restarts since the baseline (RestartCount - PreviousRestartCount); null without a baseline.</summary>
    public long? RestartsSinceBaseline { get; set; }
    /// <summary>True when the container (re)started after -Since and has restarted before: at least one restart since then.</summary>
    public bool RestartedSince { get; set; }
    public long? ExitCode { get; set; }
    public bool OomKilled { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public TimeSpan? Uptime { get; set; }
    public string? RestartPolicy { get; set; }
    /// <summary>What is wrong and what to do (the same text as Message).</summary>
    public string Diagnosis => Message;
    /// <summary>Carries the engine to the next command in a pipeline (no secret).</summary>
    public string DockerId { get; set; } = "";

    public override string ToString() => $"{Name} {State} {Health} {Status}: {Message}";
}

/// <summary>What Start-Container, Stop-Container and Restart-Container did to one container: before and after.</summary>
public sealed class ContainerActionResult
{
    public string DockerHost { get; set; } = "";
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string? ComposeProject { get; set; }
    public string? ComposeService { get; set; }
    /// <summary>Start, Stop or Restart.</summary>
    public string Action { get; set; } = "";
    public string StateBefore { get; set; } = "";
    public string HealthBefore { get; set; } = "none";
    public DateTime? StartedAtBefore { get; set; }
    /// <summary>The state after the command (and after -Wait).</summary>
    public string State { get; set; } = "";
    public string Health { get; set; } = "none";
    public DateTime? StartedAt { get; set; }
    public long RestartCount { get; set; }
    public long? ExitCode { get; set; }
    /// <summary>The output of the last health check after the command.</summary>
    public string? LastHealthOutput { get; set; }
    /// <summary>True when -Wait was given.</summary>
    public bool Waited { get; set; }
    /// <summary>True when -Wait ended without the container becoming healthy (or running, without a health check) within -TimeoutSec.</summary>
    public bool TimedOut { get; set; }
    /// <summary>How long the command took (including -Wait).</summary>
    public TimeSpan Elapsed { get; set; }
    /// <summary>The container after the command, as Get-Container returns it.</summary>
    public ContainerInfo? Container { get; set; }
    /// <summary>Carries the engine to the next command in a pipeline (no secret).</summary>
    public string DockerId { get; set; } = "";

    public override string ToString() => $"{Action} {Name}: {StateBefore}/{HealthBefore} -> {State}/{Health}{(TimedOut ? " (timed out)" : "")}";
}
