using System.Management.Automation;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Reporting;

/// <summary>
/// Passes check results on and, after the last one, ends the script (exit code 1 under pwsh -File and
/// pwsh -Command, a failed CI step) when any of them is at least as bad as -FailOn. The same rule as the
/// -FailOn parameter of every checking command, for results gathered any other way (several commands, a
/// filtered list, results read back from JSON). The checklists end with it.
/// </summary>
[Cmdlet(VerbsLifecycle.Assert, "CheckResult")]
[OutputType(typeof(CheckResult))]
public sealed class AssertCheckResultCommand : OpsCmdlet
{
    /// <summary>The results to judge: any OpsTools.CheckResult.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    [AllowNull]
    public CheckResult[]? InputObject { get; set; }

    /// <summary>Warning (any Warning, Critical or Unknown result fails) or Critical (any Critical result fails).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateSet("Warning", "Critical", IgnoreCase = true)]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>What the results are of, for the error message and its ErrorId ("Nightly backup check" gives NightlyBackupCheckFailed). Default: "Check results".</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Activity { get; set; } = "Check results";

    /// <summary>What the results are about (an environment name), carried by the error record.</summary>
    [Parameter]
    public string? Target { get; set; }

    /// <summary>Judge the results without passing them on.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override bool TallyOutput => false;

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var r in InputObject ?? [])
        {
            if (r is null) continue;
            Tally.Add(r);
            if (!Quiet) Output(r);
        }
        return Task.CompletedTask;
    }

    protected override (string Activity, string ErrorIdStem, object? Target) FailOnSubject =>
        (Target is null ? Activity : $"{Activity} of '{Target}'", Activity, Target);
}
