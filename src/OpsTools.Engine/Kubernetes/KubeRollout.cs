using System.Diagnostics;
using System.Globalization;
using k8s;
using k8s.Models;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>
/// Rollout state by the rules of kubectl's rollout status (pkg/polymorphichelpers/rollout_status.go),
/// waiting for it, and restarting a workload the way <c>kubectl rollout restart</c> does.
/// </summary>
public static class KubeRollout
{
    public const string RestartedAtAnnotation = "kubectl.kubernetes.io/restartedAt";
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";

    /// <summary>
    /// Deployment: observedGeneration caught up, updated = desired, no old replicas, available = updated; ProgressDeadlineExceeded
    /// fails (kubectl's rules); and, stricter than kubectl, no replicas beyond the desired count (a scale-down is done when the
    /// extra pods are gone).
    /// </summary>
    public static (RolloutState State, string Message) Evaluate(V1Deployment d)
    {
        var name = d.Metadata.Name;
        var st = d.Status ?? new V1DeploymentStatus();
        if ((d.Metadata.Generation ?? 0) <= (st.ObservedGeneration ?? 0))
        {
            var progressing = st.Conditions?.FirstOrDefault(c => c.Type == "Progressing");
            if (progressing?.Reason == "ProgressDeadlineExceeded")
                return (RolloutState.Failed, $"deployment \"{name}\" exceeded its progress deadline");
            var desired = d.Spec?.Replicas ?? 1;
            var updated = st.UpdatedReplicas ?? 0;
            var total = st.Replicas ?? 0;
            var available = st.AvailableReplicas ?? 0;
            var paused = d.Spec?.Paused == true;
            string? waiting = null;
            if (updated < desired)
                waiting = $"Waiting for deployment \"{name}\" rollout to finish: {updated} out of {desired} new replicas have been updated...";
            else if (total > updated)
                waiting = $"Waiting for deployment \"{name}\" rollout to finish: {total - updated} old replicas are pending termination...";
            else if (available < updated)
                waiting = $"Waiting for deployment \"{name}\" rollout to finish: {available} of {updated} updated replicas are available...";
            // Stricter than kubectl here: after a scale-down (to zero in an emergency, say) kubectl calls the rollout
            // done while the controller has not yet removed the extra replicas; OpsTools waits until they are gone.
            else if (total > desired)
                waiting = $"Waiting for deployment \"{name}\" scale-down to finish: {total - desired} extra replicas are pending termination...";
            if (waiting is null) return (RolloutState.Complete, $"deployment \"{name}\" successfully rolled out");
            return paused ? (RolloutState.Paused, $"deployment \"{name}\" is paused (Resume-Rollout to continue): {waiting}") : (RolloutState.Progressing, waiting);
        }
        return (RolloutState.Progressing, "Waiting for deployment spec update to be observed...");
    }

    /// <summary>StatefulSet (RollingUpdate only): observed, ready = desired, partition honoured, current revision = update revision.</summary>
    public static (RolloutState State, string Message) Evaluate(V1StatefulSet s)
    {
        var st = s.Status ?? new V1StatefulSetStatus();
        if (s.Spec?.UpdateStrategy?.Type is { } type && type != "RollingUpdate")
            return (RolloutState.Failed, $"rollout status is only available for RollingUpdate strategy type (statefulset \"{s.Metadata.Name}\" uses {type})");
        if ((st.ObservedGeneration ?? 0) == 0 || (s.Metadata.Generation ?? 0) > (st.ObservedGeneration ?? 0))
            return (RolloutState.Progressing, "Waiting for statefulset spec update to be observed...");
        var desired = s.Spec?.Replicas ?? 1;
        if (st.Replicas > desired)
            return (RolloutState.Progressing, $"Waiting for statefulset scale-down to finish: {st.Replicas - desired} extra pods are pending termination...");
        if ((st.ReadyReplicas ?? 0) < desired)
            return (RolloutState.Progressing, $"Waiting for {desired - (st.ReadyReplicas ?? 0)} pods to be ready...");
        if (s.Spec?.UpdateStrategy?.RollingUpdate?.Partition is int partition)
        {
            if ((st.UpdatedReplicas ?? 0) < desired - partition)
                return (RolloutState.Progressing, $"Waiting for partitioned roll out to finish: {st.UpdatedReplicas ?? 0} out of {desired - partition} new pods have been updated...");
            return (RolloutState.Complete, $"partitioned roll out complete: {st.UpdatedReplicas ?? 0} new pods have been updated...");
        }
        if (st.UpdateRevision != st.CurrentRevision)
            return (RolloutState.Progressing, $"waiting for statefulset rolling update to complete {st.UpdatedReplicas ?? 0} pods at revision {st.UpdateRevision}...");
        return (RolloutState.Complete, $"statefulset rolling update complete {st.CurrentReplicas ?? 0} pods at revision {st.CurrentRevision}...");
    }

