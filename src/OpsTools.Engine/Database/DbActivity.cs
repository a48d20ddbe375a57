using Npgsql;
using OpsTools.Database;

namespace OpsTools.Engine.Database;

/// <summary>
/// One connection used by Get-DbConnection / Stop-DbConnection: reads pg_stat_activity and signals
/// backends (pg_terminate_backend, pg_cancel_backend), never its own.
/// </summary>
public sealed class DbActivitySession : IAsyncDisposable
{
    /// <summary>The states pg_stat_activity.state can have.</summary>
    public static readonly string[] States =
    {
        "active", "idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call", "disabled",
    };

    private const string ListSql = """
        SELECT pid, usename, application_name, host(client_addr), client_hostname, client_port, datname, state,
               backend_start, xact_start, query_start, state_change, wait_event_type, wait_event, backend_type, query,
               pid = pg_backend_pid(), now()
        FROM pg_stat_activity
        WHERE @all OR backend_type = 'client backend'
        ORDER BY backend_start, pid
        """;

    private readonly NpgsqlConnection _connection;

    private DbActivitySession(PgTarget target, NpgsqlConnection connection)
    {
        Target = target;
        _connection = connection;
        BackendPid = connection.ProcessID;
        ServerVersionNumber = connection.PostgreSqlVersion.Major * 10000 + Math.Max(0, connection.PostgreSqlVersion.Minor);
    }

    public PgTarget Target { get; }
    /// <summary>pg_backend_pid() of this session: never listed as a candidate, never signalled.</summary>
    public int BackendPid { get; }
    /// <summary>Like server_version_num (150008).</summary>
    public int ServerVersionNumber { get; }

    public static async Task<DbActivitySession> OpenAsync(PgTarget target, CancellationToken cancellationToken)
    {
        var connection = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
        return new DbActivitySession(target, connection);
    }

