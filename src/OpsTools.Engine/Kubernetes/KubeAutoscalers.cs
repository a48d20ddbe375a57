using System.Globalization;
using System.Text.Json;
using k8s;
using k8s.Models;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>What Set-Autoscaler changes; null fields stay as they are.</summary>
public sealed class AutoscalerChange
{
    public int? MinReplicas { get; init; }
    public int? MaxReplicas { get; init; }
    /// <summary>CPU utilization target (percent of the pods' CPU requests).</summary>
    public int? TargetCpu { get; init; }
    /// <summary>Memory utilization target (percent of the pods' memory requests): autoscaling/v2 only.</summary>
    public int? TargetMemory { get; init; }

    /// <summary>Checks what can be checked without the cluster: min >= 1, max >= 1, min &lt;= max when both are given.</summary>
    public void Validate(string name)
    {
        if (MinReplicas is null && MaxReplicas is null && TargetCpu is null && TargetMemory is null)
            throw new OpsToolsException("AutoscalerNoChange", OpsErrorKind.InvalidArgument, $"Set-Autoscaler '{name}': say what to change (-MinReplicas, -MaxReplicas, -TargetCpu, -TargetMemory).", name);
        if (MinReplicas is < 1)
            throw new OpsToolsException("AutoscalerRangeInvalid", OpsErrorKind.InvalidArgument, $"Autoscaler '{name}': -MinReplicas must be at least 1 (was {MinReplicas}); to stop a workload, scale it with Set-ReplicaCount.", name);
        if (MaxReplicas is < 1)
            throw new OpsToolsException("AutoscalerRangeInvalid", OpsErrorKind.InvalidArgument, $"Autoscaler '{name}': -MaxReplicas must be at least 1 (was {MaxReplicas}).", name);
        if (MinReplicas is { } min && MaxReplicas is { } max && min > max)
            throw new OpsToolsException("AutoscalerRangeInvalid", OpsErrorKind.InvalidArgument, $"Autoscaler '{name}': -MinReplicas {min} is greater than -MaxReplicas {max}.", name);
    }
}

/// <summary>
/// HorizontalPodAutoscalers through autoscaling/v2 where the server serves it, else autoscaling/v1 (found by discovery,
/// GET /apis/autoscaling, not by guessing from the server version). autoscaling/v1 only knows a CPU utilization target;
/// other metrics are then read from the alpha annotations the API server keeps for round-tripping, and cannot be set.
/// </summary>
public static class KubeAutoscalers
{
    public const string V1 = "autoscaling/v1";
    public const string V2 = "autoscaling/v2";
    private const string ConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";
    private const string MetricsAnnotation = "autoscaling.alpha.kubernetes.io/metrics";
    private const string CurrentMetricsAnnotation = "autoscaling.alpha.kubernetes.io/current-metrics";

    /// <summary>The version to use given the group versions the server lists: autoscaling/v2 if served, else autoscaling/v1, else null.</summary>
    public static string? ChooseVersion(IEnumerable<string> groupVersions)
    {
        var served = groupVersions.ToHashSet(StringComparer.Ordinal);
        return served.Contains(V2) ? V2 : served.Contains(V1) ? V1 : null;
    }

    /// <summary>Discovery: GET /apis/autoscaling.</summary>
    public static async Task<string> DiscoverVersionAsync(KubeTarget target, CancellationToken ct)
    {
        var group = await KubeErrors.CallAsync(target, "discover the autoscaling API", "API group 'autoscaling'", null,
            () => target.Client.Autoscaling.GetAPIGroupAsync(ct), ct).ConfigureAwait(false);
        var versions = (group.Versions ?? new List<V1GroupVersionForDiscovery>()).Select(v => v.GroupVersion).ToList();
        return ChooseVersion(versions) ?? throw new OpsToolsException("KubeApiNotServed", OpsErrorKind.NotSupported,
            $"The API server of {target.Describe()} serves neither {V2} nor {V1} (it serves: {string.Join(", ", versions)}).", target.Server);
    }

