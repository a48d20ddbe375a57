using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using OpsTools.Engine.Security;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>
/// Changes to a Deployment's or StatefulSet's spec (pod template, spec.paused, annotations, labels):
/// read, change in memory, confirm, write with the read resourceVersion, and on a 409 conflict read
/// again and re-apply (bounded). The edits themselves are pure functions on the objects (unit-tested).
/// </summary>
public static class KubeWorkloadEdit
{
    public const string ChangeCauseAnnotation = "kubernetes.io/change-cause";
    public const string PodTemplateHashLabel = "pod-template-hash";
    public const int MaxAttempts = KubeReadChangeWrite.MaxAttempts;

    /// <summary>What an edit did to one workload.</summary>
    public sealed record Outcome(object Workload, IReadOnlyList<WorkloadChangeItem> Changes, bool Written, int Attempts);

    /// <summary>
    /// Reads the workload, lets <paramref name="apply"/> change it (returning what it changed), asks
    /// <paramref name="confirm"/> (once, on the first read) and writes it. Nothing changed: nothing written.
    /// When the pod template changed and <paramref name="changeCause"/> is given, records it as the
    /// kubernetes.io/change-cause annotation (the deployment controller copies it to the new ReplicaSet).
    /// A 409 conflict (someone else wrote in between) is retried by reading again, up to <see cref="MaxAttempts"/>.
    /// </summary>
    public static async Task<Outcome> EditAsync(KubeTarget target, string ns, string kind, string name,
        Func<object, IReadOnlyList<WorkloadChangeItem>> apply, Func<object, IReadOnlyList<WorkloadChangeItem>, Task<bool>> confirm,
        Func<IReadOnlyList<WorkloadChangeItem>, string?>? changeCause, string action, Action<string>? onRetry, CancellationToken ct)
    {
        var objectRef = $"{kind.ToLowerInvariant()} '{name}'";
        try
        {
            return await KubeReadChangeWrite.RunAsync(async attempt =>
            {
                var workload = await KubeRollout.ReadWorkloadAsync(target, ns, kind, name, ct).ConfigureAwait(false);
                var before = Serialize(Template(workload));
                var changes = apply(workload);
                if (changes.Count == 0) return new Outcome(workload, changes, false, attempt);
                if (attempt == 1 && !await confirm(workload, changes).ConfigureAwait(false)) return new Outcome(workload, changes, false, attempt);
                if (changeCause?.Invoke(changes) is { Length: > 0 } cause && !JsonNode.DeepEquals(before, Serialize(Template(workload))))
                {
                    var meta = Meta(workload);
                    meta.Annotations ??= new Dictionary<string, string>();
                    meta.Annotations[ChangeCauseAnnotation] = cause;
                }
                object written = workload is V1StatefulSet s
                    ? await target.Client.AppsV1.ReplaceNamespacedStatefulSetAsync(s, name, ns, cancellationToken: ct).ConfigureAwait(false)
                    : await target.Client.AppsV1.ReplaceNamespacedDeploymentAsync((V1Deployment)workload, name, ns, cancellationToken: ct).ConfigureAwait(false);
                return new Outcome(written, changes, true, attempt);
            }, next => onRetry?.Invoke($"{objectRef} in {target.Describe(ns)} was changed by someone else meanwhile (409 Conflict); reading it again (attempt {next} of {MaxAttempts})."), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (KubeErrors.Translate(e, target, action, objectRef, ns, ct) is { } translated && !ReferenceEquals(translated, e))
        {
            throw translated;
        }
    }

    // ---- accessors -------------------------------------------------------------------------------

    public static V1ObjectMeta Meta(object workload) => workload switch
    {
        V1Deployment d => d.Metadata,
        V1StatefulSet s => s.Metadata,
        _ => throw new ArgumentException("not a Deployment or StatefulSet", nameof(workload)),
    };

    public static V1PodTemplateSpec Template(object workload) => workload switch
    {
        V1Deployment d => d.Spec.Template,
        V1StatefulSet s => s.Spec.Template,
        _ => throw new ArgumentException("not a Deployment or StatefulSet", nameof(workload)),
    };

    public static string KindOf(object workload) => workload is V1StatefulSet ? "StatefulSet" : "Deployment";

    public static JsonNode? Serialize(object? o) => o is null ? null : JsonNode.Parse(KubernetesJson.Serialize(o));

    /// <summary>A deep copy (through JSON, as the API would send it).</summary>
    public static T Copy<T>(T o) => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(o));

    /// <summary>True when two pod templates are the same apart from the pod-template-hash label (kubectl's EqualIgnoreHash).</summary>
    public static bool SameTemplate(V1PodTemplateSpec? a, V1PodTemplateSpec? b) =>
        JsonNode.DeepEquals(Serialize(WithoutHash(a)), Serialize(WithoutHash(b)));

    /// <summary>A copy of <paramref name="template"/> without the pod-template-hash label the ReplicaSet controller adds.</summary>
    public static V1PodTemplateSpec? WithoutHash(V1PodTemplateSpec? template)
    {
        if (template is null) return null;
        var copy = Copy(template);
        copy.Metadata ??= new V1ObjectMeta();
        copy.Metadata.Labels?.Remove(PodTemplateHashLabel);
        if (copy.Metadata.Labels is { Count: 0 }) copy.Metadata.Labels = null;
        return copy;
    }

    // ---- containers -------------------------------------------------------------------------------

    /// <summary>
    /// The containers <paramref name="requested"/> names in the pod template (init containers too, by name);
    /// '*' is every (non-init) container; none given: the only container. Unknown or ambiguous: an error
    /// listing the containers (KubeContainerNotFound / KubeContainerAmbiguous).
    /// </summary>
    public static IReadOnlyList<V1Container> SelectContainers(object workload, IReadOnlyCollection<string>? requested, string parameterHint)
    {
        var spec = Template(workload).Spec;
        var containers = (spec?.Containers ?? new List<V1Container>()).ToList();
        var init = (spec?.InitContainers ?? new List<V1Container>()).ToList();
        var what = $"{KindOf(workload).ToLowerInvariant()} '{Meta(workload).Name}'";
        var list = string.Join(", ", containers.Select(c => c.Name)) + (init.Count > 0 ? $" (init: {string.Join(", ", init.Select(c => c.Name))})" : "");
        if (requested is not { Count: > 0 })
        {
            if (containers.Count == 1) return containers;
            throw new OpsToolsException("KubeContainerAmbiguous", OpsErrorKind.InvalidArgument,
                $"{what} has {containers.Count} containers ({list}): say which with {parameterHint}. Nothing was changed.", Meta(workload).Name);
        }
        if (requested.Contains("*")) return containers;
        var result = new List<V1Container>();
        foreach (var r in requested)
        {
            var c = containers.FirstOrDefault(x => x.Name == r) ?? init.FirstOrDefault(x => x.Name == r);
            if (c is null)
                throw new OpsToolsException("KubeContainerNotFound", OpsErrorKind.InvalidArgument,
                    $"{what} has no container '{r}'; its containers: {list}. Nothing was changed.", r);
            if (!result.Contains(c)) result.Add(c);
        }
        return result;
    }

    // ---- edits (pure) -------------------------------------------------------------------------------

    // The cmdlet layer sees only these object-typed entry points: it must not touch KubernetesClient types
    // (they live in the module's isolated load context).

    /// <summary>Sets one image on the container <paramref name="container"/> names (null: the only container).</summary>
    public static IReadOnlyList<WorkloadChangeItem> SetImage(object workload, string? container, string image) =>
        SetImages(workload, new Dictionary<string, string> { [SelectContainers(workload, container is null ? null : new[] { container }, "-Container")[0].Name] = image });

    /// <summary>Sets requests/limits on the containers <paramref name="containers"/> names (see <see cref="SelectContainers"/>).</summary>
    public static IReadOnlyList<WorkloadChangeItem> SetResources(object workload, IReadOnlyCollection<string>? containers, IReadOnlyDictionary<string, string> settings) =>
        SetResources(SelectContainers(workload, containers, "-Container (or -Container '*' for all)"), settings);

    /// <summary>Sets and removes env vars on the containers <paramref name="containers"/> names (see <see cref="SelectContainers"/>).</summary>
    public static IReadOnlyList<WorkloadChangeItem> SetEnv(object workload, IReadOnlyCollection<string>? containers, IReadOnlyDictionary<string, string> set,
        IReadOnlyCollection<string> remove, IReadOnlyCollection<string>? alwaysRedact = null) =>
        SetEnv(SelectContainers(workload, containers, "-Container (or -Container '*' for all)"), set, remove, alwaysRedact);

    /// <summary>Sets container images (container name to image); returns the changes.</summary>
    public static IReadOnlyList<WorkloadChangeItem> SetImages(object workload, IReadOnlyDictionary<string, string> images)
    {
        var changes = new List<WorkloadChangeItem>();
        foreach (var (name, image) in images)
        {
            var c = SelectContainers(workload, new[] { name }, "-Image @{ container = 'image' }")[0];
            if (c.Image == image) continue;
            changes.Add(new WorkloadChangeItem { Container = c.Name, Item = "image", Before = c.Image, After = image });
            c.Image = image;
        }
        return changes;
    }

    /// <summary>Sets requests/limits (keys like "requests.cpu", "limits.memory"; values already validated) on the containers.</summary>
    public static IReadOnlyList<WorkloadChangeItem> SetResources(IReadOnlyList<V1Container> containers, IReadOnlyDictionary<string, string> settings)
    {
        var changes = new List<WorkloadChangeItem>();
        foreach (var c in containers)
        {
            foreach (var (key, value) in settings)
            {
                var (section, resource) = (key.Split('.')[0], key.Split('.')[1]);
                c.Resources ??= new V1ResourceRequirements();
                var map = section == "limits" ? c.Resources.Limits : c.Resources.Requests;
                var before = map is not null && map.TryGetValue(resource, out var q) ? q?.ToString() : null;
                if (before is not null && KubeQuantity.SameAmount(before, value)) continue;
                if (map is null)
                {
                    map = new Dictionary<string, ResourceQuantity>();
                    if (section == "limits") c.Resources.Limits = map; else c.Resources.Requests = map;
                }
                map[resource] = new ResourceQuantity(value);
                changes.Add(new WorkloadChangeItem { Container = c.Name, Item = key, Before = before, After = value });
            }
        }
        return changes;
    }

    /// <summary>
    /// Sets and removes environment variables on the containers. Values of secret-looking names
    /// (<see cref="Redaction.IsSecretName"/>) and of names in <paramref name="alwaysRedact"/> are shown as ***.
    /// A variable that came from a secret/configmap reference is replaced by the plain value.
    /// </summary>
    public static IReadOnlyList<WorkloadChangeItem> SetEnv(IReadOnlyList<V1Container> containers, IReadOnlyDictionary<string, string> set,
        IReadOnlyCollection<string> remove, IReadOnlyCollection<string>? alwaysRedact = null)
    {
        var changes = new List<WorkloadChangeItem>();
        foreach (var c in containers)
        {
            c.Env ??= new List<V1EnvVar>();
            foreach (var (name, value) in set)
            {
                var existing = c.Env.FirstOrDefault(e => e.Name == name);
                var redact = Redaction.IsSecretName(name) || (alwaysRedact?.Contains(name) ?? false);
                if (existing is not null && existing.ValueFrom is null && existing.Value == value) continue;
                changes.Add(new WorkloadChangeItem
                {
                    Container = c.Name, Item = "env " + name,
                    Before = existing is null ? null : Shown(existing, redact),
                    After = redact ? Redaction.Mask : value,
                });
                if (existing is null) c.Env.Add(new V1EnvVar { Name = name, Value = value });
                else { existing.Value = value; existing.ValueFrom = null; }
            }
            foreach (var name in remove)
            {
                var existing = c.Env.Where(e => e.Name == name).ToList();
                if (existing.Count == 0) continue;
                changes.Add(new WorkloadChangeItem { Container = c.Name, Item = "env " + name, Before = Shown(existing[0], Redaction.IsSecretName(name)), After = null });
                foreach (var e in existing) c.Env.Remove(e);
            }
            if (c.Env.Count == 0) c.Env = null;
        }
        return changes;
    }

    /// <summary>An env var's value as it may be shown: from a reference, redacted, or plain.</summary>
    public static string Shown(V1EnvVar e, bool redact)
    {
        if (e.ValueFrom?.SecretKeyRef is { } s) return $"(from secret {s.Name} key {s.Key})";
        if (e.ValueFrom?.ConfigMapKeyRef is { } m) return $"(from configmap {m.Name} key {m.Key})";
        if (e.ValueFrom?.FieldRef is { } f) return $"(from field {f.FieldPath})";
        if (e.ValueFrom?.ResourceFieldRef is { } r) return $"(from resource {r.Resource})";
        return redact ? Redaction.Mask : e.Value ?? "";
    }

    /// <summary>
    /// Sets (value) or removes (null value, or in <paramref name="remove"/>) annotations and labels, on the
    /// workload's metadata or, with <paramref name="onTemplate"/>, on the pod template (which starts a
    /// rollout). Template labels the selector uses cannot be changed or removed (KubeSelectorLabel).
    /// </summary>
    public static IReadOnlyList<WorkloadChangeItem> SetMetadata(object workload, IReadOnlyDictionary<string, string?> annotations,
        IReadOnlyDictionary<string, string?> labels, IReadOnlyCollection<string> remove, bool onTemplate)
    {
        V1ObjectMeta meta;
        if (onTemplate)
        {
            var t = Template(workload);
            meta = t.Metadata ??= new V1ObjectMeta();
        }
        else meta = Meta(workload);
        var prefix = onTemplate ? "template " : "";
        var changes = new List<WorkloadChangeItem>();
        var selector = (workload switch { V1Deployment d => d.Spec.Selector, V1StatefulSet s => s.Spec.Selector, _ => null })?.MatchLabels
            ?? new Dictionary<string, string>();

        IDictionary<string, string>? Edit(IDictionary<string, string>? map, string kindWord, IEnumerable<KeyValuePair<string, string?>> edits)
        {
            foreach (var (key, value) in edits)
            {
                var has = map is not null && map.TryGetValue(key, out var old);
                old = has ? map![key] : null;
                if (value is null && !has) continue;
                if (value is not null && has && old == value) continue;
                if (onTemplate && kindWord == "label" && selector.ContainsKey(key))
                    throw new OpsToolsException("KubeSelectorLabel", OpsErrorKind.InvalidArgument,
                        $"pod template label '{key}' is used by the selector of {KindOf(workload).ToLowerInvariant()} '{Meta(workload).Name}' ({string.Join(",", selector.Select(kv => kv.Key + "=" + kv.Value))}); changing or removing it would orphan its pods. Nothing was changed.", key);
                map ??= new Dictionary<string, string>();
                if (value is null) map.Remove(key); else map[key] = value;
                changes.Add(new WorkloadChangeItem { Item = $"{prefix}{kindWord} {key}", Before = old, After = value });
            }
            return map is { Count: 0 } ? null : map;
        }

        meta.Annotations = Edit(meta.Annotations, "annotation", annotations.Concat(remove.Where(k => meta.Annotations?.ContainsKey(k) == true).Select(k => new KeyValuePair<string, string?>(k, null))));
        meta.Labels = Edit(meta.Labels, "label", labels.Concat(remove.Where(k => meta.Labels?.ContainsKey(k) == true).Select(k => new KeyValuePair<string, string?>(k, null))));
        return changes;
    }

    /// <summary>Sets spec.paused of a Deployment (StatefulSets cannot be paused: KubeNotSupported).</summary>
    public static IReadOnlyList<WorkloadChangeItem> SetPaused(object workload, bool paused)
    {
        if (workload is not V1Deployment d)
            throw new OpsToolsException("KubeNotSupported", OpsErrorKind.NotSupported,
                $"statefulset '{Meta(workload).Name}' cannot be paused: only Deployments have spec.paused. For a StatefulSet, hold a rolling update with its partition (spec.updateStrategy.rollingUpdate.partition).", Meta(workload).Name);
        var before = d.Spec.Paused == true;
        if (before == paused) return Array.Empty<WorkloadChangeItem>();
        d.Spec.Paused = paused ? true : null;
        return new[] { new WorkloadChangeItem { Item = "paused", Before = before ? "true" : "false", After = paused ? "true" : "false" } };
    }

    /// <summary>The result object for a workload after (or, with -WhatIf, before) the change.</summary>
    public static WorkloadChangeResult Result(KubeTarget target, object workload, string operation, IReadOnlyList<WorkloadChangeItem> changes, bool written)
    {
        var meta = Meta(workload);
        var template = Template(workload);
        var templateChanged = changes.Any(c => c.Container is not null || c.Item.StartsWith("template ", StringComparison.Ordinal));
        return new WorkloadChangeResult
        {
            Context = target.Context, Namespace = meta.NamespaceProperty, Kind = KindOf(workload), Name = meta.Name,
            Operation = operation, Changed = written, Changes = changes, RestartsPods = templateChanged,
            ChangeCause = meta.Annotations?.TryGetValue(ChangeCauseAnnotation, out var cause) == true ? cause : null,
            Images = (template.Spec?.Containers ?? new List<V1Container>()).Select(c => c.Image).ToList(),
            Annotations = new Dictionary<string, string>(meta.Annotations ?? new Dictionary<string, string>()),
            Labels = new Dictionary<string, string>(meta.Labels ?? new Dictionary<string, string>()),
            TemplateAnnotations = new Dictionary<string, string>(template.Metadata?.Annotations ?? new Dictionary<string, string>()),
            TemplateLabels = new Dictionary<string, string>(template.Metadata?.Labels ?? new Dictionary<string, string>()),
            ClusterId = target.WithNamespace(meta.NamespaceProperty).Id,
        };
    }
}
