using System.Diagnostics;
using System.Globalization;
using OpsTools.Configuration;
using OpsTools.Redis;
using StackExchange.Redis;

namespace OpsTools.Engine.Redis;

/// <summary>Thresholds for queue backlogs and their growth.</summary>
public sealed class QueueThresholds
{
    public double BacklogWarning { get; init; } = 1000;
    public double BacklogCritical { get; init; } = 10000;
    public double GrowthWarningPerMinute { get; init; } = 60;
    public double GrowthCriticalPerMinute { get; init; } = 600;
}

/// <summary>
/// Reads the size of many queues in one pipelined round trip (two when a kind has to be found first: one TYPE/EXISTS
/// batch for all of them). The layouts:
/// <list type="bullet">
/// <item>List: LLEN key. SortedSet: ZCARD key. Stream: XLEN key and XINFO GROUPS key (pending, lag).</item>
/// <item>BullMQ (prefix 'bull'): LLEN bull:q:wait, bull:q:paused, bull:q:active; ZCARD bull:q:prioritized, bull:q:delayed, bull:q:failed, bull:q:completed.</item>
/// <item>RQ: LLEN rq:queue:q; ZCARD rq:wip:q (started), rq:failed:q, rq:scheduled:q.</item>
/// <item>Celery (Redis broker): LLEN of the queue's list (default 'celery'); HLEN unacked (every queue of the broker).</item>
/// </list>
/// </summary>
public static class QueueReader
{
    public static readonly string[] Kinds = { "Auto", "List", "Stream", "SortedSet", "BullMQ", "RQ", "Celery" };

    public static async Task<List<QueueStatusResult>> ReadAsync(RedisTarget target, IReadOnlyList<QueueEntry> queues, Action<string>? verbose, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var db = await target.ConnectAsync(ct).ConfigureAwait(false);
        try
        {
            var kinds = await ResolveKindsAsync(db, queues, verbose, ct).ConfigureAwait(false);
            var batch = db.CreateBatch();
            var plans = new List<(QueueEntry Entry, string Kind, List<(string Key, string Cmd, Task<RedisResult> Reply)> Parts, Task<RedisResult>? Groups)>();
            for (var i = 0; i < queues.Count; i++)
            {
                var q = queues[i];
                var kind = kinds[i];
                var parts = new List<(string, string, Task<RedisResult>)>();
                void Add(string key, string cmd) => parts.Add((key, cmd, batch.ExecuteAsync(cmd, key)));
                Task<RedisResult>? groups = null;
                var p = q.Prefix ?? "bull";
                switch (kind)
                {
                    case "List": Add(q.Name, "LLEN"); break;
                    case "SortedSet": Add(q.Name, "ZCARD"); break;
                    case "Stream": Add(q.Name, "XLEN"); groups = batch.ExecuteAsync("XINFO", "GROUPS", q.Name); break;
                    case "BullMQ":
                        foreach (var s in new[] { "wait", "paused", "active" }) Add($"{p}:{q.Name}:{s}", "LLEN");
                        foreach (var s in new[] { "prioritized", "delayed", "failed", "completed" }) Add($"{p}:{q.Name}:{s}", "ZCARD");
                        break;
                    case "RQ":
                        Add($"rq:queue:{q.Name}", "LLEN");
                        foreach (var s in new[] { "wip", "failed", "scheduled" }) Add($"rq:{s}:{q.Name}", "ZCARD");
                        break;
                    case "Celery": Add(q.Name, "LLEN"); Add("unacked", "HLEN"); break;
                }
                plans.Add((q, kind, parts, groups));
            }
            verbose?.Invoke($"{target.Address}: {plans.Sum(x => x.Parts.Count + (x.Groups is null ? 0 : 1))} commands for {queues.Count} queue(s) in one pipelined batch.");
            batch.Execute();
            var now = DateTime.UtcNow;
            var results = new List<QueueStatusResult>();
            foreach (var (q, kind, parts, groups) in plans)
            {
                var r = new QueueStatusResult
                {
                    Name = q.Name, Kind = kind, Server = target.Server, Database = target.Database, RedisId = target.Id,
                    Target = $"{target.Server}/{target.Database} {q.Name}", Timestamp = now,
                };
                var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
                string? wrongType = null;
                foreach (var (key, cmd, reply) in parts)
                {
                    try { sizes[key] = (long)await reply.WaitAsync(ct).ConfigureAwait(false); }
                    catch (RedisServerException e) when (e.Message.StartsWith("WRONGTYPE", StringComparison.Ordinal)) { wrongType = $"{key} is not the type {cmd} reads"; sizes[key] = 0; }
                }
                r.Parts = sizes;
                r.Key = parts.Count > 0 ? parts[0].Key : q.Name;
                long Size(string key) => sizes.GetValueOrDefault(key);
                var p = q.Prefix ?? "bull";
                switch (kind)
                {
                    case "BullMQ":
                        r.Length = Size($"{p}:{q.Name}:wait") + Size($"{p}:{q.Name}:paused") + Size($"{p}:{q.Name}:prioritized");
                        r.Active = Size($"{p}:{q.Name}:active"); r.Delayed = Size($"{p}:{q.Name}:delayed"); r.Failed = Size($"{p}:{q.Name}:failed");
                        break;
                    case "RQ":
                        r.Length = Size($"rq:queue:{q.Name}");
                        r.Active = Size($"rq:wip:{q.Name}"); r.Failed = Size($"rq:failed:{q.Name}"); r.Delayed = Size($"rq:scheduled:{q.Name}");
                        break;
                    case "Celery":
                        r.Length = Size(q.Name); r.Active = Size("unacked");
                        break;
                    case "Unknown":
                        break;
                    default:
                        r.Length = Size(q.Name);
                        break;
                }
                r.Backlog = r.Length;
                if (groups is not null)
                {
                    try
                    {
                        var list = ParseGroups((RedisResult[])(await groups.WaitAsync(ct).ConfigureAwait(false))!);
                        r.Groups = list;
                        if (list.Count > 0)
                        {
                            r.Pending = list.Sum(g => g.Pending);
                            r.Lag = list.Max(g => g.Lag ?? 0);
                            r.Backlog = list.Max(g => (g.Lag ?? 0) + g.Pending);
                        }
                    }
                    catch (RedisServerException) { } // no such key (an empty stream): no groups
                }
                r.Exists = sizes.Values.Any(v => v > 0) || r.Groups.Count > 0 || kind == "Unknown";
                if (wrongType is not null) r.Message = wrongType;
                results.Add(r);
            }
            var elapsed = watch.Elapsed;
            foreach (var r in results) r.Duration = elapsed;
            return results;
        }
        catch (Exception e) when (RedisErrors.IsRedisFailure(e) && !ct.IsCancellationRequested)
        {
            throw RedisErrors.Command(target, $"reading {queues.Count} queue size(s)", e);
        }
    }

