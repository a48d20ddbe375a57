using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.HostResources;
using OpsTools.HostResources;

namespace OpsTools.Commands.HostResources;

/// <summary>
/// Physical memory and swap of this host, as <c>free</c> shows it, with a status against the
/// memory thresholds (runbooks: alert over 85% used, immediate over 95%).
/// </summary>
[Cmdlet(VerbsCommon.Get, "MemoryUsage")]
[OutputType(typeof(MemoryUsageResult))]
public sealed class GetMemoryUsageCommand : OpsCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>An environment file or object: its Thresholds are used.</summary>
    [Parameter(Position = 0)]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Used memory (percent) above which the result is a warning. Default 85, or the environment's.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public double WarningPercent { get; set; }

    /// <summary>Used memory (percent) above which the result is critical. Default 95, or the environment's.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public double CriticalPercent { get; set; }

    protected override Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var set = (Environment?.Thresholds ?? new ThresholdSet()).Clone();
        if (MyInvocation.BoundParameters.ContainsKey(nameof(WarningPercent))) set.MemoryWarningPercent = WarningPercent;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(CriticalPercent))) set.MemoryCriticalPercent = CriticalPercent;
        var thresholds = MemoryThresholds.From(set);
        Verbose($"Reading memory use ({thresholds}).");
        Output(MemoryUsageProbe.Get(thresholds, Environment?.Name));
        return Task.CompletedTask;
    }
}
