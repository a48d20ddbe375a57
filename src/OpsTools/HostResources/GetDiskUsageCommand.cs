using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.HostResources;
using OpsTools.HostResources;

namespace OpsTools.Commands.HostResources;

/// <summary>
/// Free and used space of mounted file systems, as <c>df -h</c> shows it, with a status against the
/// free-space thresholds (runbooks: warn under 20% free, critical under 10%).
/// </summary>
[Cmdlet(VerbsCommon.Get, "DiskUsage")]
[OutputType(typeof(DiskUsageResult))]
public sealed class GetDiskUsageCommand : OpsCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Paths whose file system to report (like <c>df PATH</c>). Without it: every real file system.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>An environment file or object: its Host.DiskMounts and Thresholds are used.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Free space (percent) under which a file system is a warning. Default 20, or the environment's.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public double FreeWarningPercent { get; set; }

    /// <summary>Free space (percent) under which a file system is critical. Default 10, or the environment's.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public double FreeCriticalPercent { get; set; }

    /// <summary>Also report memory-backed and image file systems (tmpfs, devtmpfs, squashfs, overlay ...).</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    // An engine type, but a class: a field of it does not load the engine when PowerShell reflects on this type at import.
    private DiskThresholds _thresholds = null!;

    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        var set = (Environment?.Thresholds ?? new ThresholdSet()).Clone();
        if (MyInvocation.BoundParameters.ContainsKey(nameof(FreeWarningPercent))) set.DiskFreeWarningPercent = FreeWarningPercent;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(FreeCriticalPercent))) set.DiskFreeCriticalPercent = FreeCriticalPercent;
        _thresholds = DiskThresholds.From(set);
        return Task.CompletedTask;
    }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var envName = Environment?.Name;
        IReadOnlyList<string> paths;
        if (Path is { Length: > 0 })
            paths = await InvokeOnPipelineAsync(() => Path.Select(p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)).ToList());
        else if (Environment is { DiskMounts.Count: > 0 })
            paths = Environment.DiskMounts;
        else
        {
            Verbose($"Listing every {(All ? "" : "real ")}file system ({_thresholds}).");
            foreach (var r in await DiskUsageProbe.GetAllAsync(All, _thresholds, envName, cancellationToken))
                Output(r);
            return;
        }

        foreach (var path in paths)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Verbose($"Measuring the file system that holds '{path}' ({_thresholds}).");
            try
            {
                Output(await DiskUsageProbe.GetForPathAsync(path, _thresholds, envName, cancellationToken));
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, path));
            }
        }
    }
}
