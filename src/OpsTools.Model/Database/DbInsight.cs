using System.Globalization;

namespace OpsTools.Database;

/// <summary>
/// One normalized statement from <c>pg_stat_statements</c> (Get-DbSlowQuery), as a check result:
/// <c>Warning</c> when its mean time is above the slow-query threshold (runbooks: 1 s), else <c>Healthy</c>.
/// </summary>
public class DbSlowQuery : CheckResult, IDbIdentity
{
    /// <summary>The environment entry's name, or host:port/database.</summary>
    public string Instance { get; set; } = "";
    /// <summary>Host (or socket directory) of the server.</summary>
    public string Server { get; set; } = "";
    /// <summary>TCP port of the server.</summary>
    public int Port { get; set; }
    /// <summary>The database the statement ran in (pg_stat_statements.dbid).</summary>
    public string Database { get; set; } = "";
    /// <summary>Lets the next OpsTools database command reuse this connection's settings; carries no secret.</summary>
    public string? ConnectionId { get; set; }
    /// <summary>pg_stat_statements.queryid (null when the statement is not visible to the connected role).</summary>
    public long? QueryId { get; set; }
    /// <summary>The role that ran the statement (pg_stat_statements.userid).</summary>
    public string User { get; set; } = "";
    /// <summary>Times the statement was executed.</summary>
    public long Calls { get; set; }
    /// <summary>Total execution time (total_exec_time).</summary>
    public TimeSpan TotalTime { get; set; }
    /// <summary>Mean execution time (mean_exec_time).</summary>
    public TimeSpan MeanTime { get; set; }
    /// <summary>Shortest execution (min_exec_time).</summary>
    public TimeSpan MinTime { get; set; }
    /// <summary>Longest execution (max_exec_time).</summary>
    public TimeSpan MaxTime { get; set; }
    /// <summary>Standard deviation of the execution time (stddev_exec_time).</summary>
    public TimeSpan StdDevTime { get; set; }
    /// <summary>Rows returned or affected, all calls together.</summary>
    public long Rows { get; set; }
    /// <summary>Shared-buffer hit ratio, 0..1: shared_blks_hit / (shared_blks_hit + shared_blks_read); null when no block was touched.</summary>
    public double? HitRatio { get; set; }
    /// <summary>The normalized statement text ($1, $2 ... for constants).</summary>
    public string Query { get; set; } = "";
    /// <summary>MeanTime in milliseconds (for sorting and thresholds in scripts).</summary>
    public double MeanMs => Math.Round(MeanTime.TotalMilliseconds, 3);
    /// <summary>TotalTime in milliseconds.</summary>
    public double TotalMs => Math.Round(TotalTime.TotalMilliseconds, 3);
}

/// <summary>What Get-DbSlowQuery orders by (always descending).</summary>
public enum DbSlowQuerySort
{
    /// <summary>mean_exec_time, as the runbooks' queries sort.</summary>
    MeanTime,
    /// <summary>total_exec_time: where the server spends its time.</summary>
    TotalTime,
    /// <summary>Number of executions.</summary>
    Calls,
    /// <summary>max_exec_time.</summary>
    MaxTime,
    /// <summary>Rows returned or affected.</summary>
    Rows,
}

/// <summary>One database of a server (Get-DbSize), as <c>\l+</c> lists it.</summary>
public class DbSize : IDbIdentity
{
    /// <summary>The environment entry's name, or host:port/database of the connection.</summary>
    public string Instance { get; set; } = "";
    public string Server { get; set; } = "";
    public int Port { get; set; }
    /// <summary>The listed database's name (so the object pipes into commands that take -Database).</summary>
    public string Database { get; set; } = "";
    /// <summary>Lets the next OpsTools database command reuse this connection's settings; carries no secret.</summary>
    public string? ConnectionId { get; set; }
    /// <summary>The database's name (same as Database).</summary>
    public string Name { get; set; } = "";
    /// <summary>pg_database_size(); null when the role may not connect to that database.</summary>
    public long? SizeBytes { get; set; }
    /// <summary>SizeBytes for people, 1024-based like pg_size_pretty: "8.3 MB", "1.2 GB".</summary>
    public string Size => ByteSize.FormatOrEmpty(SizeBytes, ByteFormat.Postgres);
    /// <summary>The owning role.</summary>
    public string Owner { get; set; } = "";
    /// <summary>Character encoding (UTF8 ...).</summary>
    public string Encoding { get; set; } = "";
    /// <summary>Sessions connected to it now (pg_stat_database.numbackends).</summary>
    public int Connections { get; set; }
    /// <summary>pg_database.datallowconn.</summary>
    public bool AllowConnections { get; set; }
    /// <summary>pg_database.datistemplate (templates are listed only with -IncludeTemplate).</summary>
    public bool IsTemplate { get; set; }
    public override string ToString() => $"{Name} {Size}";
}

