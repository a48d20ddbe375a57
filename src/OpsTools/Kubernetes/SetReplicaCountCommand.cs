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

    /// <summary>How many workloads are read and written at once (a pipeline of many deployments).</summary>
    private const int Parallelism = 16;

    /// <summary>One workload to scale, as it came down the pipeline, and what became of it.</summary>
    private sealed class Item(KubeTarget target, string ns, string kind, string name, int replicas)
    {
        public KubeTarget Target { get; } = target;
        public string Namespace { get; } = ns;
        public string Kind { get; } = kind;
        public string Name { get; } = name;
        public int Replicas { get; } = replicas;
        public WorkloadReplicas? Current { get; set; }
        public bool Approved { get; set; }
        public (string Name, int? Min, int Max)? Autoscaler { get; set; }
        public ScaleResult? Result { get; set; }
        public OpsToolsException? Error { get; set; }
    }

    private readonly List<Item> _items = new();
    private readonly Dictionary<string, IReadOnlyList<(string Name, string Kind, string Target, int? Min, int Max)>?> _autoscalers = new();

    protected override Task ProcessRecordAsync(CancellationToken ct)
    {
        // Collect: the reads and writes of every piped workload run together at the end (kubectl scale takes a
        // label selector the same way: one command, every match), and the confirmations come in pipeline order.
        var target = ResolveTarget();
        foreach (var name in Name)
            _items.Add(new Item(target, target.Namespace, Kind, name, Replicas));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken ct)
    {
        // 1. Read every workload (and each namespace's autoscalers once), several at a time.
        await ForEachAsync(_items, async item =>
        {
            try { item.Current = await KubeScale.ReadAsync(item.Target, item.Namespace, item.Kind, item.Name, ct).ConfigureAwait(false); }
            catch (OpsToolsException e) { item.Error = e; }
        }, ct).ConfigureAwait(false);
        foreach (var group in _items.Where(i => i.Current is not null && i.Current.Replicas != i.Replicas).GroupBy(i => i.Target.Id + "|" + i.Namespace))
        {
            var first = group.First();
            _autoscalers[group.Key] = await KubeScale.AutoscalersAsync(first.Target, first.Namespace, ct).ConfigureAwait(false);
            if (_autoscalers[group.Key] is null)
                Verbose($"Could not list the autoscalers of namespace '{first.Namespace}' (not allowed?): no check for an autoscaler overriding the count.");
        }

        // 2. Decide, in pipeline order, on the pipeline thread: -WhatIf/-Confirm, and the extra question for 0.
        foreach (var item in _items.Where(i => i.Current is not null))
            item.Approved = await ApproveAsync(item).ConfigureAwait(false);

        // 3. Write, several at a time (each retried on 409 Conflict by re-reading).
        await ForEachAsync(_items.Where(i => i.Approved).ToList(), async item =>
        {
            try
            {
                var (replaced, attempts, written) = await KubeScale.ApplyAsync(item.Target, item.Namespace, item.Current!, item.Replicas, ct).ConfigureAwait(false);
                item.Result = new ScaleResult
                {
                    Platform = "Kubernetes", Context = item.Target.Context, Namespace = item.Namespace, Kind = replaced.Kind, Name = replaced.Name,
                    PreviousReplicas = replaced.Replicas, DesiredReplicas = item.Replicas,
                    ReadyReplicas = replaced.ReadyReplicas, AvailableReplicas = replaced.AvailableReplicas,
                    Changed = written, Attempts = attempts, Autoscaler = item.Autoscaler?.Name,
                    Timestamp = DateTime.UtcNow, ClusterId = item.Target.WithNamespace(item.Namespace).Id,
                };
            }
            catch (OpsToolsException e) { item.Error = e; }
        }, ct).ConfigureAwait(false);

        foreach (var item in _items.Where(i => i.Result is not null))
        {
            var r = item.Result!;
            if (r.Attempts > 1)
                Verbose($"{r.Kind.ToLowerInvariant()}/{r.Name}: changed by another client while scaling (409 Conflict); read again and retried, {r.Attempts} writes.");
            if (r.Changed)
                Verbose($"{r.Kind.ToLowerInvariant()}/{r.Name}: spec.replicas {r.PreviousReplicas} -> {r.DesiredReplicas} in {item.Target.Describe(item.Namespace)}.");
        }

        // 4. Without -Wait: the results (and errors) in pipeline order. With -Wait: every rollout at once, then the same.
        if (!Wait)
        {
            foreach (var item in _items) Report(item, null);
            return;
        }
        var waiting = _items.Where(i => i.Result is not null).ToList();
        var outcomes = await WaitAllAsync(waiting.Select(i => new PendingWait(i.Target, i.Namespace, i.Result!.Kind, i.Result.Name)).ToList(), ct).ConfigureAwait(false);
        var byItem = waiting.Zip(outcomes).ToDictionary(x => x.First, x => x.Second);
        foreach (var item in _items) Report(item, byItem.GetValueOrDefault(item));
    }

    private async Task<bool> ApproveAsync(Item item)
    {
        var current = item.Current!;
        var kindText = current.Kind.ToLowerInvariant();
        if (current.Replicas == item.Replicas)
        {
            Verbose($"{kindText}/{item.Name} already has {item.Replicas} replicas: nothing to change.");
            return true;
        }
        var what = $"{kindText}/{item.Name} in {item.Target.Describe(item.Namespace)}";
        if (!await ShouldProcessAsync(what, $"Scale from {current.Replicas} to {item.Replicas} replicas").ConfigureAwait(false)) return false;
        if (item.Replicas == 0 && !await ShouldContinueAsync(
                $"Scale {what} from {current.Replicas} to 0 replicas? Every pod is stopped: it serves nothing until scaled up again.",
                "Scale to zero", Force).ConfigureAwait(false))
        {
            Verbose($"{kindText}/{item.Name}: not scaled to 0 (not confirmed).");
            return false;
        }
        item.Autoscaler = Autoscaler(item.Target, item.Namespace, current.Kind, item.Name);
        if (item.Autoscaler is { } h)
        {
            if (item.Replicas > 0)
                Warning($"{kindText}/{item.Name} in namespace '{item.Namespace}' is scaled by HorizontalPodAutoscaler '{h.Name}' (min {h.Min ?? 1}, max {h.Max}): it will change the replica count back within seconds. " +
                        $"To scale by hand, change the autoscaler instead (its minReplicas/maxReplicas: the runbooks' \"oc patch hpa {h.Name} -p '{{\"spec\":{{\"minReplicas\":{item.Replicas}}}}}'\") or delete it.");
            else
                Verbose($"{kindText}/{item.Name} has the autoscaler '{h.Name}': it leaves a workload at 0 replicas alone and takes over again once it is scaled up.");
        }
        return true;
    }

    /// <summary>Writes one workload's outcome: its error, or its result (and, after -Wait, how the rollout ended).</summary>
    private void Report(Item item, WaitOutcome? outcome)
    {
        if (item.Error is { } error) { ObjectError(error, error.ErrorId, item.Name); return; }
        if (item.Result is not { } result) return; // declined, or -WhatIf
        if (outcome is null) { Output(result); return; }
        if (outcome.Status is { } status)
        {
            result.Rollout = status;
            result.ReadyReplicas = status.ReadyReplicas;
            result.AvailableReplicas = status.AvailableReplicas;
            Output(result);
            ReportRollout(status, result);
            return;
        }
        // Scaled, but the wait could not tell how it ended (API gone, object deleted): say both.
        Output(result);
        ObjectError(new OpsToolsException(outcome.Error!.ErrorId, outcome.Error.Kind,
            $"{result.Kind.ToLowerInvariant()}/{result.Name} was scaled from {result.PreviousReplicas} to {result.DesiredReplicas}, but waiting for its rollout failed: {outcome.Error.Message}",
            result.Name, outcome.Error), outcome.Error.ErrorId, result);
    }

    private static async Task ForEachAsync(IReadOnlyList<Item> items, Func<Item, Task> work, CancellationToken ct)
    {
        if (items.Count == 1) { await work(items[0]).ConfigureAwait(false); return; }
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (item, _) => await work(item).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private (string Name, int? Min, int Max)? Autoscaler(KubeTarget target, string ns, string kind, string name)
    {
        var list = _autoscalers.GetValueOrDefault(target.Id + "|" + ns);
        var hit = list?.FirstOrDefault(h => h.Target == name && h.Kind.Equals(kind, StringComparison.OrdinalIgnoreCase));
        return hit is { Name: not null } x ? (x.Name, x.Min, x.Max) : null;
    }
}
