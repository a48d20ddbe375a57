using System.Data;
using System.Net.Sockets;
using Npgsql;

namespace OpsTools.Engine.Database;

/// <summary>Small SQL pieces shared by the vacuum and reindex commands (identifiers: <see cref="PgSql"/>).</summary>
public static class MaintenanceSql
{
    /// <summary>
    /// Relations another session holds (or waits for) an ACCESS EXCLUSIVE lock on, in the current database.
    /// pg_relation_size and friends take ACCESS SHARE, so the size queries skip those relations
    /// (sizes null) instead of queueing behind the lock.
    /// </summary>
    internal const string LockedCte =
        "locked AS MATERIALIZED (SELECT DISTINCT l.relation FROM pg_locks l " +
        "WHERE l.locktype = 'relation' AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid() " +
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()))";

    /// <summary>The schemas left out unless system schemas are asked for.</summary>
    internal const string UserSchemaFilter =
        "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast' AND n.nspname !~ '^pg_temp_'";

    /// <summary>True when a failure means the session is gone (server stopped, network cut, session terminated).</summary>
    public static bool IsConnectionLoss(Exception e, NpgsqlConnection? connection)
    {
        if (connection is not null && (connection.FullState & ConnectionState.Broken) != 0) return true;
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is PostgresException { SqlState: "57P01" or "57P02" or "57P03" }) return true;
            if (x is IOException or EndOfStreamException or SocketException) return true;
        }
        return false;
    }

    /// <summary>True when a failure is the cancellation the caller asked for (Ctrl+C).</summary>
    public static bool IsCancellation(Exception e, CancellationToken cancellationToken) =>
        cancellationToken.IsCancellationRequested &&
        (e is OperationCanceledException || e is PostgresException { SqlState: "57014" } || e.InnerException is OperationCanceledException or PostgresException { SqlState: "57014" } || e is NpgsqlException);
}

/// <summary>One item of maintenance work that failed.</summary>
public sealed class MaintenanceFailure
{
    public MaintenanceFailure(OpsToolsException error, bool started) { Error = error; Started = started; }
    /// <summary>The error, with an ErrorId (DbConnectionLost, DbConnectionRefused, DbStatementFailed ...).</summary>
    public OpsToolsException Error { get; }
    /// <summary>True when the statement had been sent (its outcome may be unknown); false when it never started.</summary>
    public bool Started { get; }
}

/// <summary>
/// Runs one statement per item over at most N connections of one database, as vacuumdb -j and
/// reindexdb -j do: each worker keeps its own connection (no transaction: VACUUM and REINDEX
/// CONCURRENTLY refuse to run in one) and takes the next item when it is done.
/// <list type="bullet">
/// <item>Cancellation stops the running statements on the server (Npgsql sends a cancel request) and
/// starts no new ones; finished items keep their results; then <see cref="OperationCanceledException"/>.</item>
/// <item>A lost connection fails the item in flight (DbConnectionLost: outcome unknown); the worker
/// reconnects for the next item. When connecting fails, that item and every item not started yet fail
/// with the same cause (DbConnectionRefused, DbConnectionTimeout ...), without further attempts.</item>
/// </list>
/// </summary>
public static class MaintenanceQueue
{
    public static async Task RunAsync<TItem>(
        PgTarget target,
        IReadOnlyList<TItem> items,
        int parallel,
        Func<NpgsqlConnection, TItem, CancellationToken, Task> work,
        Action<TItem> starting,
        Action<TItem, MaintenanceFailure> failed,
        Func<TItem, Exception, OpsToolsException> describeFailure,
        CancellationToken cancellationToken)
    {
        if (items.Count == 0) return;
        parallel = Math.Clamp(parallel, 1, items.Count);
        var next = -1;
        OpsToolsException? down = null;
        var gate = new object();

        async Task Worker()
        {
            NpgsqlConnection? connection = null;
            try
            {
                while (!cancellationToken.IsCancellationRequested)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i >= items.Count) return;
                    var item = items[i];
                    OpsToolsException? known;
                    lock (gate) known = down;
                    if (known is not null) { failed(item, new MaintenanceFailure(NotStarted(known), false)); continue; }

                    if (connection is not null && connection.FullState != ConnectionState.Open)
                    {
                        await connection.DisposeAsync().ConfigureAwait(false); // broken after the previous item: start afresh
                        connection = null;
                    }
                    if (connection is null)
                    {
                        try
                        {
                            connection = await OpenAsync(target, cancellationToken).ConfigureAwait(false);
                        }
                        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { return; }
                        catch (OpsToolsException e)
                        {
                            lock (gate) down ??= e;
                            failed(item, new MaintenanceFailure(NotStarted(e), false));
                            continue;
                        }
                    }

                    starting(item);
                    try
                    {
                        await work(connection, item, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (MaintenanceSql.IsCancellation(e, cancellationToken))
                    {
                        return;
                    }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        var lost = MaintenanceSql.IsConnectionLoss(e, connection);
                        failed(item, new MaintenanceFailure(describeFailure(item, e), true));
                        if (lost)
                        {
                            await connection.DisposeAsync().ConfigureAwait(false);
                            connection = null;
                        }
                    }
                }
            }
            finally
            {
                if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
            }
        }

        var workers = new Task[parallel];
        for (var w = 0; w < parallel; w++) workers[w] = Task.Run(Worker, CancellationToken.None);
        await Task.WhenAll(workers).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>
    /// Opens a connection; "the database system is starting up / shutting down" is retried for a few
    /// seconds, so a server going down ends as DbConnectionRefused and one coming up is used.
    /// </summary>
    private static async Task<NpgsqlConnection> OpenAsync(PgTarget target, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (true)
        {
            try { return await target.OpenAsync(cancellationToken).ConfigureAwait(false); }
            catch (OpsToolsException e) when (e.ErrorId == "DbStarting" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static OpsToolsException NotStarted(OpsToolsException cause) =>
        new(cause.ErrorId, cause.Kind, "Not started: " + cause.Message, cause.Target, cause);
}
