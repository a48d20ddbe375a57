using System.Management.Automation;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Health;

/// <summary>
/// One HTTP + HTTPS (self-signed) Kestrel server with every health endpoint shape the Get-AppHealth
/// tests need, shared by the tests of a class.
/// </summary>
public sealed class HealthTestServer : IDisposable
{
    public const string Token = "tk-9f8e7d6c5b4a-SECRET-bearer";
    public const string BasicPassword = "pw-Basic-S3cr3t-77";

    public HealthServer Server { get; } = HealthServer.Start(Map, tls: true);

    public string Http(string path) => Server.Http(path).ToString();
    public string Https(string path) => Server.Https(path).ToString();

    private static void Map(WebApplication app)
    {
        app.MapGet("/health", () => Results.Text(
            """{"status":"healthy","components":{"database":{"status":"healthy","latencyMs":3},"ai":"ok"}}""", "application/json"));
        app.MapGet("/degraded", () => Results.Text(
            """{"status":"healthy","components":{"database":{"status":"healthy"},"cache":{"status":"degraded","description":"eviction rate high"},"ai":"ok"}}""", "application/json"));
        app.MapGet("/spring-down", () => Results.Text(
            """{"status":"DOWN","components":{"db":{"status":"DOWN","details":{"error":"Connection refused","password":"db-pw-LEAK"}},"ping":{"status":"UP"},"grp":{"status":"UP","components":{"a":{"status":"UP"}}}}}""",
            "application/vnd.spring-boot.actuator.v3+json", statusCode: 503));
        // A service that is up (200, overall UP) but lists one component down: degraded.
        app.MapGet("/partial-down", () => Results.Text(
            """{"status":"UP","components":{"db":{"status":"UP"},"search":{"status":"DOWN","details":{"error":"index unreachable"}}}}""", "application/json"));
        app.MapGet("/fail500", () => Results.Text("boom", "text/plain", statusCode: 500));
        app.MapGet("/garbage", () => Results.Text("{\"status\": \"UP\", oops", "application/json"));
        app.MapGet("/text-ok", () => Results.Text("OK", "text/plain"));
        app.MapGet("/slow", async (HttpContext ctx) =>
        {
            try { await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted); } catch (OperationCanceledException) { }
            return Results.Text("""{"status":"UP"}""", "application/json");
        });
        app.MapGet("/wait/{n}", async (int n, HttpContext ctx) =>
        {
            await Task.Delay(200, ctx.RequestAborted);
            return Results.Text("""{"status":"UP"}""", "application/json");
        });
        app.MapGet("/wait-ms/{ms}", async (int ms, HttpContext ctx) =>
        {
            await Task.Delay(ms, ctx.RequestAborted);
            return Results.Text("""{"status":"UP"}""", "application/json");
        });
        app.MapGet("/auth", (HttpContext ctx) =>
            ctx.Request.Headers.Authorization.ToString() == "Bearer " + Token
                ? Results.Text("""{"status":"UP"}""", "application/json")
                : Results.Text("""{"error":"unauthorized"}""", "application/json", statusCode: 401));
        app.MapGet("/basic", (HttpContext ctx) =>
            ctx.Request.Headers.Authorization.ToString() == "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("ops:" + BasicPassword))
                ? Results.Text("""{"status":"UP"}""", "application/json")
                : Results.Text("""{"error":"unauthorized"}""", "application/json", statusCode: 401));
        app.MapGet("/echo-header", (HttpContext ctx) =>
            Results.Text("{\"status\":\"UP\",\"components\":{\"seen\":{\"status\":\"UP\",\"apiKey\":\"" + ctx.Request.Headers["X-Api-Key"] + "\"}}}", "application/json"));
    }

    public void Dispose() => Server.Dispose();
}

/// <summary>Small helpers for asserting on what Get-AppHealth wrote.</summary>
internal static class Results2
{
    public static object? P(this PSObject o, string name) => RunResult.Prop(o, name);
    public static string S(this PSObject o, string name) => RunResult.Prop(o, name)?.ToString() ?? "";
    public static string TypeName(this PSObject o) => o.BaseObject.GetType().FullName ?? "";
    public static bool IsEndpoint(this PSObject o) => o.TypeName() == "OpsTools.Health.AppHealthResult";
    public static bool IsComponent(this PSObject o) => o.TypeName() == "OpsTools.Health.ComponentHealthResult";

    /// <summary>Everything a user could see of a run: every property of every object (components and details included), every stream, and the host's text.</summary>
    public static string AllText(RunResult r, ModuleSession s)
    {
        var parts = new List<string> { s.Host.Text };
        foreach (var o in r.Output) parts.Add(Dump(o.BaseObject, 0));
        foreach (var e in r.Errors)
        {
            parts.Add(e.ToString());
            parts.Add(e.Exception.ToString());
            parts.Add(e.TargetObject?.ToString() ?? "");
            parts.Add(e.ErrorDetails?.Message ?? "");
        }
        parts.AddRange(r.Verbose);
        parts.AddRange(r.Warnings);
        parts.AddRange(r.Progress.Select(p => $"{p.Activity} {p.StatusDescription} {p.CurrentOperation}"));
        if (r.Terminating is not null) parts.Add(r.Terminating.ToString());
        return string.Join("\n", parts);
    }

    private static string Dump(object? value, int depth)
    {
        if (value is null || depth > 4) return "";
        if (value is string or ValueType or Uri) return value.ToString() ?? "";
        if (value is System.Collections.IDictionary d)
            return string.Join(";", d.Keys.Cast<object>().Select(k => $"{k}={Dump(d[k], depth + 1)}"));
        if (value is System.Collections.IEnumerable e)
            return string.Join(";", e.Cast<object?>().Select(x => Dump(x, depth + 1)));
        var props = value.GetType().GetProperties().Where(p => p.GetIndexParameters().Length == 0);
        return value + " " + string.Join(";", props.Select(p => $"{p.Name}={Dump(p.GetValue(value), depth + 1)}"));
    }
}
