using k8s;
using k8s.Models;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>Finds pods (by name, selector, or the deployment that owns them) and turns them into <see cref="PodHealthResult"/>s.</summary>
public static class KubePods
{
    /// <summary>The pods of a namespace matching <paramref name="labelSelector"/> (null: all).</summary>
    public static async Task<PodSet> SelectAsync(KubeTarget target, string ns, string? labelSelector, CancellationToken ct) =>
        new(target, ns, await ListAsync(target, ns, labelSelector, ct).ConfigureAwait(false));

    /// <summary>The pods of a deployment (see <see cref="OfDeploymentAsync"/>).</summary>
    public static async Task<PodSet> SelectDeploymentAsync(KubeTarget target, string ns, string deployment, CancellationToken ct) =>
        new(target, ns, await OfDeploymentAsync(target, ns, deployment, ct).ConfigureAwait(false));

    /// <summary>One pod by name; a missing one is a KubeObjectNotFound error naming it.</summary>
    public static async Task<PodSet> SelectOneAsync(KubeTarget target, string ns, string name, CancellationToken ct) =>
        new(target, ns, new[] { await GetAsync(target, ns, name, ct).ConfigureAwait(false) });

    /// <summary>The pods of a namespace matching <paramref name="labelSelector"/>, sorted by name.</summary>
    public static async Task<IReadOnlyList<V1Pod>> ListAsync(KubeTarget target, string ns, string? labelSelector, CancellationToken ct)
    {
        var list = await KubeErrors.CallAsync(target, "list pods", null, ns,
            () => target.Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: labelSelector, cancellationToken: ct), ct).ConfigureAwait(false);
        return list.Items.OrderBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Reads one pod; a missing one is a KubeObjectNotFound error naming it.</summary>
    public static Task<V1Pod> GetAsync(KubeTarget target, string ns, string name, CancellationToken ct) =>
        KubeErrors.CallAsync(target, $"read pod '{name}'", $"pod '{name}'", ns,
            () => target.Client.CoreV1.ReadNamespacedPodAsync(name, ns, cancellationToken: ct), ct);

    /// <summary>The label selector of a deployment's pods (spec.selector); a missing deployment is a KubeObjectNotFound error.</summary>
    public static async Task<string> DeploymentSelectorAsync(KubeTarget target, string ns, string deployment, CancellationToken ct)
    {
        var d = await KubeErrors.CallAsync(target, $"read deployment '{deployment}'", $"deployment '{deployment}'", ns,
            () => target.Client.AppsV1.ReadNamespacedDeploymentAsync(deployment, ns, cancellationToken: ct), ct).ConfigureAwait(false);
        var selector = KubeWorkloads.SelectorText(d.Spec?.Selector);
        if (selector.Length == 0)
            throw new OpsToolsException("KubeInvalid", OpsErrorKind.InvalidData, $"deployment '{deployment}' in {target.Describe(ns)} has an empty selector.", deployment);
        return selector;
    }

    /// <summary>The pods of a deployment: those its ReplicaSets own (not merely those its selector matches).</summary>
    public static async Task<IReadOnlyList<V1Pod>> OfDeploymentAsync(KubeTarget target, string ns, string deployment, CancellationToken ct)
    {
        var selector = await DeploymentSelectorAsync(target, ns, deployment, ct).ConfigureAwait(false);
        var pods = await ListAsync(target, ns, selector, ct).ConfigureAwait(false);
        var owners = await OwnersAsync(target, ns, ct).ConfigureAwait(false);
        return pods.Where(p => owners.Of(p).Deployment is not { } d || d == deployment).ToList();
    }

    /// <summary>Who owns the pods of a namespace: ReplicaSets resolved to their deployments (one list call).</summary>
    public static async Task<PodOwners> OwnersAsync(KubeTarget target, string ns, CancellationToken ct)
    {
        var sets = await KubeErrors.CallAsync(target, "list replicasets", null, ns,
            () => target.Client.AppsV1.ListNamespacedReplicaSetAsync(ns, cancellationToken: ct), ct).ConfigureAwait(false);
        return new PodOwners(sets.Items);
    }

    /// <summary>
    /// The objects whose events belong to a deployment: the deployment, its ReplicaSets and their pods.
    /// For any other kind: just that object.
    /// </summary>
    public static async Task<IReadOnlyCollection<(string Kind, string Name)>> RelatedObjectsAsync(KubeTarget target, string ns, string kind, string name, CancellationToken ct)
    {
        var objects = new HashSet<(string, string)> { (kind, name) };
        if (kind != "Deployment") return objects;
        var selector = await DeploymentSelectorAsync(target, ns, name, ct).ConfigureAwait(false);
        var owners = await OwnersAsync(target, ns, ct).ConfigureAwait(false);
        foreach (var rs in owners.ReplicaSetsOf(name)) objects.Add(("ReplicaSet", rs));
        foreach (var pod in await ListAsync(target, ns, selector, ct).ConfigureAwait(false))
            if (owners.Of(pod).Deployment == name) objects.Add(("Pod", pod.Metadata.Name));
        return objects;
    }

