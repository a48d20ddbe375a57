using System.Management.Automation;
using OpsTools.Module.Tests.Kubernetes;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Checklists;

/// <summary>The daily check's cluster items against the test API server: a crash-looping deployment is reported and fails -FailOn Critical.</summary>
[Collection("Kubernetes")]
public sealed class DailyCheckKubernetesTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-dailyk8s-").FullName;

    public DailyCheckKubernetesTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("daily");
    }

    public void Dispose()
    {
        _k.DeleteNamespace(_ns);
        Directory.Delete(_dir, recursive: true);
    }

    private static string S(PSObject o, string p) => o.Properties[p]?.Value?.ToString() ?? "";

    private string Env(string? kubeconfig = null, string deployments = "")
    {
        var path = Path.Combine(_dir, $"k8s-{Guid.NewGuid():N}.ops.psd1");
        File.WriteAllText(path, $$"""
            @{
                Name       = 'k8sdaily'
                Kubernetes = @{ Kubeconfig = '{{kubeconfig ?? _k.KubeconfigPath}}'; Context = '{{_k.Context}}'; Namespace = '{{_ns}}'{{(deployments.Length > 0 ? $"; Deployments = @({deployments})" : "")}} }
            }
            """);
        return path;
    }

    [Fact]
    public void A_crash_looping_deployment_is_reported_and_fails_the_check_on_critical()
    {
        PodTestSupport.CreateAndWait(_k, _ns, "web", PodBehaviour.Ready, replicas: 2);
        PodTestSupport.CreateAndWait(_k, _ns, "worker", PodBehaviour.CrashLoop);
        using var s = new ModuleSession();
        var env = Env();
        var r = s.Run($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory");
        Assert.Empty(r.Errors);
        Assert.All(r.Output, o => Assert.Equal("k8sdaily", S(o, "Environment")));

        var web = Assert.Single(r.Output, o => S(o, "Check") == "DeploymentAvailability" && S(o, "Target") == "deployment/web");
        Assert.Equal("Healthy", S(web, "Status"));
        var worker = Assert.Single(r.Output, o => S(o, "Check") == "DeploymentAvailability" && S(o, "Target") == "deployment/worker");
        Assert.Equal("Critical", S(worker, "Status"));
        Assert.Contains("no available replica", S(worker, "Message"));

        var pod = Assert.Single(r.Output, o => S(o, "Check") == "PodHealth");
        Assert.Equal("Critical", S(pod, "Status"));
        Assert.StartsWith($"{_ns}/worker-", S(pod, "Target"));
        Assert.Contains("crash-looping", S(pod, "Message"));

        var events = Assert.Single(r.Output, o => S(o, "Check") == "ClusterWarningEvents");
        Assert.Equal("Warning", S(events, "Status"));
        Assert.Contains("BackOff", S(events, "Message"));

        r = s.Run($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory -FailOn Critical");
        var failed = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
        Assert.Equal("DailyCheckFailed", failed.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("critical", failed.Exception.Message);
        Assert.Contains(r.Output, o => S(o, "Check") == "PodHealth" && S(o, "Status") == "Critical"); // the results still come first

        // Restricted to the healthy deployment listed in the environment: all healthy, the check passes.
        r = s.Run($"Invoke-DailyCheck -Environment '{Env(deployments: "'web'")}' -Skip Disk, Memory -FailOn Critical");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "DeploymentAvailability", "PodHealth", "ClusterWarningEvents" }, r.Output.Select(o => S(o, "Check")));
        Assert.All(r.Output, o => Assert.Equal("Healthy", S(o, "Status")));
    }

    [Fact]
    public void An_unreachable_cluster_is_one_unknown_result_never_a_silent_pass()
    {
        if (_k.External) return; // writes a kubeconfig for the test server's CA
        var kubeconfig = Path.Combine(_dir, "down.kubeconfig");
        File.WriteAllText(kubeconfig, _k.Kubeconfig(_k.Context, $"token: {_k.AdminToken}", _ns, server: $"https://127.0.0.1:{HealthServer.FreePort()}"));
        using var s = new ModuleSession();
        var r = s.Run($"Invoke-DailyCheck -Environment '{Env(kubeconfig)}' -Skip Disk, Memory -FailOn Warning");
        var result = Assert.Single(r.Output);
        Assert.Equal(("Kubernetes", "Unknown"), (S(result, "Check"), S(result, "Status")));
        Assert.Contains("cannot be reached", S(result, "Message"));
        var failed = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
        Assert.Contains("1 unknown", failed.Exception.Message);
    }
}
