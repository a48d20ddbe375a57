using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>Get-PodHealth against the test API server: every pod behaviour gives the diagnosis an admin would read from kubectl describe.</summary>
[Collection("Kubernetes")]
public sealed class GetPodHealthTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;

    public GetPodHealthTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("podhealth");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    private static PodView Pod(RunResult r, string deployment) =>
        Assert.Single(r.Output.Select(o => new PodView(o)), p => p.Deployment == deployment);

    [Fact]
    public void Each_pod_behaviour_gets_its_status_diagnosis_and_warning_events()
    {
        PodTestSupport.CreateAndWait(_k, _ns, "ok", PodBehaviour.Ready);
        PodTestSupport.CreateAndWait(_k, _ns, "crash", PodBehaviour.CrashLoop);
        PodTestSupport.CreateAndWait(_k, _ns, "oom", PodBehaviour.OomKilled);
        PodTestSupport.CreateAndWait(_k, _ns, "pull", PodBehaviour.ImagePullError);
        PodTestSupport.CreateAndWait(_k, _ns, "nofit", PodBehaviour.Unschedulable);
        PodTestSupport.CreateAndWait(_k, _ns, "unready", PodBehaviour.NeverReady);

        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube");
        Assert.Empty(r.Errors);
        Assert.Equal(6, r.Output.Count);

        var ok = Pod(r, "ok");
        Assert.Equal("Healthy", ok.Status);
        Assert.Equal("1/1", ok.Ready);
        Assert.Equal("Running", ok.State);
        Assert.Equal("deployment/ok", ok.Owner);
        Assert.Empty(ok.Events);
        Assert.Equal(_k.Context, ok.Context);
        Assert.Equal(_ns, ok.Namespace);
        Assert.NotNull(ok.Age);

        var crash = Pod(r, "crash");
        Assert.Equal("Critical", crash.Status);
        Assert.True(crash.CrashLoopBackOff);
        Assert.Equal("CrashLoopBackOff", crash.State);
        Assert.Equal("0/1", crash.Ready);
        Assert.NotNull(crash.LastTermination);
        Assert.Equal(1, crash.LastTermination!.ExitCode);
        Assert.Equal("Error", crash.LastTermination.Reason);
        Assert.NotNull(crash.LastTermination.FinishedAt);
        Assert.Contains("container crash crash-looping: last exit 1 (Error)", crash.Diagnosis);
        Assert.Contains("Get-PodLog", crash.Diagnosis);
        Assert.Contains("-Previous", crash.Diagnosis);
        Assert.Contains(crash.Events, e => e.Reason == "BackOff" && e.Type == "Warning");
        if (!_k.External)
        {
            Assert.Equal(5, crash.Restarts);
            Assert.Contains("5 restarts", crash.Diagnosis);
            Assert.Equal("opstools-node", crash.Node);
        }

        var oom = Pod(r, "oom");
        Assert.True(oom.OomKilled);
        Assert.Equal("OOMKilled", oom.LastTermination!.Reason);
        Assert.Equal(137, oom.LastTermination.ExitCode);
        Assert.NotEqual("Healthy", oom.Status);
        Assert.Contains("OOMKilled", oom.Diagnosis);
        Assert.Contains("memory limit", oom.Diagnosis);
        if (!_k.External)
        {
            Assert.Equal("Warning", oom.Status);
            Assert.Equal(3, oom.Restarts);
            Assert.Contains(oom.Events, e => e.Reason == "OOMKilling");
        }

        var pull = Pod(r, "pull");
        Assert.Equal("Critical", pull.Status);
        Assert.True(pull.ImagePullError);
        Assert.Contains(pull.State, new[] { "ImagePullBackOff", "ErrImagePull" });
        Assert.Contains("cannot pull image registry.invalid/opstools/does-not-exist:1", pull.Diagnosis);
        Assert.Contains(pull.Events, e => e.Reason == "Failed" && e.Message.Contains("does-not-exist"));

        var nofit = Pod(r, "nofit");
        Assert.Equal("Critical", nofit.Status);
        Assert.True(nofit.Unschedulable);
        Assert.Equal("Pending", nofit.Phase);
        Assert.Equal("Unschedulable", nofit.PendingReason);
        Assert.Contains("didn't match", nofit.PendingMessage);
        Assert.Contains("unschedulable", nofit.Diagnosis);
        Assert.Null(nofit.Node);
        Assert.Contains(nofit.Events, e => e.Reason == "FailedScheduling");

        var unready = Pod(r, "unready");
        Assert.Equal("Warning", unready.Status);
        Assert.Equal("0/1", unready.Ready);
        Assert.Equal("Running", unready.Phase);
        Assert.Contains("running but not ready", unready.Diagnosis);
        Assert.Contains(unready.Events, e => e.Reason == "Unhealthy");
    }

    [Fact]
    public void Problem_returns_only_unhealthy_pods_and_wildcards_select_by_name()
    {
        PodTestSupport.CreateAndWait(_k, _ns, "fine", PodBehaviour.Ready, replicas: 2);
        PodTestSupport.CreateAndWait(_k, _ns, "broken", PodBehaviour.CrashLoop);
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Problem");
        Assert.Empty(r.Errors);
        var only = Assert.Single(r.Output.Select(o => new PodView(o)));
        Assert.Equal("broken", only.Deployment);

        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Name fine-*");
        Assert.Equal(2, r.Output.Count);
        Assert.All(r.Output.Select(o => new PodView(o)), p => Assert.StartsWith("fine-", p.Name));

        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Selector app=broken");
        Assert.Equal("broken", Assert.Single(r.Output.Select(o => new PodView(o))).Deployment);

        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Name no-such-pod");
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeObjectNotFound,OpsTools.Commands.Kubernetes.GetPodHealthCommand", e.FullyQualifiedErrorId);
        Assert.Contains("'no-such-pod'", e.Exception.Message);
        Assert.Contains(_ns, e.Exception.Message);
    }

    [Fact]
    public void Deployments_piped_from_Get_Deployment_give_the_pods_of_each()
    {
        PodTestSupport.CreateAndWait(_k, _ns, "front", PodBehaviour.Ready, replicas: 2);
        PodTestSupport.CreateAndWait(_k, _ns, "back", PodBehaviour.CrashLoop);
        using var s = new ModuleSession();
        // Only -Kubeconfig and -Context: the namespace and cluster travel with the piped objects.
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-Deployment @Kube -Name front, back | Get-PodHealth");
        Assert.Empty(r.Errors);
        var pods = r.Output.Select(o => new PodView(o)).ToList();
        Assert.Equal(3, pods.Count);
        Assert.Equal(2, pods.Count(p => p.Deployment == "front"));
        Assert.Equal(1, pods.Count(p => p.Deployment == "back" && p.Status == "Critical"));

        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Deployment back");
        Assert.Equal("back", Assert.Single(r.Output.Select(o => new PodView(o))).Deployment);

        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Deployment gone");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeObjectNotFound,OpsTools.Commands.Kubernetes.GetPodHealthCommand", e.FullyQualifiedErrorId);
        Assert.Contains("deployment 'gone'", e.Exception.Message);
    }

    [Fact]
    public void A_view_only_user_can_diagnose_pods_and_read_their_events_and_logs()
    {
        if (_k.External) return; // uses the test server's viewer token
        PodTestSupport.CreateAndWait(_k, _ns, "looping", PodBehaviour.CrashLoop);
        var kubeconfig = Path.Combine(_k.WorkDirectory, $"viewer-{Guid.NewGuid():N}.kubeconfig");
        File.WriteAllText(kubeconfig, _k.Kubeconfig("viewer", $"token: {_k.ViewerToken}", _ns));
        using var s = new ModuleSession();
        var r = s.Run($"Get-PodHealth -Kubeconfig '{kubeconfig}' -Problem | Get-PodLog -Previous");
        Assert.Empty(r.Errors);
        Assert.Contains(r.Output, o => ((string)P(o, "Line")!).Contains("fatal"));
        r = s.Run($"Get-PodHealth -Kubeconfig '{kubeconfig}' -Deployment looping");
        Assert.Empty(r.Errors);
        var pod = new PodView(Assert.Single(r.Output));
        Assert.Equal("Critical", pod.Status);
        Assert.Equal("deployment/looping", pod.Owner);
        Assert.Contains(pod.Events, e => e.Reason == "BackOff");
    }

    [Fact]
    public void Format_views_show_kubectl_columns_for_pods_events_and_log_lines()
    {
        var pods = PodTestSupport.CreateAndWait(_k, _ns, "shown", PodBehaviour.CrashLoop);
        using var s = new ModuleSession();
        var setup = _k.PowerShellSetup(_ns) + "; ";
        s.Invoke(setup + "Get-PodHealth @Kube | Out-Default");
        foreach (var column in new[] { "NAME", "READY", "STATUS", "HEALTH", "DIAGNOSIS" }) // RESTARTS and AGE: Format-List (80 columns keep DIAGNOSIS)
            Assert.Contains(column, s.Host.Text);
        Assert.Contains("CrashLoopBackOff", s.Host.Text);
        s.Host.ClearText();
        s.Invoke(setup + "Get-ClusterEvent @Kube -Warning | Out-Default");
        foreach (var column in new[] { "LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE" })
            Assert.Contains(column, s.Host.Text);
        Assert.Contains("BackOff", s.Host.Text);
        Assert.Contains($"pod/{PodTestSupport.Name(pods[0]!)}", s.Host.Text);
        Assert.DoesNotContain("<unknown>", s.Host.Text);
        if (!_k.External)
        {
            s.Host.ClearText();
            s.Invoke(setup + $"Get-PodLog @Kube -Name {PodTestSupport.Name(pods[0]!)} -Previous | Out-Default");
            Assert.Contains("Pod", s.Host.Text);
            Assert.Contains("fatal: cannot connect to database", s.Host.Text);
        }
    }

    [Fact]
    public void Restarts_since_a_time_count_only_what_the_api_can_prove()
    {
        PodTestSupport.CreateAndWait(_k, _ns, "flaky", PodBehaviour.CrashLoop);
        using var s = new ModuleSession();
        // The pod started within the last hour: every restart happened since then (exact).
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Deployment flaky -Since 1h");
        Assert.Empty(r.Errors);
        var p = Assert.Single(r.Output.Select(o => new PodView(o)));
        Assert.True(p.RestartsSinceExact);
        Assert.Equal(p.Restarts, p.RestartsSince);
        Assert.True(p.Restarts > 0);
        // After its last termination: no restart since (exact zero), and -Since takes a DateTime too.
        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Deployment flaky -Since ([DateTime]::UtcNow.AddMinutes(1))");
        p = Assert.Single(r.Output.Select(o => new PodView(o)));
        Assert.Equal(0, p.RestartsSince);
        Assert.True(p.RestartsSinceExact);
        // Without -Since: not counted.
        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Deployment flaky");
        Assert.Null(Assert.Single(r.Output.Select(o => new PodView(o))).RestartsSince);
    }
}