    /// <summary>
    /// Diagnoses <paramref name="pods"/> (all of namespace <paramref name="ns"/>): reads the namespace's warning events
    /// and ReplicaSets once, then applies <see cref="PodDiagnosis"/>.
    /// </summary>
    public static async Task<IReadOnlyList<PodHealthResult>> HealthAsync(KubeTarget target, string ns, IReadOnlyList<V1Pod> pods, DateTime? since, CancellationToken ct)
    {
        if (pods.Count == 0) return Array.Empty<PodHealthResult>();
        var eventsTask = KubeEvents.ListAsync(target, new KubeEvents.Query { Namespace = ns, WarningsOnly = true }, ct);
        var ownersTask = OwnersAsync(target, ns, ct);
        var events = await eventsTask.ConfigureAwait(false);
        var owners = await ownersTask.ConfigureAwait(false);
        var byPod = events.Where(e => e.ObjectKind == "Pod").ToLookup(e => e.ObjectName, StringComparer.Ordinal);
        var now = DateTime.UtcNow;
        var scoped = target.WithNamespace(ns);
        return pods.Select(p =>
        {
            var (owner, deployment) = owners.Of(p);
            var r = PodDiagnosis.Diagnose(p, byPod[p.Metadata.Name].ToList(), owner, deployment, since, now);
            r.Context = target.Context;
            r.ClusterId = scoped.Id;
            return r;
        }).ToList();
    }
}

/// <summary>
/// Pods of one namespace picked by a command. The cmdlet layer works with this (names, health, log containers)
/// and never with KubernetesClient's types, which live in the module's isolated load context.
/// </summary>
public sealed class PodSet
{
    private readonly IReadOnlyList<V1Pod> _pods;

    internal PodSet(KubeTarget target, string ns, IReadOnlyList<V1Pod> pods)
    {
        Target = target; Namespace = ns; _pods = pods;
    }

    public KubeTarget Target { get; }
    public string Namespace { get; }
    public int Count => _pods.Count;
    /// <summary>The pods' names, sorted.</summary>
    public IReadOnlyList<string> Names => _pods.Select(p => p.Metadata.Name).ToList();

    /// <summary>The pods whose names <paramref name="keep"/> accepts.</summary>
    public PodSet Where(Func<string, bool> keep) => new(Target, Namespace, _pods.Where(p => keep(p.Metadata.Name)).ToList());

    /// <summary>Several sets of the same namespace as one.</summary>
    public static PodSet Combine(KubeTarget target, string ns, IEnumerable<PodSet> sets) => new(target, ns, sets.SelectMany(s => s._pods).ToList());

    /// <summary>Diagnoses the pods (see <see cref="KubePods.HealthAsync"/>).</summary>
    public Task<IReadOnlyList<PodHealthResult>> HealthAsync(DateTime? since, CancellationToken ct) => KubePods.HealthAsync(Target, Namespace, _pods, since, ct);

    /// <summary>The containers whose logs to read for one of the pods (see <see cref="KubePodLogs.Containers"/>).</summary>
    public IReadOnlyList<string> LogContainers(string pod, string? container, bool previous) =>
        KubePodLogs.Containers(_pods.First(p => p.Metadata.Name == pod), container, previous);
}

/// <summary>Pod ownership in one namespace: ReplicaSet -> Deployment.</summary>
public sealed class PodOwners
{
    private readonly Dictionary<string, string?> _deploymentOfReplicaSet = new(StringComparer.Ordinal);

    public PodOwners(IEnumerable<V1ReplicaSet> replicaSets)
    {
        foreach (var rs in replicaSets)
            _deploymentOfReplicaSet[rs.Metadata.Name] = rs.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true && o.Kind == "Deployment")?.Name;
    }

    /// <summary>("deployment/x" or "replicaset/y" or "statefulset/z" ..., the deployment's name or null).</summary>
    public (string? Owner, string? Deployment) Of(V1Pod pod)
    {
        var controller = pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true) ?? pod.Metadata.OwnerReferences?.FirstOrDefault();
        if (controller is null) return (null, null);
        if (controller.Kind == "ReplicaSet" && _deploymentOfReplicaSet.TryGetValue(controller.Name, out var d) && d is not null)
            return ($"deployment/{d}", d);
        return ($"{controller.Kind.ToLowerInvariant()}/{controller.Name}", null);
    }

    /// <summary>The ReplicaSets a deployment owns.</summary>
    public IEnumerable<string> ReplicaSetsOf(string deployment) =>
        _deploymentOfReplicaSet.Where(kv => kv.Value == deployment).Select(kv => kv.Key);
}
