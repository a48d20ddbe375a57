using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.HostResources;

/// <summary>Get-DiskUsage and Get-MemoryUsage through the real engine, compared with df and /proc/meminfo.</summary>
public class HostResourcesTests
{
    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    private static (long Size, long Used, long Avail, int Pcent) Df(string path)
    {
        var psi = new ProcessStartInfo("df", new[] { "-B1", "--output=size,used,avail,pcent", path }) { RedirectStandardOutput = true };
        using var p = Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
        var f = text.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(f[0], CultureInfo.InvariantCulture), long.Parse(f[1], CultureInfo.InvariantCulture),
            long.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3].TrimEnd('%'), CultureInfo.InvariantCulture));
    }

    private static long MemInfoKb(string key)
    {
        foreach (var line in File.ReadAllLines("/proc/meminfo"))
            if (line.StartsWith(key + ":", StringComparison.Ordinal))
                return long.Parse(line[(key.Length + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        throw new InvalidOperationException(key + " not in /proc/meminfo");
    }

    [Fact]
    public void Path_root_matches_df()
    {
        Assert.True(OperatingSystem.IsLinux(), "compares with GNU df: Linux only");
        using var s = new ModuleSession();
        var before = Df("/");
        var r = Assert.Single(s.Invoke("Get-DiskUsage -Path /"));
        var after = Df("/");
        Assert.Equal("OpsTools.HostResources.DiskUsageResult", r.BaseObject.GetType().FullName);
        Assert.Equal("DiskUsage", P(r, "Check"));
        Assert.Equal("Host", P(r, "Area"));
        Assert.Equal("/", P(r, "Mount"));
        Assert.Equal("/", P(r, "Target"));
        Assert.Equal("/", P(r, "Path"));
        Assert.Equal(before.Size, (long)P(r, "SizeBytes")!);
        const long delta = 256L * 1024 * 1024; // files change while the test runs
        var used = (long)P(r, "UsedBytes")!;
        var free = (long)P(r, "FreeBytes")!;
        Assert.InRange(used, Math.Min(before.Used, after.Used) - delta, Math.Max(before.Used, after.Used) + delta);
        Assert.InRange(free, Math.Min(before.Avail, after.Avail) - delta, Math.Max(before.Avail, after.Avail) + delta);
        var pct = (double)P(r, "UsedPercent")!;
        Assert.InRange(pct, Math.Min(before.Pcent, after.Pcent) - 1, Math.Max(before.Pcent, after.Pcent) + 1);
        Assert.Equal(pct, P(r, "Value"));
        Assert.Equal(100 - pct, (double)P(r, "FreePercent")!);
        Assert.StartsWith("/: ", (string)P(r, "Message")!);
        Assert.Contains("free of", (string)P(r, "Message")!);
        Assert.Equal("warn < 20% free; critical < 10% free", P(r, "Threshold"));
    }

    [Fact]
    public void Path_below_a_mount_reports_the_file_system_that_holds_it()
    {
        using var s = new ModuleSession();
        var dir = Directory.CreateTempSubdirectory("opstools-df-").FullName;
        try
        {
            var r = Assert.Single(s.Invoke($"Get-DiskUsage -Path '{dir}'"));
            var expected = Df(dir);
            Assert.Equal(expected.Size, (long)P(r, "SizeBytes")!);
            Assert.Equal(dir, P(r, "Path"));
            Assert.StartsWith((string)P(r, "Mount")!, dir);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Listing_shows_real_file_systems_once_and_no_pseudo_ones()
    {
        using var s = new ModuleSession();
        var all = s.Invoke("Get-DiskUsage");
        Assert.Contains(all, r => (string)P(r, "Mount")! == "/");
        var types = all.Select(r => (string)P(r, "FileSystem")!).ToList();
        Assert.DoesNotContain(types, t => t is "proc" or "sysfs" or "devpts" or "tmpfs" or "devtmpfs" || t.StartsWith("cgroup"));
        var mounts = all.Select(r => (string)P(r, "Mount")!).ToList();
        Assert.Equal(mounts.Count, mounts.Distinct().Count());

        var mountinfo = File.ReadAllText("/proc/self/mountinfo");
        var withAll = s.Invoke("Get-DiskUsage -All");
        Assert.True(withAll.Count >= all.Count);
        if (mountinfo.Contains(" - tmpfs "))
            Assert.Contains(withAll, r => (string)P(r, "FileSystem")! == "tmpfs");
        Assert.DoesNotContain(withAll, r => (string)P(r, "FileSystem")! is "proc" or "sysfs");
    }

    [Fact]
    public void FreeCriticalPercent_100_makes_root_critical_and_0_makes_it_healthy()
    {
        using var s = new ModuleSession();
        var critical = Assert.Single(s.Invoke("Get-DiskUsage -Path / -FreeCriticalPercent 100"));
        Assert.Equal("Critical", P(critical, "Status")!.ToString());
        Assert.Contains("critical threshold of 100% free", (string)P(critical, "Message")!);
        Assert.Equal("warn < 20% free; critical < 100% free", P(critical, "Threshold"));
        var warning = Assert.Single(s.Invoke("Get-DiskUsage -Path / -FreeWarningPercent 100 -FreeCriticalPercent 0"));
        Assert.Equal("Warning", P(warning, "Status")!.ToString());
        var healthy = Assert.Single(s.Invoke("Get-DiskUsage -Path / -FreeWarningPercent 0 -FreeCriticalPercent 0"));
        Assert.Equal("Healthy", P(healthy, "Status")!.ToString());
    }

    [Fact]
    public void Environment_file_thresholds_and_mounts_apply_and_parameters_override_them()
    {
        var dir = Directory.CreateTempSubdirectory("opstools-env-").FullName;
        try
        {
            var file = Path.Combine(dir, "lab.ops.psd1");
            File.WriteAllText(file, """
                @{
                    Name = 'lab'
                    Host = @{ DiskMounts = @('/') }
                    Thresholds = @{ DiskFreeCriticalPercent = 100; MemoryWarningPercent = 0; MemoryCriticalPercent = 0 }
                }
                """);
            using var s = new ModuleSession();
            var disk = Assert.Single(s.Invoke($"Get-DiskUsage -Environment '{file}'"));
            Assert.Equal("Critical", P(disk, "Status")!.ToString());
            Assert.Equal("/", P(disk, "Mount"));
            Assert.Equal("lab", P(disk, "Environment"));

            var overridden = Assert.Single(s.Invoke($"Get-DiskUsage -Environment '{file}' -FreeCriticalPercent 0 -FreeWarningPercent 0"));
            Assert.Equal("Healthy", P(overridden, "Status")!.ToString());

            var mem = Assert.Single(s.Invoke($"Get-MemoryUsage -Environment '{file}'"));
            Assert.Equal("Critical", P(mem, "Status")!.ToString());
            Assert.Equal("lab", P(mem, "Environment"));
            var memOverridden = Assert.Single(s.Invoke($"Get-MemoryUsage -Environment (Get-OpsEnvironment '{file}') -WarningPercent 100 -CriticalPercent 100"));
            Assert.Equal("Healthy", P(memOverridden, "Status")!.ToString());
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Nonexistent_path_is_a_non_terminating_PathNotFound_error_and_the_others_still_come()
    {
        using var s = new ModuleSession();
        var missing = "/nonexistent/opstools-" + Guid.NewGuid().ToString("N");
        var r = s.Run($"Get-DiskUsage -Path '{missing}', /");
        Assert.Null(r.Terminating);
        var error = Assert.Single(r.Errors);
        Assert.Equal("PathNotFound", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
        Assert.Equal(missing, error.TargetObject);
        Assert.Contains(missing, error.Exception.Message);
        var ok = Assert.Single(r.Output);
        Assert.Equal("/", P(ok, "Mount"));
    }

    [Fact]
    public void Paths_bind_from_the_pipeline_by_value_and_by_FullName()
    {
        using var s = new ModuleSession();
        var byValue = s.Invoke("'/', '/proc/..' | Get-DiskUsage");
        Assert.Equal(2, byValue.Count);
        Assert.All(byValue, r => Assert.Equal("/", P(r, "Mount")));
        var byName = Assert.Single(s.Invoke("[System.IO.DirectoryInfo]::new('/') | Get-DiskUsage"));
        Assert.Equal("/", P(byName, "Mount"));
    }

    [Fact]
    public void Memory_total_equals_meminfo_MemTotal()
    {
        using var s = new ModuleSession();
        var r = Assert.Single(s.Invoke("Get-MemoryUsage"));
        Assert.Equal("OpsTools.HostResources.MemoryUsageResult", r.BaseObject.GetType().FullName);
        Assert.Equal("MemoryUsage", P(r, "Check"));
        Assert.Equal("Host", P(r, "Area"));
        Assert.Equal(System.Net.Dns.GetHostName(), P(r, "Target"));
        Assert.Equal(MemInfoKb("MemTotal") * 1024, (long)P(r, "TotalBytes")!);
        Assert.Equal(MemInfoKb("SwapTotal") * 1024, (long)P(r, "SwapTotalBytes")!);
        var available = (long)P(r, "AvailableBytes")!;
        Assert.InRange(available, 1, (long)P(r, "TotalBytes")!);
        Assert.InRange(Math.Abs(available - MemInfoKb("MemAvailable") * 1024), 0, 512L * 1024 * 1024);
        Assert.Equal((long)P(r, "TotalBytes")! - available, (long)P(r, "UsedBytes")!);
        Assert.Equal("warn > 85% used; critical > 95% used", P(r, "Threshold"));
        Assert.Equal(P(r, "UsedPercent"), P(r, "Value"));
    }

    [Fact]
    public void Memory_thresholds_by_parameter_flip_the_status()
    {
        using var s = new ModuleSession();
        var r = Assert.Single(s.Invoke("Get-MemoryUsage -WarningPercent 0 -CriticalPercent 100"));
        Assert.Equal("Warning", P(r, "Status")!.ToString());
        r = Assert.Single(s.Invoke("Get-MemoryUsage -CriticalPercent 0"));
        Assert.Equal("Critical", P(r, "Status")!.ToString());
    }

    [Fact]
    public void Format_views_show_df_and_free_like_tables()
    {
        using var s = new ModuleSession();
        s.Invoke("Get-DiskUsage -Path / | Out-Default");
        Assert.Contains("Size(GB)", s.Host.Text);
        Assert.Contains("Use%", s.Host.Text);
        s.Host.ClearText();
        s.Invoke("Get-MemoryUsage | Out-Default");
        Assert.Contains("Available(GB)", s.Host.Text);
        Assert.Contains("Used%", s.Host.Text);
    }
}
