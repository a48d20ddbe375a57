using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>
/// Get-PodLog against the test API server's real pods/log proxy (the fake kubelet serves the lines):
/// tail, since, previous container, pattern, every pod of a deployment, and streaming without holding the log.
/// </summary>
[Collection("Kubernetes")]
public sealed class GetPodLogTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;

    public GetPodLogTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("podlog");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static string Line(PSObject o) => (string)P(o, "Line")!;

    /// <summary>A deployment of two ready pods whose 'web' containers logged five lines over the last two hours.</summary>
    private string[] TwoPodsWithLogs()
    {
        var pods = PodTestSupport.CreateAndWait(_k, _ns, "web", PodBehaviour.Ready, replicas: 2).Select(p => PodTestSupport.Name(p!)).OrderBy(n => n).ToArray();
        var now = DateTime.UtcNow;
        foreach (var pod in pods)
        {
            _k.Kubelet!.AppendLog(_ns, pod, "web", $"{pod} started", at: now.AddHours(-2));
            _k.Kubelet.AppendLog(_ns, pod, "web", $"{pod} ERROR: upstream timed out", at: now.AddMinutes(-90));
            _k.Kubelet.AppendLog(_ns, pod, "web", $"{pod} GET /health 200", at: now.AddMinutes(-20));
            _k.Kubelet.AppendLog(_ns, pod, "web", $"{pod} Failed to refresh token", at: now.AddMinutes(-5), stream: "stderr");
            _k.Kubelet.AppendLog(_ns, pod, "web", $"{pod} GET /health 200", at: now.AddMinutes(-1));
        }
        return pods;
    }

    [Fact]
    public void Tail_since_and_pattern_select_lines_of_one_pod()
    {
        if (_k.External) return; // the lines are written by the fake kubelet
        var pod = TwoPodsWithLogs()[0];
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-PodLog @Kube -Name {pod}");
        Assert.Empty(r.Errors);
        Assert.Equal(5, r.Output.Count);
        Assert.Equal($"{pod} started", Line(r.Output[0]));
        Assert.Equal(pod, P(r.Output[0], "Pod"));
        Assert.Equal("web", P(r.Output[0], "Container"));
        Assert.Equal(_ns, P(r.Output[0], "Namespace"));
        var first = (DateTime)P(r.Output[0], "Time")!;
        Assert.InRange(first, DateTime.UtcNow.AddHours(-2).AddMinutes(-1), DateTime.UtcNow.AddHours(-2).AddMinutes(1));

        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-PodLog @Kube -Name {pod} -Tail 2");
        Assert.Equal(new[] { $"{pod} Failed to refresh token", $"{pod} GET /health 200" }, r.Output.Select(Line));

        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-PodLog @Kube -Name {pod} -Since 30m");
        Assert.Equal(3, r.Output.Count);
        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-PodLog @Kube -Name {pod} -SinceTime ([DateTime]::UtcNow.AddMinutes(-10))");
        Assert.Equal(2, r.Output.Count);

        // The runbooks' grep -i "error|fail": case-insensitive by default.
        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-PodLog @Kube -Name {pod} -Pattern 'error|fail'");
        Assert.Equal(new[] { $"{pod} ERROR: upstream timed out", $"{pod} Failed to refresh token" }, r.Output.Select(Line));
        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-PodLog @Kube -Name {pod} -Pattern 'error|fail' -CaseSensitive");
        Assert.Empty(r.Output);

        // -Raw: plain strings, -Timestamps puts the kubelet's time in front.
        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-PodLog @Kube -Name {pod} -Tail 1 -Raw");
        Assert.Equal($"{pod} GET /health 200", Assert.Single(r.Output).BaseObject);
        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-PodLog @Kube -Name {pod} -Tail 1 -Raw -Timestamps");
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z " + System.Text.RegularExpressions.Regex.Escape($"{pod} GET /health 200") + "$", (string)Assert.Single(r.Output).BaseObject);

        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodLog @Kube -Name web-does-not-exist");
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeObjectNotFound,OpsTools.Commands.Kubernetes.GetPodLogCommand", e.FullyQualifiedErrorId);
        Assert.Contains("web-does-not-exist", e.Exception.Message);
    }

    [Fact]
    public void Every_pod_of_a_deployment_with_each_line_labelled_by_its_pod()
    {
        if (_k.External) return;
        var pods = TwoPodsWithLogs();
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodLog @Kube -Deployment web -Pattern 'error|fail'");
        Assert.Empty(r.Errors);
        Assert.Equal(4, r.Output.Count);
        foreach (var pod in pods)
            Assert.Equal(2, r.Output.Count(o => (string)P(o, "Pod")! == pod && Line(o).StartsWith(pod)));

        // From Get-Deployment, plain text as 'kubectl logs --prefix' labels it.
        r = s.Run(_k.PowerShellSetup(_ns) + "; Get-Deployment @Kube -Name web | Get-PodLog -Tail 1 -Raw");
        Assert.Empty(r.Errors);
        Assert.Equal(pods.Select(p => $"[pod/{p}/web] {p} GET /health 200"), r.Output.Select(o => (string)o.BaseObject));
    }

    [Fact]
    public void Previous_reads_the_crashed_container_and_a_missing_previous_is_a_clear_error()
    {
        var crashed = PodTestSupport.Name(PodTestSupport.CreateAndWait(_k, _ns, "api", PodBehaviour.CrashLoop)[0]!);
        var fine = PodTestSupport.Name(PodTestSupport.CreateAndWait(_k, _ns, "ok", PodBehaviour.Ready)[0]!);
        using var s = new ModuleSession();
        // The runbooks' crash-loop diagnosis as one pipeline.
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodHealth @Kube -Problem | Get-PodLog -Previous");
        Assert.Empty(r.Errors);
        Assert.Contains(r.Output, o => Line(o).Contains("fatal: cannot connect to database") && (string)P(o, "Pod")! == crashed && (bool)P(o, "Previous")!);

        // No restart: nothing to read, said plainly (our check, before asking the API) ...
        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-PodLog @Kube -Name {fine} -Previous");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubePreviousLogNotFound,OpsTools.Commands.Kubernetes.GetPodLogCommand", e.FullyQualifiedErrorId);
        Assert.Contains("has restarted", e.Exception.Message);
        Assert.Contains(fine, e.Exception.Message);

        // ... and when the container is named, the API's own refusal becomes the same clear error.
        r = s.Run(_k.PowerShellSetup(_ns) + $"; Get-PodLog @Kube -Name {fine} -Container ok -Previous");
        e = Assert.Single(r.Errors);
        Assert.Equal("KubePreviousLogNotFound,OpsTools.Commands.Kubernetes.GetPodLogCommand", e.FullyQualifiedErrorId);
        Assert.Contains("no previous (terminated) instance", e.Exception.Message);
        Assert.Contains($"'{fine}'", e.Exception.Message);
        Assert.Contains(_ns, e.Exception.Message);
    }

    [Fact]
    public void A_large_log_is_streamed_through_a_pattern_without_the_command_holding_it()
    {
        if (_k.External) return; // 200k lines are appended to the fake kubelet
        var pod = PodTestSupport.Name(PodTestSupport.CreateAndWait(_k, _ns, "big", PodBehaviour.Ready)[0]!);
        const int lines = 200_000;
        var padding = new string('x', 200);
        var at = DateTime.UtcNow.AddMinutes(-5);
        for (var i = 0; i < lines; i++)
            _k.Kubelet!.AppendLog(_ns, pod, "big", (i % 20_000 == 0 ? $"MATCH {i} " : $"line {i} ") + padding, at: at);
        // About 42 MB on the wire, twice that as .NET strings. The consumer samples live memory at every match (every
        // 20,000th line): a command that read the whole log before writing would hold all of it at every sample.
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + $$"""
            ; [GC]::Collect(); [GC]::WaitForPendingFinalizers()
            $before = [GC]::GetTotalMemory($true)
            $growth = [System.Collections.Generic.List[long]]::new()
            Get-PodLog @Kube -Name {{pod}} -Pattern '^MATCH' -Raw | ForEach-Object { $growth.Add([GC]::GetTotalMemory($true) - $before); $_ } | ForEach-Object { $_.Substring(0, 12) }
            , $growth.ToArray()
            """);
        Assert.Empty(r.Errors);
        var matched = r.Output.Take(r.Output.Count - 1).Select(o => (string)o.BaseObject).ToList();
        Assert.Equal(10, matched.Count);
        Assert.Equal("MATCH 0 xxxx", matched[0]);
        var growth = ((System.Collections.IEnumerable)r.Output[^1].BaseObject).Cast<object>().Select(Convert.ToInt64).ToList();
        Assert.Equal(10, growth.Count);
        // Other tests run in this process too: take the quietest sample. Holding the log would be >= 80 MB at every one.
        Assert.True(growth.Min() < 25L * 1024 * 1024, $"live memory grew by at least {growth.Min() / 1048576} MB while the log streamed (samples: {string.Join(", ", growth.Select(g => g / 1048576))} MB)");
    }

    [Fact]
    public void A_log_read_for_longer_than_the_request_timeout_is_not_cut_off()
    {
        if (_k.External) return;
        var pod = PodTestSupport.Name(PodTestSupport.CreateAndWait(_k, _ns, "slow", PodBehaviour.Ready)[0]!);
        for (var i = 0; i < 20_000; i++) _k.Kubelet!.AppendLog(_ns, pod, "slow", $"line {i}");
        using var s = new ModuleSession();
        // A slow consumer keeps the stream open for about 4 s; -RequestTimeoutSec 1 limits each request, not the reading of a log.
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = s.Run(_k.PowerShellSetup(_ns) + $"; $n = 0; Get-PodLog @Kube -Name {pod} -Raw -RequestTimeoutSec 1 | ForEach-Object {{ if ((++$n % 5) -eq 0) {{ [System.Threading.Thread]::Sleep(1) }} }}; $n");
        Assert.Empty(r.Errors);
        Assert.True(sw.Elapsed > TimeSpan.FromSeconds(2), $"the consumer was not slow enough to prove anything ({sw.Elapsed.TotalSeconds:0.0} s)");
        Assert.Equal(20_000, Convert.ToInt32(Assert.Single(r.Output).BaseObject));
    }

    [Fact]
    public void Metrics_api_not_served_is_one_clear_error()
    {
        if (_k.External) return; // a real cluster may well serve metrics.k8s.io
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-PodResourceUsage @Kube");
        Assert.Empty(r.Output);
        var error = r.Terminating is RuntimeException rt ? rt.ErrorRecord : Assert.Single(r.Errors);
        Assert.Equal("KubeMetricsNotServed,OpsTools.Commands.Kubernetes.GetPodResourceUsageCommand", error.FullyQualifiedErrorId);
        Assert.Contains("serves no metrics API (metrics.k8s.io", error.Exception.Message);
        Assert.Contains("install metrics-server", error.Exception.Message);
        Assert.Contains(_k.Context, error.Exception.Message);
    }
}
