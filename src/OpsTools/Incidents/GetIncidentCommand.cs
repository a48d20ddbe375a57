using System.Management.Automation;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Incidents;
using OpsTools.Incidents;

namespace OpsTools.Commands.Incidents;

/// <summary>
/// <para type="synopsis">Gets incidents from the incident folder: all of them, the open ones, or one by id, each with its timeline and evidence collections.</para>
/// <para type="description">Reads the incident.json of each incident folder, newest first. A damaged record is a non-terminating error; the others are still returned.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Incident", HelpUri = HelpLinks.Base + "Get-Incident.md")]
[OutputType(typeof(Incident))]
public sealed class GetIncidentCommand : IncidentCmdlet
{
    /// <summary>Incident ids (wildcards allowed). Default: all.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("IncidentId")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string[]? Id { get; set; }

    /// <summary>Only incidents that are not resolved.</summary>
    [Parameter]
    public SwitchParameter Open { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var store = await StoreAsync();
        var patterns = (Id ?? Array.Empty<string>()).Select(i => WildcardPattern.Get(i, WildcardOptions.IgnoreCase)).ToList();
        // A damaged record is reported when it is one of those asked for (all, or its folder name matches -Id).
        var all = store.List(e =>
        {
            var folder = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(e.Target?.ToString() ?? "")) ?? "";
            if (patterns.Count == 0 || patterns.Any(p => p.IsMatch(folder))) IncidentError(e, e.Target);
        });
        foreach (var incident in all)
        {
            if (patterns.Count > 0 && !patterns.Any(p => p.IsMatch(incident.Id))) continue;
            if (Open && !incident.IsOpen) continue;
            if (Id is null && Environment is not null && !string.Equals(incident.Environment, Environment.Name, StringComparison.OrdinalIgnoreCase)) continue;
            Output(incident);
        }
        foreach (var id in (Id ?? Array.Empty<string>()).Where(i => !WildcardPattern.ContainsWildcardCharacters(i)))
            if (!all.Any(i => i.Id.Equals(id, StringComparison.OrdinalIgnoreCase)))
            {
                try { store.Read(id); }
                catch (OpsToolsException e) { IncidentError(e, id); }
            }
    }
}
