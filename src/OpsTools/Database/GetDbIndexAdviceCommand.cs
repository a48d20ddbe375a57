using System.Management.Automation;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// Index advice for a database: unused indexes, duplicate indexes, and large tables read by many
/// sequential scans (the runbooks' missing-index hunt), each a Warning result with the statement that
/// would fix it. Read-only: nothing is ever applied.
/// </summary>
[Cmdlet(VerbsCommon.Get, "DbIndexAdvice", HelpUri = HelpLinks.Base + "Get-DbIndexAdvice.md")]
[OutputType(typeof(DbIndexAdvice))]
public sealed class GetDbIndexAdviceCommand : DbCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Only these kinds of advice. Default: all.</summary>
    [Parameter]
    public DbIndexAdviceKind[]? Kind { get; set; }

    /// <summary>Only tables with these names (wildcards allowed).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Table { get; set; }

    /// <summary>Only tables in these schemas (wildcards allowed).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Schema { get; set; }

    /// <summary>Unused indexes smaller than this many bytes are not reported. Default 0.</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long MinIndexBytes { get; set; }

    /// <summary>Missing-index candidates: tables with at least this many live rows. Default 10000.</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long MinRows { get; set; } = 10_000;

    /// <summary>Missing-index candidates: tables with at least this many sequential scans (and more than index scans). Default 50.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MinSeqScans { get; set; } = 50;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        bool Wants(DbIndexAdviceKind k) => Kind is not { Length: > 0 } || Kind.Contains(k);
        var options = new IndexAdviceOptions
        {
            MinIndexBytes = MinIndexBytes, MinRows = MinRows, MinSeqScans = MinSeqScans,
            Unused = Wants(DbIndexAdviceKind.UnusedIndex), Duplicate = Wants(DbIndexAdviceKind.DuplicateIndex), Missing = Wants(DbIndexAdviceKind.MissingIndex),
        };
        var filter = DbInsightFilters.SchemaTable(Schema, Table);
        var targets = ConnectionId is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        foreach (var target in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                Verbose($"Reading pg_index, pg_stat_user_indexes, pg_stat_user_tables and pg_stats on {target.Address}.");
                foreach (var a in await PgInsight.GetIndexAdviceAsync(target, options, filter, Environment?.Name, cancellationToken))
                    Output(a);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.NotSpecified, target.Name));
            }
        }
    }
}
