using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Restarts the pods of Deployments or StatefulSets with a rolling update (kubectl rollout restart / oc rollout restart), optionally waiting for it.</para>
/// <para type="description">Sets the pod template's kubectl.kubernetes.io/restartedAt annotation, as kubectl does: the controller replaces the pods one by one within the workload's rolling-update limits, so the service stays up. By name or from the pipeline. Returns the RolloutStatus (with -Wait: how the rollout ended; a failed or timed-out rollout also writes a non-terminating error).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Restart, "Deployment", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "Restart-Deployment.md")]
[OutputType(typeof(RolloutStatus))]
public sealed class RestartDeploymentCommand : KubeWorkloadRolloutCmdlet
{
    /// <summary>Wait until the restart's rollout is complete (kubectl rollout status rules), at most -TimeoutSec.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    private readonly List<PendingWait> _waits = new();

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var ns = target.Namespace;
        foreach (var name in Name)
        {
            var what = $"{Kind.ToLowerInvariant()}/{name} in {target.Describe(ns)}";
            if (!await ShouldProcessAsync(what, "Restart the pods (rolling update: new pods replace the old ones)").ConfigureAwait(false)) continue;
            try
            {
                var at = await KubeRollout.RestartAsync(target, ns, Kind, name, ct).ConfigureAwait(false);
                Verbose($"{Kind.ToLowerInvariant()}/{name}: {KubeRollout.RestartedAtAnnotation}={at:yyyy-MM-ddTHH:mm:ssZ} in {target.Describe(ns)}.");
                if (Wait)
                {
                    _waits.Add(new PendingWait(target, ns, Kind, name));
                    continue;
                }
                var workload = await KubeRollout.ReadWorkloadAsync(target, ns, Kind, name, ct).ConfigureAwait(false);
                Output(KubeRollout.StatusOf(target, workload));
            }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, name); }
        }
    }

    protected override async Task EndProcessingAsync(CancellationToken ct) =>
        WriteOutcomes(await WaitAllAsync(_waits, ct).ConfigureAwait(false), done: "was restarted");
}