    /// <summary>Auto: one pipelined TYPE/EXISTS batch for every queue whose kind is not given.</summary>
    private static async Task<List<string>> ResolveKindsAsync(IDatabase db, IReadOnlyList<QueueEntry> queues, Action<string>? verbose, CancellationToken ct)
    {
        var kinds = queues.Select(q => q.Kind).ToList();
        var auto = Enumerable.Range(0, queues.Count).Where(i => kinds[i] == "Auto").ToList();
        if (auto.Count == 0) return kinds;
        verbose?.Invoke($"Finding the kind of {auto.Count} queue(s) (one TYPE/EXISTS batch).");
        var batch = db.CreateBatch();
        var probes = auto.Select(i =>
        {
            var n = queues[i].Name; var p = queues[i].Prefix ?? "bull";
            return (Type: batch.ExecuteAsync("TYPE", n), Bull: batch.ExecuteAsync("EXISTS", $"{p}:{n}:meta", $"{p}:{n}:id", $"{p}:{n}:wait", $"{p}:{n}:completed"),
                Rq: batch.ExecuteAsync("EXISTS", $"rq:queue:{n}", $"rq:wip:{n}", $"rq:failed:{n}"));
        }).ToList();
        batch.Execute();
        for (var j = 0; j < auto.Count; j++)
        {
            var type = (string?)await probes[j].Type.WaitAsync(ct).ConfigureAwait(false);
            kinds[auto[j]] = type switch
            {
                "list" => queues[auto[j]].Name == "celery" ? "Celery" : "List",
                "stream" => "Stream",
                "zset" => "SortedSet",
                _ when (long)await probes[j].Bull.WaitAsync(ct).ConfigureAwait(false) > 0 => "BullMQ",
                _ when (long)await probes[j].Rq.WaitAsync(ct).ConfigureAwait(false) > 0 => "RQ",
                "none" => "List", // nothing there: an empty list reads as 0 (LLEN of a missing key)
                _ => "Unknown",
            };
        }
        return kinds;
    }

