using System.Text.Json;
using k8s.Models;
using OpsTools.Engine.Kubernetes;

namespace OpsTools.Engine.Tests.Kubernetes;

/// <summary>Pure rules of the rollout commands: quantity grammar, template edits and diffs, kubectl's undo choices.</summary>
public class KubeRolloutEditTests
{
    [Theory]
    [InlineData("400Mi")]
    [InlineData("400M")]
    [InlineData("1Gi")]
    [InlineData("512Ki")]
    [InlineData("1.5Gi")]
    [InlineData("500m")]
    [InlineData("0.5")]
    [InlineData("2")]
    [InlineData(".5")]
    [InlineData("1.")]
    [InlineData("1e3")]
    [InlineData("1E6")]
    [InlineData("128k")]
    [InlineData("+1")]
    public void Valid_quantities_pass_unchanged(string q)
    {
        Assert.True(KubeQuantity.IsQuantity(q));
        Assert.Equal(q, KubeQuantity.Validate(q, "cpu", "CpuLimit"));
    }

    [Theory]
    [InlineData("400MB", "memory", "400M or 400Mi")]
    [InlineData("400mb", "memory", "400M or 400Mi")]
    [InlineData("1GB", "memory", "1G or 1Gi")]
    [InlineData("2gi", "memory", "2Gi")]
    [InlineData("256MiB", "memory", "256Mi")]
    [InlineData("400 Mi", "memory", "400Mi")]
    [InlineData("1K", "memory", "1k or 1Ki")]
    [InlineData("2 cores", "cpu", "say 2")]
    [InlineData("abc", "cpu", "millicores (500m)")]
    [InlineData("", "memory", "empty")]
    [InlineData("400m", "memory", "400Mi")]
    [InlineData("-1", "cpu", "negative")]
    [InlineData("1Mi2", "memory", "not a Kubernetes quantity")]
    public void Invalid_quantities_say_what_was_meant(string q, string resource, string hint)
    {
        var e = Assert.Throws<OpsToolsException>(() => KubeQuantity.Validate(q, resource, "MemoryLimit"));
        Assert.Equal("KubeInvalidQuantity", e.ErrorId);
        Assert.Equal(OpsErrorKind.InvalidArgument, e.Kind);
        Assert.Contains(hint, e.Message);
        Assert.Contains("-MemoryLimit", e.Message);
        Assert.Contains("Nothing was changed", e.Message);
    }

    [Fact]
    public void Request_above_limit_is_refused_and_equal_amounts_in_other_spellings_are_the_same()
    {
        Assert.Throws<OpsToolsException>(() => KubeQuantity.CheckRequestWithinLimit("1Gi", "512Mi", "memory"));
        KubeQuantity.CheckRequestWithinLimit("500m", "0.5", "cpu");
        Assert.True(KubeQuantity.SameAmount("500m", "0.5"));
        Assert.True(KubeQuantity.SameAmount("1Gi", "1024Mi"));
        Assert.False(KubeQuantity.SameAmount("1G", "1Gi"));
    }

