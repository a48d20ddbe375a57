using System.Diagnostics;
using System.Globalization;
using OpsTools.Redis;
using StackExchange.Redis;

namespace OpsTools.Engine.Redis;

/// <summary>The checks Get-RedisHealth runs and the thresholds they use.</summary>
public sealed class RedisHealthOptions
{
    public static readonly string[] AllChecks = { "Reachable", "Latency", "Memory", "Fragmentation", "Evictions", "HitRate", "Clients", "Persistence", "Replication", "Keyspace" };
    public ISet<string> Checks { get; init; } = new HashSet<string>(AllChecks, StringComparer.OrdinalIgnoreCase);
    public double MemoryWarningPercent { get; init; } = 85;
    public double MemoryCriticalPercent { get; init; } = 95;
    public double HitRateWarningPercent { get; init; } = 90;
    public double FragmentationWarningRatio { get; init; } = 1.5;
    public double ClientsWarningPercent { get; init; } = 75;
    public double ClientsCriticalPercent { get; init; } = 90;
    public double LatencyWarningMs { get; init; } = 50;
    public double LatencyCriticalMs { get; init; } = 500;
    public double RdbAgeWarningHours { get; init; } = 24;
    public double ReplicationLagWarningSeconds { get; init; } = 60;
    public double ReplicationLagCriticalSeconds { get; init; } = 300;
    public string? Environment { get; init; }
}

/// <summary>
/// Get-RedisHealth's engine: one INFO (all default sections), CONFIG GET save and three PINGs, turned into check results.
/// An unreachable server is one Critical Reachable result with the reason, never an exception.
/// </summary>
public static class RedisHealth
{
    private const long DefragIgnoreBytes = 100L * 1024 * 1024; // Redis's active-defrag-ignore-bytes default

