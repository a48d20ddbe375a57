using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Metrics;

/// <summary>Invoke-PromQuery, Get-ActiveAlert and the daily check against the real Prometheus 2.42 and Alertmanager 0.25.</summary>
[Collection("Metrics")]
public class PrometheusApiTests
{
    private readonly MetricsStack _stack;
    public PrometheusApiTests(MetricsStack stack) => _stack = stack;

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static string S(PSObject o, string name) => P(o, name)?.ToString() ?? "";

    [Fact]
    public async Task Instant_and_range_queries_return_series_objects_by_GET_and_POST()
    {
        await _stack.Prometheus.WaitForAsync("up{job=\"app\"} == 1", TimeSpan.FromSeconds(30));
        using var s = new ModuleSession();
        s.Set("p", _stack.Prometheus.PrometheusUri);
        var up = Assert.Single(s.Invoke("Invoke-PromQuery 'up' -Uri $p"));
        Assert.Equal("vector", S(up, "ResultType"));
        Assert.Equal("up", S(up, "Name"));
        Assert.Equal(1.0, P(up, "Value"));
        Assert.Equal("app", ((IReadOnlyDictionary<string, string>)P(up, "Labels")!)["job"]);

        var post = Assert.Single(s.Invoke("Invoke-PromQuery 'up{job=\"app\"}' -Uri $p -UsePost"));
        Assert.Equal(1.0, P(post, "Value"));
        var scalar = Assert.Single(s.Invoke("Invoke-PromQuery 'scalar(up{job=\"app\"}) * 2' -Uri $p"));
        Assert.Equal("scalar", S(scalar, "ResultType"));
        Assert.Equal(2.0, P(scalar, "Value"));

        var range = Assert.Single(s.Invoke("Invoke-PromQuery 'up{job=\"app\"}' -Uri $p -Start ([DateTime]::UtcNow.AddSeconds(-20)) -Step 00:00:02"));
        Assert.Equal("matrix", S(range, "ResultType"));
        Assert.True(((System.Collections.ICollection)P(range, "Values")!).Count >= 2);

        var empty = s.Run("Invoke-PromQuery 'nothing_is_called_this' -Uri $p");
        Assert.Empty(empty.Output);
        Assert.Empty(empty.Errors);
    }

