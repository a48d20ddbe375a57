using OpsTools.TestKit;

namespace OpsTools.Module.Tests;

/// <summary>The demo (build.ps1 -Task Demo) through the engine: the daily check against a local sample service.</summary>
public class DemoTests
{
    [Fact]
    public void Daily_check_against_the_sample_service_finds_the_degraded_worker_queue_and_reports_it()
    {
        using var target = new DemoTarget();
        using var s = new ModuleSession();
        s.Set("DemoEnvironment", target.EnvironmentFile);
        var results = s.Invoke("Invoke-DailyCheck -Environment $DemoEnvironment");

        string Str(object? o) => o?.ToString() ?? "";
        var problems = results.Where(r => Str(r.Properties["Status"].Value) != "Healthy" && Str(r.Properties["Check"].Value).StartsWith("AppHealth")).ToList();
        Assert.Contains(problems, r => Str(r.Properties["Target"].Value).EndsWith("#queue") && Str(r.Properties["Status"].Value) == "Warning");
        Assert.Contains(problems, r => Str(r.Properties["Name"]?.Value) == "worker" && Str(r.Properties["Status"].Value) == "Warning");
        Assert.Contains(results, r => Str(r.Properties["Check"].Value) == "DiskUsage");
        Assert.Contains(results, r => Str(r.Properties["Check"].Value) == "MemoryUsage");
        Assert.All(results, r => Assert.Equal("demo", Str(r.Properties["Environment"].Value)));

        var report = Str(s.Invoke("Invoke-DailyCheck -Environment $DemoEnvironment | Export-OpsReport -Format Markdown").Single().BaseObject);
        Assert.Contains("queue", report);
        Assert.Contains("1840 jobs waiting", report);
    }
}
