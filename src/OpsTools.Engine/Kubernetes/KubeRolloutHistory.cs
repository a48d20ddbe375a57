using System.Text.Json;
using k8s;
using k8s.Models;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>
/// Rollout history the way <c>kubectl rollout history</c> reads it (a Deployment's ReplicaSets by owner
/// reference and their deployment.kubernetes.io/revision; a StatefulSet's ControllerRevisions), and
/// <c>kubectl rollout undo</c> for Deployments.
/// </summary>
public static class KubeRolloutHistory
{
    /// <summary>One revision with the object that holds it (a ReplicaSet for Deployments).</summary>
    public sealed record Entry(RolloutRevision Revision, V1ReplicaSet? ReplicaSet);

    /// <summary>The annotations kubectl never copies between a ReplicaSet and its Deployment on rollback.</summary>
    private static readonly HashSet<string> SkipCopy = new(StringComparer.Ordinal)
    {
        "kubectl.kubernetes.io/last-applied-configuration",
        KubeRollout.RevisionAnnotation,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    };

    /// <summary>The revisions of a workload, oldest first.</summary>
    public static async Task<IReadOnlyList<Entry>> ReadAsync(KubeTarget target, object workload, CancellationToken ct)
    {
        var meta = KubeWorkloadEdit.Meta(workload);
        var ns = meta.NamespaceProperty;
        if (workload is V1StatefulSet sts) return await ReadStatefulSetAsync(target, sts, ct).ConfigureAwait(false);
        var d = (V1Deployment)workload;
        var selector = KubeWorkloads.SelectorText(d.Spec.Selector);
        var list = await KubeErrors.CallAsync(target, $"list the replicasets of deployment '{meta.Name}'", $"deployment '{meta.Name}'", ns,
            () => target.Client.AppsV1.ListNamespacedReplicaSetAsync(ns, labelSelector: selector, cancellationToken: ct), ct).ConfigureAwait(false);
        var current = RevisionOf(meta.Annotations);
        var result = new List<Entry>();
        foreach (var rs in list.Items.Where(rs => rs.Metadata.OwnerReferences?.Any(o => o.Controller == true && o.Uid == meta.Uid) == true))
        {
            if (RevisionOf(rs.Metadata.Annotations) is not long revision) continue;
            var containers = rs.Spec.Template?.Spec?.Containers ?? new List<V1Container>();
            result.Add(new Entry(new RolloutRevision
            {
                Context = target.Context, Namespace = ns, Kind = "Deployment", Name = meta.Name, Revision = revision,
                ChangeCause = rs.Metadata.Annotations?.TryGetValue(KubeWorkloadEdit.ChangeCauseAnnotation, out var cause) == true ? cause : null,
                Images = containers.Select(c => c.Image).ToList(), Containers = containers.Select(c => c.Name).ToList(),
                IsCurrent = current is long cur ? cur == revision : KubeWorkloadEdit.SameTemplate(rs.Spec.Template, d.Spec.Template),
                Replicas = rs.Spec.Replicas ?? 0, ReadyReplicas = rs.Status?.ReadyReplicas ?? 0,
                Source = "replicaset/" + rs.Metadata.Name, Created = rs.Metadata.CreationTimestamp,
                ClusterId = target.WithNamespace(ns).Id,
            }, rs));
        }
        return result.OrderBy(e => e.Revision.Revision).ToList();
    }

