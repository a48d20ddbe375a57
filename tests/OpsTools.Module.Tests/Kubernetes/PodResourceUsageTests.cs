using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>
/// Get-PodResourceUsage where the metrics API IS served: a cluster of its own (registering a metrics API changes the
/// whole cluster) whose real aggregator proxies metrics.k8s.io to a fake metrics-server.
/// </summary>
[Collection("Kubernetes")]
public sealed class PodResourceUsageTests
{
    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    [Fact]
    public void Pod_metrics_through_the_aggregator_come_with_requests_limits_and_percent_of_limit()
    {
        if (Environment.GetEnvironmentVariable("OPSTOOLS_TEST_KUBECONFIG") is { Length: > 0 }) return; // needs an API server of its own
        using var k = KubeCluster.Start();
        using var metrics = FakeMetricsServer.Start(k);
        var ns = k.CreateNamespace("top");
        var pods = PodTestSupport.CreateAndWait(k, ns, "api", PodBehaviour.Ready, replicas: 2).Select(p => PodTestSupport.Name(p!)).OrderBy(n => n).ToArray();
        // Limits of the test pods: cpu 100m, memory 64Mi; requests 10m, 16Mi.
        metrics.SetPod(ns, pods[0], ("api", "50m", "48Mi"));
        metrics.SetPod(ns, pods[1], ("api", "25000000n", "16Mi"));
        metrics.SetPod(ns, "someone-else", ("x", "1", "1Gi"));

        using var s = new ModuleSession();
        var r = s.Run(k.PowerShellSetup(ns) + "; Get-PodResourceUsage @Kube -Selector app=api");
        Assert.Empty(r.Errors);
        Assert.Equal(pods, r.Output.Select(o => (string)P(o, "Name")!));
        var first = r.Output[0];
        Assert.Equal(50.0, (double)P(first, "CpuMillicores")!, 3);
        Assert.Equal(48L * 1024 * 1024, P(first, "MemoryBytes"));
        Assert.Equal(100.0, (double)P(first, "CpuLimitMillicores")!, 3);
        Assert.Equal(64L * 1024 * 1024, P(first, "MemoryLimitBytes"));
        Assert.Equal(10.0, (double)P(first, "CpuRequestMillicores")!, 3);
        Assert.Equal(50.0, P(first, "CpuPercentOfLimit"));
        Assert.Equal(75.0, P(first, "MemoryPercentOfLimit"));
        Assert.Equal(25.0, (double)P(r.Output[1], "CpuMillicores")!, 3);
        Assert.Contains(metrics.Requests, p => p.StartsWith($"/apis/metrics.k8s.io/v1beta1/namespaces/{ns}/pods"));

        // From Get-Deployment, and by name.
        r = s.Run(k.PowerShellSetup(ns) + $"; Get-Deployment @Kube -Name api | Get-PodResourceUsage");
        Assert.Equal(2, r.Output.Count);
        r = s.Run(k.PowerShellSetup(ns) + $"; Get-PodResourceUsage @Kube -Name {pods[1]}");
        Assert.Equal(pods[1], P(Assert.Single(r.Output), "Name"));

        // metrics-server goes down, its APIService stays: still one clear error, not an "API server overloaded".
        metrics.Dispose();
        r = s.Run(k.PowerShellSetup(ns) + "; Get-PodResourceUsage @Kube");
        Assert.Empty(r.Output);
        var error = r.Terminating is RuntimeException rt ? rt.ErrorRecord : Assert.Single(r.Errors);
        Assert.Equal("KubeMetricsNotServed,OpsTools.Commands.Kubernetes.GetPodResourceUsageCommand", error.FullyQualifiedErrorId);
        Assert.Contains("metrics.k8s.io", error.Exception.Message);
        Assert.Contains("metrics-server", error.Exception.Message);
    }
}
