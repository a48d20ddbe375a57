using System.Text.Json;
using k8s;
using k8s.Models;
using OpsTools.Engine.Kubernetes;

namespace OpsTools.Engine.Tests.Kubernetes;

/// <summary>Rules of New-RandomSecret, Update-Secret and the autoscaler commands that need no cluster (the autoscaling/v2 path included).</summary>
public sealed class SecretAndAutoscalerRulesTests
{
    private static readonly KubeTarget Target = new(new k8s.Kubernetes(new KubernetesClientConfiguration { Host = "https://127.0.0.1:1" }),
        "unit", "shop", "https://127.0.0.1:1", "tester", "unit test");

    // ---- random secrets --------------------------------------------------------------------------

    [Theory]
    [InlineData(RandomSecretEncoding.Base64, 64, 88)]   // openssl rand -base64 64 (without its line breaks)
    [InlineData(RandomSecretEncoding.Base64, 32, 44)]
    [InlineData(RandomSecretEncoding.Hex, 32, 64)]      // openssl rand -hex 32
    [InlineData(RandomSecretEncoding.Base64Url, 32, 43)]
    [InlineData(RandomSecretEncoding.Alphanumeric, 40, 40)]
    public void Random_secrets_have_the_length_openssl_would_give(RandomSecretEncoding encoding, int length, int chars)
    {
        var s = new string(RandomSecret.Generate(length, encoding));
        Assert.Equal(chars, s.Length);
        switch (encoding)
        {
            case RandomSecretEncoding.Base64: Assert.Equal(length, Convert.FromBase64String(s).Length); break;
            case RandomSecretEncoding.Hex: Assert.Matches("^[0-9a-f]+$", s); break;
            case RandomSecretEncoding.Base64Url: Assert.Matches("^[A-Za-z0-9_-]+$", s); break;
            case RandomSecretEncoding.Alphanumeric: Assert.Matches("^[A-Za-z0-9]+$", s); break;
        }
    }

    [Fact]
    public void Random_secrets_differ_and_use_the_whole_alphabet()
    {
        var seen = new HashSet<string>();
        var chars = new HashSet<char>();
        for (var i = 0; i < 200; i++)
        {
            var s = new string(RandomSecret.Generate(32, RandomSecretEncoding.Alphanumeric));
            Assert.True(seen.Add(s));
            foreach (var c in s) chars.Add(c);
        }
        Assert.Equal(62, chars.Count); // 6400 draws over 62 symbols: every one appears unless the generator is broken
    }

    [Fact]
    public void A_random_secret_length_out_of_range_is_refused()
    {
        var e = Assert.Throws<OpsToolsException>(() => RandomSecret.Generate(0, RandomSecretEncoding.Base64));
        Assert.Equal("RandomSecretLengthInvalid", e.ErrorId);
    }

    // ---- who uses a secret -----------------------------------------------------------------------

