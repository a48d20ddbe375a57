using System.Diagnostics;
using System.Globalization;
using Npgsql;
using OpsTools.Database;

namespace OpsTools.Engine.Database;

/// <summary>The checks Get-DbHealth runs, and the thresholds they use.</summary>
public sealed class DbHealthOptions
{
    public static readonly string[] AllChecks = { "Reachable", "ServerVersion", "Uptime", "Connections", "Replication", "TransactionIdWraparound" };

    public ISet<string> Checks { get; init; } = new HashSet<string>(AllChecks, StringComparer.OrdinalIgnoreCase);
    public double ConnectionWarningPercent { get; init; } = 75;
    public double ConnectionCriticalPercent { get; init; } = 90;
    public double WraparoundWarning { get; init; } = 1_300_000_000;
    public double WraparoundCritical { get; init; } = 1_400_000_000;
    public double ReplicationLagWarningSeconds { get; init; } = 60;
    public double ReplicationLagCriticalSeconds { get; init; } = 300;
    /// <summary>How long the statements of one target may take together, after connecting.</summary>
    public TimeSpan StatementTimeout { get; init; } = TimeSpan.FromSeconds(15);
    public string? Environment { get; init; }
}

/// <summary>
/// Get-DbHealth's engine: pg_isready's answer, version, uptime, connections against max_connections,
/// replication lag and transaction-ID wraparound age, as check results. An unreachable database is a
/// Critical Reachable result with the reason, never an exception.
/// </summary>
public static class DbHealth
{
    private const string BasicsSql = """
        SELECT current_setting('server_version'),
               current_setting('server_version_num')::int,
               pg_postmaster_start_time(),
               now(),
               pg_is_in_recovery(),
               current_setting('max_connections')::int,
               current_setting('superuser_reserved_connections')::int
                 + coalesce(nullif(current_setting('reserved_connections', true), '')::int, 0),
               (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int
        """;

    private const string PrimaryReplicationSql = """
        SELECT application_name, host(client_addr), state, sync_state, write_lag, flush_lag, replay_lag,
               pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint
        FROM pg_stat_replication
        ORDER BY application_name, client_addr
        """;

    private const string StandbyReplicationSql = """
        SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN interval '0'
                    ELSE now() - pg_last_xact_replay_timestamp() END,
               pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint,
               (SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver LIMIT 1),
               (SELECT status FROM pg_stat_wal_receiver LIMIT 1)
        """;

    private const string WraparoundSql = """
        SELECT datname, age(datfrozenxid)::bigint FROM pg_database ORDER BY 2 DESC, 1 LIMIT 1
        """;

