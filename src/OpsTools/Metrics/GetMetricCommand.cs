using OpsTools.Commands.Infrastructure;
using System.Collections;
using System.Management.Automation;
using System.Text.RegularExpressions;
using OpsTools.Commands.Configuration;
using OpsTools.Configuration;
using OpsTools.Engine.Health;
using OpsTools.Engine.Metrics;
using OpsTools.Metrics;

namespace OpsTools.Commands.Metrics;

/// <summary>
/// <para type="synopsis">Reads an app's /metrics endpoint (Prometheus text 0.0.4 or OpenMetrics 1.0) and returns its samples as objects.</para>
/// <para type="description">
/// The curl | grep of the runbooks, with objects: name, labels, value, type and help of every sample, filtered by
/// name (wildcards or a regex) and by label values. The exposition is parsed as it arrives (no Prometheus needed);
/// OpenMetrics is asked for first, as Prometheus does, and gzip is accepted. With -AsSnapshot, one MetricSnapshot
/// per endpoint, to pipe into Get-MetricCheck -Baseline later.
/// </para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Metric", DefaultParameterSetName = UriSet, HelpUri = HelpLinks.Base + "Get-Metric.md")]
[OutputType(typeof(MetricSample), typeof(MetricSnapshot))]
public sealed class GetMetricCommand : MetricsCmdlet
{
    private const string UriSet = "Uri";
    private const string EnvironmentSet = "Environment";

    /// <summary>The /metrics URLs.</summary>
    [Parameter(ParameterSetName = UriSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Url")]
    [ValidateNotNullOrEmpty]
    public Uri[] Uri { get; set; } = Array.Empty<Uri>();

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment; its Metrics endpoints are read.</summary>
    [Parameter(ParameterSetName = EnvironmentSet, Mandatory = true)]
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

    /// <summary>Only samples whose name matches one of these wildcard patterns (e.g. http_requests_total, http_request_duration_seconds_*). A family name also matches its _bucket, _sum, _count, _total, _created samples.</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Metric { get; set; }

    /// <summary>Only samples whose name matches this regular expression.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MetricPattern { get; set; }

    /// <summary>Only samples whose labels match: @{ code = '5*'; method = 'GET' } (wildcards; '' matches a missing label).</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Label { get; set; }

    /// <summary>Only samples whose labels match these regular expressions (whole value, as PromQL's =~): @{ status = '5..' }.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? LabelPattern { get; set; }

    /// <summary>Return one MetricSnapshot per endpoint (every sample that passes the filters, and when it was read) instead of the samples.</summary>
    [Parameter]
    public SwitchParameter AsSnapshot { get; set; }

    protected override OpsEnvironment? Env => Environment;

    private readonly List<(System.Uri Uri, MetricsEndpoint? Entry)> _pending = new();

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == EnvironmentSet)
        {
            var entries = Select(Environment!.Metrics, Name, "Metrics");
            if (Environment.Metrics.Count == 0) Warning($"The environment '{Environment.Name}' names no Metrics endpoints; nothing to read.");
            foreach (var e in entries) _pending.Add((e.Uri, e));
        }
        else
            foreach (var u in Uri) if (u is not null) _pending.Add((u, null));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var nameFilter = NameFilter();
        var labelFilter = LabelFilter();
        foreach (var (uri, entry) in _pending)
        {
            HealthProbeRequest target;
            try
            {
                RequireHttp(uri, "-Uri");
                target = Connection(uri, entry);
            }
            catch (OpsToolsException e) { ErrorFor(e, e.ErrorId, uri); continue; }
            try
            {
                var kept = new List<MetricSample>();
                var header = await MetricsScraper.ScrapeAsync(target, nameFilter, s =>
                {
                    if (labelFilter is not null && !labelFilter(s)) return;
                    if (AsSnapshot) kept.Add(s); else Output(s);
                }, cancellationToken).ConfigureAwait(false);
                Verbose($"{header.Target}: {header.Format}, {header.Lines} lines, {header.Count} samples matched the name filter.");
                if (AsSnapshot)
                    Output(new MetricSnapshot { Target = header.Target, Name = entry?.Name, Timestamp = header.Timestamp, Format = header.Format, Samples = kept });
            }
            catch (OpsToolsException e) { ErrorFor(e, e.ErrorId, target.DisplayUri); }
        }
    }

    private Func<string, bool>? NameFilter()
    {
        var patterns = (Metric ?? Array.Empty<string>()).Select(m => WildcardPattern.Get(m, WildcardOptions.IgnoreCase)).ToList();
        Regex? regex = null;
        if (MetricPattern is not null)
        {
            try { regex = new Regex(MetricPattern, RegexOptions.CultureInvariant); }
            catch (ArgumentException e) { Fail(new ArgumentException($"-MetricPattern is not a valid regular expression: {e.Message}"), "InvalidPattern", ErrorCategory.InvalidArgument, MetricPattern); }
        }
        if (patterns.Count == 0 && regex is null) return null;
        string[] suffixes = { "_bucket", "_sum", "_count", "_total", "_created", "_info", "_gsum", "_gcount" };
        bool Matches(string name)
        {
            if (patterns.Any(p => p.IsMatch(name))) return true;
            foreach (var s in suffixes)
                if (name.EndsWith(s, StringComparison.Ordinal) && patterns.Any(p => p.IsMatch(name[..^s.Length]))) return true;
            return false;
        }
        return name => (patterns.Count == 0 || Matches(name)) && (regex is null || regex.IsMatch(name));
    }

    private Func<MetricSample, bool>? LabelFilter()
    {
        var checks = new List<Func<MetricSample, bool>>();
        foreach (var (k, v) in Pairs(Label))
        {
            var p = WildcardPattern.Get(v, WildcardOptions.IgnoreCase);
            checks.Add(s => p.IsMatch(s.Label(k) ?? ""));
        }
        foreach (var (k, v) in Pairs(LabelPattern))
        {
            Regex r = null!;
            try { r = new Regex("^(?:" + v + ")$", RegexOptions.CultureInvariant); }
            catch (ArgumentException e) { Fail(new ArgumentException($"-LabelPattern {k}: not a valid regular expression: {e.Message}"), "InvalidPattern", ErrorCategory.InvalidArgument, v); }
            checks.Add(s => r.IsMatch(s.Label(k) ?? ""));
        }
        return checks.Count == 0 ? null : s => checks.All(c => c(s));
    }

    private static IEnumerable<(string, string)> Pairs(IDictionary? table)
    {
        if (table is null) yield break;
        foreach (DictionaryEntry e in table)
        {
            var k = (e.Key is PSObject pk ? pk.BaseObject : e.Key)?.ToString();
            if (string.IsNullOrEmpty(k)) continue;
            yield return (k, (e.Value is PSObject pv ? pv.BaseObject : e.Value)?.ToString() ?? "");
        }
    }
}
