using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Metrics;

/// <summary>
/// One prometheus-net app, scraped every second by Debian's Prometheus, which evaluates two alert rules every second
/// and sends to Debian's Alertmanager: shared by the Metrics tests, which run one class at a time.
/// </summary>
public sealed class MetricsStack : IDisposable
{
    public const string Rules = """
        groups:
        - name: opstools-test
          interval: 1s
          rules:
          - alert: ServerErrors
            expr: sum(http_request_duration_seconds_count{code=~"5.."}) > 0
            labels:
              severity: critical
            annotations:
              summary: 5xx answers seen
          - alert: QueueBacklog
            expr: triage_queue_size > 100
            labels:
              severity: warning
            annotations:
              summary: Queue backlog above 100
        """;

    public MetricsApp App { get; }
    public PrometheusStack Prometheus { get; }

    public MetricsStack()
    {
        App = MetricsApp.Start();
        try { Prometheus = PrometheusStack.Start(new[] { $"127.0.0.1:{App.Base.Port}" }, Rules); }
        catch { App.Dispose(); throw; }
    }

    /// <summary>An environment file for the stack, written to a temp folder.</summary>
    public string WriteEnvironment(string extra = "", bool prometheus = true, bool alertmanager = true)
    {
        var dir = Directory.CreateTempSubdirectory("opstools-metrics-env-").FullName;
        var path = Path.Combine(dir, "stack.ops.psd1");
        File.WriteAllText(path, $$"""
            @{
                Name = 'stack'
                Metrics = @(
                    @{ Name = 'app'; Uri = '{{App.MetricsUri}}'; RequestMetric = 'http_request_duration_seconds_count'; StatusLabel = 'code'
                       Figures = @( @{ Name = 'queue'; Metric = 'triage_queue_size'; Warning = 100; Critical = 500 } ) }
                )
                {{(prometheus ? $"Prometheus = @{{ Uri = '{Prometheus.PrometheusUri}'; Selector = 'job=\"app\"'; OvernightHours = 1 }}" : "")}}
                {{(alertmanager ? $"Alertmanager = @{{ Uri = '{Prometheus.AlertmanagerUri}' }}" : "")}}
                {{extra}}
            }
            """);
        return path;
    }

    public void Dispose()
    {
        Prometheus.Dispose();
        App.Dispose();
    }
}

[CollectionDefinition("Metrics")]
public sealed class MetricsCollection : ICollectionFixture<MetricsStack> { }