    private static async Task<IReadOnlyList<Entry>> ReadStatefulSetAsync(KubeTarget target, V1StatefulSet s, CancellationToken ct)
    {
        var meta = s.Metadata;
        var ns = meta.NamespaceProperty;
        var list = await KubeErrors.CallAsync(target, $"list the controllerrevisions of statefulset '{meta.Name}'", $"statefulset '{meta.Name}'", ns,
            () => target.Client.AppsV1.ListNamespacedControllerRevisionAsync(ns, labelSelector: KubeWorkloads.SelectorText(s.Spec.Selector), cancellationToken: ct), ct).ConfigureAwait(false);
        var result = new List<Entry>();
        foreach (var cr in list.Items.Where(cr => cr.Metadata.OwnerReferences?.Any(o => o.Controller == true && o.Uid == meta.Uid) == true))
        {
            var (names, images) = ContainersOf(cr.Data);
            result.Add(new Entry(new RolloutRevision
            {
                Context = target.Context, Namespace = ns, Kind = "StatefulSet", Name = meta.Name, Revision = cr.Revision ?? 0,
                ChangeCause = cr.Metadata.Annotations?.TryGetValue(KubeWorkloadEdit.ChangeCauseAnnotation, out var cause) == true ? cause : null,
                Images = images, Containers = names, IsCurrent = cr.Metadata.Name == s.Status?.UpdateRevision,
                Source = "controllerrevision/" + cr.Metadata.Name, Created = cr.Metadata.CreationTimestamp,
                ClusterId = target.WithNamespace(ns).Id,
            }, null));
        }
        return result.OrderBy(e => e.Revision.Revision).ToList();
    }

    /// <summary>Container names and images from a ControllerRevision's data (a patch holding spec.template).</summary>
    public static (IReadOnlyList<string> Names, IReadOnlyList<string> Images) ContainersOf(object? data)
    {
        try
        {
            var element = data switch
            {
                JsonElement e => e,
                null => default,
                _ => JsonSerializer.SerializeToElement(data),
            };
            if (element.ValueKind != JsonValueKind.Object) return (Array.Empty<string>(), Array.Empty<string>());
            if (!element.TryGetProperty("spec", out var spec) || !spec.TryGetProperty("template", out var template) ||
                !template.TryGetProperty("spec", out var podSpec) || !podSpec.TryGetProperty("containers", out var containers))
                return (Array.Empty<string>(), Array.Empty<string>());
            var names = new List<string>();
            var images = new List<string>();
            foreach (var c in containers.EnumerateArray())
            {
                names.Add(c.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "");
                images.Add(c.TryGetProperty("image", out var i) ? i.GetString() ?? "" : "");
            }
            return (names, images);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            return (Array.Empty<string>(), Array.Empty<string>());
        }
    }

    public static long? RevisionOf(IDictionary<string, string>? annotations) =>
        annotations is not null && annotations.TryGetValue(KubeRollout.RevisionAnnotation, out var text) && long.TryParse(text, out var r) ? r : null;

    /// <summary>
    /// Picks the revision to roll back to the way kubectl does: <paramref name="toRevision"/> 0 is the
    /// highest revision below the latest; else that revision. Missing: KubeRevisionNotFound listing the revisions.
    /// </summary>
    public static Entry PickUndoTarget(IReadOnlyList<Entry> history, long toRevision, string describe)
    {
        var revisions = history.Count == 0 ? "none" : string.Join(", ", history.Select(h => h.Revision.Revision + (h.Revision.IsCurrent ? " (current)" : "")));
        if (toRevision > 0)
            return history.FirstOrDefault(h => h.Revision.Revision == toRevision)
                ?? throw new OpsToolsException("KubeRevisionNotFound", OpsErrorKind.NotFound,
                    $"{describe} has no revision {toRevision}; its revisions: {revisions}. Nothing was changed.", toRevision);
        if (history.Count < 2)
            throw new OpsToolsException("KubeRevisionNotFound", OpsErrorKind.NotFound,
                $"{describe} has no previous revision to roll back to (revisions: {revisions}; old ReplicaSets are kept up to spec.revisionHistoryLimit). Nothing was changed.", describe);
        return history[^2];
    }

