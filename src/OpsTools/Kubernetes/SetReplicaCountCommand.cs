using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Scales Deployments and StatefulSets (kubectl scale / oc scale), optionally waiting for the rollout; returns the replica count before and after.</para>
/// <para type="description">Writes spec.replicas through the scale subresource, by name or from the pipeline (Get-Deployment objects, or its own results to scale back). A change made meanwhile by another client (409 Conflict) is read again and retried. Scaling to 0 asks for confirmation unless -Force. -Wait waits for the rollout by kubectl rollout status rules (-TimeoutSec, default 300); a rollout that fails or times out returns its result and writes a non-terminating error. Warns when a HorizontalPodAutoscaler will override the manual count.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "ReplicaCount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Kubernetes")]
[OutputType(typeof(ScaleResult))]
public sealed class SetReplicaCountCommand : KubeRolloutCmdlet
{
    /// <summary>Names of the Deployments (or StatefulSets with -Kind StatefulSet); bound by property name from Get-Deployment and Set-ReplicaCount objects.</summary>
    [Parameter(ParameterSetName = "Kubernetes", Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeWorkloadNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>
    /// The replica count to set (0 or more). Scaling to 0 asks for confirmation unless -Force. From piped Set-ReplicaCount
    /// results it binds their PreviousReplicas, so <c>$before | Set-ReplicaCount</c> scales each one back.
    /// </summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 100000)]
    [Alias("PreviousReplicas")]
    public int Replicas { get; set; }

    /// <summary>Deployment (default) or StatefulSet; bound by property name from piped objects.</summary>
    [Parameter(ParameterSetName = "Kubernetes", ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Deployment", "StatefulSet")]
    public string Kind { get; set; } = "Deployment";

    /// <summary>Wait until the rollout is complete (kubectl rollout status rules), at most -TimeoutSec.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Scale to 0 without asking. -WhatIf still only reports.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private readonly List<(ScaleResult Result, PendingWait Wait)> _waits = new();
    private readonly Dictionary<string, IReadOnlyList<(string Name, string Kind, string Target, int? Min, int Max)>?> _autoscalers = new();

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        foreach (var name in Name)
            await ScaleOneAsync(target, target.Namespace, name, ct).ConfigureAwait(false);
    }

    private async Task ScaleOneAsync(KubeTarget target, string ns, string name, CancellationToken ct)
    {
        var kindText = Kind.ToLowerInvariant();
        WorkloadReplicas current;
        try { current = await KubeScale.ReadAsync(target, ns, Kind, name, ct).ConfigureAwait(false); }
        catch (OpsToolsException e) { ObjectError(e, e.ErrorId, name); return; }

        var what = $"{kindText}/{name} in {target.Describe(ns)}";
        if (current.Replicas != Replicas)
        {
            if (!await ShouldProcessAsync(what, $"Scale from {current.Replicas} to {Replicas} replicas").ConfigureAwait(false)) return;
            if (Replicas == 0 && !await ShouldContinueAsync(
                    $"Scale {what} from {current.Replicas} to 0 replicas? Every pod is stopped: it serves nothing until scaled up again.",
                    "Scale to zero", Force).ConfigureAwait(false))
            {
                Verbose($"{kindText}/{name}: not scaled to 0 (not confirmed).");
                return;
            }
        }
        else
        {
            Verbose($"{kindText}/{name} already has {Replicas} replicas: nothing to change.");
        }

        var hpa = await AutoscalerAsync(target, ns, current.Kind, name, ct).ConfigureAwait(false);
        if (hpa is { } h && current.Replicas != Replicas)
        {
            if (Replicas > 0)
                Warning($"{kindText}/{name} in namespace '{ns}' is scaled by HorizontalPodAutoscaler '{h.Name}' (min {h.Min ?? 1}, max {h.Max}): it will change the replica count back within seconds. " +
                        $"To scale by hand, change the autoscaler instead (its minReplicas/maxReplicas: the runbooks' \"oc patch hpa {h.Name} -p '{{\"spec\":{{\"minReplicas\":{Replicas}}}}}'\") or delete it.");
            else
                Verbose($"{kindText}/{name} has the autoscaler '{h.Name}': it leaves a workload at 0 replicas alone and takes over again once it is scaled up.");
        }

        WorkloadReplicas replaced;
        int attempts;
        bool written;
        try { (replaced, attempts, written) = await KubeScale.ApplyAsync(target, ns, current, Replicas, ct).ConfigureAwait(false); }
        catch (OpsToolsException e) { ObjectError(e, e.ErrorId, name); return; }
        if (attempts > 1)
            Verbose($"{kindText}/{name}: changed by another client while scaling (409 Conflict); read again and retried, {attempts} writes.");
        if (written)
            Verbose($"{kindText}/{name}: spec.replicas {replaced.Replicas} -> {Replicas} in {target.Describe(ns)}.");

        var result = new ScaleResult
        {
            Platform = "Kubernetes", Context = target.Context, Namespace = ns, Kind = current.Kind, Name = current.Name,
            PreviousReplicas = replaced.Replicas, DesiredReplicas = Replicas,
            ReadyReplicas = replaced.ReadyReplicas, AvailableReplicas = replaced.AvailableReplicas,
            Changed = written, Attempts = attempts, Autoscaler = hpa?.Name,
            Timestamp = DateTime.UtcNow, ClusterId = target.WithNamespace(ns).Id,
        };
        if (Wait)
            _waits.Add((result, new PendingWait(target, ns, current.Kind, current.Name)));
        else
            Output(result);
    }

    protected override async Task EndProcessingAsync(CancellationToken ct)
    {
        // Every workload was scaled as it came down the pipeline; now wait for all their rollouts at once.
        var outcomes = await WaitAllAsync(_waits.Select(w => w.Wait).ToList(), ct).ConfigureAwait(false);
        for (var i = 0; i < outcomes.Count; i++)
        {
            var result = _waits[i].Result;
            var outcome = outcomes[i];
            if (outcome.Status is { } status)
            {
                result.Rollout = status;
                result.ReadyReplicas = status.ReadyReplicas;
                result.AvailableReplicas = status.AvailableReplicas;
                Output(result);
                ReportRollout(status, result);
            }
            else
            {
                // Scaled, but the wait could not tell how it ended (API gone, object deleted): say both.
                Output(result);
                ObjectError(new OpsToolsException(outcome.Error!.ErrorId, outcome.Error.Kind,
                    $"{result.Kind.ToLowerInvariant()}/{result.Name} was scaled from {result.PreviousReplicas} to {result.DesiredReplicas}, but waiting for its rollout failed: {outcome.Error.Message}",
                    result.Name, outcome.Error), outcome.Error.ErrorId, result);
            }
        }
    }

    private async Task<(string Name, int? Min, int Max)?> AutoscalerAsync(KubeTarget target, string ns, string kind, string name, CancellationToken ct)
    {
        var key = target.Id + "|" + ns;
        if (!_autoscalers.TryGetValue(key, out var list))
        {
            list = await KubeScale.AutoscalersAsync(target, ns, ct).ConfigureAwait(false);
            if (list is null) Verbose($"Could not list the autoscalers of namespace '{ns}' (not allowed?): no check for an autoscaler overriding the count.");
            _autoscalers[key] = list;
        }
        var hit = list?.FirstOrDefault(h => h.Target == name && h.Kind.Equals(kind, StringComparison.OrdinalIgnoreCase));
        return hit is { Name: not null } x ? (x.Name, x.Min, x.Max) : null;
    }
}