    private static V1Deployment Deployment(params (string Name, string Image)[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop", Annotations = new Dictionary<string, string> { [KubeRollout.RevisionAnnotation] = "3" } },
        Spec = new V1DeploymentSpec
        {
            Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } },
            Template = new V1PodTemplateSpec
            {
                Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "web" } },
                Spec = new V1PodSpec
                {
                    Containers = containers.Select(c => new V1Container
                    {
                        Name = c.Name, Image = c.Image,
                        Resources = new V1ResourceRequirements { Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("64Mi") } },
                        Env = new List<V1EnvVar>
                        {
                            new() { Name = "API_TOKEN", Value = "t0ken-value" },
                            new() { Name = "DB_URL", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = "db", Key = "url" } } },
                        },
                    }).ToList(),
                },
            },
        },
    };

    [Fact]
    public void Container_selection_defaults_to_the_only_container_and_lists_them_when_ambiguous_or_unknown()
    {
        Assert.Equal("web", Assert.Single(KubeWorkloadEdit.SelectContainers(Deployment(("web", "a:1")), null, "-Container")).Name);
        var two = Deployment(("web", "a:1"), ("proxy", "envoy:1"));
        var ambiguous = Assert.Throws<OpsToolsException>(() => KubeWorkloadEdit.SelectContainers(two, null, "-Container"));
        Assert.Equal("KubeContainerAmbiguous", ambiguous.ErrorId);
        Assert.Contains("web, proxy", ambiguous.Message);
        var unknown = Assert.Throws<OpsToolsException>(() => KubeWorkloadEdit.SelectContainers(two, new[] { "db" }, "-Container"));
        Assert.Equal("KubeContainerNotFound", unknown.ErrorId);
        Assert.Contains("no container 'db'", unknown.Message);
        Assert.Equal(2, KubeWorkloadEdit.SelectContainers(two, new[] { "*" }, "-Container").Count);
    }

    [Fact]
    public void Image_and_resource_edits_report_before_and_after_and_skip_what_is_already_so()
    {
        var d = Deployment(("web", "a:1"), ("proxy", "envoy:1"));
        var changes = KubeWorkloadEdit.SetImages(d, new Dictionary<string, string> { ["web"] = "a:2", ["proxy"] = "envoy:1" });
        var c = Assert.Single(changes);
        Assert.Equal(("web", "image", "a:1", "a:2"), (c.Container, c.Item, c.Before, c.After));
        Assert.Equal("a:2", d.Spec.Template.Spec.Containers[0].Image);

        var r = KubeWorkloadEdit.SetResources(d, new[] { "web" }, new Dictionary<string, string> { ["limits.memory"] = "400Mi", ["requests.cpu"] = "250m" });
        Assert.Equal(2, r.Count);
        Assert.Equal("64Mi", r.Single(x => x.Item == "limits.memory").Before);
        Assert.Null(r.Single(x => x.Item == "requests.cpu").Before);
        Assert.Equal("400Mi", d.Spec.Template.Spec.Containers[0].Resources.Limits["memory"].ToString());
        Assert.Equal("64Mi", d.Spec.Template.Spec.Containers[1].Resources.Limits["memory"].ToString());
        Assert.Empty(KubeWorkloadEdit.SetResources(d, new[] { "web" }, new Dictionary<string, string> { ["limits.memory"] = "400Mi", ["requests.cpu"] = "0.25" }));
    }

    [Fact]
    public void Env_edits_redact_secret_looking_values_and_describe_references()
    {
        var d = Deployment(("web", "a:1"));
        var changes = KubeWorkloadEdit.SetEnv(d, null, new Dictionary<string, string> { ["API_TOKEN"] = "new-t0ken", ["DB_URL"] = "postgres://x", ["POOL"] = "10", ["PLAIN"] = "s3cret-from-securestring" },
            new[] { "MISSING" }, alwaysRedact: new[] { "PLAIN" });
        var byName = changes.ToDictionary(c => c.Item);
        Assert.Equal(("***", "***"), (byName["env API_TOKEN"].Before, byName["env API_TOKEN"].After));
        Assert.Equal("(from secret db key url)", byName["env DB_URL"].Before);
        Assert.Equal("postgres://x", byName["env DB_URL"].After);
        Assert.Equal((null, "10"), (byName["env POOL"].Before, byName["env POOL"].After));
        Assert.Equal("***", byName["env PLAIN"].After);
        Assert.Equal(4, changes.Count);
        var env = d.Spec.Template.Spec.Containers[0].Env;
        Assert.Equal("new-t0ken", env.Single(e => e.Name == "API_TOKEN").Value);
        Assert.Null(env.Single(e => e.Name == "DB_URL").ValueFrom);
        Assert.DoesNotContain("t0ken", string.Join(" ", changes.Select(x => x.ToString())));

        var removed = Assert.Single(KubeWorkloadEdit.SetEnv(d, null, new Dictionary<string, string>(), new[] { "API_TOKEN" }));
        Assert.Equal(("***", (string?)null), (removed.Before, removed.After));
        Assert.DoesNotContain(d.Spec.Template.Spec.Containers[0].Env, e => e.Name == "API_TOKEN");
    }

    [Fact]
    public void Metadata_edits_set_and_remove_and_protect_selector_labels_on_the_template()
    {
        var d = Deployment(("web", "a:1"));
        var changes = KubeWorkloadEdit.SetMetadata(d, new Dictionary<string, string?> { ["ops/maintenance"] = "true", ["gone"] = null },
            new Dictionary<string, string?> { ["tier"] = "api" }, Array.Empty<string>(), onTemplate: false);
        Assert.Equal(2, changes.Count);
        Assert.Equal("true", d.Metadata.Annotations["ops/maintenance"]);
        Assert.Equal("api", d.Metadata.Labels["tier"]);
        var removed = KubeWorkloadEdit.SetMetadata(d, new Dictionary<string, string?>(), new Dictionary<string, string?>(), new[] { "ops/maintenance", "tier", "never-set" }, false);
        Assert.Equal(new[] { "annotation ops/maintenance", "label tier" }, removed.Select(c => c.Item));
        Assert.Null(d.Metadata.Labels);

        var t = KubeWorkloadEdit.SetMetadata(d, new Dictionary<string, string?> { ["ops/maintenance"] = "true" }, new Dictionary<string, string?>(), Array.Empty<string>(), onTemplate: true);
        Assert.Equal("template annotation ops/maintenance", Assert.Single(t).Item);
        var e = Assert.Throws<OpsToolsException>(() => KubeWorkloadEdit.SetMetadata(d, new Dictionary<string, string?>(), new Dictionary<string, string?>(), new[] { "app" }, true));
        Assert.Equal("KubeSelectorLabel", e.ErrorId);
    }

    [Fact]
    public void Paused_is_a_deployment_field_only()
    {
        var d = Deployment(("web", "a:1"));
        Assert.Equal("true", Assert.Single(KubeWorkloadEdit.SetPaused(d, true)).After);
        Assert.Empty(KubeWorkloadEdit.SetPaused(d, true));
        Assert.Equal("false", Assert.Single(KubeWorkloadEdit.SetPaused(d, false)).After);
        Assert.Null(d.Spec.Paused);
        var sts = new V1StatefulSet { Metadata = new V1ObjectMeta { Name = "db" }, Spec = new V1StatefulSetSpec() };
        Assert.Equal("KubeNotSupported", Assert.Throws<OpsToolsException>(() => KubeWorkloadEdit.SetPaused(sts, true)).ErrorId);
    }

    private static KubeRolloutHistory.Entry Rev(long n, bool current = false) =>
        new(new OpsTools.Kubernetes.RolloutRevision { Revision = n, IsCurrent = current }, null);

    [Fact]
    public void Undo_picks_the_previous_revision_or_the_named_one_and_lists_revisions_when_missing()
    {
        var history = new[] { Rev(1), Rev(4), Rev(5, current: true) };
        Assert.Equal(4, KubeRolloutHistory.PickUndoTarget(history, 0, "deployment 'web'").Revision.Revision);
        Assert.Equal(1, KubeRolloutHistory.PickUndoTarget(history, 1, "deployment 'web'").Revision.Revision);
        var e = Assert.Throws<OpsToolsException>(() => KubeRolloutHistory.PickUndoTarget(history, 3, "deployment 'web'"));
        Assert.Equal("KubeRevisionNotFound", e.ErrorId);
        Assert.Contains("1, 4, 5 (current)", e.Message);
        Assert.Contains("no previous revision", Assert.Throws<OpsToolsException>(() => KubeRolloutHistory.PickUndoTarget(new[] { Rev(1, true) }, 0, "x")).Message);
    }

    [Fact]
    public void Undo_copies_the_template_without_the_hash_label_and_the_revisions_annotations_like_kubectl()
    {
        var d = Deployment(("web", "a:3"));
        d.Metadata.Annotations["kubernetes.io/change-cause"] = "set image a:3";
        d.Metadata.Annotations["team"] = "payments";
        var old = Deployment(("web", "a:2")).Spec.Template;
        old.Metadata.Labels["pod-template-hash"] = "5d8f7c";
        var rs = new V1ReplicaSet
        {
            Metadata = new V1ObjectMeta { Name = "web-5d8f7c", Annotations = new Dictionary<string, string> { [KubeRollout.RevisionAnnotation] = "2", ["kubernetes.io/change-cause"] = "set image a:2", ["deployment.kubernetes.io/desired-replicas"] = "1" } },
            Spec = new V1ReplicaSetSpec { Template = old },
        };
        Assert.False(KubeWorkloadEdit.SameTemplate(d.Spec.Template, rs.Spec.Template));
        var changes = KubeRolloutHistory.ApplyUndo(d, rs);
        var c = Assert.Single(changes);
        Assert.Equal(("a:3", "a:2"), (c.Before, c.After));
        Assert.Equal("a:2", d.Spec.Template.Spec.Containers[0].Image);
        Assert.False(d.Spec.Template.Metadata.Labels.ContainsKey("pod-template-hash"));
        Assert.Equal("set image a:2", d.Metadata.Annotations["kubernetes.io/change-cause"]);
        Assert.Equal("3", d.Metadata.Annotations[KubeRollout.RevisionAnnotation]); // bookkeeping stays the deployment's
        Assert.False(d.Metadata.Annotations.ContainsKey("team")); // kubectl replaces the annotations with the revision's
        Assert.False(d.Metadata.Annotations.ContainsKey("deployment.kubernetes.io/desired-replicas"));
        Assert.True(KubeWorkloadEdit.SameTemplate(d.Spec.Template, rs.Spec.Template));
    }

    [Fact]
    public void StatefulSet_revision_data_gives_containers_and_images()
    {
        var data = JsonDocument.Parse("""{"spec":{"template":{"$patch":"replace","spec":{"containers":[{"name":"db","image":"postgres:16"},{"name":"exporter","image":"pg-exporter:1"}]}}}}""").RootElement;
        var (names, images) = KubeRolloutHistory.ContainersOf(data);
        Assert.Equal(new[] { "db", "exporter" }, names);
        Assert.Equal(new[] { "postgres:16", "pg-exporter:1" }, images);
        Assert.Empty(KubeRolloutHistory.ContainersOf(JsonDocument.Parse("{}").RootElement).Images);
        Assert.Empty(KubeRolloutHistory.ContainersOf(null).Images);
    }
}
