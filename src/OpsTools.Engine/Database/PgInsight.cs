using System.Globalization;
using System.Text;
using Npgsql;
using OpsTools.Database;

namespace OpsTools.Engine.Database;

/// <summary>Options of <see cref="PgInsight.GetSlowQueriesAsync"/>.</summary>
public sealed class SlowQueryOptions
{
    public int Top { get; init; } = 10;
    public DbSlowQuerySort SortBy { get; init; } = DbSlowQuerySort.MeanTime;
    public double MinMeanMs { get; init; }
    /// <summary>Statements of every database, not only the connected one.</summary>
    public bool AllDatabases { get; init; }
    /// <summary>Also statements run inside functions (pg_stat_statements.track = all; toplevel = false).</summary>
    public bool IncludeNested { get; init; }
    /// <summary>Mean time above which a statement is a Warning.</summary>
    public double WarningMs { get; init; } = 1000;
    /// <summary>
    /// Also OpsTools' own statements (text starting with <see cref="PgSql.OwnStatementMarker"/>), data exports
    /// (COPY ... TO STDOUT: pg_dump, which Backup-Database runs, and psql's \copy) and statements of databases that no
    /// longer exist (the restore drills' scratch databases).
    /// </summary>
    public bool IncludeOpsTools { get; init; }
}

/// <summary>Options of <see cref="PgInsight.GetIndexAdviceAsync"/>.</summary>
public sealed class IndexAdviceOptions
{
    /// <summary>Unused indexes smaller than this are not reported.</summary>
    public long MinIndexBytes { get; init; }
    /// <summary>Missing-index candidates: at least this many live rows.</summary>
    public long MinRows { get; init; } = 10_000;
    /// <summary>Missing-index candidates: at least this many sequential scans (and more than index scans).</summary>
    public long MinSeqScans { get; init; } = 50;
    public bool Unused { get; init; } = true;
    public bool Duplicate { get; init; } = true;
    public bool Missing { get; init; } = true;
}

/// <summary>
/// Read-only insight into a PostgreSQL database: slow statements (pg_stat_statements), database and
/// table sizes, and index advice. Nothing here changes the database except
/// <see cref="ResetSlowQueriesAsync"/>. Every statement is parameterized; identifiers that must be
/// spliced into SQL are quoted with <see cref="PgSql.QuoteIdent"/>.
/// </summary>
public static class PgInsight
{
    internal const string SlowQueryMarker = "/* OpsTools:Get-DbSlowQuery */";

    /// <summary>Where pg_stat_statements is installed in the connected database, and which columns its view has.</summary>
    private sealed record StatementsView(string Schema, string Version, HashSet<string> Columns);

