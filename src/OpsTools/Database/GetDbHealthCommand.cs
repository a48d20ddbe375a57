using System.Management.Automation;
using OpsTools.Configuration;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// <para type="synopsis">Checks PostgreSQL databases: reachable, version, uptime, connections, replication, transaction-ID wraparound.</para>
/// <para type="description">One DbHealthResult per check and target. An unreachable database is a Critical Reachable result that says why, never an error.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "DbHealth", HelpUri = HelpLinks.Base + "Get-DbHealth.md")]
[OutputType(typeof(DbHealthResult))]
public sealed class GetDbHealthCommand : DbCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>The checks to run (default: all).</summary>
    [Parameter]
    [ValidateSet("Reachable", "ServerVersion", "Uptime", "Connections", "Replication", "TransactionIdWraparound", IgnoreCase = true)]
    public string[]? Check { get; set; }

    /// <summary>Connections in use (% of the slots open to ordinary roles) above which the result is a warning. Default: environment's DbConnectionsWarningPercent, else 75.</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double ConnectionWarningPercent { get; set; }

    /// <summary>Connections in use (%) above which the result is critical. Default: environment's DbConnectionsCriticalPercent, else 90.</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double ConnectionCriticalPercent { get; set; }

    /// <summary>Transaction-ID age above which the result is a warning. Default: DbWraparoundWarning, else 1.3 billion.</summary>
    [Parameter]
    [ValidateRange(0L, 2147483647L)]
    public long WraparoundWarning { get; set; }

    /// <summary>Transaction-ID age above which the result is critical. Default: DbWraparoundCritical, else 1.4 billion.</summary>
    [Parameter]
    [ValidateRange(0L, 2147483647L)]
    public long WraparoundCritical { get; set; }

    /// <summary>Replay lag in seconds above which a replica is a warning. Default: DbReplicationLagWarningSeconds, else 60.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double ReplicationLagWarningSeconds { get; set; }

    /// <summary>Replay lag in seconds above which a replica is critical. Default: DbReplicationLagCriticalSeconds, else 300.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double ReplicationLagCriticalSeconds { get; set; }

    private bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var targets = PgTargetRegistry.Find(ConnectionId) is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        var options = Options();
        var tasks = targets.Select(t => DbHealth.CheckAsync(t, options, Verbose, cancellationToken)).ToList();
        for (var i = 0; i < tasks.Count; i++)
        {
            foreach (var result in await tasks[i].ConfigureAwait(false)) Output(result);
        }
    }

    private DbHealthOptions Options()
    {
        var t = (Environment?.Thresholds ?? new ThresholdSet()).Clone();
        double warnC = Bound(nameof(ConnectionWarningPercent)) ? ConnectionWarningPercent : t.DbConnectionsWarningPercent;
        double critC = Bound(nameof(ConnectionCriticalPercent)) ? ConnectionCriticalPercent : t.DbConnectionsCriticalPercent;
        double warnW = Bound(nameof(WraparoundWarning)) ? WraparoundWarning : t.DbWraparoundWarning;
        double critW = Bound(nameof(WraparoundCritical)) ? WraparoundCritical : t.DbWraparoundCritical;
        double warnL = Bound(nameof(ReplicationLagWarningSeconds)) ? ReplicationLagWarningSeconds : t.DbReplicationLagWarningSeconds;
        double critL = Bound(nameof(ReplicationLagCriticalSeconds)) ? ReplicationLagCriticalSeconds : t.DbReplicationLagCriticalSeconds;
        (warnC, critC) = Order(warnC, critC, nameof(ConnectionWarningPercent), nameof(ConnectionCriticalPercent));
        (warnW, critW) = Order(warnW, critW, nameof(WraparoundWarning), nameof(WraparoundCritical));
        (warnL, critL) = Order(warnL, critL, nameof(ReplicationLagWarningSeconds), nameof(ReplicationLagCriticalSeconds));
        return new DbHealthOptions
        {
            Checks = new HashSet<string>(Check is { Length: > 0 } ? Check : DbHealthOptions.AllChecks, StringComparer.OrdinalIgnoreCase),
            ConnectionWarningPercent = warnC, ConnectionCriticalPercent = critC,
            WraparoundWarning = warnW, WraparoundCritical = critW,
            ReplicationLagWarningSeconds = warnL, ReplicationLagCriticalSeconds = critL,
            StatementTimeout = TimeSpan.FromSeconds(TimeoutSec),
            Environment = Environment?.Name,
        };
    }

    /// <summary>A warning above the critical threshold: an error when both were given, else the other one follows.</summary>
    private (double, double) Order(double warn, double crit, string warnName, string critName)
    {
        if (warn <= crit) return (warn, crit);
        if (Bound(warnName) && Bound(critName))
            Fail(new ArgumentException($"-{warnName} ({warn}) must not be above -{critName} ({crit})."), "InvalidThresholds", ErrorCategory.InvalidArgument, null);
        return Bound(critName) ? (crit, crit) : (warn, warn);
    }
}
