namespace OpsTools.Database;

/// <summary>
/// Vacuum state of one table (pg_stat_all_tables with its sizes), judged by check_postgres-style
/// rules: dead-tuple ratio and time since the last (auto)vacuum, counted only when there is
/// something to clean (see Get-DbVacuumStatus's help for the exact rules).
/// </summary>
public class DbVacuumStatusResult : CheckResult, IDbIdentity
{
    /// <summary>The environment entry's name, or host:port/database.</summary>
    public string Instance { get; set; } = "";
    /// <summary>Host name, address or socket folder of the server.</summary>
    public string Server { get; set; } = "";
    /// <summary>TCP port of the server.</summary>
    public int Port { get; set; }
    /// <summary>The database the table is in.</summary>
    public string Database { get; set; } = "";
    /// <summary>Lets the next OpsTools command in the pipeline reuse these connection settings (no secret in it).</summary>
    public string? ConnectionId { get; set; }
    /// <summary>The table's schema; empty on a result that says the database could not be read.</summary>
    public string Schema { get; set; } = "";
    /// <summary>The table's name; empty on a result that says the database could not be read.</summary>
    public string Table { get; set; } = "";
    /// <summary>n_live_tup: estimated live rows.</summary>
    public long LiveTuples { get; set; }
    /// <summary>n_dead_tup: estimated dead rows that VACUUM would remove.</summary>
    public long DeadTuples { get; set; }
    /// <summary>DeadTuples / (LiveTuples + DeadTuples), 0..1 (0 for an empty table).</summary>
    public double DeadRatio { get; set; }
    /// <summary>n_mod_since_analyze: rows changed since the last (auto)analyze.</summary>
    public long ModificationsSinceAnalyze { get; set; }
    /// <summary>pg_relation_size: the table's main fork in bytes (null when the table was locked by another session).</summary>
    public long? TableBytes { get; set; }
    /// <summary>pg_total_relation_size: table, indexes and TOAST in bytes (null when the table was locked by another session).</summary>
    public long? TotalBytes { get; set; }
    /// <summary>Last manual VACUUM (UTC), null when never.</summary>
    public DateTime? LastVacuum { get; set; }
    /// <summary>Last autovacuum (UTC), null when never.</summary>
    public DateTime? LastAutovacuum { get; set; }
    /// <summary>Last manual ANALYZE (UTC), null when never.</summary>
    public DateTime? LastAnalyze { get; set; }
    /// <summary>Last autoanalyze (UTC), null when never.</summary>
    public DateTime? LastAutoanalyze { get; set; }
    /// <summary>The later of LastVacuum and LastAutovacuum.</summary>
    public DateTime? LastAnyVacuum => LastVacuum is null ? LastAutovacuum : LastAutovacuum is null ? LastVacuum : LastVacuum > LastAutovacuum ? LastVacuum : LastAutovacuum;
    /// <summary>Hours since LastAnyVacuum at the time of the check; null when never vacuumed.</summary>
    public double? VacuumAgeHours { get; set; }
    /// <summary>Manual VACUUMs since the statistics were reset.</summary>
    public long VacuumCount { get; set; }
    /// <summary>Autovacuums since the statistics were reset.</summary>
    public long AutovacuumCount { get; set; }
    /// <summary>Manual ANALYZEs since the statistics were reset.</summary>
    public long AnalyzeCount { get; set; }
    /// <summary>Autoanalyzes since the statistics were reset.</summary>
    public long AutoanalyzeCount { get; set; }
}

