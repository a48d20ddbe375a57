using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Rolls a Deployment back to its previous revision, or to -ToRevision N (kubectl rollout undo).</para>
/// <para type="description">Puts the pod template of that revision's ReplicaSet back into the deployment (without the pod-template-hash label) and, as kubectl does, the revision's annotations with its change cause. The deployment controller then gives that template a new, higher revision number. Replaces every pod, so it asks for confirmation (ConfirmImpact High) unless -Force. Returns the revisions and images rolled back from and to; with -Wait the rollout state.</para>
/// </summary>
[Cmdlet(VerbsCommon.Undo, "Rollout", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RolloutUndoResult))]
public sealed class UndoRolloutCommand : KubeWorkloadChangeCmdlet
{
    /// <summary>The revision to go back to (see Get-RolloutHistory). Default: the previous one.</summary>
    [Parameter(Position = 1)]
    [ValidateRange(1, long.MaxValue)]
    public long ToRevision { get; set; }

    /// <summary>No confirmation prompt. -WhatIf and $WhatIfPreference still only report; -Confirm still asks (the rule: OpsCmdlet.ConfirmAsync).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        foreach (var name in Name)
        {
            try
            {
                if (KubeRollout.IsStatefulSet(Kind))
                    throw new OpsToolsException("KubeNotSupported", OpsErrorKind.NotSupported,
                        $"Undo-Rollout rolls back Deployments; statefulset '{name}' is not supported. Get-RolloutHistory -Kind StatefulSet shows its revisions and images; put the one you want back with Set-DeploymentImage -Kind StatefulSet.", name);
                var whatIf = await IsWhatIfAsync().ConfigureAwait(false);
                var describe = Describe(target, name);
                var (result, anyChange) = await KubeRolloutHistory.UndoAsync(target, target.Namespace, name, ToRevision,
                    r => ConfirmAsync(describe,
                        $"Roll back from revision {r.FromRevision} ({string.Join(", ", r.FromImages)}) to revision {r.ToRevision} ({string.Join(", ", r.ToImages)}): replaces every pod", force: Force),
                    Verbose, ct).ConfigureAwait(false);
                if (!anyChange) Warning($"{describe}: {result.Message}.");
                else Verbose($"{describe}: {result.Message}.");
                if (Wait && !whatIf && (result.Changed || !anyChange))
                    result.Rollout = await WaitForRolloutAsync(target, name, ct).ConfigureAwait(false);
                Output(result);
                if (result.Rollout is { } rollout) ReportRollout(rollout, result);
            }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, name); }
        }
    }
}
