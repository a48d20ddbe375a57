using System.Management.Automation;
using OpsTools.Module.Tests.Kubernetes;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Logs;

/// <summary>Measure-LogError and Search-Log over a real container on the Docker engine; counts compared with docker logs | grep -c.</summary>
[Collection("Docker")]
public sealed class LogContainerTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _project = fixture.Engine.NewProject("logs");

    public void Dispose() => _d.RemoveTestContainers(_project);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static long L(PSObject o, string name) => Convert.ToInt64(P(o, name));

    [Fact]
    public void A_container_writing_json_lines_and_plain_errors_is_analysed_and_counts_match_docker_logs_grep()
    {
        // 60 JSON lines (every third an error, every fifth a 401), stderr errors, then it keeps running.
        const string script = "i=0; while [ $i -lt 60 ]; do if [ $((i % 3)) -eq 0 ]; then l=error; else l=info; fi; if [ $((i % 5)) -eq 0 ]; then s=401; else s=200; fi; " +
                              "echo \"{\\\"level\\\":\\\"$l\\\",\\\"msg\\\":\\\"request $i done\\\",\\\"status\\\":$s}\"; i=$((i+1)); done; " +
                              "echo 'FATAL: db down' >&2; echo 'FATAL: db down' >&2; echo done-writing; sleep 3600";
        _d.RunComposeContainer(_project, "api", 1, DockerEngine.BaseImage, null, new[] { "sh", "-c", script });
        var name = $"{_project}_api_1";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!_d.Docker("logs", name).Contains("done-writing"))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the container did not write its lines");
            Thread.Sleep(200);
        }
        var grep = long.Parse(LogFileTests.Sh($"docker -H {_d.Host} logs {name} 2>&1 | grep -ciE 'error|critical|fatal'"));
        var all = long.Parse(LogFileTests.Sh($"docker -H {_d.Host} logs {name} 2>&1 | wc -l"));
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $"; Measure-LogError @Docker -Container {name}");
        Assert.Empty(r.Errors);
        var sum = Assert.Single(r.Output);
        Assert.Equal("Container", P(sum, "SourceKind"));
        Assert.Equal("Json", P(sum, "Format")!.ToString());
        Assert.Equal(all, L(sum, "LinesRead"));
        Assert.Equal(grep, L(sum, "Matched") + L(sum, "UnparsedMatching"));
        Assert.Equal(3, L(sum, "Unparsed")); // the two FATAL lines and done-writing are not JSON: reported, not dropped
        Assert.True((bool)P(sum, "Reconciled")!);
        Assert.Equal(12, L(sum, "Status401"));
        // the engine's timestamps give the lines their time: all within the last minutes
        Assert.InRange((DateTime)P(sum, "LastTime")!, DateTime.UtcNow.AddMinutes(-5), DateTime.UtcNow.AddMinutes(1));

        // the Compose project as a source, and -Since in the future reads nothing
        var project = Assert.Single(s.Run(_d.PowerShellSetup() + $"; Measure-LogError @Docker -ComposeProject {_project}").Output);
        Assert.Equal(L(sum, "Matched"), L(project, "Matched"));
        var none = s.Run(_d.PowerShellSetup() + $"; Search-Log @Docker -Container {name} -Pattern fatal -Count");
        Assert.Equal(2, L(Assert.Single(none.Output), "Count"));

        // an engine that is not there: an Unknown result that says why (Measure-LogError), not a silent zero
        var down = s.Run($"Measure-LogError -DockerHost tcp://127.0.0.1:1 -Container {name} -RequestTimeoutSec 3");
        Assert.True(down.Errors.Count > 0 || down.Output.Any(o => P(o, "Status")!.ToString() == "Unknown"));
    }
}

/// <summary>Measure-LogError over every pod of a deployment through the real API server's log proxy (the fake kubelet serves the lines).</summary>
[Collection("Kubernetes")]
public sealed class LogPodTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;

    public LogPodTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("logs");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static long L(PSObject o, string name) => Convert.ToInt64(P(o, name));

    [Fact]
    public void Every_pod_of_a_deployment_is_read_whole_without_a_tail_and_the_previous_containers_too()
    {
        if (_k.External) return; // the lines are written by the fake kubelet
        var pods = PodTestSupport.CreateAndWait(_k, _ns, "api", PodBehaviour.Ready, replicas: 2).Select(p => PodTestSupport.Name(p!)).OrderBy(n => n).ToArray();
        var now = DateTime.UtcNow;
        var written = new List<string>();
        foreach (var pod in pods)
            for (var i = 0; i < 40; i++) // more than kubectl logs -l's silent --tail=10
            {
                var text = i % 4 == 0 ? $"ERROR upstream {i} timed out after {i * 10} ms" : $"INFO GET /health 200 ({i})";
                _k.Kubelet!.AppendLog(_ns, pod, "api", text, at: now.AddMinutes(-40 + i));
                written.Add(text);
            }
        _k.Kubelet!.AppendLog(_ns, pods[0], "api", "FATAL out of memory", previous: true, at: now.AddHours(-1));
        var file = Path.Combine(Path.GetTempPath(), $"opstools-podlog-{Guid.NewGuid():N}.txt");
        File.WriteAllLines(file, written);
        try
        {
            using var s = new ModuleSession();
            var r = s.Run(_k.PowerShellSetup(_ns) + "; Measure-LogError @Kube -Deployment api");
            Assert.Empty(r.Errors);
            var sum = Assert.Single(r.Output);
            Assert.Equal(80, L(sum, "LinesRead"));
            Assert.Equal(long.Parse(LogFileTests.Sh($"grep -ciE 'error|critical|fatal' {file}")), L(sum, "Matched"));
            Assert.Equal(2, ((System.Collections.ICollection)P(sum, "Inputs")!).Count);
            var template = PSObject.AsPSObject(((System.Collections.IEnumerable)P(sum, "Templates")!).Cast<object>().First());
            Assert.Equal("upstream <NUM> timed out after <NUM> ms", P(template, "Template"));
            // -Since cuts on the times the kubelet stamped: the last 22 minutes hold lines 19..39 of each pod (errors 20, 24, 28, 32, 36)
            var recent = Assert.Single(s.Run(_k.PowerShellSetup(_ns) + "; Measure-LogError @Kube -Deployment api -Since 22m").Output);
            Assert.Equal(2 * 5, L(recent, "Matched"));
            // the previous container of the first pod
            var prev = s.Run(_k.PowerShellSetup(_ns) + $"; Search-Log @Kube -Pod {pods[0]} -PodContainer api -Previous -Pattern fatal");
            Assert.Equal("FATAL out of memory", P(Assert.Single(prev.Output), "Line"));
        }
        finally { File.Delete(file); }
    }
}
