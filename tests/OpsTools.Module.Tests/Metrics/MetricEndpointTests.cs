using System.Management.Automation;
using System.Net.Http.Headers;
using System.Security;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Metrics;

/// <summary>Get-Metric and Get-MetricCheck against a prometheus-net app, and the faults of a /metrics endpoint.</summary>
[Collection("Metrics")]
public class MetricEndpointTests
{
    private readonly MetricsStack _stack;
    public MetricEndpointTests(MetricsStack stack) => _stack = stack;

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static string S(PSObject o, string name) => P(o, name)?.ToString() ?? "";

    [Fact]
    public async Task Get_Metric_returns_the_samples_a_plain_curl_shows_filtered_by_name_and_label()
    {
        _stack.App.QueueSize.Set(42);
        _stack.App.Jobs.WithLabels("ok").Inc(7);
        _stack.App.Jobs.WithLabels("failed").Inc(2);
        using var client = new HttpClient();
        var curl = await client.GetStringAsync(_stack.App.MetricsUri); // text 0.0.4, as curl gets it
        Assert.Contains("triage_queue_size 42", curl);

        using var s = new ModuleSession();
        s.Set("u", _stack.App.MetricsUri);
        var queue = s.Invoke("Get-Metric -Uri $u -Metric triage_queue_size");
        Assert.Single(queue);
        Assert.Equal(42.0, P(queue[0], "Value"));
        Assert.Equal("Gauge", S(queue[0], "Type"));
        Assert.Equal("Items waiting in the triage queue.", S(queue[0], "Help"));

        var failed = s.Invoke("Get-Metric $u app_jobs_processed -Label @{ outcome = 'fail*' }");
        var total = failed.Single(f => S(f, "Name") == "app_jobs_processed_total");
        Assert.True((double)P(total, "Value")! >= 2);
        Assert.Equal("failed", ((IReadOnlyDictionary<string, string>)P(total, "Labels")!)["outcome"]);
        Assert.Equal("Counter", S(total, "Type"));

        var regex = s.Invoke("Get-Metric $u -MetricPattern '^process_(cpu|resident)' -LabelPattern @{ } ");
        Assert.Contains(regex, r => S(r, "Name") == "process_cpu_seconds_total");
        Assert.All(regex, r => Assert.Matches("^process_(cpu|resident)", S(r, "Name")));

        // prometheus-net answers OpenMetrics when asked, as Prometheus asks.
        var snap = s.Invoke("Get-Metric $u -AsSnapshot")[0];
        Assert.StartsWith("application/openmetrics-text", S(snap, "Format"));
        Assert.True((int)P(snap, "Count")! > 20);
    }

    [Fact]
    public void A_truncated_or_garbage_exposition_is_an_error_that_names_the_line_and_in_a_check_an_Unknown_result()
    {
        var app = _stack.App;
        using var s = new ModuleSession();
        s.Set("u", app.RawUri);
        app.RawContentType = "text/plain; version=0.0.4";
        app.RawExposition = "# TYPE http_requests_total counter\nhttp_requests_total{code=\"200\"} 10\nhttp_requests_total{code=\"5";
        var r = s.Run("Get-Metric -Uri $u");
        var e = Assert.Single(r.Errors);
        Assert.Equal("MetricsFormatInvalid,OpsTools.Commands.Metrics.GetMetricCommand", e.FullyQualifiedErrorId);
        Assert.Contains("line 3", e.Exception.Message);
        Assert.Equal(ErrorCategory.InvalidData, e.CategoryInfo.Category);

        app.RawContentType = "application/openmetrics-text; version=1.0.0";
        app.RawExposition = "# TYPE a gauge\na 1\n";
        Assert.Contains("without '# EOF'", Assert.Single(s.Run("Get-Metric -Uri $u").Errors).Exception.Message);

        app.RawContentType = "text/plain";
        app.RawExposition = "<html><body>502 Bad Gateway</body></html>\n";
        r = s.Run("Get-MetricCheck -Uri $u -Interval 1");
        Assert.Empty(r.Errors);
        var only = Assert.Single(r.Output);
        Assert.Equal("Unknown", S(only, "Status"));
        Assert.Contains("could not be read", S(only, "Message"));
        Assert.Contains("line 1", S(only, "Message"));
    }

    [Fact]
    public void A_counter_reset_between_the_two_reads_is_counted_as_Prometheus_counts_it()
    {
        var app = _stack.App;
        using var s = new ModuleSession();
        s.Set("u", app.RawUri);
        app.RawContentType = "text/plain; version=0.0.4";
        app.RawExposition = "http_requests_total{status=\"200\"} 5000\nhttp_requests_total{status=\"500\"} 400\n";
        var before = s.Invoke("Get-Metric -Uri $u -AsSnapshot")[0];
        s.Set("before", before);
        // The app restarted: its counters start again from zero.
        app.RawExposition = "http_requests_total{status=\"200\"} 80\nhttp_requests_total{status=\"500\"} 20\n";
        var r = s.Invoke("$before | Get-MetricCheck");
        var er = r.Single(x => S(x, "Figure") == "ErrorRate");
        Assert.Equal(20.0, (double)P(er, "Number")!, 9); // 20 of 100, not a negative rate
        Assert.Equal(2, P(er, "CounterResets"));
        Assert.Equal("Critical", S(er, "Status"));
    }

