using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Docker;

/// <summary>Get-ContainerHealth against the real engine: containers as check results.</summary>
[Collection("Docker")]
public sealed class ContainerHealthTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _project = fixture.Engine.NewProject("health");

    public void Dispose() => _d.RemoveTestContainers(_project);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static string S(PSObject o) => P(o, "Status")!.ToString()!;
    private PSObject Of(RunResult r, string service) => r.Output.Single(o => (string)P(o, "Name")! == $"{_project}_{service}_1");

    // Crashes once (exit 1), then runs: /tmp/once lives in the container's file system and survives the restart.
    private static readonly string[] CrashOnce = { "sh", "-c", "if [ -f /tmp/once ]; then exec sleep 3600; else touch /tmp/once; exit 1; fi" };

    [Fact]
    public void Unhealthy_exited_and_healthy_containers_become_check_results()
    {
        _d.RunComposeContainer(_project, "api", 1);
        _d.RunComposeContainer(_project, "bad", 1);
        _d.RunComposeContainer(_project, "job", 1, DockerEngine.BaseImage, command: new[] { "sh", "-c", "exit 3" });
        _d.RunComposeContainer(_project, "plain", 1, DockerEngine.BaseImage, command: new[] { "sleep", "3600" });
        _d.WaitForHealth($"{_project}_api_1", "healthy");
        _d.WaitForHealth($"{_project}_bad_1", "healthy");
        _d.Docker("exec", $"{_project}_bad_1", "touch", "/tmp/unhealthy");
        _d.WaitForHealth($"{_project}_bad_1", "unhealthy");
        KubeCluster.WaitFor(() => _d.Inspect($"{_project}_job_1", "{{.State.Status}}") == "exited", TimeSpan.FromSeconds(20), "job to exit");

        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $"; Get-ContainerHealth @Docker -ComposeProject {_project}");
        Assert.Empty(r.Errors);
        Assert.Equal(4, r.Output.Count);
        Assert.All(r.Output, o => Assert.Equal("OpsTools.CheckResult", o.BaseObject.GetType().BaseType!.FullName));
        Assert.Equal("Healthy", S(Of(r, "api")));
        Assert.Equal("Healthy", S(Of(r, "plain")));
        var bad = Of(r, "bad");
        Assert.Equal("Critical", S(bad));
        Assert.Equal("unhealthy", P(bad, "Health"));
        Assert.Contains("unhealthy", (string)P(bad, "Diagnosis")!);
        Assert.Contains("last check:", (string)P(bad, "Message")!);
        Assert.Equal("Docker", P(bad, "Area"));
        var job = Of(r, "job");
        Assert.Equal("Critical", S(job));
        Assert.Equal(3L, P(job, "ExitCode"));
        Assert.Contains("exited with code 3", (string)P(job, "Message")!);

        var problems = s.Run(_d.PowerShellSetup() + $"; Get-ContainerHealth @Docker -ComposeProject {_project} -Problem");
        Assert.Equal(new[] { $"{_project}_bad_1", $"{_project}_job_1" }, problems.Output.Select(o => (string)P(o, "Name")!).OrderBy(x => x));

        var piped = s.Run(_d.PowerShellSetup() + $"; Get-Container @Docker -ComposeProject {_project} -ComposeService api | Get-ContainerHealth");
        Assert.Empty(piped.Errors);
        Assert.Equal($"{_project}_api_1", (string)P(Assert.Single(piped.Output), "Name")!);

        var missing = s.Run(_d.PowerShellSetup() + "; Get-ContainerHealth @Docker -Name no-such-container-h1");
        Assert.StartsWith("DockerObjectNotFound,", Assert.Single(missing.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Restart_growth_is_reported_against_a_baseline_or_Since_and_a_snapshot_says_what_it_cannot_tell()
    {
        _d.RunComposeContainer(_project, "flaky", 1, DockerEngine.BaseImage, new[] { "--restart", "always" }, CrashOnce);
        var name = $"{_project}_flaky_1";
        KubeCluster.WaitFor(() => _d.Inspect(name, "{{.RestartCount}} {{.State.Status}}") == "1 running", TimeSpan.FromSeconds(30), "one restart");
        using var s = new ModuleSession();

        var plain = s.Run(_d.PowerShellSetup() + $"; Get-ContainerHealth @Docker {name}");
        Assert.Equal("Healthy", S(Assert.Single(plain.Output))); // 1 restart since created, under -RestartWarning 5

        var low = s.Run(_d.PowerShellSetup() + $"; Get-ContainerHealth @Docker {name} -RestartWarning 1");
        var lowResult = Assert.Single(low.Output);
        Assert.Equal("Warning", S(lowResult));
        Assert.Contains("cannot tell when", (string)P(lowResult, "Message")!);

        var baseline = s.Run(_d.PowerShellSetup() + $"; Get-ContainerHealth @Docker {name} -PreviousRestartCount @{{ '{name}' = 0 }}");
        var b = Assert.Single(baseline.Output);
        Assert.Equal("Warning", S(b));
        Assert.Equal(1L, P(b, "RestartsSinceBaseline"));

        var same = s.Run(_d.PowerShellSetup() + $"; $snap = Get-Container @Docker {name}; Get-ContainerHealth @Docker {name} -Baseline $snap");
        var sameResult = Assert.Single(same.Output);
        Assert.Equal("Healthy", S(sameResult));
        Assert.Equal(0L, P(sameResult, "RestartsSinceBaseline"));

        var since = s.Run(_d.PowerShellSetup() + $"; Get-ContainerHealth @Docker {name} -Since 1h");
        var sinceResult = Assert.Single(since.Output);
        Assert.Equal("Warning", S(sinceResult));
        Assert.Equal(true, P(sinceResult, "RestartedSince"));
    }

    [Fact]
    public void A_restart_loop_is_Critical()
    {
        _d.RunComposeContainer(_project, "loop", 1, DockerEngine.BaseImage, new[] { "--restart", "always" }, new[] { "sh", "-c", "exit 5" });
        var name = $"{_project}_loop_1";
        KubeCluster.WaitFor(() => _d.Inspect(name, "{{.State.Status}}") == "restarting", TimeSpan.FromSeconds(30), "a restart loop");
        using var s = new ModuleSession();
        PSObject? r = null;
        for (var i = 0; i < 5 && (r is null || (string)P(r, "State")! != "restarting"); i++)
            r = Assert.Single(s.Run(_d.PowerShellSetup() + $"; Get-ContainerHealth @Docker {name}").Output);
        Assert.Equal("restarting", P(r!, "State"));
        Assert.Equal("Critical", S(r!));
        Assert.Contains("restarting", (string)P(r!, "Message")!);
    }
    [Fact]
    public void The_console_views_read_like_docker_ps()
    {
        _d.RunComposeContainer(_project, "web", 1, extra: new[] { "-p", "127.0.0.1::8080" });
        var name = $"{_project}_web_1";
        _d.WaitForHealth(name, "healthy");
        var port = _d.Docker("port", name, "8080/tcp").Split(':').Last();
        using var s = new ModuleSession();
        s.Invoke(_d.PowerShellSetup() + $"; Get-Container @Docker -ComposeProject {_project} | Out-Default");
        Assert.Matches(@"NAME\s+IMAGE\s+HEALTH\s+RESTARTS\s+STATUS", s.Host.Text); // project and ports: Format-List
        Assert.Matches($@"{name}\s+opstools-test/web:1\s+healthy\s+0\s+Up .*\(healthy\)", s.Host.Text);
        Assert.Contains($"127.0.0.1:{port}->8080/tcp", s.Invoke(_d.PowerShellSetup() + $"; Get-Container @Docker -ComposeProject {_project} | Format-List Ports | Out-String").Single().ToString());
        s.Invoke(_d.PowerShellSetup() + $"; Get-ContainerHealth @Docker -ComposeProject {_project} | Out-Default");
        Assert.Matches($@"Healthy\s+{name}\s+running\s+healthy\s+'{name}' is running", s.Host.Text);
    }
}
