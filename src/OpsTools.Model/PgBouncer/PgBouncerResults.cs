using System.Globalization;

namespace OpsTools.PgBouncer;

/// <summary>
/// One PgBouncer pool (a database/user pair of SHOW POOLS) as a check result: clients waiting and the longest wait
/// (pool exhaustion), and server connections in use against the pool's size.
/// </summary>
public class PgBouncerPoolResult : CheckResult
{
    public PgBouncerPoolResult() { Area = "PgBouncer"; Check = "PgBouncerPool"; }

    /// <summary>host:port of the PgBouncer.</summary>
    public string Server { get; set; } = "";
    public string Database { get; set; } = "";
    public string User { get; set; } = "";
    /// <summary>Client connections linked to a server connection (cl_active).</summary>
    public long ClientsActive { get; set; }
    /// <summary>Client connections waiting for a server connection (cl_waiting).</summary>
    public long ClientsWaiting { get; set; }
    /// <summary>Server connections linked to a client (sv_active).</summary>
    public long ServersActive { get; set; }
    /// <summary>Server connections idle and ready (sv_idle).</summary>
    public long ServersIdle { get; set; }
    /// <summary>Server connections idle, to be checked before reuse (sv_used).</summary>
    public long ServersUsed { get; set; }
    /// <summary>Server connections being tested (sv_tested).</summary>
    public long ServersTested { get; set; }
    /// <summary>Server connections logging in (sv_login).</summary>
    public long ServersLogin { get; set; }
    /// <summary>How long the oldest waiting client has waited (maxwait + maxwait_us).</summary>
    public TimeSpan MaxWait { get; set; }
    /// <summary>session, transaction or statement.</summary>
    public string PoolMode { get; set; } = "";
    /// <summary>The pool's size (SHOW DATABASES pool_size, else default_pool_size); null when unknown.</summary>
    public long? PoolSize { get; set; }
    /// <summary>Server connections open (active + idle + used + tested + login).</summary>
    public long ServersOpen => ServersActive + ServersIdle + ServersUsed + ServersTested + ServersLogin;
    /// <summary>ServersOpen as a percent of PoolSize.</summary>
    public double? PoolUsedPercent => PoolSize is > 0 ? Math.Round(100.0 * ServersOpen / PoolSize.Value, 1) : null;
    /// <summary>MaxWait in seconds.</summary>
    public double MaxWaitSeconds => Math.Round(MaxWait.TotalSeconds, 3);
}

/// <summary>What Invoke-PgBouncerCommand did.</summary>
public sealed class PgBouncerCommandResult
{
    /// <summary>host:port of the PgBouncer.</summary>
    public string Server { get; set; } = "";
    /// <summary>RECONNECT, RELOAD, PAUSE, RESUME (with the database when one was named).</summary>
    public string Command { get; set; } = "";
    /// <summary>The database named, or null for all.</summary>
    public string? Database { get; set; }
    /// <summary>The command tag PgBouncer answered (RECONNECT, RELOAD, PAUSE, RESUME), or null with -WhatIf.</summary>
    public string? Answer { get; set; }
    public bool WhatIf { get; set; }
    public TimeSpan Duration { get; set; }
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Command} on {Server}: {Answer ?? "(not sent)"}");
}
