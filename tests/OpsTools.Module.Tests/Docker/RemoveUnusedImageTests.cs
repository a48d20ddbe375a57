using System.Diagnostics;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Docker;

/// <summary>Remove-UnusedImage against the real engine, on throwaway images with a label unique to the test (the fixture's images are never touched).</summary>
[Collection("Docker")]
public sealed class RemoveUnusedImageTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];
    private string Label => $"opstools.prune={_id}";
    private string Repo => $"opstools-prune-{_id}";
    private readonly List<string> _containers = new();

    public void Dispose()
    {
        foreach (var c in _containers) try { _d.Docker("rm", "-f", c); } catch (InvalidOperationException) { }
        var ids = _d.Docker("images", "-aq", "--filter", $"label={Label}").Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct();
        foreach (var i in ids) try { _d.Docker("rmi", "-f", i); } catch (InvalidOperationException) { }
    }

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    /// <summary>docker build (legacy builder) FROM the base image with the test's label; a new content each time, so rebuilding a tag leaves the old image dangling.</summary>
    private string Build(string tag)
    {
        var dir = Directory.CreateTempSubdirectory("opstools-prune-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "Dockerfile"),
                $"FROM {DockerEngine.BaseImage}\nLABEL opstools.prune={_id}\nRUN echo {Guid.NewGuid():N} > /stamp && dd if=/dev/zero of=/blob bs=1024 count=64 2>/dev/null\n");
            var psi = new ProcessStartInfo(DockerEngine.Cli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.Environment["DOCKER_BUILDKIT"] = "0";
            foreach (var a in new[] { "-H", _d.Host, "build", "-q", "-t", $"{Repo}:{tag}", dir }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit(120_000);
            if (p.ExitCode != 0) throw new InvalidOperationException($"docker build failed: {stderr.Result}");
            return stdout.Result.Trim();
        }
        finally { Directory.Delete(dir, true); }
    }

    private bool Exists(string image)
    {
        try { _d.Docker("image", "inspect", image); return true; }
        catch (InvalidOperationException) { return false; }
    }

    private void AssertFixtureImagesSurvive()
    {
        Assert.True(Exists(DockerEngine.BaseImage));
        Assert.True(Exists(DockerEngine.WebImage));
    }

    [Fact]
    public void Dangling_images_go_WhatIf_lists_them_first_and_images_of_stopped_containers_stay()
    {
        var dangling = Build("app");
        Build("app"); // the first one is now <none>:<none>
        var usedOld = Build("worker");
        var c = _d.Docker("create", "--label", $"{DockerEngine.TestLabel}={_d.RunId}", $"{Repo}:worker", "true");
        _containers.Add(c);
        Build("worker"); // usedOld is dangling, but a stopped container uses it
        using var s = new ModuleSession();

        var whatIf = s.Run(_d.PowerShellSetup() + $"; Remove-UnusedImage @Docker -Filter '{Label}' -WhatIf");
        Assert.Empty(whatIf.Errors);
        var w = Assert.Single(whatIf.Output);
        Assert.Equal(true, P(w, "WhatIf"));
        var listed = ((System.Collections.IEnumerable)P(w, "Images")!).Cast<object>().Select(o => (string)P(PSObject.AsPSObject(o), "Id")!).ToList();
        Assert.Equal(new[] { dangling }, listed);
        Assert.True((long)P(w, "ReclaimedBytes")! > 60_000);
        Assert.True(Exists(dangling));

        var r = s.Run(_d.PowerShellSetup() + $"; Remove-UnusedImage @Docker -Filter '{Label}'");
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        Assert.Equal("OpsTools.Docker.ImagePruneResult", o.BaseObject.GetType().FullName);
        Assert.Equal(1, P(o, "Count"));
        Assert.Equal("Dangling", P(o, "Mode"));
        Assert.True((long)P(o, "ReclaimedBytes")! > 60_000);
        Assert.Matches(@"^\d+(\.\d+)? (kB|MB)$", (string)P(o, "Reclaimed")!);
        Assert.False(Exists(dangling));
        Assert.True(Exists(usedOld));
        Assert.True(Exists($"{Repo}:app"));
        Assert.True(Exists($"{Repo}:worker"));
        AssertFixtureImagesSurvive();

        var again = s.Run(_d.PowerShellSetup() + $"; Remove-UnusedImage @Docker -Filter '{Label}'");
        Assert.Equal(0, P(Assert.Single(again.Output), "Count"));
    }

    [Fact]
    public void All_removes_every_unused_image_but_never_one_a_container_uses()
    {
        var unused = Build("old");
        var used = Build("live");
        _containers.Add(_d.Docker("create", "--label", $"{DockerEngine.TestLabel}={_d.RunId}", $"{Repo}:live", "true"));
        _d.Docker("tag", $"{Repo}:old", $"{Repo}:old-alias"); // two tags: both go, without -Force
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $"; Remove-UnusedImage @Docker -All -Filter '{Label}' -Confirm:$false");
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        Assert.Equal("Unused", P(o, "Mode"));
        Assert.Equal(1, P(o, "Count"));
        Assert.False(Exists(unused));
        Assert.True(Exists(used));
        AssertFixtureImagesSurvive();

        // -Until in the past of every image: nothing is old enough.
        Build("newer");
        var until = s.Run(_d.PowerShellSetup() + $"; Remove-UnusedImage @Docker -All -Filter '{Label}' -Until 1h");
        Assert.Equal(0, P(Assert.Single(until.Output), "Count"));
        Assert.True(Exists($"{Repo}:newer"));
    }

    [Fact]
    public void An_unreachable_engine_is_one_clear_error()
    {
        using var s = new ModuleSession();
        var r = s.Run("Remove-UnusedImage -DockerHost unix:///tmp/opstools-no-engine.sock");
        var e = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
        Assert.StartsWith("DockerUnreachable,", e.FullyQualifiedErrorId);
    }
}
