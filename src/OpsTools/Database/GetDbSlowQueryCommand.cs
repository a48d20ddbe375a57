using System.Management.Automation;
using OpsTools.Configuration;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// The slowest statements of a database from pg_stat_statements, as the runbooks query them
/// (<c>ORDER BY mean_exec_time DESC LIMIT 10</c>), each a check result: Warning above the slow-query
/// threshold (default 1 s mean). When the extension is missing: a DbExtensionMissing error that says how
/// to enable it. <c>-Reset</c> clears the statistics afterwards (ShouldProcess).
/// </summary>
[Cmdlet(VerbsCommon.Get, "DbSlowQuery", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "Get-DbSlowQuery.md")]
[OutputType(typeof(DbSlowQuery))]
public sealed class GetDbSlowQueryCommand : DbCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>How many statements per database. Default 10.</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Top { get; set; } = 10;

    /// <summary>Only statements whose mean time is at least this (TimeSpan, or milliseconds).</summary>
    [Parameter]
    [DurationTransformation(Unit = "ms")]
    public TimeSpan MinMeanTime { get; set; }

    /// <summary>MeanTime (default, as the runbooks), TotalTime, Calls, MaxTime or Rows; always descending.</summary>
    [Parameter]
    public DbSlowQuerySort SortBy { get; set; } = DbSlowQuerySort.MeanTime;

    /// <summary>Statements of every database of the server, not only the connected one.</summary>
    [Parameter]
    public SwitchParameter AllDatabases { get; set; }

    /// <summary>Also statements run inside functions and procedures (their time is already in the caller's).</summary>
    [Parameter]
    public SwitchParameter IncludeNested { get; set; }

    /// <summary>Also OpsTools' own statements (VACUUM, REINDEX, backup row counts), data exports (COPY ... TO STDOUT, as pg_dump sends) and statements of databases that no longer exist (restore drills' scratch databases); left out by default.</summary>
    [Parameter]
    public SwitchParameter IncludeOpsTools { get; set; }

    /// <summary>Mean time above which a statement is a Warning. Default: the environment's DbSlowQueryWarningMs, else 1000 ms.</summary>
    [Parameter]
    [DurationTransformation(Unit = "ms")]
    public TimeSpan WarningMeanTime { get; set; }

    /// <summary>After listing, reset the statistics (pg_stat_statements_reset) of the connected database, or of all with -AllDatabases.</summary>
    [Parameter]
    public SwitchParameter Reset { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (MinMeanTime < TimeSpan.Zero || WarningMeanTime < TimeSpan.Zero)
            Fail(new ArgumentException("-MinMeanTime and -WarningMeanTime cannot be negative."), "DbInvalidDuration", ErrorCategory.InvalidArgument, null);
        var warningMs = MyInvocation.BoundParameters.ContainsKey(nameof(WarningMeanTime))
            ? WarningMeanTime.TotalMilliseconds
            : (Environment?.Thresholds ?? new ThresholdSet()).DbSlowQueryWarningMs;
        var options = new SlowQueryOptions
        {
            Top = Top, SortBy = SortBy, MinMeanMs = MinMeanTime.TotalMilliseconds, AllDatabases = AllDatabases,
            IncludeNested = IncludeNested, WarningMs = warningMs, IncludeOpsTools = IncludeOpsTools,
        };
        var targets = ConnectionId is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        foreach (var target in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                Verbose($"Reading the top {Top} statements by {SortBy} from pg_stat_statements on {target.Address}{(AllDatabases ? " (every database)" : "")}.");
                var list = await PgInsight.GetSlowQueriesAsync(target, options, Environment?.Name, cancellationToken);
                foreach (var q in list) Output(q);
                if (Reset)
                {
                    var scope = AllDatabases ? "every database" : $"database {target.Database}";
                    if (await ShouldProcessAsync(target.Address, $"Reset pg_stat_statements statistics of {scope} (pg_stat_statements_reset)"))
                    {
                        Verbose($"Running pg_stat_statements_reset for {scope} on {target.Address}.");
                        await PgInsight.ResetSlowQueriesAsync(target, AllDatabases, cancellationToken);
                    }
                }
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.NotSpecified, target.Name));
            }
        }
    }
}