    public static async Task<IReadOnlyList<AutoscalerInfo>> ListAsync(KubeTarget target, string ns, string version, CancellationToken ct)
    {
        if (version == V2)
        {
            var list = await KubeErrors.CallAsync(target, "list horizontalpodautoscalers", null, ns,
                () => target.Client.AutoscalingV2.ListNamespacedHorizontalPodAutoscalerAsync(ns, cancellationToken: ct), ct).ConfigureAwait(false);
            return list.Items.Select(h => From(target, h)).OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
        }
        var v1 = await KubeErrors.CallAsync(target, "list horizontalpodautoscalers", null, ns,
            () => target.Client.AutoscalingV1.ListNamespacedHorizontalPodAutoscalerAsync(ns, cancellationToken: ct), ct).ConfigureAwait(false);
        return v1.Items.Select(h => From(target, h)).OrderBy(a => a.Name, StringComparer.Ordinal).ToList();
    }

    public static async Task<AutoscalerInfo> GetAsync(KubeTarget target, string ns, string name, string version, CancellationToken ct) =>
        version == V2
            ? From(target, await ReadV2Async(target, ns, name, ct).ConfigureAwait(false))
            : From(target, await ReadV1Async(target, ns, name, ct).ConfigureAwait(false));

    private static Task<V2HorizontalPodAutoscaler> ReadV2Async(KubeTarget target, string ns, string name, CancellationToken ct) =>
        KubeErrors.CallAsync(target, $"read horizontalpodautoscaler '{name}'", $"horizontalpodautoscaler '{name}'", ns,
            () => target.Client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync(name, ns, cancellationToken: ct), ct);

    private static Task<V1HorizontalPodAutoscaler> ReadV1Async(KubeTarget target, string ns, string name, CancellationToken ct) =>
        KubeErrors.CallAsync(target, $"read horizontalpodautoscaler '{name}'", $"horizontalpodautoscaler '{name}'", ns,
            () => target.Client.AutoscalingV1.ReadNamespacedHorizontalPodAutoscalerAsync(name, ns, cancellationToken: ct), ct);

