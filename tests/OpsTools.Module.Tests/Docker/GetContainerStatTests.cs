using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Docker;

/// <summary>Get-ContainerStat against the real engine, compared with 'docker stats --no-stream' in the same test.</summary>
[Collection("Docker")]
public sealed class GetContainerStatTests(DockerEngineFixture fixture) : IDisposable
{
    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _project = fixture.Engine.NewProject("stat");

    public void Dispose() => _d.RemoveTestContainers(_project);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    /// <summary>"856KiB", "64MiB", "1.5GiB" in bytes.</summary>
    private static double Bytes(string text)
    {
        var m = Regex.Match(text.Trim(), @"^([\d.]+)\s*([KMGT]i)?B$");
        Assert.True(m.Success, text);
        var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        return m.Groups[2].Value switch { "Ki" => n * 1024, "Mi" => n * 1048576, "Gi" => n * 1073741824, "Ti" => n * 1099511627776, _ => n };
    }

    [Fact]
    public void Memory_limit_and_cpu_match_docker_stats_and_thresholds_apply()
    {
        _d.RunComposeContainer(_project, "mem", 1, DockerEngine.BaseImage, new[] { "--memory", "64m" }, new[] { "sh", "-c", "sleep 3600" });
        _d.RunComposeContainer(_project, "burn", 1, DockerEngine.BaseImage, null, new[] { "sh", "-c", "while :; do :; done" });
        var mem = $"{_project}_mem_1";
        var burn = $"{_project}_burn_1";
        Thread.Sleep(1500); // let the burner get going
        using var s = new ModuleSession();
        // CPU warning at 5 %: a busy loop takes a whole CPU when it has one, but the test machine's two CPUs are shared with
        // other tests (measured under a full parallel run: 17 %); an idle container stays near 0 %.
        var r = s.Run(_d.PowerShellSetup() + $"; Get-ContainerStat @Docker -ComposeProject {_project} -CpuWarningPercent 5");
        var cli = _d.Docker("stats", "--no-stream", "--format", "{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}", mem, burn)
            .Split('\n').Select(l => l.Split('|')).ToDictionary(p => p[0], p => p);
        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Output.Count);
        var byName = r.Output.ToDictionary(o => (string)P(o, "Name")!);
        var m = byName[mem];
        Assert.Equal("OpsTools.Docker.ContainerStatResult", m.BaseObject.GetType().FullName);
        Assert.Equal("OpsTools.CheckResult", m.BaseObject.GetType().BaseType!.FullName);

        // memory: limit exactly 64 MiB as the CLI says; used within 1 MiB of the CLI's (they sample at different moments)
        Assert.Equal(64L * 1024 * 1024, P(m, "MemoryLimitBytes"));
        var cliMem = cli[mem][2].Split('/');
        Assert.Equal(64.0 * 1024 * 1024, Bytes(cliMem[1]));
        Assert.Equal("64MiB", ((string)P(m, "MemUsage")!).Split(" / ")[1]);
        Assert.InRange((long)P(m, "MemoryUsedBytes")!, Bytes(cliMem[0]) - 1048576, Bytes(cliMem[0]) + 1048576);
        Assert.InRange((double)P(m, "MemoryPercent")!, 0.01, 10);
        Assert.Equal("Healthy", P(m, "Status")?.ToString());
        Assert.Equal(long.Parse(cli[mem][3], CultureInfo.InvariantCulture), P(m, "Pids"));

        // CPU: a busy loop is busy for us and for the CLI (their one-second windows differ, so the values do), clearly above
        // the CPU warning; the idle container is not
        var b = byName[burn];
        var cpu = (double)P(b, "CpuPercent")!;
        var cliCpu = double.Parse(cli[burn][1].TrimEnd('%'), CultureInfo.InvariantCulture);
        Assert.True(cpu > 10 && cliCpu > 10, $"CPU {cpu} (CLI {cliCpu})");
        Assert.True(cpu <= Environment.ProcessorCount * 100 + 5, $"CPU {cpu}");
        Assert.True((double)P(m, "CpuPercent")! < 2, $"idle CPU {P(m, "CpuPercent")}");
        Assert.Equal("Warning", P(b, "Status")?.ToString());
        Assert.Contains("above the warning 5%", (string)P(b, "Message")!);
        Assert.Equal(Environment.ProcessorCount, (int)P(b, "OnlineCpus")!); // the engine runs on this machine
        Assert.Equal(_d.Host, P(b, "DockerHost"));

