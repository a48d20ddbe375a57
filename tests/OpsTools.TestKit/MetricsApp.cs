using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Prometheus;

namespace OpsTools.TestKit;

/// <summary>
/// A Kestrel app instrumented with prometheus-net, as a real service would be: /api/work answers with the status and
/// after the delay the test asks for (?code=500&amp;ms=300), measured by prometheus-net's HTTP middleware
/// (http_request_duration_seconds{code,method,...} histogram, its _count is the request counter); /metrics is
/// prometheus-net's own exposition (OpenMetrics when asked). Beside it: /raw serves an exposition the test writes
/// (garbage, cut short, a counter that went down), /slow never answers in time, and the app's own JSON
/// (/alerts, /triage/statistics, /health with circuit breakers) and actions (POST /api/ai-service?action=...).
/// Each instance has its own registry, so two apps in one process do not share counters.
/// </summary>
public sealed class MetricsApp : IDisposable
{
    private readonly HealthServer _server;
    private readonly CollectorRegistry _registry;

    public Uri Base => _server.HttpBase;
    public Uri MetricsUri => new(_server.HttpBase, "/metrics");
    public Uri RawUri => new(_server.HttpBase, "/raw");
    public HealthServer Server => _server;

    /// <summary>What /raw serves, and with which content type.</summary>
    public string RawExposition { get; set; } = "";
    public string RawContentType { get; set; } = "text/plain; version=0.0.4; charset=utf-8";
    /// <summary>The JSON /triage/statistics answers with.</summary>
    public string Statistics { get; set; } = "{\"queue_size\": 12, \"processing\": 3}";
    /// <summary>The state of the 'ai' circuit breaker in /health; POST /api/ai-service?action=reset-circuit-breaker closes it.</summary>
    public string BreakerState { get; set; } = "open";
    /// <summary>Action calls received: method, path and query, body, Authorization header.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<(string Method, string PathAndQuery, string Body, string? Authorization)> Actions { get; } = new();
    /// <summary>A gauge the test sets (queue size) and a counter it can drive.</summary>
    public Gauge QueueSize { get; }
    public Counter Jobs { get; }

    private MetricsApp()
    {
        _registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(_registry);
        QueueSize = factory.CreateGauge("triage_queue_size", "Items waiting in the triage queue.");
        Jobs = factory.CreateCounter("app_jobs_processed_total", "Jobs processed.", new CounterConfiguration { LabelNames = new[] { "outcome" } });
        // The process figures a real app exposes (process_cpu_seconds_total, process_resident_memory_bytes ...).
        DotNetStats.Register(_registry);
        _server = HealthServer.Start(app =>
        {
            app.UseWhen(ctx => ctx.Request.Path.StartsWithSegments("/api/work"),
                b => b.UseHttpMetrics(o => o.SetMetricFactory(factory)));
            app.MapGet("/api/work", async (HttpContext ctx) =>
            {
                var code = int.TryParse(ctx.Request.Query["code"], out var c) ? c : 200;
                var ms = int.TryParse(ctx.Request.Query["ms"], out var m) ? m : 0;
                if (ms > 0) await Task.Delay(ms);
                ctx.Response.StatusCode = code;
                await ctx.Response.WriteAsync("done");
            });
            app.MapMetrics("/metrics", _registry);
            app.MapGet("/raw", async (HttpContext ctx) =>
            {
                ctx.Response.ContentType = RawContentType;
                await ctx.Response.WriteAsync(RawExposition);
            });
            app.MapGet("/slow", async (HttpContext ctx) =>
            {
                try { await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted); } catch (OperationCanceledException) { }
            });
            app.MapGet("/slow/api/v1/query", async (HttpContext ctx) =>
            {
                try { await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted); } catch (OperationCanceledException) { }
            });
            app.MapGet("/alerts", () => Results.Text("{\"alert_count\": 2, \"alerts\": [{\"name\": \"disk\"}, {\"name\": \"queue\"}]}", "application/json"));
            app.MapGet("/triage/statistics", () => Results.Text(Statistics, "application/json"));
            app.MapGet("/health", () => Results.Text($"{{\"status\": \"ok\", \"circuit_breakers\": {{\"ai\": {{\"state\": \"{BreakerState}\", \"failures\": 7}}}}}}", "application/json"));
            app.Map("/api/ai-service", async (HttpContext ctx) =>
            {
                using var reader = new StreamReader(ctx.Request.Body);
                var body = await reader.ReadToEndAsync();
                Actions.Enqueue((ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString, body, ctx.Request.Headers.Authorization.FirstOrDefault()));
                var action = ctx.Request.Query["action"].ToString();
                if (!HttpMethods.IsPost(ctx.Request.Method)) { ctx.Response.StatusCode = 405; return; }
                if (action == "reset-circuit-breaker") { BreakerState = "closed"; await ctx.Response.WriteAsJsonAsync(new { reset = true, state = BreakerState }); return; }
                ctx.Response.StatusCode = 400;
                await ctx.Response.WriteAsJsonAsync(new { error = $"unknown action '{action}'" });
            });
        });
    }

    public static MetricsApp Start() => new();

    /// <summary>Sends <paramref name="count"/> requests to /api/work with that status and delay, <paramref name="parallel"/> at a time.</summary>
    public async Task DriveAsync(int count, int code = 200, int ms = 0, int parallel = 16)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var gate = new SemaphoreSlim(parallel);
        var tasks = Enumerable.Range(0, count).Select(async _ =>
        {
            await gate.WaitAsync();
            try { using var r = await client.GetAsync(new Uri(Base, $"/api/work?code={code}&ms={ms}")); }
            finally { gate.Release(); }
        });
        await Task.WhenAll(tasks);
    }

    public void Dispose() => _server.Dispose();
}
