using System.Globalization;

namespace OpsTools.Redis;

/// <summary>
/// One Redis health check (Get-RedisHealth): Reachable, Latency, Memory, Fragmentation, Evictions, HitRate, Clients,
/// Persistence, Replication, Keyspace. The INFO fields the check used are in <see cref="Fields"/>.
/// </summary>
public class RedisHealthResult : CheckResult
{
    public RedisHealthResult() => Area = "Redis";

    /// <summary>host:port of the server.</summary>
    public string Server { get; set; } = "";
    /// <summary>The database number the command connected to (Keyspace: the database the result is about).</summary>
    public int Database { get; set; }
    /// <summary>redis_version from INFO server (null when the server could not be reached).</summary>
    public string? RedisVersion { get; set; }
    /// <summary>master or slave (INFO replication role).</summary>
    public string? Role { get; set; }
    /// <summary>The error id when the server could not be reached (RedisUnreachable, RedisAuthenticationFailed ...).</summary>
    public string? ErrorId { get; set; }
    /// <summary>The INFO fields (name = value, as the server wrote them) the check was computed from.</summary>
    public IReadOnlyDictionary<string, string> Fields { get; set; } = new Dictionary<string, string>();
}

/// <summary>One key found by SCAN (Get-RedisKey): its type, time to live and memory.</summary>
public sealed class RedisKeyInfo
{
    /// <summary>host:port of the server.</summary>
    public string Server { get; set; } = "";
    public int Database { get; set; }
    /// <summary>The key name (binary-safe names are shown as UTF-8).</summary>
    public string Key { get; set; } = "";
    /// <summary>string, list, set, zset, hash, stream (TYPE); "none" when it expired between SCAN and TYPE.</summary>
    public string Type { get; set; } = "";
    /// <summary>Time to live (PTTL); null for a key without an expiry.</summary>
    public TimeSpan? Ttl { get; set; }
    /// <summary>MEMORY USAGE in bytes (null with -NoMemory, or when the server does not allow MEMORY).</summary>
    public long? MemoryBytes { get; set; }
    /// <summary>Carries the server to the next Redis command in a pipeline (no secret).</summary>
    public string RedisId { get; set; } = "";

    public override string ToString() => Key;
}

/// <summary>What Clear-RedisCache removed (or, with -WhatIf, would remove).</summary>
public sealed class RedisClearResult
{
    /// <summary>host:port of the server.</summary>
    public string Server { get; set; } = "";
    /// <summary>The database cleared (null for FLUSHALL).</summary>
    public int? Database { get; set; }
    /// <summary>FlushDb, FlushAll or Pattern.</summary>
    public string Mode { get; set; } = "";
    /// <summary>The pattern (Pattern mode).</summary>
    public string? Pattern { get; set; }
    /// <summary>Keys removed (with -WhatIf: keys that would go).</summary>
    public long Keys { get; set; }
    /// <summary>Bytes freed: MEMORY USAGE of the removed keys (Pattern), or used_memory before minus after (FlushDb/FlushAll).</summary>
    public long Bytes { get; set; }
    /// <summary>True when nothing was removed because of -WhatIf.</summary>
    public bool WhatIf { get; set; }
    /// <summary>UNLINK batches sent (Pattern mode).</summary>
    public int Batches { get; set; }
    public TimeSpan Duration { get; set; }
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;
    /// <summary>Bytes as a person reads them (12.3 MiB).</summary>
    public string Freed => ByteSize.Format(Bytes, ByteFormat.Iec);

    public override string ToString() => $"{Mode} {Server}: {Keys} keys, {Freed}{(WhatIf ? " (WhatIf)" : "")}";
}

/// <summary>One consumer group of a stream queue (XINFO GROUPS).</summary>
public sealed class QueueConsumerGroup
{
    public string Name { get; set; } = "";
    public long Consumers { get; set; }
    /// <summary>Delivered to a consumer but not acknowledged (XPENDING count).</summary>
    public long Pending { get; set; }
    /// <summary>Entries not yet delivered to the group (Redis 7: lag); null when the server cannot tell.</summary>
    public long? Lag { get; set; }
    public string LastDeliveredId { get; set; } = "";
    public override string ToString() => $"{Name} (pending {Pending}, lag {Lag?.ToString(CultureInfo.InvariantCulture) ?? "?"})";
}

/// <summary>
/// The size of one queue at one moment (Get-QueueStatus), as a check result: the backlog (what waits to be processed)
/// against the thresholds, and its growth since a previous reading.
/// </summary>
public class QueueStatusResult : CheckResult
{
    public QueueStatusResult() { Area = "Queues"; Check = "QueueStatus"; }

    /// <summary>The queue's name (as the application names it: triage, email, default, celery ...).</summary>
    public string Name { get; set; } = "";
    /// <summary>List, Stream, SortedSet, BullMQ, RQ or Celery.</summary>
    public string Kind { get; set; } = "";
    /// <summary>The Redis key measured (the main one for BullMQ/RQ: bull:&lt;q&gt;:wait, rq:queue:&lt;q&gt;).</summary>
    public string Key { get; set; } = "";
    /// <summary>host:port of the server.</summary>
    public string Server { get; set; } = "";
    public int Database { get; set; }
    /// <summary>False when no key of the queue exists (an empty or unknown queue).</summary>
    public bool Exists { get; set; }
    /// <summary>LLEN, ZCARD or XLEN of the main key; BullMQ: wait + paused + prioritized.</summary>
    public long Length { get; set; }
    /// <summary>What waits to be processed, the number the thresholds apply to: Length, except for streams with consumer groups (the largest group lag + pending).</summary>
    public long Backlog { get; set; }
    /// <summary>Jobs being worked on (BullMQ active, RQ started registry, Celery unacked), when the layout keeps them.</summary>
    public long? Active { get; set; }
    /// <summary>Delayed/scheduled jobs (BullMQ delayed, RQ scheduled).</summary>
    public long? Delayed { get; set; }
    /// <summary>Failed jobs kept by the library (BullMQ failed, RQ failed registry).</summary>
    public long? Failed { get; set; }
    /// <summary>Streams: pending entries of all groups together.</summary>
    public long? Pending { get; set; }
    /// <summary>Streams: the largest group lag.</summary>
    public long? Lag { get; set; }
    /// <summary>Streams: the consumer groups.</summary>
    public IReadOnlyList<QueueConsumerGroup> Groups { get; set; } = Array.Empty<QueueConsumerGroup>();
    /// <summary>The size of every key of the queue's layout (bull:email:wait = 12, ...).</summary>
    public IReadOnlyDictionary<string, long> Parts { get; set; } = new Dictionary<string, long>();
    /// <summary>Backlog now minus backlog at the previous reading (null without one).</summary>
    public long? Growth { get; set; }
    /// <summary>Growth per minute between the two readings (null without a previous reading).</summary>
    public double? GrowthPerMinute { get; set; }
    /// <summary>Time between the previous reading and this one.</summary>
    public TimeSpan? Interval { get; set; }
    /// <summary>Carries the server to the next Redis command in a pipeline (no secret).</summary>
    public string RedisId { get; set; } = "";
}
