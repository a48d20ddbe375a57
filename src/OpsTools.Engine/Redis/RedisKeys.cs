using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using OpsTools.Redis;
using StackExchange.Redis;

namespace OpsTools.Engine.Redis;

/// <summary>What Get-RedisKey lists.</summary>
public sealed class RedisKeyQuery
{
    /// <summary>A glob-style MATCH pattern (*, ?, [abc]); default '*'.</summary>
    public string Pattern { get; init; } = "*";
    /// <summary>Only keys of this type (SCAN ... TYPE).</summary>
    public string? Type { get; init; }
    /// <summary>Stop after this many keys (0: all).</summary>
    public long First { get; init; }
    /// <summary>SCAN's COUNT hint: how much of the keyspace one SCAN call walks.</summary>
    public int PageSize { get; init; } = 1000;
    /// <summary>Ask MEMORY USAGE for each key.</summary>
    public bool Memory { get; init; } = true;
}

/// <summary>
/// Keys by SCAN (never KEYS: it blocks the server while it walks the whole keyspace). Each SCAN page is followed by one
/// pipelined round trip for TYPE, PTTL and MEMORY USAGE of that page's keys. Clearing: FLUSHDB/FLUSHALL, or SCAN + UNLINK
/// in batches (UNLINK frees memory in the background, so the server never stalls on a big key).
/// </summary>
public static class RedisKeys
{
    public static async IAsyncEnumerable<RedisKeyInfo> ListAsync(RedisTarget target, RedisKeyQuery q, [EnumeratorCancellation] CancellationToken ct)
    {
        var db = await target.ConnectAsync(ct).ConfigureAwait(false);
        long seen = 0;
        await foreach (var page in ScanPagesAsync(target, db, q.Pattern, q.Type, q.PageSize, ct).ConfigureAwait(false))
        {
            var keys = q.First > 0 ? page.Take((int)Math.Min(page.Count, q.First - seen)).ToList() : page;
            if (keys.Count == 0) continue;
            var batch = db.CreateBatch();
            var types = keys.Select(k => batch.ExecuteAsync("TYPE", k)).ToList();
            var ttls = keys.Select(k => batch.ExecuteAsync("PTTL", k)).ToList();
            var mems = q.Memory ? keys.Select(k => batch.ExecuteAsync("MEMORY", "USAGE", k)).ToList() : null;
            batch.Execute();
            for (var i = 0; i < keys.Count; i++)
            {
                var info = new RedisKeyInfo { Server = target.Server, Database = target.Database, Key = keys[i].ToString(), RedisId = target.Id };
                try
                {
                    info.Type = (string?)await types[i].WaitAsync(ct).ConfigureAwait(false) ?? "none";
                    var pttl = (long)await ttls[i].WaitAsync(ct).ConfigureAwait(false);
                    info.Ttl = pttl >= 0 ? TimeSpan.FromMilliseconds(pttl) : null;
                }
                catch (Exception e) when (RedisErrors.IsRedisFailure(e) && !ct.IsCancellationRequested)
                {
                    throw RedisErrors.Command(target, "TYPE/PTTL", e);
                }
                if (mems is not null)
                {
                    try { var m = await mems[i].WaitAsync(ct).ConfigureAwait(false); info.MemoryBytes = m.IsNull ? null : (long)m; }
                    catch (RedisServerException) { info.MemoryBytes = null; } // MEMORY not allowed for this user
                    catch (Exception e) when (RedisErrors.IsRedisFailure(e) && !ct.IsCancellationRequested) { throw RedisErrors.Command(target, "MEMORY USAGE", e); }
                }
                yield return info;
            }
            seen += keys.Count;
            if (q.First > 0 && seen >= q.First) yield break;
        }
    }

    /// <summary>SCAN cursor MATCH pattern COUNT n [TYPE t], page by page, until the cursor is back at 0.</summary>
    internal static async IAsyncEnumerable<List<RedisKey>> ScanPagesAsync(RedisTarget target, IDatabase db, string pattern, string? type, int pageSize,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var cursor = "0";
        var seen = new HashSet<string>(StringComparer.Ordinal); // SCAN may return a key twice (rehashing)
        do
        {
            ct.ThrowIfCancellationRequested();
            var args = new List<object> { cursor, "MATCH", pattern, "COUNT", pageSize };
            if (type is not null) { args.Add("TYPE"); args.Add(type); }
            RedisResult reply;
            try { reply = await db.ExecuteAsync("SCAN", args).WaitAsync(ct).ConfigureAwait(false); }
            catch (Exception e) when (RedisErrors.IsRedisFailure(e) && !ct.IsCancellationRequested) { throw RedisErrors.Command(target, "SCAN", e); }
            var parts = (RedisResult[])reply!;
            cursor = (string)parts[0]!;
            var page = ((RedisKey[])parts[1]!).Where(k => seen.Add(k.ToString())).ToList();
            yield return page;
        } while (cursor != "0");
    }

