namespace OpsTools.Kubernetes;

/// <summary>One condition of a workload (Available, Progressing, ReplicaFailure ...).</summary>
public sealed class WorkloadCondition
{
    public string Type { get; set; } = "";
    public string Status { get; set; } = "";
    public string? Reason { get; set; }
    public string? Message { get; set; }
    public DateTime? LastTransitionTime { get; set; }
    public override string ToString() => $"{Type}={Status}{(Reason is null ? "" : $" ({Reason})")}";
}

/// <summary>A Deployment or StatefulSet as Get-Deployment returns it (the columns of <c>kubectl get deploy -o wide</c> and more).</summary>
public sealed class DeploymentInfo
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    /// <summary>Deployment or StatefulSet.</summary>
    public string Kind { get; set; } = "Deployment";
    public string Name { get; set; } = "";
    /// <summary>spec.replicas: what was asked for.</summary>
    public int DesiredReplicas { get; set; }
    /// <summary>status.replicas: pods that exist (old and new).</summary>
    public int CurrentReplicas { get; set; }
    public int ReadyReplicas { get; set; }
    public int UpdatedReplicas { get; set; }
    public int AvailableReplicas { get; set; }
    /// <summary>"ready/desired", as kubectl's READY column.</summary>
    public string Ready => $"{ReadyReplicas}/{DesiredReplicas}";
    /// <summary>Container images, in container order.</summary>
    public IReadOnlyList<string> Images { get => _images; set => _images = TextList.From(value); }
    private IReadOnlyList<string> _images = new TextList<string>();
    /// <summary>Container names, in container order.</summary>
    public IReadOnlyList<string> Containers { get => _containers; set => _containers = TextList.From(value); }
    private IReadOnlyList<string> _containers = new TextList<string>();
    /// <summary>The deployment.kubernetes.io/revision annotation (StatefulSet: the update revision).</summary>
    public string? Revision { get; set; }
    /// <summary>The rollout state by kubectl's rollout status rules.</summary>
    public RolloutState RolloutState { get; set; }
    public string RolloutMessage { get; set; } = "";
    /// <summary>spec.paused (Suspend-Rollout).</summary>
    public bool Paused { get; set; }
    public IReadOnlyList<WorkloadCondition> Conditions { get => _conditions; set => _conditions = TextList.From(value); }
    private IReadOnlyList<WorkloadCondition> _conditions = new TextList<WorkloadCondition>();
    /// <summary>The label selector of its pods, as text (app=web,tier=api).</summary>
    public string Selector { get; set; } = "";
    public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Annotations { get; set; } = new Dictionary<string, string>();
    public DateTime? Created { get; set; }
    public TimeSpan? Age => Created is null ? null : DateTime.UtcNow - Created.Value.ToUniversalTime();
    public long Generation { get; set; }
    public long ObservedGeneration { get; set; }
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    public override string ToString() => $"{Kind.ToLowerInvariant()}/{Name} {Ready}";
}
