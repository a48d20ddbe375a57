using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>Get-ClusterEvent against the test API server: sorted by time, warnings and -Since filters, events of one object or of a deployment's whole tree.</summary>
[Collection("Kubernetes")]
public sealed class GetClusterEventTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;

    public GetClusterEventTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("events");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static IReadOnlyList<EventView> Events(RunResult r) => r.Output.Select(o => new EventView(o)).ToList();

    [Fact]
    public void Warnings_of_a_pod_come_sorted_by_time_and_since_drops_older_ones()
    {
        if (_k.External) return; // writes events as the kubelet would: only meaningful with the fake kubelet
        var pod = PodTestSupport.CreateAndWait(_k, _ns, "web", PodBehaviour.Ready)[0]!;
        var name = PodTestSupport.Name(pod);
        var now = DateTime.UtcNow;
        // Written out of order: the command sorts them.
        _k.Kubelet!.Event(pod, "Warning", "Unhealthy", "Readiness probe failed: 503 (10 min ago)", "kubelet", last: now.AddMinutes(-10));
        _k.Kubelet.Event(pod, "Warning", "BackOff", "Back-off restarting failed container (30 min ago)", "kubelet", count: 4, last: now.AddMinutes(-30));
        _k.Kubelet.Event(pod, "Normal", "Pulled", "Container image already present (20 min ago)", "kubelet", last: now.AddMinutes(-20));
        _k.Kubelet.Event(pod, "Warning", "Unhealthy", "Liveness probe failed (2 min ago)", "kubelet", last: now.AddMinutes(-2));

        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-ClusterEvent @Kube -For pod/{name} -Warning");
        Assert.Empty(r.Errors);
        var events = Events(r);
        Assert.Equal(new[] { "(30 min ago)", "(10 min ago)", "(2 min ago)" }, events.Select(e => e.Message[e.Message.IndexOf('(')..]));
        Assert.All(events, e => Assert.Equal("Warning", e.Type));
        Assert.All(events, e => Assert.Equal($"pod/{name}", e.Object));
        Assert.Equal(4, events[0].Count);
        Assert.Equal("kubelet, opstools-node", events[0].Source);
        Assert.True(events[0].Time < events[1].Time && events[1].Time < events[2].Time);

        // Without -Warning the Normal ones come too, still in time order.
        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-ClusterEvent @Kube -For pod/{name}");
        events = Events(r);
        Assert.Contains(events, e => e.Reason == "Pulled");
        Assert.Equal(events.OrderBy(e => e.Time).Select(e => e.Message), events.Select(e => e.Message));

        // -Since takes a duration (or a DateTime).
        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-ClusterEvent @Kube -For pod/{name} -Warning -Since 15m");
        Assert.Equal(new[] { "(10 min ago)", "(2 min ago)" }, Events(r).Select(e => e.Message[e.Message.IndexOf('(')..]));
        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-ClusterEvent @Kube -For pod/{name} -Warning -Since ([DateTime]::UtcNow.AddMinutes(-5))");
        Assert.Equal("Liveness probe failed (2 min ago)", Assert.Single(Events(r)).Message);
    }

    [Fact]
    public void A_deployment_brings_the_events_of_its_replicasets_and_pods_and_no_one_elses()
    {
        PodTestSupport.CreateAndWait(_k, _ns, "crashy", PodBehaviour.CrashLoop);
        PodTestSupport.CreateAndWait(_k, _ns, "other", PodBehaviour.NeverReady);
        using var s = new ModuleSession();
        // Events of the deployment controller (deployment), the ReplicaSet controller (replicaset) and the kubelet (pod) arrive
        // at their own pace: wait for all three kinds.
        IReadOnlyList<EventView> events = Array.Empty<EventView>();
        KubeCluster.WaitFor(() =>
        {
            events = Events(s.Run(_k.PowerShellSetup(_ns) + "; Get-Deployment @Kube -Name crashy | Get-ClusterEvent"));
            return new[] { "Deployment", "ReplicaSet", "Pod" }.All(kind => events.Any(e => e.ObjectKind == kind));
        }, TimeSpan.FromSeconds(30), "events of the deployment, its ReplicaSet and its pod");
        Assert.All(events, e => Assert.StartsWith("crashy", e.ObjectName));
        Assert.Contains(events, e => e.Reason == "ScalingReplicaSet" && e.Object == "deployment/crashy");
        Assert.Contains(events, e => e.Reason == "BackOff" && e.ObjectKind == "Pod");
        Assert.Equal(events.OrderBy(e => e.Time).Select(e => e.Object + e.Reason + e.Message), events.Select(e => e.Object + e.Reason + e.Message));

        // -Warning with a bare deployment name: only the crash-loop's warnings, not the other deployment's.
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-ClusterEvent @Kube -For crashy -Warning");
        Assert.Empty(r.Errors);
        Assert.NotEmpty(r.Output);
        Assert.All(Events(r), e => { Assert.Equal("Warning", e.Type); Assert.StartsWith("crashy-", e.ObjectName); });

        // Every warning of the namespace: both deployments' pods.
        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-ClusterEvent @Kube -Warning");
        Assert.Contains(Events(r), e => e.ObjectName.StartsWith("other-") && e.Reason == "Unhealthy");
        Assert.Contains(Events(r), e => e.ObjectName.StartsWith("crashy-") && e.Reason == "BackOff");

        // Pod health objects pipe in too.
        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Problem -Deployment other | Get-ClusterEvent -Warning");
        Assert.NotEmpty(r.Output);
        Assert.All(Events(r), e => Assert.StartsWith("other-", e.ObjectName));
    }

    [Fact]
    public void All_namespaces_includes_other_namespaces_and_each_event_names_its_namespace()
    {
        var second = _k.CreateNamespace("events2");
        try
        {
            PodTestSupport.CreateAndWait(_k, _ns, "one", PodBehaviour.ImagePullError);
            PodTestSupport.CreateAndWait(_k, second, "two", PodBehaviour.ImagePullError);
            using var s = new ModuleSession();
            var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-ClusterEvent @Kube -AllNamespaces -Warning");
            Assert.Empty(r.Errors);
            var events = Events(r);
            Assert.Contains(events, e => e.Namespace == _ns && e.ObjectName.StartsWith("one-"));
            Assert.Contains(events, e => e.Namespace == second && e.ObjectName.StartsWith("two-"));
            r = s.Run(_k.PowerShellSetup(_ns) + "; Get-ClusterEvent @Kube -Warning");
            Assert.DoesNotContain(Events(r), e => e.Namespace == second);
        }
        finally { _k.DeleteNamespace(second); }
    }
}