    /// <summary>FLUSHDB or FLUSHALL, with the keys and used_memory before and after.</summary>
    public static async Task<RedisClearResult> FlushAsync(RedisTarget target, bool all, bool whatIf, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var db = await target.ConnectAsync(ct).ConfigureAwait(false);
        var r = new RedisClearResult { Server = target.Server, Database = all ? null : target.Database, Mode = all ? "FlushAll" : "FlushDb", WhatIf = whatIf };
        try
        {
            var before = RedisHealth.ParseInfo((string?)await db.ExecuteAsync("INFO", "memory").WaitAsync(ct).ConfigureAwait(false) ?? "");
            r.Keys = all ? await AllKeysAsync(db, ct).ConfigureAwait(false) : (long)await db.ExecuteAsync("DBSIZE").WaitAsync(ct).ConfigureAwait(false);
            if (!whatIf)
            {
                await db.ExecuteAsync(all ? "FLUSHALL" : "FLUSHDB", "SYNC").WaitAsync(ct).ConfigureAwait(false);
                var after = RedisHealth.ParseInfo((string?)await db.ExecuteAsync("INFO", "memory").WaitAsync(ct).ConfigureAwait(false) ?? "");
                r.Bytes = Math.Max(0, long.Parse(before["used_memory"], CultureInfo.InvariantCulture) - long.Parse(after["used_memory"], CultureInfo.InvariantCulture));
            }
            else
            {
                // What would go: the dataset's share of used_memory (INFO memory used_memory_dataset), for this database's share of the keys.
                var dataset = long.Parse(before.GetValueOrDefault("used_memory_dataset", "0"), CultureInfo.InvariantCulture);
                var total = await AllKeysAsync(db, ct).ConfigureAwait(false);
                r.Bytes = total == 0 ? 0 : (long)(dataset * ((double)r.Keys / total));
            }
        }
        catch (Exception e) when (RedisErrors.IsRedisFailure(e) && !ct.IsCancellationRequested)
        {
            throw RedisErrors.Command(target, all ? "FLUSHALL" : "FLUSHDB", e);
        }
        r.Duration = watch.Elapsed;
        r.Timestamp = DateTime.UtcNow;
        return r;
    }

    private static async Task<long> AllKeysAsync(IDatabase db, CancellationToken ct)
    {
        var info = RedisHealth.ParseInfo((string?)await db.ExecuteAsync("INFO", "keyspace").WaitAsync(ct).ConfigureAwait(false) ?? "");
        return info.Where(kv => kv.Key.StartsWith("db", StringComparison.Ordinal))
            .Sum(kv => long.Parse(kv.Value.Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// SCAN MATCH pattern, then per batch one pipelined round trip of MEMORY USAGE and UNLINK (or only MEMORY USAGE with
    /// <paramref name="whatIf"/>). Keys that expire or are deleted by others meanwhile are not counted.
    /// </summary>
    public static async Task<RedisClearResult> RemoveMatchingAsync(RedisTarget target, string pattern, int batchSize, bool whatIf,
        Action<long, long>? progress, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var db = await target.ConnectAsync(ct).ConfigureAwait(false);
        var r = new RedisClearResult { Server = target.Server, Database = target.Database, Mode = "Pattern", Pattern = pattern, WhatIf = whatIf };
        var pending = new List<RedisKey>();
        async Task Flush()
        {
            if (pending.Count == 0) return;
            var batch = db.CreateBatch();
            var mems = pending.Select(k => batch.ExecuteAsync("MEMORY", "USAGE", k)).ToList();
            var unlinked = whatIf ? null : batch.ExecuteAsync("UNLINK", pending.Cast<object>().ToArray());
            var exists = whatIf ? batch.ExecuteAsync("EXISTS", pending.Cast<object>().ToArray()) : null;
            batch.Execute();
            long bytes = 0;
            foreach (var m in mems)
            {
                try { var v = await m.WaitAsync(ct).ConfigureAwait(false); if (!v.IsNull) bytes += (long)v; }
                catch (RedisServerException) { } // MEMORY not allowed: the bytes stay uncounted
            }
            r.Keys += (long)await (unlinked ?? exists)!.WaitAsync(ct).ConfigureAwait(false);
            r.Bytes += bytes;
            r.Batches++;
            progress?.Invoke(r.Keys, r.Bytes);
            pending.Clear();
        }
        try
        {
            await foreach (var page in ScanPagesAsync(target, db, pattern, null, Math.Max(batchSize, 100), ct).ConfigureAwait(false))
            {
                foreach (var k in page)
                {
                    pending.Add(k);
                    if (pending.Count >= batchSize) await Flush().ConfigureAwait(false);
                }
            }
            await Flush().ConfigureAwait(false);
        }
        catch (Exception e) when (RedisErrors.IsRedisFailure(e) && !ct.IsCancellationRequested)
        {
            throw RedisErrors.Command(target, $"removing keys matching '{pattern}' (after {r.Keys} keys)", e);
        }
        r.Duration = watch.Elapsed;
        r.Timestamp = DateTime.UtcNow;
        return r;
    }
}