    [Fact]
    public void No_traffic_is_Unknown_a_dead_endpoint_is_Unknown_and_a_slow_one_times_out()
    {
        using var s = new ModuleSession();
        s.Set("u", _stack.App.MetricsUri);
        var idle = s.Invoke("Get-MetricCheck -Uri $u -Interval 1 -Label @{ action = 'no-such-route' }");
        var er = idle.Single(x => S(x, "Figure") == "ErrorRate");
        Assert.Equal("Unknown", S(er, "Status"));

        s.Set("dead", new Uri($"http://127.0.0.1:{HealthServer.FreePort()}/metrics"));
        var dead = Assert.Single(s.Invoke("Get-MetricCheck -Uri $dead -Interval 1"));
        Assert.Equal("Unknown", S(dead, "Status"));
        Assert.Contains("Connection refused", S(dead, "Message"));

        s.Set("slow", new Uri(_stack.App.Base, "/slow"));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = s.Run("Get-Metric -Uri $slow -TimeoutSec 1");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), sw.Elapsed.ToString());
        var e = Assert.Single(r.Errors);
        Assert.Equal("MetricsTimeout,OpsTools.Commands.Metrics.GetMetricCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.OperationTimeout, e.CategoryInfo.Category);
    }

    [Fact]
    public void App_figures_are_judged_by_path_and_thresholds_and_missing_values_are_Unknown()
    {
        var app = _stack.App;
        app.BreakerState = "open";
        app.Statistics = "{\"queue_size\": 120, \"processing\": 3}";
        using var s = new ModuleSession();
        s.Set("stats", new Uri(app.Base, "/triage/statistics"));
        s.Set("health", new Uri(app.Base, "/health"));
        var q = Assert.Single(s.Invoke("Get-AppFigure $stats .queue_size -Warning 100 -Critical 500"));
        Assert.Equal("Warning", S(q, "Status"));
        Assert.Equal(120.0, P(q, "Number"));
        Assert.Contains("above the warning threshold of 100", S(q, "Message"));
        var b = Assert.Single(s.Invoke("Get-AppFigure $health .circuit_breakers.ai.state -Expected closed"));
        Assert.Equal("Critical", S(b, "Status"));
        Assert.Equal("open", S(b, "Text"));
        var missing = Assert.Single(s.Invoke("Get-AppFigure $stats .queue_length -Warning 1"));
        Assert.Equal("Unknown", S(missing, "Status"));
        Assert.Contains("queue_size", S(missing, "Message"));
        s.Set("dead", new Uri($"http://127.0.0.1:{HealthServer.FreePort()}/x"));
        Assert.Equal("Critical", S(Assert.Single(s.Invoke("Get-AppFigure $dead .x -Warning 1")), "Status"));
        app.Statistics = "not json";
        Assert.Contains("not JSON", S(Assert.Single(s.Invoke("Get-AppFigure $stats .queue_size -Warning 1")), "Message"));
    }

    [Fact]
    public void App_actions_from_the_environment_honour_WhatIf_send_the_token_and_return_the_answer()
    {
        var app = _stack.App;
        app.BreakerState = "open";
        var env = _stack.WriteEnvironment("""
            AppActions = @(
                @{ Name = 'reset-circuit-breaker'; Uri = '{BASE}api/ai-service?action=reset-circuit-breaker'; BearerTokenVariable = 'OPSTOOLS_TEST_ACTION_TOKEN'; Description = 'close the AI breaker' }
                @{ Name = 'bogus'; Uri = '{BASE}api/ai-service?action=bogus'; Method = 'POST'; Body = '{"why": "test"}' }
            )
            """.Replace("{BASE}", app.Base.ToString()), prometheus: false, alertmanager: false);
        System.Environment.SetEnvironmentVariable("OPSTOOLS_TEST_ACTION_TOKEN", "tok-9f8e7d");
        try
        {
            using var s = new ModuleSession();
            s.Set("env", env);
            while (app.Actions.TryDequeue(out _)) { }
            var w = s.Run("Invoke-AppAction -Environment $env reset-circuit-breaker -WhatIf");
            Assert.Empty(w.Output);
            Assert.Empty(app.Actions);
            Assert.Equal("open", app.BreakerState);

            var r = s.Invoke("Invoke-AppAction -Environment $env reset-circuit-breaker");
            var res = Assert.Single(r);
            Assert.Equal(200, P(res, "StatusCode"));
            Assert.True((bool)P(res, "Succeeded")!);
            Assert.Contains("closed", S(res, "Body"));
            Assert.Equal("closed", app.BreakerState);
            Assert.True(app.Actions.TryDequeue(out var call));
            Assert.Equal("POST", call.Method);
            Assert.Equal("Bearer tok-9f8e7d", call.Authorization);

            var bad = s.Run("Invoke-AppAction -Environment $env bogus");
            Assert.Equal(400, P(Assert.Single(bad.Output), "StatusCode"));
            Assert.Equal("AppActionFailed", Assert.Single(bad.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.True(app.Actions.TryDequeue(out call));
            Assert.Equal("{\"why\": \"test\"}", call.Body);
            Assert.DoesNotContain("tok-9f8e7d", string.Join("\n", r.Concat(bad.Output).Select(o => o.ToString())) + string.Join("\n", bad.Errors));

            var none = s.Run("Invoke-AppAction -Environment $env nope");
            Assert.Equal("AppActionNotFound", Assert.Single(none.Errors).FullyQualifiedErrorId.Split(',')[0]);
        }
        finally { System.Environment.SetEnvironmentVariable("OPSTOOLS_TEST_ACTION_TOKEN", null); }
    }
}