    public static async Task<List<RedisHealthResult>> CheckAsync(RedisTarget target, RedisHealthOptions o, Action<string>? verbose, CancellationToken ct)
    {
        var results = new List<RedisHealthResult>();
        var watch = Stopwatch.StartNew();
        RedisHealthResult New(string check, IReadOnlyDictionary<string, string>? info = null, params string[] fields) => new()
        {
            Check = check, Target = target.Address, Server = target.Server, Database = target.Database, Environment = o.Environment,
            RedisVersion = info?.GetValueOrDefault("redis_version"), Role = info?.GetValueOrDefault("role"),
            Fields = info is null ? new Dictionary<string, string>() : fields.Where(info.ContainsKey).ToDictionary(f => f, f => info[f]),
        };

        Dictionary<string, string> info;
        string? save = null;
        var pings = new List<double>();
        try
        {
            verbose?.Invoke($"Connecting to {target.Address} (password: {target.PasswordSource}).");
            var db = await target.ConnectAsync(ct).ConfigureAwait(false);
            var connectTime = watch.Elapsed;
            for (var i = 0; i < 3; i++)
            {
                var p = Stopwatch.StartNew();
                await db.ExecuteAsync("PING").WaitAsync(ct).ConfigureAwait(false);
                pings.Add(p.Elapsed.TotalMilliseconds);
            }
            verbose?.Invoke($"{target.Address}: INFO, CONFIG GET save.");
            var infoTask = db.ExecuteAsync("INFO");
            var saveTask = db.ExecuteAsync("CONFIG", "GET", "save");
            info = ParseInfo((string?)await infoTask.WaitAsync(ct).ConfigureAwait(false) ?? "");
            try
            {
                var pair = (RedisResult[]?)await saveTask.WaitAsync(ct).ConfigureAwait(false);
                save = pair is { Length: 2 } ? (string?)pair[1] : null;
            }
            catch (RedisServerException) { save = null; } // CONFIG refused by an ACL or renamed: judged from INFO alone
            _ = connectTime;
        }
        catch (OpsToolsException e)
        {
            results.Add(Unreachable(New("Reachable"), e, watch.Elapsed, o));
            return results;
        }
        catch (Exception e) when (RedisErrors.IsRedisFailure(e) && !ct.IsCancellationRequested)
        {
            target.Reset();
            results.Add(Unreachable(New("Reachable"), RedisErrors.Command(target, "PING/INFO", e), watch.Elapsed, o));
            return results;
        }
        var elapsed = watch.Elapsed;
        bool Wanted(string c) => o.Checks.Contains(c);
        var uptime = TimeSpan.FromSeconds(L(info, "uptime_in_seconds") ?? 0);

        if (Wanted("Reachable"))
        {
            var r = New("Reachable", info, "redis_version", "redis_mode", "role", "uptime_in_seconds", "tcp_port");
            r.Status = CheckStatus.Healthy;
            r.Value = "PONG";
            r.Message = $"PONG from Redis {info.GetValueOrDefault("redis_version")} ({info.GetValueOrDefault("role")}), up {Span(uptime)}.";
            results.Add(r);
        }
        if (Wanted("Latency"))
        {
            var best = Math.Round(pings.Min(), 3);
            var r = New("Latency", info);
            r.Value = best;
            r.Threshold = $"warn > {o.LatencyWarningMs} ms; critical > {o.LatencyCriticalMs} ms";
            r.Status = best > o.LatencyCriticalMs ? CheckStatus.Critical : best > o.LatencyWarningMs ? CheckStatus.Warning : CheckStatus.Healthy;
            r.Message = $"PING answered in {best.ToString("0.###", CultureInfo.InvariantCulture)} ms (best of 3).";
            results.Add(r);
        }
        if (Wanted("Memory"))
        {
            var r = New("Memory", info, "used_memory", "used_memory_human", "maxmemory", "maxmemory_human", "maxmemory_policy", "used_memory_peak", "total_system_memory");
            var used = L(info, "used_memory") ?? 0;
            var max = L(info, "maxmemory") ?? 0;
            var policy = info.GetValueOrDefault("maxmemory_policy") ?? "?";
            r.Threshold = $"warn > {o.MemoryWarningPercent}% of maxmemory; critical > {o.MemoryCriticalPercent}%";
            if (max > 0)
            {
                var pct = Math.Round(100.0 * used / max, 1);
                r.Value = pct;
                r.Status = pct > o.MemoryCriticalPercent ? CheckStatus.Critical : pct > o.MemoryWarningPercent ? CheckStatus.Warning : CheckStatus.Healthy;
                r.Message = $"{Bytes(used)} of maxmemory {Bytes(max)} used ({pct.ToString(CultureInfo.InvariantCulture)}%), policy {policy}" +
                            (r.Status == CheckStatus.Healthy ? "." : policy == "noeviction" ? ": writes will be refused (OOM) when it is full." : ": keys are being or will be evicted.");
            }
            else
            {
                r.Value = null;
                r.Status = CheckStatus.Healthy;
                r.Message = $"{Bytes(used)} used; no maxmemory set (Redis may grow until the host runs out of memory; set maxmemory for a cache).";
            }
            results.Add(r);
        }
        if (Wanted("Fragmentation"))
        {
            var r = New("Fragmentation", info, "mem_fragmentation_ratio", "mem_fragmentation_bytes", "used_memory_rss", "used_memory");
            var ratio = D(info, "mem_fragmentation_ratio") ?? 0;
            var fragBytes = L(info, "mem_fragmentation_bytes") ?? 0;
            r.Value = ratio;
            r.Threshold = $"warn > {o.FragmentationWarningRatio.ToString(CultureInfo.InvariantCulture)} with over {Bytes(DefragIgnoreBytes)} fragmented";
            if (ratio > o.FragmentationWarningRatio && fragBytes > DefragIgnoreBytes)
            {
                r.Status = CheckStatus.Warning;
                r.Message = $"Fragmentation ratio {ratio.ToString(CultureInfo.InvariantCulture)} ({Bytes(fragBytes)} more resident than used): consider activedefrag yes, or a restart in a quiet hour.";
            }
            else if (ratio is > 0 and < 1 && (L(info, "used_memory") ?? 0) > DefragIgnoreBytes)
            {
                r.Status = CheckStatus.Warning;
                r.Message = $"Fragmentation ratio {ratio.ToString(CultureInfo.InvariantCulture)} (under 1): part of Redis's memory is swapped out.";
            }
            else
            {
                r.Status = CheckStatus.Healthy;
                r.Message = $"Fragmentation ratio {ratio.ToString(CultureInfo.InvariantCulture)} ({Bytes(Math.Max(0, fragBytes))} overhead).";
            }
            results.Add(r);
        }
        if (Wanted("Evictions"))
        {
            var r = New("Evictions", info, "evicted_keys", "expired_keys", "maxmemory_policy", "uptime_in_seconds");
            var evicted = L(info, "evicted_keys") ?? 0;
            r.Value = evicted;
            r.Threshold = "warn > 0 evicted keys since start";
            r.Status = evicted > 0 ? CheckStatus.Warning : CheckStatus.Healthy;
            r.Message = evicted > 0
                ? $"{evicted} keys evicted in {Span(uptime)} since start (policy {info.GetValueOrDefault("maxmemory_policy")}): the cache is full at maxmemory; raise maxmemory or shorten TTLs."
                : $"No key evicted since start ({L(info, "expired_keys") ?? 0} expired by TTL).";
            results.Add(r);
        }
        if (Wanted("HitRate"))
        {
            var r = New("HitRate", info, "keyspace_hits", "keyspace_misses");
            var hits = L(info, "keyspace_hits") ?? 0;
            var misses = L(info, "keyspace_misses") ?? 0;
            r.Threshold = $"warn < {o.HitRateWarningPercent}%";
            if (hits + misses == 0)
            {
                r.Status = CheckStatus.Healthy;
                r.Message = "No key lookups since start: no hit rate to judge yet.";
            }
            else
            {
                var rate = Math.Round(100.0 * hits / (hits + misses), 2);
                r.Value = rate;
                r.Status = rate < o.HitRateWarningPercent ? CheckStatus.Warning : CheckStatus.Healthy;
                r.Message = $"Hit rate {rate.ToString(CultureInfo.InvariantCulture)}% ({hits} hits, {misses} misses since start)" +
                            (r.Status == CheckStatus.Healthy ? "." : ": review key patterns and TTLs (runbook: Cache Hit Rate Low).");
            }
            results.Add(r);
        }
        if (Wanted("Clients"))
        {
            var r = New("Clients", info, "connected_clients", "maxclients", "blocked_clients", "rejected_connections");
            var connected = L(info, "connected_clients") ?? 0;
            var max = L(info, "maxclients") ?? 0;
            var blocked = L(info, "blocked_clients") ?? 0;
            var rejected = L(info, "rejected_connections") ?? 0;
            var pct = max > 0 ? Math.Round(100.0 * connected / max, 1) : 0;
            r.Value = connected;
            r.Threshold = $"warn > {o.ClientsWarningPercent}% of maxclients or rejected connections; critical > {o.ClientsCriticalPercent}%";
            r.Status = pct > o.ClientsCriticalPercent ? CheckStatus.Critical : pct > o.ClientsWarningPercent || rejected > 0 ? CheckStatus.Warning : CheckStatus.Healthy;
            r.Message = $"{connected} clients connected of maxclients {max} ({pct.ToString(CultureInfo.InvariantCulture)}%), {blocked} blocked (BLPOP/XREAD waits), {rejected} connections rejected since start" +
                        (rejected > 0 ? ": maxclients was reached." : ".");
            results.Add(r);
        }
        if (Wanted("Persistence")) results.Add(Persistence(New("Persistence", info, "rdb_last_bgsave_status", "rdb_last_save_time", "rdb_changes_since_last_save",
            "rdb_bgsave_in_progress", "aof_enabled", "aof_last_write_status", "aof_last_bgrewrite_status", "aof_rewrite_in_progress", "loading"), info, save, o));
        if (Wanted("Replication")) results.Add(Replication(New("Replication", info, info.Keys.Where(k => k.StartsWith("slave", StringComparison.Ordinal) || k.StartsWith("master_", StringComparison.Ordinal) || k == "connected_slaves" || k == "role").ToArray()), info, o));
        if (Wanted("Keyspace"))
        {
            var dbs = info.Where(kv => kv.Key.StartsWith("db", StringComparison.Ordinal) && int.TryParse(kv.Key[2..], out _)).OrderBy(kv => int.Parse(kv.Key[2..], CultureInfo.InvariantCulture)).ToList();
            if (dbs.Count == 0)
            {
                var r = New("Keyspace", info);
                r.Status = CheckStatus.Healthy; r.Value = 0L; r.Message = "No keys in any database.";
                results.Add(r);
            }
            foreach (var (name, value) in dbs)
            {
                var parts = value.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
                var r = New("Keyspace", info);
                r.Database = int.Parse(name[2..], CultureInfo.InvariantCulture);
                r.Fields = new Dictionary<string, string>(parts);
                var keys = long.Parse(parts.GetValueOrDefault("keys", "0"), CultureInfo.InvariantCulture);
                r.Value = keys;
                r.Status = CheckStatus.Healthy;
                r.Message = $"db{r.Database}: {keys} keys, {parts.GetValueOrDefault("expires", "0")} with a TTL" +
                            (parts.TryGetValue("avg_ttl", out var ttl) && ttl != "0" ? $" (average TTL {Span(TimeSpan.FromMilliseconds(double.Parse(ttl, CultureInfo.InvariantCulture)))})." : ".");
                results.Add(r);
            }
        }
        foreach (var r in results) { r.Duration = elapsed; r.Timestamp = DateTime.UtcNow; }
        return results;
    }

