namespace OpsTools.Kubernetes;

/// <summary>
/// One Kubernetes event (core/v1), as Get-ClusterEvent returns it and as Get-PodHealth attaches it to a pod:
/// the columns of <c>kubectl get events</c> (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE) and more.
/// </summary>
public sealed class ClusterEvent
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    /// <summary>The event object's own name.</summary>
    public string EventName { get; set; } = "";
    /// <summary>When it last happened: lastTimestamp, else eventTime, else firstTimestamp, else creationTimestamp (UTC).</summary>
    public DateTime? Time { get; set; }
    /// <summary>When it first happened (firstTimestamp, else eventTime), UTC.</summary>
    public DateTime? FirstTime { get; set; }
    /// <summary>Normal or Warning.</summary>
    public string Type { get; set; } = "";
    public string Reason { get; set; } = "";
    /// <summary>The kind of the object it is about (Pod, ReplicaSet, Deployment, Node ...).</summary>
    public string ObjectKind { get; set; } = "";
    /// <summary>The name of the object it is about.</summary>
    public string ObjectName { get; set; } = "";
    /// <summary>"pod/api-7d9f-x2k4", as kubectl's OBJECT column.</summary>
    public string Object => $"{ObjectKind.ToLowerInvariant()}/{ObjectName}";
    /// <summary>The part of the object, e.g. spec.containers{api}.</summary>
    public string? FieldPath { get; set; }
    public string Message { get; set; } = "";
    /// <summary>How many times it happened (the API folds repeats into one event).</summary>
    public int Count { get; set; } = 1;
    /// <summary>Who reported it: "kubelet, node-1", "default-scheduler", "deployment-controller".</summary>
    public string Source { get; set; } = "";
    /// <summary>How long ago it last happened.</summary>
    public TimeSpan? Age => Time is null ? null : DateTime.UtcNow - Time.Value.ToUniversalTime();
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    public override string ToString() => $"{Type} {Reason} {Object}: {Message}";
}

/// <summary>How a container ended last time (its lastState.terminated, or state.terminated).</summary>
public sealed class ContainerTermination
{
    public string Container { get; set; } = "";
    /// <summary>Error, OOMKilled, Completed, ContainerCannotRun ...</summary>
    public string? Reason { get; set; }
    public int ExitCode { get; set; }
    public int? Signal { get; set; }
    public string? Message { get; set; }
    public DateTime? StartedAt { get; set; }
    public DateTime? FinishedAt { get; set; }
    public override string ToString() => $"{Container}: exit {ExitCode} ({Reason ?? "?"}){(FinishedAt is null ? "" : $" at {FinishedAt.Value.ToUniversalTime():u}")}";
}

/// <summary>One container of a pod as Get-PodHealth sees it.</summary>
public sealed class PodContainerHealth
{
    public string Name { get; set; } = "";
    public string Image { get; set; } = "";
    /// <summary>True for an init container.</summary>
    public bool Init { get; set; }
    public bool Ready { get; set; }
    /// <summary>Running, Waiting or Terminated.</summary>
    public string State { get; set; } = "Waiting";
    /// <summary>The reason of the current state (CrashLoopBackOff, ImagePullBackOff, ContainerCreating, Completed ...).</summary>
    public string? Reason { get; set; }
    public string? Message { get; set; }
    /// <summary>restartCount: restarts since the pod was created.</summary>
    public int Restarts { get; set; }
    /// <summary>Restarts since -Since, at least (see <see cref="PodHealthResult.RestartsSince"/>); null without -Since.</summary>
    public int? RestartsSince { get; set; }
    /// <summary>True when <see cref="RestartsSince"/> is exact rather than a lower bound.</summary>
    public bool RestartsSinceExact { get; set; }
    /// <summary>The last termination (lastState.terminated, or state.terminated when it has ended); null if it never ended.</summary>
    public ContainerTermination? LastTermination { get; set; }
    public DateTime? StartedAt { get; set; }
    public override string ToString() => $"{Name} {State}{(Reason is null ? "" : $" ({Reason})")}, {Restarts} restarts";
}

