namespace OpsTools.Docker;

/// <summary>A published port: what <c>docker ps</c> shows as 0.0.0.0:8080->80/tcp.</summary>
public sealed class ContainerPort
{
    public string? HostIp { get; set; }
    public int? HostPort { get; set; }
    public int PrivatePort { get; set; }
    public string Protocol { get; set; } = "tcp";
    public override string ToString() => HostPort is null ? $"{PrivatePort}/{Protocol}" : $"{HostIp ?? "0.0.0.0"}:{HostPort}->{PrivatePort}/{Protocol}";
}

/// <summary>One container as Get-Container returns it: what <c>docker ps</c> and <c>docker inspect</c> say, as an object.</summary>
public sealed class ContainerInfo
{
    /// <summary>The engine it runs on (unix:///var/run/docker.sock ...).</summary>
    public string DockerHost { get; set; } = "";
    public string Id { get; set; } = "";
    /// <summary>The container name without the leading '/'.</summary>
    public string Name { get; set; } = "";
    /// <summary>com.docker.compose.project, or null for a container outside Compose.</summary>
    public string? ComposeProject { get; set; }
    /// <summary>com.docker.compose.service.</summary>
    public string? ComposeService { get; set; }
    /// <summary>com.docker.compose.container-number (api_1, api_2 ...).</summary>
    public int? ComposeNumber { get; set; }
    public string Image { get; set; } = "";
    public string? ImageId { get; set; }
    /// <summary>created, running, paused, restarting, removing, exited, dead.</summary>
    public string State { get; set; } = "";
    /// <summary>docker ps's STATUS text ("Up 2 hours (healthy)").</summary>
    public string Status { get; set; } = "";
    /// <summary>healthy, unhealthy, starting, or none (no health check).</summary>
    public string Health { get; set; } = "none";
    /// <summary>The output of the last health check (trimmed), when there is one.</summary>
    public string? LastHealthOutput { get; set; }
    /// <summary>Consecutive failed health checks.</summary>
    public int HealthFailingStreak { get; set; }
    /// <summary>How many times the engine restarted it (restart policy).</summary>
    public long RestartCount { get; set; }
    /// <summary>The exit code of the last run (for exited containers).</summary>
    public long? ExitCode { get; set; }
    public bool OomKilled { get; set; }
    public DateTime? Created { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    /// <summary>Time since it started (running containers only).</summary>
    public TimeSpan? Uptime { get; set; }
    public IReadOnlyList<ContainerPort> Ports { get => _ports; set => _ports = TextList.From(value); }
    private IReadOnlyList<ContainerPort> _ports = new TextList<ContainerPort>();
    public IReadOnlyList<string> Networks { get => _networks; set => _networks = TextList.From(value); }
    private IReadOnlyList<string> _networks = new TextList<string>();
    public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
    /// <summary>The restart policy (no, always, unless-stopped, on-failure).</summary>
    public string? RestartPolicy { get; set; }
    /// <summary>Carries the engine to the next command in a pipeline (no secret).</summary>
    public string DockerId { get; set; } = "";

    public override string ToString() => $"{Name} ({State}{(Health == "none" ? "" : ", " + Health)})";
}
