using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Diagnoses pods: ready, restarts, CrashLoopBackOff, OOMKilled, image pull errors, pending reasons and their warning events, with a Status and a Diagnosis to act on.</para>
/// <para type="description">What 'kubectl get pods' and 'kubectl describe pod' make you read, as one object per pod: phase, READY, STATUS, restarts (and restarts since -Since), the last termination (reason, exit code, finished at), image pull errors, why a pending pod is pending (the scheduler's message), node, age, the owning deployment, the warning events about the pod, and Status Healthy/Warning/Critical with a Diagnosis. Pods come by -Name (wildcards), -Selector, -Deployment, or from Get-Deployment in the pipeline. -Problem returns only the unhealthy ones.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "PodHealth", DefaultParameterSetName = NameSet, HelpUri = HelpLinks.Base + "Get-PodHealth.md")]
[OutputType(typeof(PodHealthResult))]
public sealed class GetPodHealthCommand : KubePodCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>
    /// Count restarts since this time: a DateTime, or how long ago (a TimeSpan, 1h, 30m). The API keeps only a
    /// restart count and each container's last termination, so RestartsSince is exact when the last termination
    /// ended before this time (0) or the pod started after it (all); otherwise it is a lower bound (RestartsSinceExact false).
    /// </summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTime? Since { get; set; }

    /// <summary>Only pods whose Status is not Healthy.</summary>
    [Parameter]
    public SwitchParameter Problem { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var ns = target.Namespace;
        PodSet pods;
        try
        {
            pods = await SelectPodsAsync(target, ns, ct);
        }
        catch (OpsToolsException e) when (ParameterSetName != NameSet)
        {
            ObjectError(e, e.ErrorId, Workload);
            return;
        }
        catch (OpsToolsException e)
        {
            Fail(e, e.ErrorId, ErrorCategory.NotSpecified, target.Context);
            return;
        }
        IReadOnlyList<PodHealthResult> results;
        try { results = await pods.HealthAsync(Since, ct); }
        catch (OpsToolsException e) { ObjectError(e, e.ErrorId, ns); return; }
        foreach (var r in results)
            if (!Problem || r.Status != CheckStatus.Healthy)
                Output(r);
    }

    private async Task<PodSet> SelectPodsAsync(KubeTarget target, string ns, CancellationToken ct)
    {
        if (InputObject is { Kind: "StatefulSet" } set)
            return await KubePods.SelectAsync(target, ns, set.Selector, ct);
        if (Workload is { } deployment)
            return await KubePods.SelectDeploymentAsync(target, ns, deployment, ct);
        var pods = await KubePods.SelectAsync(target, ns, Selector, ct);
        var keep = MatchNames(pods.Names, n => n, target, ns, "pod").ToHashSet(StringComparer.Ordinal);
        return pods.Where(keep.Contains);
    }
}

/// <summary>Completes pod names (-Name of Get-PodHealth, Get-PodLog, Get-PodResourceUsage) in the namespace the typed parameters point at.</summary>
public sealed class KubePodNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        var target = KubeCompleterSupport.Target(fakeBoundParameters);
        if (target is null) return Array.Empty<CompletionResult>();
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var pods = KubePods.SelectAsync(target, target.Namespace, null, cts.Token).GetAwaiter().GetResult();
            return pods.Names.Where(p => pattern.IsMatch(p))
                .Select(p => new CompletionResult(p, p, CompletionResultType.ParameterValue, $"pod/{p}")).ToList();
        }
        catch (Exception) { return Array.Empty<CompletionResult>(); }
    }
}