    [Fact]
    public void A_bad_query_a_stopped_Prometheus_and_a_slow_one_are_clear_errors()
    {
        using var s = new ModuleSession();
        s.Set("p", _stack.Prometheus.PrometheusUri);
        var bad = Assert.Single(s.Run("Invoke-PromQuery 'sum(rate(x[5m]' -Uri $p").Errors);
        Assert.Equal("PromQueryInvalid", bad.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("Prometheus refused the query", bad.Exception.Message);
        Assert.Contains("unclosed", bad.Exception.Message); // Prometheus's own words

        s.Set("down", new Uri($"http://127.0.0.1:{HealthServer.FreePort()}"));
        var down = Assert.Single(s.Run("Invoke-PromQuery up -Uri $down").Errors);
        Assert.Equal("MetricsConnectionFailed", down.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.ConnectionError, down.CategoryInfo.Category);

        s.Set("slow", new Uri(_stack.App.Base, "/slow/"));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var slow = Assert.Single(s.Run("Invoke-PromQuery up -Uri $slow -TimeoutSec 1").Errors);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));
        Assert.Equal("MetricsTimeout", slow.FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public async Task Named_checks_from_the_environment_say_what_empty_and_NaN_mean()
    {
        await _stack.Prometheus.WaitForAsync("up{job=\"app\"} == 1", TimeSpan.FromSeconds(30));
        var env = _stack.WriteEnvironment("", alertmanager: false).Replace("stack.ops.psd1", "");
        var path = Path.Combine(env, "stack.ops.psd1");
        File.WriteAllText(path, File.ReadAllText(path).Replace("OvernightHours = 1", """
            OvernightHours = 1; Checks = @(
                @{ Name = 'targets-up'; Query = 'sum(up{job="app"})'; Warning = 2; Critical = 3 }
                @{ Name = 'down-targets'; Query = 'up{job="app"} == 0'; IfEmpty = 'Healthy' }
                @{ Name = 'no-series'; Query = 'nothing_is_called_this'; Warning = 1 }
                @{ Name = 'zero-by-zero'; Query = 'vector(0) / vector(0)'; Warning = 1 }
                @{ Name = 'availability'; Query = 'avg(up{job="app"})'; Warning = 1.5; Critical = 0.5; Below = $true }
            )
            """));
        using var s = new ModuleSession();
        s.Set("env", path);
        var r = s.Invoke("Invoke-PromQuery -Environment $env -Check *");
        Assert.Equal(5, r.Count);
        string St(string n) => S(r.Single(x => S(x, "Name") == n), "Status");
        Assert.Equal("Healthy", St("targets-up"));
        Assert.Equal("Healthy", St("down-targets"));
        Assert.Equal("Unknown", St("no-series"));
        Assert.Contains("no series", S(r.Single(x => S(x, "Name") == "no-series"), "Message"));
        Assert.Equal("Unknown", St("zero-by-zero"));
        Assert.Equal("Warning", St("availability"));
        Assert.Equal(2, s.Invoke("Invoke-PromQuery -Environment $env -Check 'targets-up', 'avail*'").Count);
    }

    [Fact]
    public async Task Firing_alerts_come_from_Prometheus_and_Alertmanager_with_silences_and_overnight_from_ALERTS()
    {
        var app = _stack.App;
        await app.DriveAsync(2, 500, 0);
        app.QueueSize.Set(150);
        await _stack.Prometheus.WaitForAsync("ALERTS{alertname=\"ServerErrors\",alertstate=\"firing\"}", TimeSpan.FromSeconds(60));
        await _stack.Prometheus.WaitForAsync("ALERTS{alertname=\"QueueBacklog\",alertstate=\"firing\"}", TimeSpan.FromSeconds(60));
        var silence = await _stack.Prometheus.SilenceAsync("QueueBacklog");

        // Alertmanager's own view, through its API (not OpsTools): both alerts, the backlog silenced.
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var am = await _stack.Prometheus.AlertmanagerAlertsAsync();
            var states = am.EnumerateArray().ToDictionary(a => a.GetProperty("labels").GetProperty("alertname").GetString()!, a => a.GetProperty("status").GetProperty("state").GetString());
            if (states.GetValueOrDefault("ServerErrors") == "active" && states.GetValueOrDefault("QueueBacklog") == "suppressed") break;
            Assert.True(DateTime.UtcNow < until, "Alertmanager never showed both alerts: " + am);
            await Task.Delay(500);
        }

        using var s = new ModuleSession();
        s.Set("p", _stack.Prometheus.PrometheusUri);
        s.Set("am", _stack.Prometheus.AlertmanagerUri);
        var prom = s.Invoke("Get-ActiveAlert -Uri $p");
        var errors = prom.Single(a => S(a, "AlertName") == "ServerErrors");
        Assert.Equal("Critical", S(errors, "Status"));
        Assert.Equal("firing", S(errors, "State"));
        Assert.Equal("5xx answers seen", S(errors, "Summary"));
        Assert.Equal("Prometheus", S(errors, "Source"));
        Assert.Equal("Warning", S(prom.Single(a => S(a, "AlertName") == "QueueBacklog"), "Status")); // Prometheus knows no silences

        var fromAm = s.Invoke("Get-ActiveAlert -AlertmanagerUri $am");
        var backlog = fromAm.Single(a => S(a, "AlertName") == "QueueBacklog");
        Assert.True((bool)P(backlog, "Silenced")!);
        Assert.Equal("suppressed", S(backlog, "State"));
        Assert.Equal("Healthy", S(backlog, "Status"));
        Assert.Contains(silence, (IEnumerable<string>)P(backlog, "SilencedBy")!);
        Assert.Equal("Critical", S(fromAm.Single(a => S(a, "AlertName") == "ServerErrors"), "Status"));
        Assert.Single(s.Invoke("Get-ActiveAlert -AlertmanagerUri $am -Severity crit*"));

        var overnight = s.Invoke("Get-ActiveAlert -Uri $p -Since 01:00:00");
        var fired = overnight.Single(a => S(a, "AlertName") == "ServerErrors");
        Assert.Equal("History", S(fired, "Source"));
        Assert.Equal("firing", S(fired, "State"));
        Assert.NotNull(P(fired, "Since"));
        app.QueueSize.Set(0);
    }

    [Fact]
    public async Task The_daily_check_reads_alerts_figures_and_app_figures_and_a_dead_Prometheus_is_one_Unknown()
    {
        await _stack.App.DriveAsync(20, 200, 0);
        await _stack.Prometheus.WaitForAsync("up{job=\"app\"} == 1", TimeSpan.FromSeconds(30));
        var figures = $"AppFigures = @( @{{ Name = 'queue'; Uri = '{_stack.App.Base}triage/statistics'; Path = '.processing'; Warning = 10 }} )";
        var env = _stack.WriteEnvironment(figures);
        using var s = new ModuleSession();
        s.Set("env", env);
        var r = s.Invoke("Invoke-DailyCheck -Environment $env -Skip AppHealth, Disk, Memory");
        var checks = r.Select(x => S(x, "Check")).ToList();
        Assert.Contains("Metric.ErrorRate", checks);
        Assert.Contains("Metric.LatencyP95", checks);
        Assert.Contains("AppFigure", checks);
        Assert.True(checks.Contains("Alert") || checks.Any(c => c == "Alert"));
        Assert.Contains(checks, c => c == "Alert.Overnight");
        Assert.All(r, x => Assert.Equal("stack", S(x, "Environment")));

        var deadPort = HealthServer.FreePort();
        var dead = _stack.WriteEnvironment(figures, alertmanager: false).Replace(_stack.Prometheus.PrometheusUri.Port.ToString(), deadPort.ToString());
        File.WriteAllText(dead, File.ReadAllText(dead).Replace($":{_stack.Prometheus.PrometheusUri.Port}", $":{deadPort}"));
        s.Set("dead", dead);
        var d = s.Invoke("Invoke-DailyCheck -Environment $dead -Skip AppHealth, Disk, Memory");
        var unknown = Assert.Single(d, x => S(x, "Area") == "Metrics" && S(x, "Status") == "Unknown");
        Assert.Contains("Connection refused", S(unknown, "Message"));
        Assert.Contains(d, x => S(x, "Check") == "AppFigure"); // the app's own figures still come
    }
}
