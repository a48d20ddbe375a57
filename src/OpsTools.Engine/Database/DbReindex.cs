using System.Diagnostics;
using System.Globalization;
using Npgsql;
using OpsTools.Database;

namespace OpsTools.Engine.Database;

/// <summary>An index as the catalog names it, with its table.</summary>
public sealed record PgIndex(uint Oid, string Schema, string Name, string Table, uint TableOid)
{
    public string Display => Schema + "." + Name;
}

/// <summary>A table with how many indexes it has.</summary>
public sealed record PgIndexedTable(uint Oid, string Schema, string Name, long Pages, int IndexCount)
{
    public string Display => Schema + "." + Name;
}

/// <summary>One REINDEX to run: an index, or all indexes of a table.</summary>
public sealed class ReindexItem
{
    public PgIndex? Index { get; init; }
    public PgIndexedTable? Table { get; init; }
    public string Schema => Index?.Schema ?? Table!.Schema;
    public string TableName => Index?.Table ?? Table!.Name;
    public string Display => Index?.Display ?? Table!.Display;

    /// <summary>REINDEX INDEX or REINDEX TABLE, with CONCURRENTLY when asked.</summary>
    public string Operation(bool concurrently) => (Index is not null ? "REINDEX INDEX" : "REINDEX TABLE") + (concurrently ? " CONCURRENTLY" : "");

    /// <summary>The statement, names quoted.</summary>
    public string Statement(bool concurrently) =>
        Operation(concurrently) + " " + (Index is not null ? PgSql.Qualified(Index.Schema, Index.Name) : PgSql.Qualified(Table!.Schema, Table.Name));
}

/// <summary>The SQL of Invoke-DbReindex.</summary>
public static class DbReindexEngine
{
    internal const string IndexesSql =
        "SELECT i.oid, n.nspname, i.relname, t.relname, t.oid FROM pg_index x " +
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = i.relnamespace " +
        "WHERE i.relkind = 'i' AND t.relpersistence <> 't' AND (@all OR (" + MaintenanceSql.UserSchemaFilter + ")) ORDER BY n.nspname, i.relname";

    internal const string TablesSql =
        "SELECT c.oid, n.nspname, c.relname, c.relpages::bigint, (SELECT count(*)::int FROM pg_index x WHERE x.indrelid = c.oid) " +
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
        "WHERE c.relkind IN ('r', 'm') AND c.relpersistence <> 't' AND (@all OR (" + MaintenanceSql.UserSchemaFilter + ")) " +
        "ORDER BY c.relpages DESC, n.nspname, c.relname";

    // By name, not oid: REINDEX CONCURRENTLY swaps in a new index (new oid) under the old name.
    internal const string IndexSizeSql =
        "WITH " + MaintenanceSql.LockedCte + " " +
        "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM locked k WHERE k.relation IN (c.oid, x.indrelid)) THEN pg_relation_size(c.oid) END " +
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_index x ON x.indexrelid = c.oid WHERE n.nspname = @schema AND c.relname = @name";

    internal const string TableIndexesSizeSql =
        "WITH " + MaintenanceSql.LockedCte + " " +
        "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM locked k WHERE k.relation = c.oid) THEN pg_indexes_size(c.oid) END FROM pg_class c WHERE c.oid = @oid";

