using System.Diagnostics;
using System.Text.Json;
using OpsTools.Configuration;
using OpsTools.Docker;
using DockerModels = global::Docker.DotNet.Models;

namespace OpsTools.Engine.Docker;

/// <summary>The thresholds a container's stats are compared with: host memory's, and the CPU warning.</summary>
public sealed record ContainerStatThresholds(double MemoryWarningPercent, double MemoryCriticalPercent, double CpuWarningPercent)
{
    public static ContainerStatThresholds From(ThresholdSet t) => new(t.MemoryWarningPercent, t.MemoryCriticalPercent, t.CpuWarningPercent);
    public override string ToString() => $"memory warn > {MemoryWarningPercent}%; critical > {MemoryCriticalPercent}%; CPU warn > {CpuWarningPercent}%";
}

/// <summary>The figures of one stats sample, computed exactly as the docker CLI computes them (cli/command/container/stats_helpers.go).</summary>
public sealed record ContainerStatFigures(double CpuPercent, int OnlineCpus, long MemoryUsedBytes, long MemoryLimitBytes, double MemoryPercent,
    long NetworkRxBytes, long NetworkTxBytes, long BlockReadBytes, long BlockWriteBytes, long Pids);

/// <summary>
/// One snapshot of a container's resource use, as 'docker stats --no-stream': the engine's stats endpoint with
/// stream=false (the engine takes two samples about a second apart, so precpu_stats is filled), read as JSON.
/// </summary>
public static class DockerStats
{
    /// <summary>Snapshots of many containers at once (at most <paramref name="parallel"/> requests at a time), in the given order;
    /// a container that cannot be read gives its error instead of a result.</summary>
    public static async Task<IReadOnlyList<(ContainerStatResult? Result, OpsToolsException? Error)>> SnapshotAllAsync(DockerTarget target,
        IReadOnlyList<ContainerInfo> containers, ContainerStatThresholds thresholds, string? environment, int parallel, CancellationToken ct)
    {
        using var gate = new SemaphoreSlim(Math.Max(1, parallel));
        var tasks = containers.Select(async c =>
        {
            await gate.WaitAsync(ct).ConfigureAwait(false);
            try { return ((ContainerStatResult?)await SnapshotAsync(target, c, thresholds, environment, ct).ConfigureAwait(false), (OpsToolsException?)null); }
            catch (OpsToolsException e) { return (null, e); }
            finally { gate.Release(); }
        }).ToList();
        return await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    public static async Task<ContainerStatResult> SnapshotAsync(DockerTarget target, ContainerInfo c, ContainerStatThresholds thresholds, string? environment, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var json = await DockerErrors.CallAsync(target, $"read the stats of container '{c.Name}'", $"container '{c.Name}'", async () =>
        {
            // The raw-JSON overload (marked obsolete in favour of the typed IProgress one) on purpose: Compute reads
            // exactly the JSON the docker CLI reads, and the unit tests feed it the same documents.
#pragma warning disable CS0618
            await using var stream = await target.Client.Containers.GetContainerStatsAsync(c.Id,
                new DockerModels.ContainerStatsParameters { Stream = false }, ct).ConfigureAwait(false);
#pragma warning restore CS0618
            using var reader = new StreamReader(stream);
            return await reader.ReadToEndAsync(ct).ConfigureAwait(false);
        }, ct).ConfigureAwait(false);
        return Evaluate(target, c, Compute(json), thresholds, watch.Elapsed, environment);
    }

    /// <summary>The figures of one stats JSON document (API 1.41, cgroup v1 or v2; Linux containers).</summary>
    public static ContainerStatFigures Compute(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        var cpu = Obj(root, "cpu_stats");
        var pre = Obj(root, "precpu_stats");
        var online = (int)Num(cpu, "online_cpus");
        if (online == 0 && Obj(cpu, "cpu_usage") is { } usage && usage.TryGetProperty("percpu_usage", out var per) && per.ValueKind == JsonValueKind.Array)
            online = per.GetArrayLength();
        var cpuPercent = CpuPercent(Num(Obj(pre, "cpu_usage"), "total_usage"), Num(pre, "system_cpu_usage"),
            Num(Obj(cpu, "cpu_usage"), "total_usage"), Num(cpu, "system_cpu_usage"), online);

        var memory = Obj(root, "memory_stats");
        var memStats = Obj(memory, "stats");
        var used = MemoryUsed((long)Num(memory, "usage"), memStats);
        var limit = (long)Num(memory, "limit");
        var memPercent = limit != 0 ? used * 100.0 / limit : 0;

        long rx = 0, tx = 0;
        if (Obj(root, "networks") is { ValueKind: JsonValueKind.Object } networks)
            foreach (var n in networks.EnumerateObject()) { rx += (long)Num(n.Value, "rx_bytes"); tx += (long)Num(n.Value, "tx_bytes"); }

        long read = 0, write = 0;
        if (Obj(root, "blkio_stats") is { } blkio && blkio.TryGetProperty("io_service_bytes_recursive", out var io) && io.ValueKind == JsonValueKind.Array)
            foreach (var e in io.EnumerateArray())
            {
                var op = e.TryGetProperty("op", out var o) ? o.GetString() : null;
                if (op is null || op.Length == 0) continue;
                // the CLI: op[0] 'r'/'R' is read, 'w'/'W' is write (cgroup v1 "Read", v2 "read")
                if (op[0] is 'r' or 'R') read += (long)Num(e, "value");
                else if (op[0] is 'w' or 'W') write += (long)Num(e, "value");
            }
        var pids = (long)Num(Obj(root, "pids_stats"), "current");
        return new ContainerStatFigures(cpuPercent, online, used, limit, memPercent, rx, tx, read, write, pids);
    }

    /// <summary>The CLI's calculateCPUPercentUnix: (cpuDelta / systemDelta) × onlineCPUs × 100, 0 when either delta is not positive.</summary>
    public static double CpuPercent(double preTotal, double preSystem, double total, double system, int onlineCpus)
    {
        var cpuDelta = total - preTotal;
        var systemDelta = system - preSystem;
        return systemDelta > 0 && cpuDelta > 0 ? cpuDelta / systemDelta * onlineCpus * 100.0 : 0;
    }

    /// <summary>The CLI's calculateMemUsageUnixNoCache: usage − total_inactive_file (cgroup v1), else usage − inactive_file (cgroup v2),
    /// when that is smaller than usage; else usage.</summary>
    public static long MemoryUsed(long usage, JsonElement? stats)
    {
        if (stats is { ValueKind: JsonValueKind.Object } s)
        {
            if (s.TryGetProperty("total_inactive_file", out var v1) && v1.TryGetInt64(out var inactive1) && inactive1 < usage) return usage - inactive1;
            if (s.TryGetProperty("inactive_file", out var v2) && v2.TryGetInt64(out var inactive2) && inactive2 < usage) return usage - inactive2;
        }
        return usage;
    }

    /// <summary>The result with its status: memory percent against the memory thresholds, CPU percent against the CPU warning.</summary>
    public static ContainerStatResult Evaluate(DockerTarget target, ContainerInfo c, ContainerStatFigures f, ContainerStatThresholds t, TimeSpan duration, string? environment) =>
        Evaluate(target.Endpoint.ToString(), target.Id, c.Name, c.Id, c.ComposeProject, c.ComposeService, f, t, duration, environment);

    public static ContainerStatResult Evaluate(string dockerHost, string dockerId, string name, string id, string? project, string? service,
        ContainerStatFigures f, ContainerStatThresholds t, TimeSpan duration, string? environment)
    {
        var status = f.MemoryPercent > t.MemoryCriticalPercent ? CheckStatus.Critical
            : f.MemoryPercent > t.MemoryWarningPercent || f.CpuPercent > t.CpuWarningPercent ? CheckStatus.Warning
            : CheckStatus.Healthy;
        var mem = $"memory {f.MemoryPercent:0.##}% ({ByteSize.Format(f.MemoryUsedBytes, ByteFormat.DockerBinary)} of {ByteSize.Format(f.MemoryLimitBytes, ByteFormat.DockerBinary)})";
        var cpu = $"CPU {f.CpuPercent:0.##}%";
        var message = status switch
        {
            CheckStatus.Critical => $"Container '{name}' uses {mem}: above the critical {t.MemoryCriticalPercent}%; it is close to being OOM-killed. {cpu}.",
            CheckStatus.Warning when f.MemoryPercent > t.MemoryWarningPercent => $"Container '{name}' uses {mem}: above the warning {t.MemoryWarningPercent}%. {cpu}.",
            CheckStatus.Warning => $"Container '{name}' uses {cpu}: above the warning {t.CpuWarningPercent}%. {char.ToUpperInvariant(mem[0])}{mem[1..]}.",
            _ => $"Container '{name}': {cpu}, {mem}.",
        };
        return new ContainerStatResult
        {
            Check = "ContainerStats", Area = "Docker", Target = name, Status = status, Message = message, Value = Math.Round(f.MemoryPercent, 2),
            Threshold = t.ToString(), Duration = duration, Environment = environment,
            DockerHost = dockerHost, DockerId = dockerId, Name = name, ContainerId = id, ComposeProject = project, ComposeService = service,
            CpuPercent = f.CpuPercent, OnlineCpus = f.OnlineCpus, MemoryUsedBytes = f.MemoryUsedBytes, MemoryLimitBytes = f.MemoryLimitBytes,
            MemoryPercent = f.MemoryPercent, NetworkRxBytes = f.NetworkRxBytes, NetworkTxBytes = f.NetworkTxBytes,
            BlockReadBytes = f.BlockReadBytes, BlockWriteBytes = f.BlockWriteBytes, Pids = f.Pids,
        };
    }

    private static JsonElement? Obj(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Object ? v : null;

    private static double Num(JsonElement? parent, string name) =>
        parent is { ValueKind: JsonValueKind.Object } p && p.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : 0;
}
