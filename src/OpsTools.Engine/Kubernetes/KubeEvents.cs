using k8s;
using k8s.Models;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>Reads core/v1 events into <see cref="ClusterEvent"/> objects, sorted by time as 'kubectl get events --sort-by' does.</summary>
public static class KubeEvents
{
    /// <summary>What to read.</summary>
    public sealed class Query
    {
        /// <summary>Every namespace (kubectl -A); otherwise <see cref="Namespace"/>.</summary>
        public bool AllNamespaces { get; init; }
        public string? Namespace { get; init; }
        /// <summary>Only type Warning.</summary>
        public bool WarningsOnly { get; init; }
        /// <summary>Only events that last happened at or after this time (UTC).</summary>
        public DateTime? Since { get; init; }
        /// <summary>Only events about these objects (kind, name); null: all.</summary>
        public IReadOnlyCollection<(string Kind, string Name)>? Objects { get; init; }
    }

    /// <summary>Lists events (oldest first, newest last, as kubectl prints them).</summary>
    public static async Task<IReadOnlyList<ClusterEvent>> ListAsync(KubeTarget target, Query query, CancellationToken ct)
    {
        var ns = query.AllNamespaces ? null : query.Namespace ?? target.Namespace;
        var fieldSelector = query.WarningsOnly ? "type=Warning" : null;
        // One object: let the server filter; several (a deployment with its ReplicaSets and pods): filter here.
        if (query.Objects is { Count: 1 } one)
        {
            var (kind, name) = one.First();
            fieldSelector = (fieldSelector is null ? "" : fieldSelector + ",") + $"involvedObject.kind={kind},involvedObject.name={name}";
        }
        var list = await KubeErrors.CallAsync(target, "list events", null, ns, () => ns is null
            ? target.Client.CoreV1.ListEventForAllNamespacesAsync(fieldSelector: fieldSelector, cancellationToken: ct)
            : target.Client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: fieldSelector, cancellationToken: ct), ct).ConfigureAwait(false);
        var wanted = query.Objects is null ? null : new HashSet<(string, string)>(query.Objects);
        return list.Items.Select(e => From(target, e))
            .Where(e => wanted is null || wanted.Contains((e.ObjectKind, e.ObjectName)))
            .Where(e => !query.WarningsOnly || e.Type == "Warning")
            .Where(e => query.Since is null || (e.Time ?? DateTime.MinValue) >= query.Since.Value)
            .OrderBy(e => e.Time ?? DateTime.MinValue).ThenBy(e => e.Namespace, StringComparer.Ordinal).ThenBy(e => e.EventName, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>One event as a <see cref="ClusterEvent"/>.</summary>
    public static ClusterEvent From(KubeTarget target, Corev1Event e)
    {
        var ns = e.Metadata?.NamespaceProperty ?? e.InvolvedObject?.NamespaceProperty ?? target.Namespace;
        var source = e.Source?.Component ?? e.ReportingComponent ?? "";
        if (e.Source?.Host is { Length: > 0 } host) source += ", " + host;
        return new ClusterEvent
        {
            Context = target.Context, Namespace = ns, EventName = e.Metadata?.Name ?? "",
            Time = TimeOf(e), FirstTime = (e.FirstTimestamp ?? e.EventTime)?.ToUniversalTime(),
            Type = e.Type ?? "", Reason = e.Reason ?? "", ObjectKind = e.InvolvedObject?.Kind ?? "", ObjectName = e.InvolvedObject?.Name ?? "",
            FieldPath = e.InvolvedObject?.FieldPath, Message = (e.Message ?? "").Trim(), Count = e.Count ?? e.Series?.Count ?? 1, Source = source,
            ClusterId = target.WithNamespace(ns).Id,
        };
    }

    /// <summary>When an event last happened: lastTimestamp, else series.lastObservedTime, eventTime, firstTimestamp, creationTimestamp.</summary>
    public static DateTime? TimeOf(Corev1Event e) =>
        (e.LastTimestamp ?? e.Series?.LastObservedTime ?? e.EventTime ?? e.FirstTimestamp ?? e.Metadata?.CreationTimestamp)?.ToUniversalTime();
}
