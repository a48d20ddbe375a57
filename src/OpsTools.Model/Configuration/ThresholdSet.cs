using System.Globalization;
using System.Reflection;

namespace OpsTools.Configuration;

/// <summary>
/// The thresholds every check compares against. Defaults come from the runbooks; an environment
/// file's <c>Thresholds</c> table overrides them, and a command's own parameters override both.
/// </summary>
public sealed class ThresholdSet
{
    /// <summary>Response time above which a health endpoint is a warning (runbooks: target &lt; 2 s).</summary>
    public double LatencyWarningMs { get; set; } = 2000;
    /// <summary>Response time above which a health endpoint is critical (runbooks: "slow response time &gt; 5 s").</summary>
    public double LatencyCriticalMs { get; set; } = 5000;
    /// <summary>Memory use warning (runbooks: alert &gt; 85%).</summary>
    public double MemoryWarningPercent { get; set; } = 85;
    /// <summary>Memory use critical (runbooks: immediate &gt; 95%).</summary>
    public double MemoryCriticalPercent { get; set; } = 95;
    /// <summary>CPU use warning (runbooks: alert &gt; 80%).</summary>
    public double CpuWarningPercent { get; set; } = 80;
    /// <summary>Error-rate warning (runbooks: target &lt; 5%).</summary>
    public double ErrorRateWarningPercent { get; set; } = 5;
    /// <summary>Error-rate critical (runbooks: high error rate &gt; 10%).</summary>
    public double ErrorRateCriticalPercent { get; set; } = 10;
    /// <summary>p95 latency warning in milliseconds (runbooks: p95 &gt; 2 s).</summary>
    public double P95WarningMs { get; set; } = 2000;
    /// <summary>Database connections in use, as a share of max_connections (runbooks: &gt; 75%).</summary>
    public double DbConnectionsWarningPercent { get; set; } = 75;
    /// <summary>Database connections in use, as a share of the slots open to ordinary roles, above which it is critical (90%: a few slots before "too many connections").</summary>
    public double DbConnectionsCriticalPercent { get; set; } = 90;
    /// <summary>Transaction-ID age (max age(datfrozenxid)) that warns (check_postgres txn_wraparound default: 1.3 billion).</summary>
    public double DbWraparoundWarning { get; set; } = 1_300_000_000;
    /// <summary>Transaction-ID age that is critical (check_postgres txn_wraparound default: 1.4 billion).</summary>
    public double DbWraparoundCritical { get; set; } = 1_400_000_000;
    /// <summary>Replication replay lag in seconds that warns (no runbook value; a minute behind is worth a look).</summary>
    public double DbReplicationLagWarningSeconds { get; set; } = 60;
    /// <summary>Replication replay lag in seconds that is critical (no runbook value; five minutes of data at risk on failover).</summary>
    public double DbReplicationLagCriticalSeconds { get; set; } = 300;
    /// <summary>Hours since a table's last VACUUM or autovacuum above which it is a warning, when it has dead tuples to clean (check_postgres last_vacuum: warn 1 day).</summary>
    public double VacuumAgeWarningHours { get; set; } = 24;
    /// <summary>Hours since a table's last VACUUM or autovacuum above which it is critical, when its dead ratio is also at or above DeadRatioWarning (check_postgres last_vacuum: critical 2 days).</summary>
    public double VacuumAgeCriticalHours { get; set; } = 48;
    /// <summary>Dead tuples / (live + dead) at or above which a table is a warning (autovacuum_vacuum_scale_factor: 0.2).</summary>
    public double DeadRatioWarning { get; set; } = 0.2;
    /// <summary>Dead tuples / (live + dead) at or above which a table is critical (half of the table is dead rows).</summary>
    public double DeadRatioCritical { get; set; } = 0.5;
    /// <summary>Dead tuples below which a table has nothing worth vacuuming, whatever its ratio or age (autovacuum_vacuum_threshold: 50).</summary>
    public double VacuumMinDeadTuples { get; set; } = 50;
    /// <summary>Mean execution time above which a pg_stat_statements entry is a slow query (runbooks: <c>WHERE mean_exec_time &gt; 1000</c>, log_min_duration_statement = 1000).</summary>
    public double DbSlowQueryWarningMs { get; set; } = 1000;
    /// <summary>Free disk space below which a mount is a warning.</summary>
    public double DiskFreeWarningPercent { get; set; } = 20;
    /// <summary>Free disk space below which a mount is critical (runbooks: "Disk Space Low (&lt;10%)").</summary>
    public double DiskFreeCriticalPercent { get; set; } = 10;
    /// <summary>Days before certificate expiry that warn.</summary>
    public double CertificateWarningDays { get; set; } = 30;
    /// <summary>Days before certificate expiry that are critical.</summary>
    public double CertificateCriticalDays { get; set; } = 7;
    /// <summary>Redis used_memory as a share of maxmemory that warns (runbooks' memory alert: &gt; 85%).</summary>
    public double RedisMemoryWarningPercent { get; set; } = 85;
    /// <summary>Redis used_memory as a share of maxmemory that is critical (runbooks: &gt; 95%; at 100% Redis evicts or refuses writes).</summary>
    public double RedisMemoryCriticalPercent { get; set; } = 95;
    /// <summary>Cache hit rate (keyspace_hits / (hits + misses)) below which it is a warning (runbooks: "Cache Hit Rate Low (&lt;90%)").</summary>
    public double RedisHitRateWarningPercent { get; set; } = 90;
    /// <summary>mem_fragmentation_ratio above which it is a warning, when the fragmentation is also over 100 MB (Redis's active-defrag-ignore-bytes).</summary>
    public double RedisFragmentationWarningRatio { get; set; } = 1.5;
    /// <summary>Connected clients as a share of maxclients that warns (as for database connections: 75%).</summary>
    public double RedisClientsWarningPercent { get; set; } = 75;
    /// <summary>Connected clients as a share of maxclients that is critical (90%).</summary>
    public double RedisClientsCriticalPercent { get; set; } = 90;
    /// <summary>PING round trip in milliseconds that warns (no runbook value; a local Redis answers in well under 1 ms).</summary>
    public double RedisLatencyWarningMs { get; set; } = 50;
    /// <summary>PING round trip in milliseconds that is critical.</summary>
    public double RedisLatencyCriticalMs { get; set; } = 500;
    /// <summary>Hours since the last RDB save, with unsaved changes, that warn (no runbook value; a day of writes at risk).</summary>
    public double RedisRdbAgeWarningHours { get; set; } = 24;
    /// <summary>Replica lag in seconds that warns (as for PostgreSQL: 60).</summary>
    public double RedisReplicationLagWarningSeconds { get; set; } = 60;
    /// <summary>Replica lag in seconds that is critical (300).</summary>
    public double RedisReplicationLagCriticalSeconds { get; set; } = 300;
    /// <summary>Queue backlog at or above which a queue is a warning (no runbook number; the runbooks' "Queue backup" is P2).</summary>
    public double QueueBacklogWarning { get; set; } = 1000;
    /// <summary>Queue backlog at or above which a queue is critical.</summary>
    public double QueueBacklogCritical { get; set; } = 10000;
    /// <summary>Backlog growth per minute between two readings that warns (runbooks: "Increasing queue size", rate(queue_size[5m])).</summary>
    public double QueueGrowthWarningPerMinute { get; set; } = 60;
    /// <summary>Backlog growth per minute that is critical.</summary>
    public double QueueGrowthCriticalPerMinute { get; set; } = 600;
    /// <summary>PgBouncer: the longest client wait (maxwait) in seconds that warns (a waiting client is a full pool).</summary>
    public double PgBouncerMaxWaitWarningSeconds { get; set; } = 1;
    /// <summary>PgBouncer: maxwait in seconds that is critical (the runbooks' "connection pool exhausted").</summary>
    public double PgBouncerMaxWaitCriticalSeconds { get; set; } = 5;
    /// <summary>PgBouncer: server connections open as a share of pool_size that warns (the pool is nearly full).</summary>
    public double PgBouncerPoolUsedWarningPercent { get; set; } = 80;
    /// <summary>Error lines of one log source in the checked span (the daily check: the last 24 hours) at which it is a warning.</summary>
    public double LogErrorWarningCount { get; set; } = 10;
    /// <summary>Error lines of one log source in the checked span at which it is critical.</summary>
    public double LogErrorCriticalCount { get; set; } = 100;

