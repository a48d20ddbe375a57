using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace OpsTools.TestKit;

/// <summary>
/// A small local service for the demo: the health endpoints of a typical web app on loopback
/// (an API with healthy components, a worker that reports a degraded component the way ASP.NET
/// Core does, an ML service in Spring Boot actuator style) and an environment file that names them.
/// </summary>
public sealed class DemoTarget : IDisposable
{
    private readonly HealthServer _server;
    public string Directory { get; }
    public string EnvironmentFile { get; }

    public DemoTarget()
    {
        _server = HealthServer.Start(app =>
        {
            app.MapGet("/health", () => Results.Json(new
            {
                status = "healthy",
                components = new
                {
                    database = new { status = "healthy", latency_ms = 3 },
                    redis = new { status = "healthy" },
                },
            }));
            app.MapGet("/worker/health", () => Results.Json(new
            {
                status = "Degraded",
                totalDuration = "00:00:00.0123",
                entries = new
                {
                    queue = new { status = "Degraded", description = "1840 jobs waiting (warn at 1000)", duration = "00:00:00.004" },
                    storage = new { status = "Healthy", duration = "00:00:00.002" },
                },
            }));
            app.MapGet("/ml/actuator/health", () => Results.Json(new
            {
                status = "UP",
                components = new
                {
                    model = new { status = "UP", details = new { name = "segmentation-v4" } },
                    diskSpace = new { status = "UP", details = new { free = 51234567890L, threshold = 10485760 } },
                },
            }));
        });
        Directory = System.IO.Directory.CreateTempSubdirectory("opstools-demo-").FullName;
        EnvironmentFile = Path.Combine(Directory, "demo.ops.psd1");
        var text = new StringBuilder();
        text.AppendLine("@{");
        text.AppendLine("    Name      = 'demo'");
        text.AppendLine("    AppHealth = @(");
        text.AppendLine($"        @{{ Name = 'api'; Uri = '{_server.Http("/health")}' }}");
        text.AppendLine($"        @{{ Name = 'worker'; Uri = '{_server.Http("/worker/health")}' }}");
        text.AppendLine($"        @{{ Name = 'ml'; Uri = '{_server.Http("/ml/actuator/health")}' }}");
        text.AppendLine("    )");
        text.AppendLine("    Host      = @{ DiskMounts = @('/') }");
        text.AppendLine("}");
        File.WriteAllText(EnvironmentFile, text.ToString());
    }

    public void Dispose()
    {
        _server.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
