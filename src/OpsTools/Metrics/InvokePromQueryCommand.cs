using OpsTools.Commands.Infrastructure;
using System.Diagnostics;
using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Configuration;
using OpsTools.Engine.Metrics;
using OpsTools.Metrics;

namespace OpsTools.Commands.Metrics;

/// <summary>
/// <para type="synopsis">Runs PromQL against Prometheus's HTTP API (instant or range queries), or the environment's named checks as check results.</para>
/// <para type="description">
/// An instant query (/api/v1/query) returns one PromSeries per series of a vector, one for a scalar or a string; a
/// range query (-Start, -End, -Step: /api/v1/query_range) one PromSeries per series with every point in Values.
/// Long queries go by POST (or always, with -UsePost). Prometheus's own errors (bad_data, execution, timeout) are
/// errors that quote Prometheus. With -Check, the environment's Prometheus.Checks run and come back as
/// PromCheckResult: the worst series against Warning/Critical; an empty result is Unknown unless the check says
/// IfEmpty; NaN is Unknown.
/// </para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "PromQuery", DefaultParameterSetName = InstantSet, HelpUri = HelpLinks.Base + "Invoke-PromQuery.md")]
[OutputType(typeof(PromSeries), typeof(PromCheckResult))]
public sealed class InvokePromQueryCommand : MetricsCmdlet
{
    private const string InstantSet = "Instant";
    private const string RangeSet = "Range";
    private const string CheckSet = "Check";

    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>The PromQL expression, e.g. 'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'.</summary>
    [Parameter(ParameterSetName = InstantSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [Parameter(ParameterSetName = RangeSet, Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public string Query { get; set; } = "";

    /// <summary>Prometheus's base URL (http://prometheus:9090, or an OpenShift thanos-querier route). Default: the environment's Prometheus.Uri.</summary>
    [Parameter]
    [Alias("PrometheusUri", "Url")]
    [ValidateNotNull]
    public Uri? Uri { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its Prometheus section (URL, token variable, checks).</summary>
    [Parameter(ParameterSetName = InstantSet)]
    [Parameter(ParameterSetName = RangeSet)]
    [Parameter(ParameterSetName = CheckSet, Mandatory = true)]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    [ValidateNotNull]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>The environment's named checks to run (wildcards; default all).</summary>
    [Parameter(ParameterSetName = CheckSet, Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(PromCheckNameCompleter))]
    public string[]? Check { get; set; }

    /// <summary>The evaluation time of an instant query (default now).</summary>
    [Parameter(ParameterSetName = InstantSet)]
    [PointInTimeTransformation]
    public DateTime? Time { get; set; }

    /// <summary>The start of a range query.</summary>
    [Parameter(ParameterSetName = RangeSet, Mandatory = true)]
    [PointInTimeTransformation]
    public DateTime Start { get; set; }

    /// <summary>The end of a range query (default now).</summary>
    [Parameter(ParameterSetName = RangeSet)]
    [PointInTimeTransformation]
    public DateTime? End { get; set; }

    /// <summary>The resolution of a range query (default: the range / 250, at least 1 s).</summary>
    [Parameter(ParameterSetName = RangeSet)]
    [DurationTransformation]
    public TimeSpan? Step { get; set; }

    /// <summary>Send the query by POST (form body) instead of GET; queries longer than 4000 characters always go by POST.</summary>
    [Parameter]
    public SwitchParameter UsePost { get; set; }

    protected override OpsEnvironment? Env => Environment;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var settings = Environment?.Prometheus;
        var uri = Uri ?? settings?.Uri;
        if (uri is null)
            Fail(new ArgumentException(Environment is null
                    ? "Give Prometheus's URL with -Uri (e.g. http://prometheus:9090), or an environment with a Prometheus section."
                    : $"The environment '{Environment.Name}' has no Prometheus section: give -Uri."),
                "PrometheusNotConfigured", ErrorCategory.InvalidArgument, null);
        PrometheusApi api;
        try
        {
            RequireHttp(uri!, "-Uri");
            api = new PrometheusApi(Connection(uri!, Uri is null ? settings : null));
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, uri); return; }

        if (ParameterSetName == CheckSet)
        {
            var checks = Select(settings?.Checks ?? Array.Empty<PromCheckSettings>(), Check, "Prometheus.Checks");
            if (checks.Count == 0 && Check is null) Warning($"The environment '{Environment!.Name}' names no Prometheus checks.");
            foreach (var c in checks)
            {
                var sw = Stopwatch.StartNew();
                try
                {
                    var series = await api.QueryAsync(c.Query, null, UsePost, cancellationToken).ConfigureAwait(false);
                    Output(PromChecks.Judge(c, series, api.Source, EnvironmentName, sw.Elapsed));
                }
                catch (OpsToolsException e)
                {
                    // The check could not run: an Unknown result that says why (a wrong query is the check's fault, an unreachable Prometheus the server's).
                    Output(new PromCheckResult
                    {
                        Check = "PromQL." + c.Name, Area = "Metrics", Name = c.Name, Query = c.Query, Target = api.Source + "#" + c.Name,
                        Status = CheckStatus.Unknown, Message = e.Message, Duration = sw.Elapsed, Environment = EnvironmentName,
                        Threshold = MetricFigures.Thresholds(c.Warning, c.Critical, c.Below),
                    });
                }
            }
            return;
        }

        try
        {
            IReadOnlyList<PromSeries> result;
            if (ParameterSetName == RangeSet)
            {
                var end = End ?? DateTime.UtcNow;
                var start = Start;
                if (start.ToUniversalTime() >= end.ToUniversalTime())
                    Fail(new ArgumentException("-Start must be before -End."), "InvalidRange", ErrorCategory.InvalidArgument, Start);
                var step = Step ?? TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling((end.ToUniversalTime() - start.ToUniversalTime()).TotalSeconds / 250)));
                Verbose($"query_range {Query} from {start.ToUniversalTime():u} to {end.ToUniversalTime():u} step {step.TotalSeconds} s");
                result = await api.QueryRangeAsync(Query, start, end, step, UsePost, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                Verbose($"query {Query}{(Time is DateTime t ? $" at {t.ToUniversalTime():u}" : "")}");
                result = await api.QueryAsync(Query, Time, UsePost, cancellationToken).ConfigureAwait(false);
            }
            if (result.Count == 0) Verbose("The query returned no series (an empty result).");
            foreach (var s in result) Output(s);
        }
        catch (OpsToolsException e) { ErrorFor(e, e.ErrorId, Query); }
    }
}
