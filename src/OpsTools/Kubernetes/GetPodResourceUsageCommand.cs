using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Gets the CPU and memory pods use, per pod and container, with their requests, limits and percent of limit (the runbooks' 'oc top pods').</para>
/// <para type="description">Reads PodMetrics from the metrics API (metrics.k8s.io/v1beta1, served by metrics-server, or on OpenShift by the cluster monitoring stack) after checking with discovery that the cluster serves it; a cluster that does not gets one clear error saying what to install. CPU is in millicores, memory in bytes; requests and limits come from the pods' specs.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "PodResourceUsage", DefaultParameterSetName = NameSet, HelpUri = HelpLinks.Base + "Get-PodResourceUsage.md")]
[OutputType(typeof(PodResourceUsage))]
public sealed class GetPodResourceUsageCommand : KubePodCmdlet
{
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
        catch (OpsToolsException e) when (ParameterSetName == InputObjectSet)
        {
            ObjectError(e, e.ErrorId, InputObject!.Name);
            return;
        }
        catch (OpsToolsException e)
        {
            Fail(e, e.ErrorId, e.Kind == OpsErrorKind.NotSupported ? ErrorCategory.NotImplemented : ErrorCategory.NotSpecified, target.Context);
            return;
        }
        // A pod without a sample: no such pod, or metrics-server has not sampled it yet.
        foreach (var u in MatchNames(usage, u => u.Name, target, ns, "metrics for pod"))
            Output(u);
    }
}
