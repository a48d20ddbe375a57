using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Gets the rollout history of a Deployment (its ReplicaSets) or StatefulSet (its ControllerRevisions): revision, images, change cause, which one is current.</para>
/// <para type="description">What 'kubectl rollout history' shows, with the images of each revision. Oldest first. -Revision N returns one revision (an error lists the revisions there are).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "RolloutHistory", HelpUri = HelpLinks.Base + "Get-RolloutHistory.md")]
[OutputType(typeof(RolloutRevision))]
public sealed class GetRolloutHistoryCommand : KubeWorkloadCmdlet
{
    /// <summary>Only this revision (kubectl rollout history --revision N).</summary>
    [Parameter(Position = 1)]
    [ValidateRange(1, long.MaxValue)]
    public long? Revision { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        foreach (var name in Name)
        {
            try
            {
                var workload = await KubeRollout.ReadWorkloadAsync(target, target.Namespace, Kind, name, ct).ConfigureAwait(false);
                var history = await KubeRolloutHistory.ReadAsync(target, workload, ct).ConfigureAwait(false);
                if (Revision is long wanted)
                {
                    var entry = history.FirstOrDefault(h => h.Revision.Revision == wanted)
                        ?? throw new OpsToolsException("KubeRevisionNotFound", OpsErrorKind.NotFound,
                            $"{Kind.ToLowerInvariant()} '{name}' in {target.Describe()} has no revision {wanted}; its revisions: {(history.Count == 0 ? "none" : string.Join(", ", history.Select(h => h.Revision.Revision)))}.", wanted);
                    Output(entry.Revision);
                    continue;
                }
                if (history.Count == 0) Verbose($"{Kind.ToLowerInvariant()} '{name}' in {target.Describe()} has no recorded revisions yet.");
                foreach (var h in history) Output(h.Revision);
            }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, name); }
        }
    }
}