    /// <summary>Runs the selected checks against one target. Never throws except on Ctrl+C.</summary>
    public static async Task<List<DbHealthResult>> CheckAsync(PgTarget target, DbHealthOptions options, Action<string>? verbose, CancellationToken cancellationToken)
    {
        var results = new List<DbHealthResult>();
        DbHealthResult New(string check) => target.Identify(new DbHealthResult
        {
            Check = check, Target = target.Address, Environment = options.Environment,
        });
        bool Wanted(string check) => options.Checks.Contains(check);

        var watch = Stopwatch.StartNew();
        NpgsqlConnection connection;
        try
        {
            verbose?.Invoke($"Connecting to {target.Address}.");
            connection = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OpsToolsException e)
        {
            var r = New("Reachable");
            r.Status = CheckStatus.Critical;
            r.Ready = ReadyAnswer(e);
            r.Value = r.Ready;
            r.ErrorId = e.ErrorId;
            r.Message = e.Message + (options.Checks.Count > 1 ? " The other checks were not run." : "");
            r.Duration = watch.Elapsed;
            r.Timestamp = DateTime.UtcNow;
            results.Add(r);
            return results;
        }

        await using (connection.ConfigureAwait(false))
        {
            var connectTime = watch.Elapsed;
            if (Wanted("Reachable"))
            {
                var r = New("Reachable");
                r.Status = CheckStatus.Healthy;
                r.Ready = "accepting connections";
                r.Value = r.Ready;
                r.Message = $"accepting connections (connected in {connectTime.TotalMilliseconds:0} ms)";
                r.Duration = connectTime;
                results.Add(r);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.StatementTimeout);
            var ct = timeout.Token;

            async Task Guard(string check, Func<Task> body)
            {
                var w = Stopwatch.StartNew();
                try { await body().ConfigureAwait(false); }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && e is NpgsqlException or OperationCanceledException or InvalidCastException)
                {
                    var r = New(check);
                    r.Status = CheckStatus.Unknown;
                    r.Message = e is OperationCanceledException or NpgsqlException { InnerException: TimeoutException }
                        ? $"{check} on {target.Address}: no answer within {options.StatementTimeout.TotalSeconds:0.#} s."
                        : PgErrors.Statement(target, check, e).Message;
                    r.Duration = w.Elapsed;
                    results.Add(r);
                }
            }

            // One round trip for version, uptime and connections.
            object?[]? basics = null;
            var basicsWanted = Wanted("ServerVersion") || Wanted("Uptime") || Wanted("Connections") || Wanted("Replication");
            var basicsWatch = Stopwatch.StartNew();
            if (basicsWanted)
                await Guard("ServerVersion", async () =>
                {
                    verbose?.Invoke($"{target.Address}: reading server_version, pg_postmaster_start_time(), max_connections and pg_stat_activity.");
                    await using var cmd = new NpgsqlCommand(BasicsSql, connection);
                    await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    if (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        basics = new object?[reader.FieldCount];
                        for (var i = 0; i < reader.FieldCount; i++) basics[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                    }
                }).ConfigureAwait(false);
            var basicsTime = basicsWatch.Elapsed;

            if (basics is not null)
            {
                var version = (string)basics[0]!;
                var versionNum = (int)basics[1]!;
                var start = ((DateTime)basics[2]!).ToUniversalTime();
                var now = ((DateTime)basics[3]!).ToUniversalTime();
                var inRecovery = (bool)basics[4]!;
                var max = (int)basics[5]!;
                var reserved = (int)basics[6]!;
                var used = (int)basics[7]!;

                if (Wanted("ServerVersion"))
                {
                    var r = New("ServerVersion");
                    r.Status = CheckStatus.Healthy;
                    r.ServerVersion = version;
                    r.ServerVersionNumber = versionNum;
                    r.Value = version;
                    r.Message = $"PostgreSQL {version}{(inRecovery ? " (standby)" : "")}";
                    r.Duration = basicsTime;
                    results.Add(r);
                }
                if (Wanted("Uptime"))
                {
                    var r = New("Uptime");
                    var uptime = now - start;
                    r.Status = CheckStatus.Healthy;
                    r.StartTime = start;
                    r.Uptime = uptime;
                    r.Value = Math.Round(uptime.TotalSeconds);
                    r.Message = $"up {FormatSpan(uptime)}, since {start:yyyy-MM-dd HH:mm:ss} UTC";
                    r.Duration = basicsTime;
                    results.Add(r);
                }
                if (Wanted("Connections"))
                {
                    var r = New("Connections");
                    var available = Math.Max(1, max - reserved);
                    var percent = Math.Round(used * 100.0 / available, 1);
                    r.Status = ThresholdStatus(percent, options.ConnectionWarningPercent, options.ConnectionCriticalPercent);
                    r.Connections = used;
                    r.MaxConnections = max;
                    r.ReservedConnections = reserved;
                    r.UsedPercent = percent;
                    r.Value = percent;
                    r.Threshold = $"warn > {Num(options.ConnectionWarningPercent)}%; critical > {Num(options.ConnectionCriticalPercent)}%";
                    r.Message = $"{used} of {available} connections in use ({Num(percent)}%; max_connections {max}, {reserved} reserved for superusers)" +
                                (r.Status == CheckStatus.Healthy ? "" : $", above the {(r.Status == CheckStatus.Critical ? "critical" : "warning")} threshold of {Num(r.Status == CheckStatus.Critical ? options.ConnectionCriticalPercent : options.ConnectionWarningPercent)}%");
                    r.Duration = basicsTime;
                    results.Add(r);
                }
                if (Wanted("Replication"))
                    await Guard("Replication", () => ReplicationAsync(connection, target, inRecovery, options, New, results, verbose, ct)).ConfigureAwait(false);
            }

            if (Wanted("TransactionIdWraparound"))
                await Guard("TransactionIdWraparound", async () =>
                {
                    var w = Stopwatch.StartNew();
                    verbose?.Invoke($"{target.Address}: reading max(age(datfrozenxid)) from pg_database.");
                    await using var cmd = new NpgsqlCommand(WraparoundSql, connection);
                    await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
                    if (!await reader.ReadAsync(ct).ConfigureAwait(false)) return;
                    var r = New("TransactionIdWraparound");
                    var db = reader.GetString(0);
                    var age = reader.GetInt64(1);
                    r.OldestDatabase = db;
                    r.TransactionIdAge = age;
                    r.Value = age;
                    r.Status = ThresholdStatus(age, options.WraparoundWarning, options.WraparoundCritical);
                    r.Threshold = $"warn > {Num(options.WraparoundWarning)}; critical > {Num(options.WraparoundCritical)}";
                    var percent = age * 100.0 / 2_147_483_648.0;
                    r.Message = $"oldest transaction ID age {age:N0} in database '{db}' ({percent:0.##}% of the way to wraparound)" +
                                (r.Status == CheckStatus.Healthy ? "" : $"; run VACUUM FREEZE on '{db}' (Invoke-DbVacuum) before PostgreSQL stops accepting writes");
                    r.Duration = w.Elapsed;
                    results.Add(r);
                }).ConfigureAwait(false);
        }

        var stamp = DateTime.UtcNow;
        foreach (var r in results) r.Timestamp = stamp;
        return results;
    }