    private static async Task<StatementsView> FindStatementsViewAsync(PgTarget target, NpgsqlConnection c, CancellationToken ct)
    {
        const string sql = $"""
            {SlowQueryMarker}
            SELECT n.nspname::text, e.extversion::text,
                   ARRAY(SELECT a.attname::text FROM pg_attribute a
                         JOIN pg_class v ON v.oid = a.attrelid
                         WHERE v.relname = 'pg_stat_statements' AND v.relnamespace = e.extnamespace
                           AND a.attnum > 0 AND NOT a.attisdropped)
            FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname = 'pg_stat_statements'
            """;
        try
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            if (await r.ReadAsync(ct).ConfigureAwait(false))
                return new StatementsView(r.GetString(0), r.GetString(1), new HashSet<string>(r.GetFieldValue<string[]>(2), StringComparer.Ordinal));
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            throw PgErrors.Statement(target, "Looking for pg_stat_statements", e);
        }
        var preloaded = await IsPreloadedAsync(c, ct).ConfigureAwait(false);
        throw ExtensionMissing(target, installed: false, preloaded);
    }

    private static async Task<bool?> IsPreloadedAsync(NpgsqlConnection c, CancellationToken ct)
    {
        try
        {
            // pg_settings hides what the role may not read instead of failing.
            await using var cmd = new NpgsqlCommand(
                "SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries'", c);
            var v = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
            return v is string s ? s.Split(',').Any(x => x.Trim().Trim('"') == "pg_stat_statements") : null;
        }
        catch (PostgresException) { return null; }
    }

    /// <summary>The DbExtensionMissing error, with the exact steps to enable the extension.</summary>
    public static OpsToolsException ExtensionMissing(PgTarget target, bool installed, bool? preloaded)
    {
        var db = target.Database;
        var state = installed
            ? $"the extension is installed in database \"{db}\" but its library is not loaded"
            : $"the extension is not installed in database \"{db}\"";
        var message =
            $"Cannot read slow queries on {target.Address}: pg_stat_statements is not available ({state}). To enable it: " +
            "1) set shared_preload_libraries = 'pg_stat_statements' in postgresql.conf (or ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements', keeping any libraries already listed) and restart the server" +
            (preloaded == true ? " (already done on this server)" : "") +
            $"; 2) run CREATE EXTENSION pg_stat_statements; in database \"{db}\" as a superuser or the database owner" +
            (installed ? " (already done)" : "") + ".";
        return new OpsToolsException("DbExtensionMissing", OpsErrorKind.NotFound, message, target.Name);
    }

    /// <summary>The statements of pg_stat_statements, slowest first (as the runbooks' queries sort them).</summary>
    public static async Task<IReadOnlyList<DbSlowQuery>> GetSlowQueriesAsync(PgTarget target, SlowQueryOptions options, string? environment, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        await using var c = await target.OpenAsync(ct).ConfigureAwait(false);
        var view = await FindStatementsViewAsync(target, c, ct).ConfigureAwait(false);
        var sql = BuildSlowQuerySql(view.Schema, view.Columns, options);
        var list = new List<DbSlowQuery>();
        try
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            cmd.Parameters.AddWithValue("all", options.AllDatabases);
            cmd.Parameters.AddWithValue("min", options.MinMeanMs);
            cmd.Parameters.AddWithValue("top", options.Top);
            cmd.Parameters.AddWithValue("own", options.IncludeOpsTools);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                long hit = r.GetInt64(11), read = r.GetInt64(12);
                var q = target.Identify(new DbSlowQuery
                {
                    Check = "SlowQuery",
                    Area = "Database",
                    QueryId = r.IsDBNull(0) ? null : r.GetInt64(0),
                    User = r.GetString(1),
                    Calls = r.GetInt64(3),
                    TotalTime = Ms(r.GetDouble(4)),
                    MeanTime = Ms(r.GetDouble(5)),
                    MinTime = Ms(r.GetDouble(6)),
                    MaxTime = Ms(r.GetDouble(7)),
                    StdDevTime = Ms(r.GetDouble(8)),
                    Rows = r.GetInt64(9),
                    HitRatio = hit + read == 0 ? null : Math.Round((double)hit / (hit + read), 4),
                    Query = r.IsDBNull(10) ? "" : r.GetString(10),
                    Environment = environment,
                }, database: r.GetString(2));
                ApplyStatus(q, target, options.WarningMs);
                list.Add(q);
            }
        }
        catch (PostgresException e) when (e.SqlState == "55000" && e.MessageText.Contains("pg_stat_statements", StringComparison.Ordinal))
        {
            throw ExtensionMissing(target, installed: true, preloaded: false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            throw PgErrors.Statement(target, "Reading pg_stat_statements", e);
        }
        var duration = DateTime.UtcNow - started;
        foreach (var q in list) { q.Duration = duration; q.Timestamp = DateTime.UtcNow; }
        return list;
    }

    /// <summary>Status, message, value and threshold of one statement: Warning when its mean time is above <paramref name="warningMs"/>.</summary>
    public static void ApplyStatus(DbSlowQuery q, PgTarget? target, double warningMs)
    {
        var mean = q.MeanTime.TotalMilliseconds;
        q.Status = mean > warningMs ? CheckStatus.Warning : CheckStatus.Healthy;
        q.Value = Math.Round(mean, 3);
        q.Threshold = $"warn > {warningMs.ToString("0.###", CultureInfo.InvariantCulture)} ms mean";
        q.Target = $"{target?.Address ?? q.Instance} queryid {q.QueryId?.ToString(CultureInfo.InvariantCulture) ?? "?"}";
        var text = OneLine(q.Query, 80);
        q.Message = string.Create(CultureInfo.InvariantCulture,
            $"{(q.Status == CheckStatus.Warning ? "Slow statement" : "Statement")}: mean {mean:0.#} ms over {q.Calls} calls (total {q.TotalTime.TotalSeconds:0.#} s, max {q.MaxTime.TotalMilliseconds:0.#} ms) in {q.Database} as {q.User}: {text}");
    }

    internal static string BuildSlowQuerySql(string schema, ISet<string> columns, SlowQueryOptions options)
    {
        // pg_stat_statements 1.8 (PostgreSQL 13) renamed *_time to *_exec_time; 1.9 added toplevel.
        string Col(string name) => columns.Contains(name + "_exec_time") ? name + "_exec_time" : name + "_time";
        var order = options.SortBy switch
        {
            DbSlowQuerySort.TotalTime => "s." + Col("total"),
            DbSlowQuerySort.Calls => "s.calls",
            DbSlowQuerySort.MaxTime => "s." + Col("max"),
            DbSlowQuerySort.Rows => "s.rows",
            _ => "s." + Col("mean"),
        };
        var nested = options.IncludeNested || !columns.Contains("toplevel") ? "" : "AND s.toplevel\n";
        return $"""
            {SlowQueryMarker}
            SELECT s.queryid, coalesce(r.rolname::text, s.userid::text), coalesce(d.datname::text, s.dbid::text),
                   s.calls, s.{Col("total")}, s.{Col("mean")}, s.{Col("min")}, s.{Col("max")}, s.{Col("stddev")},
                   s.rows, s.query, s.shared_blks_hit, s.shared_blks_read
            FROM {PgSql.QuoteIdent(schema)}.pg_stat_statements s
            LEFT JOIN pg_roles r ON r.oid = s.userid
            LEFT JOIN pg_database d ON d.oid = s.dbid
            WHERE (@all OR s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()))
              AND s.{Col("mean")} >= @min
              AND coalesce(s.query, '') NOT LIKE '{SlowQueryMarker}%'
              AND (@own OR (coalesce(s.query, '') NOT LIKE '{PgSql.OwnStatementMarker.TrimEnd()}%'
                            AND coalesce(s.query, '') !~* '^\s*COPY\M.*\mTO\s+STDOUT'
                            AND d.oid IS NOT NULL))
              {nested}ORDER BY {order} DESC NULLS LAST, s.queryid
            LIMIT @top
            """;
    }

    /// <summary>pg_stat_statements_reset() for the connected database (or every database).</summary>
    public static async Task ResetSlowQueriesAsync(PgTarget target, bool allDatabases, CancellationToken ct)
    {
        await using var c = await target.OpenAsync(ct).ConfigureAwait(false);
        var view = await FindStatementsViewAsync(target, c, ct).ConfigureAwait(false);
        var fn = PgSql.QuoteIdent(view.Schema) + ".pg_stat_statements_reset";
        var sql = allDatabases
            ? $"{SlowQueryMarker} SELECT {fn}()"
            : $"{SlowQueryMarker} SELECT {fn}(0, (SELECT oid FROM pg_database WHERE datname = current_database()), 0)";
        try
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            throw PgErrors.Statement(target, "Resetting pg_stat_statements", e);
        }
    }

    /// <summary>The databases of the server, largest first.</summary>
    public static async Task<IReadOnlyList<DbSize>> GetDatabaseSizesAsync(PgTarget target, bool includeTemplates, CancellationToken ct)
    {
        const string sql = """
            SELECT d.datname::text, pg_get_userbyid(d.datdba)::text, pg_encoding_to_char(d.encoding)::text,
                   d.datallowconn, d.datistemplate,
                   CASE WHEN has_database_privilege(d.oid, 'CONNECT') OR pg_has_role('pg_read_all_stats', 'MEMBER')
                        THEN pg_database_size(d.oid) END,
                   coalesce((SELECT s.numbackends FROM pg_stat_database s WHERE s.datid = d.oid), 0)
            FROM pg_database d
            WHERE (@templates OR NOT d.datistemplate) AND d.datconnlimit <> -2
            ORDER BY 6 DESC NULLS LAST, 1
            """;
        await using var c = await target.OpenAsync(ct).ConfigureAwait(false);
        var list = new List<DbSize>();
        try
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            cmd.Parameters.AddWithValue("templates", includeTemplates);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
                list.Add(target.Identify(new DbSize
                {
                    Name = r.GetString(0), Owner = r.GetString(1), Encoding = r.GetString(2),
                    AllowConnections = r.GetBoolean(3), IsTemplate = r.GetBoolean(4),
                    SizeBytes = r.IsDBNull(5) ? null : r.GetInt64(5),
                    Connections = r.GetInt32(6),
                }, database: r.GetString(0)));
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            throw PgErrors.Statement(target, "Reading database sizes", e);
        }
        return list;
    }

    /// <summary>The tables and materialized views of the connected database, largest first.</summary>
    public static async Task<IReadOnlyList<DbTableSize>> GetTableSizesAsync(PgTarget target, Func<string, string, bool>? filter, int? top, CancellationToken ct)
    {
        const string sql = """
            SELECT n.nspname::text, c.relname::text, c.relkind::text,
                   coalesce(pg_total_relation_size(c.oid), 0), coalesce(pg_relation_size(c.oid), 0),
                   coalesce(pg_indexes_size(c.oid), 0),
                   CASE WHEN c.reltoastrelid <> 0 THEN coalesce(pg_total_relation_size(c.reltoastrelid), 0) ELSE 0 END,
                   c.reltuples::float8, c.relpages
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 'm', 'p')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
            ORDER BY 4 DESC, 1, 2
            """;
        await using var c = await target.OpenAsync(ct).ConfigureAwait(false);
        var list = new List<DbTableSize>();
        try
        {
            await using var cmd = new NpgsqlCommand(sql, c);
            await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            while (await r.ReadAsync(ct).ConfigureAwait(false))
            {
                string schema = r.GetString(0), table = r.GetString(1);
                if (filter is not null && !filter(schema, table)) continue;
                var tuples = r.GetDouble(7);
                list.Add(target.Identify(new DbTableSize
                {
                    Schema = schema, Table = table, Kind = r.GetString(2),
                    TotalBytes = r.GetInt64(3), TableBytes = r.GetInt64(4), IndexBytes = r.GetInt64(5), ToastBytes = r.GetInt64(6),
                    // -1 (PostgreSQL 14+) means never vacuumed or analyzed.
                    RowEstimate = tuples < 0 ? null : (long)tuples,
                }));
                if (top is { } t && list.Count >= t) break;
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            throw PgErrors.Statement(target, "Reading table sizes", e);
        }
        return list;
    }

    /// <summary>A table size as an informational (Healthy) check result, for reports: Check TableSize, Value TotalBytes.</summary>
    public static CheckResult ToCheckResult(DbTableSize t, PgTarget target, string? environment) => new()
    {
        Check = "TableSize", Area = "Database", Status = CheckStatus.Healthy, Environment = environment,
        Target = $"{target.Address} {t.Schema}.{t.Table}", Value = t.TotalBytes,
        Message = string.Create(CultureInfo.InvariantCulture,
            $"{t.Schema}.{t.Table}: {t.Total} total (table {t.TableSize}, indexes {t.IndexSize}, TOAST {t.ToastSize}){(t.RowEstimate is { } n ? $", about {n:N0} rows" : ", never analyzed")}."),
    };

    /// <summary>A database size as an informational (Healthy) check result, for reports: Check DatabaseSize, Value SizeBytes.</summary>
    public static CheckResult ToCheckResult(DbSize d, PgTarget target, string? environment) => new()
    {
        Check = "DatabaseSize", Area = "Database", Status = d.SizeBytes is null ? CheckStatus.Unknown : CheckStatus.Healthy, Environment = environment,
        Target = $"{target.User}@{target.Host}:{target.Port}/{d.Name}", Value = d.SizeBytes,
        Message = d.SizeBytes is null
            ? $"{d.Name}: size unknown (no CONNECT privilege for role {target.User})."
            : $"{d.Name}: {d.Size}, {d.Connections} connection(s), owner {d.Owner}.",
    };

    /// <summary>One index as the advice rules see it.</summary>
    public sealed record IndexInfo(
        string Schema, string Table, string Name, long Oid, bool IsUnique, bool IsPrimary, bool IsValid,
        bool IsExpression, bool IsPartial, string? Constraint, long Bytes, long Scans, string Definition, string DuplicateKey,
        bool Excluded, long? SeqScans, long? SeqTupRead, long? LiveTuples);

    /// <summary>Unused, duplicate and missing indexes of the connected database. Never changes anything.</summary>
    public static async Task<IReadOnlyList<DbIndexAdvice>> GetIndexAdviceAsync(PgTarget target, IndexAdviceOptions options, Func<string, string, bool>? filter, string? environment, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        await using var c = await target.OpenAsync(ct).ConfigureAwait(false);
        var advice = new List<DbIndexAdvice>();
        try
        {
            DateTime? reset;
            await using (var cmd = new NpgsqlCommand("SELECT stats_reset FROM pg_stat_database WHERE datname = current_database()", c))
            {
                var v = await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false);
                reset = v is DateTime d ? d.ToUniversalTime() : null;
            }

            if (options.Unused || options.Duplicate)
            {
                var indexes = new List<IndexInfo>();
                await using (var cmd = new NpgsqlCommand(IndexSql, c))
                await using (var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
                {
                    while (await r.ReadAsync(ct).ConfigureAwait(false))
                    {
                        var info = new IndexInfo(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetBoolean(4), r.GetBoolean(5),
                            r.GetBoolean(6), r.GetBoolean(7), r.GetBoolean(8), r.IsDBNull(9) ? null : r.GetString(9), r.GetInt64(10), r.GetInt64(11),
                            r.GetString(12), r.GetString(13), r.GetBoolean(14),
                            r.IsDBNull(15) ? null : r.GetInt64(15), r.IsDBNull(16) ? null : r.GetInt64(16), r.IsDBNull(17) ? null : r.GetInt64(17));
                        if (filter is null || filter(info.Schema, info.Table)) indexes.Add(info);
                    }
                }
                advice.AddRange(IndexRules.Evaluate(indexes, options, reset));
            }

            if (options.Missing)
            {
                await using var cmd = new NpgsqlCommand(MissingSql, c);
                cmd.Parameters.AddWithValue("rows", options.MinRows);
                cmd.Parameters.AddWithValue("seq", options.MinSeqScans);
                await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                while (await r.ReadAsync(ct).ConfigureAwait(false))
                {
                    string schema = r.GetString(0), table = r.GetString(1);
                    if (filter is not null && !filter(schema, table)) continue;
                    advice.Add(IndexRules.Missing(schema, table, r.GetInt64(2), r.GetInt64(3), r.GetInt64(4), r.GetInt64(5),
                        r.GetFieldValue<string[]>(6), options, reset));
                }
            }
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException && !ct.IsCancellationRequested)
        {
            throw PgErrors.Statement(target, "Reading index statistics", e);
        }
        var now = DateTime.UtcNow;
        foreach (var a in advice)
        {
            target.Identify(a);
            a.Environment = environment;
            a.Target = $"{target.Address} {a.Schema}.{a.Index ?? a.Table}";
            a.Duration = now - started; a.Timestamp = now;
        }
        return advice;
    }

    // Every index of user tables, with what the rules need. "Excluded" marks indexes that can never be
    // dropped on their own: replica identity, and partitions of a partitioned index (drop the parent).
    private const string IndexSql = """
        SELECT n.nspname::text, t.relname::text, ic.relname::text, i.indexrelid::bigint,
               i.indisunique, i.indisprimary, i.indisvalid, i.indexprs IS NOT NULL, i.indpred IS NOT NULL,
               con.conname::text, coalesce(pg_relation_size(i.indexrelid), 0), coalesce(s.idx_scan, 0),
               pg_get_indexdef(i.indexrelid),
               concat_ws(' ', i.indrelid::text, ic.relam::text, i.indkey::text, i.indclass::text, i.indcollation::text,
                         coalesce(pg_get_expr(i.indexprs, i.indrelid), ''), coalesce(pg_get_expr(i.indpred, i.indrelid), '')),
               i.indisreplident OR EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid),
               st.seq_scan, st.seq_tup_read, st.n_live_tup
        FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace
        LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = i.indexrelid
        LEFT JOIN pg_stat_user_tables st ON st.relid = i.indrelid
        LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid AND con.contype IN ('p', 'u', 'x')
        WHERE ic.relkind = 'i' AND t.relkind IN ('r', 'm')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
        ORDER BY 1, 2, 3
        """;

    // The runbooks' missing-index hunt: large tables read by many sequential scans, with the columns their
    // pg_stats query points at (n_distinct > 100, correlation < 0.1) that do not yet lead an index.
    // A negative n_distinct is a fraction of the rows (-1: every value distinct) and is turned into a count.
    private const string MissingSql = """
        SELECT st.schemaname::text, st.relname::text, st.seq_scan, st.seq_tup_read, coalesce(st.idx_scan, 0), st.n_live_tup,
               ARRAY(SELECT ps.attname::text FROM pg_stats ps
                     WHERE ps.schemaname = st.schemaname AND ps.tablename = st.relname AND NOT ps.inherited
                       AND ps.correlation < 0.1
                       AND CASE WHEN ps.n_distinct < 0 THEN -ps.n_distinct * greatest(c.reltuples, 0) ELSE ps.n_distinct END > 100
                       AND NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                                       WHERE i.indrelid = st.relid AND a.attname = ps.attname)
                     ORDER BY CASE WHEN ps.n_distinct < 0 THEN -ps.n_distinct * greatest(c.reltuples, 0) ELSE ps.n_distinct END DESC, ps.attname)
        FROM pg_stat_user_tables st JOIN pg_class c ON c.oid = st.relid
        WHERE st.n_live_tup >= @rows AND st.seq_scan >= @seq AND st.seq_scan > coalesce(st.idx_scan, 0)
        ORDER BY st.seq_tup_read DESC, 1, 2
        """;

    private static TimeSpan Ms(double ms) => TimeSpan.FromTicks((long)Math.Round(ms * TimeSpan.TicksPerMillisecond));

    internal static string OneLine(string text, int max)
    {
        var sb = new StringBuilder(Math.Min(text.Length, max + 1));
        var space = false;
        foreach (var ch in text)
        {
            if (char.IsWhiteSpace(ch)) { space = sb.Length > 0; continue; }
            if (space) { sb.Append(' '); space = false; }
            sb.Append(ch);
            if (sb.Length > max) break;
        }
        return sb.Length > max ? sb.ToString(0, max - 1) + "…" : sb.ToString();
    }
}

