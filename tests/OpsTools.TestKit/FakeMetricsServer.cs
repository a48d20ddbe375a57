using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OpsTools.TestKit;

/// <summary>
/// A stand-in for metrics-server behind the API server's real aggregator: a Kestrel HTTPS server on loopback
/// that serves metrics.k8s.io/v1beta1 PodMetrics, registered as APIService v1beta1.metrics.k8s.io pointing at a
/// Service of type ExternalName (localhost:port; the 1.20 aggregator resolves ExternalName services to that host).
/// Use it on a cluster of your own (<see cref="KubeCluster.Start"/>): it changes what the whole cluster serves.
/// </summary>
public sealed class FakeMetricsServer : IDisposable
{
    private readonly KubeCluster _cluster;
    private readonly ConcurrentDictionary<(string Ns, string Pod), (string Container, string Cpu, string Memory)[]> _pods = new();
    private WebApplication? _app;

    public int Port { get; private set; }
    /// <summary>Requests the aggregator forwarded (paths), to see the API server really proxied them.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    private FakeMetricsServer(KubeCluster cluster) => _cluster = cluster;

    /// <summary>Starts the server and registers it as the cluster's metrics API; returns when the APIService is Available.</summary>
    public static FakeMetricsServer Start(KubeCluster cluster, TimeSpan? timeout = null)
    {
        if (cluster.External) throw new InvalidOperationException("registering a fake metrics API on a real cluster would replace its own");
        var server = new FakeMetricsServer(cluster);
        try
        {
            server.Listen();
            server.Register(timeout ?? TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Sets what the metrics API reports for a pod: per container, CPU and memory as quantities ("250m", "48Mi").</summary>
    public void SetPod(string ns, string pod, params (string Container, string Cpu, string Memory)[] containers) => _pods[(ns, pod)] = containers;

    private void Listen()
    {
        (_app, Port) = _cluster.StartLoopbackHttps(app =>
        {
            app.Use(async (http, next) => { Requests.Enqueue(http.Request.Path + http.Request.QueryString); await next(http); });
            app.MapGet("/apis/metrics.k8s.io/v1beta1", () => Results.Json(new
            {
                kind = "APIResourceList", apiVersion = "v1", groupVersion = "metrics.k8s.io/v1beta1",
                resources = new object[]
                {
                    new { name = "nodes", singularName = "", @namespaced = false, kind = "NodeMetrics", verbs = new[] { "get", "list" } },
                    new { name = "pods", singularName = "", @namespaced = true, kind = "PodMetrics", verbs = new[] { "get", "list" } },
                },
            }));
            app.MapGet("/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods", (string ns) => Results.Json(new
            {
                kind = "PodMetricsList", apiVersion = "metrics.k8s.io/v1beta1", metadata = new { },
                items = _pods.Where(p => p.Key.Ns == ns).OrderBy(p => p.Key.Pod, StringComparer.Ordinal).Select(p => Item(p.Key.Ns, p.Key.Pod, p.Value)).ToArray(),
            }));
            app.MapGet("/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods/{pod}", (string ns, string pod) =>
                _pods.TryGetValue((ns, pod), out var c) ? Results.Json(Item(ns, pod, c)) : Results.NotFound());
            app.MapGet("/healthz", () => "ok");
        });
    }

    private static object Item(string ns, string pod, (string Container, string Cpu, string Memory)[] containers) => new
    {
        metadata = new { name = pod, @namespace = ns, creationTimestamp = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) },
        timestamp = DateTime.UtcNow.AddSeconds(-10).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        window = "30s",
        containers = containers.Select(c => new { name = c.Container, usage = new Dictionary<string, string> { ["cpu"] = c.Cpu, ["memory"] = c.Memory } }).ToArray(),
    };

    private void Register(TimeSpan timeout)
    {
        var api = _cluster.Api;
        api.Post("/api/v1/namespaces/kube-system/services", new
        {
            metadata = new { name = "opstools-metrics-server" },
            spec = new { type = "ExternalName", externalName = "localhost", ports = new[] { new { name = "https", port = Port, protocol = "TCP" } } },
        });
        api.Post("/apis/apiregistration.k8s.io/v1/apiservices", new
        {
            metadata = new { name = "v1beta1.metrics.k8s.io" },
            spec = new
            {
                group = "metrics.k8s.io", version = "v1beta1", insecureSkipTLSVerify = true,
                groupPriorityMinimum = 100, versionPriority = 100,
                service = new { @namespace = "kube-system", name = "opstools-metrics-server", port = Port },
            },
        });
        KubeCluster.WaitFor(() =>
        {
            var status = api.Get("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io")["status"];
            return status?["conditions"]?.AsArray().Any(c => (string?)c?["type"] == "Available" && (string?)c?["status"] == "True") == true;
        }, timeout, "APIService v1beta1.metrics.k8s.io to become Available (the aggregator reaching the fake metrics server)");
        // Available is set before the API server's proxy handler for the group is in place (404 meanwhile): wait for
        // the group to answer through the API server, and to be listed in discovery, as clients will see it.
        KubeCluster.WaitFor(() =>
        {
            try
            {
                return (string?)api.TryGet("/apis/metrics.k8s.io/v1beta1")?["groupVersion"] == "metrics.k8s.io/v1beta1"
                    && api.Get("/apis")["groups"]!.AsArray().Any(g => (string?)g?["name"] == "metrics.k8s.io");
            }
            catch (KubeApiException) { return false; }
        }, timeout, "metrics.k8s.io/v1beta1 to be served through the API server");
    }

    /// <summary>The APIService's conditions as text (for failure messages).</summary>
    public string Conditions() => _cluster.Api.Get("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io")["status"]?.ToJsonString() ?? "";

    /// <summary>Stops serving (the APIService stays registered: a metrics-server that went down).</summary>
    public void Dispose()
    {
        var app = Interlocked.Exchange(ref _app, null);
        app?.StopAsync().GetAwaiter().GetResult();
    }
}
