namespace OpsTools.Database;

/// <summary>
/// One check of Get-DbHealth for one database target (Reachable, ServerVersion, Uptime, Connections,
/// Replication, TransactionIdWraparound). Properties that do not belong to the check are null.
/// </summary>
public class DbHealthResult : CheckResult, IDbIdentity
{
    public DbHealthResult() => Area = "Database";

    /// <summary>The environment entry's name, or host:port/database.</summary>
    public string Instance { get; set; } = "";
    /// <summary>Host name, IP address or socket directory.</summary>
    public string Server { get; set; } = "";
    /// <summary>TCP port.</summary>
    public int Port { get; set; }
    /// <summary>The database connected to.</summary>
    public string Database { get; set; } = "";
    /// <summary>Lets the next OpsTools database command reuse the connection settings (no secret inside).</summary>
    public string? ConnectionId { get; set; }

    /// <summary>Reachable: pg_isready's answer: "accepting connections", "rejecting connections" or "no response".</summary>
    public string? Ready { get; set; }
    /// <summary>The error id when the database could not be reached (DbConnectionRefused, DbAuthenticationFailed ...).</summary>
    public string? ErrorId { get; set; }
    /// <summary>ServerVersion: server_version, e.g. "15.8 (Debian 15.8-1.pgdg120+1)".</summary>
    public string? ServerVersion { get; set; }
    /// <summary>ServerVersion: server_version_num, e.g. 150008.</summary>
    public int? ServerVersionNumber { get; set; }
    /// <summary>Uptime: pg_postmaster_start_time(), UTC.</summary>
    public DateTime? StartTime { get; set; }
    /// <summary>Uptime: how long the server has been running.</summary>
    public TimeSpan? Uptime { get; set; }
    /// <summary>Connections: client backends connected.</summary>
    public int? Connections { get; set; }
    /// <summary>Connections: max_connections.</summary>
    public int? MaxConnections { get; set; }
    /// <summary>Connections: superuser_reserved_connections (+ reserved_connections on PostgreSQL 16+).</summary>
    public int? ReservedConnections { get; set; }
    /// <summary>Connections: Connections / (MaxConnections − ReservedConnections) × 100.</summary>
    public double? UsedPercent { get; set; }
    /// <summary>Replication: "primary" or "standby".</summary>
    public string? Role { get; set; }
    /// <summary>Replication: the replica (application_name and client address) on a primary; the upstream on a standby.</summary>
    public string? Replica { get; set; }
    /// <summary>Replication: pg_stat_replication.state (streaming, catchup, startup, backup) on a primary.</summary>
    public string? ReplicationState { get; set; }
    /// <summary>Replication: pg_stat_replication.sync_state (async, sync, potential, quorum).</summary>
    public string? SyncState { get; set; }
    /// <summary>Replication: write_lag.</summary>
    public TimeSpan? WriteLag { get; set; }
    /// <summary>Replication: flush_lag.</summary>
    public TimeSpan? FlushLag { get; set; }
    /// <summary>Replication: replay_lag on a primary; now() − pg_last_xact_replay_timestamp() on a standby.</summary>
    public TimeSpan? ReplayLag { get; set; }
    /// <summary>Replication: bytes of WAL not yet replayed (primary: current LSN − replay_lsn; standby: receive − replay).</summary>
    public long? LagBytes { get; set; }
    /// <summary>TransactionIdWraparound: the database with the oldest datfrozenxid.</summary>
    public string? OldestDatabase { get; set; }
    /// <summary>TransactionIdWraparound: max(age(datfrozenxid)).</summary>
    public long? TransactionIdAge { get; set; }
}

/// <summary>One server process from pg_stat_activity (what Get-DbConnection returns).</summary>
public class DbConnectionInfo : IDbIdentity
{
    public string Instance { get; set; } = "";
    public string Server { get; set; } = "";
    public int Port { get; set; }
    /// <summary>The database the session is connected to (datname); null for background processes without one.</summary>
    public string? Database { get; set; }
    string IDbIdentity.Database { get => Database ?? ""; set => Database = value; }
    public string? ConnectionId { get; set; }

    /// <summary>Backend process id.</summary>
    public int Pid { get; set; }
    /// <summary>Role name (usename).</summary>
    public string? User { get; set; }
    /// <summary>application_name.</summary>
    public string? Application { get; set; }
    /// <summary>Client address:port, or "local" for a Unix socket; null for background processes.</summary>
    public string? Client { get; set; }
    /// <summary>client_hostname, when log_hostname is on.</summary>
    public string? ClientHostName { get; set; }
    /// <summary>active, idle, idle in transaction, idle in transaction (aborted), fastpath function call, disabled.</summary>
    public string? State { get; set; }
    /// <summary>When the process started (UTC).</summary>
    public DateTime? BackendStart { get; set; }
    /// <summary>When the current transaction started (UTC), null outside one.</summary>
    public DateTime? TransactionStart { get; set; }
    /// <summary>When the current (or, when idle, the last) query started (UTC).</summary>
    public DateTime? QueryStart { get; set; }
    /// <summary>When State last changed (UTC).</summary>
    public DateTime? StateChange { get; set; }
    /// <summary>Active: now − QueryStart; idle states: now − StateChange (how long it has been idle).</summary>
    public TimeSpan? Duration { get; set; }
    /// <summary>now − StateChange: how long the session has been in its State.</summary>
    public TimeSpan? StateDuration { get; set; }
    /// <summary>Active and idle-in-transaction: now − TransactionStart.</summary>
    public TimeSpan? TransactionDuration { get; set; }
    public string? WaitEventType { get; set; }
    public string? WaitEvent { get; set; }
    /// <summary>client backend, autovacuum worker, walsender, background worker ...</summary>
    public string? BackendType { get; set; }
    /// <summary>The current query, or the last one when idle.</summary>
    public string? Query { get; set; }
    /// <summary>True for the session this command used to read pg_stat_activity.</summary>
    public bool IsCurrentSession { get; set; }

