using System.Management.Automation;
using System.Text.RegularExpressions;
using OpsTools.Commands.Database;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Gets container logs of pods, of all pods of a deployment, or of the previous (crashed) container, streamed line by line, with tail, since and a pattern filter.</para>
/// <para type="description">The runbooks' 'oc logs POD', 'kubectl logs --previous', 'oc logs -l app=x | grep -i "error|fail"' and 'kubectl logs --tail=100': the log is read through the API server as a stream and every line is written as soon as it arrives, so a log of any size never sits in memory as a whole. Lines are objects (Pod, Container, Time, Line) or, with -Raw, strings. With -Deployment (or deployments from Get-Deployment in the pipeline) every pod of the deployment is read, each line labelled with its pod.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "PodLog", DefaultParameterSetName = PodNameSet, HelpUri = HelpLinks.Base + "Get-PodLog.md")]
[OutputType(typeof(PodLogLine), typeof(string))]
public sealed class GetPodLogCommand : KubeCmdlet
{
    private const string DeploymentSet = "Deployment";
    private const string InputObjectSet = "InputObject";
    private const string PodNameSet = "Pod";
    private const string SelectorSet = "Selector";

    /// <summary>Pod names.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PodNameSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubePodNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>The pods whose labels match (app=web), as kubectl logs -l.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SelectorSet)]
    [Alias("l", "LabelSelector")]
    [ValidateNotNullOrEmpty]
    public string? Selector { get; set; }

    /// <summary>Every pod of this deployment.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DeploymentSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeWorkloadNameCompleter))]
    public string? Deployment { get; set; }

    /// <summary>Deployments (or StatefulSets) from Get-Deployment: every pod of each; pods from Get-PodHealth or Get-PodResourceUsage; pod names.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public PSObject? InputObject { get; set; }

    /// <summary>The container. Default: every container of the pod (with -Previous: every container that has restarted).</summary>
    [Parameter]
    [Alias("c")]
    [ValidateNotNullOrEmpty]
    public string? Container { get; set; }

    /// <summary>Only the last N lines of each container's log (kubectl --tail).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Tail { get; set; }

    /// <summary>Only lines written in this last span of time: a TimeSpan, 10m, 2h, 1d (kubectl --since).</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? Since { get; set; }

    /// <summary>Only lines written at or after this time (kubectl --since-time).</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTime? SinceTime { get; set; }

    /// <summary>The log of the previous, terminated instance of the container (after a crash or OOM kill): kubectl --previous.</summary>
    [Parameter]
    [Alias("p")]
    public SwitchParameter Previous { get; set; }

    /// <summary>With -Raw: put the kubelet's timestamp in front of each line (objects always carry it in Time).</summary>
    [Parameter]
    public SwitchParameter Timestamps { get; set; }

    /// <summary>Only lines matching this regular expression ("error|fail"); case-insensitive unless -CaseSensitive.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Pattern { get; set; }

    /// <summary>Match -Pattern case-sensitively.</summary>
    [Parameter]
    public SwitchParameter CaseSensitive { get; set; }

    /// <summary>Plain strings instead of objects (with a "[pod/container]" prefix when several pods or containers are read).</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    private Regex? _pattern;

