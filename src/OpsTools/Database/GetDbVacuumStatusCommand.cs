using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using OpsTools.Configuration;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// <para type="synopsis">Dead tuples, dead ratio and last vacuum/analyze per table, as check results (check_postgres last_vacuum rules).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "DbVacuumStatus", HelpUri = HelpLinks.Base + "Get-DbVacuumStatus.md")]
[OutputType(typeof(DbVacuumStatusResult))]
public sealed class GetDbVacuumStatusCommand : DbCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Only tables with these names (wildcards allowed; "schema.table" accepted).</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Table { get; set; }

    /// <summary>Only tables in these schemas (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Schema { get; set; }

    /// <summary>Only tables whose dead ratio is at least this (0..1).</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double MinDeadRatio { get; set; }

    /// <summary>Only tables with at least this many dead tuples.</summary>
    [Parameter]
    [ValidateRange(0L, long.MaxValue)]
    public long MinDeadTuples { get; set; }

    /// <summary>Include the system schemas (pg_catalog, information_schema, TOAST).</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var targets = ConnectionId is not null && PgTargetRegistry.Find(ConnectionId) is not null
            ? new[] { ResolveInputTarget() }
            : ResolveTargets();
        var thresholds = Environment?.Thresholds ?? new ThresholdSet();
        foreach (var target in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var sw = Stopwatch.StartNew();
            Verbose($"Reading pg_stat_all_tables with table sizes on {target.Address}.");
            IReadOnlyList<VacuumStatusRow> rows;
            try
            {
                rows = await DbVacuumEngine.ReadStatusAsync(target, All.IsPresent, cancellationToken).ConfigureAwait(false);
            }
            catch (OpsToolsException e)
            {
                // A check: an unreachable database is a result that says why.
                Output(target.Identify(new DbVacuumStatusResult
                {
                    Check = "DbVacuum", Area = "Database", Target = target.Address, Status = CheckStatus.Critical,
                    Message = e.Message, Threshold = VacuumStatusRules.Threshold(thresholds), Duration = sw.Elapsed,
                    Environment = Environment?.Name,
                }));
                continue;
            }
            sw.Stop();
            var threshold = VacuumStatusRules.Threshold(thresholds);
            var selected = rows
                .Where(r => Schema is { Length: > 0 } ? DbNameMatch.Matches(r.Schema, Schema) : All.IsPresent || !DbNameMatch.IsSystemSchema(r.Schema))
                .Where(r => Table is not { Length: > 0 } || Table.Any(p => DbNameMatch.Select(new[] { r }, p, Schema is { Length: > 0 }, x => x.Schema, x => x.Table).Count > 0))
                .Select(r => (Row: r, Ratio: VacuumStatusRules.DeadRatio(r.LiveTuples, r.DeadTuples)))
                .Where(x => x.Ratio >= MinDeadRatio && x.Row.DeadTuples >= MinDeadTuples)
                .OrderByDescending(x => x.Ratio).ThenByDescending(x => x.Row.DeadTuples)
                .ThenBy(x => x.Row.Schema, StringComparer.Ordinal).ThenBy(x => x.Row.Table, StringComparer.Ordinal)
                .ToList();
            Verbose($"{rows.Count} tables on {target.Address}, {selected.Count} selected, in {sw.ElapsedMilliseconds} ms.");
            foreach (var (r, ratio) in selected)
            {
                var (status, message) = VacuumStatusRules.Evaluate(r, thresholds);
                var last = VacuumStatusRules.Latest(r.LastVacuum, r.LastAutovacuum);
                Output(target.Identify(new DbVacuumStatusResult
                {
                    Check = "DbVacuum", Area = "Database",
                    Target = $"{target.Host}:{target.Port.ToString(CultureInfo.InvariantCulture)}/{target.Database}/{r.Schema}.{r.Table}",
                    Status = status, Message = message, Value = ratio, Threshold = threshold, Duration = sw.Elapsed,
                    Timestamp = DateTime.UtcNow, Environment = Environment?.Name,
                    Schema = r.Schema, Table = r.Table, LiveTuples = r.LiveTuples, DeadTuples = r.DeadTuples, DeadRatio = ratio,
                    ModificationsSinceAnalyze = r.ModificationsSinceAnalyze, TableBytes = r.TableBytes, TotalBytes = r.TotalBytes,
                    LastVacuum = r.LastVacuum, LastAutovacuum = r.LastAutovacuum, LastAnalyze = r.LastAnalyze, LastAutoanalyze = r.LastAutoanalyze,
                    VacuumAgeHours = last is DateTime l ? Math.Round(Math.Max(0, (r.ServerNow - l).TotalHours), 2) : null,
                    VacuumCount = r.VacuumCount, AutovacuumCount = r.AutovacuumCount, AnalyzeCount = r.AnalyzeCount, AutoanalyzeCount = r.AutoanalyzeCount,
                }));
            }
        }
    }
}