        // thresholds given: a critical memory threshold below what the container uses makes it Critical
        var strict = s.Run(_d.PowerShellSetup() + $"; Get-ContainerStat @Docker -Name {mem} -MemoryWarningPercent 0.1 -MemoryCriticalPercent 0.2");
        var critical = Assert.Single(strict.Output);
        Assert.Equal("Critical", P(critical, "Status")?.ToString());
        Assert.Contains("0.2", (string)P(critical, "Threshold")!);
        var relaxed = s.Run(_d.PowerShellSetup() + $"; Get-ContainerStat @Docker -Name {burn} -CpuWarningPercent 400");
        Assert.Equal("Healthy", P(Assert.Single(relaxed.Output), "Status")?.ToString());
    }

    [Fact]
    public void Containers_are_sampled_in_parallel_and_come_from_the_pipeline()
    {
        for (var i = 1; i <= 8; i++) _d.RunComposeContainer(_project, "api", i, DockerEngine.BaseImage, null, new[] { "sh", "-c", "sleep 3600" });
        using var s = new ModuleSession();
        s.Run(_d.PowerShellSetup() + $"; Get-ContainerStat @Docker -ComposeProject {_project}"); // warm up (load, connect)
        var one = Stopwatch.StartNew();
        Assert.Single(s.Run(_d.PowerShellSetup() + $"; Get-ContainerStat @Docker -Name {_project}_api_1").Output);
        one.Stop();
        var eight = Stopwatch.StartNew();
        var r = s.Run(_d.PowerShellSetup() + $"; Get-Container @Docker -ComposeProject {_project} | Get-ContainerStat");
        eight.Stop();
        Assert.Empty(r.Errors);
        Assert.Equal(Enumerable.Range(1, 8).Select(i => $"{_project}_api_{i}"), r.Output.Select(o => (string)P(o, "Name")!));
        // each sample takes the engine about a second; eight one after the other would take eight
        Assert.True(eight.Elapsed < one.Elapsed + TimeSpan.FromSeconds(2.5), $"one {one.Elapsed}, eight {eight.Elapsed}");
    }

    [Fact]
    public void A_container_that_does_not_exist_is_an_error_naming_it_and_a_stopped_one_a_warning()
    {
        _d.RunComposeContainer(_project, "gone", 1, DockerEngine.BaseImage, null, new[] { "true" });
        _d.Docker("wait", $"{_project}_gone_1");
        using var s = new ModuleSession();
        var r = s.Run(_d.PowerShellSetup() + $"; Get-ContainerStat @Docker -Name no-such-container, {_project}_gone_1");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("DockerObjectNotFound,", e.FullyQualifiedErrorId);
        Assert.Contains("'no-such-container'", e.Exception.Message);
        Assert.Contains(r.Warnings, w => w.Contains($"{_project}_gone_1") && w.Contains("exited"));
    }

    [Fact]
    public void Format_views_show_docker_stats_columns_and_log_lines()
    {
        _d.RunComposeContainer(_project, "shown", 1, DockerEngine.BaseImage, new[] { "--memory", "64m" }, new[] { "sh", "-c", "echo shown-line; echo shown-err >&2; sleep 3600" });
        var c = $"{_project}_shown_1";
        using var s = new ModuleSession();
        s.Invoke(_d.PowerShellSetup() + $"; Get-ContainerStat @Docker -Name {c} | Out-Default");
        foreach (var column in new[] { "STATUS", "NAME", "CPU %", "MEM %", "MESSAGE" }) // the I/O figures: Format-List (80 columns keep MESSAGE)
            Assert.Contains(column, s.Host.Text);
        Assert.Contains(c, s.Host.Text);
        Assert.Matches(@"\d+(\.\d+)?(B|KiB|MiB) / 64MiB", s.Invoke(_d.PowerShellSetup() + $"; Get-ContainerStat @Docker -Name {c} | Format-List MemUsage | Out-String").Single().ToString());
        s.Host.ClearText();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!_d.Docker("logs", c).Contains("shown-line") && DateTime.UtcNow < deadline) Thread.Sleep(200);
        s.Invoke(_d.PowerShellSetup() + $"; Get-ContainerLog @Docker -Name {c} | Out-Default");
        foreach (var column in new[] { "Time (local)", "Container", "Stream", "Line" }) Assert.Contains(column, s.Host.Text);
        Assert.Matches(@"stdout\s+shown-line", s.Host.Text);
        Assert.Matches(@"stderr\s+shown-err", s.Host.Text);
    }
}
