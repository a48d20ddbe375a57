using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Resumes a paused Deployment rollout (kubectl rollout resume); -Wait waits until it is complete.</para>
/// <para type="description">Clears spec.paused: the changes made while paused roll out as one revision.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Resume, "Rollout", SupportsShouldProcess = true, HelpUri = HelpLinks.Base + "Resume-Rollout.md")]
[OutputType(typeof(WorkloadChangeResult))]
public sealed class ResumeRolloutCommand : KubeWorkloadChangeCmdlet
{
    protected override Task ProcessRecordAsync(CancellationToken ct) =>
        EditEachAsync("Resume", "Resume rollout", workload => KubeWorkloadEdit.SetPaused(workload, false), null, ct);
}