    /// <summary>The rollout status of a Deployment or StatefulSet object as read.</summary>
    public static RolloutStatus StatusOf(KubeTarget target, object workload)
    {
        switch (workload)
        {
            case V1Deployment d:
            {
                var (state, message) = Evaluate(d);
                return new RolloutStatus
                {
                    Context = target.Context, Namespace = d.Metadata.NamespaceProperty, Kind = "Deployment", Name = d.Metadata.Name,
                    State = state, Message = message,
                    DesiredReplicas = d.Spec?.Replicas ?? 1, UpdatedReplicas = d.Status?.UpdatedReplicas ?? 0,
                    ReadyReplicas = d.Status?.ReadyReplicas ?? 0, AvailableReplicas = d.Status?.AvailableReplicas ?? 0,
                    CurrentReplicas = d.Status?.Replicas ?? 0,
                    Revision = d.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var r) == true ? r : null,
                    ClusterId = target.WithNamespace(d.Metadata.NamespaceProperty).Id,
                };
            }
            case V1StatefulSet s:
            {
                var (state, message) = Evaluate(s);
                return new RolloutStatus
                {
                    Context = target.Context, Namespace = s.Metadata.NamespaceProperty, Kind = "StatefulSet", Name = s.Metadata.Name,
                    State = state, Message = message,
                    DesiredReplicas = s.Spec?.Replicas ?? 1, UpdatedReplicas = s.Status?.UpdatedReplicas ?? 0,
                    ReadyReplicas = s.Status?.ReadyReplicas ?? 0, AvailableReplicas = s.Status?.AvailableReplicas ?? s.Status?.ReadyReplicas ?? 0,
                    CurrentReplicas = s.Status?.Replicas ?? 0, Revision = s.Status?.UpdateRevision,
                    ClusterId = target.WithNamespace(s.Metadata.NamespaceProperty).Id,
                };
            }
            default:
                throw new ArgumentException($"not a Deployment or StatefulSet: {workload?.GetType().Name}");
        }
    }

    /// <summary>Reads a Deployment ("Deployment") or StatefulSet ("StatefulSet"), translating failures.</summary>
    public static Task<object> ReadWorkloadAsync(KubeTarget target, string ns, string kind, string name, CancellationToken ct) =>
        KubeErrors.CallAsync<object>(target, $"read {kind.ToLowerInvariant()} '{name}'", $"{kind.ToLowerInvariant()} '{name}'", ns, async () =>
            IsStatefulSet(kind)
                ? await target.Client.AppsV1.ReadNamespacedStatefulSetAsync(name, ns, cancellationToken: ct).ConfigureAwait(false)
                : await target.Client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: ct).ConfigureAwait(false), ct);

    public static bool IsStatefulSet(string kind) => kind.Equals("StatefulSet", StringComparison.OrdinalIgnoreCase) || kind.Equals("sts", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Polls until the rollout is Complete or Failed, or <paramref name="timeout"/> passes (then the
    /// last status comes back as TimedOut: a result, not an error). Paused rollouts come back at once.
    /// A brief API outage is waited out until the timeout; if the API is still unreachable then, its
    /// error is thrown. <paramref name="onProgress"/> gets each new message.
    /// </summary>
    public static Task<RolloutStatus> WaitAsync(KubeTarget target, string ns, string kind, string name, TimeSpan timeout,
        Action<RolloutStatus>? onProgress, CancellationToken ct, TimeSpan? pollInterval = null) =>
        WaitAsync(target, ns, kind, name, pollInterval is { } every ? WaitPolicy.Every(timeout, every) : new WaitPolicy(timeout), onProgress, ct);

    /// <summary>The same, under a <see cref="WaitPolicy"/> (the module's one poll loop: <see cref="Poller"/>).</summary>
    public static async Task<RolloutStatus> WaitAsync(KubeTarget target, string ns, string kind, string name, WaitPolicy policy,
        Action<RolloutStatus>? onProgress, CancellationToken ct)
    {
        string? lastMessage = null;
        var outcome = await Poller.UntilAsync(
            async token => StatusOf(target, await ReadWorkloadAsync(target, ns, kind, name, token).ConfigureAwait(false)),
            s => s.State is RolloutState.Complete or RolloutState.Failed or RolloutState.Paused,
            policy, ct,
            onRead: s =>
            {
                if (s.Message != lastMessage) { lastMessage = s.Message; onProgress?.Invoke(s); }
            },
            // The API server restarting or a network blip: keep waiting within the timeout. Once it answers again, its
            // status is reported even if unchanged (the progress line showed the outage meanwhile).
            transient: e => e.ErrorId is "KubeUnreachable" or "KubeTimeout",
            onTransient: e =>
            {
                lastMessage = null;
                onProgress?.Invoke(new RolloutStatus { Context = target.Context, Namespace = ns, Kind = kind, Name = name, State = RolloutState.Progressing, Message = "API server unreachable, retrying: " + e.Message });
            }).ConfigureAwait(false);
        var seconds = policy.Timeout.TotalSeconds.ToString("0", CultureInfo.InvariantCulture);
        if (!outcome.Read)
            throw new OpsToolsException("KubeTimeout", OpsErrorKind.Timeout, $"Waited {seconds} s for {kind.ToLowerInvariant()} '{name}' in {target.Describe(ns)} without an answer from the API server.", name);
        var last = outcome.Last;
        if (outcome.TimedOut)
        {
            last.State = RolloutState.TimedOut;
            last.Message = outcome.Outage is null
                ? $"timed out after {seconds} s: {last.Message}"
                : $"timed out after {seconds} s, the API server unreachable at the end: {outcome.Outage} Last status read: {last.Message}";
        }
        last.Waited = outcome.Waited;
        return last;
    }

    /// <summary>
    /// Restarts a Deployment or StatefulSet's pods the way <c>kubectl rollout restart</c> does: sets the pod
    /// template's kubectl.kubernetes.io/restartedAt annotation to now, which starts a rolling update.
    /// Returns the time stamped.
    /// </summary>
    public static async Task<DateTime> RestartAsync(KubeTarget target, string ns, string kind, string name, CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var stamp = now.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        var patch = new V1Patch(
            "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"" + RestartedAtAnnotation + "\":\"" + stamp + "\"}}}}}",
            V1Patch.PatchType.StrategicMergePatch);
        await KubeErrors.CallAsync<object>(target, $"restart {kind.ToLowerInvariant()} '{name}'", $"{kind.ToLowerInvariant()} '{name}'", ns, async () =>
            IsStatefulSet(kind)
                ? await target.Client.AppsV1.PatchNamespacedStatefulSetAsync(patch, name, ns, cancellationToken: ct).ConfigureAwait(false)
                : await target.Client.AppsV1.PatchNamespacedDeploymentAsync(patch, name, ns, cancellationToken: ct).ConfigureAwait(false), ct).ConfigureAwait(false);
        return now;
    }
}