    private static async Task ReplicationAsync(NpgsqlConnection connection, PgTarget target, bool inRecovery, DbHealthOptions o,
        Func<string, DbHealthResult> create, List<DbHealthResult> results, Action<string>? verbose, CancellationToken ct)
    {
        var w = Stopwatch.StartNew();
        var threshold = $"replay lag warn > {Num(o.ReplicationLagWarningSeconds)} s; critical > {Num(o.ReplicationLagCriticalSeconds)} s";
        if (inRecovery)
        {
            verbose?.Invoke($"{target.Address}: standby; reading pg_last_xact_replay_timestamp() and pg_stat_wal_receiver.");
            await using var cmd = new NpgsqlCommand(StandbyReplicationSql, connection);
            await using var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
            await reader.ReadAsync(ct).ConfigureAwait(false);
            var r = create("Replication");
            r.Role = "standby";
            r.ReplayLag = reader.IsDBNull(0) ? null : reader.GetFieldValue<TimeSpan>(0);
            r.LagBytes = reader.IsDBNull(1) ? null : reader.GetInt64(1);
            r.Replica = reader.IsDBNull(2) ? null : reader.GetString(2);
            r.ReplicationState = reader.IsDBNull(3) ? null : reader.GetString(3);
            (r.Status, r.Message) = StandbyStatus(r.ReplicationState, r.ReplayLag, r.LagBytes, o);
            r.Value = r.ReplayLag is { } lag ? Math.Round(lag.TotalSeconds, 3) : null;
            r.Threshold = threshold;
            r.Duration = w.Elapsed;
            results.Add(r);
            return;
        }

        verbose?.Invoke($"{target.Address}: primary; reading pg_stat_replication.");
        var replicas = new List<DbHealthResult>();
        await using (var cmd = new NpgsqlCommand(PrimaryReplicationSql, connection))
        await using (var reader = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(ct).ConfigureAwait(false))
            {
                var r = create("Replication");
                r.Role = "primary";
                var app = reader.IsDBNull(0) ? "" : reader.GetString(0);
                var addr = reader.IsDBNull(1) ? "local" : reader.GetString(1);
                r.Replica = app.Length > 0 ? $"{app} ({addr})" : addr;
                r.ReplicationState = reader.IsDBNull(2) ? null : reader.GetString(2);
                r.SyncState = reader.IsDBNull(3) ? null : reader.GetString(3);
                r.WriteLag = reader.IsDBNull(4) ? null : reader.GetFieldValue<TimeSpan>(4);
                r.FlushLag = reader.IsDBNull(5) ? null : reader.GetFieldValue<TimeSpan>(5);
                r.ReplayLag = reader.IsDBNull(6) ? null : reader.GetFieldValue<TimeSpan>(6);
                r.LagBytes = reader.IsDBNull(7) ? null : reader.GetInt64(7);
                (r.Status, r.Message) = ReplicaStatus(r.Replica, r.ReplicationState, r.ReplayLag, r.LagBytes, o);
                r.Value = r.ReplayLag is { } lag ? Math.Round(lag.TotalSeconds, 3) : 0.0;
                r.Threshold = threshold;
                replicas.Add(r);
            }
        }
        if (replicas.Count == 0)
        {
            var r = create("Replication");
            r.Role = "primary";
            r.Status = CheckStatus.Healthy;
            r.Value = 0;
            r.Message = "primary with no replicas (pg_stat_replication is empty)";
            replicas.Add(r);
        }
        foreach (var r in replicas) r.Duration = w.Elapsed;
        results.AddRange(replicas);
    }

    /// <summary>Status of one replica as seen from the primary.</summary>
    public static (CheckStatus, string) ReplicaStatus(string? replica, string? state, TimeSpan? replayLag, long? lagBytes, DbHealthOptions o)
    {
        var lag = replayLag?.TotalSeconds ?? 0;
        var status = ThresholdStatus(lag, o.ReplicationLagWarningSeconds, o.ReplicationLagCriticalSeconds);
        var parts = new List<string> { $"replica {replica}: {state ?? "unknown state"}" };
        parts.Add(replayLag is null ? "no replay lag reported (idle or caught up)" : $"replay lag {FormatLag(replayLag.Value)}");
        if (lagBytes is long b) parts.Add($"{ByteSize.Format(b, ByteFormat.PostgresShort)} behind");
        if (state is not null && state != "streaming")
        {
            if (status == CheckStatus.Healthy) status = CheckStatus.Warning;
            parts.Add(state == "catchup" ? "still catching up" : "not streaming");
        }
        return (status, string.Join(", ", parts));
    }

    /// <summary>Status of a standby from its own view.</summary>
    public static (CheckStatus, string) StandbyStatus(string? receiverStatus, TimeSpan? replayLag, long? lagBytes, DbHealthOptions o)
    {
        var lag = replayLag?.TotalSeconds ?? 0;
        var status = ThresholdStatus(lag, o.ReplicationLagWarningSeconds, o.ReplicationLagCriticalSeconds);
        var parts = new List<string> { "standby" };
        parts.Add(replayLag is null ? "nothing replayed yet" : $"replay lag {FormatLag(replayLag.Value)}");
        if (lagBytes is long b && b > 0) parts.Add($"{ByteSize.Format(b, ByteFormat.PostgresShort)} received but not replayed");
        if (receiverStatus is null)
        {
            if (status == CheckStatus.Healthy) status = CheckStatus.Warning;
            parts.Add("no WAL receiver running (replaying from archive, or disconnected from the primary)");
        }
        else parts.Add($"WAL receiver {receiverStatus}");
        return (status, string.Join(", ", parts));
    }

    /// <summary>Critical above <paramref name="critical"/>, Warning above <paramref name="warning"/>, else Healthy.</summary>
    public static CheckStatus ThresholdStatus(double value, double warning, double critical) =>
        value > critical ? CheckStatus.Critical : value > warning ? CheckStatus.Warning : CheckStatus.Healthy;

    /// <summary>What pg_isready would have said for a failed connection attempt.</summary>
    public static string ReadyAnswer(OpsToolsException e)
    {
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            if (inner is PostgresException pg)
                return pg.SqlState == "57P03" ? "rejecting connections" : "accepting connections";
        return e.ErrorId == "DbStarting" ? "rejecting connections" : "no response";
    }

    private static string Num(double d) => d.ToString("0.##", CultureInfo.InvariantCulture);

    internal static string FormatSpan(TimeSpan t) =>
        t.TotalDays >= 1 ? $"{(int)t.TotalDays} d {t.Hours:00}:{t.Minutes:00}" : t.TotalHours >= 1 ? $"{(int)t.TotalHours} h {t.Minutes:00} min" : $"{(int)t.TotalMinutes} min {t.Seconds:00} s";

    private static string FormatLag(TimeSpan t) => t.TotalSeconds < 60 ? $"{t.TotalSeconds:0.###} s" : FormatSpan(t);
}
