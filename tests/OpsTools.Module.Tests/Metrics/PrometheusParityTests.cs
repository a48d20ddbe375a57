using System.Globalization;
using System.Management.Automation;
using System.Text.Json;
using OpsTools.TestKit;
using Xunit.Abstractions;

namespace OpsTools.Module.Tests.Metrics;

/// <summary>
/// The runbook figures OpsTools computes from the raw /metrics against what the real Prometheus computes from its
/// own scrapes of the same app, over the same two samples: the same bits.
/// </summary>
[Collection("Metrics")]
public class PrometheusParityTests
{
    private readonly MetricsStack _stack;
    private readonly ITestOutputHelper _log;

    public PrometheusParityTests(MetricsStack stack, ITestOutputHelper log) => (_stack, _log) = (stack, log);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    /// <summary>Waits until Prometheus's latest scrape shows <paramref name="total"/> requests and returns that scrape's timestamp (ms).</summary>
    private async Task<long> ScrapeShowingAsync(double total)
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var r = await _stack.Prometheus.QueryAsync("sum(http_request_duration_seconds_count{job=\"app\"})");
            if (r.GetArrayLength() == 1 && double.Parse(r[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture) == total)
            {
                // One scrape more, so that the sample at this timestamp is surely one taken after the traffic stopped.
                await Task.Delay(1500);
                var ts = await _stack.Prometheus.QueryAsync("max(timestamp(http_request_duration_seconds_count{job=\"app\"}))");
                // Right after a scrape the instant query can come back empty for a moment: ask again within the deadline.
                if (ts.GetArrayLength() != 1)
                {
                    if (DateTime.UtcNow > until) throw new TimeoutException($"Prometheus showed {total} requests but no sample timestamp: {ts}\n{_stack.Prometheus.Logs}");
                    continue;
                }
                return (long)Math.Round(double.Parse(ts[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture) * 1000);
            }
            if (DateTime.UtcNow > until) throw new TimeoutException($"Prometheus never showed {total} requests: {r}\n{_stack.Prometheus.Logs}");
            await Task.Delay(250);
        }
    }

    private async Task<double> PromValueAsync(string query, long atMs)
    {
        var r = await _stack.Prometheus.QueryAsync(query, atMs / 1000.0);
        Assert.Equal(1, r.GetArrayLength());
        var text = r[0].GetProperty("value")[1].GetString()!;
        return text switch { "NaN" => double.NaN, "+Inf" => double.PositiveInfinity, "-Inf" => double.NegativeInfinity, _ => double.Parse(text, CultureInfo.InvariantCulture) };
    }

    private static double Total(IEnumerable<PSObject> samples) =>
        samples.Where(s => (string)P(s, "Name")! == "http_request_duration_seconds_count").Sum(s => (double)P(s, "Value")!);

    [Fact]
    public async Task P95_p99_and_error_rate_from_the_raw_endpoint_equal_Prometheus_to_the_last_bit()
    {
        var app = _stack.App;
        using var s = new ModuleSession();
        s.Set("u", app.MetricsUri);

        // Window start: every label set the window will see exists already (a series born mid-window is extrapolated by Prometheus).
        await app.DriveAsync(40, 200, 0);
        await app.DriveAsync(3, 500, 0);
        await app.DriveAsync(2, 503, 30);
        await app.DriveAsync(5, 200, 120);
        var first = s.Invoke("Get-Metric -Uri $u -Metric http_request_duration_seconds -AsSnapshot")[0];
        var firstTotal = Total(((System.Collections.IEnumerable)P(first, "Samples")!).Cast<object>().Select(PSObject.AsPSObject));
        Assert.Equal(50, firstTotal);
        var t1 = await ScrapeShowingAsync(firstTotal);

        // The window: a known mix of answers and latencies.
        await Task.WhenAll(
            app.DriveAsync(150, 200, 0, parallel: 32),
            app.DriveAsync(30, 200, 80),
            app.DriveAsync(12, 200, 300),
            app.DriveAsync(10, 500, 0),
            app.DriveAsync(6, 503, 30));
        s.Set("first", first);
        var t2 = await ScrapeShowingAsync(firstTotal + 208);
        var results = s.Invoke("$first | Get-MetricCheck");
        var w = t2 - t1;
        _log.WriteLine($"window {w} ms between Prometheus's samples at {t1} and {t2}");

        PSObject Fig(string name) => results.Single(r => (string)P(r, "Figure")! == name);
        foreach (var (q, figure) in new[] { (0.95, "LatencyP95"), (0.99, "LatencyP99") })
        {
            var prom = await PromValueAsync($"histogram_quantile({q.ToString(CultureInfo.InvariantCulture)}, sum by (le) (increase(http_request_duration_seconds_bucket{{job=\"app\"}}[{w}ms])))", t2);
            var ours = (double)P(Fig(figure), "Number")!;
            _log.WriteLine($"{figure}: Prometheus {prom:R} s, OpsTools {ours:R} ms");
            Assert.False(double.IsNaN(prom));
            Assert.Equal(BitConverter.DoubleToInt64Bits(prom * 1000.0), BitConverter.DoubleToInt64Bits(ours));
        }
        var promErrors = await PromValueAsync($"sum(increase(http_request_duration_seconds_count{{job=\"app\",code=~\"5..\"}}[{w}ms])) / sum(increase(http_request_duration_seconds_count{{job=\"app\"}}[{w}ms])) * 100", t2);
        var ourErrors = (double)P(Fig("ErrorRate"), "Number")!;
        _log.WriteLine($"ErrorRate: Prometheus {promErrors:R} %, OpsTools {ourErrors:R} %");
        Assert.Equal(BitConverter.DoubleToInt64Bits(promErrors), BitConverter.DoubleToInt64Bits(ourErrors));
        Assert.Equal(16.0 / 208 * 100, ourErrors, 12);
        Assert.Equal("Warning", P(Fig("ErrorRate"), "Status")!.ToString()); // 7.7 %: above 5, not above 10
    }
}
