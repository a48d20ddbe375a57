using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Checklists;

/// <summary>Invoke-WeeklyMaintenance's image prune step, for an environment with a Docker section (and no databases).</summary>
[Collection("Docker")]
public sealed class WeeklyMaintenanceDockerTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-weekly-docker-").FullName;

    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    private static string Str(PSObject o, string p) => o.Properties[p]?.Value?.ToString() ?? "";

    private string Env(string host)
    {
        var path = Path.Combine(_dir, $"docker{Guid.NewGuid():N}.ops.psd1");
        File.WriteAllText(path, $"@{{ Name = 'dockerweekly'; Docker = @{{ Host = '{host}' }} }}");
        return path;
    }

    [Fact]
    public void The_image_step_honours_WhatIf_and_reports_the_space_as_a_check_result()
    {
        // A dangling image: -WhatIf must leave it (and every other image) where it is.
        var tag = $"opstools-weekly-{Guid.NewGuid():N}"[..28] + ":1";
        var a = _d.Docker("commit", "--change", "LABEL opstools.weekly=1", _d.Docker("create", "--label", $"{DockerEngine.TestLabel}={_d.RunId}", DockerEngine.BaseImage, "true"), tag);
        _d.Docker("commit", "--change", "LABEL opstools.weekly=2", _d.Docker("ps", "-aq", "--filter", $"label={DockerEngine.TestLabel}={_d.RunId}", "--filter", $"ancestor={DockerEngine.BaseImage}").Split('\n')[0], tag);
        try
        {
            using var s = new ModuleSession();
            var r = s.Run($"Invoke-WeeklyMaintenance -Environment '{Env(_d.Host)}' -WhatIf");
            Assert.Null(r.Terminating);
            var step = Assert.Single(r.Output, o => Str(o, "Check") == "ImagePrune");
            Assert.Equal("Healthy", Str(step, "Status"));
            Assert.Equal("Docker", Str(step, "Area"));
            Assert.Equal("dockerweekly", Str(step, "Environment"));
            Assert.Contains("would remove", Str(step, "Message"));
            Assert.Matches(@"\(\d+ bytes\)", Str(step, "Message"));
            Assert.True(long.Parse(Str(step, "Value")) >= 0);
            _d.Docker("image", "inspect", a); // still there
            _d.Docker("image", "inspect", DockerEngine.BaseImage);
            _d.Docker("image", "inspect", DockerEngine.WebImage);

            var skipped = s.Run($"Invoke-WeeklyMaintenance -Environment '{Env(_d.Host)}' -Skip ImagePrune -WhatIf");
            Assert.DoesNotContain(skipped.Output, o => Str(o, "Check") == "ImagePrune");
        }
        finally
        {
            _d.RemoveTestContainers();
            try { _d.Docker("rmi", "-f", a); } catch (InvalidOperationException) { }
            try { _d.Docker("rmi", "-f", tag); } catch (InvalidOperationException) { }
        }
    }

    [Fact]
    public void An_unreachable_engine_is_Unknown_not_a_silent_pass()
    {
        using var s = new ModuleSession();
        var r = s.Run($"Invoke-WeeklyMaintenance -Environment '{Env("unix:///tmp/opstools-no-engine.sock")}'");
        Assert.Null(r.Terminating);
        var step = Assert.Single(r.Output, o => Str(o, "Check") == "ImagePrune");
        Assert.Equal("Unknown", Str(step, "Status"));
        Assert.Contains("opstools-no-engine.sock", Str(step, "Message"));
    }
}