    /// <summary>Every index of the database (system schemas only with <paramref name="includeSystem"/>).</summary>
    public static async Task<IReadOnlyList<PgIndex>> ListIndexesAsync(PgTarget target, bool includeSystem, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = new NpgsqlCommand(IndexesSql, connection);
            cmd.Parameters.AddWithValue("all", includeSystem);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<PgIndex>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                list.Add(new PgIndex(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<uint>(4)));
            return list;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (MaintenanceSql.IsCancellation(e, cancellationToken)) throw new OperationCanceledException(cancellationToken);
            throw PgErrors.Statement(target, "Listing indexes", e);
        }
    }

    /// <summary>Every table of the database with its index count, largest first.</summary>
    public static async Task<(IReadOnlyList<PgIndexedTable> Tables, int ServerMajor)> ListTablesAsync(PgTarget target, bool includeSystem, CancellationToken cancellationToken)
    {
        await using var connection = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await using var cmd = new NpgsqlCommand(TablesSql, connection);
            cmd.Parameters.AddWithValue("all", includeSystem);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var list = new List<PgIndexedTable>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                list.Add(new PgIndexedTable(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetString(2), reader.GetInt64(3), reader.GetInt32(4)));
            return (list, connection.PostgreSqlVersion.Major);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            if (MaintenanceSql.IsCancellation(e, cancellationToken)) throw new OperationCanceledException(cancellationToken);
            throw PgErrors.Statement(target, "Listing tables", e);
        }
    }

    /// <summary>Runs REINDEX for each item, one at a time, each outside any transaction (CONCURRENTLY requires it).</summary>
    public static Task ReindexAsync(PgTarget target, IReadOnlyList<ReindexItem> items, bool concurrently,
        Action<ReindexItem> starting, Action<DbReindexResult> completed, Action<ReindexItem, MaintenanceFailure> failed,
        CancellationToken cancellationToken) =>
        MaintenanceQueue.RunAsync(target, items, 1,
            async (connection, item, ct) =>
            {
                var before = await SizeAsync(connection, item, ct).ConfigureAwait(false);
                var sw = Stopwatch.StartNew();
                await using (var cmd = new NpgsqlCommand(PgSql.OwnStatementMarker + item.Statement(concurrently), connection) { CommandTimeout = 0 })
                    await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
                sw.Stop();
                long? after = null;
                try { after = await SizeAsync(connection, item, CancellationToken.None).ConfigureAwait(false); }
                catch (Exception e) when (e is not OutOfMemoryException) { }
                var operation = item.Operation(concurrently);
                var text = string.Create(CultureInfo.InvariantCulture, $"{operation} {item.Display} in {sw.Elapsed.TotalSeconds:0.###} s");
                if (before is long b && after is long a) text += $"; index size {DbVacuumEngine.Bytes(b)} -> {DbVacuumEngine.Bytes(a)}";
                completed(target.Identify(new DbReindexResult
                {
                    Schema = item.Schema, Table = item.TableName, Index = item.Index?.Name,
                    Operation = operation, Concurrently = concurrently, Succeeded = true,
                    IndexCount = item.Index is not null ? 1 : item.Table!.IndexCount,
                    SizeBefore = before, SizeAfter = after, Duration = sw.Elapsed, Message = text + ".", Timestamp = DateTime.UtcNow,
                }));
            },
            starting, failed,
            (item, e) =>
            {
                if (e is OpsToolsException ops) return ops;
                var what = $"{item.Operation(concurrently)} {item.Display}";
                if (MaintenanceSql.IsConnectionLoss(e, null))
                    return new OpsToolsException("DbConnectionLost", OpsErrorKind.ConnectionError,
                        $"{what} on {target.Address}: the connection was lost while it ran; its outcome is unknown" +
                        (concurrently ? " (an interrupted REINDEX CONCURRENTLY can leave an invalid index named *_ccnew: drop it)." : "."), item.Display, e);
                var error = PgErrors.Statement(target, what, e);
                return concurrently && e is PostgresException
                    ? new OpsToolsException(error.ErrorId, error.Kind, error.Message + " A failed REINDEX CONCURRENTLY can leave an invalid index named *_ccnew; drop it or reindex again.", item.Display, e)
                    : error;
            },
            cancellationToken);

    private static async Task<long?> SizeAsync(NpgsqlConnection connection, ReindexItem item, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(item.Index is not null ? IndexSizeSql : TableIndexesSizeSql, connection);
        if (item.Index is not null)
        {
            cmd.Parameters.AddWithValue("schema", item.Index.Schema);
            cmd.Parameters.AddWithValue("name", item.Index.Name);
        }
        else cmd.Parameters.Add(new NpgsqlParameter("oid", NpgsqlTypes.NpgsqlDbType.Oid) { Value = item.Table!.Oid });
        var v = await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return v is long l ? l : null;
    }
}
