using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>Get-Deployment against the test API server: objects match what the API says, errors name what is missing.</summary>
[Collection("Kubernetes")]
public sealed class GetDeploymentTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;

    public GetDeploymentTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("getdeploy");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    [Fact]
    public void Lists_deployments_with_replicas_images_revision_and_rollout_state()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("api", 2));
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("worker", 1, PodBehaviour.NeverReady));
        _k.WaitForDeployment(_ns, "api");
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-Deployment @Kube");
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "api", "worker" }, r.Output.Select(o => (string)P(o, "Name")!));
        var api = r.Output[0];
        Assert.Equal("OpsTools.Kubernetes.DeploymentInfo", api.BaseObject.GetType().FullName);
        Assert.Equal(2, P(api, "DesiredReplicas"));
        Assert.Equal(2, P(api, "AvailableReplicas"));
        Assert.Equal("2/2", P(api, "Ready"));
        Assert.Equal("Complete", P(api, "RolloutState")!.ToString());
        Assert.Equal("1", P(api, "Revision"));
        Assert.Equal(KubeCluster.TestImage, Assert.Single((IEnumerable<string>)P(api, "Images")!));
        Assert.Equal(_ns, P(api, "Namespace"));
        Assert.Equal(_k.Context, P(api, "Context"));
        var worker = r.Output[1];
        Assert.Equal("Progressing", P(worker, "RolloutState")!.ToString());
        Assert.Equal(0, P(worker, "AvailableReplicas"));
    }

    [Fact]
    public void A_deployment_that_does_not_exist_is_an_error_naming_it_and_the_namespace()
    {
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-Deployment @Kube -Name nope");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeObjectNotFound,OpsTools.Commands.Kubernetes.GetDeploymentCommand", e.FullyQualifiedErrorId);
        Assert.Contains("'nope'", e.Exception.Message);
        Assert.Contains(_ns, e.Exception.Message);
    }
}
