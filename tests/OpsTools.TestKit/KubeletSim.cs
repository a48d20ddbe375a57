using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OpsTools.TestKit;

/// <summary>
/// Plays the kubelet (and the scheduler's one visible act) for <see cref="KubeCluster"/>: a fake node
/// 'opstools-node' whose kubelet endpoint is a Kestrel HTTPS server on loopback; pods are bound to it
/// and their status reported through the real pods/status subresource as their
/// <see cref="BehaviourAnnotation"/> says (Running+Ready, CrashLoopBackOff with restarts and BackOff
/// warning events, OOMKilled, ErrImagePull, never Ready, Unschedulable with a FailedScheduling event).
/// Pods being deleted are removed the way a kubelet confirms it (grace period 0). Container logs are
/// served to the API server's log proxy (GET pods/log), so log commands go through the real API.
/// </summary>
public sealed class KubeletSim : IDisposable
{
    public const string BehaviourAnnotation = "kubelet.opstools.test/behaviour";
    public const string NodeName = "opstools-node";
    private readonly KubeCluster _cluster;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, string> _handled = new(); // pod uid -> behaviour applied
    private readonly ConcurrentDictionary<string, List<(DateTime At, string Stream, string Text)>> _logs = new();
    private WebApplication? _server;
    private Task? _loop;
    private volatile bool _paused;

    public int Port { get; private set; }

    internal KubeletSim(KubeCluster cluster) => _cluster = cluster;

    /// <summary>While paused, pods are neither bound nor reported (a node that stopped reporting).</summary>
    public bool Paused { get => _paused; set => _paused = value; }

    internal void Start()
    {
        StartLogServer();
        RegisterNode();
        _loop = Task.Run(() => LoopAsync(_stop.Token));
    }

    private void StartLogServer()
    {
        (_server, Port) = _cluster.StartLoopbackHttps(app =>
        {
            app.MapGet("/containerLogs/{ns}/{pod}/{container}", (string ns, string pod, string container, HttpContext http) => ServeLog(ns, pod, container, http));
            app.MapGet("/healthz", () => "ok");
        });
    }