/// <summary>The index advice rules, as pure functions (unit-tested without a server).</summary>
public static class IndexRules
{
    /// <summary>Unused and duplicate indexes among <paramref name="indexes"/>.</summary>
    public static IEnumerable<DbIndexAdvice> Evaluate(IReadOnlyList<PgInsight.IndexInfo> indexes, IndexAdviceOptions options, DateTime? statsReset)
    {
        var result = new List<DbIndexAdvice>();
        // Of a set of identical indexes, at most all but the keeper may be advised to go: the keeper is
        // never advised as unused as well (applying both statements would remove the index entirely).
        // With duplicates not asked for, an unused duplicate may still be advised as unused (never its keeper).
        var noDrop = new HashSet<long>();
        foreach (var group in indexes.GroupBy(i => i.DuplicateKey).Where(g => g.Count() > 1))
        {
            var keep = Keeper(group);
            noDrop.Add(keep.Oid);
            foreach (var dup in group.Where(i => i.Oid != keep.Oid))
            {
                if (dup.Excluded) continue;
                noDrop.Add(dup.Oid);
                if (options.Duplicate) result.Add(Duplicate(dup, keep, statsReset));
                else noDrop.Remove(dup.Oid);
            }
        }
        if (options.Unused)
            foreach (var i in indexes)
                if (IsUnused(i) && i.Bytes >= options.MinIndexBytes && !noDrop.Contains(i.Oid))
                    result.Add(Unused(i, statsReset));
        return result;
    }

