using System.Diagnostics;
using System.Globalization;
using Npgsql;
using OpsTools.Configuration;
using OpsTools.Database;

namespace OpsTools.Engine.Database;

/// <summary>A table (or materialized view) as the catalog names it.</summary>
public sealed record PgTable(uint Oid, string Schema, string Name, long Pages)
{
    /// <summary>schema.name, unquoted, for messages and error targets.</summary>
    public string Display => Schema + "." + Name;
    /// <summary>"schema"."name", for SQL.</summary>
    public string Sql => PgSql.Qualified(Schema, Name);
}

/// <summary>Dead tuples and sizes of one table at one moment.</summary>
public sealed record PgTableStats(long? LiveTuples, long? DeadTuples, long? TableBytes, long? TotalBytes);

/// <summary>One row of pg_stat_all_tables with the table's sizes.</summary>
public sealed class VacuumStatusRow
{
    public string Schema { get; init; } = "";
    public string Table { get; init; } = "";
    public long LiveTuples { get; init; }
    public long DeadTuples { get; init; }
    public long ModificationsSinceAnalyze { get; init; }
    public long? TableBytes { get; init; }
    public long? TotalBytes { get; init; }
    public DateTime? LastVacuum { get; init; }
    public DateTime? LastAutovacuum { get; init; }
    public DateTime? LastAnalyze { get; init; }
    public DateTime? LastAutoanalyze { get; init; }
    public long VacuumCount { get; init; }
    public long AutovacuumCount { get; init; }
    public long AnalyzeCount { get; init; }
    public long AutoanalyzeCount { get; init; }
    /// <summary>The server's now(), so ages do not depend on the client's clock.</summary>
    public DateTime ServerNow { get; init; } = DateTime.UtcNow;
}

/// <summary>What to run on each table.</summary>
public sealed class VacuumOptions
{
    /// <summary>ANALYZE only, no VACUUM.</summary>
    public bool AnalyzeOnly { get; init; }
    /// <summary>VACUUM (ANALYZE).</summary>
    public bool Analyze { get; init; }
    /// <summary>VACUUM (FULL): rewrites the table under an ACCESS EXCLUSIVE lock.</summary>
    public bool Full { get; init; }

    /// <summary>The statement without the table: VACUUM, VACUUM (ANALYZE), VACUUM (FULL), VACUUM (FULL, ANALYZE) or ANALYZE.</summary>
    public string Operation
    {
        get
        {
            if (AnalyzeOnly)
            {
                if (Full) throw new ArgumentException("ANALYZE only cannot be FULL.");
                return "ANALYZE";
            }
            var options = new List<string>(2);
            if (Full) options.Add("FULL");
            if (Analyze) options.Add("ANALYZE");
            return options.Count == 0 ? "VACUUM" : $"VACUUM ({string.Join(", ", options)})";
        }
    }

    /// <summary>The statement for one table, its name quoted.</summary>
    public string Statement(PgTable table) => Statement(table.Schema, table.Name);

    /// <summary>The statement for one table, its name quoted.</summary>
    public string Statement(string schema, string table) => Operation + " " + PgSql.Qualified(schema, table);
}

/// <summary>
/// The rules of Get-DbVacuumStatus (check_postgres last_vacuum defaults, made quiet for tables with
/// nothing to clean):
/// <list type="number">
/// <item>Fewer dead tuples than <see cref="ThresholdSet.VacuumMinDeadTuples"/> (autovacuum's threshold, 50):
/// Healthy, however long ago the last vacuum was or whether there ever was one: there is nothing to vacuum.</item>
/// <item>Dead ratio at or above <see cref="ThresholdSet.DeadRatioCritical"/> (0.5): Critical; at or above
/// <see cref="ThresholdSet.DeadRatioWarning"/> (0.2): Warning.</item>
/// <item>Time since the later of last_vacuum and last_autovacuum (never = infinitely long) above
/// <see cref="ThresholdSet.VacuumAgeCriticalHours"/> (48): Critical when the dead ratio is also at or above
/// the warning ratio, else Warning; above <see cref="ThresholdSet.VacuumAgeWarningHours"/> (24): Warning.</item>
/// </list>
/// The worst rule wins; the message gives every reason.
/// </summary>
public static class VacuumStatusRules
{
    public static double DeadRatio(long live, long dead) =>
        live + dead <= 0 ? 0 : Math.Round((double)Math.Max(dead, 0) / (Math.Max(live, 0) + Math.Max(dead, 0)), 4);

