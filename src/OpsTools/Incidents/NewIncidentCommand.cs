using System.Management.Automation;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Incidents;
using OpsTools.Incidents;

namespace OpsTools.Commands.Incidents;

/// <summary>
/// <para type="synopsis">Opens an incident: title, severity P0-P3 with the runbooks' meanings and response times, commander, environment; kept as JSON in an owner-only incident folder.</para>
/// <para type="description">The runbooks' "declare the incident": a new folder INC-yyyyMMdd-NN under the incident folder holds incident.json with the record and its timeline, whose first entry (Opened, status Investigating, UTC) carries the runbooks' "INCIDENT DECLARED" text for a notification.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "Incident", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Base + "New-Incident.md")]
[OutputType(typeof(Incident))]
public sealed class NewIncidentCommand : IncidentCmdlet
{
    /// <summary>What is wrong, in a few words ("High error rate on the API").</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Title { get; set; } = "";

    /// <summary>P0 (critical, immediate), P1 (high, 30 minutes), P2 (medium, 2 hours), P3 (low, next business day).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public IncidentSeverity Severity { get; set; }

    /// <summary>The incident commander (the runbooks' "Lead"). Default: the environment's Incidents.Commander, else the current user.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Commander { get; set; }

    /// <summary>What is known so far: the impact, how it was noticed. Recorded on the Opened entry.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Summary { get; set; }

    /// <summary>Who is told about updates: a notification target named in the environment file. Default: the environment's Incidents.NotificationTarget.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NotificationTarget { get; set; }

    protected override async Task EndProcessingAsync(CancellationToken ct)
    {
        var store = await StoreAsync();
        var commander = Commander ?? Environment?.Incidents?.Commander ?? System.Environment.UserName;
        if (!await ShouldProcessAsync(store.Root, $"Open incident [{Severity}] '{Title}' (commander {commander})")) return;
        try
        {
            var incident = store.Create(Title, Severity, commander, Environment, NotificationTarget, Summary, DateTime.UtcNow);
            Verbose($"Opened {incident.Id} in '{incident.Path}'.");
            Output(incident);
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.WriteError, store.Root); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Fail(new OpsToolsException("IncidentWriteFailed", OpsErrorKind.OperationFailed, $"The incident could not be written in '{store.Root}': {e.Message}", store.Root, e),
                "IncidentWriteFailed", ErrorCategory.WriteError, store.Root);
        }
    }
}
