namespace OpsTools.Kubernetes;

/// <summary>
/// One revision of a Deployment (from its ReplicaSets) or StatefulSet (from its ControllerRevisions), as
/// Get-RolloutHistory returns it: the columns of <c>kubectl rollout history</c> and the images.
/// </summary>
public sealed class RolloutRevision
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    /// <summary>Deployment or StatefulSet.</summary>
    public string Kind { get; set; } = "Deployment";
    /// <summary>The Deployment's (StatefulSet's) name.</summary>
    public string Name { get; set; } = "";
    /// <summary>The deployment.kubernetes.io/revision annotation of the ReplicaSet (the ControllerRevision's revision).</summary>
    public long Revision { get; set; }
    /// <summary>The kubernetes.io/change-cause annotation: what made this revision (Set-DeploymentImage records it).</summary>
    public string? ChangeCause { get; set; }
    /// <summary>Container images of the revision's pod template, in container order.</summary>
    public IReadOnlyList<string> Images { get => _images; set => _images = TextList.From(value); }
    private IReadOnlyList<string> _images = new TextList<string>();
    /// <summary>Container names, in container order.</summary>
    public IReadOnlyList<string> Containers { get => _containers; set => _containers = TextList.From(value); }
    private IReadOnlyList<string> _containers = new TextList<string>();
    /// <summary>True for the revision the workload runs now (its pod template).</summary>
    public bool IsCurrent { get; set; }
    /// <summary>Replicas the ReplicaSet is set to (0 for old revisions); null for StatefulSet revisions.</summary>
    public int? Replicas { get; set; }
    /// <summary>Ready pods of the ReplicaSet; null for StatefulSet revisions.</summary>
    public int? ReadyReplicas { get; set; }
    /// <summary>The ReplicaSet (ControllerRevision) that holds the revision.</summary>
    public string Source { get; set; } = "";
    public DateTime? Created { get; set; }
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    public override string ToString() => $"{Kind.ToLowerInvariant()}/{Name} revision {Revision}{(IsCurrent ? " (current)" : "")}: {string.Join(",", Images)}";
}

/// <summary>One thing a command changed (or would change): a container's image, a resource, an env var, an annotation, spec.paused.</summary>
public sealed class WorkloadChangeItem
{
    /// <summary>The container (null for changes of the workload itself: annotations, labels, spec.paused).</summary>
    public string? Container { get; set; }
    /// <summary>What changed: image, requests.cpu, limits.memory, env DB_POOL_MIN, annotation x, label y, template annotation z, paused.</summary>
    public string Item { get; set; } = "";
    /// <summary>The value before (null: not set). Secret-looking env values are shown as ***.</summary>
    public string? Before { get; set; }
    /// <summary>The value after (null: removed). Secret-looking env values are shown as ***.</summary>
    public string? After { get; set; }

    public override string ToString() =>
        $"{(Container is null ? "" : Container + ": ")}{Item} {Before ?? "(none)"} -> {After ?? "(removed)"}";
}

/// <summary>
/// What Set-DeploymentImage, Set-DeploymentResource, Set-DeploymentEnv, Set-DeploymentAnnotation,
/// Suspend-Rollout and Resume-Rollout did to one Deployment or StatefulSet: the changes (before/after),
/// the resulting annotations and labels, and with -Wait the rollout state.
/// </summary>
public sealed class WorkloadChangeResult
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    /// <summary>Deployment or StatefulSet.</summary>
    public string Kind { get; set; } = "Deployment";
    public string Name { get; set; } = "";
    /// <summary>The command's operation (SetImage, SetResource, SetEnv, SetAnnotation, Suspend, Resume).</summary>
    public string Operation { get; set; } = "";
    /// <summary>True when the workload was written (false: nothing to change, or -WhatIf).</summary>
    public bool Changed { get; set; }
    /// <summary>The changes, one per container and item (what would change with -WhatIf).</summary>
    public IReadOnlyList<WorkloadChangeItem> Changes { get => _changes; set => _changes = TextList.From(value); }
    private IReadOnlyList<WorkloadChangeItem> _changes = new TextList<WorkloadChangeItem>();
    /// <summary>True when the change is to the pod template: it starts a rollout (new pods).</summary>
    public bool RestartsPods { get; set; }
    /// <summary>The kubernetes.io/change-cause recorded (shown by Get-RolloutHistory).</summary>
    public string? ChangeCause { get; set; }
    /// <summary>Container images after the change, in container order.</summary>
    public IReadOnlyList<string> Images { get => _images; set => _images = TextList.From(value); }
    private IReadOnlyList<string> _images = new TextList<string>();
    /// <summary>The workload's annotations after the change.</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; set; } = new Dictionary<string, string>();
    /// <summary>The workload's labels after the change.</summary>
    public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
    /// <summary>The pod template's annotations after the change.</summary>
    public IReadOnlyDictionary<string, string> TemplateAnnotations { get; set; } = new Dictionary<string, string>();
    /// <summary>The pod template's labels after the change.</summary>
    public IReadOnlyDictionary<string, string> TemplateLabels { get; set; } = new Dictionary<string, string>();
    /// <summary>With -Wait: the rollout state at the end of the wait (TimedOut when -TimeoutSec passed first).</summary>
    public RolloutStatus? Rollout { get; set; }
    /// <summary>Rollout?.State, for Where-Object.</summary>
    public RolloutState? RolloutState => Rollout?.State;
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    public override string ToString() =>
        $"{Kind.ToLowerInvariant()}/{Name}: {(Changes.Count == 0 ? "no change" : string.Join("; ", Changes))}";
}

/// <summary>What Undo-Rollout did: the revision rolled back from and to, with images, and with -Wait the rollout state.</summary>
public sealed class RolloutUndoResult
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    public string Kind { get; set; } = "Deployment";
    public string Name { get; set; } = "";
    /// <summary>The revision running before the undo.</summary>
    public long FromRevision { get; set; }
    /// <summary>The revision whose pod template was put back (the deployment controller then gives it a new, higher revision number, as with kubectl).</summary>
    public long ToRevision { get; set; }
    public IReadOnlyList<string> FromImages { get => _fromImages; set => _fromImages = TextList.From(value); }
    private IReadOnlyList<string> _fromImages = new TextList<string>();
    public IReadOnlyList<string> ToImages { get => _toImages; set => _toImages = TextList.From(value); }
    private IReadOnlyList<string> _toImages = new TextList<string>();
    /// <summary>The change cause that comes back with the revision (its kubernetes.io/change-cause).</summary>
    public string? ChangeCause { get; set; }
    /// <summary>True when the deployment was written (false with -WhatIf, or when it already runs that template).</summary>
    public bool Changed { get; set; }
    public string Message { get; set; } = "";
    /// <summary>With -Wait: the rollout state at the end of the wait; its Revision is the new revision number.</summary>
    public RolloutStatus? Rollout { get; set; }
    public RolloutState? RolloutState => Rollout?.State;
    public string ClusterId { get; set; } = "";

    public override string ToString() => $"{Kind.ToLowerInvariant()}/{Name}: {Message}";
}