    public static string Threshold(ThresholdSet t) => string.Create(CultureInfo.InvariantCulture,
        $"dead ratio warn >= {t.DeadRatioWarning}, critical >= {t.DeadRatioCritical}; last vacuum warn > {t.VacuumAgeWarningHours} h, critical > {t.VacuumAgeCriticalHours} h; only with >= {t.VacuumMinDeadTuples} dead tuples");

    public static (CheckStatus Status, string Message) Evaluate(VacuumStatusRow row, ThresholdSet t)
    {
        var ratio = DeadRatio(row.LiveTuples, row.DeadTuples);
        var last = Latest(row.LastVacuum, row.LastAutovacuum);
        double? ageHours = last is DateTime l ? Math.Max(0, (row.ServerNow - l).TotalHours) : null;
        var lastText = ageHours is double h ? $"last vacuumed {FormatAge(h)} ago" : "never vacuumed";
        var deadText = string.Create(CultureInfo.InvariantCulture, $"{row.DeadTuples} dead of {row.LiveTuples + row.DeadTuples} tuples ({ratio:P1})");

        if (row.DeadTuples < t.VacuumMinDeadTuples)
            return (CheckStatus.Healthy, $"{deadText}, {lastText}: nothing to vacuum.");

        var status = CheckStatus.Healthy;
        var reasons = new List<string>();
        if (ratio >= t.DeadRatioCritical) { status = CheckStatus.Critical; reasons.Add(string.Create(CultureInfo.InvariantCulture, $"dead ratio at or above {t.DeadRatioCritical:P0}")); }
        else if (ratio >= t.DeadRatioWarning) { status = CheckStatus.Warning; reasons.Add(string.Create(CultureInfo.InvariantCulture, $"dead ratio at or above {t.DeadRatioWarning:P0}")); }

        var age = ageHours ?? double.PositiveInfinity;
        if (age > t.VacuumAgeCriticalHours)
        {
            var s = ratio >= t.DeadRatioWarning ? CheckStatus.Critical : CheckStatus.Warning;
            if (s > status) status = s;
            reasons.Add(ageHours is null ? "never vacuumed" : string.Create(CultureInfo.InvariantCulture, $"not vacuumed for more than {t.VacuumAgeCriticalHours} h"));
        }
        else if (age > t.VacuumAgeWarningHours)
        {
            if (status < CheckStatus.Warning) status = CheckStatus.Warning;
            reasons.Add(string.Create(CultureInfo.InvariantCulture, $"not vacuumed for more than {t.VacuumAgeWarningHours} h"));
        }

        return status == CheckStatus.Healthy
            ? (status, $"{deadText}, {lastText}.")
            : (status, $"{deadText}, {lastText}: {string.Join("; ", reasons)}. Run Invoke-DbVacuum -Analyze on it.");
    }

    public static DateTime? Latest(DateTime? a, DateTime? b) => a is null ? b : b is null ? a : a > b ? a : b;

    private static string FormatAge(double hours) =>
        hours < 1 ? $"{Math.Round(hours * 60)} min" : hours < 48 ? string.Create(CultureInfo.InvariantCulture, $"{hours:0.#} h") : string.Create(CultureInfo.InvariantCulture, $"{hours / 24:0.#} days");
}

/// <summary>The SQL of Get-DbVacuumStatus and Invoke-DbVacuum.</summary>
public static class DbVacuumEngine
{
    internal const string StatusSql =
        "WITH " + MaintenanceSql.LockedCte + " " +
        "SELECT n.nspname, c.relname, coalesce(s.n_live_tup, 0), coalesce(s.n_dead_tup, 0), coalesce(s.n_mod_since_analyze, 0), " +
        "CASE WHEN k.relation IS NULL THEN pg_relation_size(c.oid) END, " +
        "CASE WHEN k.relation IS NULL THEN pg_total_relation_size(c.oid) END, " +
        "s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze, " +
        "coalesce(s.vacuum_count, 0), coalesce(s.autovacuum_count, 0), coalesce(s.analyze_count, 0), coalesce(s.autoanalyze_count, 0), now() " +
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
        "LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid " +
        "LEFT JOIN locked k ON k.relation = c.oid " +
        "WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't' AND (@all OR (" + MaintenanceSql.UserSchemaFilter + "))";

    internal const string TablesSql =
        "SELECT c.oid, n.nspname, c.relname, c.relpages::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
        "WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't' AND (@all OR (" + MaintenanceSql.UserSchemaFilter + ")) " +
        "ORDER BY c.relpages DESC, n.nspname, c.relname";

