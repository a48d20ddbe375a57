using System.Management.Automation;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>The databases of a server with their sizes (pg_database_size), largest first, as <c>\l+</c> shows them.</summary>
[Cmdlet(VerbsCommon.Get, "DbSize", HelpUri = HelpLinks.Base + "Get-DbSize.md")]
[OutputType(typeof(DbSize))]
[OutputType(typeof(CheckResult))]
public sealed class GetDbSizeCommand : DbCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Only databases with these names (wildcards allowed).</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Also list template databases (template0, template1).</summary>
    [Parameter]
    public SwitchParameter IncludeTemplate { get; set; }

    /// <summary>Return informational (Healthy) OpsTools.CheckResult objects for reports instead of the listing.</summary>
    [Parameter]
    public SwitchParameter AsCheckResult { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var patterns = DbInsightFilters.Patterns(Name);
        var targets = ConnectionId is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        foreach (var target in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                Verbose($"Reading pg_database and pg_database_size on {target.Address}.");
                var list = await PgInsight.GetDatabaseSizesAsync(target, IncludeTemplate, cancellationToken);
                foreach (var d in list)
                    if (patterns is null || patterns.Any(p => p.IsMatch(d.Name)))
                        Output(AsCheckResult ? PgInsight.ToCheckResult(d, target, Environment?.Name) : d);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.NotSpecified, target.Name));
            }
        }
    }
}
