using OpsTools.Kubernetes;

namespace OpsTools;

/// <summary>
/// What Set-ReplicaCount did to one workload: the replica count before and after, and (with -Wait) how the
/// rollout ended. Platform-neutral: a Kubernetes Deployment or StatefulSet today, a Docker Compose service
/// later, with the same shape. Piping it back into Set-ReplicaCount binds Name, Namespace, Kind and
/// ClusterId, so "scale to zero, then back to what it was" is
/// <c>$before | Set-ReplicaCount -Replicas $before.PreviousReplicas</c>.
/// </summary>
public sealed class ScaleResult
{
    /// <summary>Kubernetes (Deployments, StatefulSets; OpenShift included).</summary>
    public string Platform { get; set; } = "Kubernetes";
    /// <summary>The kubeconfig context.</summary>
    public string Context { get; set; } = "";
    /// <summary>The namespace (OpenShift: project).</summary>
    public string Namespace { get; set; } = "";
    /// <summary>Deployment or StatefulSet.</summary>
    public string Kind { get; set; } = "Deployment";
    public string Name { get; set; } = "";
    /// <summary>spec.replicas before the command changed it (what to scale back to).</summary>
    public int PreviousReplicas { get; set; }
    /// <summary>spec.replicas the command set (-Replicas).</summary>
    public int DesiredReplicas { get; set; }
    /// <summary>Ready replicas when the command ended: after the rollout with -Wait, else as read when scaling.</summary>
    public int ReadyReplicas { get; set; }
    /// <summary>Available replicas when the command ended: after the rollout with -Wait, else as read when scaling.</summary>
    public int AvailableReplicas { get; set; }
    /// <summary>False when the workload already had the desired count (nothing was written).</summary>
    public bool Changed { get; set; }
    /// <summary>How the rollout ended (-Wait), else null.</summary>
    public RolloutStatus? Rollout { get; set; }
    /// <summary>The autoscaler (HorizontalPodAutoscaler) that targets the workload and will override a manual scale, if any.</summary>
    public string? Autoscaler { get; set; }
    /// <summary>Writes it took (more than 1: another client changed the workload meanwhile, 409 Conflict, re-read and retried).</summary>
    public int Attempts { get; set; }
    /// <summary>When the scale was written (UTC).</summary>
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    /// <summary>Complete, Progressing, Failed, TimedOut ... with -Wait; "Scaled" or "Unchanged" without.</summary>
    public string State => Rollout?.State.ToString() ?? (Changed ? "Scaled" : "Unchanged");

    public override string ToString() => $"{Kind.ToLowerInvariant()}/{Name}: {PreviousReplicas} -> {DesiredReplicas} ({State})";
}
