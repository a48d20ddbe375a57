using System.Management.Automation;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Waits until Deployment or StatefulSet rollouts are complete (kubectl rollout status / oc rollout status).</para>
/// <para type="description">By name or from the pipeline (Get-Deployment, Set-ReplicaCount, Restart-Deployment objects); several at once. The rules of kubectl rollout status: the controller has seen the change, every replica is updated and available, no old replica is left; ProgressDeadlineExceeded is a failure. Returns the RolloutStatus; a failed or timed-out rollout also writes a non-terminating error (KubeRolloutFailed, KubeRolloutTimedOut).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "Rollout", HelpUri = HelpLinks.Base + "Wait-Rollout.md")]
[OutputType(typeof(RolloutStatus))]
public sealed class WaitRolloutCommand : KubeWorkloadRolloutCmdlet
{
    private readonly List<PendingWait> _waits = new();

    protected override Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        foreach (var name in Name)
            if (!_waits.Any(w => w.Target.Id == target.Id && w.Namespace == target.Namespace && w.Kind == Kind && w.Name == name))
                _waits.Add(new PendingWait(target, target.Namespace, Kind, name));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken ct) =>
        WriteOutcomes(await WaitAllAsync(_waits, ct).ConfigureAwait(false), done: null);
}
