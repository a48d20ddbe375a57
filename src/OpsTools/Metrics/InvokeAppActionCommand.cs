using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Configuration;
using OpsTools.Engine.Metrics;
using OpsTools.Metrics;

namespace OpsTools.Commands.Metrics;

/// <summary>
/// <para type="synopsis">Invokes a named app action from the environment (method, URL, body), such as reset-circuit-breaker or clear-cache, and returns what the app answered.</para>
/// <para type="description">
/// The runbooks' curl -X POST .../api/ai-service?action=reset-circuit-breaker, with the environment's credentials
/// rules (bearer token by variable, headers, -SkipCertificateCheck) and ShouldProcess: -WhatIf shows what would be
/// sent, -Confirm asks first. An answer with a status outside 200-299 is returned and is also an error
/// (AppActionFailed); no answer is an error.
/// </para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "AppAction", DefaultParameterSetName = EnvironmentSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "Invoke-AppAction.md")]
[OutputType(typeof(AppActionResult))]
public sealed class InvokeAppActionCommand : MetricsCmdlet
{
    private const string UriSet = "Uri";
    private const string EnvironmentSet = "Environment";

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its AppActions.</summary>
    [Parameter(ParameterSetName = EnvironmentSet, Mandatory = true)]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    [ValidateNotNull]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>The actions to invoke, by name (no wildcards: an action is named on purpose).</summary>
    [Parameter(ParameterSetName = EnvironmentSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AppActionNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>The URL to call (without an environment).</summary>
    [Parameter(ParameterSetName = UriSet, Mandatory = true, Position = 0)]
    [Alias("Url")]
    [ValidateNotNull]
    public Uri? Uri { get; set; }

    /// <summary>The HTTP method (default POST).</summary>
    [Parameter(ParameterSetName = UriSet)]
    [ValidateSet("GET", "POST", "PUT", "PATCH", "DELETE")]
    public string Method { get; set; } = "POST";

    /// <summary>A request body (JSON text).</summary>
    [Parameter(ParameterSetName = UriSet)]
    public string? Body { get; set; }

    /// <summary>The body's content type (default application/json).</summary>
    [Parameter(ParameterSetName = UriSet)]
    [ValidateNotNullOrEmpty]
    public string? ContentType { get; set; }

    protected override OpsEnvironment? Env => Environment;

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var actions = new List<AppActionSettings>();
        if (ParameterSetName == UriSet)
            actions.Add(new AppActionSettings { Name = Uri!.AbsolutePath, Uri = Uri, Method = Method.ToUpperInvariant(), Body = Body, ContentType = ContentType });
        else
        {
            foreach (var n in Name)
            {
                var a = Environment!.AppActions.FirstOrDefault(x => string.Equals(x.Name, n, StringComparison.OrdinalIgnoreCase));
                if (a is null)
                {
                    Error(new ErrorRecord(new ItemNotFoundException(
                        $"The environment '{Environment.Name}' has no app action named '{n}'. Its actions: {(Environment.AppActions.Count == 0 ? "none" : string.Join(", ", Environment.AppActions.Select(x => x.Name)))}."),
                        "AppActionNotFound", ErrorCategory.ObjectNotFound, n));
                    continue;
                }
                actions.Add(a);
            }
        }
        foreach (var a in actions)
        {
            Engine.Health.HealthProbeRequest target;
            try
            {
                RequireHttp(a.Uri, "-Uri");
                target = Connection(a.Uri, ParameterSetName == EnvironmentSet ? a : null);
            }
            catch (OpsToolsException e) { ErrorFor(e, e.ErrorId, a.Name); continue; }
            var what = $"{a.Method} {target.DisplayUri}{(a.Body is null ? "" : $" with a {a.Body.Length}-character body")}";
            var label = ParameterSetName == EnvironmentSet ? $"app action '{a.Name}'{(a.Description is null ? "" : $" ({a.Description})")}: {what}" : what;
            if (!await ShouldProcessAsync(label, "Invoke app action").ConfigureAwait(false)) continue;
            try
            {
                var result = await AppJson.InvokeActionAsync(target, a, EnvironmentName, cancellationToken).ConfigureAwait(false);
                Output(result);
                if (!result.Succeeded)
                    Error(new ErrorRecord(new OpsToolsException("AppActionFailed", OpsErrorKind.OperationFailed,
                        $"App action '{a.Name}' ({what}) answered HTTP {result.StatusCode}{(string.IsNullOrWhiteSpace(result.Body) ? "" : ": " + (result.Body.Length > 200 ? result.Body[..200] + "..." : result.Body))}", a.Name),
                        "AppActionFailed", ErrorCategory.InvalidResult, a.Name));
            }
            catch (OpsToolsException e) { ErrorFor(e, e.ErrorId, a.Name); }
        }
    }
}
