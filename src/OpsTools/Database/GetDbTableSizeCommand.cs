using System.Management.Automation;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// Tables of a database with their total, table, index and TOAST sizes and row estimates, largest first
/// (the runbooks' <c>ORDER BY pg_total_relation_size(...) DESC</c>).
/// </summary>
[Cmdlet(VerbsCommon.Get, "DbTableSize", HelpUri = HelpLinks.Base + "Get-DbTableSize.md")]
[OutputType(typeof(DbTableSize))]
[OutputType(typeof(CheckResult))]
public sealed class GetDbTableSizeCommand : DbCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Only tables with these names (wildcards allowed).</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Table { get; set; }

    /// <summary>Only tables in these schemas (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Schema { get; set; }

    /// <summary>Only the N largest tables (per database).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int Top { get; set; }

    /// <summary>Return informational (Healthy) OpsTools.CheckResult objects for reports instead of the listing.</summary>
    [Parameter]
    public SwitchParameter AsCheckResult { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var filter = DbInsightFilters.SchemaTable(Schema, Table);
        int? top = MyInvocation.BoundParameters.ContainsKey(nameof(Top)) ? Top : null;
        var targets = ConnectionId is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        foreach (var target in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                Verbose($"Reading table sizes (pg_total_relation_size, pg_relation_size, pg_indexes_size) on {target.Address}.");
                foreach (var t in await PgInsight.GetTableSizesAsync(target, filter, top, cancellationToken))
                    Output(AsCheckResult ? PgInsight.ToCheckResult(t, target, Environment?.Name) : t);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.NotSpecified, target.Name));
            }
        }
    }
}
