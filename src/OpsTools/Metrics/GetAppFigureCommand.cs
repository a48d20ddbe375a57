using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Configuration;
using OpsTools.Engine.Metrics;
using OpsTools.Metrics;

namespace OpsTools.Commands.Metrics;

/// <summary>
/// <para type="synopsis">Reads a figure from an app's own JSON answer by property path (curl | jq '.queue_size') and judges it against thresholds.</para>
/// <para type="description">
/// The path is jq-style: .alert_count, .circuit_breakers.ai.state, .items[0].count, .["odd key"]. A number is
/// compared with -Warning and -Critical (above is worse; below with -Below); a text value with -Expected (anything
/// else is Critical, or -Otherwise). A missing value, null, or an answer that is not JSON is Unknown with the reason;
/// an app that does not answer (or answers with an error status) is Critical.
/// </para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "AppFigure", DefaultParameterSetName = UriSet, HelpUri = HelpLinks.Base + "Get-AppFigure.md")]
[OutputType(typeof(AppFigureResult))]
public sealed class GetAppFigureCommand : MetricsCmdlet
{
    private const string UriSet = "Uri";
    private const string EnvironmentSet = "Environment";

    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>The URL that answers with JSON (e.g. http://localhost:8000/triage/statistics).</summary>
    [Parameter(ParameterSetName = UriSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Url")]
    [ValidateNotNull]
    public Uri? Uri { get; set; }

    /// <summary>The property path: .queue_size, .circuit_breakers.ai.state, .items[0].count.</summary>
    [Parameter(ParameterSetName = UriSet, Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>Above this the figure is a warning (below, with -Below).</summary>
    [Parameter(ParameterSetName = UriSet)]
    public double? Warning { get; set; }

    /// <summary>Above this the figure is critical (below, with -Below).</summary>
    [Parameter(ParameterSetName = UriSet)]
    public double? Critical { get; set; }

    /// <summary>Lower values are worse.</summary>
    [Parameter(ParameterSetName = UriSet)]
    public SwitchParameter Below { get; set; }

    /// <summary>For text values: the healthy ones (e.g. closed); anything else is -Otherwise.</summary>
    [Parameter(ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public string[]? Expected { get; set; }

    /// <summary>The status of a text value not in -Expected (default Critical).</summary>
    [Parameter(ParameterSetName = UriSet)]
    public CheckStatus Otherwise { get; set; } = CheckStatus.Critical;

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its AppFigures.</summary>
    [Parameter(ParameterSetName = EnvironmentSet, Mandatory = true)]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    [ValidateNotNull]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Only the environment's figures with these names (wildcards).</summary>
    [Parameter(ParameterSetName = EnvironmentSet, Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AppFigureNameCompleter))]
    public string[]? Name { get; set; }

    protected override OpsEnvironment? Env => Environment;

    private readonly List<AppFigureSettings> _pending = new();

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == EnvironmentSet)
        {
            if (Environment!.AppFigures.Count == 0) Warning($"The environment '{Environment.Name}' names no AppFigures.");
            _pending.AddRange(Select(Environment.AppFigures, Name, "AppFigures").Where(f => !_pending.Contains(f)));
        }
        else
        {
            if (Warning is double w && Critical is double c && (Below ? w < c : w > c))
                Fail(new ArgumentException($"-Warning ({w}) must not be {(Below ? "below" : "above")} -Critical ({c})."), "InvalidThresholds", ErrorCategory.InvalidArgument, null);
            _pending.Add(new AppFigureSettings
            {
                Uri = Uri!, Name = AppJson.NormalizePath(Path).TrimStart('.'), Path = Path, Warning = Warning, Critical = Critical, Below = Below,
                Expected = Expected ?? Array.Empty<string>(), Otherwise = Otherwise,
            });
        }
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        // Concurrently: the figures of a checklist are usually on a handful of endpoints.
        var tasks = _pending.Select(async f =>
        {
            try
            {
                RequireHttp(f.Uri, "-Uri");
                var target = Connection(f.Uri, ParameterSetName == EnvironmentSet ? f : null);
                return (f, await AppJson.ReadFigureAsync(target, f, EnvironmentName, cancellationToken).ConfigureAwait(false), (OpsToolsException?)null);
            }
            catch (OpsToolsException e) { return (f, (AppFigureResult?)null, e); }
        }).ToList();
        foreach (var t in tasks)
        {
            var (f, result, error) = await t.ConfigureAwait(false);
            if (result is not null) Output(result);
            else ErrorFor(error!, error!.ErrorId, f.Name);
        }
    }
}
