using System.Diagnostics;
using System.Management.Automation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Checklists;

public sealed class InvokeDailyCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-daily-").FullName;
    private readonly HealthServer _server = HealthServer.Start(app =>
    {
        app.MapGet("/ok", () => Results.Json(new { status = "ok" }));
        app.MapGet("/degraded", () => Results.Json(new { status = "Degraded", entries = new { cache = new { status = "Degraded" } } }));
        app.MapGet("/slow", async (HttpContext ctx) => { await Task.Delay(TimeSpan.FromSeconds(20), ctx.RequestAborted); return Results.Ok(); });
    });

    private string Env(string appHealth)
    {
        var path = Path.Combine(_dir, "daily.ops.psd1");
        File.WriteAllText(path, $"@{{ Name = 'daily'; AppHealth = @({appHealth}) }}");
        return path;
    }

    private static string Str(PSObject o, string p) => o.Properties[p]?.Value?.ToString() ?? "";

    [Fact]
    public void FailOn_Warning_ends_with_DailyCheckFailed_after_every_result_was_written()
    {
        using var s = new ModuleSession();
        var env = Env($"'{_server.Http("/degraded")}', '{_server.Http("/ok")}'");
        var r = s.Run($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory -FailOn Warning");
        Assert.Equal(3, r.Output.Count); // two endpoints and the degraded component
        var error = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
        Assert.Equal("DailyCheckFailed", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("0 critical, 2 warning, 0 unknown of 3 results", error.Exception.Message);
    }

    [Fact]
    public void FailOn_Critical_lets_warnings_pass()
    {
        using var s = new ModuleSession();
        var env = Env($"'{_server.Http("/degraded")}'");
        var r = s.Run($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory -FailOn Critical");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.All(r.Output, o => Assert.Equal("Warning", Str(o, "Status")));
    }

    [Fact]
    public void Each_endpoint_keeps_its_own_timeout_unless_TimeoutSec_is_given()
    {
        using var s = new ModuleSession();
        var env = Env($"@{{ Name = 'slow'; Uri = '{_server.Http("/slow")}'; TimeoutSec = 1 }}");
        var sw = Stopwatch.StartNew();
        var result = Assert.Single(s.Invoke($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory"));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(8), $"took {sw.Elapsed}");
        Assert.Equal("Critical", Str(result, "Status"));
        Assert.Equal("Timeout", Str(result, "Failure"));

        sw.Restart();
        result = Assert.Single(s.Invoke($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory -TimeoutSec 2"));
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(1.8), $"-TimeoutSec 2 should win over the endpoint's 1 s; took {sw.Elapsed}");
        Assert.Equal("Timeout", Str(result, "Failure"));
    }

    [Fact]
    public void A_check_that_cannot_run_becomes_one_Unknown_result_and_the_others_still_run()
    {
        using var s = new ModuleSession();
        var path = Path.Combine(_dir, "broken.ops.psd1");
        File.WriteAllText(path, $"@{{ Name = 'broken'; AppHealth = @('{_server.Http("/ok")}'); Host = @{{ DiskMounts = @('/no/such/mount') }} }}");
        var results = s.Invoke($"Invoke-DailyCheck -Environment '{path}'");
        var disk = Assert.Single(results, r => Str(r, "Check") == "DiskUsage");
        Assert.Equal("Unknown", Str(disk, "Status"));
        Assert.Contains("could not run", Str(disk, "Message"));
        Assert.Contains("/no/such/mount", Str(disk, "Message"));
        Assert.Equal("broken", Str(disk, "Environment"));
        Assert.Contains(results, r => Str(r, "Check") == "AppHealth" && Str(r, "Status") == "Healthy");
        Assert.Contains(results, r => Str(r, "Check") == "MemoryUsage");
    }

    [Fact]
    public void Without_an_environment_only_the_host_checks_run()
    {
        using var s = new ModuleSession();
        var checks = s.Invoke("Invoke-DailyCheck").Select(o => Str(o, "Check")).Distinct().OrderBy(c => c).ToList();
        Assert.Equal(new[] { "DiskUsage", "MemoryUsage" }, checks);
    }

    [Fact]
    public void Console_shows_one_checklist_table_for_results_of_every_area()
    {
        using var s = new ModuleSession();
        var env = Env($"'{_server.Http("/degraded")}'");
        s.Invoke($"Invoke-DailyCheck -Environment '{env}' | Out-Default");
        var lines = s.Host.Text.Split('\n');
        Assert.Single(lines, l => l.StartsWith("Status") && l.Contains("Check") && l.Contains("Target") && l.Contains("Message"));
        // A row wraps within its columns (the Target over several lines): read the row's Target cell whole.
        var header = lines.Single(l => l.StartsWith("Status") && l.Contains("Target"));
        var (target, message) = (header.IndexOf("Target", StringComparison.Ordinal), header.IndexOf("Message", StringComparison.Ordinal));
        var component = lines.ToList().FindIndex(l => l.StartsWith("Warning") && l.Contains("AppHealth.Component"));
        Assert.True(component >= 0, s.Host.Text);
        var cell = string.Concat(lines.Skip(component).TakeWhile((l, i) => i == 0 || l.StartsWith(' ')).Select(l => l.Length > target ? l[target..Math.Min(l.Length, message)].Trim() : ""));
        Assert.EndsWith("#cache", cell);
        Assert.Contains(lines, l => l.Contains("DiskUsage"));
        Assert.Contains(lines, l => l.Contains("MemoryUsage"));
        Assert.DoesNotContain(lines, l => l.StartsWith("Check ") && l.Contains(':')); // no list-formatted leftovers
        // The objects keep their real types for the pipeline.
        Assert.Equal("OpsTools.HostResources.DiskUsageResult",
            s.Invoke($"(Invoke-DailyCheck -Environment '{env}' | Where-Object Check -eq DiskUsage | ForEach-Object {{ $_.GetType().FullName }})")[0].BaseObject);
    }

    public void Dispose()
    {
        _server.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
