using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Pauses a Deployment's rollout (kubectl rollout pause): later template changes are recorded but not rolled out until Resume-Rollout.</para>
/// <para type="description">Sets spec.paused. Pods that run keep running; several changes (image, resources, env) can then be made and rolled out together by Resume-Rollout. StatefulSets cannot be paused (error KubeNotSupported).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Suspend, "Rollout", SupportsShouldProcess = true, HelpUri = HelpLinks.Base + "Suspend-Rollout.md")]
[OutputType(typeof(WorkloadChangeResult))]
public sealed class SuspendRolloutCommand : KubeWorkloadChangeCmdlet
{
    protected override Task ProcessRecordAsync(CancellationToken ct) =>
        EditEachAsync("Suspend", "Pause rollout", workload => KubeWorkloadEdit.SetPaused(workload, true), null, ct);
}