    private static List<QueueConsumerGroup> ParseGroups(RedisResult[] groups)
    {
        var list = new List<QueueConsumerGroup>();
        foreach (var g in groups)
        {
            var fields = (RedisResult[])g!;
            var d = new Dictionary<string, RedisResult>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < fields.Length; i += 2) d[(string)fields[i]!] = fields[i + 1];
            list.Add(new QueueConsumerGroup
            {
                Name = (string?)d.GetValueOrDefault("name") ?? "",
                Consumers = d.TryGetValue("consumers", out var c) ? (long)c : 0,
                Pending = d.TryGetValue("pending", out var p) ? (long)p : 0,
                Lag = d.TryGetValue("lag", out var l) && !l.IsNull ? (long)l : null,
                LastDeliveredId = (string?)d.GetValueOrDefault("last-delivered-id") ?? "",
            });
        }
        return list;
    }

    /// <summary>Status, growth against a previous reading, message and threshold text.</summary>
    public static void Judge(QueueStatusResult r, QueueEntry entry, QueueThresholds t, QueueStatusResult? previous)
    {
        var warn = entry.BacklogWarning ?? t.BacklogWarning;
        var crit = entry.BacklogCritical ?? t.BacklogCritical;
        r.Threshold = $"backlog warn >= {warn}, critical >= {crit}; growth warn > {t.GrowthWarningPerMinute}/min, critical > {t.GrowthCriticalPerMinute}/min";
        var status = r.Backlog >= crit ? CheckStatus.Critical : r.Backlog >= warn ? CheckStatus.Warning : CheckStatus.Healthy;
        var text = new List<string>();
        text.Add(r.Kind switch
        {
            "Stream" when r.Groups.Count > 0 => $"stream of {r.Length} entries; " + string.Join(", ", r.Groups.Select(g => $"group {g.Name}: {g.Pending} pending, lag {g.Lag?.ToString(CultureInfo.InvariantCulture) ?? "?"}")),
            "Stream" => $"stream of {r.Length} entries, no consumer group",
            "BullMQ" => $"{r.Length} waiting, {r.Active} active, {r.Delayed} delayed, {r.Failed} failed",
            "RQ" => $"{r.Length} queued, {r.Active} started, {r.Failed} failed",
            "Celery" => $"{r.Length} queued, {r.Active} unacked (whole broker)",
            "Unknown" => "no queue of a known layout here (the key is neither a list, stream, sorted set, BullMQ nor RQ queue)",
            _ => $"{r.Length} waiting",
        });
        if (!r.Exists && r.Kind != "Unknown") text.Add("no key of it exists (an empty queue, or a wrong name)");
        if (previous is not null && previous.Timestamp < r.Timestamp)
        {
            r.Interval = r.Timestamp - previous.Timestamp;
            r.Growth = r.Backlog - previous.Backlog;
            r.GrowthPerMinute = Math.Round(r.Growth.Value / Math.Max(r.Interval.Value.TotalMinutes, 1e-6), 1);
            var g = r.GrowthPerMinute.Value;
            var growthStatus = g > t.GrowthCriticalPerMinute ? CheckStatus.Critical : g > t.GrowthWarningPerMinute ? CheckStatus.Warning : CheckStatus.Healthy;
            if (growthStatus > status) status = growthStatus;
            text.Add($"{(r.Growth >= 0 ? "+" : "")}{r.Growth} in {RedisHealth.Span(r.Interval.Value)} ({g.ToString("+0.#;-0.#;0", CultureInfo.InvariantCulture)}/min)");
        }
        if (r.Kind == "Unknown" || r.Message.Length > 0) status = status < CheckStatus.Unknown ? CheckStatus.Unknown : status;
        r.Status = status;
        r.Value = r.Backlog;
        var why = status switch
        {
            CheckStatus.Critical or CheckStatus.Warning when r.GrowthPerMinute > t.GrowthWarningPerMinute && r.Backlog < warn => ": the queue is growing faster than it is worked off (Queue Backup: scale the workers).",
            CheckStatus.Critical or CheckStatus.Warning => ": backlog over the threshold (Queue Backup: check the workers).",
            _ => ".",
        };
        r.Message = string.Join("; ", text.Concat(r.Message.Length > 0 ? new[] { r.Message } : Array.Empty<string>())) + why;
    }
}
