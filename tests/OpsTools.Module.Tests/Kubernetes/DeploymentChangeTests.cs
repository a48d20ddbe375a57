using System.Management.Automation;
using System.Text.Json.Nodes;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>
/// Set-DeploymentImage, Set-DeploymentResource, Set-DeploymentEnv, Set-DeploymentAnnotation, Suspend-/Resume-Rollout
/// against the test API server: changes land in the real deployment, start rollouts that complete, bad input changes nothing.
/// </summary>
[Collection("Kubernetes")]
public sealed class DeploymentChangeTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;

    public DeploymentChangeTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("change");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private string Setup => _k.PowerShellSetup(_ns) + "; ";

    private JsonNode Create(string name, int replicas = 1, bool wait = true, bool sidecar = false)
    {
        var d = KubeCluster.NewDeployment(name, replicas);
        if (sidecar)
        {
            var containers = d["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
            var second = JsonNode.Parse(containers[0]!.ToJsonString())!;
            second["name"] = "sidecar";
            containers.Add(second);
        }
        _k.CreateDeployment(_ns, d);
        if (wait) _k.WaitForDeployment(_ns, name);
        return _k.GetDeployment(_ns, name);
    }

    private JsonNode Container(string name, int index = 0) => _k.GetDeployment(_ns, name)["spec"]!["template"]!["spec"]!["containers"]![index]!;
    private long Generation(string name) => (long)_k.GetDeployment(_ns, name)["metadata"]!["generation"]!;
    private int ReplicaSetCount(string name) =>
        _k.Api.Get($"/apis/apps/v1/namespaces/{_ns}/replicasets?labelSelector=app%3D{name}")["items"]!.AsArray().Count;

    private static IEnumerable<PSObject> Changes(PSObject result) =>
        ((System.Collections.IEnumerable)P(result, "Changes")!).Cast<object>().Select(PSObject.AsPSObject);

    [Fact]
    public void Image_change_from_the_pipeline_lands_in_the_deployment_and_its_rollout_completes()
    {
        Create("web", 2);
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Get-Deployment @Kube web | Set-DeploymentImage -Image busybox:1.35 -Wait");
        Assert.Empty(r.Errors);
        var result = Assert.Single(r.Output);
        Assert.Equal("OpsTools.Kubernetes.WorkloadChangeResult", result.BaseObject.GetType().FullName);
        Assert.True((bool)P(result, "Changed")!);
        var change = Assert.Single(Changes(result));
        Assert.Equal("web", P(change, "Container"));
        Assert.Equal(KubeCluster.TestImage, P(change, "Before"));
        Assert.Equal("busybox:1.35", P(change, "After"));
        Assert.Equal("Complete", P(result, "RolloutState")!.ToString());
        Assert.Equal("busybox:1.35", (string)Container("web")["image"]!);
        var status = _k.GetDeployment(_ns, "web")["status"]!;
        Assert.Equal(2, (int)status["updatedReplicas"]!);
        Assert.Equal(2, (int)status["availableReplicas"]!);
        Assert.Contains(r.Progress, p => p.Activity.Contains("deployment/web"));

        s.Host.ClearText();
        Assert.Empty(s.Run("$r = Get-Deployment @Kube web | Set-DeploymentImage -Image busybox:1.35; $r | Out-Default").Errors);
        Assert.Contains("no change", s.Host.Text);
        Assert.Contains("deployment/web", s.Host.Text);

        // Same image again: nothing to write, no new revision.
        var again = s.Run(Setup + "Set-DeploymentImage @Kube web busybox:1.35");
        Assert.False((bool)P(Assert.Single(again.Output), "Changed")!);
        Assert.Equal(2, ReplicaSetCount("web"));
    }

    [Fact]
    public void A_change_whose_rollout_does_not_finish_in_time_returns_the_result_and_a_KubeRolloutTimedOut_error()
    {
        if (_k.External) return; // needs pods that never become ready: the fake kubelet stops reporting
        Create("slow", 1);
        _k.Kubelet!.Paused = true;
        try
        {
            using var s = new ModuleSession();
            var r = s.Run(Setup + "Set-DeploymentImage @Kube slow busybox:1.35 -Wait -TimeoutSec 3; \"ok=$?\"");
            var result = Assert.Single(r.Output, o => o.BaseObject.GetType().Name == "WorkloadChangeResult");
            Assert.Equal("TimedOut", RunResult.Prop(PSObject.AsPSObject(P(result, "Rollout")!), "State")!.ToString());
            var e = Assert.Single(r.Errors);
            Assert.StartsWith("KubeRolloutTimedOut,", e.FullyQualifiedErrorId);
            Assert.Contains("'slow'", e.Exception.Message);
            Assert.Equal("ok=False", r.Output.Last().BaseObject);
            Assert.Equal("busybox:1.35", (string?)Container("slow")["image"]); // the change itself stays made
        }
        finally { _k.Kubelet!.Paused = false; }
    }

    [Fact]
    public void Unknown_or_ambiguous_container_is_an_error_listing_the_containers_and_changes_nothing()
    {
        Create("duo", sidecar: true);
        var generation = Generation("duo");
        using var s = new ModuleSession();
        var ambiguous = s.Run(Setup + "Set-DeploymentImage @Kube duo busybox:1.35");
        var e = Assert.Single(ambiguous.Errors);
        Assert.Equal("KubeContainerAmbiguous,OpsTools.Commands.Kubernetes.SetDeploymentImageCommand", e.FullyQualifiedErrorId);
        Assert.Contains("duo, sidecar", e.Exception.Message);

        var unknown = s.Run(Setup + "Set-DeploymentImage @Kube duo -Image @{ web = 'busybox:1.35' }; Set-DeploymentResource @Kube duo -Container nope -MemoryLimit 1Gi; Set-DeploymentEnv @Kube duo -Container nope -Env @{ A = 1 }");
        Assert.Equal(3, unknown.Errors.Count);
        Assert.All(unknown.Errors, x => Assert.StartsWith("KubeContainerNotFound,", x.FullyQualifiedErrorId));
        Assert.Contains("no container 'web'", unknown.Errors[0].Exception.Message);
        Assert.Contains("duo, sidecar", unknown.Errors[0].Exception.Message);
        Assert.Equal(generation, Generation("duo"));

        // Naming the container works; the other keeps its image. oc's container=image form too.
        var ok = s.Run(Setup + "Set-DeploymentImage @Kube duo busybox:1.35 -Container sidecar");
        Assert.Empty(ok.Errors);
        Assert.Equal(KubeCluster.TestImage, (string)Container("duo", 0)["image"]!);
        Assert.Equal("busybox:1.35", (string)Container("duo", 1)["image"]!);
        var ocStyle = s.Run(Setup + "Set-DeploymentImage @Kube duo 'duo=busybox:1.34', 'sidecar=busybox:1.34'");
        Assert.Empty(ocStyle.Errors);
        Assert.Equal(2, Changes(Assert.Single(ocStyle.Output)).Count());
        Assert.Equal("busybox:1.34", (string)Container("duo", 0)["image"]!);
        Assert.Equal("busybox:1.34", (string)Container("duo", 1)["image"]!);
    }

    [Fact]
    public void Resources_change_lands_in_the_deployment_and_rolls_out_and_an_invalid_quantity_changes_nothing()
    {
        Create("mem");
        using var s = new ModuleSession();
        var bad = s.Run(Setup + "Set-DeploymentResource @Kube mem -MemoryLimit 400MB -CpuLimit 500m");
        Assert.Empty(bad.Output);
        var error = Assert.Single(bad.Errors);
        Assert.StartsWith("KubeInvalidQuantity", error.FullyQualifiedErrorId);
        Assert.Contains("400M or 400Mi", error.Exception.Message);
        Assert.Contains("-MemoryLimit", error.Exception.Message);
        Assert.Equal("64Mi", (string)Container("mem")["resources"]!["limits"]!["memory"]!);
        Assert.Equal(1, ReplicaSetCount("mem"));

        var r = s.Run(Setup + "Set-DeploymentResource @Kube mem -MemoryLimit 400Mi -CpuLimit 500m -MemoryRequest 400M -Wait");
        Assert.Empty(r.Errors);
        var result = Assert.Single(r.Output);
        var changes = Changes(result).ToDictionary(c => (string)P(c, "Item")!);
        Assert.Equal("64Mi", P(changes["limits.memory"], "Before"));
        Assert.Equal("400Mi", P(changes["limits.memory"], "After"));
        Assert.Equal("100m", P(changes["limits.cpu"], "Before"));
        Assert.Equal("500m", P(changes["limits.cpu"], "After"));
        Assert.Equal("16Mi", P(changes["requests.memory"], "Before"));
        Assert.Equal("Complete", P(result, "RolloutState")!.ToString());
        var resources = Container("mem")["resources"]!;
        Assert.Equal("400Mi", (string)resources["limits"]!["memory"]!);
        Assert.Equal("500m", (string)resources["limits"]!["cpu"]!);
        Assert.Equal("400M", (string)resources["requests"]!["memory"]!);
        Assert.Equal(2, ReplicaSetCount("mem"));
    }

    [Fact]
    public void Env_change_lands_in_the_deployment_and_secret_looking_values_never_appear_in_output_verbose_or_WhatIf()
    {
        Create("envy");
        const string secret = "hunter2-Sup3rSecret-value";
        using var s = new ModuleSession();
        var whatIf = s.Run(Setup + $"Set-DeploymentEnv @Kube envy -Env @{{ DB_PASSWORD = '{secret}'; DB_POOL_MIN = 10 }} -WhatIf -Verbose");
        Assert.Empty(whatIf.Errors);
        Assert.Contains("DB_POOL_MIN", s.Host.Text);
        Assert.DoesNotContain(secret, s.Host.Text);
        Assert.Null(Container("envy")["env"]);

        var r = s.Run(Setup + $"Set-DeploymentEnv @Kube envy -Env @{{ DB_PASSWORD = '{secret}'; DB_POOL_MIN = 10; DB_POOL_MAX = 30 }} -Wait -Verbose");
        Assert.Empty(r.Errors);
        var result = Assert.Single(r.Output);
        var changes = Changes(result).ToDictionary(c => (string)P(c, "Item")!);
        Assert.Equal("***", P(changes["env DB_PASSWORD"], "After"));
        Assert.Equal("10", P(changes["env DB_POOL_MIN"], "After"));
        Assert.Equal("Complete", P(result, "RolloutState")!.ToString());
        var everything = string.Join("\n", r.Verbose) + string.Join("\n", r.Warnings) + s.Host.Text + result.ToString()
            + string.Join("\n", Changes(result).Select(c => c.ToString())) + string.Join("\n", result.Properties.Select(p => p.Value?.ToString()))
            + string.Join("\n", ((System.Collections.IDictionary)P(result, "Annotations")!).Values.Cast<object>());
        Assert.DoesNotContain(secret, everything);
        Assert.Contains(r.Verbose, v => v.Contains("DB_PASSWORD ") && v.Contains("***"));
        // The change cause recorded in the cluster does not hold it either.
        Assert.DoesNotContain(secret, _k.GetDeployment(_ns, "envy")["metadata"]!["annotations"]!.ToJsonString());
        var env = Container("envy")["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => (string?)e!["value"]);
        Assert.Equal(secret, env["DB_PASSWORD"]);
        Assert.Equal("10", env["DB_POOL_MIN"]);
        Assert.Equal("30", env["DB_POOL_MAX"]);

        var removed = s.Run(Setup + "Set-DeploymentEnv @Kube envy -Remove DB_PASSWORD, NOT_THERE -Verbose");
        Assert.Empty(removed.Errors);
        var gone = Assert.Single(Changes(Assert.Single(removed.Output)));
        Assert.Equal("***", P(gone, "Before"));
        Assert.Null(P(gone, "After"));
        Assert.DoesNotContain(Container("envy")["env"]!.AsArray(), e => (string)e!["name"]! == "DB_PASSWORD");
        Assert.DoesNotContain(secret, string.Join("\n", removed.Verbose));
    }

    [Fact]
    public void WhatIf_changes_nothing_for_image_resources_and_annotations()
    {
        Create("preview");
        var generation = Generation("preview");
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Set-DeploymentImage @Kube preview busybox:1.35 -WhatIf; Set-DeploymentResource @Kube preview -MemoryLimit 1Gi -WhatIf; " +
                      "Set-DeploymentAnnotation @Kube preview -Annotation @{ 'ops.example.com/maintenance' = 'true' } -Template -WhatIf; Suspend-Rollout @Kube preview -WhatIf");
        Assert.Empty(r.Errors);
        Assert.Equal(4, r.Output.Count);
        Assert.All(r.Output, o => Assert.False((bool)P(o, "Changed")!));
        Assert.Contains("busybox:1.35", s.Host.Text);
        Assert.Contains("replaces the pods", s.Host.Text);
        Assert.Equal(generation, Generation("preview"));
        Assert.Equal(KubeCluster.TestImage, (string)Container("preview")["image"]!);
        Assert.Null(_k.GetDeployment(_ns, "preview")["spec"]!["paused"]);
    }

    [Fact]
    public void Suspend_holds_an_image_change_and_resume_rolls_it_out()
    {
        Create("hold", 2);
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Suspend-Rollout @Kube hold; Set-DeploymentImage @Kube hold busybox:1.35 -Wait");
        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Output.Count);
        Assert.Equal("Paused", P(r.Output[1], "RolloutState")!.ToString());
        Assert.True((bool?)_k.GetDeployment(_ns, "hold")["spec"]!["paused"]);
        // The controller sees the change but does not roll it out: no new ReplicaSet, no updated replica.
        KubeCluster.WaitFor(() =>
        {
            var d = _k.GetDeployment(_ns, "hold");
            return (long)d["status"]!["observedGeneration"]! >= (long)d["metadata"]!["generation"]!;
        }, TimeSpan.FromSeconds(30), "the paused change to be observed");
        Thread.Sleep(1500);
        Assert.Equal(0, (int?)_k.GetDeployment(_ns, "hold")["status"]!["updatedReplicas"] ?? 0);
        Assert.Equal(1, ReplicaSetCount("hold"));

        var resumed = s.Run(Setup + "Get-Deployment @Kube hold | Resume-Rollout -Wait");
        Assert.Empty(resumed.Errors);
        var result = Assert.Single(resumed.Output);
        Assert.Equal("Complete", P(result, "RolloutState")!.ToString());
        var status = _k.GetDeployment(_ns, "hold")["status"]!;
        Assert.Equal(2, (int)status["updatedReplicas"]!);
        Assert.Null(_k.GetDeployment(_ns, "hold")["spec"]!["paused"]);
        Assert.Equal(2, ReplicaSetCount("hold"));
    }

    [Fact]
    public void Annotations_and_labels_are_set_and_removed_without_restarting_pods_unless_on_the_template()
    {
        Create("maint");
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Set-DeploymentAnnotation @Kube maint -Annotation @{ 'ops.example.com/maintenance' = 'true'; 'ops.example.com/reason' = 'DB migration, ticket 42' } -Label @{ maintenance = 'on' }");
        Assert.Empty(r.Errors);
        var result = Assert.Single(r.Output);
        Assert.False((bool)P(result, "RestartsPods")!);
        Assert.Equal("true", ((System.Collections.IDictionary)P(result, "Annotations")!)["ops.example.com/maintenance"]);
        var meta = _k.GetDeployment(_ns, "maint")["metadata"]!;
        Assert.Equal("DB migration, ticket 42", (string?)meta["annotations"]!["ops.example.com/reason"]);
        Assert.Equal("on", (string?)meta["labels"]!["maintenance"]);
        Assert.Equal(1, ReplicaSetCount("maint"));

        var removed = s.Run(Setup + "Set-DeploymentAnnotation @Kube maint -Remove ops.example.com/maintenance, maintenance -Annotation @{ 'ops.example.com/reason' = $null }");
        Assert.Empty(removed.Errors);
        Assert.Equal(3, Changes(Assert.Single(removed.Output)).Count());
        meta = _k.GetDeployment(_ns, "maint")["metadata"]!;
        Assert.Null(meta["annotations"]?["ops.example.com/maintenance"]);
        Assert.Null(meta["annotations"]?["ops.example.com/reason"]);
        Assert.Null(meta["labels"]!["maintenance"]);
        Assert.Equal("maint", (string?)meta["labels"]!["app"]);

        var template = s.Run(Setup + "Set-DeploymentAnnotation @Kube maint -Annotation @{ 'ops.example.com/maintenance' = 'true' } -Template -Wait");
        Assert.Empty(template.Errors);
        Assert.True((bool)P(Assert.Single(template.Output), "RestartsPods")!);
        Assert.Equal("true", (string?)_k.GetDeployment(_ns, "maint")["spec"]!["template"]!["metadata"]!["annotations"]!["ops.example.com/maintenance"]);
        Assert.Equal(2, ReplicaSetCount("maint"));

        var selector = s.Run(Setup + "Set-DeploymentAnnotation @Kube maint -Label @{ app = 'other' } -Template");
        Assert.Equal("KubeSelectorLabel,OpsTools.Commands.Kubernetes.SetDeploymentAnnotationCommand", Assert.Single(selector.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void A_viewer_may_read_history_but_changing_is_KubeForbidden_and_changes_nothing()
    {
        if (_k.External) return; // the viewer token exists only on the test API server
        Create("guarded");
        var path = Path.Combine(_k.WorkDirectory, $"viewer-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, _k.Kubeconfig("viewer", $"token: {_k.ViewerToken}", _ns));
        using var s = new ModuleSession();
        var read = s.Run($"Get-RolloutHistory -Kubeconfig '{path}' guarded");
        Assert.Empty(read.Errors);
        Assert.Single(read.Output);

        var r = s.Run($"Set-DeploymentImage -Kubeconfig '{path}' guarded busybox:1.35; Suspend-Rollout -Kubeconfig '{path}' guarded");
        Assert.Equal(2, r.Errors.Count);
        Assert.StartsWith("KubeForbidden,", r.Errors[0].FullyQualifiedErrorId);
        Assert.StartsWith("KubeForbidden,", r.Errors[1].FullyQualifiedErrorId);
        Assert.Contains("'viewer'", r.Errors[0].Exception.Message);
        Assert.Contains(_ns, r.Errors[0].Exception.Message);
        Assert.DoesNotContain(_k.ViewerToken, string.Join("\n", r.Errors.Select(e => e.Exception.Message)));
        Assert.Equal(KubeCluster.TestImage, (string)Container("guarded")["image"]!);
    }

    [Fact]
    public void StatefulSets_have_history_from_controller_revisions_and_cannot_be_paused()
    {
        var sts = new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "StatefulSet",
            ["metadata"] = new JsonObject { ["name"] = "db" },
            ["spec"] = new JsonObject
            {
                ["serviceName"] = "db", ["replicas"] = 1,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "db" } },
                ["template"] = System.Text.Json.JsonSerializer.SerializeToNode(KubeCluster.PodTemplate(new Dictionary<string, string> { ["app"] = "db" }, PodBehaviour.Ready, KubeCluster.TestImage, "db"), KubeApi.Json),
            },
        };
        _k.Api.Post($"/apis/apps/v1/namespaces/{_ns}/statefulsets", sts);
        using var s = new ModuleSession();
        var r0 = s.Run(Setup + "Set-DeploymentImage @Kube db busybox:1.35 -Kind StatefulSet -Wait");
        Assert.Empty(r0.Errors);
        Assert.Equal("busybox:1.35", (string)_k.Api.Get($"/apis/apps/v1/namespaces/{_ns}/statefulsets/db")["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!);
        var h = s.Run(Setup + "Get-Deployment @Kube db -Kind StatefulSet | Get-RolloutHistory");
        Assert.Empty(h.Errors);
        Assert.Equal(new long[] { 1, 2 }, h.Output.Select(o => (long)P(o, "Revision")!));
        Assert.Equal("busybox:1.35", Assert.Single((IEnumerable<string>)P(h.Output[1], "Images")!));
        Assert.True((bool)P(h.Output[1], "IsCurrent")!);
        var paused = s.Run(Setup + "Suspend-Rollout @Kube db -Kind StatefulSet; Undo-Rollout @Kube db -Kind StatefulSet -Force");
        Assert.Equal(2, paused.Errors.Count);
        Assert.All(paused.Errors, e => Assert.StartsWith("KubeNotSupported,", e.FullyQualifiedErrorId));
        Assert.Contains("partition", paused.Errors[0].Exception.Message);
    }

    [Fact]
    public void A_concurrent_change_between_read_and_write_409_is_retried_and_both_changes_are_kept()
    {
        Create("race");
        using var s = new ModuleSession();
        var writes = 0;
        // While the -Confirm prompt is shown, another client changes the deployment: our write then carries a
        // stale resourceVersion and the API server answers 409 Conflict.
        s.Host.OnPrompt = _ =>
        {
            writes++;
            _k.Api.Patch($"/apis/apps/v1/namespaces/{_ns}/deployments/race", new { metadata = new { labels = new Dictionary<string, string> { ["team"] = "payments" } } });
        };
        s.Host.ChoiceAnswer = 0; // Yes
        var r = s.Run(Setup + "Set-DeploymentImage @Kube race busybox:1.35 -Confirm -Verbose");
        Assert.Empty(r.Errors);
        Assert.Equal(1, writes); // asked once, not again on the retry
        Assert.True((bool)P(Assert.Single(r.Output), "Changed")!);
        Assert.Contains(r.Verbose, v => v.Contains("409 Conflict") && v.Contains("attempt 2"));
        var d = _k.GetDeployment(_ns, "race");
        Assert.Equal("busybox:1.35", (string)d["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!);
        Assert.Equal("payments", (string?)d["metadata"]!["labels"]!["team"]);
    }

    [Fact]
    public void A_missing_deployment_is_an_error_naming_it()
    {
        using var s = new ModuleSession();
        var r = s.Run(Setup + "Set-DeploymentImage @Kube nope busybox:1.35; Get-RolloutHistory @Kube nope");
        Assert.Equal(2, r.Errors.Count);
        Assert.All(r.Errors, e => Assert.StartsWith("KubeObjectNotFound,", e.FullyQualifiedErrorId));
        Assert.Contains("'nope'", r.Errors[0].Exception.Message);
    }
}