    protected override Task BeginProcessingAsync(CancellationToken ct)
    {
        if (Since is not null && SinceTime is not null)
            Fail(new OpsToolsException("KubeInvalid", OpsErrorKind.InvalidArgument, "Use -Since or -SinceTime, not both.", null), "KubeInvalid", ErrorCategory.InvalidArgument, null);
        try { _pattern = LogPattern.Build(Pattern, CaseSensitive); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, Pattern); }
        return Task.CompletedTask;
    }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var ns = target.Namespace;
        PodSet pods;
        var workload = InputObject?.BaseObject as DeploymentInfo;
        var several = ParameterSetName is SelectorSet or DeploymentSet || workload is not null;
        try
        {
            pods = ParameterSetName switch
            {
                SelectorSet => await KubePods.SelectAsync(target, ns, Selector, ct),
                DeploymentSet => await KubePods.SelectDeploymentAsync(target, ns, Deployment!, ct),
                InputObjectSet => workload switch
                {
                    { Kind: "StatefulSet" } => await KubePods.SelectAsync(target, ns, workload.Selector, ct),
                    not null => await KubePods.SelectDeploymentAsync(target, ns, workload.Name, ct),
                    _ => await PodsByNameAsync(target, ns, PodNameOf(InputObject!), ct),
                },
                _ => await PodsByNameAsync(target, ns, Name!, ct),
            };
        }
        catch (OpsToolsException e)
        {
            ObjectError(e, e.ErrorId, workload?.Name ?? Deployment ?? Selector);
            return;
        }
        if (several && pods.Count == 0)
            Warning($"No pods of {(Selector is not null ? $"selector '{Selector}'" : $"{(workload?.Kind ?? "Deployment").ToLowerInvariant()} '{workload?.Name ?? Deployment}'")} in {target.Describe(ns)}.");
        several |= pods.Count > 1;
        var options = new PodLogOptions
        {
            Tail = Tail, Previous = Previous, Pattern = _pattern,
            SinceTime = SinceTime?.ToUniversalTime() ?? (Since is { } back ? DateTime.UtcNow - back : null),
        };
        foreach (var pod in pods.Names)
        {
            var containers = pods.LogContainers(pod, Container, Previous);
            if (containers.Count == 0)
            {
                ObjectError(new OpsToolsException("KubePreviousLogNotFound", OpsErrorKind.NotFound,
                    $"No container of pod '{pod}' in {target.Describe(ns)} has restarted: there is no previous log to read. Run Get-PodLog without -Previous for the current one.",
                    pod), "KubePreviousLogNotFound", pod);
                continue;
            }
            var prefix = several || containers.Count > 1;
            foreach (var container in containers)
            {
                try { await StreamAsync(target, ns, pod, container, options, prefix, ct); }
                catch (OpsToolsException e) { ObjectError(e, e.ErrorId, $"{pod}/{container}"); }
            }
        }
    }

    private Task StreamAsync(KubeTarget target, string ns, string pod, string container, PodLogOptions options, bool prefix, CancellationToken ct)
    {
        var label = $"[pod/{pod}/{container}] ";
        // Each line is written as it arrives; OutputStreamAsync waits for the pipeline now and then, so that a fast
        // stream and a slow consumer never pile up lines here.
        return OutputStreamAsync(KubePodLogs.ReadAsync(target, ns, pod, container, options, ct),
            line => Raw ? (prefix ? label : "") + KubePodLogs.Raw(line, Timestamps) : line, ct);
    }

    /// <summary>The pod a piped object is about: a PodHealthResult's or PodResourceUsage's Name, a PodLogLine's Pod, or a string.</summary>
    private static string[] PodNameOf(PSObject input) => input.BaseObject switch
    {
        PodHealthResult p => new[] { p.Name },
        PodResourceUsage u => new[] { u.Name },
        PodLogLine l => new[] { l.Pod },
        string s => new[] { s },
        _ => input.Properties["Name"]?.Value is string n ? new[] { n }
            : throw new OpsToolsException("KubeUnsupportedInput", OpsErrorKind.InvalidArgument,
                $"Get-PodLog takes pods (Get-PodHealth, pod names) or deployments (Get-Deployment) from the pipeline, not {input.BaseObject?.GetType().FullName ?? "null"}.", input.BaseObject),
    };

    private async Task<PodSet> PodsByNameAsync(KubeTarget target, string ns, IEnumerable<string> names, CancellationToken ct)
    {
        var pods = new List<PodSet>();
        foreach (var name in names)
        {
            try { pods.Add(await KubePods.SelectOneAsync(target, ns, name, ct)); }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, name); }
        }
        return PodSet.Combine(target, ns, pods);
    }
}