    /// <summary>idx_scan = 0, not unique, not a primary key, backs no constraint, can be dropped on its own.</summary>
    public static bool IsUnused(PgInsight.IndexInfo i) =>
        i.Scans == 0 && !i.IsUnique && !i.IsPrimary && i.Constraint is null && !i.Excluded;

    /// <summary>Of identical indexes, the one to keep: valid, then primary key, constraint, unique, then the oldest (lowest OID).</summary>
    public static PgInsight.IndexInfo Keeper(IEnumerable<PgInsight.IndexInfo> group) =>
        group.OrderByDescending(i => i.IsValid).ThenByDescending(i => i.IsPrimary).ThenByDescending(i => i.Constraint is not null)
             .ThenByDescending(i => i.IsUnique).ThenByDescending(i => i.Excluded).ThenBy(i => i.Oid).First();

    public static string Since(DateTime? statsReset) => statsReset is { } t
        ? "since the statistics were last reset (" + t.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC)"
        : "since statistics collection began (never reset)";

    private static DbIndexAdvice Base(PgInsight.IndexInfo i, DbIndexAdviceKind kind, DateTime? reset) => new()
    {
        Check = "IndexAdvice", Area = "Database", Status = CheckStatus.Warning, Kind = kind,
        Schema = i.Schema, Table = i.Table, Index = i.Name, IndexDefinition = i.Definition, IndexBytes = i.Bytes, Scans = i.Scans,
        SeqScans = i.SeqScans, SeqTupRead = i.SeqTupRead, LiveTuples = i.LiveTuples, StatsResetTime = reset, Value = i.Bytes,
    };

    private static DbIndexAdvice Unused(PgInsight.IndexInfo i, DateTime? reset)
    {
        var notes = new List<string>();
        if (!i.IsValid) notes.Add("it is INVALID (a failed CREATE INDEX CONCURRENTLY or REINDEX)");
        if (i.IsExpression) notes.Add("it is an expression index: check that no query relies on it before dropping it");
        if (i.IsPartial) notes.Add("it is a partial index");
        var a = Base(i, DbIndexAdviceKind.UnusedIndex, reset);
        a.Threshold = "idx_scan = 0; not unique, primary key or constraint";
        a.FixStatement = PgInsightSql.DropIndex(i.Schema, i.Name);
        a.Reason = string.Create(CultureInfo.InvariantCulture,
            $"Index {i.Name} on {i.Schema}.{i.Table} ({ByteSize.Format(i.Bytes, ByteFormat.Postgres)}) has not been scanned (idx_scan = 0) {Since(reset)}, yet every write maintains it; it is not unique, not a primary key and backs no constraint{(notes.Count > 0 ? "; " + string.Join("; ", notes) : "")}.");
        a.Message = a.Reason;
        return a;
    }

    private static DbIndexAdvice Duplicate(PgInsight.IndexInfo dup, PgInsight.IndexInfo keep, DateTime? reset)
    {
        var why = keep.IsPrimary ? "the primary key" : keep.Constraint is not null ? $"it backs constraint {keep.Constraint}"
            : keep.IsUnique && !dup.IsUnique ? "it is unique" : !dup.IsValid && keep.IsValid ? $"{dup.Name} is INVALID" : "it is the older";
        var a = Base(dup, DbIndexAdviceKind.DuplicateIndex, reset);
        a.DuplicateOf = keep.Name;
        a.Threshold = "same table, columns, operator classes, collations, expressions and predicate";
        a.FixStatement = dup.Constraint is not null
            ? $"ALTER TABLE {PgSql.Qualified(dup.Schema, dup.Table)} DROP CONSTRAINT {PgSql.QuoteIdent(dup.Constraint)};"
            : PgInsightSql.DropIndex(dup.Schema, dup.Name);
        a.Reason = string.Create(CultureInfo.InvariantCulture,
            $"Index {dup.Name} on {dup.Schema}.{dup.Table} duplicates {keep.Name} (same columns, operator classes, collations, expressions and predicate); keep {keep.Name} ({why}) and drop {dup.Name} to save {ByteSize.Format(dup.Bytes, ByteFormat.Postgres)} and the cost of maintaining it ({dup.Scans} scans {Since(reset)}){(dup.Constraint is not null ? $"; it backs constraint {dup.Constraint}, so the fix drops the constraint (foreign keys that reference it must be dropped first)" : "")}" +
            $"{(IsUnused(keep) ? $"; {keep.Name} has not been scanned either, but drop only one of the pair: once {dup.Name} is gone, run Get-DbIndexAdvice again after a full business cycle to see whether {keep.Name} is needed" : "")}.");
        a.Message = a.Reason;
        return a;
    }

    /// <summary>A table read mostly by sequential scans.</summary>
    public static DbIndexAdvice Missing(string schema, string table, long seqScans, long seqTupRead, long idxScans, long liveTuples,
        string[] candidates, IndexAdviceOptions options, DateTime? reset)
    {
        var columns = candidates.Length > 0 ? PgSql.QuoteIdent(candidates[0]) : "<columns its frequent queries filter by>";
        var avg = seqScans == 0 ? 0 : seqTupRead / seqScans;
        var a = new DbIndexAdvice
        {
            Check = "IndexAdvice", Area = "Database", Status = CheckStatus.Warning, Kind = DbIndexAdviceKind.MissingIndex,
            Schema = schema, Table = table, Scans = idxScans, SeqScans = seqScans, SeqTupRead = seqTupRead, LiveTuples = liveTuples,
            CandidateColumns = candidates, StatsResetTime = reset, Value = seqScans,
            Threshold = string.Create(CultureInfo.InvariantCulture, $"n_live_tup >= {options.MinRows}; seq_scan >= {options.MinSeqScans}; seq_scan > idx_scan"),
            FixStatement = $"-- consider: CREATE INDEX CONCURRENTLY ON {PgSql.Qualified(schema, table)} ({columns});",
        };
        var hint = candidates.Length > 0
            ? $"columns with many distinct, unordered values and no index (the runbooks' pg_stats query): {string.Join(", ", candidates)}; confirm with EXPLAIN on the slow queries (Get-DbSlowQuery)"
            : "find the columns in the WHERE clauses of its slow queries (Get-DbSlowQuery; run ANALYZE for pg_stats column hints)";
        a.Reason = string.Create(CultureInfo.InvariantCulture,
            $"Table {schema}.{table} ({liveTuples:N0} live rows) was read by {seqScans:N0} sequential scans ({avg:N0} rows each on average) against {idxScans:N0} index scans {Since(reset)}, so an index may be missing: {hint}.");
        a.Message = a.Reason;
        return a;
    }
}

/// <summary>SQL text building for identifiers (values always go in parameters).</summary>
public static class PgInsightSql
{
    /// <summary>DROP INDEX CONCURRENTLY "schema"."index"; (CONCURRENTLY: no lock that blocks reads or writes; not inside a transaction block).</summary>
    public static string DropIndex(string schema, string index) => $"DROP INDEX CONCURRENTLY {PgSql.Qualified(schema, index)};";
}
