using System.Diagnostics;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Docker;

/// <summary>Restart-Container, Start-Container, Stop-Container against the real engine: checked with docker inspect.</summary>
[Collection("Docker")]
public sealed class ContainerLifecycleTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _project = fixture.Engine.NewProject("life");

    public void Dispose() => _d.RemoveTestContainers(_project);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private string StartedAt(string c) => _d.Inspect(c, "{{.State.StartedAt}}");
    private string State(string c) => _d.Inspect(c, "{{.State.Status}}");

    private string Web(string service = "api", int n = 1)
    {
        _d.RunComposeContainer(_project, service, n);
        var name = $"{_project}_{service}_{n}";
        _d.WaitForHealth(name, "healthy");
        return name;
    }

    private string Unhealthy()
    {
        var name = Web("bad");
        _d.Docker("exec", name, "touch", "/tmp/unhealthy");
        _d.WaitForHealth(name, "unhealthy");
        return name;
    }

    [Fact]
    public void Restart_really_restarts_and_Wait_returns_it_healthy()
    {
        var name = Web();
        var before = StartedAt(name);
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $"; Restart-Container @Docker -Name {name} -Timeout 5 -Wait -TimeoutSec 60");
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        Assert.Equal("OpsTools.Docker.ContainerActionResult", o.BaseObject.GetType().FullName);
        Assert.Equal("Restart", P(o, "Action"));
        Assert.Equal("healthy", P(o, "HealthBefore"));
        Assert.Equal("running", P(o, "State"));
        Assert.Equal("healthy", P(o, "Health"));
        Assert.Equal(false, P(o, "TimedOut"));
        Assert.NotEqual(before, StartedAt(name));
        Assert.Equal("healthy", _d.Inspect(name, "{{.State.Health.Status}}"));
        Assert.Contains(r.Progress, p => p.Activity.Contains(name));
    }

    [Fact]
    public void Piped_Get_Container_objects_restart_on_their_own_engine()
    {
        var a = Web("api", 1);
        var b = Web("api", 2);
        var w = Web("worker", 1);
        var (sa, sb, sw) = (StartedAt(a), StartedAt(b), StartedAt(w));
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $"; Get-Container @Docker -ComposeProject {_project} -ComposeService api | Restart-Container -Timeout 2 -Wait -TimeoutSec 60");
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { a, b }, r.Output.Select(o => (string)P(o, "Name")!));
        Assert.NotEqual(sa, StartedAt(a));
        Assert.NotEqual(sb, StartedAt(b));
        Assert.Equal(sw, StartedAt(w));
    }

    [Fact]
    public void A_container_that_never_becomes_healthy_times_out_with_a_result_and_an_error()
    {
        var name = Unhealthy(); // /tmp/unhealthy lives in the container's file system: it survives the restart
        using var s = new ModuleSession();
        var watch = Stopwatch.StartNew();
        var r = s.Run(_d.PowerShellSetup() + $"; Restart-Container @Docker {name} -Timeout 2 -Wait -TimeoutSec 4");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(25), $"took {watch.Elapsed}");
        var o = Assert.Single(r.Output);
        Assert.Equal(true, P(o, "TimedOut"));
        Assert.NotEqual("healthy", P(o, "Health"));
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("DockerHealthTimedOut,", e.FullyQualifiedErrorId);
        Assert.Contains(name, e.Exception.Message);
        Assert.Contains("4 s", e.Exception.Message);

        var stop = s.Run(_d.PowerShellSetup() + $"; Restart-Container @Docker {name} -Timeout 2 -Wait -TimeoutSec 2 -ErrorAction Stop; 'after'");
        Assert.NotNull(stop.Terminating);
        Assert.DoesNotContain(stop.Output, x => Equals(x.BaseObject, "after"));
        var dollar = s.Run(_d.PowerShellSetup() + $"; Restart-Container @Docker {name} -Timeout 2 -Wait -TimeoutSec 2 -ErrorAction SilentlyContinue; $?");
        Assert.Equal(false, dollar.Output.Last().BaseObject);
    }

    [Fact]
    public void WhatIf_changes_nothing()
    {
        var name = Web();
        var before = StartedAt(name);
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $"; Restart-Container @Docker {name} -WhatIf; Stop-Container @Docker {name} -WhatIf; Stop-Container @Docker {name} -Force -WhatIf");
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output);
        Assert.Contains("Restart", s.Host.Text);
        Assert.Contains(name, s.Host.Text);
        Assert.Equal(before, StartedAt(name));
        Assert.Equal("running", State(name));
    }

    [Fact]
    public void A_missing_name_is_DockerObjectNotFound_naming_it_and_the_others_go_on()
    {
        var name = Web();
        var before = StartedAt(name);
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $"; Restart-Container @Docker -Name no-such-container-x1, {name} -Timeout 2");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("DockerObjectNotFound,", e.FullyQualifiedErrorId);
        Assert.Contains("'no-such-container-x1'", e.Exception.Message);
        Assert.Equal(name, (string)P(Assert.Single(r.Output), "Name")!);
        Assert.NotEqual(before, StartedAt(name));
    }

    [Fact]
    public void Stop_asks_unless_Force_and_Start_Wait_brings_it_back_healthy()
    {
        var name = Web();
        using var s = new ModuleSession();
        s.Host.ChoiceAnswer = 2; // "No" at the ConfirmImpact High prompt
        var declined = s.Run(_d.PowerShellSetup() + $"; Stop-Container @Docker {name}");
        Assert.Empty(declined.Output);
        Assert.Contains(s.Host.Prompts, p => p.Contains(name));
        Assert.Equal("running", State(name));

        var stopped = s.Run(_d.PowerShellSetup() + $"; Stop-Container @Docker {name} -Force -Timeout 3");
        Assert.Empty(stopped.Errors);
        var o = Assert.Single(stopped.Output);
        Assert.Equal("running", P(o, "StateBefore"));
        Assert.Equal("exited", P(o, "State"));
        Assert.Equal("exited", State(name));

        var started = s.Run(_d.PowerShellSetup() + $"; Get-Container @Docker -All -Name {name} | Start-Container -Wait -TimeoutSec 60");
        Assert.Empty(started.Errors);
        var st = Assert.Single(started.Output);
        Assert.Equal("exited", P(st, "StateBefore"));
        Assert.Equal("healthy", P(st, "Health"));
        Assert.Equal("running", State(name));
    }

    [Fact]
    public void CtrlC_during_Wait_stops_waiting_promptly()
    {
        var name = Unhealthy();
        using var s = new ModuleSession();
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            var sw = Stopwatch.StartNew();
            while (s.Host.ProgressRecords.Count(p => p.Activity.Contains("Waiting")) < 3 && sw.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(100);
            stop.Cancel();
        });
        var watch = Stopwatch.StartNew();
        var r = s.Run(_d.PowerShellSetup() + $"; Restart-Container @Docker {name} -Timeout 2 -Wait -TimeoutSec 300", stopAfter: stop.Token);
        watcher.Wait(TimeSpan.FromSeconds(5));
        Assert.True(stop.IsCancellationRequested);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(40), $"took {watch.Elapsed}");
        Assert.Empty(r.Output);
    }

    [Fact]
    public void The_engine_going_away_during_Wait_ends_with_DockerUnreachable_naming_it()
    {
        var name = Unhealthy();
        using var proxy = new DockerSocketProxy();
        using var s = new ModuleSession();
        var cutter = Task.Run(async () =>
        {
            var sw = Stopwatch.StartNew();
            while (s.Host.ProgressRecords.Count(p => p.Activity.Contains("Waiting")) < 3 && sw.Elapsed < TimeSpan.FromSeconds(60)) await Task.Delay(100);
            proxy.Cut();
        });
        var watch = Stopwatch.StartNew();
        var r = s.Run($"Restart-Container -DockerHost {proxy.Host} {name} -Timeout 2 -Wait -TimeoutSec 120");
        cutter.Wait(TimeSpan.FromSeconds(5));
        Assert.True(proxy.IsCut);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), $"took {watch.Elapsed}");
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("DockerUnreachable,", e.FullyQualifiedErrorId);
        Assert.Contains(proxy.Host, e.Exception.Message);
    }
}
