using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>The test cluster itself: real controllers turn a Deployment into ready pods, logs come through the API.</summary>
[Collection("Kubernetes")]
public sealed class KubeClusterTests(KubeClusterFixture fixture)
{
    [Fact]
    public void A_deployment_becomes_available_and_its_pods_logs_are_served_through_the_api()
    {
        var k = fixture.Cluster;
        var ns = k.CreateNamespace("smoke");
        try
        {
            k.CreateDeployment(ns, KubeCluster.NewDeployment("web", 2));
            k.WaitForDeployment(ns, "web");
            var pods = k.ListPods(ns, "app=web");
            Assert.Equal(2, pods.Count);
            Assert.All(pods, p => Assert.Equal("Running", (string?)p!["status"]!["phase"]));
            if (!k.External)
            {
                var pod = (string)pods[0]!["metadata"]!["name"]!;
                k.Kubelet!.AppendLog(ns, pod, "web", "hello from the fake kubelet");
                var log = k.Api.GetText($"/api/v1/namespaces/{ns}/pods/{pod}/log?container=web&tailLines=5");
                Assert.Contains("hello from the fake kubelet", log);
            }
        }
        finally { k.DeleteNamespace(ns); }
    }
}
