using System.Management.Automation;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Incidents;
using OpsTools.Incidents;

namespace OpsTools.Commands.Incidents;

/// <summary>
/// <para type="synopsis">Sets an incident's status (Investigating, Identified, Monitoring, Resolved) as a timestamped timeline entry (UTC); returns the entry with the runbooks' UPDATE / RESOLVED text for a notification.</para>
/// <para type="description">Each change is one timeline entry with an optional message. Resolved records when the incident ended (its Duration stops there); a later status reopens it.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "IncidentStatus", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Base + "Set-IncidentStatus.md")]
[OutputType(typeof(IncidentTimelineEntry))]
public sealed class SetIncidentStatusCommand : IncidentItemCmdlet
{
    /// <summary>Investigating, Identified, Monitoring or Resolved.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    public IncidentStatus Status { get; set; }

    /// <summary>What changed: the cause found, the fix applied, the resolution.</summary>
    [Parameter(Position = 2)]
    [Alias("Text")]
    [ValidateNotNullOrEmpty]
    public string? Message { get; set; }

    /// <summary>Who writes it. Default: the current user.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Author { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var store = await StoreAsync();
        if (!await ShouldProcessAsync(Id, $"Set the status to {Status}{(Message is null ? "" : ": " + Message)}")) return;
        try
        {
            var (entry, _) = store.Append(Id, Message ?? "", Status, AuthorOr(Author), DateTime.UtcNow);
            Output(entry);
        }
        catch (OpsToolsException e) { IncidentError(e, Id); }
    }
}
