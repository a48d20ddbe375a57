using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Checklists;

/// <summary>The daily check's container items against the real engine: an unhealthy container is reported and fails -FailOn Critical.</summary>
[Collection("Docker")]
public sealed class DailyCheckDockerTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _project = fixture.Engine.NewProject("daily");
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-dailydk-").FullName;

    public void Dispose()
    {
        _d.RemoveTestContainers(_project);
        Directory.Delete(_dir, recursive: true);
    }

    private static string S(PSObject o, string p) => o.Properties[p]?.Value?.ToString() ?? "";

    private string Env(string host, string? project = null)
    {
        var path = Path.Combine(_dir, $"dk-{Guid.NewGuid():N}.ops.psd1");
        File.WriteAllText(path, $$"""
            @{
                Name   = 'dkdaily'
                Docker = @{ Host = '{{host}}'; ComposeProject = '{{project ?? _project}}' }
            }
            """);
        return path;
    }

    [Fact]
    public void An_unhealthy_container_is_reported_and_fails_the_check_on_critical()
    {
        _d.RunComposeContainer(_project, "web", 1);
        _d.RunComposeContainer(_project, "api", 1);
        _d.WaitForHealth($"{_project}_web_1", "healthy");
        _d.WaitForHealth($"{_project}_api_1", "healthy");
        using var s = new ModuleSession();
        var env = Env(_d.Host);

        var ok = s.Run($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory -FailOn Critical");
        Assert.Null(ok.Terminating);
        Assert.Empty(ok.Errors);
        var healthy = Assert.Single(ok.Output);
        Assert.Equal("ContainerHealth", S(healthy, "Check"));
        Assert.Equal("Healthy", S(healthy, "Status"));
        Assert.Equal("dkdaily", S(healthy, "Environment"));

        _d.Docker("exec", $"{_project}_api_1", "touch", "/tmp/unhealthy");
        _d.WaitForHealth($"{_project}_api_1", "unhealthy");
        var r = s.Run($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory");
        Assert.Empty(r.Errors);
        var api = Assert.Single(r.Output);
        Assert.Equal("Critical", S(api, "Status"));
        Assert.Equal("Docker", S(api, "Area"));
        Assert.Equal($"{_project}_api_1", S(api, "Name"));
        Assert.Contains("unhealthy", S(api, "Message"));

        r = s.Run($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory -FailOn Critical");
        var failed = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
        Assert.Equal("DailyCheckFailed", failed.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains(r.Output, o => S(o, "Check") == "ContainerHealth" && S(o, "Status") == "Critical");

        var skipped = s.Run($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory, Docker");
        Assert.Empty(skipped.Output);
    }

    [Fact]
    public void An_engine_that_cannot_be_reached_is_one_Unknown_result()
    {
        using var s = new ModuleSession();
        var r = s.Run($"Invoke-DailyCheck -Environment '{Env("unix:///tmp/opstools-no-engine-daily.sock")}' -Skip Disk, Memory");
        var unknown = Assert.Single(r.Output);
        Assert.Equal("Unknown", S(unknown, "Status"));
        Assert.Equal("ContainerHealth", S(unknown, "Check"));
        Assert.Contains("opstools-no-engine-daily.sock", S(unknown, "Message"));
    }
}
