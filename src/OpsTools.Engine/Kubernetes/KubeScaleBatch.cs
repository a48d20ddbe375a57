namespace OpsTools.Engine.Kubernetes;

/// <summary>One workload to scale, as it came down the pipeline, and what became of it.</summary>
public sealed class ScaleRequest(KubeTarget target, string ns, string kind, string name, int replicas)
{
    public KubeTarget Target { get; } = target;
    public string Namespace { get; } = ns;
    public string Kind { get; } = kind;
    public string Name { get; } = name;
    public int Replicas { get; } = replicas;
    /// <summary>The workload as read before scaling (null when it could not be read: see <see cref="Error"/>).</summary>
    public WorkloadReplicas? Current { get; internal set; }
    /// <summary>The HorizontalPodAutoscaler that targets it, when one does.</summary>
    public (string Name, int? Min, int Max)? Autoscaler { get; internal set; }
    /// <summary>The outcome, when it was approved and written (or found already at the count).</summary>
    public ScaleResult? Result { get; internal set; }
    public OpsToolsException? Error { get; internal set; }
    /// <summary>True when the count is already what was asked.</summary>
    public bool Unchanged => Current is not null && Current.Replicas == Replicas;
}

/// <summary>
/// Set-ReplicaCount's Kubernetes half as one engine call: read every workload (and each namespace's autoscalers once),
/// several at a time; ask <c>approve</c> for each, in pipeline order; write the approved ones several at a time
/// (<see cref="KubeScale.ApplyAsync"/>: 409 Conflict read again and retried). kubectl scale over a label selector
/// works the same way: one command, every match.
/// </summary>
public static class KubeScaleBatch
{
    /// <summary>How many workloads are read and written at once.</summary>
    public const int Parallelism = 16;

    public static async Task ScaleAsync(IReadOnlyList<ScaleRequest> requests, Func<ScaleRequest, Task<bool>> approve, Action<string>? verbose, CancellationToken ct)
    {
        // 1. Read, and the autoscalers of each namespace where something changes.
        await ForEachAsync(requests, async r =>
        {
            try { r.Current = await KubeScale.ReadAsync(r.Target, r.Namespace, r.Kind, r.Name, ct).ConfigureAwait(false); }
            catch (OpsToolsException e) { r.Error = e; }
        }, ct).ConfigureAwait(false);
        foreach (var group in requests.Where(r => r.Current is not null && !r.Unchanged).GroupBy(r => r.Target.Id + "|" + r.Namespace))
        {
            var first = group.First();
            var list = await KubeScale.AutoscalersAsync(first.Target, first.Namespace, ct).ConfigureAwait(false);
            if (list is null)
                verbose?.Invoke($"Could not list the autoscalers of namespace '{first.Namespace}' (not allowed?): no check for an autoscaler overriding the count.");
            foreach (var r in group)
            {
                var hit = list?.FirstOrDefault(h => h.Target == r.Name && h.Kind.Equals(r.Current!.Kind, StringComparison.OrdinalIgnoreCase));
                r.Autoscaler = hit is { Name: not null } x ? (x.Name, x.Min, x.Max) : null;
            }
        }

        // 2. Decide, in pipeline order.
        var approved = new List<ScaleRequest>();
        foreach (var r in requests.Where(r => r.Current is not null))
            if (await approve(r).ConfigureAwait(false)) approved.Add(r);

        // 3. Write, several at a time.
        await ForEachAsync(approved, async r =>
        {
            try
            {
                var (replaced, attempts, written) = await KubeScale.ApplyAsync(r.Target, r.Namespace, r.Current!, r.Replicas, ct).ConfigureAwait(false);
                r.Result = new ScaleResult
                {
                    Platform = "Kubernetes", Context = r.Target.Context, Namespace = r.Namespace, Kind = replaced.Kind, Name = replaced.Name,
                    PreviousReplicas = replaced.Replicas, DesiredReplicas = r.Replicas,
                    ReadyReplicas = replaced.ReadyReplicas, AvailableReplicas = replaced.AvailableReplicas,
                    Changed = written, Attempts = attempts, Autoscaler = r.Unchanged ? null : r.Autoscaler?.Name,
                    Timestamp = DateTime.UtcNow, ClusterId = r.Target.WithNamespace(r.Namespace).Id,
                };
            }
            catch (OpsToolsException e) { r.Error = e; }
        }, ct).ConfigureAwait(false);
    }

    private static async Task ForEachAsync(IReadOnlyList<ScaleRequest> items, Func<ScaleRequest, Task> work, CancellationToken ct)
    {
        if (items.Count == 0) return;
        if (items.Count == 1) { await work(items[0]).ConfigureAwait(false); return; }
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (item, _) => await work(item).ConfigureAwait(false)).ConfigureAwait(false);
    }
}
