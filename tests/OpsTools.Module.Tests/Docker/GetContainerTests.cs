using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Docker;

/// <summary>Get-Container against the real engine: the objects say what docker inspect says.</summary>
[Collection("Docker")]
public sealed class GetContainerTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _project = fixture.Engine.NewProject("get");

    public void Dispose() => _d.RemoveTestContainers(_project);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    [Fact]
    public void Compose_containers_come_with_project_service_health_restarts_and_ports()
    {
        _d.RunComposeContainer(_project, "api", 1, extra: new[] { "-p", "127.0.0.1::8080" });
        _d.RunComposeContainer(_project, "api", 2);
        _d.RunComposeContainer(_project, "worker", 1);
        _d.WaitForHealth($"{_project}_api_1", "healthy");
        _d.WaitForHealth($"{_project}_api_2", "healthy");
        _d.Docker("exec", $"{_project}_api_2", "touch", "/tmp/unhealthy");
        _d.WaitForHealth($"{_project}_api_2", "unhealthy");
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $"; Get-Container @Docker -ComposeProject {_project}");
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { $"{_project}_api_1", $"{_project}_api_2", $"{_project}_worker_1" }, r.Output.Select(o => (string)P(o, "Name")!));
        var api1 = r.Output[0];
        Assert.Equal("OpsTools.Docker.ContainerInfo", api1.BaseObject.GetType().FullName);
        Assert.Equal(_project, P(api1, "ComposeProject"));
        Assert.Equal("api", P(api1, "ComposeService"));
        Assert.Equal(1, P(api1, "ComposeNumber"));
        Assert.Equal("running", P(api1, "State"));
        Assert.Equal("healthy", P(api1, "Health"));
        Assert.Equal("ok", P(api1, "LastHealthOutput"));
        Assert.Equal(DockerEngine.WebImage, P(api1, "Image"));
        var port = _d.Docker("port", $"{_project}_api_1", "8080/tcp").Split(':').Last();
        Assert.Contains($"127.0.0.1:{port}->8080/tcp", ((System.Collections.IEnumerable)P(api1, "Ports")!).Cast<object>().Select(o => o.ToString()));
        Assert.Equal("unhealthy", P(r.Output[1], "Health"));
        // filters
        var unhealthy = s.Run(_d.PowerShellSetup() + $"; Get-Container @Docker -ComposeProject {_project} -Health unhealthy");
        Assert.Equal($"{_project}_api_2", (string)P(Assert.Single(unhealthy.Output), "Name")!);
        var worker = s.Run(_d.PowerShellSetup() + $"; Get-Container @Docker -ComposeProject {_project} -ComposeService worker");
        Assert.Equal($"{_project}_worker_1", (string)P(Assert.Single(worker.Output), "Name")!);
    }

    [Fact]
    public void A_container_that_does_not_exist_is_an_error_naming_it()
    {
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + "; Get-Container @Docker -Name no-such-container");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("DockerObjectNotFound,", e.FullyQualifiedErrorId);
        Assert.Contains("'no-such-container'", e.Exception.Message);
    }

    [Fact]
    public void An_engine_that_is_not_running_is_one_clear_error()
    {
        using var s = new ModuleSession();
        var r = s.Run("Get-Container -DockerHost unix:///tmp/opstools-no-engine.sock");
        var e = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
        Assert.StartsWith("DockerUnreachable,", e.FullyQualifiedErrorId);
        Assert.Contains("unix:///tmp/opstools-no-engine.sock", e.Exception.Message);
        Assert.Contains("Docker daemon running", e.Exception.Message);
    }
}
