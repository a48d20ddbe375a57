using System.Globalization;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Docker;

/// <summary>Get-ContainerLog against the real engine: a container writes known stdout and stderr lines at known times.</summary>
[Collection("Docker")]
public sealed class GetContainerLogTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _project = fixture.Engine.NewProject("log");

    public void Dispose() => _d.RemoveTestContainers(_project);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    // out-1 and err-1, two seconds of silence, then out-2, err-2 and "ERROR boom" a second apart.
    private const string Script = "echo out-1; echo err-1 >&2; sleep 2; echo out-2; sleep 1; echo err-2 >&2; sleep 1; echo 'ERROR boom'; sleep 3600";

    private string StartWriter(string service = "app", int number = 1, IEnumerable<string>? extra = null)
    {
        _d.RunComposeContainer(_project, service, number, DockerEngine.BaseImage, extra, new[] { "sh", "-c", Script });
        var name = $"{_project}_{service}_{number}";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!_d.Docker("logs", name).Contains("ERROR boom"))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{name} did not write its lines");
            Thread.Sleep(200);
        }
        return name;
    }

    [Fact]
    public void Lines_come_as_objects_with_stream_and_time_and_filter_by_tail_since_until_stream_and_pattern()
    {
        var c = StartWriter();
        using var s = new ModuleSession();
        var all = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c}");
        Assert.Empty(all.Errors);
        Assert.Equal("OpsTools.Docker.ContainerLogLine", all.Output[0].BaseObject.GetType().FullName);
        var lines = all.Output.Select(o => ((string)P(o, "Line")!, (string)P(o, "Stream")!)).ToList();
        Assert.Equal(5, lines.Count);
        Assert.Equal(new[] { ("out-1", "stdout"), ("out-2", "stdout"), ("ERROR boom", "stdout") }, lines.Where(l => l.Item2 == "stdout"));
        Assert.Equal(new[] { ("err-1", "stderr"), ("err-2", "stderr") }, lines.Where(l => l.Item2 == "stderr"));
        Assert.All(all.Output, o => Assert.Equal(c, P(o, "Container")));
        var times = all.Output.ToDictionary(o => (string)P(o, "Line")!, o => (DateTime)P(o, "Time")!);
        Assert.True(times["out-2"] - times["out-1"] >= TimeSpan.FromSeconds(1.8), $"{times["out-1"]:o} {times["out-2"]:o}");
        Assert.True(Math.Abs((DateTime.UtcNow - times["out-1"]).TotalSeconds) < 60);

        // -Tail: the last N lines over both streams, as docker logs --tail
        var tail = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Tail 2");
        Assert.Equal(new[] { "err-2", "ERROR boom" }, tail.Output.Select(o => (string)P(o, "Line")!));

        // -Since / -Until as DateTime: the cut lies in the two silent seconds
        var cut = times["out-1"].AddSeconds(1).ToString("o", CultureInfo.InvariantCulture);
        var since = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Since ([DateTime]'{cut}')");
        Assert.Equal(new[] { "out-2", "err-2", "ERROR boom" }, since.Output.Select(o => (string)P(o, "Line")!));
        var until = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Until ([DateTime]'{cut}')");
        Assert.Equal(new[] { "err-1", "out-1" }, until.Output.Select(o => (string)P(o, "Line")!).Order());
        // -Since as a TimeSpan (ago), a duration text, and -Until in the past
        Assert.Equal(5, s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Since ([TimeSpan]::FromHours(1))").Output.Count);
        Assert.Equal(5, s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Since 10m").Output.Count);
        Assert.Empty(s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Until 1h").Output);

        // -Stream
        var err = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Stream stderr");
        Assert.Equal(new[] { "err-1", "err-2" }, err.Output.Select(o => (string)P(o, "Line")!));
        Assert.Equal(3, s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Stream stdout").Output.Count);

        // -Pattern: case-insensitive unless -CaseSensitive; tested against the text
        var pattern = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Pattern 'error|ERR-2'");
        Assert.Equal(new[] { "err-2", "ERROR boom" }, pattern.Output.Select(o => (string)P(o, "Line")!));
        Assert.Empty(s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Pattern 'error' -CaseSensitive").Output);
        var bad = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} -Pattern '('");
        Assert.StartsWith("InvalidPattern", Assert.Single(bad.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Raw_gives_strings_with_timestamps_on_request_and_several_containers_are_labelled()
    {
        var a = StartWriter("app", 1);
        var b = StartWriter("app", 2);
        using var s = new ModuleSession();
        var raw = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {a} -Raw -Stream stdout");
        Assert.Equal(new[] { "out-1", "out-2", "ERROR boom" }, raw.Output.Select(o => o.BaseObject));
        var stamped = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {a} -Raw -Timestamps -Tail 1");
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z ERROR boom$", (string)Assert.Single(stamped.Output).BaseObject);
        // the CLI's timestamp is the same instant (to the 100 ns .NET keeps)
        var cli = _d.Docker("logs", "-t", "--tail", "1", a);
        Assert.StartsWith(((string)stamped.Output[0].BaseObject)[..27], cli);

        var piped = s.Run(_d.PowerShellSetup() + $"; Get-Container @Docker -ComposeProject {_project} | Get-ContainerLog -Raw -Pattern boom");
        Assert.Empty(piped.Errors);
        Assert.Equal(new[] { $"[{a}] ERROR boom", $"[{b}] ERROR boom" }, piped.Output.Select(o => o.BaseObject));
        var objects = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name '{_project}_app_*' -Pattern boom");
        Assert.Equal(new[] { a, b }, objects.Output.Select(o => (string)P(o, "Container")!));
    }

    [Fact]
    public void A_tty_container_raw_stream_is_read_too()
    {
        _d.RunComposeContainer(_project, "tty", 1, DockerEngine.BaseImage, new[] { "-t" }, new[] { "sh", "-c", "echo tty-out; echo tty-err >&2; sleep 3600" });
        var c = $"{_project}_tty_1";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!_d.Docker("logs", c).Contains("tty-err") && DateTime.UtcNow < deadline) Thread.Sleep(200);
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c}");
        Assert.Empty(r.Errors);
        // a TTY has one stream: the engine cannot tell stderr apart (docker logs neither)
        Assert.Equal(new[] { ("tty-out", "stdout"), ("tty-err", "stdout") }, r.Output.Select(o => ((string)P(o, "Line")!, (string)P(o, "Stream")!)));
    }

    [Fact]
    public void A_container_that_does_not_exist_is_an_error_naming_it()
    {
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + "; Get-ContainerLog @Docker -Name no-such-container");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("DockerObjectNotFound,", e.FullyQualifiedErrorId);
        Assert.Contains("'no-such-container'", e.Exception.Message);
    }
}

/// <summary>
/// The memory bound of Get-ContainerLog. The live heap is process-wide, so this runs alone (a collection that xUnit runs
/// after the parallel ones, with nothing beside it): another test holding a large object meanwhile would be counted here.
/// </summary>
[CollectionDefinition("DockerMemory", DisableParallelization = true)]
public sealed class DockerMemoryCollection : ICollectionFixture<DockerEngineFixture> { }

[Collection("DockerMemory")]
public sealed class GetContainerLogMemoryTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _project = fixture.Engine.NewProject("logmem");

    public void Dispose() => _d.RemoveTestContainers(_project);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    /// <summary>
    /// The log is never held whole: a container writes 200,000 lines of 300 characters (about 60 MB of text, 120 MB as
    /// .NET strings); -Pattern picks five. As each match arrives, the live heap (after a full collection) is sampled: it
    /// must stay far below what the log would take. A version that reads the whole log before filtering fails here
    /// (the heap holds every line when the first match arrives).
    /// </summary>
    [Fact]
    public void A_huge_log_is_streamed_in_bounded_memory()
    {
        const int Lines = 200_000;
        var awk = $"awk 'BEGIN {{ pad = sprintf(\"%290s\", \"\"); for (i = 1; i <= {Lines}; i++) {{ if (i % 50000 == 1 || i == {Lines}) print \"MATCH \" i; else print i \" \" pad }} }}'";
        _d.RunComposeContainer(_project, "big", 1, DockerEngine.BaseImage, null, new[] { "sh", "-c", awk });
        var c = $"{_project}_big_1";
        _d.Docker("wait", c);
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $$"""
            ; $base = [GC]::GetTotalMemory($true)
            $samples = [System.Collections.Generic.List[long]]::new()
            $ws = [System.Collections.Generic.List[long]]::new()
            $watch = [System.Diagnostics.Stopwatch]::StartNew()
            $matched = Get-ContainerLog @Docker -Name {{c}} -Pattern '^match ' -RequestTimeoutSec 1 | ForEach-Object {
                $samples.Add([GC]::GetTotalMemory($true) - $base)
                $ws.Add([System.Diagnostics.Process]::GetCurrentProcess().WorkingSet64)
                $_.Line
            }
            [pscustomobject]@{ Matched = @($matched); Samples = $samples.ToArray(); WorkingSet = $ws.ToArray(); Seconds = $watch.Elapsed.TotalSeconds }
            """);
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        var matched = ((object[])P(o, "Matched")!).Select(x => x is PSObject p ? p.BaseObject : x).Cast<string>().ToList();
        Assert.Equal(new[] { "MATCH 1", "MATCH 50001", "MATCH 100001", "MATCH 150001", $"MATCH {Lines}" }, matched);
        var samples = ((long[])P(o, "Samples")!);
        var ws = (long[])P(o, "WorkingSet")!;
        var peak = samples.Max();
        var message = $"live heap growth per match (MB): {string.Join(", ", samples.Select(x => (x / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture)))}; " +
                      $"working set (MB): {string.Join(", ", ws.Select(x => (x / 1048576.0).ToString("0", CultureInfo.InvariantCulture)))}";
        message += $"; read in {(double)P(o, "Seconds")!:0.0} s with -RequestTimeoutSec 1 (the timeout limits requests, not the stream)";
        Console.WriteLine(message);
        // 200,000 lines × 300 chars held as strings would be > 120 MB; a streamed read holds one buffer and one line.
        Assert.True(peak < 24L * 1024 * 1024, message);
    }
}