    [Fact]
    public void A_secret_is_found_in_env_envFrom_volumes_projected_volumes_and_init_containers()
    {
        var spec = new V1PodSpec
        {
            InitContainers = new List<V1Container> { new() { Name = "migrate", EnvFrom = new List<V1EnvFromSource> { new() { SecretRef = new V1SecretEnvSource { Name = "db" } } } } },
            Containers = new List<V1Container>
            {
                new() { Name = "api", Env = new List<V1EnvVar> { new() { Name = "DB_PASSWORD", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Key = "password", Name = "db" } } } } },
                new() { Name = "sidecar", Env = new List<V1EnvVar> { new() { Name = "OTHER", ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Key = "x", Name = "other" } } } } },
            },
            Volumes = new List<V1Volume>
            {
                new() { Name = "creds", Secret = new V1SecretVolumeSource { SecretName = "db" } },
                new() { Name = "all", Projected = new V1ProjectedVolumeSource { Sources = new List<V1VolumeProjection> { new() { ConfigMap = new V1ConfigMapProjection { Name = "db" } }, new() { Secret = new V1SecretProjection { Name = "db" } } } } },
                new() { Name = "cfg", ConfigMap = new V1ConfigMapVolumeSource { Name = "db" } },
            },
        };
        Assert.Equal(new[] { "envFrom (migrate)", "env (api)", "volume (creds)", "projected volume (all)" }, SecretRotation.Uses(spec, "db"));
        Assert.Equal(new[] { "env (sidecar)" }, SecretRotation.Uses(spec, "other"));
        Assert.Empty(SecretRotation.Uses(spec, "nope"));
    }

    [Theory]
    [InlineData("jwt-secret", true)]
    [InlineData("tls.crt", true)]
    [InlineData("DB_PASSWORD", true)]
    [InlineData("has space", false)]
    [InlineData("a/b", false)]
    [InlineData("..", false)]
    [InlineData("", false)]
    public void Secret_keys_are_checked_before_any_call(string key, bool valid) =>
        Assert.Equal(valid, SecretRotation.KeyProblem(key) is null);

    [Fact]
    public void Undoing_a_restart_tests_our_stamp_then_puts_the_previous_one_back_or_removes_it()
    {
        var back = JsonDocument.Parse(SecretRotation.UndoRestartPatch("2026-01-02T03:04:05Z", "2025-12-31T00:00:00Z")).RootElement;
        Assert.Equal("test", back[0].GetProperty("op").GetString());
        Assert.Equal("/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt", back[0].GetProperty("path").GetString());
        Assert.Equal("2026-01-02T03:04:05Z", back[0].GetProperty("value").GetString());
        Assert.Equal("replace", back[1].GetProperty("op").GetString());
        Assert.Equal("2025-12-31T00:00:00Z", back[1].GetProperty("value").GetString());
        var removed = JsonDocument.Parse(SecretRotation.UndoRestartPatch("2026-01-02T03:04:05Z", null)).RootElement;
        Assert.Equal("remove", removed[1].GetProperty("op").GetString());
    }

    // ---- autoscaler API version by discovery -----------------------------------------------------

    [Theory]
    [InlineData("autoscaling/v1,autoscaling/v2beta1,autoscaling/v2beta2", "autoscaling/v1")] // Kubernetes 1.20 (the test server)
    [InlineData("autoscaling/v2,autoscaling/v1,autoscaling/v2beta2", "autoscaling/v2")]    // 1.23 - 1.25
    [InlineData("autoscaling/v2,autoscaling/v1", "autoscaling/v2")]                        // 1.26+
    [InlineData("autoscaling/v2beta2", null)]
    public void Autoscaling_v2_is_used_where_served_else_v1(string served, string? expected) =>
        Assert.Equal(expected, KubeAutoscalers.ChooseVersion(served.Split(',')));

    // ---- autoscaling/v2 mapping ------------------------------------------------------------------

    private static V2HorizontalPodAutoscaler V2Hpa() => new()
    {
        Metadata = new V1ObjectMeta { Name = "api-hpa", NamespaceProperty = "shop", CreationTimestamp = DateTime.UtcNow.AddHours(-3) },
        Spec = new V2HorizontalPodAutoscalerSpec
        {
            ScaleTargetRef = new V2CrossVersionObjectReference { Kind = "Deployment", Name = "api", ApiVersion = "apps/v1" },
            MinReplicas = 2, MaxReplicas = 10,
            Metrics = new List<V2MetricSpec>
            {
                new() { Type = "Resource", Resource = new V2ResourceMetricSource { Name = "cpu", Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = 70 } } },
                new() { Type = "Resource", Resource = new V2ResourceMetricSource { Name = "memory", Target = new V2MetricTarget { Type = "AverageValue", AverageValue = new ResourceQuantity("512Mi") } } },
                new() { Type = "Pods", Pods = new V2PodsMetricSource { Metric = new V2MetricIdentifier { Name = "requests_per_second" }, Target = new V2MetricTarget { Type = "AverageValue", AverageValue = new ResourceQuantity("1k") } } },
            },
        },
        Status = new V2HorizontalPodAutoscalerStatus
        {
            CurrentReplicas = 4, DesiredReplicas = 5, LastScaleTime = DateTime.UtcNow.AddMinutes(-5),
            CurrentMetrics = new List<V2MetricStatus>
            {
                new() { Type = "Resource", Resource = new V2ResourceMetricStatus { Name = "cpu", Current = new V2MetricValueStatus { AverageUtilization = 85, AverageValue = new ResourceQuantity("85m") } } },
            },
            Conditions = new List<V2HorizontalPodAutoscalerCondition>
            {
                new() { Type = "AbleToScale", Status = "True", Reason = "ReadyForNewScale" },
                new() { Type = "ScalingActive", Status = "True", Reason = "ValidMetricFound" },
                new() { Type = "ScalingLimited", Status = "True", Reason = "TooManyReplicas", Message = "the desired replica count is more than the maximum replica count" },
            },
        },
    };

    [Fact]
    public void A_v2_autoscaler_maps_targets_current_metrics_conditions_and_replicas()
    {
        var a = KubeAutoscalers.From(Target, V2Hpa());
        Assert.Equal("autoscaling/v2", a.ApiVersion);
        Assert.Equal("Deployment/api", a.Reference);
        Assert.Equal((2, 10, 4, 5), (a.MinReplicas, a.MaxReplicas, a.CurrentReplicas, a.DesiredReplicas));
        Assert.Equal(70, a.TargetCpu);
        Assert.Equal(85, a.CurrentCpu);
        Assert.Equal("85%/70%, <unknown>/512Mi, <unknown>/1k", a.Targets);
        Assert.Equal("requests_per_second", a.Metrics[2].Name);
        Assert.Equal("Pods", a.Metrics[2].Type);
        Assert.True(a.ScalingLimited);
        Assert.True(a.ScalingActive);
        Assert.Equal("TooManyReplicas", a.Conditions.Single(c => c.Type == "ScalingLimited").Reason);
        Assert.NotNull(a.LastScaleTime);
        Assert.Equal("shop", a.Namespace);
    }

    [Fact]
    public void Setting_v2_min_max_and_cpu_changes_only_the_cpu_metric()
    {
        var hpa = V2Hpa();
        var changes = KubeAutoscalers.Apply(hpa, new AutoscalerChange { MinReplicas = 3, MaxReplicas = 12, TargetCpu = 60 }, "api-hpa");
        Assert.Equal(new[] { "minReplicas 2 -> 3", "maxReplicas 10 -> 12", "cpu target 70% -> 60%" }, changes);
        Assert.Equal(3, hpa.Spec.MinReplicas);
        Assert.Equal(12, hpa.Spec.MaxReplicas);
        Assert.Equal(60, hpa.Spec.Metrics[0].Resource.Target.AverageUtilization);
        Assert.Equal("512Mi", hpa.Spec.Metrics[1].Resource.Target.AverageValue.ToString());
        Assert.Equal(3, hpa.Spec.Metrics.Count);
    }

    [Fact]
    public void Setting_a_v2_memory_target_replaces_an_average_value_target_and_adds_missing_metrics()
    {
        var hpa = V2Hpa();
        var changes = KubeAutoscalers.Apply(hpa, new AutoscalerChange { TargetMemory = 75 }, "api-hpa");
        Assert.Equal(new[] { "memory target 512Mi -> 75%" }, changes);
        Assert.Equal("Utilization", hpa.Spec.Metrics[1].Resource.Target.Type);
        Assert.Null(hpa.Spec.Metrics[1].Resource.Target.AverageValue);
        hpa.Spec.Metrics.RemoveAt(0);
        Assert.Equal(new[] { "cpu target (none) -> 50%" }, KubeAutoscalers.Apply(hpa, new AutoscalerChange { TargetCpu = 50 }, "api-hpa"));
        Assert.Empty(KubeAutoscalers.Apply(hpa, new AutoscalerChange { TargetCpu = 50, MinReplicas = 2 }, "api-hpa"));
    }

    [Fact]
    public void A_min_above_the_current_max_is_refused_without_changing_anything()
    {
        var hpa = V2Hpa();
        var e = Assert.Throws<OpsToolsException>(() => KubeAutoscalers.Apply(hpa, new AutoscalerChange { MinReplicas = 11 }, "api-hpa"));
        Assert.Equal("AutoscalerRangeInvalid", e.ErrorId);
        Assert.Equal(2, hpa.Spec.MinReplicas);
        Assert.Equal("AutoscalerRangeInvalid", Assert.Throws<OpsToolsException>(() => new AutoscalerChange { MinReplicas = 5, MaxReplicas = 4 }.Validate("x")).ErrorId);
        Assert.Equal("AutoscalerNoChange", Assert.Throws<OpsToolsException>(() => new AutoscalerChange().Validate("x")).ErrorId);
    }

    // ---- autoscaling/v1 mapping ------------------------------------------------------------------

    [Fact]
    public void A_v1_autoscaler_reads_conditions_and_other_metrics_from_the_annotations_and_cannot_take_a_memory_target()
    {
        var hpa = new V1HorizontalPodAutoscaler
        {
            Metadata = new V1ObjectMeta
            {
                Name = "web", NamespaceProperty = "shop",
                Annotations = new Dictionary<string, string>
                {
                    ["autoscaling.alpha.kubernetes.io/conditions"] = """[{"type":"AbleToScale","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"SucceededGetScale"},{"type":"ScalingActive","status":"False","lastTransitionTime":"2026-01-01T00:00:00Z","reason":"FailedGetResourceMetric","message":"unable to get metrics for resource cpu"}]""",
                    ["autoscaling.alpha.kubernetes.io/metrics"] = """[{"type":"Resource","resource":{"name":"memory","targetAverageUtilization":80}}]""",
                },
            },
            Spec = new V1HorizontalPodAutoscalerSpec { ScaleTargetRef = new V1CrossVersionObjectReference { Kind = "Deployment", Name = "web" }, MinReplicas = 1, MaxReplicas = 4, TargetCPUUtilizationPercentage = 80 },
            Status = new V1HorizontalPodAutoscalerStatus { CurrentReplicas = 1, DesiredReplicas = 1 },
        };
        var a = KubeAutoscalers.From(Target, hpa);
        Assert.Equal("<unknown>/80%, <unknown>/80%", a.Targets);
        Assert.Equal("memory", a.Metrics[1].Name);
        Assert.False(a.ScalingActive);
        Assert.Equal("FailedGetResourceMetric", a.Conditions[1].Reason);
        Assert.Contains("autoscaling/v2", a.Note);
        var e = Assert.Throws<OpsToolsException>(() => KubeAutoscalers.Apply(hpa, new AutoscalerChange { TargetMemory = 70 }, "web"));
        Assert.Equal("AutoscalerNeedsV2", e.ErrorId);
        Assert.Contains("only a CPU utilization target", e.Message);
        Assert.Equal(new[] { "minReplicas 1 -> 2", "cpu target 80% -> 65%" }, KubeAutoscalers.Apply(hpa, new AutoscalerChange { MinReplicas = 2, TargetCpu = 65 }, "web"));
    }
}