    private void RegisterNode()
    {
        var api = _cluster.Api;
        api.Post("/api/v1/nodes", new
        {
            metadata = new { name = NodeName, labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = NodeName, ["kubernetes.io/os"] = "linux" } },
        });
        var capacity = new Dictionary<string, string> { ["cpu"] = "8", ["memory"] = "32Gi", ["pods"] = "500" };
        api.Patch($"/api/v1/nodes/{NodeName}/status", new
        {
            status = new
            {
                addresses = new[] { new { type = "InternalIP", address = "127.0.0.1" }, new { type = "Hostname", address = NodeName } },
                daemonEndpoints = new { kubeletEndpoint = new Dictionary<string, int> { ["Port"] = Port } }, // the API spells it "Port"
                conditions = new[] { new { type = "Ready", status = "True", reason = "KubeletReady", lastHeartbeatTime = Now(), lastTransitionTime = Now() } },
                capacity,
                allocatable = capacity,
            },
        });
    }

    private async Task LoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!_paused)
                {
                    var pods = _cluster.Api.Get("/api/v1/pods")["items"]!.AsArray()
                        .Where(p => p?["metadata"]?["annotations"]?[BehaviourAnnotation] is not null).Select(p => p!).ToList();
                    await Task.WhenAll(pods.Select(p => Task.Run(() => Handle(p), ct)));
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { return; }
            catch (Exception) { /* API server stopped by a fault test: try again */ }
            try { await Task.Delay(150, ct); } catch (OperationCanceledException) { return; }
        }
    }

    private void Handle(JsonNode pod)
    {
        var api = _cluster.Api;
        var ns = (string)pod["metadata"]!["namespace"]!;
        var name = (string)pod["metadata"]!["name"]!;
        var uid = (string)pod["metadata"]!["uid"]!;
        try
        {
            if (pod["metadata"]!["deletionTimestamp"] is not null)
            {
                api.Delete($"/api/v1/namespaces/{ns}/pods/{name}", new { gracePeriodSeconds = 0 });
                _handled.TryRemove(uid, out _);
                return;
            }
            if (_handled.ContainsKey(uid)) return;
            var behaviour = Enum.TryParse<PodBehaviour>((string?)pod["metadata"]!["annotations"]![BehaviourAnnotation], out var b) ? b : PodBehaviour.Ready;
            if (behaviour == PodBehaviour.Unschedulable)
            {
                PatchStatus(ns, name, new
                {
                    status = new
                    {
                        phase = "Pending",
                        conditions = new[] { new { type = "PodScheduled", status = "False", reason = "Unschedulable", message = "0/1 nodes are available: 1 node(s) didn't match node selector.", lastTransitionTime = Now() } },
                    },
                });
                Event(pod, "Warning", "FailedScheduling", "0/1 nodes are available: 1 node(s) didn't match node selector.", "default-scheduler");
                _handled[uid] = behaviour.ToString();
                return;
            }
            if (string.IsNullOrEmpty((string?)pod["spec"]?["nodeName"]))
            {
                api.Post($"/api/v1/namespaces/{ns}/pods/{name}/binding", new
                {
                    apiVersion = "v1", kind = "Binding",
                    metadata = new { name, @namespace = ns },
                    target = new { apiVersion = "v1", kind = "Node", name = NodeName },
                });
                Event(pod, "Normal", "Scheduled", $"Successfully assigned {ns}/{name} to {NodeName}", "default-scheduler");
            }
            Report(pod, ns, name, uid, behaviour);
            _handled[uid] = behaviour.ToString();
        }
        catch (KubeApiException e) when (e.Status is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
            // deleted or changed meanwhile: the next round sees its new state
        }
    }

    private void Report(JsonNode pod, string ns, string name, string uid, PodBehaviour behaviour)
    {
        var started = DateTime.UtcNow.AddSeconds(-1);
        var containers = pod["spec"]!["containers"]!.AsArray().Select(c => (Name: (string)c!["name"]!, Image: (string)c!["image"]!)).ToList();
        object ContainerStatus((string Name, string Image) c) => behaviour switch
        {
            PodBehaviour.Ready => new
            {
                name = c.Name, ready = true, started = true, restartCount = 0, image = c.Image, imageID = "docker-pullable://" + c.Image,
                containerID = "containerd://" + Guid.NewGuid().ToString("N"),
                state = new { running = new { startedAt = Stamp(started) } },
            },
            PodBehaviour.NeverReady => new
            {
                name = c.Name, ready = false, started = true, restartCount = 0, image = c.Image, imageID = "",
                containerID = "containerd://" + Guid.NewGuid().ToString("N"),
                state = new { running = new { startedAt = Stamp(started) } },
            },
            PodBehaviour.CrashLoop => (object)new
            {
                name = c.Name, ready = false, started = false, restartCount = 5, image = c.Image, imageID = "",
                containerID = "containerd://" + Guid.NewGuid().ToString("N"),
                state = new { waiting = new { reason = "CrashLoopBackOff", message = $"back-off 2m40s restarting failed container={c.Name} pod={name}" } },
                lastState = new { terminated = new { exitCode = 1, reason = "Error", startedAt = Stamp(started.AddSeconds(-3)), finishedAt = Stamp(started.AddSeconds(-2)), containerID = "containerd://old" } },
            },
            PodBehaviour.OomKilled => new
            {
                name = c.Name, ready = true, started = true, restartCount = 3, image = c.Image, imageID = "",
                containerID = "containerd://" + Guid.NewGuid().ToString("N"),
                state = new { running = new { startedAt = Stamp(started) } },
                lastState = new { terminated = new { exitCode = 137, reason = "OOMKilled", startedAt = Stamp(started.AddSeconds(-30)), finishedAt = Stamp(started.AddSeconds(-1)), containerID = "containerd://old" } },
            },
            _ /* ImagePullError */ => new
            {
                name = c.Name, ready = false, started = false, restartCount = 0, image = c.Image, imageID = "",
                state = new { waiting = new { reason = "ImagePullBackOff", message = $"Back-off pulling image \"{c.Image}\"" } },
            },
        };
        var ready = behaviour is PodBehaviour.Ready or PodBehaviour.OomKilled;
        PatchStatus(ns, name, new
        {
            status = new
            {
                phase = behaviour == PodBehaviour.ImagePullError ? "Pending" : "Running",
                hostIP = "127.0.0.1",
                podIP = "10.244.0." + (Math.Abs(uid.GetHashCode()) % 250 + 2),
                startTime = Stamp(started),
                conditions = new object[]
                {
                    new { type = "Initialized", status = "True", lastTransitionTime = Stamp(started) },
                    new { type = "Ready", status = ready ? "True" : "False", lastTransitionTime = Stamp(started), reason = ready ? null : "ContainersNotReady" },
                    new { type = "ContainersReady", status = ready ? "True" : "False", lastTransitionTime = Stamp(started), reason = ready ? null : "ContainersNotReady" },
                    new { type = "PodScheduled", status = "True", lastTransitionTime = Stamp(started) },
                },
                containerStatuses = containers.Select(ContainerStatus).ToArray(),
            },
        });

        foreach (var c in containers)
        {
            switch (behaviour)
            {
                case PodBehaviour.CrashLoop:
                    Event(pod, "Warning", "BackOff", "Back-off restarting failed container", "kubelet", count: 5, fieldPath: $"spec.containers{{{c.Name}}}");
                    AppendLog(ns, name, c.Name, "starting", previous: true);
                    AppendLog(ns, name, c.Name, "fatal: cannot connect to database", previous: true, stream: "stderr");
                    break;
                case PodBehaviour.OomKilled:
                    Event(pod, "Warning", "OOMKilling", $"Memory cgroup out of memory: Killed process (container {c.Name})", "kernel-monitor");
                    break;
                case PodBehaviour.ImagePullError:
                    Event(pod, "Warning", "Failed", $"Failed to pull image \"{c.Image}\": rpc error: code = Unknown desc = not found", "kubelet", fieldPath: $"spec.containers{{{c.Name}}}");
                    break;
                case PodBehaviour.NeverReady:
                    Event(pod, "Warning", "Unhealthy", "Readiness probe failed: ", "kubelet", count: 3, fieldPath: $"spec.containers{{{c.Name}}}");
                    break;
            }
        }
    }

    private void PatchStatus(string ns, string name, object patch) =>
        _cluster.Api.StrategicPatch($"/api/v1/namespaces/{ns}/pods/{name}/status", patch);

    /// <summary>Records an event about <paramref name="pod"/> (a pod object as JSON), as the kubelet or scheduler would.</summary>
    public void Event(JsonNode pod, string type, string reason, string message, string component, int count = 1, string? fieldPath = null, DateTime? last = null)
    {
        var ns = (string)pod["metadata"]!["namespace"]!;
        var name = (string)pod["metadata"]!["name"]!;
        var at = last ?? DateTime.UtcNow;
        _cluster.Api.Post($"/api/v1/namespaces/{ns}/events", new
        {
            metadata = new { name = $"{name}.{Guid.NewGuid():N}"[..Math.Min(60, name.Length + 17)], @namespace = ns },
            involvedObject = new { kind = "Pod", name, @namespace = ns, uid = (string?)pod["metadata"]!["uid"], apiVersion = "v1", fieldPath },
            type, reason, message, count,
            firstTimestamp = Stamp(at.AddSeconds(-count * 10)), lastTimestamp = Stamp(at),
            source = new { component, host = component == "kubelet" ? NodeName : null },
            reportingComponent = component, reportingInstance = NodeName,
        });
    }

    // ---- logs ----------------------------------------------------------------------------------

    /// <summary>Adds a line to a container's log (or its previous instance's), stamped now.</summary>
    public void AppendLog(string ns, string pod, string container, string text, bool previous = false, string stream = "stdout", DateTime? at = null)
    {
        var list = _logs.GetOrAdd(Key(ns, pod, container, previous), _ => new List<(DateTime, string, string)>());
        lock (list) list.Add((at ?? DateTime.UtcNow, stream, text));
    }

    private static string Key(string ns, string pod, string container, bool previous) => $"{ns}/{pod}/{container}/{(previous ? "previous" : "current")}";

    // Streams the log line by line (like a real kubelet), so that serving a large log does not hold it
    // as one string here: tests that measure the client's memory see only the client.
    private async Task ServeLog(string ns, string pod, string container, HttpContext http)
    {
        var q = http.Request.Query;
        var previous = q["previous"] == "true";
        if (!_logs.TryGetValue(Key(ns, pod, container, previous), out var list))
        {
            if (previous)
            {
                http.Response.StatusCode = StatusCodes.Status400BadRequest;
                await http.Response.WriteAsync($"previous terminated container \"{container}\" in pod \"{pod}\" not found");
                return;
            }
            list = new List<(DateTime, string, string)>();
        }
        List<(DateTime At, string Stream, string Text)> lines;
        lock (list) lines = list.ToList();
        var from = 0;
        DateTime? cut = null;
        if (q.TryGetValue("sinceSeconds", out var since) && int.TryParse(since, out var s))
            cut = DateTime.UtcNow.AddSeconds(-s);
        if (q.TryGetValue("sinceTime", out var sinceTime) && DateTime.TryParse(sinceTime, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var st))
            cut = st;
        var selected = cut is null ? Enumerable.Range(0, lines.Count) : Enumerable.Range(0, lines.Count).Where(i => lines[i].At >= cut.Value);
        var indexes = selected.ToList();
        if (q.TryGetValue("tailLines", out var tail) && int.TryParse(tail, out var t))
            from = Math.Max(0, indexes.Count - t);
        var timestamps = q["timestamps"] == "true";
        long limit = q.TryGetValue("limitBytes", out var lb) && long.TryParse(lb, out var l) ? l : long.MaxValue;
        http.Response.ContentType = "text/plain";
        await using var writer = new StreamWriter(http.Response.Body, new UTF8Encoding(false), 64 * 1024);
        long written = 0;
        for (var n = from; n < indexes.Count && written < limit; n++)
        {
            var line = lines[indexes[n]];
            var text = (timestamps ? line.At.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'00Z'", CultureInfo.InvariantCulture) + " " : "") + line.Text + "\n";
            if (written + Encoding.UTF8.GetByteCount(text) > limit) text = text[..(int)Math.Max(0, limit - written)];
            await writer.WriteAsync(text);
            written += Encoding.UTF8.GetByteCount(text);
            if (n % 1000 == 999) await writer.FlushAsync();
        }
    }

    private static string Now() => Stamp(DateTime.UtcNow);
    private static string Stamp(DateTime t) => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _stop.Cancel();
        try { _loop?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _server?.StopAsync().GetAwaiter().GetResult();
        _stop.Dispose();
    }
}
