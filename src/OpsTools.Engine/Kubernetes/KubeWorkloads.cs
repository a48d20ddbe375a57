using k8s;
using k8s.Models;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>Reads Deployments and StatefulSets into <see cref="DeploymentInfo"/> objects.</summary>
public static class KubeWorkloads
{
    /// <summary>Lists deployments (and, with <paramref name="statefulSets"/>, StatefulSets) of a namespace, or of all namespaces.</summary>
    public static async Task<IReadOnlyList<DeploymentInfo>> ListAsync(KubeTarget target, string? ns, bool allNamespaces, bool deployments, bool statefulSets,
        string? labelSelector, CancellationToken ct)
    {
        var result = new List<DeploymentInfo>();
        var where = allNamespaces ? null : ns ?? target.Namespace;
        if (deployments)
        {
            var list = await KubeErrors.CallAsync(target, "list deployments", null, where, () => allNamespaces
                ? target.Client.AppsV1.ListDeploymentForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct)
                : target.Client.AppsV1.ListNamespacedDeploymentAsync(where!, labelSelector: labelSelector, cancellationToken: ct), ct).ConfigureAwait(false);
            result.AddRange(list.Items.Select(d => From(target, d)));
        }
        if (statefulSets)
        {
            var list = await KubeErrors.CallAsync(target, "list statefulsets", null, where, () => allNamespaces
                ? target.Client.AppsV1.ListStatefulSetForAllNamespacesAsync(labelSelector: labelSelector, cancellationToken: ct)
                : target.Client.AppsV1.ListNamespacedStatefulSetAsync(where!, labelSelector: labelSelector, cancellationToken: ct), ct).ConfigureAwait(false);
            result.AddRange(list.Items.Select(s => From(target, s)));
        }
        return result.OrderBy(d => d.Namespace, StringComparer.Ordinal).ThenBy(d => d.Kind, StringComparer.Ordinal).ThenBy(d => d.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Reads one Deployment or StatefulSet.</summary>
    public static async Task<DeploymentInfo> GetAsync(KubeTarget target, string ns, string kind, string name, CancellationToken ct)
    {
        var workload = await KubeRollout.ReadWorkloadAsync(target, ns, kind, name, ct).ConfigureAwait(false);
        return workload is V1StatefulSet s ? From(target, s) : From(target, (V1Deployment)workload);
    }

    public static DeploymentInfo From(KubeTarget target, V1Deployment d)
    {
        var (state, message) = KubeRollout.Evaluate(d);
        var containers = d.Spec?.Template?.Spec?.Containers ?? new List<V1Container>();
        return new DeploymentInfo
        {
            Context = target.Context, Namespace = d.Metadata.NamespaceProperty, Kind = "Deployment", Name = d.Metadata.Name,
            DesiredReplicas = d.Spec?.Replicas ?? 1, CurrentReplicas = d.Status?.Replicas ?? 0, ReadyReplicas = d.Status?.ReadyReplicas ?? 0,
            UpdatedReplicas = d.Status?.UpdatedReplicas ?? 0, AvailableReplicas = d.Status?.AvailableReplicas ?? 0,
            Images = containers.Select(c => c.Image).ToList(), Containers = containers.Select(c => c.Name).ToList(),
            Revision = d.Metadata.Annotations?.TryGetValue(KubeRollout.RevisionAnnotation, out var r) == true ? r : null,
            RolloutState = state, RolloutMessage = message, Paused = d.Spec?.Paused == true,
            Conditions = (d.Status?.Conditions ?? new List<V1DeploymentCondition>()).Select(c => new WorkloadCondition
                { Type = c.Type, Status = c.Status, Reason = c.Reason, Message = c.Message, LastTransitionTime = c.LastTransitionTime }).ToList(),
            Selector = SelectorText(d.Spec?.Selector),
            Labels = new Dictionary<string, string>(d.Metadata.Labels ?? new Dictionary<string, string>()),
            Annotations = new Dictionary<string, string>(d.Metadata.Annotations ?? new Dictionary<string, string>()),
            Created = d.Metadata.CreationTimestamp, Generation = d.Metadata.Generation ?? 0, ObservedGeneration = d.Status?.ObservedGeneration ?? 0,
            ClusterId = target.WithNamespace(d.Metadata.NamespaceProperty).Id,
        };
    }

    public static DeploymentInfo From(KubeTarget target, V1StatefulSet s)
    {
        var (state, message) = KubeRollout.Evaluate(s);
        var containers = s.Spec?.Template?.Spec?.Containers ?? new List<V1Container>();
        return new DeploymentInfo
        {
            Context = target.Context, Namespace = s.Metadata.NamespaceProperty, Kind = "StatefulSet", Name = s.Metadata.Name,
            DesiredReplicas = s.Spec?.Replicas ?? 1, CurrentReplicas = s.Status?.Replicas ?? 0, ReadyReplicas = s.Status?.ReadyReplicas ?? 0,
            UpdatedReplicas = s.Status?.UpdatedReplicas ?? 0, AvailableReplicas = s.Status?.AvailableReplicas ?? s.Status?.ReadyReplicas ?? 0,
            Images = containers.Select(c => c.Image).ToList(), Containers = containers.Select(c => c.Name).ToList(),
            Revision = s.Status?.UpdateRevision, RolloutState = state, RolloutMessage = message,
            Conditions = (s.Status?.Conditions ?? new List<V1StatefulSetCondition>()).Select(c => new WorkloadCondition
                { Type = c.Type, Status = c.Status, Reason = c.Reason, Message = c.Message, LastTransitionTime = c.LastTransitionTime }).ToList(),
            Selector = SelectorText(s.Spec?.Selector),
            Labels = new Dictionary<string, string>(s.Metadata.Labels ?? new Dictionary<string, string>()),
            Annotations = new Dictionary<string, string>(s.Metadata.Annotations ?? new Dictionary<string, string>()),
            Created = s.Metadata.CreationTimestamp, Generation = s.Metadata.Generation ?? 0, ObservedGeneration = s.Status?.ObservedGeneration ?? 0,
            ClusterId = target.WithNamespace(s.Metadata.NamespaceProperty).Id,
        };
    }

    /// <summary>A label selector as text for the API's labelSelector parameter (matchLabels and matchExpressions).</summary>
    public static string SelectorText(V1LabelSelector? selector)
    {
        if (selector is null) return "";
        var parts = new List<string>();
        if (selector.MatchLabels is not null) parts.AddRange(selector.MatchLabels.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}={kv.Value}"));
        foreach (var e in selector.MatchExpressions ?? new List<V1LabelSelectorRequirement>())
        {
            parts.Add(e.OperatorProperty switch
            {
                "In" => $"{e.Key} in ({string.Join(",", e.Values)})",
                "NotIn" => $"{e.Key} notin ({string.Join(",", e.Values)})",
                "Exists" => e.Key,
                "DoesNotExist" => "!" + e.Key,
                _ => e.Key,
            });
        }
        return string.Join(",", parts);
    }
}