    internal const string StatsSql =
        "WITH " + MaintenanceSql.LockedCte + " " +
        // The statistics functions directly, not pg_stat_all_tables: the view aggregates over every
        // table of the database before filtering, which made this per-table query the main cost of
        // Invoke-DbVacuum next to vacuumdb (bench/VacuumBench).
        "SELECT c.oid, pg_stat_get_live_tuples(c.oid), pg_stat_get_dead_tuples(c.oid), " +
        "CASE WHEN k.relation IS NULL THEN pg_relation_size(c.oid) END, " +
        "CASE WHEN k.relation IS NULL THEN pg_total_relation_size(c.oid) END " +
        "FROM pg_class c LEFT JOIN locked k ON k.relation = c.oid " +
        "WHERE c.oid = ANY(@oids)";

    /// <summary>Vacuum state of every table of the target's database (system schemas only with <paramref name="includeSystem"/>).</summary>
    public static async Task<IReadOnlyList<VacuumStatusRow>> ReadStatusAsync(PgTarget target, bool includeSystem, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = new NpgsqlCommand(StatusSql, connection);
            cmd.Parameters.AddWithValue("all", includeSystem);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var rows = new List<VacuumStatusRow>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(new VacuumStatusRow
                {
                    Schema = reader.GetString(0),
                    Table = reader.GetString(1),
                    LiveTuples = reader.GetInt64(2),
                    DeadTuples = reader.GetInt64(3),
                    ModificationsSinceAnalyze = reader.GetInt64(4),
                    TableBytes = reader.IsDBNull(5) ? null : reader.GetInt64(5),
                    TotalBytes = reader.IsDBNull(6) ? null : reader.GetInt64(6),
                    LastVacuum = Utc(reader, 7),
                    LastAutovacuum = Utc(reader, 8),
                    LastAnalyze = Utc(reader, 9),
                    LastAutoanalyze = Utc(reader, 10),
                    VacuumCount = reader.GetInt64(11),
                    AutovacuumCount = reader.GetInt64(12),
                    AnalyzeCount = reader.GetInt64(13),
                    AutoanalyzeCount = reader.GetInt64(14),
                    ServerNow = Utc(reader, 15) ?? DateTime.UtcNow,
                });
            }
            return rows;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (MaintenanceSql.IsCancellation(e, cancellationToken)) throw new OperationCanceledException(cancellationToken);
            throw PgErrors.Statement(target, "Reading pg_stat_all_tables", e);
        }
    }

    /// <summary>The tables and materialized views of the database, largest first (as vacuumdb -j orders them).</summary>
    public static async Task<IReadOnlyList<PgTable>> ListTablesAsync(PgTarget target, bool includeSystem, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = new NpgsqlCommand(TablesSql, connection);
            cmd.Parameters.AddWithValue("all", includeSystem);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var tables = new List<PgTable>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                tables.Add(new PgTable(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3)));
            return tables;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (MaintenanceSql.IsCancellation(e, cancellationToken)) throw new OperationCanceledException(cancellationToken);
            throw PgErrors.Statement(target, "Listing tables", e);
        }
    }

    /// <summary>Dead tuples and sizes of many tables in one round trip. Tables locked by another session get null sizes.</summary>
    public static async Task<Dictionary<uint, PgTableStats>> ReadStatsAsync(NpgsqlConnection connection, IReadOnlyCollection<uint> oids, CancellationToken cancellationToken)
    {
        var stats = new Dictionary<uint, PgTableStats>(oids.Count);
        await using var cmd = new NpgsqlCommand(StatsSql, connection);
        cmd.Parameters.Add(new NpgsqlParameter("oids", NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Oid) { Value = oids.ToArray() });
        await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            stats[reader.GetFieldValue<uint>(0)] = new PgTableStats(
                reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2),
                reader.IsDBNull(3) ? null : reader.GetInt64(3), reader.IsDBNull(4) ? null : reader.GetInt64(4));
        return stats;
    }

    /// <summary>
    /// Vacuums (or analyzes) <paramref name="tables"/> of one database, <paramref name="parallel"/> at a time,
    /// each statement on its own and outside any transaction. "Before" numbers come from one query for all
    /// tables; "after" numbers from one small query per table on the worker's connection, right after its statement.
    /// </summary>
    public static async Task VacuumAsync(PgTarget target, IReadOnlyList<PgTable> tables, VacuumOptions options, int parallel,
        Action<PgTable> starting, Action<DbVacuumResult> completed, Action<PgTable, MaintenanceFailure> failed,
        CancellationToken cancellationToken)
    {
        if (tables.Count == 0) return;
        var operation = options.Operation;
        var before = new Dictionary<uint, PgTableStats>();
        try
        {
            await using var connection = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
            before = await ReadStatsAsync(connection, tables.Select(t => t.Oid).ToArray(), cancellationToken).ConfigureAwait(false);
        }
        catch (OpsToolsException e)
        {
            foreach (var t in tables) failed(t, new MaintenanceFailure(new OpsToolsException(e.ErrorId, e.Kind, "Not started: " + e.Message, e.Target, e), false));
            return;
        }
        catch (PostgresException e) when (!MaintenanceSql.IsCancellation(e, cancellationToken) && !MaintenanceSql.IsConnectionLoss(e, null))
        {
            // Statistics are a nicety: without them the vacuum still runs (before numbers stay null).
        }
        cancellationToken.ThrowIfCancellationRequested();

        await MaintenanceQueue.RunAsync(target, tables, parallel,
            async (connection, table, ct) =>
            {
                var sql = options.Statement(table);
                var sw = Stopwatch.StartNew();
                await using (var cmd = new NpgsqlCommand(PgSql.OwnStatementMarker + sql, connection) { CommandTimeout = 0 })
                    await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                sw.Stop();
                PgTableStats? after = null;
                string? note = null;
                try
                {
                    // Not cancellable: the statement is done, and its result must not be lost to a late Ctrl+C.
                    (await ReadStatsAsync(connection, new[] { table.Oid }, CancellationToken.None).ConfigureAwait(false)).TryGetValue(table.Oid, out after);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    note = " The statistics after it could not be read (" + (e is PostgresException pg ? pg.MessageText : "connection lost") + ").";
                }
                before.TryGetValue(table.Oid, out var b);
                completed(target.Identify(new DbVacuumResult
                {
                    Schema = table.Schema, Table = table.Name, Operation = operation, Succeeded = true,
                    DeadTuplesBefore = b?.DeadTuples, DeadTuplesAfter = after?.DeadTuples, LiveTuplesAfter = after?.LiveTuples,
                    TableBytesBefore = b?.TableBytes, TableBytesAfter = after?.TableBytes,
                    TotalBytesBefore = b?.TotalBytes, TotalBytesAfter = after?.TotalBytes,
                    Duration = sw.Elapsed,
                    Message = Describe(operation, table, b, after, sw.Elapsed) + note,
                    Timestamp = DateTime.UtcNow,
                }));
            },
            starting,
            failed,
            (table, e) => Failure(target, operation, table, e),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>An error for one table that names the table, the statement and the cause.</summary>
    public static OpsToolsException Failure(PgTarget target, string operation, PgTable table, Exception e)
    {
        if (e is OpsToolsException ops) return ops;
        var what = $"{operation} {table.Display}";
        if (MaintenanceSql.IsConnectionLoss(e, null) || e is NpgsqlException { InnerException: IOException or EndOfStreamException })
        {
            var detail = e is PostgresException pg ? pg.MessageText : (e.InnerException ?? e).Message;
            return new OpsToolsException("DbConnectionLost", OpsErrorKind.ConnectionError,
                $"{what} on {target.Address}: the connection was lost while it ran (server stopped or session terminated: {Security.Redaction.ScrubText(detail)}). It did not report completion; its outcome is unknown.",
                table.Display, e);
        }
        return PgErrors.Statement(target, what, e);
    }

    private static string Describe(string operation, PgTable table, PgTableStats? b, PgTableStats? a, TimeSpan elapsed)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{operation} {table.Display} in {elapsed.TotalSeconds:0.###} s");
        if (b?.DeadTuples is long db && a?.DeadTuples is long da)
            text += string.Create(CultureInfo.InvariantCulture, $"; dead tuples {db} -> {da}");
        if (b?.TotalBytes is long sb && a?.TotalBytes is long sa)
            text += string.Create(CultureInfo.InvariantCulture, $"; total size {Bytes(sb)} -> {Bytes(sa)}");
        return text + ".";
    }

    /// <summary>pg_size_pretty's units, as psql shows sizes (one ByteSize rule for every size the module prints).</summary>
    internal static string Bytes(long bytes) => ByteSize.Format(bytes, ByteFormat.PostgresShort);

    private static DateTime? Utc(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : DateTime.SpecifyKind(reader.GetDateTime(ordinal).ToUniversalTime(), DateTimeKind.Utc);
}