    /// <summary>
    /// kubectl rollout undo on a Deployment object in memory: the ReplicaSet's pod template (without its
    /// pod-template-hash label) becomes the deployment's, and the deployment's annotations are set to the
    /// ReplicaSet's (change cause included), apart from the bookkeeping ones. Returns the image changes.
    /// </summary>
    public static IReadOnlyList<WorkloadChangeItem> ApplyUndo(V1Deployment d, V1ReplicaSet rs)
    {
        var before = d.Spec.Template.Spec?.Containers ?? new List<V1Container>();
        var template = KubeWorkloadEdit.WithoutHash(rs.Spec.Template)!;
        var changes = new List<WorkloadChangeItem>();
        var after = template.Spec?.Containers ?? new List<V1Container>();
        foreach (var c in after)
        {
            var old = before.FirstOrDefault(b => b.Name == c.Name);
            if (old?.Image != c.Image) changes.Add(new WorkloadChangeItem { Container = c.Name, Item = "image", Before = old?.Image, After = c.Image });
        }
        foreach (var old in before.Where(b => after.All(a => a.Name != b.Name)))
            changes.Add(new WorkloadChangeItem { Container = old.Name, Item = "container", Before = old.Image, After = null });
        if (changes.Count == 0 && !KubeWorkloadEdit.SameTemplate(d.Spec.Template, template))
            changes.Add(new WorkloadChangeItem { Item = "template", Before = "revision " + (RevisionOf(d.Metadata.Annotations)?.ToString() ?? "?"), After = "revision " + RevisionOf(rs.Metadata.Annotations) });
        d.Spec.Template = template;
        var annotations = new Dictionary<string, string>();
        foreach (var (k, v) in d.Metadata.Annotations ?? new Dictionary<string, string>())
            if (SkipCopy.Contains(k)) annotations[k] = v;
        foreach (var (k, v) in rs.Metadata.Annotations ?? new Dictionary<string, string>())
            if (!SkipCopy.Contains(k)) annotations[k] = v;
        d.Metadata.Annotations = annotations.Count == 0 ? null : annotations;
        return changes;
    }

    /// <summary>
    /// Undo-Rollout on a Deployment: reads it and its history, picks the revision (<see cref="PickUndoTarget"/>),
    /// asks <paramref name="confirm"/> with the result as it would be, and writes (409s retried). A paused
    /// deployment is refused (KubeRolloutPaused), as kubectl does. Returns the result (Changed, Message set)
    /// and whether the template differed at all.
    /// </summary>
    public static async Task<(RolloutUndoResult Result, bool AnyChange)> UndoAsync(KubeTarget target, string ns, string name, long toRevision,
        Func<RolloutUndoResult, Task<bool>> confirm, Action<string>? onRetry, CancellationToken ct)
    {
        var describe = $"deployment '{name}' in {target.Describe(ns)}";
        RolloutUndoResult? result = null;
        var outcome = await KubeWorkloadEdit.EditAsync(target, ns, "Deployment", name, workload =>
            {
                var d = (V1Deployment)workload;
                if (d.Spec.Paused == true)
                    throw new OpsToolsException("KubeRolloutPaused", OpsErrorKind.InvalidArgument,
                        $"{describe} is paused: a paused deployment cannot be rolled back. Resume it first (Resume-Rollout), then undo.", name);
                var history = ReadAsync(target, d, ct).GetAwaiter().GetResult();
                var to = PickUndoTarget(history, toRevision, describe);
                var from = history.FirstOrDefault(h => h.Revision.IsCurrent)?.Revision;
                result = new RolloutUndoResult
                {
                    Context = target.Context, Namespace = ns, Name = name,
                    FromRevision = from?.Revision ?? RevisionOf(d.Metadata.Annotations) ?? 0,
                    ToRevision = to.Revision.Revision,
                    FromImages = (d.Spec.Template.Spec?.Containers ?? new List<V1Container>()).Select(c => c.Image).ToList(),
                    ToImages = to.Revision.Images, ChangeCause = to.Revision.ChangeCause,
                    ClusterId = target.WithNamespace(ns).Id,
                };
                return KubeWorkloadEdit.SameTemplate(d.Spec.Template, to.ReplicaSet!.Spec.Template)
                    ? Array.Empty<WorkloadChangeItem>()
                    : ApplyUndo(d, to.ReplicaSet!);
            },
            (_, _) => confirm(result!), null, $"roll back deployment '{name}'", onRetry, ct).ConfigureAwait(false);
        var r = result!;
        r.Changed = outcome.Written;
        r.Message = outcome.Changes.Count == 0
            ? $"skipped rollback: deployment '{name}' already runs the template of revision {r.ToRevision}"
            : outcome.Written
                ? $"rolled back from revision {r.FromRevision} to the template of revision {r.ToRevision} (it becomes a new revision)"
                : $"would roll back from revision {r.FromRevision} to revision {r.ToRevision}";
        return (r, outcome.Changes.Count > 0);
    }
}
