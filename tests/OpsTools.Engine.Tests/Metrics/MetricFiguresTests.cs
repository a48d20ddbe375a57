using System.Text;
using OpsTools.Configuration;
using OpsTools.Engine.Configuration;
using OpsTools.Engine.Metrics;
using OpsTools.Metrics;

namespace OpsTools.Engine.Tests.Metrics;

/// <summary>The runbook figures over a window of two reads: counter resets, no traffic, NaN, thresholds.</summary>
public class MetricFiguresTests
{
    private static readonly DateTime T0 = new(2026, 12, 6, 8, 0, 0, DateTimeKind.Utc);

    private static MetricSnapshot Snap(DateTime at, string text)
    {
        using var reader = new ExpositionReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), ExpositionFormat.Text);
        var list = new List<MetricSample>();
        while (reader.Read()) list.Add(reader.ToSample("http://app/metrics"));
        return new MetricSnapshot { Target = "http://app/metrics", Timestamp = at, Samples = list };
    }

    private static string App(double ok, double errors, double b01, double b05, double b1, double total, double cpu = 10) => $"""
        # TYPE http_requests_total counter
        http_requests_total{'{'}status="200",method="GET"{'}'} {ok}
        http_requests_total{'{'}status="503",method="GET"{'}'} {errors}
        # TYPE http_request_duration_seconds histogram
        http_request_duration_seconds_bucket{'{'}le="0.1"{'}'} {b01}
        http_request_duration_seconds_bucket{'{'}le="0.5"{'}'} {b05}
        http_request_duration_seconds_bucket{'{'}le="1"{'}'} {b1}
        http_request_duration_seconds_bucket{'{'}le="+Inf"{'}'} {total}
        http_request_duration_seconds_count {total}
        process_cpu_seconds_total {cpu}

        """;

    private static MetricCheckResult Fig(IReadOnlyList<MetricCheckResult> r, string figure) => r.Single(x => x.Figure == figure);

    [Fact]
    public void Error_rate_request_rate_and_p95_come_from_the_increase_over_the_window()
    {
        var before = Snap(T0, App(1000, 10, 900, 990, 1005, 1010));
        var after = Snap(T0.AddSeconds(10), App(1180, 30, 1000, 1150, 1205, 1210, cpu: 11));
        var r = MetricFigures.Compute(before, after, new FigureNames(), new ThresholdSet(), "api", "prod");
        var rate = Fig(r, "RequestRate");
        Assert.Equal(20.0, rate.Number); // (180 + 20) / 10 s
        var er = Fig(r, "ErrorRate");
        Assert.Equal(10.0, er.Number); // 20 of 200
        Assert.Equal(CheckStatus.Warning, er.Status); // above 5, not above 10
        var p95 = Fig(r, "LatencyP95");
        // increase per le: 0.1 → 100, 0.5 → 160, 1 → 200, +Inf → 200; rank 190 in (0.5, 1]: 0.5 + 0.5 * (30/40)
        Assert.Equal((0.5 + 0.5 * (30.0 / 40.0)) * 1000, p95.Number);
        Assert.Equal(CheckStatus.Healthy, p95.Status);
        Assert.Equal(10.0, Fig(r, "CpuPercent").Number, 9);
        Assert.Contains("histogram_quantile(0.95", p95.PromQL);
        Assert.Equal(TimeSpan.FromSeconds(10), p95.Window);
        Assert.All(r, x => Assert.Equal("prod", x.Environment));
    }

    [Fact]
    public void A_counter_that_went_down_was_reset_and_counts_from_zero_as_Prometheus_counts_it()
    {
        var before = Snap(T0, App(1000, 30, 900, 990, 1005, 1030));
        // The app restarted: every counter starts again.
        var after = Snap(T0.AddSeconds(10), App(40, 10, 45, 48, 50, 50));
        var r = MetricFigures.Compute(before, after, new FigureNames(), new ThresholdSet(), "api", null);
        var er = Fig(r, "ErrorRate");
        Assert.Equal(20.0, er.Number); // 10 of 50, not (40-1000) nonsense
        Assert.Equal(2, er.CounterResets); // both request series went down
        var p95 = Fig(r, "LatencyP95");
        Assert.Equal(4, p95.CounterResets);
        // increases after the reset: 0.1 → 45, 0.5 → 48, 1 → 50, +Inf → 50; rank 47.5 in (0.1, 0.5]: 0.1 + 0.4 * (2.5/3)
        Assert.Equal((0.1 + 0.4 * (2.5 / 3.0)) * 1000, p95.Number);
        Assert.Contains("counter reset", er.Message);
        Assert.Equal(CheckStatus.Critical, er.Status);
        Assert.Equal(MetricFigures.Increase(1000, 40, out var reset), 40);
        Assert.True(reset);
    }

    [Fact]
    public void No_traffic_in_the_window_is_Unknown_with_that_reason_never_Healthy()
    {
        var s = App(1000, 10, 900, 990, 1005, 1010);
        var r = MetricFigures.Compute(Snap(T0, s), Snap(T0.AddSeconds(15), s), new FigureNames(), new ThresholdSet(), "api", null);
        var er = Fig(r, "ErrorRate");
        Assert.Equal(CheckStatus.Unknown, er.Status);
        Assert.Contains("no requests in the window", er.Message, StringComparison.OrdinalIgnoreCase);
        Assert.True(double.IsNaN(er.Number));
        var p95 = Fig(r, "LatencyP95");
        Assert.Equal(CheckStatus.Unknown, p95.Status);
        Assert.Contains("NaN", p95.Message);
        Assert.Equal(CheckStatus.Healthy, Fig(r, "RequestRate").Status);
        Assert.Equal(0.0, Fig(r, "RequestRate").Number);
    }

    [Fact]
    public void One_read_gives_no_window_and_a_missing_metric_is_named()
    {
        var r = MetricFigures.Compute(null, Snap(T0, "up 1\n"), new FigureNames(), new ThresholdSet(), "api", null);
        Assert.All(r, x => Assert.Equal(CheckStatus.Unknown, x.Status));
        Assert.Contains("-Interval", Fig(r, "RequestRate").Message);
        var two = MetricFigures.Compute(Snap(T0, "up 1\n"), Snap(T0.AddSeconds(5), "up 1\n"), new FigureNames(), new ThresholdSet(), "api", null);
        Assert.Contains("http_request_duration_seconds_count", Fig(two, "ErrorRate").Message);
        Assert.Contains("http_request_duration_seconds_bucket", Fig(two, "LatencyP95").Message);
    }

    [Fact]
    public void Named_gauges_and_counters_memory_and_connections_are_judged_against_their_thresholds()
    {
        var names = new FigureNames
        {
            MemoryLimitBytes = 1000, ConnectionsWarning = 15,
            Figures = new[]
            {
                new MetricFigureSettings { Name = "queue", Metric = "triage_queue_size", Warning = 100, Critical = 500 },
                new MetricFigureSettings { Name = "jobs", Metric = "jobs_total", Kind = "Rate", Labels = new Dictionary<string, string> { ["outcome"] = "fail*" }, Warning = 1 },
                new MetricFigureSettings { Name = "gone", Metric = "nothing_here" },
            },
        };
        var before = Snap(T0, "triage_queue_size 10\njobs_total{outcome=\"failed\"} 5\njobs_total{outcome=\"ok\"} 100\nprocess_resident_memory_bytes 500\nhttp_connections_active 3\n");
        var after = Snap(T0.AddSeconds(10), "triage_queue_size 120\njobs_total{outcome=\"failed\"} 25\njobs_total{outcome=\"ok\"} 1000\nprocess_resident_memory_bytes 900\nhttp_connections_active 16\n");
        var r = MetricFigures.Compute(before, after, names, new ThresholdSet(), "api", null);
        Assert.Equal(CheckStatus.Warning, Fig(r, "queue").Status);
        Assert.Equal(120.0, Fig(r, "queue").Number);
        Assert.Equal(2.0, Fig(r, "jobs").Number); // (25-5)/10, the ok series left out
        Assert.Equal(CheckStatus.Warning, Fig(r, "jobs").Status);
        Assert.Equal(CheckStatus.Unknown, Fig(r, "gone").Status);
        Assert.Equal(90.0, Fig(r, "MemoryPercent").Number);
        Assert.Equal(CheckStatus.Warning, Fig(r, "MemoryPercent").Status); // 85 < 90 <= 95
        Assert.Equal(CheckStatus.Warning, Fig(r, "Connections").Status);
    }

    [Fact]
    public void The_environment_sections_are_read_and_mistakes_are_named()
    {
        var data = new Dictionary<string, object?>
        {
            ["Metrics"] = new object?[] { new Dictionary<string, object?> { ["Name"] = "api", ["Uri"] = "https://api.shop.example/metrics", ["BearerTokenVariable"] = "T", ["Figures"] = new object?[] { new Dictionary<string, object?> { ["Name"] = "queue", ["Metric"] = "triage_queue_size", ["Warning"] = 100 } } } },
            ["Prometheus"] = new Dictionary<string, object?> { ["Uri"] = "http://prometheus:9090", ["Checks"] = new object?[] { new Dictionary<string, object?> { ["Name"] = "errors", ["Query"] = "sum(rate(x[5m]))", ["Warning"] = 0.05, ["IfEmpty"] = "Healthy" } } },
            ["Alertmanager"] = new Dictionary<string, object?> { ["Uri"] = "http://alertmanager:9093" },
            ["AppFigures"] = new object?[] { new Dictionary<string, object?> { ["Name"] = "breaker", ["Uri"] = "http://api/health", ["Path"] = ".circuit_breakers.ai.state", ["Expected"] = "closed" } },
            ["AppActions"] = new object?[] { new Dictionary<string, object?> { ["Name"] = "reset-circuit-breaker", ["Uri"] = "http://api/api/ai-service?action=reset-circuit-breaker" } },
        };
        var env = EnvironmentReader.Read(data, "/srv/shop.ops.psd1");
        Assert.Equal("api", env.Metrics[0].Name);
        Assert.Equal("triage_queue_size", env.Metrics[0].Figures[0].Metric);
        Assert.Equal("prometheus", env.Prometheus!.Name);
        Assert.Equal(CheckStatus.Healthy, env.Prometheus.Checks[0].IfEmpty);
        Assert.Equal(9093, env.Alertmanager!.Uri.Port);
        Assert.Equal(new[] { "closed" }, env.AppFigures[0].Expected);
        Assert.Equal("POST", env.AppActions[0].Method);

        data["Prometheus"] = new Dictionary<string, object?> { ["Uri"] = "http://prometheus:9090", ["Token"] = "s3cret" };
        var e = Assert.Throws<OpsToolsException>(() => EnvironmentReader.Read(data, "/srv/shop.ops.psd1"));
        Assert.Contains("Prometheus: unknown key(s) 'Token'", e.Message);
        Assert.Contains("BearerTokenVariable", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);

        data["Prometheus"] = new Dictionary<string, object?> { ["Uri"] = "http://prometheus:9090", ["Checks"] = new object?[] { new Dictionary<string, object?> { ["Name"] = "x", ["Query"] = "up", ["IfEmpty"] = "Fine" } } };
        Assert.Contains("IfEmpty: 'Fine' is not one of", Assert.Throws<OpsToolsException>(() => EnvironmentReader.Read(data, "f")).Message);
        data.Remove("Prometheus");
        data["AppActions"] = new object?[] { new Dictionary<string, object?> { ["Name"] = "x", ["Uri"] = "http://a/b", ["Method"] = "TRACE" } };
        Assert.Contains("Method: 'TRACE'", Assert.Throws<OpsToolsException>(() => EnvironmentReader.Read(data, "f")).Message);
    }
}
