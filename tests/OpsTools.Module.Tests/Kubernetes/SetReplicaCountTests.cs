using System.Diagnostics;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>
/// Set-ReplicaCount, Wait-Rollout and Restart-Deployment against the test API server: the pipelines an admin
/// types, checked against the real objects through the API.
/// </summary>
[Collection("Kubernetes")]
public sealed class SetReplicaCountTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;

    public SetReplicaCountTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("scale");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private int SpecReplicas(string name) => (int)_k.GetDeployment(_ns, name)["spec"]!["replicas"]!;
    private string Setup => _k.PowerShellSetup(_ns) + "; ";

    [Fact]
    public void Scales_by_name_and_returns_the_count_before_and_after()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("web", 1));
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Set-ReplicaCount @Kube web 3");
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        Assert.Equal("OpsTools.ScaleResult", o.BaseObject.GetType().FullName);
        Assert.Equal("Kubernetes", P(o, "Platform"));
        Assert.Equal("web", P(o, "Name"));
        Assert.Equal("Deployment", P(o, "Kind"));
        Assert.Equal(_ns, P(o, "Namespace"));
        Assert.Equal(_k.Context, P(o, "Context"));
        Assert.Equal(1, P(o, "PreviousReplicas"));
        Assert.Equal(3, P(o, "DesiredReplicas"));
        Assert.Equal(true, P(o, "Changed"));
        Assert.Null(P(o, "Rollout"));
        Assert.Equal(3, SpecReplicas("web"));
    }

    [Fact]
    public void Get_Deployment_piped_into_Set_ReplicaCount_scales_each_one_and_wait_reports_complete_rollouts()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("api", 1));
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("worker", 1));
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("other", 1));
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Get-Deployment @Kube | Where-Object Name -ne 'other' | Set-ReplicaCount -Replicas 2 -Wait -TimeoutSec 60");
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "api", "worker" }, r.Output.Select(o => (string)P(o, "Name")!));
        foreach (var o in r.Output)
        {
            Assert.Equal(1, P(o, "PreviousReplicas"));
            Assert.Equal("Complete", P(o, "State"));
            Assert.Equal(2, P(o, "AvailableReplicas"));
            var rollout = PSObject.AsPSObject(o.Properties["Rollout"].Value);
            Assert.Equal("Complete", P(rollout, "State")!.ToString());
        }
        Assert.Equal(2, SpecReplicas("api"));
        Assert.Equal(2, SpecReplicas("worker"));
        Assert.Equal(1, SpecReplicas("other"));
        Assert.Equal(2, _k.ListPods(_ns, "app=api").Count);
        Assert.Contains(r.Progress, p => p.Activity.Contains("2 rollouts"));
    }

    [Fact]
    public void Emergency_scale_to_zero_wait_and_back_is_one_pipeline_of_its_own_results()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("app", 2));
        _k.WaitForDeployment(_ns, "app");
        using var s = new ModuleSession();
        var r = s.Run(Setup + """
            $before = Set-ReplicaCount @Kube app 0 -Force -Wait -TimeoutSec 60
            $pods = @(Get-Deployment @Kube app).AvailableReplicas
            $after = $before | Set-ReplicaCount -Replicas $before.PreviousReplicas -Wait -TimeoutSec 60
            $before; $pods; $after
            """);
        Assert.Empty(r.Errors);
        Assert.Equal(3, r.Output.Count);
        var (before, podsAtZero, after) = (r.Output[0], r.Output[1], r.Output[2]);
        Assert.Equal(2, P(before, "PreviousReplicas"));
        Assert.Equal(0, P(before, "DesiredReplicas"));
        Assert.Equal("Complete", P(before, "State"));
        Assert.Equal(0, podsAtZero.BaseObject);
        Assert.Equal(0, P(after, "PreviousReplicas"));
        Assert.Equal(2, P(after, "DesiredReplicas"));
        Assert.Equal("Complete", P(after, "State"));
        Assert.Equal(2, P(after, "AvailableReplicas"));
        Assert.Equal(2, SpecReplicas("app"));
    }

    [Fact]
    public void Piping_the_results_back_without_a_count_restores_each_deployment_to_its_own_previous_count()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("front", 2));
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("back", 3));
        using var s = new ModuleSession();
        var r = s.Run(Setup + """
            $before = Get-Deployment @Kube | Set-ReplicaCount -Replicas 0 -Force -Wait -TimeoutSec 60
            $before | Set-ReplicaCount -Wait -TimeoutSec 60
            """);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "back", "front" }, r.Output.Select(o => (string)P(o, "Name")!));
        Assert.Equal(new[] { 3, 2 }, r.Output.Select(o => (int)P(o, "DesiredReplicas")!));
        Assert.All(r.Output, o => Assert.Equal(0, P(o, "PreviousReplicas")));
        Assert.All(r.Output, o => Assert.Equal("Complete", P(o, "State")));
        Assert.Equal(2, SpecReplicas("front"));
        Assert.Equal(3, SpecReplicas("back"));
    }

    [Fact]
    public void The_console_views_show_kubectls_columns_the_scale_and_the_rollout()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("shown", 1));
        _k.WaitForDeployment(_ns, "shown");
        using var s = new ModuleSession();
        s.Invoke(Setup + "Get-Deployment @Kube | Out-Default");
        var table = s.Host.Text;
        Assert.Matches(@"Name\s+Ready\s+UpToDate\s+Available\s+Rollout\s+Images", table);
        Assert.Matches(@"shown\s+1/1\s+1\s+1\s+Complete\s+" + System.Text.RegularExpressions.Regex.Escape(KubeCluster.TestImage), table);
        Assert.Contains($"context '{_k.Context}', namespace '{_ns}'", table);
        s.Host.ClearText();
        s.Invoke(Setup + "Set-ReplicaCount @Kube shown 2 -Wait -TimeoutSec 60 | Out-Default");
        Assert.Matches(@"shown\s+1 -> 2\s+2/2\s+Complete\s+deployment ""shown"" successfully rolled out", s.Host.Text);
        s.Host.ClearText();
        s.Invoke(Setup + "Wait-Rollout @Kube shown | Out-Default");
        Assert.Matches(@"shown\s+Complete\s+2/2\s+\d+\.\ds\s+deployment ""shown"" successfully rolled out", s.Host.Text);
    }

    [Fact]
    public void Scaling_to_zero_asks_first_and_declining_or_WhatIf_leaves_it_running()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("keep", 2));
        using var s = new ModuleSession();
        s.Host.ChoiceAnswer = 1; // No
        var declined = s.Run(Setup + "Set-ReplicaCount @Kube keep 0");
        Assert.Empty(declined.Output);
        Assert.Empty(declined.Errors);
        Assert.Contains(s.Host.Prompts, p => p.Contains("Scale to zero") && p.Contains("keep") && p.Contains(_ns));
        Assert.Equal(2, SpecReplicas("keep"));

        var whatIf = s.Run(Setup + "Set-ReplicaCount @Kube keep 0 -WhatIf");
        Assert.Empty(whatIf.Output);
        Assert.Contains("Scale from 2 to 0 replicas", s.Host.Text);
        Assert.Equal(2, SpecReplicas("keep"));

        s.Host.ChoiceAnswer = 0; // Yes
        var confirmed = s.Run(Setup + "Set-ReplicaCount @Kube keep 0");
        Assert.Empty(confirmed.Errors);
        Assert.Equal(0, P(Assert.Single(confirmed.Output), "DesiredReplicas"));
        Assert.Equal(0, SpecReplicas("keep"));
    }

    [Fact]
    public void Scaling_up_never_asks_and_the_same_count_writes_nothing()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("same", 2));
        var rv = (string)_k.GetDeployment(_ns, "same")["metadata"]!["resourceVersion"]!;
        using var s = new ModuleSession();
        s.Host.ChoiceAnswer = 1;
        var r = s.Run(Setup + "Set-ReplicaCount @Kube same 2");
        Assert.Empty(r.Errors);
        Assert.Empty(s.Host.Prompts);
        var o = Assert.Single(r.Output);
        Assert.Equal(false, P(o, "Changed"));
        Assert.Equal("Unchanged", P(o, "State"));
        var d = _k.GetDeployment(_ns, "same");
        // The controller may update status meanwhile, but the spec was not written: generation is still 1.
        Assert.Equal(1, (long)d["metadata"]!["generation"]!);
        Assert.NotNull(rv);
    }

    [Fact]
    public void A_deployment_that_does_not_exist_is_an_error_naming_it_the_namespace_and_context()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("real", 1));
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Set-ReplicaCount @Kube nope, real 2");
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeObjectNotFound,OpsTools.Commands.Kubernetes.SetReplicaCountCommand", e.FullyQualifiedErrorId);
        Assert.Contains("'nope'", e.Exception.Message);
        Assert.Contains(_ns, e.Exception.Message);
        Assert.Contains(_k.Context, e.Exception.Message);
        Assert.Equal("real", P(Assert.Single(r.Output), "Name")); // the next one still ran
        Assert.Equal(2, SpecReplicas("real"));
    }

    [Fact]
    public void An_autoscaler_on_the_deployment_gives_a_warning_naming_it()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("auto", 1));
        _k.Api.Post($"/apis/autoscaling/v1/namespaces/{_ns}/horizontalpodautoscalers", new
        {
            metadata = new { name = "auto-hpa" },
            spec = new
            {
                scaleTargetRef = new { apiVersion = "apps/v1", kind = "Deployment", name = "auto" },
                minReplicas = 1, maxReplicas = 4, targetCPUUtilizationPercentage = 80,
            },
        });
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Set-ReplicaCount @Kube auto 3");
        Assert.Empty(r.Errors);
        var w = Assert.Single(r.Warnings);
        Assert.Contains("auto-hpa", w);
        Assert.Contains("minReplicas", w);
        Assert.Equal("auto-hpa", P(Assert.Single(r.Output), "Autoscaler"));
    }

    [Fact]
    public void Scales_a_StatefulSet_through_its_scale_subresource()
    {
        _k.Api.Post($"/apis/apps/v1/namespaces/{_ns}/statefulsets", new
        {
            metadata = new { name = "db" },
            spec = new
            {
                replicas = 1, serviceName = "db",
                selector = new { matchLabels = new Dictionary<string, string> { ["app"] = "db" } },
                template = KubeCluster.PodTemplate(new Dictionary<string, string> { ["app"] = "db" }, PodBehaviour.Ready, KubeCluster.TestImage, "db"),
            },
        });
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Get-Deployment @Kube -Kind StatefulSet | Set-ReplicaCount -Replicas 2 -Wait -TimeoutSec 60");
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        Assert.Equal("StatefulSet", P(o, "Kind"));
        Assert.Equal(1, P(o, "PreviousReplicas"));
        Assert.Equal("Complete", P(o, "State"));
        Assert.Equal(2, (int)_k.Api.Get($"/apis/apps/v1/namespaces/{_ns}/statefulsets/db")["spec"]!["replicas"]!);
    }

    [Fact]
    public void A_rollout_that_never_completes_comes_back_TimedOut_with_an_error_within_the_timeout()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("stuck", 1, PodBehaviour.NeverReady));
        using var s = new ModuleSession();
        var sw = Stopwatch.StartNew();
        var r = s.Run(Setup + "Set-ReplicaCount @Kube stuck 2 -Wait -TimeoutSec 4");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");
        var o = Assert.Single(r.Output);
        Assert.Equal("TimedOut", P(o, "State"));
        Assert.Equal(2, SpecReplicas("stuck"));
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeRolloutTimedOut,OpsTools.Commands.Kubernetes.SetReplicaCountCommand", e.FullyQualifiedErrorId);
        Assert.Contains("'stuck'", e.Exception.Message);
        Assert.Contains(_ns, e.Exception.Message);

        // In a script with -ErrorAction Stop, the timeout stops it (CI steps fail).
        var strict = s.Run(Setup + "Wait-Rollout @Kube stuck -TimeoutSec 2 -ErrorAction Stop; 'not reached'");
        Assert.NotNull(strict.Terminating);
        Assert.DoesNotContain(strict.Output, x => x.BaseObject is string);
    }

    [Fact]
    public void Progress_deadline_exceeded_is_a_failed_rollout()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("deadline", 1, PodBehaviour.NeverReady, progressDeadlineSeconds: 2));
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Wait-Rollout @Kube deadline -TimeoutSec 60");
        var o = Assert.Single(r.Output);
        Assert.Equal("OpsTools.Kubernetes.RolloutStatus", o.BaseObject.GetType().FullName);
        Assert.Equal("Failed", P(o, "State")!.ToString());
        Assert.Contains("progress deadline", (string)P(o, "Message")!);
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeRolloutFailed,OpsTools.Commands.Kubernetes.WaitRolloutCommand", e.FullyQualifiedErrorId);
    }

    [Fact]
    public void Wait_Rollout_from_the_pipeline_returns_complete_statuses()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("w1", 2));
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("w2", 1));
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Get-Deployment @Kube | Wait-Rollout -TimeoutSec 60");
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "w1", "w2" }, r.Output.Select(o => (string)P(o, "Name")!));
        Assert.All(r.Output, o => Assert.Equal("Complete", P(o, "State")!.ToString()));
        Assert.Equal(2, P(r.Output[0], "AvailableReplicas"));
    }

    [Fact]
    public void Restart_Deployment_replaces_every_pod_and_waits_for_the_new_ones()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("rs", 2));
        _k.WaitForDeployment(_ns, "rs");
        var oldPods = _k.ListPods(_ns, "app=rs").Select(p => (string)p!["metadata"]!["name"]!).ToHashSet();
        using var s = new ModuleSession();
        var whatIf = s.Run(Setup + "Restart-Deployment @Kube rs -WhatIf");
        Assert.Empty(whatIf.Output);
        Assert.Null(_k.GetDeployment(_ns, "rs")["spec"]!["template"]!["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"]);

        var r = s.Run(Setup + "Get-Deployment @Kube rs | Restart-Deployment -Wait -TimeoutSec 90");
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        Assert.Equal("Complete", P(o, "State")!.ToString());
        Assert.Equal("2", P(o, "Revision"));
        Assert.NotNull(_k.GetDeployment(_ns, "rs")["spec"]!["template"]!["metadata"]!["annotations"]!["kubectl.kubernetes.io/restartedAt"]);
        var running = _k.ListPods(_ns, "app=rs").Where(p => p!["metadata"]!["deletionTimestamp"] is null).Select(p => (string)p!["metadata"]!["name"]!).ToList();
        Assert.Equal(2, running.Count);
        Assert.DoesNotContain(running, oldPods.Contains);
    }

    [Fact]
    public void Ctrl_C_while_waiting_stops_promptly_and_leaves_the_scale_applied()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("slow", 1, PodBehaviour.NeverReady));
        using var s = new ModuleSession();
        using var cts = new CancellationTokenSource();
        var cancelledAt = Stopwatch.StartNew();
        var watcher = Task.Run(() =>
        {
            // Cancel once the command reports it is waiting for the rollout (at most 30 s).
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(30))
            {
                try { if (s.Host.ProgressRecords.ToList().Any(p => (p.StatusDescription ?? "").Contains("Waiting for deployment"))) break; }
                catch (InvalidOperationException) { } // the list grew while being copied
                Thread.Sleep(50);
            }
            cancelledAt.Restart();
            cts.Cancel();
        });
        var r = s.Run(Setup + "Set-ReplicaCount @Kube slow 3 -Wait -TimeoutSec 120", cts.Token);
        var stopTook = cancelledAt.Elapsed;
        watcher.Wait();
        Assert.True(stopTook < TimeSpan.FromSeconds(5), $"stopping took {stopTook}");
        Assert.True(r.Terminating is null or PipelineStoppedException, r.Terminating?.ToString());
        Assert.Empty(r.Output);
        Assert.Equal(3, SpecReplicas("slow"));
    }
}