    /// <summary>
    /// Applies <paramref name="change"/> (read, change, replace with the resourceVersion read; 409: again, bounded) and
    /// returns the autoscaler before and after. <paramref name="confirm"/> gets the changes in words and may say no.
    /// </summary>
    public static async Task<AutoscalerChangeResult?> SetAsync(KubeTarget target, string ns, string name, string version, AutoscalerChange change,
        Func<AutoscalerInfo, IReadOnlyList<string>, Task<bool>> confirm, CancellationToken ct)
    {
        try
        {
            // Changed meanwhile (the controller writes status): the shared loop reads again and retries.
            return await KubeReadChangeWrite.RunAsync(async _ =>
            {
                if (version == V2)
                {
                    var hpa = await ReadV2Async(target, ns, name, ct).ConfigureAwait(false);
                    var before = From(target, hpa);
                    var changes = Apply(hpa, change, name);
                    if (!await confirm(before, changes).ConfigureAwait(false)) return null;
                    var after = changes.Count == 0 ? hpa : await target.Client.AutoscalingV2.ReplaceNamespacedHorizontalPodAutoscalerAsync(hpa, name, ns, cancellationToken: ct).ConfigureAwait(false);
                    return Result(target, ns, name, V2, before, From(target, after), changes);
                }
                else
                {
                    var hpa = await ReadV1Async(target, ns, name, ct).ConfigureAwait(false);
                    var before = From(target, hpa);
                    var changes = Apply(hpa, change, name, target);
                    if (!await confirm(before, changes).ConfigureAwait(false)) return null;
                    var after = changes.Count == 0 ? hpa : await target.Client.AutoscalingV1.ReplaceNamespacedHorizontalPodAutoscalerAsync(hpa, name, ns, cancellationToken: ct).ConfigureAwait(false);
                    return Result(target, ns, name, V1, before, From(target, after), changes);
                }
            }, null, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (KubeErrors.Translate(e, target, $"update horizontalpodautoscaler '{name}'", $"horizontalpodautoscaler '{name}'", ns, ct) is { } t && !ReferenceEquals(t, e))
        {
            throw t;
        }
    }

    private static AutoscalerChangeResult Result(KubeTarget target, string ns, string name, string version, AutoscalerInfo before, AutoscalerInfo after, IReadOnlyList<string> changes) =>
        new() { Context = target.Context, Namespace = ns, Name = name, ApiVersion = version, Before = before, After = after, Changes = changes, ClusterId = target.WithNamespace(ns).Id };

    /// <summary>minReplicas/maxReplicas after <paramref name="change"/>, checked against each other (the one not given keeps its value).</summary>
    private static (int? Min, int Max) ApplyRange(string name, int? min, int max, AutoscalerChange change, List<string> changes)
    {
        var newMin = change.MinReplicas ?? min ?? 1;
        var newMax = change.MaxReplicas ?? max;
        if (newMin > newMax)
            throw new OpsToolsException("AutoscalerRangeInvalid", OpsErrorKind.InvalidArgument,
                $"Autoscaler '{name}': minReplicas {newMin} would be greater than maxReplicas {newMax}; give both -MinReplicas and -MaxReplicas.", name);
        if (change.MinReplicas is not null && newMin != (min ?? 1)) { changes.Add($"minReplicas {min ?? 1} -> {newMin}"); min = newMin; }
        if (change.MaxReplicas is not null && newMax != max) { changes.Add($"maxReplicas {max} -> {newMax}"); max = newMax; }
        return (min, max);
    }

    /// <summary>Changes an autoscaling/v2 object in place; returns the changes in words (empty: nothing to do).</summary>
    public static IReadOnlyList<string> Apply(V2HorizontalPodAutoscaler hpa, AutoscalerChange change, string name)
    {
        var changes = new List<string>();
        var spec = hpa.Spec;
        (spec.MinReplicas, spec.MaxReplicas) = ApplyRange(name, spec.MinReplicas, spec.MaxReplicas, change, changes);
        SetUtilization(spec, "cpu", change.TargetCpu, changes);
        SetUtilization(spec, "memory", change.TargetMemory, changes);
        return changes;
    }

    private static void SetUtilization(V2HorizontalPodAutoscalerSpec spec, string resource, int? percent, List<string> changes)
    {
        if (percent is not { } value) return;
        spec.Metrics ??= new List<V2MetricSpec>();
        var metric = spec.Metrics.FirstOrDefault(m => m.Type == "Resource" && m.Resource?.Name == resource);
        if (metric is null)
        {
            spec.Metrics.Add(new V2MetricSpec
            {
                Type = "Resource",
                Resource = new V2ResourceMetricSource { Name = resource, Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = value } },
            });
            changes.Add($"{resource} target (none) -> {value}%");
            return;
        }
        var t = metric.Resource.Target ??= new V2MetricTarget();
        var old = TargetText(t);
        if (t.Type == "Utilization" && t.AverageUtilization == value) return;
        metric.Resource.Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = value };
        changes.Add($"{resource} target {old} -> {value}%");
    }

    /// <summary>Changes an autoscaling/v1 object in place; what v1 cannot express is an error naming the reason.</summary>
    public static IReadOnlyList<string> Apply(V1HorizontalPodAutoscaler hpa, AutoscalerChange change, string name, KubeTarget? target = null)
    {
        if (change.TargetMemory is not null)
            throw new OpsToolsException("AutoscalerNeedsV2", OpsErrorKind.NotSupported,
                $"Autoscaler '{name}': a memory target cannot be set through autoscaling/v1, the newest autoscaling version the API server of {target?.Describe() ?? "this cluster"} serves: v1 knows only a CPU utilization target (targetCPUUtilizationPercentage). Memory and custom metrics need autoscaling/v2 (Kubernetes 1.23+, OpenShift 4.10+); on this server use 'kubectl edit hpa {name}' with autoscaling/v2beta2.", name);
        var changes = new List<string>();
        var spec = hpa.Spec;
        (spec.MinReplicas, spec.MaxReplicas) = ApplyRange(name, spec.MinReplicas, spec.MaxReplicas, change, changes);
        if (change.TargetCpu is { } cpu && cpu != spec.TargetCPUUtilizationPercentage)
        {
            changes.Add($"cpu target {(spec.TargetCPUUtilizationPercentage is { } old ? old + "%" : "(none)")} -> {cpu}%");
            spec.TargetCPUUtilizationPercentage = cpu;
        }
        return changes;
    }

    // ---- mapping --------------------------------------------------------------------------------

