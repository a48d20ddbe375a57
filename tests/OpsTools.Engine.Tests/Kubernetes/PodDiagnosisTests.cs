using System.Text.Json;
using k8s.Models;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Tests.Kubernetes;

/// <summary>Get-PodHealth's diagnosis rules on pods as the API returns them (no cluster).</summary>
public class PodDiagnosisTests
{
    private static readonly DateTime Now = new(2024, 5, 1, 12, 0, 0, DateTimeKind.Utc);

    private static V1Pod Pod(string phase = "Running", DateTime? created = null, params V1ContainerStatus[] containers) => new()
    {
        Metadata = new V1ObjectMeta { Name = "api-7d9f-x2k4", NamespaceProperty = "shop", CreationTimestamp = created ?? Now.AddHours(-3) },
        Spec = new V1PodSpec { NodeName = "node-1", Containers = containers.Select(c => new V1Container { Name = c.Name, Image = c.Image }).ToList() },
        Status = new V1PodStatus
        {
            Phase = phase, StartTime = created ?? Now.AddHours(-3), ContainerStatuses = containers.ToList(),
            Conditions = new List<V1PodCondition> { new() { Type = "PodScheduled", Status = "True" } },
        },
    };

    private static V1ContainerStatus Running(string name = "api", bool ready = true, int restarts = 0, V1ContainerStateTerminated? last = null) => new()
    {
        Name = name, Image = "shop/api:1.4", Ready = ready, RestartCount = restarts,
        State = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = Now.AddMinutes(-30) } },
        LastState = last is null ? null : new V1ContainerState { Terminated = last },
    };

    private static V1ContainerStatus Waiting(string reason, string? message = null, int restarts = 0, V1ContainerStateTerminated? last = null) => new()
    {
        Name = "api", Image = "shop/api:1.4", Ready = false, RestartCount = restarts,
        State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } },
        LastState = last is null ? null : new V1ContainerState { Terminated = last },
    };

    private static V1ContainerStateTerminated Ended(int exitCode, string reason, DateTime finished) =>
        new() { ExitCode = exitCode, Reason = reason, StartedAt = finished.AddSeconds(-5), FinishedAt = finished };

    private static ClusterEvent Warning(string reason, string message) =>
        new() { Type = "Warning", Reason = reason, Message = message, ObjectKind = "Pod", ObjectName = "api-7d9f-x2k4", Time = Now.AddMinutes(-1) };

    private static PodHealthResult Diagnose(V1Pod pod, DateTime? since = null, params ClusterEvent[] events) =>
        PodDiagnosis.Diagnose(pod, events, "deployment/api", "api", since, Now);

    [Fact]
    public void Running_and_ready_is_healthy_with_kubectl_columns()
    {
        var r = Diagnose(Pod(containers: Running()));
        Assert.Equal(CheckStatus.Healthy, r.Status);
        Assert.Equal("1/1", r.Ready);
        Assert.Equal("Running", r.State);
        Assert.Equal("shop/api-7d9f-x2k4", r.Target);
        Assert.Equal("PodHealth", r.Check);
        Assert.Equal("Kubernetes", r.Area);
    }

    [Fact]
    public void Crash_loop_is_critical_and_says_the_exit_the_restarts_and_where_to_look()
    {
        var r = Diagnose(Pod(containers: Waiting("CrashLoopBackOff", "back-off 5m0s", 5, Ended(1, "Error", Now.AddMinutes(-2)))));
        Assert.Equal(CheckStatus.Critical, r.Status);
        Assert.True(r.CrashLoopBackOff);
        Assert.Equal("CrashLoopBackOff", r.State);
        Assert.Equal(5, r.Restarts);
        Assert.StartsWith("container api crash-looping: last exit 1 (Error) at 2024-05-01 11:58:00Z, 5 restarts; see Get-PodLog -Name api-7d9f-x2k4 -Container api -Previous", r.Diagnosis);
        Assert.Equal(1, r.LastTermination!.ExitCode);
    }

    [Fact]
    public void Crash_loop_after_an_oom_kill_says_out_of_memory()
    {
        var r = Diagnose(Pod(containers: Waiting("CrashLoopBackOff", null, 7, Ended(137, "OOMKilled", Now.AddMinutes(-1)))));
        Assert.Equal(CheckStatus.Critical, r.Status);
        Assert.True(r.OomKilled);
        Assert.Contains("out of memory", r.Diagnosis);
    }

    [Fact]
    public void Oom_killed_but_running_again_is_a_warning_with_the_termination()
    {
        var r = Diagnose(Pod(containers: Running(restarts: 3, last: Ended(137, "OOMKilled", Now.AddMinutes(-10)))));
        Assert.Equal(CheckStatus.Warning, r.Status);
        Assert.True(r.OomKilled);
        Assert.Equal("OOMKilled", r.LastTermination!.Reason);
        Assert.Contains("OOMKilled (exit 137)", r.Diagnosis);
        Assert.Contains("memory limit", r.Diagnosis);
    }

    [Theory]
    [InlineData("ErrImagePull")]
    [InlineData("ImagePullBackOff")]
    [InlineData("InvalidImageName")]
    public void Image_pull_errors_are_critical_and_name_the_image(string reason)
    {
        var r = Diagnose(Pod("Pending", null, Waiting(reason, "Back-off pulling image")), null, Warning("Failed", "Failed to pull image \"shop/api:1.4\": not found"));
        Assert.Equal(CheckStatus.Critical, r.Status);
        Assert.True(r.ImagePullError);
        Assert.Equal(reason, r.State);
        Assert.Equal(reason, r.PendingReason);
        Assert.Contains("cannot pull image shop/api:1.4", r.Diagnosis);
        Assert.Contains("event Failed: Failed to pull image", r.Diagnosis);
    }

    [Fact]
    public void Unschedulable_is_critical_with_the_schedulers_message()
    {
        var pod = Pod("Pending");
        pod.Spec.NodeName = null;
        pod.Status.Conditions = new List<V1PodCondition> { new() { Type = "PodScheduled", Status = "False", Reason = "Unschedulable", Message = "0/3 nodes are available: 3 Insufficient memory." } };
        pod.Spec.Containers = new List<V1Container> { new() { Name = "api", Image = "shop/api:1.4" } };
        var r = Diagnose(pod);
        Assert.Equal(CheckStatus.Critical, r.Status);
        Assert.True(r.Unschedulable);
        Assert.Equal("Unschedulable", r.PendingReason);
        Assert.Equal("0/3 nodes are available: 3 Insufficient memory.", r.PendingMessage);
        Assert.Contains("Insufficient memory", r.Diagnosis);
        Assert.Equal("0/1", r.Ready);
        Assert.Equal("Pending", r.State);
    }

    [Fact]
    public void Not_ready_is_a_warning_once_the_probe_failed_or_the_grace_is_over_not_while_starting()
    {
        var starting = Diagnose(Pod(created: Now.AddSeconds(-30), containers: Running(ready: false)));
        Assert.Equal(CheckStatus.Healthy, starting.Status);
        var probed = Diagnose(Pod(created: Now.AddSeconds(-30), containers: Running(ready: false)), null, Warning("Unhealthy", "Readiness probe failed: HTTP 503"));
        Assert.Equal(CheckStatus.Warning, probed.Status);
        Assert.Contains("running but not ready; event Unhealthy: Readiness probe failed: HTTP 503", probed.Diagnosis);
        var old = Diagnose(Pod(created: Now.AddHours(-1), containers: Running(ready: false)));
        Assert.Equal(CheckStatus.Warning, old.Status);
    }

    [Fact]
    public void A_recent_restart_is_a_warning_an_old_one_is_not()
    {
        var recent = Diagnose(Pod(containers: Running(restarts: 2, last: Ended(2, "Error", Now.AddMinutes(-10)))));
        Assert.Equal(CheckStatus.Warning, recent.Status);
        Assert.Contains("restarted (2 restarts): last exit 2 (Error)", recent.Diagnosis);
        var old = Diagnose(Pod(containers: Running(restarts: 2, last: Ended(2, "Error", Now.AddDays(-2)))));
        Assert.Equal(CheckStatus.Healthy, old.Status);
        Assert.Equal(2, old.Restarts);
    }

    [Fact]
    public void Failed_pod_is_critical_and_completed_is_healthy()
    {
        var failed = Pod("Failed", null, new V1ContainerStatus { Name = "api", Image = "x", RestartCount = 0, State = new V1ContainerState { Terminated = Ended(1, "Error", Now.AddMinutes(-1)) } });
        failed.Status.Reason = "Evicted";
        failed.Status.Message = "The node was low on resource: memory.";
        var r = Diagnose(failed);
        Assert.Equal(CheckStatus.Critical, r.Status);
        Assert.Contains("Evicted", r.Diagnosis);
        var done = Diagnose(Pod("Succeeded", null, new V1ContainerStatus { Name = "api", Image = "x", State = new V1ContainerState { Terminated = Ended(0, "Completed", Now.AddMinutes(-1)) } }));
        Assert.Equal(CheckStatus.Healthy, done.Status);
        Assert.Equal("Completed", done.State);
    }

    [Theory]
    // restarts, last termination (minutes ago), pod started (minutes ago), since (minutes ago) -> count, exact
    [InlineData(0, null, 600, 60, 0, true)]      // never restarted
    [InlineData(5, 120, 600, 60, 0, true)]       // last termination before -Since: none since
    [InlineData(5, 10, 30, 60, 5, true)]         // the pod started after -Since: all of them
    [InlineData(5, 10, 600, 60, 1, false)]       // at least the last one; the API does not say how many more
    [InlineData(1, 10, 600, 60, 1, true)]        // only one restart ever, and it was since
    [InlineData(3, null, 600, 60, 0, false)]     // the kubelet no longer says when: unknown
    public void Restarts_since_are_exact_only_where_the_api_can_tell(int restarts, int? lastAgo, int startedAgo, int sinceAgo, int count, bool exact)
    {
        var (c, e) = PodDiagnosis.RestartsSince(restarts, lastAgo is null ? null : Now.AddMinutes(-lastAgo.Value), Now.AddMinutes(-startedAgo), Now.AddMinutes(-sinceAgo));
        Assert.Equal((count, exact), (c, e));
    }

    [Fact]
    public void Warning_events_are_attached_oldest_first()
    {
        var late = Warning("BackOff", "late");
        var early = Warning("BackOff", "early");
        early.Time = Now.AddMinutes(-30);
        var r = Diagnose(Pod(containers: Running()), null, late, early);
        Assert.Equal(new[] { "early", "late" }, r.Events.Select(e => e.Message));
    }
}

