using System.Management.Automation;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Incidents;
using OpsTools.Engine.Reporting;
using OpsTools.Incidents;

namespace OpsTools.Commands.Incidents;

/// <summary>
/// <para type="synopsis">Writes the runbook's Major Incident Report (Summary, Timeline, Root Cause, Resolution, Prevention, Action Items) of an incident in Markdown or HTML; what a person must write is left as a marked prompt.</para>
/// <para type="description">The timeline merges the incident's notes and status changes with what its evidence collections recorded: alerts firing, deployment revisions, warning events, containers stopping, the collections themselves. Nothing is made up: Impact, Root Cause, Resolution, Prevention and Action Items are prompts marked "TO BE WRITTEN", beside what the timeline recorded for them. Without -Path the report is returned as text.</para>
/// </summary>
[Cmdlet(VerbsData.Export, "IncidentReport", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Base + "Export-IncidentReport.md")]
[OutputType(typeof(string), typeof(FileInfo))]
public sealed class ExportIncidentReportCommand : IncidentItemCmdlet
{
    /// <summary>Markdown (default) or Html.</summary>
    [Parameter]
    [ValidateSet("Markdown", "Html", IgnoreCase = true)]
    public string Format { get; set; } = "Markdown";

    /// <summary>The report file to write (owner-only). Without it the report is returned as a string.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    /// <summary>With -OutFile: return the file written.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var store = await StoreAsync();
        if (ReadIncident(store) is not { } incident) return;
        var evidence = EvidenceCollector.ReadAll(incident, e => IncidentError(e, Id));
        var now = DateTime.UtcNow;
        var html = Format.Equals("Html", StringComparison.OrdinalIgnoreCase);
        var text = html ? IncidentReport.Html(incident, evidence, now) : IncidentReport.Markdown(incident, evidence, now);
        if (OutFile is null) { Output(text); return; }
        var full = await InvokeOnPipelineAsync(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(OutFile));
        if (!await ShouldProcessAsync(full, $"Write the {(html ? "HTML" : "Markdown")} incident report of {incident.Id}")) return;
        if (ReportFile.CheckPath(full) is { } problem) { IncidentError(problem, full); return; }
        try
        {
            var file = ReportFile.WriteAtomic(full, text);
            if (PassThru) Output(file);
        }
        catch (OpsToolsException e) { IncidentError(e, full); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            IncidentError(new OpsToolsException("IncidentReportWriteFailed", OpsErrorKind.OperationFailed, $"The report could not be written to '{full}': {e.Message}", full, e), full);
        }
    }
}
