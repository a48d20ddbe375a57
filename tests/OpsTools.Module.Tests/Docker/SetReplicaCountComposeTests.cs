using System.Diagnostics;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Docker;

/// <summary>Set-ReplicaCount -ComposeProject/-Service against the real engine: scaled the way docker compose --scale does.</summary>
[Collection("Docker")]
public sealed class SetReplicaCountComposeTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _project = fixture.Engine.NewProject("scale");
    private string Net => $"{_project}_default";

    public void Dispose()
    {
        _d.RemoveTestContainers(_project);
        try { _d.Docker("network", "rm", Net); } catch (InvalidOperationException) { }
    }

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private string Setup => _d.PowerShellSetup() + "; ";

    private string[] Names(string service = "api") =>
        _d.Docker("ps", "-a", "--filter", $"label=com.docker.compose.project={_project}", "--filter", $"label=com.docker.compose.service={service}", "--format", "{{.Names}}")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).OrderBy(x => x, StringComparer.Ordinal).ToArray();

    /// <summary>A one-replica service on a project network with an alias, like compose creates it.</summary>
    private void Api(int number = 1, IEnumerable<string>? extra = null)
    {
        try { _d.Docker("network", "inspect", Net); }
        catch (InvalidOperationException) { _d.Docker("network", "create", "--label", $"{DockerEngine.TestLabel}={_d.RunId}", Net); }
        _d.RunComposeContainer(_project, "api", number, extra: new[] { "--network", Net, "--network-alias", "api", "-e", "MODE=prod", "--restart", "unless-stopped" }.Concat(extra ?? Array.Empty<string>()));
    }

    [Fact]
    public void Scale_up_copies_the_highest_numbered_container_and_waits_until_healthy()
    {
        Api();
        using var s = new ModuleSession();
        var r = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 3 -Wait -TimeoutSec 60");
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        Assert.Equal("OpsTools.ScaleResult", o.BaseObject.GetType().FullName);
        Assert.Equal("Docker", P(o, "Platform"));
        Assert.Equal(_project, P(o, "Namespace"));
        Assert.Equal("ComposeService", P(o, "Kind"));
        Assert.Equal("api", P(o, "Name"));
        Assert.Equal(1, P(o, "PreviousReplicas"));
        Assert.Equal(3, P(o, "DesiredReplicas"));
        Assert.Equal(3, P(o, "ReadyReplicas"));
        Assert.Equal(true, P(o, "Changed"));
        Assert.Equal("Complete", P(o, "State"));
        Assert.Equal(new[] { $"{_project}_api_1", $"{_project}_api_2", $"{_project}_api_3" }, Names());
        foreach (var n in new[] { 2, 3 })
        {
            var c = $"{_project}_api_{n}";
            Assert.Equal(n.ToString(), _d.Inspect(c, "{{index .Config.Labels \"com.docker.compose.container-number\"}}"));
            Assert.Equal(_project, _d.Inspect(c, "{{index .Config.Labels \"com.docker.compose.project\"}}"));
            Assert.Equal("api", _d.Inspect(c, "{{index .Config.Labels \"com.docker.compose.service\"}}"));
            Assert.Equal(_d.RunId, _d.Inspect(c, $"{{{{index .Config.Labels \"{DockerEngine.TestLabel}\"}}}}"));
            Assert.Equal(DockerEngine.WebImage, _d.Inspect(c, "{{.Config.Image}}"));
            Assert.Contains("MODE=prod", _d.Inspect(c, "{{json .Config.Env}}"));
            Assert.Equal("unless-stopped", _d.Inspect(c, "{{.HostConfig.RestartPolicy.Name}}"));
            Assert.Equal(Net, _d.Inspect(c, "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}"));
            Assert.Contains("api", _d.Inspect(c, $"{{{{json (index .NetworkSettings.Networks \"{Net}\").Aliases}}}}"));
            Assert.Equal("healthy", _d.Inspect(c, "{{.State.Health.Status}}"));
        }
    }

    [Fact]
    public void Scale_down_removes_the_highest_numbers_and_works_when_one_replica_is_already_gone()
    {
        Api(1); Api(2); Api(3);
        using var s = new ModuleSession();
        var r = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 1 -Timeout 2");
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        Assert.Equal(3, P(o, "PreviousReplicas"));
        Assert.Equal(1, P(o, "DesiredReplicas"));
        Assert.Equal(new[] { $"{_project}_api_1" }, Names());

        // Replica 2 removed behind our back: 1 and 3 run; scaling to 1 removes 3, and the result says 2 -> 1.
        Api(2); Api(3);
        _d.Docker("rm", "-f", $"{_project}_api_2");
        var gone = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 1 -Timeout 2");
        Assert.Empty(gone.Errors);
        var g = Assert.Single(gone.Output);
        Assert.Equal(2, P(g, "PreviousReplicas"));
        Assert.Equal(new[] { $"{_project}_api_1" }, Names());

        // Up again after the gap: the next number above every existing one.
        var up = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 2");
        Assert.Empty(up.Errors);
        Assert.Equal(new[] { $"{_project}_api_1", $"{_project}_api_2" }, Names());
    }

    [Fact]
    public void Scaling_to_zero_asks_first_and_WhatIf_changes_nothing()
    {
        Api(1); Api(2);
        using var s = new ModuleSession();
        s.Host.ChoiceAnswer = 1; // No
        var declined = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 0");
        Assert.Empty(declined.Output);
        Assert.Empty(declined.Errors);
        Assert.Contains(s.Host.Prompts, p => p.Contains("Scale to zero") && p.Contains(_project));
        Assert.Equal(2, Names().Length);

        var whatIf = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 0 -WhatIf");
        Assert.Empty(whatIf.Output);
        Assert.Contains("Scale from 2 to 0 replicas", s.Host.Text);
        var whatIfUp = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 4 -WhatIf");
        Assert.Empty(whatIfUp.Output);
        Assert.Equal(2, Names().Length);

        var forced = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 0 -Force -Timeout 1");
        Assert.Empty(forced.Errors);
        Assert.Equal(0, P(Assert.Single(forced.Output), "DesiredReplicas"));
        Assert.Empty(Names());
    }

    [Fact]
    public void Replicas_that_never_become_healthy_time_out_with_a_result_and_an_error()
    {
        try { _d.Docker("network", "inspect", Net); }
        catch (InvalidOperationException) { _d.Docker("network", "create", "--label", $"{DockerEngine.TestLabel}={_d.RunId}", Net); }
        _d.RunComposeContainer(_project, "bad", 1, DockerEngine.BaseImage,
            new[] { "--network", Net, "--health-cmd", "false", "--health-interval", "1s", "--health-retries", "1" }, new[] { "sleep", "3600" });
        using var s = new ModuleSession();
        var r = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service bad -Replicas 2 -Wait -TimeoutSec 4 -Timeout 1");
        var o = Assert.Single(r.Output);
        Assert.Equal("TimedOut", P(o, "State"));
        Assert.Equal(2, P(o, "DesiredReplicas"));
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("ComposeScaleTimedOut,", e.FullyQualifiedErrorId);
        Assert.Contains($"{_project}_bad_2", e.Exception.Message);
        Assert.Equal(2, Names("bad").Length);
    }

    [Fact]
    public void Ctrl_C_while_waiting_stops_promptly_and_keeps_the_new_replicas()
    {
        _d.RunComposeContainer(_project, "bad", 1, DockerEngine.BaseImage,
            new[] { "--health-cmd", "false", "--health-interval", "1s" }, new[] { "sleep", "3600" });
        using var s = new ModuleSession();
        using var cts = new CancellationTokenSource();
        var cancelledAt = Stopwatch.StartNew();
        var watcher = Task.Run(() =>
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(30))
            {
                try { if (s.Host.ProgressRecords.ToList().Any(p => (p.Activity ?? "").Contains("Waiting for Compose service"))) break; }
                catch (InvalidOperationException) { }
                Thread.Sleep(50);
            }
            cancelledAt.Restart();
            cts.Cancel();
        });
        var r = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service bad -Replicas 2 -Wait -TimeoutSec 120", cts.Token);
        var took = cancelledAt.Elapsed;
        watcher.Wait();
        Assert.True(took < TimeSpan.FromSeconds(5), $"stopping took {took}");
        Assert.True(r.Terminating is null or PipelineStoppedException, r.Terminating?.ToString());
        Assert.Empty(r.Output);
        Assert.Equal(2, Names("bad").Length);
    }

    [Fact]
    public void Errors_name_the_cause_no_container_fixed_host_port_no_project()
    {
        using var s = new ModuleSession();
        var none = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service nothing -Replicas 2");
        Assert.Empty(none.Output);
        var e = Assert.Single(none.Errors);
        Assert.StartsWith("ComposeServiceNotFound,", e.FullyQualifiedErrorId);
        Assert.Contains("compose file", e.Exception.Message);

        Api(1, new[] { "-p", "127.0.0.1:0:8080" }); // ephemeral: fine
        _d.RunComposeContainer(_project, "web", 1, extra: new[] { "-p", "127.0.0.1:18093:8080" });
        var fixedPort = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service web -Replicas 2");
        var f = Assert.Single(fixedPort.Errors);
        Assert.StartsWith("ComposeFixedHostPort,", f.FullyQualifiedErrorId);
        Assert.Contains("18093", f.Exception.Message);
        Assert.Single(Names("web"));
        var ephemeral = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service web -Replicas 2 -EphemeralHostPort");
        Assert.Empty(ephemeral.Errors);
        Assert.Equal(2, Names("web").Length);
        Assert.NotEqual("18093", _d.Docker("port", $"{_project}_web_2", "8080/tcp").Split(':').Last());

        var up = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 2");
        Assert.Empty(up.Errors);

        var noProject = s.Run(Setup + "Set-ReplicaCount @Docker -Service api -Replicas 2");
        var t = noProject.Terminating is IContainsErrorRecord term ? term.ErrorRecord : Assert.Single(noProject.Errors);
        Assert.StartsWith("ComposeProjectMissing,", t.FullyQualifiedErrorId);

        var kube = s.Run(Setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 3 -Namespace prod");
        var k = kube.Terminating is IContainsErrorRecord kt ? kt.ErrorRecord : Assert.Single(kube.Errors);
        // The Kubernetes parameters are not in the Compose parameter set: the binder refuses the call, nothing is read or scaled.
        Assert.StartsWith("AmbiguousParameterSet,", k.FullyQualifiedErrorId);
        Assert.Equal(2, Names().Length);
    }
}
