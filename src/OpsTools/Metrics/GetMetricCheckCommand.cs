using OpsTools.Commands.Infrastructure;
using System.Collections;
using System.Diagnostics;
using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Configuration;
using OpsTools.Engine.Health;
using OpsTools.Engine.Metrics;
using OpsTools.Metrics;

namespace OpsTools.Commands.Metrics;

/// <summary>
/// <para type="synopsis">Computes the runbook figures of an app from its /metrics over a window: error rate, request rate, p95/p99 latency, CPU, memory, connections, and the environment's own gauges and counters, as check results.</para>
/// <para type="description">
/// Reads the endpoint twice, -Interval seconds apart (or once, against a snapshot from Get-Metric -AsSnapshot given
/// with -Baseline), and computes each figure as Prometheus would over that window: increase() with counter resets,
/// histogram_quantile over the buckets' increase. Error rate: warning above 5 %, critical above 10 %; p95: warning
/// above 2 s, critical above 5 s (the runbook defaults; the environment's Thresholds and these parameters override
/// them). No traffic in the window, a missing metric, or NaN is an Unknown result that says so, never Healthy.
/// An endpoint that cannot be read is one Unknown result.
/// </para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "MetricCheck", DefaultParameterSetName = UriSet, HelpUri = HelpLinks.Base + "Get-MetricCheck.md")]
[OutputType(typeof(MetricCheckResult))]
public sealed class GetMetricCheckCommand : MetricsCmdlet
{
    private const string UriSet = "Uri";
    private const string EnvironmentSet = "Environment";
    private const string BaselineSet = "Baseline";

    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>The /metrics URLs.</summary>
    // Not from the pipeline: a piped MetricSnapshot must bind to -Baseline (the binder would otherwise settle on this set).
    [Parameter(ParameterSetName = UriSet, Mandatory = true, Position = 0)]
    [Alias("Url")]
    [ValidateNotNullOrEmpty]
    public Uri[] Uri { get; set; } = Array.Empty<Uri>();

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment; its Metrics endpoints, their metric names and figures, and its Thresholds are used.</summary>
    [Parameter(ParameterSetName = EnvironmentSet, Mandatory = true)]
    [Parameter(ParameterSetName = BaselineSet)]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    [ValidateNotNull]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Only the environment's Metrics endpoints with these names (wildcards allowed).</summary>
    [Parameter(ParameterSetName = EnvironmentSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(MetricsEndpointNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>An earlier read of the endpoint (Get-Metric -AsSnapshot): the window runs from it to now, and the endpoint is read once.</summary>
    [Parameter(ParameterSetName = BaselineSet, Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public MetricSnapshot? Baseline { get; set; }

    /// <summary>Seconds between the two reads of the endpoint (default 15). Longer windows smooth the figures; the runbooks' PromQL uses 5m.</summary>
    [Parameter(ParameterSetName = UriSet)]
    [Parameter(ParameterSetName = EnvironmentSet)]
    [ValidateRange(1.0, 3600.0)]
    public double Interval { get; set; } = 15;

    /// <summary>Only series whose labels match, for every figure: @{ handler = '/api/*' } (wildcards).</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Label { get; set; }

    /// <summary>The request counter (default http_requests_total, else the latency histogram's _count).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? RequestMetric { get; set; }

    /// <summary>The latency histogram, without _bucket (default http_request_duration_seconds).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? LatencyMetric { get; set; }

    /// <summary>The label holding the HTTP status (default: status when the series have it, else code).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatusLabel { get; set; }

    /// <summary>Error rate in percent above which it warns (default 5, or the environment's ErrorRateWarningPercent).</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double ErrorRateWarningPercent { get; set; }

    /// <summary>Error rate in percent above which it is critical (default 10).</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double ErrorRateCriticalPercent { get; set; }

    /// <summary>p95 latency in milliseconds above which it warns (default 2000).</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double P95WarningMs { get; set; }

    protected override OpsEnvironment? Env => Environment;

    private readonly List<(System.Uri Uri, MetricsEndpoint? Entry, MetricSnapshot? Baseline)> _pending = new();

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        switch (ParameterSetName)
        {
            case EnvironmentSet:
                if (Environment!.Metrics.Count == 0) Warning($"The environment '{Environment.Name}' names no Metrics endpoints; nothing to check.");
                foreach (var e in Select(Environment.Metrics, Name, "Metrics")) _pending.Add((e.Uri, e, null));
                break;
            case BaselineSet:
                var b = Baseline!;
                var entry = Environment?.Metrics.FirstOrDefault(m => string.Equals(m.Name, b.Name, StringComparison.OrdinalIgnoreCase));
                if (System.Uri.TryCreate(b.Target, UriKind.Absolute, out var u)) _pending.Add((entry?.Uri ?? u, entry, b));
                else Error(new ErrorRecord(new ArgumentException($"The baseline's Target '{b.Target}' is not a URL."), "InvalidBaseline", ErrorCategory.InvalidArgument, b));
                break;
            default:
                foreach (var uri in Uri) if (uri is not null) _pending.Add((uri, null, null));
                break;
        }
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0) return;
        var thresholds = (Environment?.Thresholds ?? new ThresholdSet()).Clone();
        if (Bound(nameof(ErrorRateWarningPercent))) thresholds.ErrorRateWarningPercent = ErrorRateWarningPercent;
        if (Bound(nameof(ErrorRateCriticalPercent))) thresholds.ErrorRateCriticalPercent = ErrorRateCriticalPercent;
        if (Bound(nameof(P95WarningMs))) thresholds.P95WarningMs = P95WarningMs;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Label is not null)
            foreach (DictionaryEntry e in Label)
                labels[(e.Key is PSObject pk ? pk.BaseObject : e.Key)?.ToString() ?? ""] = (e.Value is PSObject pv ? pv.BaseObject : e.Value)?.ToString() ?? "";

        // Every endpoint's first read at once, one wait, then every second read: the window is the same for all.
        var jobs = new List<Job>();
        foreach (var (uri, entry, baseline) in _pending)
        {
            var fromEntry = FigureNames.From(entry);
            var names = new FigureNames
            {
                RequestMetric = RequestMetric ?? fromEntry.RequestMetric,
                LatencyMetric = LatencyMetric ?? fromEntry.LatencyMetric,
                StatusLabel = StatusLabel ?? fromEntry.StatusLabel,
                ConnectionsMetric = fromEntry.ConnectionsMetric,
                ConnectionsWarning = fromEntry.ConnectionsWarning,
                ConnectionsCritical = fromEntry.ConnectionsCritical,
                MemoryMetric = fromEntry.MemoryMetric,
                MemoryLimitBytes = fromEntry.MemoryLimitBytes,
                Figures = fromEntry.Figures,
                Labels = labels,
            };
            var job = new Job(uri, entry, names) { Before = baseline };
            try
            {
                RequireHttp(uri, "-Uri");
                job.Target = Connection(uri, entry);
            }
            catch (OpsToolsException e) { job.Failure = e.Message; }
            jobs.Add(job);
        }

        var started = Stopwatch.GetTimestamp();
        if (ParameterSetName != BaselineSet)
        {
            await Task.WhenAll(jobs.Where(j => j.Failure is null).Select(j => ReadAsync(j, before: true, cancellationToken))).ConfigureAwait(false);
            var live = jobs.Where(j => j.Failure is null).ToList();
            if (live.Count > 0)
            {
                Verbose($"Read {live.Count} endpoint(s); reading again in {Interval} s.");
                await WaitAsync(TimeSpan.FromSeconds(Interval), cancellationToken).ConfigureAwait(false);
            }
        }
        await Task.WhenAll(jobs.Where(j => j.Failure is null).Select(j => ReadAsync(j, before: false, cancellationToken))).ConfigureAwait(false);

        foreach (var job in jobs)
        {
            var endpoint = job.Entry?.Name ?? Engine.Configuration.EnvironmentReader.DefaultName(job.Uri);
            if (job.Failure is not null || job.After is null)
            {
                Output(new MetricCheckResult
                {
                    Check = "Metric", Area = "Metrics", Figure = "Scrape", Endpoint = endpoint, Environment = EnvironmentName,
                    Target = job.Target?.DisplayUri ?? Engine.Security.Redaction.RedactUri(job.Uri), Status = CheckStatus.Unknown,
                    Message = $"The metrics could not be read: {job.Failure}", Duration = Stopwatch.GetElapsedTime(started),
                });
                continue;
            }
            foreach (var r in MetricFigures.Compute(job.Before, job.After, job.Names, thresholds, endpoint, EnvironmentName))
            {
                r.Duration = Stopwatch.GetElapsedTime(started);
                Output(r);
            }
        }
    }

    private sealed class Job
    {
        public Job(System.Uri uri, MetricsEndpoint? entry, FigureNames names) => (Uri, Entry, Names) = (uri, entry, names);
        public System.Uri Uri { get; }
        public MetricsEndpoint? Entry { get; }
        public FigureNames Names { get; }
        public HealthProbeRequest? Target { get; set; }
        public MetricSnapshot? Before { get; set; }
        public MetricSnapshot? After { get; set; }
        public string? Failure { get; set; }
    }

    private async Task ReadAsync(Job job, bool before, CancellationToken ct)
    {
        try
        {
            var snap = await MetricsScraper.SnapshotAsync(job.Target!, job.Names.Wants, ct).ConfigureAwait(false);
            if (before) job.Before = snap; else job.After = snap;
            Verbose($"{snap.Target}: {snap.Samples.Count} samples of interest ({snap.Format}).");
        }
        catch (OpsToolsException e) { job.Failure = e.Message; }
    }

    private async Task WaitAsync(TimeSpan wait, CancellationToken ct)
    {
        var activity = $"Waiting {wait.TotalSeconds:0.#} s for the second read of /metrics";
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < wait)
        {
            var left = wait - sw.Elapsed;
            Progress(new ProgressRecord(1, "Get-MetricCheck", activity)
            {
                PercentComplete = (int)Math.Min(100, sw.Elapsed.TotalMilliseconds * 100 / wait.TotalMilliseconds),
                SecondsRemaining = (int)Math.Ceiling(left.TotalSeconds),
            });
            await Task.Delay(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
        }
        Progress(new ProgressRecord(1, "Get-MetricCheck", activity) { RecordType = ProgressRecordType.Completed });
    }
}
