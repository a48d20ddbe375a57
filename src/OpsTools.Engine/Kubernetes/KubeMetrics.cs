using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Xml;
using k8s;
using k8s.Autorest;
using k8s.Models;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>
/// Pod CPU and memory from the metrics API (metrics.k8s.io/v1beta1, served by metrics-server or OpenShift's
/// monitoring stack through the API aggregator): what 'kubectl top pods' / 'oc top pods' show, with the
/// pods' requests and limits. Discovery first: a cluster without the API gets one clear error.
/// </summary>
public static class KubeMetrics
{
    public const string Group = "metrics.k8s.io";
    public const string Version = "v1beta1";

    /// <summary>Throws KubeMetricsNotServed unless the API server's discovery lists metrics.k8s.io/v1beta1.</summary>
    public static async Task EnsureServedAsync(KubeTarget target, CancellationToken ct)
    {
        var groups = await KubeErrors.CallAsync(target, "discover the served APIs", null, null,
            () => target.Client.Apis.GetAPIVersionsAsync(ct), ct).ConfigureAwait(false);
        var metrics = groups.Groups?.FirstOrDefault(g => g.Name == Group);
        if (metrics is null || metrics.Versions?.Any(v => v.Version == Version) != true)
            throw NotServed(target, $"The cluster serves no metrics API ({Group}/{Version})" +
                (metrics is null ? "" : $" (only {string.Join(", ", metrics.Versions?.Select(v => v.GroupVersion) ?? Array.Empty<string>())})"));
    }

    private static OpsToolsException NotServed(KubeTarget target, string what, Exception? inner = null) =>
        new("KubeMetricsNotServed", OpsErrorKind.NotSupported,
            $"{what} ({target.Describe()}): install metrics-server " +
            "(kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml; on OpenShift the " +
            "cluster monitoring stack serves it) and check 'kubectl get apiservice v1beta1.metrics.k8s.io' is Available.",
            target.Context, inner);

