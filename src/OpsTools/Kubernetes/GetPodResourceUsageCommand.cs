using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Gets the CPU and memory pods use, per pod and container, with their requests, limits and percent of limit (the runbooks' 'oc top pods').</para>
/// <para type="description">Reads PodMetrics from the metrics API (metrics.k8s.io/v1beta1, served by metrics-server, or on OpenShift by the cluster monitoring stack) after checking with discovery that the cluster serves it; a cluster that does not gets one clear error saying what to install. CPU is in millicores, memory in bytes; requests and limits come from the pods' specs.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "PodResourceUsage", DefaultParameterSetName = "Name")]
[OutputType(typeof(PodResourceUsage))]
public sealed class GetPodResourceUsageCommand : KubeCmdlet
{
    /// <summary>Pod names (wildcards allowed). Default: every pod of the namespace.</summary>
    [Parameter(Position = 0, ParameterSetName = "Name")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubePodNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only pods whose labels match (app=web), as kubectl top pods -l.</summary>
    [Parameter(ParameterSetName = "Name")]
    [Alias("l", "LabelSelector")]
    [ValidateNotNullOrEmpty]
    public string? Selector { get; set; }

    /// <summary>The pods of this deployment.</summary>
    [Parameter(Mandatory = true, ParameterSetName = "Deployment")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeWorkloadNameCompleter))]
    public string? Deployment { get; set; }

    /// <summary>Deployments (or StatefulSets) from Get-Deployment: the pods of each.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = "InputObject")]
    public DeploymentInfo? InputObject { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var ns = target.Namespace;
        IReadOnlyList<PodResourceUsage> usage;
        try
        {
            var selector = InputObject?.Selector is { Length: > 0 } s ? s
                : Deployment is not null ? await KubePods.DeploymentSelectorAsync(target, ns, Deployment, ct)
                : Selector;
            usage = await KubeMetrics.ListAsync(target, ns, selector, ct);
        }
        catch (OpsToolsException e) when (ParameterSetName == "InputObject")
        {
            ObjectError(e, e.ErrorId, InputObject!.Name);
            return;
        }
        catch (OpsToolsException e)
        {
            Fail(e, e.ErrorId, e.Kind == OpsErrorKind.NotSupported ? ErrorCategory.NotImplemented : ErrorCategory.NotSpecified, target.Context);
            return;
        }
        var patterns = (Name ?? Array.Empty<string>()).Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var u in usage)
            if (patterns.Count == 0 || patterns.Any(p => p.IsMatch(u.Name)))
                Output(u);
        foreach (var n in (Name ?? Array.Empty<string>()).Where(n => !WildcardPattern.ContainsWildcardCharacters(n) && !usage.Any(u => u.Name.Equals(n, StringComparison.OrdinalIgnoreCase))))
            ObjectError(new OpsToolsException("KubeObjectNotFound", OpsErrorKind.NotFound, $"no metrics for pod '{n}' in {target.Describe(ns)} (no such pod, or metrics-server has not sampled it yet).", n), "KubeObjectNotFound", n);
    }
}
