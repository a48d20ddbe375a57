using System.Management.Automation;
using System.Text.Json.Nodes;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>
/// Get-Autoscaler / Set-Autoscaler against the test API server with its real HPA controller. The API version is the one
/// the server serves: autoscaling/v1 on the 1.20 test server, autoscaling/v2 on a newer OPSTOOLS_TEST_KUBECONFIG cluster
/// (the expectations follow discovery, so the same tests run the v2 path there).
/// </summary>
[Collection("Kubernetes")]
public sealed class AutoscalerTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;
    private readonly bool _servesV2;

    public AutoscalerTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("hpa");
        _servesV2 = _k.Api.Get("/apis/autoscaling")["versions"]!.AsArray().Any(v => (string?)v!["groupVersion"] == "autoscaling/v2");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    private void CreateHpa(string name, string deployment, int min, int max, int cpu) =>
        _k.Api.Post($"/apis/autoscaling/v1/namespaces/{_ns}/horizontalpodautoscalers", new
        {
            metadata = new { name },
            spec = new
            {
                scaleTargetRef = new { apiVersion = "apps/v1", kind = "Deployment", name = deployment },
                minReplicas = min, maxReplicas = max, targetCPUUtilizationPercentage = cpu,
            },
        });

    private JsonNode Hpa(string name) => _k.Api.Get($"/apis/autoscaling/v1/namespaces/{_ns}/horizontalpodautoscalers/{name}");

    [Fact]
    public void Get_Autoscaler_shows_reference_min_max_replicas_targets_and_conditions_through_the_served_version()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("web", 1));
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("api", 1));
        CreateHpa("web-hpa", "web", 1, 4, 70);
        CreateHpa("api-hpa", "api", 1, 3, 80);
        // The HPA controller (sync period 1 s) reports its conditions.
        KubeCluster.WaitFor(() => Hpa("web-hpa")["metadata"]?["annotations"]?["autoscaling.alpha.kubernetes.io/conditions"] is not null,
            TimeSpan.FromSeconds(30), "the HPA controller to report conditions");

        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-Autoscaler @Kube; Get-Autoscaler @Kube -Deployment web -Verbose");
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "api-hpa", "web-hpa", "web-hpa" }, r.Output.Select(o => (string)P(o, "Name")!));
        var web = r.Output[1];
        Assert.Equal("OpsTools.Kubernetes.AutoscalerInfo", web.BaseObject.GetType().FullName);
        Assert.Equal(_servesV2 ? "autoscaling/v2" : "autoscaling/v1", P(web, "ApiVersion"));
        Assert.Contains(r.Verbose, v => v.Contains(_servesV2 ? "autoscaling/v2" : "autoscaling/v1"));
        Assert.Equal("Deployment/web", P(web, "Reference"));
        Assert.Equal(1, P(web, "MinReplicas"));
        Assert.Equal(4, P(web, "MaxReplicas"));
        Assert.Equal(70, P(web, "TargetCpu"));
        Assert.EndsWith("/70%", (string)P(web, "Targets")!);
        Assert.Equal(_ns, P(web, "Namespace"));
        var conditions = ((System.Collections.IEnumerable)P(web, "Conditions")!).Cast<object>().Select(c => PSObject.AsPSObject(c)).ToList();
        Assert.Contains(conditions, c => (string)P(c, "Type")! == "AbleToScale");
        if (!_k.External)
        {
            // No metrics server on the test cluster: the controller says it cannot read CPU.
            Assert.Equal("<unknown>/70%", P(web, "Targets"));
            var active = Assert.Single(conditions, c => (string)P(c, "Type")! == "ScalingActive");
            Assert.Equal("False", P(active, "Status"));
            Assert.Equal("FailedGetResourceMetric", P(active, "Reason"));
        }
    }

    [Fact]
    public void An_autoscaler_that_does_not_exist_is_an_error_naming_it_for_Get_and_Set()
    {
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-Autoscaler @Kube -Name nope-hpa; Set-Autoscaler @Kube -Name nope-hpa -MaxReplicas 3");
        Assert.Empty(r.Output);
        Assert.Equal(2, r.Errors.Count);
        Assert.All(r.Errors, e =>
        {
            Assert.StartsWith("KubeObjectNotFound,", e.FullyQualifiedErrorId);
            Assert.Contains("'nope-hpa'", e.Exception.Message);
            Assert.Contains(_ns, e.Exception.Message);
        });
    }

    [Fact]
    public void Raising_MinReplicas_to_3_makes_the_autoscaler_scale_the_deployment_to_3_as_the_runbook_uses_it()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("backend", 1));
        CreateHpa("backend-hpa", "backend", 1, 5, 80);
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Set-Autoscaler @Kube -Name backend-hpa -MinReplicas 3");
        Assert.Empty(r.Errors);
        var result = Assert.Single(r.Output);
        Assert.Equal(new[] { "minReplicas 1 -> 3" }, (IEnumerable<string>)P(result, "Changes")!);
        Assert.Equal(1, P(PSObject.AsPSObject(P(result, "Before")!), "MinReplicas"));
        Assert.Equal(3, P(PSObject.AsPSObject(P(result, "After")!), "MinReplicas"));
        Assert.Equal(3, (int)Hpa("backend-hpa")["spec"]!["minReplicas"]!);
        // The real HPA controller enforces the new minimum on the deployment.
        KubeCluster.WaitFor(() => (int?)_k.GetDeployment(_ns, "backend")["spec"]!["replicas"] == 3, TimeSpan.FromSeconds(30), "the HPA to scale backend to 3");
        _k.WaitForDeployment(_ns, "backend");
    }

    [Fact]
    public void Max_replicas_and_cpu_target_change_from_the_pipeline_and_WhatIf_changes_nothing()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("odor", 1));
        CreateHpa("odor-hpa", "odor", 1, 4, 80);
        using var s = new ModuleSession();
        var whatIf = s.Run(_k.PowerShellSetup(_ns) + "; Set-Autoscaler @Kube odor-hpa -MaxReplicas 8 -WhatIf");
        Assert.Empty(whatIf.Errors);
        Assert.Empty(whatIf.Output);
        Assert.Contains("maxReplicas 4 -> 8", s.Host.Text);
        Assert.Equal(4, (int)Hpa("odor-hpa")["spec"]!["maxReplicas"]!);

        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-Autoscaler @Kube -Name odor-hpa | Set-Autoscaler -MaxReplicas 8 -TargetCpu 60");
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "maxReplicas 4 -> 8", "cpu target 80% -> 60%" }, (IEnumerable<string>)P(Assert.Single(r.Output), "Changes")!);
        var spec = Hpa("odor-hpa")["spec"]!;
        Assert.Equal(8, (int)spec["maxReplicas"]!);
        Assert.Equal(60, (int)spec["targetCPUUtilizationPercentage"]!);

        var again = s.Run(_k.PowerShellSetup(_ns) + "; Set-Autoscaler @Kube odor-hpa -MaxReplicas 8");
        Assert.Empty(again.Errors);
        Assert.Empty((IEnumerable<string>)P(Assert.Single(again.Output), "Changes")!);
    }

    [Fact]
    public void Min_above_max_is_refused_before_any_API_call_and_min_above_the_current_max_before_any_change()
    {
        // A kubeconfig whose server does not answer: an error other than KubeUnreachable proves no call was made.
        var dead = Path.Combine(_k.WorkDirectory, $"dead-{_ns}.kubeconfig");
        File.WriteAllText(dead, """
            apiVersion: v1
            kind: Config
            clusters:
            - name: dead
              cluster:
                server: https://127.0.0.1:1
                insecure-skip-tls-verify: true
            users:
            - name: dead
              user:
                token: nothing
            contexts:
            - name: dead
              context: {cluster: dead, user: dead, namespace: shop}
            current-context: dead
            """);
        using var s = new ModuleSession();
        var r = s.Run($"Set-Autoscaler -Kubeconfig '{dead}' -Name web-hpa -MinReplicas 5 -MaxReplicas 2");
        var e = r.Terminating is ActionPreferenceStopException or null ? Assert.Single(r.Errors) : ((IContainsErrorRecord)r.Terminating).ErrorRecord;
        Assert.StartsWith("AutoscalerRangeInvalid,", e.FullyQualifiedErrorId);
        Assert.Contains("greater than -MaxReplicas 2", e.Exception.Message);

        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("small", 1));
        CreateHpa("small-hpa", "small", 1, 4, 80);
        var r2 = s.Run(_k.PowerShellSetup(_ns) + "; Set-Autoscaler @Kube small-hpa -MinReplicas 6");
        Assert.Empty(r2.Output);
        Assert.Equal("AutoscalerRangeInvalid,OpsTools.Commands.Kubernetes.SetAutoscalerCommand", Assert.Single(r2.Errors).FullyQualifiedErrorId);
        Assert.Equal(1, (int)Hpa("small-hpa")["spec"]!["minReplicas"]!);
    }

    [Fact]
    public void A_memory_target_needs_autoscaling_v2_and_says_so_where_the_server_serves_only_v1()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("mem", 1));
        CreateHpa("mem-hpa", "mem", 1, 4, 80);
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Set-Autoscaler @Kube mem-hpa -TargetMemory 75");
        if (_servesV2)
        {
            Assert.Empty(r.Errors);
            var metrics = _k.Api.Get($"/apis/autoscaling/v2/namespaces/{_ns}/horizontalpodautoscalers/mem-hpa")["spec"]!["metrics"]!.AsArray();
            Assert.Contains(metrics, m => (string?)m!["resource"]?["name"] == "memory" && (int?)m["resource"]!["target"]!["averageUtilization"] == 75);
        }
        else
        {
            Assert.Empty(r.Output);
            var e = Assert.Single(r.Errors);
            Assert.Equal("AutoscalerNeedsV2,OpsTools.Commands.Kubernetes.SetAutoscalerCommand", e.FullyQualifiedErrorId);
            Assert.Contains("autoscaling/v1", e.Exception.Message);
            Assert.Contains("only a CPU utilization target", e.Exception.Message);
            Assert.Null(Hpa("mem-hpa")["metadata"]!["annotations"]?["autoscaling.alpha.kubernetes.io/metrics"]);
        }
    }

    [Fact]
    public void A_viewer_may_read_autoscalers_but_changing_one_is_a_forbidden_error()
    {
        if (_k.External) return; // the viewer token exists on the test server only
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("ro", 1));
        CreateHpa("ro-hpa", "ro", 1, 4, 80);
        var kubeconfig = Path.Combine(_k.WorkDirectory, $"viewer-hpa-{_ns}.kubeconfig");
        File.WriteAllText(kubeconfig, _k.Kubeconfig("viewer", $"token: {_k.ViewerToken}", _ns));
        using var s = new ModuleSession();
        var r = s.Run($"Get-Autoscaler -Kubeconfig '{kubeconfig}'; Set-Autoscaler -Kubeconfig '{kubeconfig}' ro-hpa -MinReplicas 2");
        Assert.Equal("ro-hpa", P(Assert.Single(r.Output), "Name"));
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeForbidden,OpsTools.Commands.Kubernetes.SetAutoscalerCommand", e.FullyQualifiedErrorId);
        Assert.Contains(_ns, e.Exception.Message);
        Assert.Equal(1, (int)Hpa("ro-hpa")["spec"]!["minReplicas"]!);
    }
}