    /// <summary>pg_stat_activity: client backends, or every process with <paramref name="includeSystem"/>.</summary>
    public async Task<List<DbConnectionInfo>> ListAsync(bool includeSystem, CancellationToken cancellationToken)
    {
        var list = new List<DbConnectionInfo>();
        try
        {
            await using var cmd = new NpgsqlCommand(ListSql, _connection);
            cmd.Parameters.AddWithValue("all", includeSystem);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                DateTime? T(int i) => reader.IsDBNull(i) ? null : reader.GetDateTime(i).ToUniversalTime();
                var now = reader.GetDateTime(17).ToUniversalTime();
                var info = Target.Identify(new DbConnectionInfo
                {
                    Pid = reader.GetInt32(0),
                    User = S(1),
                    Application = S(2),
                    ClientHostName = S(4),
                    State = S(7),
                    BackendStart = T(8),
                    TransactionStart = T(9),
                    QueryStart = T(10),
                    StateChange = T(11),
                    WaitEventType = S(12),
                    WaitEvent = S(13),
                    BackendType = S(14),
                    Query = S(15),
                    IsCurrentSession = !reader.IsDBNull(16) && reader.GetBoolean(16),
                });
                // The session's own database, not the one this command connected to (null for background processes).
                info.Database = S(6);
                var address = S(3);
                int? port = reader.IsDBNull(5) ? null : reader.GetInt32(5);
                info.Client = address is not null
                    ? (address.Contains(':') ? $"[{address}]" : address) + (port is int p && p > 0 ? ":" + p : "")
                    : port == -1 ? "local" : null;
                Durations(info, now);
                list.Add(info);
            }
        }
        catch (Exception e) when (e is NpgsqlException && !cancellationToken.IsCancellationRequested)
        {
            throw PgErrors.Statement(Target, "Reading pg_stat_activity", e);
        }
        return list;
    }

    /// <summary>Duration: active (and fastpath) since query_start; idle states since state_change.</summary>
    public static void Durations(DbConnectionInfo info, DateTime now)
    {
        TimeSpan? Since(DateTime? t) => t is DateTime d ? (now - d < TimeSpan.Zero ? TimeSpan.Zero : now - d) : null;
        info.StateDuration = Since(info.StateChange);
        info.TransactionDuration = Since(info.TransactionStart);
        info.Duration = info.State is "active" or "fastpath function call" ? Since(info.QueryStart) ?? Since(info.StateChange)
            : info.State is null ? null
            : Since(info.StateChange) ?? Since(info.QueryStart);
    }

    /// <summary>The runbooks' SELECT state, count(*) FROM pg_stat_activity GROUP BY state, from listed sessions.</summary>
    public static List<DbConnectionSummary> Summarize(IEnumerable<DbConnectionInfo> sessions) =>
        sessions.GroupBy(s => s.State)
            .Select(g => new DbConnectionSummary
            {
                Instance = g.First().Instance, Server = g.First().Server, Port = g.First().Port, ConnectionId = g.First().ConnectionId,
                State = g.Key, Count = g.Count(), OldestDuration = g.Max(s => s.Duration),
            })
            .OrderByDescending(s => s.Count).ThenBy(s => s.State, StringComparer.Ordinal).ToList();

    /// <summary>
    /// Terminates (or cancels the query of) one backend: only when it still is the same process
    /// (same pid and, when known, same backend_start) and never this session. A session that has
    /// gone meanwhile is a result with Succeeded false, not an exception.
    /// </summary>
    public async Task<DbConnectionStopResult> StopAsync(DbConnectionInfo session, bool cancelQueryOnly, CancellationToken cancellationToken)
    {
        var result = Target.Identify(new DbConnectionStopResult
        {
            Pid = session.Pid, User = session.User, Application = session.Application, State = session.State,
            Query = Truncate(session.Query, 100),
            Action = cancelQueryOnly ? "Cancelled" : "Terminated",
        });
        result.Database = session.Database;
        if (session.Pid == BackendPid)
        {
            result.Message = $"pid {session.Pid} is the session this command works through; it is never stopped.";
            return result;
        }
        // PostgreSQL 14+: pg_terminate_backend waits (up to 5 s) until the process has really gone.
        var function = cancelQueryOnly ? "pg_cancel_backend(pid)"
            : ServerVersionNumber >= 140000 ? "pg_terminate_backend(pid, 5000)" : "pg_terminate_backend(pid)";
        var sql = $"""
            SELECT {function} FROM pg_stat_activity
            WHERE pid = @pid AND pid <> pg_backend_pid() AND (@start::timestamptz IS NULL OR backend_start = @start)
            """;
        try
        {
            await using var cmd = new NpgsqlCommand(sql, _connection);
            cmd.Parameters.AddWithValue("pid", session.Pid);
            cmd.Parameters.Add(new NpgsqlParameter("start", NpgsqlTypes.NpgsqlDbType.TimestampTz)
            {
                Value = session.BackendStart is DateTime d ? DateTime.SpecifyKind(d.ToUniversalTime(), DateTimeKind.Utc) : DBNull.Value,
            });
            var value = await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (value is null or DBNull)
            {
                result.Message = $"pid {session.Pid} no longer exists (the session ended before it could be {(cancelQueryOnly ? "cancelled" : "terminated")}).";
                return result;
            }
            result.Succeeded = (bool)value;
            result.Message = result.Succeeded
                ? cancelQueryOnly ? $"query of pid {session.Pid} cancelled (pg_cancel_backend); the session stays connected."
                                  : $"session {session.Pid} terminated (pg_terminate_backend)."
                : cancelQueryOnly ? $"pg_cancel_backend({session.Pid}) returned false: the process could not be signalled."
                                  : $"pg_terminate_backend({session.Pid}) returned false: the process did not exit within 5 s or could not be signalled.";
            return result;
        }
        catch (PostgresException e) when (e.SqlState == "42501")
        {
            result.Message = $"permission denied: {e.MessageText}. Terminating another role's session needs a superuser or membership in pg_signal_backend.";
            throw new DbStopDeniedException(result, PgErrors.Statement(Target, $"{(cancelQueryOnly ? "Cancelling the query of" : "Terminating")} pid {session.Pid}", e));
        }
        catch (Exception e) when (e is NpgsqlException && !cancellationToken.IsCancellationRequested)
        {
            throw PgErrors.Statement(Target, $"Signalling pid {session.Pid}", e);
        }
    }

    /// <summary>
    /// Closes this process's idle pooled connections: a terminated backend must never be handed out
    /// again by the pool to a later command.
    /// </summary>
    public static void ClearPools() => NpgsqlConnection.ClearAllPools();

    private static string? Truncate(string? s, int max) =>
        s is null ? null : (s = s.ReplaceLineEndings(" ").Trim()).Length <= max ? s : s[..(max - 1)] + "…";

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync().ConfigureAwait(false);
}

/// <summary>The server refused to signal a backend; carries the result object to report.</summary>
public sealed class DbStopDeniedException : OpsToolsException
{
    public DbStopDeniedException(DbConnectionStopResult result, OpsToolsException inner)
        : base(inner.ErrorId, inner.Kind, inner.Message, inner.Target, inner.InnerException) => Result = result;

    public DbConnectionStopResult Result { get; }
}