/// <summary>Disk space of one table (Get-DbTableSize): the table, its indexes and its TOAST data.</summary>
public class DbTableSize : IDbIdentity
{
    public string Instance { get; set; } = "";
    public string Server { get; set; } = "";
    public int Port { get; set; }
    public string Database { get; set; } = "";
    /// <summary>Lets the next OpsTools database command reuse this connection's settings; carries no secret.</summary>
    public string? ConnectionId { get; set; }
    public string Schema { get; set; } = "";
    public string Table { get; set; } = "";
    /// <summary>r (table), p (partitioned table: its partitions are listed on their own) or m (materialized view).</summary>
    public string Kind { get; set; } = "";
    /// <summary>pg_total_relation_size: table (every fork) + indexes + TOAST.</summary>
    public long TotalBytes { get; set; }
    /// <summary>pg_relation_size: the table's main fork only.</summary>
    public long TableBytes { get; set; }
    /// <summary>pg_indexes_size: every index of the table (not of its TOAST table).</summary>
    public long IndexBytes { get; set; }
    /// <summary>pg_total_relation_size of the TOAST table (with its index); 0 when there is none.</summary>
    public long ToastBytes { get; set; }
    /// <summary>pg_class.reltuples; null when the table was never vacuumed or analyzed.</summary>
    public long? RowEstimate { get; set; }
    public string Total => ByteSize.Format(TotalBytes, ByteFormat.Postgres);
    public string TableSize => ByteSize.Format(TableBytes, ByteFormat.Postgres);
    public string IndexSize => ByteSize.Format(IndexBytes, ByteFormat.Postgres);
    public string ToastSize => ByteSize.Format(ToastBytes, ByteFormat.Postgres);
    public override string ToString() => $"{Schema}.{Table} {Total}";
}

/// <summary>What a <see cref="DbIndexAdvice"/> is about.</summary>
public enum DbIndexAdviceKind
{
    /// <summary>idx_scan = 0 since the statistics were reset; not unique, not a primary key, backs no constraint.</summary>
    UnusedIndex,
    /// <summary>Same table, columns, operator classes, collations, expressions and predicate as another index.</summary>
    DuplicateIndex,
    /// <summary>A large table read mostly by sequential scans: an index may be missing.</summary>
    MissingIndex,
}

/// <summary>
/// One piece of index advice (Get-DbIndexAdvice), as a Warning check result. The command never applies
/// <see cref="FixStatement"/>: review it, then run it yourself.
/// </summary>
public class DbIndexAdvice : CheckResult, IDbIdentity
{
    public string Instance { get; set; } = "";
    public string Server { get; set; } = "";
    public int Port { get; set; }
    public string Database { get; set; } = "";
    /// <summary>Lets the next OpsTools database command reuse this connection's settings; carries no secret.</summary>
    public string? ConnectionId { get; set; }
    public DbIndexAdviceKind Kind { get; set; }
    public string Schema { get; set; } = "";
    public string Table { get; set; } = "";
    /// <summary>The index the advice is about (null for MissingIndex); binds to -Index of Invoke-DbReindex.</summary>
    public string? Index { get; set; }
    /// <summary>Same as Index.</summary>
    public string? IndexName => Index;
    /// <summary>pg_get_indexdef of the index (null for MissingIndex).</summary>
    public string? IndexDefinition { get; set; }
    /// <summary>For DuplicateIndex: the index that stays.</summary>
    public string? DuplicateOf { get; set; }
    /// <summary>Size of the index (pg_relation_size); null for MissingIndex.</summary>
    public long? IndexBytes { get; set; }
    /// <summary>idx_scan of the index (UnusedIndex, DuplicateIndex) or of the whole table (MissingIndex).</summary>
    public long? Scans { get; set; }
    /// <summary>seq_scan of the table.</summary>
    public long? SeqScans { get; set; }
    /// <summary>seq_tup_read of the table: rows read by sequential scans.</summary>
    public long? SeqTupRead { get; set; }
    /// <summary>n_live_tup of the table.</summary>
    public long? LiveTuples { get; set; }
    /// <summary>For MissingIndex: columns the runbooks' pg_stats query points at (n_distinct &gt; 100, correlation &lt; 0.1), best first.</summary>
    public IReadOnlyList<string> CandidateColumns { get => _candidateColumns; set => _candidateColumns = TextList.From(value); }
    private IReadOnlyList<string> _candidateColumns = new TextList<string>();
    /// <summary>One sentence: why this is advised.</summary>
    public string Reason { get; set; } = "";
    /// <summary>The statement that would fix it, identifiers quoted. MissingIndex statements are SQL comments ("-- consider: ...") to be completed by a person.</summary>
    public string FixStatement { get; set; } = "";
    /// <summary>When the database's statistics were last reset (UTC; null: never since the cluster began collecting). Scan counts are since then.</summary>
    public DateTime? StatsResetTime { get; set; }
    /// <summary>IndexBytes for people.</summary>
    public string? IndexSize => IndexBytes is { } b ? ByteSize.Format(b, ByteFormat.Postgres) : null;
}
