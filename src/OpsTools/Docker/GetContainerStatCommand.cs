using System.Management.Automation;
using OpsTools.Configuration;
using OpsTools.Docker;
using OpsTools.Engine.Docker;

namespace OpsTools.Commands.Docker;

/// <summary>
/// <para type="synopsis">Gets one snapshot of each running container's CPU %, memory used/limit/percent, network and block I/O and PIDs (docker stats --no-stream), as check results.</para>
/// <para type="description">What 'docker stats --no-stream' shows, computed as the docker CLI computes it (CPU % from the engine's two samples a second apart; memory without the page cache), as check results that join reports: memory percent against the same thresholds as host memory (MemoryWarningPercent, MemoryCriticalPercent), CPU percent against CpuWarningPercent. All containers are asked at once (at most -ThrottleLimit at a time), so twenty take about as long as one. Running containers of the environment's Compose project by default; -Name, -ComposeProject, or containers from Get-Container in the pipeline.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ContainerStat")]
[OutputType(typeof(ContainerStatResult))]
public sealed class GetContainerStatCommand : DockerCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Container names or ids (wildcards allowed); containers from Get-Container in the pipeline. Default: every running container.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only containers of this Compose project. Default: the environment file's Docker.ComposeProject.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ComposeProject { get; set; }

    /// <summary>Memory use (percent of the limit) above which a container is a warning. Default 85, or the environment's MemoryWarningPercent.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public double MemoryWarningPercent { get; set; }

    /// <summary>Memory use (percent of the limit) above which a container is critical. Default 95, or the environment's MemoryCriticalPercent.</summary>
    [Parameter]
    [ValidateRange(0, 100)]
    public double MemoryCriticalPercent { get; set; }

    /// <summary>CPU use (percent of one CPU, as docker stats) above which a container is a warning. Default 80, or the environment's CpuWarningPercent.</summary>
    [Parameter]
    [ValidateRange(0, 100000)]
    public double CpuWarningPercent { get; set; }

    /// <summary>How many containers are asked at the same time. Default 16.</summary>
    [Parameter]
    [ValidateRange(1, 256)]
    public int ThrottleLimit { get; set; } = 16;

    private readonly List<(DockerTarget Target, ContainerInfo Container)> _containers = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        IReadOnlyList<ContainerInfo> list;
        try
        {
            list = await DockerContainers.ListAsync(target, new ContainerQuery
            {
                Names = Name, ComposeProject = MyInvocation.ExpectingInput ? ComposeProject : ComposeProjectOr(ComposeProject),
                All = Name is { Length: > 0 },
            }, ct);
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.ConnectionError, target.Endpoint.ToString()); return; }
        foreach (var n in (Name ?? Array.Empty<string>()).Where(n => !WildcardPattern.ContainsWildcardCharacters(n)
            && !list.Any(c => c.Name.Equals(n, StringComparison.OrdinalIgnoreCase) || c.Id.StartsWith(n, StringComparison.OrdinalIgnoreCase))))
            ObjectError(new OpsToolsException("DockerObjectNotFound", OpsErrorKind.NotFound,
                $"container '{n}' not found on {target.Describe()}.", n), "DockerObjectNotFound", n);
        foreach (var c in list)
        {
            if (!_seen.Add(target.Id + "/" + c.Id)) continue;
            if (c.State != "running")
            {
                Warning($"Container '{c.Name}' is {c.State}: it has no stats (docker stats shows it with zeros).");
                continue;
            }
            _containers.Add((target, c));
        }
    }

    protected override async Task EndProcessingAsync(CancellationToken ct)
    {
        var set = (Environment?.Thresholds ?? new ThresholdSet()).Clone();
        if (MyInvocation.BoundParameters.ContainsKey(nameof(MemoryWarningPercent))) set.MemoryWarningPercent = MemoryWarningPercent;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(MemoryCriticalPercent))) set.MemoryCriticalPercent = MemoryCriticalPercent;
        if (MyInvocation.BoundParameters.ContainsKey(nameof(CpuWarningPercent))) set.CpuWarningPercent = CpuWarningPercent;
        var thresholds = ContainerStatThresholds.From(set);
        Verbose($"Reading stats of {_containers.Count} container(s), {ThrottleLimit} at a time ({thresholds}).");
        if (_containers.Count > 0) Progress(new ProgressRecord(1, "Get-ContainerStat", $"Sampling {_containers.Count} container(s) (about a second)"));
        foreach (var group in _containers.GroupBy(x => x.Target))
        {
            var results = await DockerStats.SnapshotAllAsync(group.Key, group.Select(x => x.Container).ToList(), thresholds, Environment?.Name, ThrottleLimit, ct);
            foreach (var (result, error) in results)
            {
                if (result is not null) Output(result);
                else if (error!.ErrorId == "DockerObjectNotFound") Verbose($"A container was removed while its stats were read: {error.Message}");
                else ObjectError(error, error.ErrorId, error.Target);
            }
        }
        if (_containers.Count > 0) Progress(new ProgressRecord(1, "Get-ContainerStat", "Done") { RecordType = ProgressRecordType.Completed });
    }
}