/// <summary>
/// A pod turned into a diagnosis: what <c>kubectl get pods</c> shows (READY, STATUS, RESTARTS, AGE), what
/// <c>kubectl describe pod</c> makes you read (last termination, pending reason, warning events), and a
/// Status (Healthy, Warning, Critical) with a Diagnosis an admin can act on. It is a check result, so it
/// joins the checklists and Export-OpsReport as it is.
/// </summary>
public sealed class PodHealthResult : CheckResult
{
    public PodHealthResult()
    {
        Check = "PodHealth";
        Area = "Kubernetes";
    }

    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    /// <summary>The pod's name.</summary>
    public string Name { get; set; } = "";
    /// <summary>Pending, Running, Succeeded, Failed or Unknown.</summary>
    public string Phase { get; set; } = "";
    /// <summary>kubectl's STATUS column: Running, CrashLoopBackOff, ImagePullBackOff, OOMKilled, Pending, Completed, Terminating ...</summary>
    public string State { get; set; } = "";
    public int ReadyContainers { get; set; }
    public int TotalContainers { get; set; }
    /// <summary>"ready/total" containers, as kubectl's READY column.</summary>
    public string Ready => $"{ReadyContainers}/{TotalContainers}";
    /// <summary>Restarts of all containers since the pod was created.</summary>
    public int Restarts { get; set; }
    /// <summary>
    /// Restarts since -Since, at least. The API keeps only a restart count and the last termination of each
    /// container, not a restart history: when the last termination ended before -Since there was no restart
    /// since (0, exact); when the pod started after -Since every restart counts (exact); otherwise at least
    /// one restart happened since, perhaps all of them (<see cref="RestartsSinceExact"/> is false). Null without -Since.
    /// </summary>
    public int? RestartsSince { get; set; }
    /// <summary>True when <see cref="RestartsSince"/> is exact rather than a lower bound.</summary>
    public bool RestartsSinceExact { get; set; }
    /// <summary>The -Since time the restarts were counted from (UTC).</summary>
    public DateTime? Since { get; set; }
    /// <summary>A container is waiting in CrashLoopBackOff.</summary>
    public bool CrashLoopBackOff { get; set; }
    /// <summary>A container's last termination was OOMKilled (out of memory: exit code 137).</summary>
    public bool OomKilled { get; set; }
    /// <summary>A container's image cannot be pulled (ErrImagePull, ImagePullBackOff, InvalidImageName ...).</summary>
    public bool ImagePullError { get; set; }
    /// <summary>The scheduler found no node for it.</summary>
    public bool Unschedulable { get; set; }
    /// <summary>The most recent termination of any container (reason, exit code, finished at); null if none ended.</summary>
    public ContainerTermination? LastTermination { get; set; }
    /// <summary>Why a Pending pod is pending: Unschedulable, ContainerCreating, ImagePullBackOff ...</summary>
    public string? PendingReason { get; set; }
    /// <summary>The scheduler's (or the container's) message for <see cref="PendingReason"/>.</summary>
    public string? PendingMessage { get; set; }
    public string? Node { get; set; }
    public string? PodIP { get; set; }
    public DateTime? Created { get; set; }
    public TimeSpan? Age => Created is null ? null : DateTime.UtcNow - Created.Value.ToUniversalTime();
    /// <summary>The controller that owns it: "deployment/api" (through its ReplicaSet), "statefulset/db", "job/x" ...</summary>
    public string? Owner { get; set; }
    /// <summary>The deployment that owns it through a ReplicaSet, if any.</summary>
    public string? Deployment { get; set; }
    public IReadOnlyList<PodContainerHealth> Containers { get => _containers; set => _containers = TextList.From(value); }
    private IReadOnlyList<PodContainerHealth> _containers = new TextList<PodContainerHealth>();
    /// <summary>The warning events about this pod (newest last).</summary>
    public IReadOnlyList<ClusterEvent> Events { get => _events; set => _events = TextList.From(value); }
    private IReadOnlyList<ClusterEvent> _events = new TextList<ClusterEvent>();
    /// <summary>What is wrong and what to do (the same text as Message).</summary>
    public string Diagnosis => Message;
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    public override string ToString() => $"pod/{Name} {Ready} {State} {Status}: {Message}";
}

/// <summary>One line of a container's log, as Get-PodLog returns it (without -Raw).</summary>
public sealed class PodLogLine
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    public string Pod { get; set; } = "";
    public string Container { get; set; } = "";
    /// <summary>When the container wrote it (the kubelet's timestamp, UTC).</summary>
    public DateTime? Time { get; set; }
    public string Line { get; set; } = "";
    /// <summary>True for a line of the previous (terminated) container instance (-Previous).</summary>
    public bool Previous { get; set; }
    public override string ToString() => Line;
}

/// <summary>CPU and memory use with requests and limits: what a container's and a pod's usage share (a pod's figures are its containers' sums).</summary>
public abstract class ResourceFigures
{
    /// <summary>CPU in millicores (1000 = one core; kubectl top's CPU(cores) column).</summary>
    public double CpuMillicores { get; set; }
    /// <summary>Memory in bytes (kubectl top's MEMORY(bytes) column).</summary>
    public long MemoryBytes { get; set; }
    public double? CpuRequestMillicores { get; set; }
    public double? CpuLimitMillicores { get; set; }
    public long? MemoryRequestBytes { get; set; }
    public long? MemoryLimitBytes { get; set; }
    /// <summary>CPU use in percent of the CPU limit; null without a limit (for a pod: unless every container has one).</summary>
    public double? CpuPercentOfLimit { get; set; }
    /// <summary>Memory use in percent of the memory limit; null without a limit (for a pod: unless every container has one).</summary>
    public double? MemoryPercentOfLimit { get; set; }
}

/// <summary>CPU and memory use of one container (metrics.k8s.io), with its requests and limits.</summary>
public sealed class ContainerResourceUsage : ResourceFigures
{
    public string Name { get; set; } = "";
    public override string ToString() => $"{Name} {CpuMillicores:0}m {MemoryBytes / 1048576.0:0}Mi";
}

/// <summary>CPU and memory use of one pod (the runbooks' <c>oc top pods</c>), with requests, limits and percent of limit.</summary>
public sealed class PodResourceUsage : ResourceFigures
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    /// <summary>The pod's name.</summary>
    public string Name { get; set; } = "";
    /// <summary>When the metrics were sampled (UTC).</summary>
    public DateTime? Timestamp { get; set; }
    /// <summary>The sampling window.</summary>
    public TimeSpan? Window { get; set; }
    public IReadOnlyList<ContainerResourceUsage> Containers { get => _containers; set => _containers = TextList.From(value); }
    private IReadOnlyList<ContainerResourceUsage> _containers = new TextList<ContainerResourceUsage>();
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";
    public override string ToString() => $"pod/{Name} {CpuMillicores:0}m {MemoryBytes / 1048576.0:0}Mi";
}