/// <summary>What VACUUM / ANALYZE did to one table.</summary>
public class DbVacuumResult : IDbIdentity
{
    /// <summary>The environment entry's name, or host:port/database.</summary>
    public string Instance { get; set; } = "";
    /// <summary>Host name, address or socket folder of the server.</summary>
    public string Server { get; set; } = "";
    /// <summary>TCP port of the server.</summary>
    public int Port { get; set; }
    /// <summary>The database the table is in.</summary>
    public string Database { get; set; } = "";
    /// <summary>The table's schema.</summary>
    public string Schema { get; set; } = "";
    /// <summary>The table's name.</summary>
    public string Table { get; set; } = "";
    /// <summary>The statement that ran, without the table: VACUUM, VACUUM (ANALYZE), VACUUM (FULL), VACUUM (FULL, ANALYZE) or ANALYZE.</summary>
    public string Operation { get; set; } = "";
    /// <summary>True when the statement completed on the server.</summary>
    public bool Succeeded { get; set; }
    /// <summary>n_dead_tup before the statement.</summary>
    public long? DeadTuplesBefore { get; set; }
    /// <summary>n_dead_tup after the statement (as the statement reported it to the statistics system).</summary>
    public long? DeadTuplesAfter { get; set; }
    /// <summary>n_live_tup after the statement.</summary>
    public long? LiveTuplesAfter { get; set; }
    /// <summary>pg_relation_size before (null when the table was locked by another session at the time).</summary>
    public long? TableBytesBefore { get; set; }
    /// <summary>pg_relation_size after.</summary>
    public long? TableBytesAfter { get; set; }
    /// <summary>pg_total_relation_size before (table, indexes, TOAST).</summary>
    public long? TotalBytesBefore { get; set; }
    /// <summary>pg_total_relation_size after.</summary>
    public long? TotalBytesAfter { get; set; }
    /// <summary>TotalBytesBefore - TotalBytesAfter, when both are known.</summary>
    public long? BytesFreed => TotalBytesBefore is long b && TotalBytesAfter is long a ? b - a : null;
    /// <summary>How long the statement ran (including waiting for locks).</summary>
    public TimeSpan Duration { get; set; }
    /// <summary>One sentence about the outcome.</summary>
    public string Message { get; set; } = "";
    /// <summary>When the statement finished, in UTC.</summary>
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;
    /// <summary>Lets the next OpsTools command in the pipeline reuse these connection settings (no secret in it).</summary>
    public string? ConnectionId { get; set; }

    public override string ToString() => $"{Operation} {Schema}.{Table}: {(Succeeded ? "done" : "failed")} in {Duration.TotalSeconds:0.###} s";
}

/// <summary>What REINDEX did to one index or to the indexes of one table.</summary>
public class DbReindexResult : IDbIdentity
{
    /// <summary>The environment entry's name, or host:port/database.</summary>
    public string Instance { get; set; } = "";
    /// <summary>Host name, address or socket folder of the server.</summary>
    public string Server { get; set; } = "";
    /// <summary>TCP port of the server.</summary>
    public int Port { get; set; }
    /// <summary>The database.</summary>
    public string Database { get; set; } = "";
    /// <summary>The schema of the table and its indexes.</summary>
    public string Schema { get; set; } = "";
    /// <summary>The table.</summary>
    public string Table { get; set; } = "";
    /// <summary>The index, for REINDEX INDEX; null for REINDEX TABLE (all of the table's indexes).</summary>
    public string? Index { get; set; }
    /// <summary>The statement kind without names: REINDEX INDEX, REINDEX TABLE, with CONCURRENTLY when used.</summary>
    public string Operation { get; set; } = "";
    /// <summary>True when REINDEX ... CONCURRENTLY was used (no write lock on the table).</summary>
    public bool Concurrently { get; set; }
    /// <summary>True when the statement completed on the server.</summary>
    public bool Succeeded { get; set; }
    /// <summary>How many indexes were rebuilt (1 for an index; the table's indexes for a table).</summary>
    public int IndexCount { get; set; }
    /// <summary>Bytes of the index (or the sum of the table's indexes, pg_indexes_size) before.</summary>
    public long? SizeBefore { get; set; }
    /// <summary>Bytes after.</summary>
    public long? SizeAfter { get; set; }
    /// <summary>SizeBefore - SizeAfter, when both are known.</summary>
    public long? BytesFreed => SizeBefore is long b && SizeAfter is long a ? b - a : null;
    /// <summary>How long the statement ran (including waiting for locks).</summary>
    public TimeSpan Duration { get; set; }
    /// <summary>One sentence about the outcome.</summary>
    public string Message { get; set; } = "";
    /// <summary>When the statement finished, in UTC.</summary>
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;
    /// <summary>Lets the next OpsTools command in the pipeline reuse these connection settings (no secret in it).</summary>
    public string? ConnectionId { get; set; }

    public override string ToString() => $"{Operation} {Schema}.{Index ?? Table}: {(Succeeded ? "done" : "failed")} in {Duration.TotalSeconds:0.###} s";
}