    /// <summary>The pod metrics of a namespace (optionally by label selector), with requests and limits from the pods.</summary>
    public static async Task<IReadOnlyList<PodResourceUsage>> ListAsync(KubeTarget target, string ns, string? labelSelector, CancellationToken ct)
    {
        await EnsureServedAsync(target, ct).ConfigureAwait(false);
        JsonElement body;
        try
        {
            body = await target.Client.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>(Group, Version, ns, "pods",
                labelSelector: labelSelector, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response?.StatusCode is HttpStatusCode.ServiceUnavailable or HttpStatusCode.NotFound or HttpStatusCode.BadGateway)
        {
            throw NotServed(target, $"The cluster's metrics API ({Group}/{Version}) is registered but does not answer ({KubeErrors.ServerMessage(e)})", e);
        }
        catch (Exception e) when (KubeErrors.Translate(e, target, "read pod metrics", null, ns, ct) is { } t && !ReferenceEquals(t, e))
        {
            throw t;
        }
        var pods = await KubePods.ListAsync(target, ns, labelSelector, ct).ConfigureAwait(false);
        var specs = pods.ToDictionary(p => p.Metadata.Name, StringComparer.Ordinal);
        var scoped = target.WithNamespace(ns);
        // Only pods that exist and match the selector (a sample can outlive its pod by a window).
        return Parse(body).Where(m => specs.ContainsKey(m.Name)).Select(m =>
        {
            var usage = Combine(m, specs[m.Name]);
            usage.Context = target.Context;
            usage.Namespace = ns;
            usage.ClusterId = scoped.Id;
            return usage;
        }).OrderBy(u => u.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>One pod's sample as the metrics API returns it.</summary>
    public sealed record PodSample(string Namespace, string Name, DateTime? Timestamp, TimeSpan? Window, IReadOnlyList<(string Name, double CpuMillicores, long MemoryBytes)> Containers);

    /// <summary>Parses a PodMetricsList (or one PodMetrics) from the metrics API.</summary>
    public static IReadOnlyList<PodSample> Parse(JsonElement body)
    {
        var items = body.TryGetProperty("items", out var list) && list.ValueKind == JsonValueKind.Array ? list.EnumerateArray().ToList() : new List<JsonElement> { body };
        var result = new List<PodSample>();
        foreach (var item in items)
        {
            var meta = item.GetProperty("metadata");
            var containers = new List<(string, double, long)>();
            if (item.TryGetProperty("containers", out var cs) && cs.ValueKind == JsonValueKind.Array)
                foreach (var c in cs.EnumerateArray())
                {
                    var usage = c.TryGetProperty("usage", out var u) ? u : default;
                    containers.Add((c.GetProperty("name").GetString() ?? "",
                        Millicores(Quantity(usage, "cpu")) ?? 0, Bytes(Quantity(usage, "memory")) ?? 0));
                }
            result.Add(new PodSample(
                meta.TryGetProperty("namespace", out var ns) ? ns.GetString() ?? "" : "",
                meta.GetProperty("name").GetString() ?? "",
                item.TryGetProperty("timestamp", out var ts) && ts.ValueKind == JsonValueKind.String && DateTime.TryParse(ts.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var time) ? time : null,
                item.TryGetProperty("window", out var w) && w.ValueKind == JsonValueKind.String ? Duration(w.GetString()!) : null,
                containers));
        }
        return result;
    }

    /// <summary>Use, requests and limits of one pod (limits/requests from its spec when the pod is known).</summary>
    public static PodResourceUsage Combine(PodSample sample, V1Pod? pod)
    {
        var specs = (pod?.Spec?.Containers ?? new List<V1Container>()).ToDictionary(c => c.Name, StringComparer.Ordinal);
        var containers = sample.Containers.Select(c =>
        {
            specs.TryGetValue(c.Name, out var spec);
            var cu = new ContainerResourceUsage
            {
                Name = c.Name, CpuMillicores = c.CpuMillicores, MemoryBytes = c.MemoryBytes,
                CpuRequestMillicores = Millicores(Get(spec?.Resources?.Requests, "cpu")), CpuLimitMillicores = Millicores(Get(spec?.Resources?.Limits, "cpu")),
                MemoryRequestBytes = Bytes(Get(spec?.Resources?.Requests, "memory")), MemoryLimitBytes = Bytes(Get(spec?.Resources?.Limits, "memory")),
            };
            cu.CpuPercentOfLimit = Percent(cu.CpuMillicores, cu.CpuLimitMillicores);
            cu.MemoryPercentOfLimit = Percent(cu.MemoryBytes, cu.MemoryLimitBytes);
            return cu;
        }).ToList();
        var usage = new PodResourceUsage
        {
            Namespace = sample.Namespace, Name = sample.Name, Timestamp = sample.Timestamp, Window = sample.Window, Containers = containers,
            CpuMillicores = containers.Sum(c => c.CpuMillicores), MemoryBytes = containers.Sum(c => c.MemoryBytes),
            CpuRequestMillicores = SumAll(containers.Select(c => c.CpuRequestMillicores)), CpuLimitMillicores = SumAll(containers.Select(c => c.CpuLimitMillicores)),
            MemoryRequestBytes = (long?)SumAll(containers.Select(c => (double?)c.MemoryRequestBytes)), MemoryLimitBytes = (long?)SumAll(containers.Select(c => (double?)c.MemoryLimitBytes)),
        };
        usage.CpuPercentOfLimit = Percent(usage.CpuMillicores, usage.CpuLimitMillicores);
        usage.MemoryPercentOfLimit = Percent(usage.MemoryBytes, usage.MemoryLimitBytes);
        return usage;
    }

    private static double? SumAll(IEnumerable<double?> values)
    {
        var list = values.ToList();
        return list.Count > 0 && list.All(v => v is not null) ? list.Sum() : null;
    }

    private static double? Percent(double used, double? limit) => limit is > 0 ? Math.Round(used * 100 / limit.Value, 1) : null;

    private static ResourceQuantity? Get(IDictionary<string, ResourceQuantity>? d, string key) => d is not null && d.TryGetValue(key, out var q) ? q : null;

    private static ResourceQuantity? Quantity(JsonElement usage, string key) =>
        usage.ValueKind == JsonValueKind.Object && usage.TryGetProperty(key, out var v) && v.GetString() is { Length: > 0 } s ? new ResourceQuantity(s) : null;

    /// <summary>A CPU quantity ("250m", "1", "1500000n") in millicores.</summary>
    public static double? Millicores(ResourceQuantity? q) => q is null ? null : (double)(q.ToDecimal() * 1000m);

    /// <summary>A memory quantity ("64Mi", "1G", "12345Ki") in bytes.</summary>
    public static long? Bytes(ResourceQuantity? q) => q is null ? null : (long)Math.Round(q.ToDecimal());

    /// <summary>Go durations as metrics-server writes them ("30s", "1m0s", "15.5s"), or ISO 8601.</summary>
    private static TimeSpan? Duration(string s) => TimeText.TryParseDuration(s, out var span) ? span : null;
}