    private static RedisHealthResult Unreachable(RedisHealthResult r, OpsToolsException e, TimeSpan elapsed, RedisHealthOptions o)
    {
        r.Status = CheckStatus.Critical;
        r.ErrorId = e.ErrorId;
        r.Value = e.ErrorId;
        r.Message = e.Message + (o.Checks.Count > 1 ? " The other checks were not run." : "");
        r.Duration = elapsed;
        r.Timestamp = DateTime.UtcNow;
        return r;
    }

    private static RedisHealthResult Persistence(RedisHealthResult r, Dictionary<string, string> info, string? save, RedisHealthOptions o)
    {
        var rdbStatus = info.GetValueOrDefault("rdb_last_bgsave_status") ?? "ok";
        var aofOn = info.GetValueOrDefault("aof_enabled") == "1";
        var aofWrite = info.GetValueOrDefault("aof_last_write_status") ?? "ok";
        var aofRewrite = info.GetValueOrDefault("aof_last_bgrewrite_status") ?? "ok";
        var changes = L(info, "rdb_changes_since_last_save") ?? 0;
        var lastSave = DateTimeOffset.FromUnixTimeSeconds(L(info, "rdb_last_save_time") ?? 0).UtcDateTime;
        var age = DateTime.UtcNow - lastSave;
        var rdbOn = save is null ? (bool?)null : save.Trim().Length > 0;
        r.Value = Math.Round(age.TotalHours, 2);
        r.Threshold = $"critical when the last save or AOF write failed; warn when unsaved changes are older than {o.RdbAgeWarningHours} h";
        var parts = new List<string>();
        if (rdbOn != false || rdbStatus != "ok") parts.Add($"RDB: last save {Span(age)} ago ({rdbStatus}), {changes} changes since");
        else parts.Add("RDB off (save \"\")");
        parts.Add(aofOn ? $"AOF on (last write {aofWrite}, last rewrite {aofRewrite})" : "AOF off");
        if (rdbStatus != "ok" || (aofOn && (aofWrite != "ok" || aofRewrite != "ok")))
        {
            r.Status = CheckStatus.Critical;
            r.Message = string.Join("; ", parts) + ": persistence is failing (see the Redis log: disk full? permissions?).";
        }
        else if (rdbOn != false && !aofOn && changes > 0 && age.TotalHours > o.RdbAgeWarningHours)
        {
            r.Status = CheckStatus.Warning;
            r.Message = string.Join("; ", parts) + $": {changes} changes not on disk for over {o.RdbAgeWarningHours} h.";
        }
        else
        {
            r.Status = CheckStatus.Healthy;
            r.Message = string.Join("; ", parts) + (rdbOn == false && !aofOn ? " (cache only: nothing is kept over a restart)." : ".");
        }
        return r;
    }

