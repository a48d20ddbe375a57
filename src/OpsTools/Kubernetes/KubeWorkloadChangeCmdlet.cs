using System.Collections;
using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>Base of the commands about named Deployments or StatefulSets: -Name (or Get-Deployment objects from the pipeline) and -Kind.</summary>
public abstract class KubeWorkloadCmdlet : KubeCmdlet
{
    /// <summary>The Deployment (StatefulSet) name(s); bound from Get-Deployment objects.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeWorkloadNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Deployment (default) or StatefulSet; bound from Get-Deployment objects.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Deployment", "StatefulSet")]
    public string Kind { get; set; } = "Deployment";
}

/// <summary>
/// Base of the commands about named workloads that wait for rollouts (Wait-Rollout, Restart-Deployment and the
/// change commands): -Name (or piped objects) and -Kind, with KubeRolloutCmdlet's -TimeoutSec and wait reporting.
/// (Set-ReplicaCount declares its own -Name/-Kind: they belong to its Kubernetes parameter set only.)
/// </summary>
public abstract class KubeWorkloadRolloutCmdlet : KubeRolloutCmdlet
{
    /// <summary>The Deployment (StatefulSet) name(s); bound by property name from piped objects (Get-Deployment, Set-ReplicaCount ...).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeWorkloadNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Deployment (default) or StatefulSet; bound by property name from piped objects.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Deployment", "StatefulSet")]
    public string Kind { get; set; } = "Deployment";
}

/// <summary>
/// Base of the commands that change a Deployment or StatefulSet (Set-DeploymentImage, Set-DeploymentResource,
/// Set-DeploymentEnv, Set-DeploymentAnnotation, Suspend-Rollout, Resume-Rollout, Undo-Rollout): -Name (or
/// Get-Deployment objects from the pipeline), -Kind, -Wait/-TimeoutSec; one result per workload; a failure
/// for one workload is a non-terminating error and the pipeline goes on. A rollout that fails or does not finish
/// within -TimeoutSec is reported as Set-ReplicaCount and Wait-Rollout report it (see KubeRolloutCmdlet.ReportRollout):
/// the result, then a non-terminating KubeRolloutFailed / KubeRolloutTimedOut error, so that CI notices.
/// </summary>
public abstract class KubeWorkloadChangeCmdlet : KubeWorkloadRolloutCmdlet
{
    /// <summary>Wait until the rollout the change starts is complete (kubectl rollout status rules) and return its state in the result's Rollout property.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>"deployment 'web' (context 'prod', namespace 'shop')": ShouldProcess targets and messages.</summary>
    protected string Describe(KubeTarget target, string name) => $"{Kind.ToLowerInvariant()} '{name}' ({target.Describe()})";

    /// <summary>
    /// Runs one edit for every -Name: read, change, ShouldProcess (with the changes in the text), write with 409
    /// retries, optional wait; writes one WorkloadChangeResult each.
    /// </summary>
    protected async Task EditEachAsync(string operation, string actionVerb, Func<object, IReadOnlyList<WorkloadChangeItem>> apply,
        Func<IReadOnlyList<WorkloadChangeItem>, string?>? changeCause, CancellationToken ct)
    {
        var target = ResolveTarget();
        foreach (var name in Name)
        {
            try
            {
                var outcome = await KubeWorkloadEdit.EditAsync(target, target.Namespace, Kind, name, apply,
                    (workload, changes) => ShouldProcessAsync(Describe(target, name), ActionText(actionVerb, changes)),
                    changeCause, $"{actionVerb.ToLowerInvariant()} of {Kind.ToLowerInvariant()} '{name}'", Verbose, ct).ConfigureAwait(false);
                var result = KubeWorkloadEdit.Result(target, outcome.Workload, operation, outcome.Changes, outcome.Written);
                if (outcome.Changes.Count == 0) Verbose($"{Describe(target, name)}: nothing to change.");
                else if (outcome.Written) Verbose($"{Describe(target, name)}: {string.Join("; ", outcome.Changes)}.");
                if (Wait && !await IsWhatIfAsync().ConfigureAwait(false) && (outcome.Written || outcome.Changes.Count == 0))
                    result.Rollout = await WaitForRolloutAsync(target, name, ct).ConfigureAwait(false);
                Output(result);
                if (result.Rollout is { } rollout) ReportRollout(rollout, result);
            }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, name); }
        }
    }

    /// <summary>The ShouldProcess action text: the verb and the changes (already redacted), and whether pods get replaced.</summary>
    protected static string ActionText(string verb, IReadOnlyList<WorkloadChangeItem> changes)
    {
        var restarts = changes.Any(c => c.Container is not null || c.Item.StartsWith("template ", StringComparison.Ordinal) || c.Item == "template");
        return $"{verb}: {string.Join("; ", changes)}{(restarts ? " (changes the pod template: starts a rollout that replaces the pods)" : "")}";
    }

    /// <summary>Waits for the rollout (the one wait path: <see cref="KubeRolloutCmdlet.WaitAllAsync"/>); the state at the end (Failed/TimedOut are reported by the caller).</summary>
    protected async Task<RolloutStatus> WaitForRolloutAsync(KubeTarget target, string name, CancellationToken ct)
    {
        var outcome = (await WaitAllAsync(new[] { new PendingWait(target, target.Namespace, Kind, name) }, ct).ConfigureAwait(false))[0];
        return outcome.Status ?? throw outcome.Error!;
    }

    /// <summary>A hashtable parameter as ordered string pairs (keys and values as text; $null values kept as null).</summary>
    protected static List<KeyValuePair<string, string?>> Pairs(IDictionary? table)
    {
        var result = new List<KeyValuePair<string, string?>>();
        if (table is null) return result;
        foreach (DictionaryEntry e in table)
        {
            var key = (e.Key is PSObject pk ? pk.BaseObject : e.Key)?.ToString() ?? "";
            var value = e.Value is PSObject pv ? pv.BaseObject : e.Value;
            result.Add(new KeyValuePair<string, string?>(key, value switch
            {
                null => null,
                System.Security.SecureString ss => new System.Net.NetworkCredential("", ss).Password,
                bool b => b ? "true" : "false",
                IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
                _ => value.ToString(),
            }));
        }
        return result;
    }
}