    public static AutoscalerInfo From(KubeTarget target, V2HorizontalPodAutoscaler h)
    {
        var info = Common(target, h.Metadata, V2);
        info.TargetKind = h.Spec.ScaleTargetRef?.Kind ?? ""; info.TargetName = h.Spec.ScaleTargetRef?.Name ?? "";
        info.MinReplicas = h.Spec.MinReplicas ?? 1; info.MaxReplicas = h.Spec.MaxReplicas;
        info.CurrentReplicas = h.Status?.CurrentReplicas ?? 0; info.DesiredReplicas = h.Status?.DesiredReplicas ?? 0;
        info.LastScaleTime = h.Status?.LastScaleTime;
        info.Conditions = (h.Status?.Conditions ?? new List<V2HorizontalPodAutoscalerCondition>())
            .Select(c => new WorkloadCondition { Type = c.Type, Status = c.Status, Reason = c.Reason, Message = c.Message, LastTransitionTime = c.LastTransitionTime }).ToList();
        var current = h.Status?.CurrentMetrics ?? new List<V2MetricStatus>();
        info.Metrics = (h.Spec.Metrics ?? new List<V2MetricSpec>()).Select(m => Metric(m, current)).ToList();
        return info;
    }

    private static AutoscalerMetric Metric(V2MetricSpec m, IList<V2MetricStatus> current)
    {
        var (name, container, target) = m.Type switch
        {
            "Resource" => (m.Resource?.Name ?? "", (string?)null, m.Resource?.Target),
            "ContainerResource" => (m.ContainerResource?.Name ?? "", m.ContainerResource?.Container, m.ContainerResource?.Target),
            "Pods" => (m.Pods?.Metric?.Name ?? "", null, m.Pods?.Target),
            "Object" => (m.ObjectProperty?.Metric?.Name ?? "", null, m.ObjectProperty?.Target),
            "External" => (m.External?.Metric?.Name ?? "", null, m.External?.Target),
            _ => ("", null, null),
        };
        var status = current.FirstOrDefault(s => s.Type == m.Type && s.Type switch
        {
            "Resource" => s.Resource?.Name == name,
            "ContainerResource" => s.ContainerResource?.Name == name && s.ContainerResource?.Container == container,
            "Pods" => s.Pods?.Metric?.Name == name,
            "Object" => s.ObjectProperty?.Metric?.Name == name,
            "External" => s.External?.Metric?.Name == name,
            _ => false,
        });
        var value = status?.Type switch
        {
            "Resource" => status.Resource?.Current,
            "ContainerResource" => status.ContainerResource?.Current,
            "Pods" => status.Pods?.Current,
            "Object" => status.ObjectProperty?.Current,
            "External" => status.External?.Current,
            _ => null,
        };
        var targetType = target?.Type ?? "Utilization";
        return new AutoscalerMetric
        {
            Type = m.Type, Name = name, Container = container, TargetType = targetType,
            Target = target is null ? "" : TargetText(target),
            TargetUtilization = targetType == "Utilization" ? target?.AverageUtilization : null,
            CurrentUtilization = value?.AverageUtilization,
            Current = value is null ? null : targetType switch
            {
                "Utilization" => value.AverageUtilization is { } u ? u.ToString(CultureInfo.InvariantCulture) + "%" : null,
                "AverageValue" => value.AverageValue?.ToString(),
                _ => value.Value?.ToString() ?? value.AverageValue?.ToString(),
            },
        };
    }

    private static string TargetText(V2MetricTarget t) => t.Type switch
    {
        "Utilization" => t.AverageUtilization is { } u ? u.ToString(CultureInfo.InvariantCulture) + "%" : "",
        "AverageValue" => t.AverageValue?.ToString() ?? "" ,
        _ => t.Value?.ToString() ?? "",
    };