/// <summary>A PodHealthResult read through PowerShell's property view (the tests do not reference the model assembly).</summary>
internal sealed class PodView(PSObject o)
{
    private object? P(string name) => RunResult.Prop(o, name);
    public string Name => (string)P("Name")!;
    public string? Deployment => (string?)P("Deployment");
    public string? Owner => (string?)P("Owner");
    public string Status => P("Status")!.ToString()!;
    public string State => (string)P("State")!;
    public string Phase => (string)P("Phase")!;
    public string Ready => (string)P("Ready")!;
    public int Restarts => (int)P("Restarts")!;
    public int? RestartsSince => (int?)P("RestartsSince");
    public bool RestartsSinceExact => (bool)P("RestartsSinceExact")!;
    public bool CrashLoopBackOff => (bool)P("CrashLoopBackOff")!;
    public bool OomKilled => (bool)P("OomKilled")!;
    public bool ImagePullError => (bool)P("ImagePullError")!;
    public bool Unschedulable => (bool)P("Unschedulable")!;
    public string? PendingReason => (string?)P("PendingReason");
    public string? PendingMessage => (string?)P("PendingMessage");
    public string? Node => (string?)P("Node");
    public string Context => (string)P("Context")!;
    public string Namespace => (string)P("Namespace")!;
    public object? Age => P("Age");
    public string Diagnosis => (string)P("Diagnosis")!;
    public TerminationView? LastTermination => P("LastTermination") is { } t ? new TerminationView(PSObject.AsPSObject(t)) : null;
    public IReadOnlyList<EventView> Events => ((System.Collections.IEnumerable)P("Events")!).Cast<object>().Select(e => new EventView(PSObject.AsPSObject(e))).ToList();
}

internal sealed class TerminationView(PSObject o)
{
    public int ExitCode => (int)RunResult.Prop(o, "ExitCode")!;
    public string? Reason => (string?)RunResult.Prop(o, "Reason");
    public DateTime? FinishedAt => (DateTime?)RunResult.Prop(o, "FinishedAt");
}

/// <summary>A ClusterEvent read through PowerShell's property view.</summary>
internal sealed class EventView(PSObject o)
{
    private object? P(string name) => RunResult.Prop(o, name);
    public string Type => (string)P("Type")!;
    public string Reason => (string)P("Reason")!;
    public string Message => (string)P("Message")!;
    public string Object => (string)P("Object")!;
    public string ObjectKind => (string)P("ObjectKind")!;
    public string ObjectName => (string)P("ObjectName")!;
    public string Namespace => (string)P("Namespace")!;
    public DateTime? Time => (DateTime?)P("Time");
    public int Count => (int)P("Count")!;
    public string Source => (string)P("Source")!;
}
