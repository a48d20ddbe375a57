namespace OpsTools.Kubernetes;

/// <summary>Where a rollout stands, by the rules of <c>kubectl rollout status</c>.</summary>
public enum RolloutState
{
    /// <summary>Every replica is updated and available, no old replica is left.</summary>
    Complete,
    /// <summary>Still rolling out (or the controller has not seen the change yet).</summary>
    Progressing,
    /// <summary>The rollout is paused (Suspend-Rollout): it will not progress until resumed.</summary>
    Paused,
    /// <summary>The controller gave up: ProgressDeadlineExceeded.</summary>
    Failed,
    /// <summary>The wait ended (-TimeoutSec) before the rollout completed; it may still complete later.</summary>
    TimedOut,
}

/// <summary>
/// The state of one Deployment's or StatefulSet's rollout: what Wait-Rollout returns, and what
/// Set-ReplicaCount, Restart-Deployment and the rollout commands return with -Wait.
/// </summary>
public sealed class RolloutStatus
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    /// <summary>Deployment or StatefulSet.</summary>
    public string Kind { get; set; } = "Deployment";
    public string Name { get; set; } = "";
    public RolloutState State { get; set; }
    /// <summary>kubectl's words for the state, e.g. "Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...".</summary>
    public string Message { get; set; } = "";
    /// <summary>True when <see cref="State"/> is Complete.</summary>
    public bool IsComplete => State == RolloutState.Complete;
    public int DesiredReplicas { get; set; }
    public int UpdatedReplicas { get; set; }
    public int ReadyReplicas { get; set; }
    public int AvailableReplicas { get; set; }
    /// <summary>All pods the workload has (old and new).</summary>
    public int CurrentReplicas { get; set; }
    /// <summary>The deployment.kubernetes.io/revision annotation (StatefulSet: the update revision).</summary>
    public string? Revision { get; set; }
    /// <summary>How long the wait took (zero when not waited).</summary>
    public TimeSpan Waited { get; set; }
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    public override string ToString() => $"{Kind.ToLowerInvariant()}/{Name}: {State} ({Message})";
}
