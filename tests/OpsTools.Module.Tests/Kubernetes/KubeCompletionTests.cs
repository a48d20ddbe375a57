using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>Tab completion of contexts, namespaces and deployment names, using the parameters already typed.</summary>
[Collection("Kubernetes")]
public sealed class KubeCompletionTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;
    private readonly ModuleSession _s = new();

    public KubeCompletionTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("complete");
    }

    public void Dispose()
    {
        _s.Dispose();
        _k.DeleteNamespace(_ns);
    }

    private List<string> Complete(string line) =>
        _s.Invoke($"(TabExpansion2 -inputScript '{line.Replace("'", "''")}' -cursorColumn {line.Length}).CompletionMatches | ForEach-Object CompletionText")
          .Select(o => o.BaseObject.ToString()!).ToList();

    [Fact]
    public void Context_namespace_and_name_complete_from_the_kubeconfig_and_the_cluster()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("api", 1));
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("admin", 1));
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("web", 1));
        var kc = _k.KubeconfigPath;
        Assert.Equal(new[] { _k.Context }, Complete($"Get-Deployment -Kubeconfig {kc} -Context "));
        Assert.Equal(new[] { _ns }, Complete($"Get-Deployment -Kubeconfig {kc} -Namespace {_ns[..^2]}"));
        Assert.Equal(new[] { "admin", "api" }, Complete($"Set-ReplicaCount -Kubeconfig {kc} -Namespace {_ns} -Name a"));
        Assert.Equal(new[] { "admin", "api", "web" }, Complete($"Restart-Deployment -Kubeconfig {kc} -Namespace {_ns} -Name "));
        // An unreachable cluster offers nothing and does not hang the console or throw.
        var dead = Path.Combine(_k.WorkDirectory, "dead.kubeconfig");
        File.WriteAllText(dead, _k.Kubeconfig("dead", $"token: {_k.AdminToken}", server: $"https://127.0.0.1:{HealthServer.FreePort()}"));
        Assert.Empty(Complete($"Get-Deployment -Kubeconfig {dead} -Namespace "));
    }
}
