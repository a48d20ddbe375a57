using k8s;
using k8s.Models;

namespace OpsTools.Engine.Kubernetes;

/// <summary>The state of a workload as read before scaling it.</summary>
public sealed record WorkloadReplicas(string Kind, string Name, int Replicas, int ReadyReplicas, int AvailableReplicas, string ResourceVersion);

/// <summary>
/// Scaling through the scale subresource (deployments/scale, statefulsets/scale), as <c>kubectl scale</c> and
/// <c>oc scale</c> do, with optimistic concurrency: the write carries the resourceVersion that was read, so
/// a change made meanwhile by another client (409 Conflict) is read again and the write retried, and the
/// count reported as "before" is the one really replaced.
/// </summary>
public static class KubeScale
{
    /// <summary>Writes tried before a run of 409 Conflicts is reported as KubeConflict.</summary>
    public const int MaxAttempts = KubeReadChangeWrite.MaxAttempts;

    /// <summary>Reads the Deployment or StatefulSet's replicas (spec and status) and resourceVersion.</summary>
    public static async Task<WorkloadReplicas> ReadAsync(KubeTarget target, string ns, string kind, string name, CancellationToken ct)
    {
        var workload = await KubeRollout.ReadWorkloadAsync(target, ns, kind, name, ct).ConfigureAwait(false);
        return workload switch
        {
            V1StatefulSet s => new WorkloadReplicas("StatefulSet", s.Metadata.Name, s.Spec?.Replicas ?? 1, s.Status?.ReadyReplicas ?? 0,
                s.Status?.AvailableReplicas ?? s.Status?.ReadyReplicas ?? 0, s.Metadata.ResourceVersion),
            V1Deployment d => new WorkloadReplicas("Deployment", d.Metadata.Name, d.Spec?.Replicas ?? 1, d.Status?.ReadyReplicas ?? 0,
                d.Status?.AvailableReplicas ?? 0, d.Metadata.ResourceVersion),
            _ => throw new InvalidOperationException("unexpected workload type " + workload.GetType().Name),
        };
    }

    /// <summary>
    /// Sets spec.replicas to <paramref name="replicas"/> through the scale subresource, starting from
    /// <paramref name="current"/> (as read). On 409 Conflict: read again and retry, up to <see cref="MaxAttempts"/>
    /// writes. Returns the state that was replaced (its Replicas is the real "before") and the writes it took.
    /// When a re-read finds the count already at <paramref name="replicas"/>, nothing more is written.
    /// </summary>
    public static async Task<(WorkloadReplicas Replaced, int Attempts, bool Written)> ApplyAsync(KubeTarget target, string ns, WorkloadReplicas current, int replicas,
        CancellationToken ct)
    {
        var kind = current.Kind;
        var name = current.Name;
        var action = $"scale {kind.ToLowerInvariant()} '{name}' to {replicas}";
        var objectRef = $"{kind.ToLowerInvariant()} '{name}'";
        try
        {
            // Someone else may write the workload after it was read (the controller's status update right after an
            // earlier scale, an operator, a CI job): the shared loop reads it again and retries.
            return await KubeReadChangeWrite.RunAsync(async attempt =>
            {
                if (attempt > 1) current = await ReadAsync(target, ns, kind, name, ct).ConfigureAwait(false);
                if (current.Replicas == replicas) return (current, attempt - 1, false);
                var scale = new V1Scale
                {
                    ApiVersion = "autoscaling/v1", Kind = "Scale",
                    Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, ResourceVersion = current.ResourceVersion },
                    Spec = new V1ScaleSpec { Replicas = replicas },
                };
                if (KubeRollout.IsStatefulSet(kind))
                    await target.Client.AppsV1.ReplaceNamespacedStatefulSetScaleAsync(scale, name, ns, cancellationToken: ct).ConfigureAwait(false);
                else
                    await target.Client.AppsV1.ReplaceNamespacedDeploymentScaleAsync(scale, name, ns, cancellationToken: ct).ConfigureAwait(false);
                return (current, attempt, true);
            }, null, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (KubeErrors.Translate(e, target, action, objectRef, ns, ct) is { } translated && !ReferenceEquals(translated, e))
        {
            if (translated.ErrorId == "KubeConflict")
                throw new OpsToolsException("KubeConflict", OpsErrorKind.OperationFailed,
                    $"Cannot {action} in {target.Describe(ns)}: it was changed by another client {MaxAttempts} times in a row while scaling (409 Conflict each time). Find what keeps writing it (an autoscaler, an operator, a CI job) and retry.",
                    objectRef, e);
            throw translated;
        }
    }

    /// <summary>
    /// The HorizontalPodAutoscalers of the namespace that target the workload (autoscaling/v1, served by every
    /// cluster), as "name (min N, max M)". Null when they cannot be listed (forbidden, not served): the caller
    /// only warns with it, so a failure here must not stop a scale.
    /// </summary>
    public static async Task<IReadOnlyList<(string Name, string Kind, string Target, int? Min, int Max)>?> AutoscalersAsync(KubeTarget target, string ns, CancellationToken ct)
    {
        try
        {
            var list = await target.Client.AutoscalingV1.ListNamespacedHorizontalPodAutoscalerAsync(ns, cancellationToken: ct).ConfigureAwait(false);
            return list.Items.Select(h => (h.Metadata.Name, h.Spec.ScaleTargetRef.Kind, h.Spec.ScaleTargetRef.Name, h.Spec.MinReplicas, h.Spec.MaxReplicas)).ToList();
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return null;
        }
    }
}
