using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Gets Kubernetes events sorted by time (oldest first), optionally only warnings, only recent ones, or only those about one object.</para>
/// <para type="description">The runbooks' 'oc get events --sort-by=.metadata.creationTimestamp' as objects: time (last seen), type, reason, object, message, count and source. -Warning keeps type Warning only, -Since drops older events, -For narrows to one object: a pod, or a deployment together with its ReplicaSets and their pods. Objects from Get-Deployment or Get-PodHealth can be piped in.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ClusterEvent", DefaultParameterSetName = NamespaceSet, HelpUri = HelpLinks.Base + "Get-ClusterEvent.md")]
[OutputType(typeof(ClusterEvent))]
public sealed class GetClusterEventCommand : KubeCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string NamespaceSet = "Namespace";

    /// <summary>
    /// Only events about this object: "pod/NAME", "deployment/NAME" (with its ReplicaSets' and pods' events), "KIND/NAME",
    /// or a bare name (a deployment of that name, else any object of that name).
    /// </summary>
    [Parameter(Position = 0, ParameterSetName = NamespaceSet)]
    [Alias("Object")]
    [ValidateNotNullOrEmpty]
    public string? For { get; set; }

    /// <summary>Objects from Get-Deployment, Get-PodHealth or Get-PodResourceUsage: the events about each.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public PSObject? InputObject { get; set; }

    /// <summary>Only events of type Warning.</summary>
    [Parameter]
    public new SwitchParameter Warning { get; set; }

    /// <summary>Only events that last happened at or after this time: a DateTime, or how long ago (a TimeSpan, 1h, 30m, 1d).</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTime? Since { get; set; }

    /// <summary>Every namespace the user may list (kubectl -A).</summary>
    [Parameter(ParameterSetName = NamespaceSet)]
    [Alias("A")]
    public SwitchParameter AllNamespaces { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var ns = target.Namespace;
        IReadOnlyCollection<(string Kind, string Name)>? objects = null;
        string? about = null;
        try
        {
            (objects, about) = await ObjectsAsync(target, ns, ct);
        }
        catch (OpsToolsException e)
        {
            ObjectError(e, e.ErrorId, about ?? For);
            return;
        }
        if (InputObject is not null && objects is null) return; // not an object events are about: error written
        IReadOnlyList<ClusterEvent> events;
        try
        {
            events = await KubeEvents.ListAsync(target, new KubeEvents.Query
            {
                AllNamespaces = AllNamespaces, Namespace = ns, WarningsOnly = Warning, Since = Since, Objects = objects,
            }, ct);
        }
        catch (OpsToolsException e) when (InputObject is not null)
        {
            ObjectError(e, e.ErrorId, about);
            return;
        }
        catch (OpsToolsException e)
        {
            Fail(e, e.ErrorId, ErrorCategory.NotSpecified, target.Context);
            return;
        }
        foreach (var e in events) Output(e);
    }

    private async Task<(IReadOnlyCollection<(string, string)>?, string?)> ObjectsAsync(KubeTarget target, string ns, CancellationToken ct)
    {
        if (InputObject is not null)
        {
            var (kind, name) = InputObject.BaseObject switch
            {
                DeploymentInfo d => (d.Kind, d.Name),
                PodHealthResult p => ("Pod", p.Name),
                PodResourceUsage u => ("Pod", u.Name),
                ClusterEvent e => (e.ObjectKind, e.ObjectName),
                _ => (null, null),
            };
            if (kind is null || name is null)
            {
                ObjectError(new OpsToolsException("KubeUnsupportedInput", OpsErrorKind.InvalidArgument,
                    $"Get-ClusterEvent takes objects from Get-Deployment, Get-PodHealth and Get-PodResourceUsage, not {InputObject.BaseObject?.GetType().FullName ?? "null"}; use -For kind/name.", InputObject),
                    "KubeUnsupportedInput", InputObject);
                return (null, null);
            }
            return (await KubePods.RelatedObjectsAsync(target, ns, kind, name, ct), $"{kind.ToLowerInvariant()}/{name}");
        }
        if (For is null) return (null, null);
        var slash = For.IndexOf('/');
        if (slash > 0)
        {
            var kind = KindName(For[..slash]);
            var name = For[(slash + 1)..];
            return (await KubePods.RelatedObjectsAsync(target, ns, kind, name, ct), For);
        }
        // A bare name: a deployment of that name (with its ReplicaSets and pods), else any object so named.
        try
        {
            return (await KubePods.RelatedObjectsAsync(target, ns, "Deployment", For, ct), "deployment/" + For);
        }
        catch (OpsToolsException e) when (e.ErrorId == "KubeObjectNotFound")
        {
            return (new[] { "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob", "Service", "Node",
                "PersistentVolumeClaim", "HorizontalPodAutoscaler", "ConfigMap", "Secret" }.Select(k => (k, For)).ToList(), For);
        }
    }

    /// <summary>kubectl's short and plural names to the Kind events carry (po, pods -> Pod; deploy -> Deployment ...).</summary>
    private static string KindName(string s) => s.ToLowerInvariant() switch
    {
        "po" or "pod" or "pods" => "Pod",
        "deploy" or "deployment" or "deployments" or "deployment.apps" => "Deployment",
        "rs" or "replicaset" or "replicasets" => "ReplicaSet",
        "sts" or "statefulset" or "statefulsets" => "StatefulSet",
        "ds" or "daemonset" or "daemonsets" => "DaemonSet",
        "no" or "node" or "nodes" => "Node",
        "svc" or "service" or "services" => "Service",
        "hpa" or "horizontalpodautoscaler" => "HorizontalPodAutoscaler",
        "pvc" or "persistentvolumeclaim" => "PersistentVolumeClaim",
        "job" or "jobs" => "Job",
        "cj" or "cronjob" or "cronjobs" => "CronJob",
        var other => char.ToUpperInvariant(other[0]) + other[1..],
    };
}
