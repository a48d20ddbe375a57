using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Configuration;
using OpsTools.Engine.Metrics;
using OpsTools.Metrics;

namespace OpsTools.Commands.Metrics;

/// <summary>
/// <para type="synopsis">Lists the alerts that fire now (Alertmanager's /api/v2/alerts with silences and inhibitions, or Prometheus's /api/v1/alerts), or what fired in the last hours (-Since: a range query over ALERTS), as check results.</para>
/// <para type="description">
/// Each alert is an AlertResult: a firing alert with severity critical (or page, error, high) is Critical, info/none
/// is Healthy, any other severity Warning; pending alerts (not firing yet) and alerts Alertmanager holds silenced or
/// inhibited are Healthy, with Silenced/Inhibited set. No alert gives no output. With -Since, the alerts that fired
/// in that time, with when they were first and last seen firing; those still firing are judged by severity, those
/// resolved are a Warning (info: Healthy) so the morning review sees them.
/// </para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ActiveAlert", HelpUri = HelpLinks.Base + "Get-ActiveAlert.md")]
[OutputType(typeof(AlertResult))]
public sealed class GetActiveAlertCommand : MetricsCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Prometheus's base URL (default: the environment's Prometheus.Uri).</summary>
    [Parameter(Position = 0)]
    [Alias("PrometheusUri")]
    [ValidateNotNull]
    public Uri? Uri { get; set; }

    /// <summary>Alertmanager's base URL (default: the environment's Alertmanager.Uri). When known, active alerts come from it (it knows silences).</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? AlertmanagerUri { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its Prometheus and Alertmanager sections.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    [ValidateNotNull]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>What fired in this much time up to now ("overnight": 12:00:00), from Prometheus's ALERTS series, instead of what fires now.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? Since { get; set; }

    /// <summary>Ask Prometheus even when an Alertmanager is known.</summary>
    [Parameter]
    public SwitchParameter FromPrometheus { get; set; }

    /// <summary>Only alerts with these severities (wildcards).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Severity { get; set; }

    protected override OpsEnvironment? Env => Environment;

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var promUri = Uri ?? Environment?.Prometheus?.Uri;
        var amUri = AlertmanagerUri ?? Environment?.Alertmanager?.Uri;
        IReadOnlyList<AlertResult> alerts;
        string from;
        try
        {
            if (Since is TimeSpan since)
            {
                if (since <= TimeSpan.Zero) Fail(new ArgumentException("-Since must be a positive time span, e.g. 12:00:00 for 12 hours."), "InvalidSince", ErrorCategory.InvalidArgument, since);
                var api = Prometheus(promUri, "-Since reads Prometheus's ALERTS series");
                from = api.Source;
                var end = DateTime.UtcNow;
                alerts = await api.FiredAsync(end - since, end, cancellationToken).ConfigureAwait(false);
            }
            else if (amUri is not null && !FromPrometheus)
            {
                RequireHttp(amUri, "-AlertmanagerUri");
                var target = Connection(amUri, AlertmanagerUri is null ? Environment?.Alertmanager : null);
                from = target.DisplayUri;
                alerts = await PrometheusApi.AlertmanagerAlertsAsync(target, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var api = Prometheus(promUri, "active alerts");
                from = api.Source;
                alerts = await api.AlertsAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OpsToolsException e)
        {
            ErrorFor(e, e.ErrorId, promUri ?? amUri);
            return;
        }
        var patterns = (Severity ?? Array.Empty<string>()).Select(s => WildcardPattern.Get(s, WildcardOptions.IgnoreCase)).ToList();
        var shown = 0;
        foreach (var a in alerts)
        {
            if (patterns.Count > 0 && !patterns.Any(p => p.IsMatch(a.Severity ?? ""))) continue;
            a.Environment = EnvironmentName;
            a.Target = from + " " + a.Target;
            Output(a);
            shown++;
        }
        Verbose($"{from}: {alerts.Count} alert(s), {shown} shown.");
    }

    private PrometheusApi Prometheus(System.Uri? uri, string why)
    {
        if (uri is null)
            throw new OpsToolsException("PrometheusNotConfigured", OpsErrorKind.InvalidArgument,
                $"Give Prometheus's URL with -Uri, or an environment with a Prometheus section ({why}).");
        RequireHttp(uri, "-Uri");
        return new PrometheusApi(Connection(uri, Uri is null ? Environment?.Prometheus : null));
    }
}