    private static readonly PropertyInfo[] Settable =
        typeof(ThresholdSet).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite && p.PropertyType == typeof(double)).ToArray();

    /// <summary>The names <see cref="Apply"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = Settable.Select(p => p.Name).ToArray();

    /// <summary>A copy, so a command can override values without touching the environment's set.</summary>
    public ThresholdSet Clone() => (ThresholdSet)MemberwiseClone();

    /// <summary>
    /// Overrides values from a table of name = number. Names are matched without regard to case;
    /// an unknown name or a value that is not a number throws an <see cref="ArgumentException"/>
    /// that names it and lists the valid names.
    /// </summary>
    public ThresholdSet Apply(IEnumerable<KeyValuePair<string, object?>> values, string source)
    {
        foreach (var (key, raw) in values)
        {
            var prop = Settable.FirstOrDefault(p => string.Equals(p.Name, key, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException(
                    $"{source}: unknown threshold '{key}'. Valid names: {string.Join(", ", Names)}.");
            double number;
            try
            {
                number = raw switch
                {
                    null => throw new FormatException(),
                    string s => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
                    IConvertible c => c.ToDouble(CultureInfo.InvariantCulture),
                    _ => throw new FormatException(),
                };
            }
            catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
            {
                throw new ArgumentException($"{source}: threshold '{prop.Name}' must be a number, not '{raw}'.");
            }
            if (double.IsNaN(number) || number < 0)
                throw new ArgumentException($"{source}: threshold '{prop.Name}' must be zero or more, not {raw}.");
            prop.SetValue(this, number);
        }
        return this;
    }

    public override string ToString() =>
        string.Join("; ", Settable.Select(p => $"{p.Name}={((double)p.GetValue(this)!).ToString(CultureInfo.InvariantCulture)}"));
}