/// <summary>Log line timestamps and metrics parsing (no cluster).</summary>
public class PodLogAndMetricsParsingTests
{
    [Theory]
    [InlineData("2024-05-01T10:00:00.123456789Z hello world", "hello world", 1234567)]
    [InlineData("2024-05-01T10:00:00Z hello", "hello", 0)]
    [InlineData("2024-05-01T10:00:00.5Z  two spaces", " two spaces", 5000000)]
    public void Kubelet_timestamps_are_split_from_the_text(string line, string text, long ticks)
    {
        var (time, rest) = KubePodLogs.SplitTimestamp(line);
        Assert.Equal(text, rest);
        Assert.Equal(new DateTime(2024, 5, 1, 10, 0, 0, DateTimeKind.Utc).AddTicks(ticks), time);
        Assert.Equal(DateTimeKind.Utc, time!.Value.Kind);
    }

    [Fact]
    public void A_line_without_a_timestamp_is_kept_whole()
    {
        Assert.Equal((null, "plain text line"), KubePodLogs.SplitTimestamp("plain text line"));
        Assert.Equal((null, "not-a-time-at-all-but-long text"), KubePodLogs.SplitTimestamp("not-a-time-at-all-but-long text"));
    }

    [Fact]
    public void Pod_metrics_become_millicores_and_bytes_with_percent_of_limit()
    {
        using var doc = JsonDocument.Parse("""
            {"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","items":[
              {"metadata":{"name":"api-1","namespace":"shop"},"timestamp":"2024-05-01T10:00:00Z","window":"30s",
               "containers":[{"name":"api","usage":{"cpu":"250000000n","memory":"48Mi"}},{"name":"proxy","usage":{"cpu":"5m","memory":"16384Ki"}}]}]}
            """);
        var sample = Assert.Single(KubeMetrics.Parse(doc.RootElement));
        Assert.Equal(("shop", "api-1"), (sample.Namespace, sample.Name));
        Assert.Equal(TimeSpan.FromSeconds(30), sample.Window);
        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "api-1" },
            Spec = new V1PodSpec
            {
                Containers = new List<V1Container>
                {
                    new() { Name = "api", Resources = new V1ResourceRequirements {
                        Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("32Mi") },
                        Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("500m"), ["memory"] = new("64Mi") } } },
                    new() { Name = "proxy", Resources = new V1ResourceRequirements {
                        Limits = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("64Mi") } } },
                },
            },
        };
        var usage = KubeMetrics.Combine(sample, pod);
        Assert.Equal(255, usage.CpuMillicores, 3);
        Assert.Equal(64L * 1024 * 1024, usage.MemoryBytes);
        var api = usage.Containers[0];
        Assert.Equal(250, api.CpuMillicores, 3);
        Assert.Equal(50.0, api.CpuPercentOfLimit);
        Assert.Equal(75.0, api.MemoryPercentOfLimit);
        Assert.Equal(100, api.CpuRequestMillicores);
        Assert.Equal(600, usage.CpuLimitMillicores);
        Assert.Equal(42.5, usage.CpuPercentOfLimit);
        Assert.Equal(50.0, usage.MemoryPercentOfLimit);
        Assert.Null(usage.MemoryRequestBytes); // the proxy has no request: no pod total
    }

    [Fact]
    public void Without_limits_there_is_no_percent()
    {
        using var doc = JsonDocument.Parse("""{"metadata":{"name":"w","namespace":"n"},"containers":[{"name":"w","usage":{"cpu":"1","memory":"1G"}}]}""");
        var usage = KubeMetrics.Combine(Assert.Single(KubeMetrics.Parse(doc.RootElement)), null);
        Assert.Equal(1000, usage.CpuMillicores, 3);
        Assert.Equal(1_000_000_000L, usage.MemoryBytes);
        Assert.Null(usage.CpuPercentOfLimit);
        Assert.Null(usage.MemoryPercentOfLimit);
    }
}