    public static AutoscalerInfo From(KubeTarget target, V1HorizontalPodAutoscaler h)
    {
        var info = Common(target, h.Metadata, V1);
        info.TargetKind = h.Spec.ScaleTargetRef?.Kind ?? ""; info.TargetName = h.Spec.ScaleTargetRef?.Name ?? "";
        info.MinReplicas = h.Spec.MinReplicas ?? 1; info.MaxReplicas = h.Spec.MaxReplicas;
        info.CurrentReplicas = h.Status?.CurrentReplicas ?? 0; info.DesiredReplicas = h.Status?.DesiredReplicas ?? 0;
        info.LastScaleTime = h.Status?.LastScaleTime;
        var annotations = h.Metadata.Annotations ?? new Dictionary<string, string>();
        info.Conditions = annotations.TryGetValue(ConditionsAnnotation, out var conditions) ? ParseConditions(conditions) : Array.Empty<WorkloadCondition>();
        var metrics = new List<AutoscalerMetric>();
        if (h.Spec.TargetCPUUtilizationPercentage is { } cpu)
        {
            var now = h.Status?.CurrentCPUUtilizationPercentage;
            metrics.Add(new AutoscalerMetric
            {
                Type = "Resource", Name = "cpu", TargetType = "Utilization", Target = cpu.ToString(CultureInfo.InvariantCulture) + "%", TargetUtilization = cpu,
                CurrentUtilization = now, Current = now is { } n ? n.ToString(CultureInfo.InvariantCulture) + "%" : null,
            });
        }
        if (annotations.TryGetValue(MetricsAnnotation, out var other))
        {
            var extra = ParseAlphaMetrics(other);
            metrics.AddRange(extra);
            if (extra.Count > 0)
                info.Note = $"{extra.Count} more metric(s) ({string.Join(", ", extra.Select(m => m.Name))}) are only fully readable and settable through autoscaling/v2, which this server does not serve.";
        }
        info.Metrics = metrics;
        if (metrics.Count == 0 && h.Spec.TargetCPUUtilizationPercentage is null && !annotations.ContainsKey(MetricsAnnotation))
        {
            // v1 with no target at all means the server default (80% CPU), as kubectl shows it.
            metrics.Add(new AutoscalerMetric { Type = "Resource", Name = "cpu", TargetType = "Utilization", Target = "80%", TargetUtilization = 80,
                CurrentUtilization = h.Status?.CurrentCPUUtilizationPercentage,
                Current = h.Status?.CurrentCPUUtilizationPercentage is { } n2 ? n2.ToString(CultureInfo.InvariantCulture) + "%" : null });
        }
        return info;
    }

    private static AutoscalerInfo Common(KubeTarget target, V1ObjectMeta meta, string version) => new()
    {
        Context = target.Context, Namespace = meta.NamespaceProperty, Name = meta.Name, ApiVersion = version,
        Created = meta.CreationTimestamp, ClusterId = target.WithNamespace(meta.NamespaceProperty).Id,
    };

    private static IReadOnlyList<WorkloadCondition> ParseConditions(string json)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.EnumerateArray().Select(c => new WorkloadCondition
            {
                Type = Str(c, "type") ?? "", Status = Str(c, "status") ?? "", Reason = Str(c, "reason"), Message = Str(c, "message"),
                LastTransitionTime = DateTime.TryParse(Str(c, "lastTransitionTime"), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null,
            }).ToList();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { return Array.Empty<WorkloadCondition>(); }
    }

    /// <summary>The autoscaling/v2beta1-shaped metric specs v1 keeps in an annotation: names and targets as far as they go.</summary>
    private static List<AutoscalerMetric> ParseAlphaMetrics(string json)
    {
        var result = new List<AutoscalerMetric>();
        try
        {
            using var doc = JsonDocument.Parse(json);
            foreach (var m in doc.RootElement.EnumerateArray())
            {
                var type = Str(m, "type") ?? "";
                var body = m.TryGetProperty(char.ToLowerInvariant(type.FirstOrDefault()) + (type.Length > 1 ? type[1..] : ""), out var b) ? b : default;
                if (body.ValueKind != JsonValueKind.Object) continue;
                var name = Str(body, "name") ?? Str(body, "metricName") ?? "";
                var utilization = body.TryGetProperty("targetAverageUtilization", out var u) && u.TryGetInt32(out var ui) ? ui : (int?)null;
                var value = Str(body, "targetAverageValue") ?? Str(body, "targetValue");
                result.Add(new AutoscalerMetric
                {
                    Type = type, Name = name, Container = Str(body, "container"),
                    TargetType = utilization is not null ? "Utilization" : body.TryGetProperty("targetAverageValue", out _) ? "AverageValue" : "Value",
                    Target = utilization is { } p ? p.ToString(CultureInfo.InvariantCulture) + "%" : value ?? "", TargetUtilization = utilization,
                });
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { }
        return result;
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() : v.ToString() : null;
}
