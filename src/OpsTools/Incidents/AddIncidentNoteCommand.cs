using System.Management.Automation;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Incidents;
using OpsTools.Incidents;

namespace OpsTools.Commands.Incidents;

/// <summary>
/// <para type="synopsis">Adds a timestamped note (UTC) to an incident's timeline; returns the entry with the Title, Text and Severity a notification of the update carries.</para>
/// <para type="description">The runbooks' "UPDATE: ..." and "DOCUMENT all actions taken": the note is appended to incident.json under the incident's lock, so notes written at the same time from two shells are both kept.</para>
/// </summary>
[Cmdlet(VerbsCommon.Add, "IncidentNote", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Base + "Add-IncidentNote.md")]
[OutputType(typeof(IncidentTimelineEntry))]
public sealed class AddIncidentNoteCommand : IncidentItemCmdlet
{
    /// <summary>The note: what was seen or done.</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [Alias("Text", "Note")]
    [ValidateNotNullOrEmpty]
    public string Message { get; set; } = "";

    /// <summary>Who writes it. Default: the current user.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Author { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var store = await StoreAsync();
        if (!await ShouldProcessAsync(Id, $"Add a note to the timeline: {Message}")) return;
        try
        {
            var (entry, _) = store.Append(Id, Message, null, AuthorOr(Author), DateTime.UtcNow);
            Output(entry);
        }
        catch (OpsToolsException e) { IncidentError(e, Id); }
    }
}