    private static RedisHealthResult Replication(RedisHealthResult r, Dictionary<string, string> info, RedisHealthOptions o)
    {
        var role = info.GetValueOrDefault("role") ?? "?";
        r.Threshold = $"warn > {o.ReplicationLagWarningSeconds} s; critical > {o.ReplicationLagCriticalSeconds} s or link down";
        if (role == "slave")
        {
            var link = info.GetValueOrDefault("master_link_status") ?? "?";
            var lag = L(info, "master_last_io_seconds_ago") ?? -1;
            r.Value = lag;
            var master = $"{info.GetValueOrDefault("master_host")}:{info.GetValueOrDefault("master_port")}";
            if (link != "up")
            {
                r.Status = CheckStatus.Critical;
                r.Message = $"Replica of {master}: link {link}" + (info.GetValueOrDefault("master_sync_in_progress") == "1" ? " (full sync in progress)." : $", down for {L(info, "master_link_down_since_seconds") ?? 0} s.");
            }
            else
            {
                r.Status = lag > o.ReplicationLagCriticalSeconds ? CheckStatus.Critical : lag > o.ReplicationLagWarningSeconds ? CheckStatus.Warning : CheckStatus.Healthy;
                r.Message = $"Replica of {master}: link up, last contact {lag} s ago.";
            }
            return r;
        }
        var replicas = info.Where(kv => kv.Key.StartsWith("slave", StringComparison.Ordinal) && int.TryParse(kv.Key[5..], out _))
            .Select(kv => kv.Value.Split(',').Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1])).ToList();
        if (replicas.Count == 0)
        {
            r.Status = CheckStatus.Healthy; r.Value = 0L;
            r.Message = $"Role {role}, no replica connected.";
            return r;
        }
        var worst = replicas.Max(x => long.TryParse(x.GetValueOrDefault("lag"), out var l) ? l : 0);
        var offline = replicas.Where(x => x.GetValueOrDefault("state") != "online").ToList();
        r.Value = worst;
        r.Status = offline.Count > 0 || worst > o.ReplicationLagCriticalSeconds ? CheckStatus.Critical : worst > o.ReplicationLagWarningSeconds ? CheckStatus.Warning : CheckStatus.Healthy;
        r.Message = $"Role {role} with {replicas.Count} replica(s): " + string.Join(", ", replicas.Select(x => $"{x.GetValueOrDefault("ip")}:{x.GetValueOrDefault("port")} {x.GetValueOrDefault("state")} lag {x.GetValueOrDefault("lag")} s")) + ".";
        return r;
    }

    /// <summary>INFO's "name:value" lines (sections and comments skipped).</summary>
    public static Dictionary<string, string> ParseInfo(string text)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            var colon = line.IndexOf(':');
            if (colon > 0) d[line[..colon]] = line[(colon + 1)..];
        }
        return d;
    }

    private static long? L(IReadOnlyDictionary<string, string> d, string k) => d.TryGetValue(k, out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : null;
    private static double? D(IReadOnlyDictionary<string, string> d, string k) => d.TryGetValue(k, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : null;
    internal static string Bytes(long b) => ByteSize.Format(b, ByteFormat.Iec);

    internal static string Span(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{(int)t.TotalDays} d {t.Hours} h" : t.TotalHours >= 1 ? $"{(int)t.TotalHours} h {t.Minutes} min" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes} min {t.Seconds} s" : $"{(int)t.TotalSeconds} s";
}