    public override string ToString() => $"{Pid} {User}@{Database} {State}";
}

/// <summary>Sessions per state (Get-DbConnection -Summary): the runbooks' SELECT state, count(*) FROM pg_stat_activity GROUP BY state.</summary>
public class DbConnectionSummary
{
    public string Instance { get; set; } = "";
    public string Server { get; set; } = "";
    public int Port { get; set; }
    /// <summary>Always null: a state's sessions can be in any database of the server.</summary>
    public string? Database { get; set; }
    public string? ConnectionId { get; set; }
    /// <summary>The state (null for processes that have none, e.g. background workers).</summary>
    public string? State { get; set; }
    public int Count { get; set; }
    /// <summary>The longest Duration among the sessions in this state.</summary>
    public TimeSpan? OldestDuration { get; set; }

    public override string ToString() => $"{State ?? "(none)"}: {Count}";
}

/// <summary>What Stop-DbConnection did to one session.</summary>
public class DbConnectionStopResult : IDbIdentity
{
    public string Instance { get; set; } = "";
    public string Server { get; set; } = "";
    public int Port { get; set; }
    public string? Database { get; set; }
    string IDbIdentity.Database { get => Database ?? ""; set => Database = value; }
    public string? ConnectionId { get; set; }
    public int Pid { get; set; }
    public string? User { get; set; }
    public string? Application { get; set; }
    public string? State { get; set; }
    /// <summary>The session's query, cut to 100 characters.</summary>
    public string? Query { get; set; }
    /// <summary>Terminated (pg_terminate_backend) or Cancelled (pg_cancel_backend).</summary>
    public string Action { get; set; } = "";
    /// <summary>What the server function returned; false when the session had gone or the server refused.</summary>
    public bool Succeeded { get; set; }
    public string Message { get; set; } = "";

    public override string ToString() => $"{Action} {Pid}: {Succeeded} {Message}";
}

/// <summary>One server setting from pg_settings (what Get-DbSetting returns).</summary>
public class DbSettingInfo : IDbIdentity
{
    public string Instance { get; set; } = "";
    public string Server { get; set; } = "";
    public int Port { get; set; }
    public string Database { get; set; } = "";
    public string? ConnectionId { get; set; }
    public string Name { get; set; } = "";
    /// <summary>pg_settings.setting, in the unit of <see cref="Unit"/>.</summary>
    public string? Setting { get; set; }
    /// <summary>pg_settings.unit (8kB, kB, ms, s ...).</summary>
    public string? Unit { get; set; }
    /// <summary>The value as SHOW shows it, unit applied ("128MB", "250ms").</summary>
    public string? Value { get; set; }
    public string? Category { get; set; }
    /// <summary>internal, postmaster (restart), sighup (reload), superuser-backend, backend, superuser, user.</summary>
    public string? Context { get; set; }
    /// <summary>Where the value comes from: default, configuration file, command line, ...</summary>
    public string? Source { get; set; }
    /// <summary>The file that set it (superusers only).</summary>
    public string? SourceFile { get; set; }
    /// <summary>Changed in the configuration but waiting for a restart.</summary>
    public bool PendingRestart { get; set; }
    public string? Description { get; set; }
    public string? BootValue { get; set; }
    public string? ResetValue { get; set; }
    /// <summary>bool, enum, integer, real, string.</summary>
    public string? Type { get; set; }
    public string? MinValue { get; set; }
    public string? MaxValue { get; set; }
    public string[]? EnumValues { get; set; }
    /// <summary>True when changing it needs a server restart (Context postmaster).</summary>
    public bool RestartRequired => Context == "postmaster";

    public override string ToString() => $"{Name} = {Value}";
}

/// <summary>What Set-DbSetting did to one setting.</summary>
public class DbSettingChangeResult : IDbIdentity
{
    public string Instance { get; set; } = "";
    public string Server { get; set; } = "";
    public int Port { get; set; }
    public string Database { get; set; } = "";
    public string? ConnectionId { get; set; }
    public string Name { get; set; } = "";
    /// <summary>Set (ALTER SYSTEM SET) or Reset (ALTER SYSTEM RESET).</summary>
    public string Action { get; set; } = "";
    /// <summary>The value requested (null for Reset).</summary>
    public string? RequestedValue { get; set; }
    /// <summary>The effective value before the change, as SHOW shows it.</summary>
    public string? OldValue { get; set; }
    /// <summary>The effective value after the change (after the reload with -Reload), as SHOW shows it.</summary>
    public string? Value { get; set; }
    public string? Context { get; set; }
    /// <summary>The new value takes effect only after a server restart (context postmaster).</summary>
    public bool RestartRequired { get; set; }
    /// <summary>The new value takes effect after a reload (pg_reload_conf, -Reload) and was not reloaded yet.</summary>
    public bool ReloadRequired { get; set; }
    /// <summary>True when -Reload ran pg_reload_conf().</summary>
    public bool Reloaded { get; set; }
    /// <summary>True when the new value is in effect now.</summary>
    public bool Applied { get; set; }
    /// <summary>pg_settings.pending_restart after the change.</summary>
    public bool PendingRestart { get; set; }
    public string Message { get; set; } = "";

    public override string ToString() => $"{Action} {Name}: {Message}";
}
