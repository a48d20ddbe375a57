using System.Management.Automation;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Reporting;

namespace OpsTools.Commands.Reporting;

/// <summary>
/// Turns check results from any OpsTools command into one report (Markdown, JSON, HTML, JUnit XML
/// or YAML), as text or as a file written atomically, and, in GitHub Actions or Azure DevOps, adds
/// the CI system's annotations and job summary.
/// </summary>
/// <remarks>
/// Results are collected as they arrive; the report is made in EndProcessing. When an upstream
/// command ends the pipeline with a terminating error (Invoke-DailyCheck -FailOn Critical),
/// EndProcessing never runs, but PowerShell still disposes the command: the report file (and the CI
/// annotations) are then written from Dispose, with every result that had arrived.
/// </remarks>
[Cmdlet(VerbsData.Export, "OpsReport", SupportsShouldProcess = true)]
[OutputType(typeof(string), typeof(CheckResult))]
public sealed class ExportOpsReportCommand : OpsCmdlet
{
    /// <summary>Results to report: any OpsTools.CheckResult, including derived types.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public CheckResult[] InputObject { get; set; } = Array.Empty<CheckResult>();

    /// <summary>Markdown (default), Json, Html, JUnit or Yaml.</summary>
    [Parameter(Position = 0)]
    [ValidateSet("Markdown", "Json", "Html", "JUnit", "Yaml", IgnoreCase = true)]
    public string Format { get; set; } = "Markdown";

    /// <summary>Write the report to this file (owner-only on Unix) and output nothing; the folder must exist (as for Out-File).</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The report's title.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Title { get; set; }

    /// <summary>How Warning results appear in JUnit XML: Pass (default), Failure or Skipped.</summary>
    [Parameter]
    [ValidateSet("Pass", "Failure", "Skipped", IgnoreCase = true)]
    public string JUnitWarningAs { get; set; } = "Pass";

    /// <summary>Pass the results on instead of outputting the report text.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Do not add GitHub Actions / Azure DevOps annotations and summaries.</summary>
    [Parameter]
    public SwitchParameter NoCiIntegration { get; set; }

    /// <summary>After the report is written, end the script (exit code 1 under pwsh -File/-Command) when any result it received is at least this bad: Warning (or Unknown) or Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>-FailOn judges the results reported, not what this command outputs.</summary>
    protected override bool TallyOutput => false;

    private readonly List<CheckResult> _results = new();
    private string? _fullPath;
    private bool _begun;
    private bool _produced;
    private bool _writeDeclined;

    protected override async Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        if (Path is not null)
        {
            _fullPath = await InvokeOnPipelineAsync(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path));
            // Asked once, up front (like Out-File): the report may have to be written from Dispose,
            // when the pipeline can no longer prompt.
            _writeDeclined = !await ShouldProcessAsync(_fullPath, $"Write {Format} report");
            // Refused up front, like Out-File: before any result is consumed, not after the checks ran.
            if (!_writeDeclined && ReportFile.CheckPath(_fullPath) is { } problem)
                Fail(problem, problem.ErrorId, MapCategory(problem.Kind), _fullPath);
        }
        _begun = true;
    }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var r in InputObject)
        {
            if (r is null) continue;
            _results.Add(r);
            Tally.Add(r);
            if (PassThru) Output(r);
        }
        return Task.CompletedTask;
    }

    protected override Task EndProcessingAsync(CancellationToken cancellationToken) =>
        InvokeOnPipelineAsync(() => { Produce(pipelineOpen: true); return true; });

    /// <summary>The pipeline failed before EndProcessing (an upstream terminating error): write what arrived.</summary>
    protected override void Dispose(bool disposing)
    {
        if (!disposing || !_begun || _produced) return;
        try
        {
            Produce(pipelineOpen: false);
        }
        catch (Exception e)
        {
            // Dispose must not throw; the host still gets told.
            try { Host?.UI?.WriteErrorLine($"Export-OpsReport: the report could not be written: {e.Message}"); }
            catch (Exception) { /* no host left */ }
        }
    }

    private void Produce(bool pipelineOpen)
    {
        _produced = true;
        if (_writeDeclined) return; // -WhatIf, or the user said no: nothing is written, annotated or output
        var report = new Report(Title ?? DefaultTitle(), _results) { ValueUnwrapper = v => v is PSObject p ? p.BaseObject : v };
        var request = new ExportRequest
        {
            Format = Enum.Parse<ReportFormat>(Format, ignoreCase: true),
            Path = _fullPath,
            JUnitWarnings = Enum.Parse<JUnitWarningMode>(JUnitWarningAs, ignoreCase: true),
            CiIntegration = !NoCiIntegration,
        };

        ExportOutcome outcome;
        try
        {
            outcome = ReportExporter.Export(report, request, System.Environment.GetEnvironmentVariable);
        }
        catch (OpsToolsException e) when (pipelineOpen)
        {
            Fail(e, e.ErrorId, ErrorCategory.WriteError, _fullPath);
            return;
        }

        // Annotations go to the host (a console's or CI log's stdout), never to the output pipeline.
        foreach (var line in outcome.HostLines) Host.UI.WriteLine(line);

        if (!pipelineOpen)
        {
            foreach (var w in outcome.Warnings) Host.UI.WriteWarningLine(w);
            return;
        }
        foreach (var note in outcome.Notes) WriteVerbose(note);
        foreach (var w in outcome.Warnings) WriteWarning(w);
        // A report written to a file prints nothing (like Out-File and Export-Csv): cron mails stdout.
        if (PassThru || outcome.File is not null) return;
        WriteObject(outcome.Text);
    }

    private string DefaultTitle()
    {
        var envs = _results.Select(r => r.Environment).Where(e => !string.IsNullOrEmpty(e)).Distinct().ToList();
        return envs.Count == 1 ? $"OpsTools report: {envs[0]}" : "OpsTools report";
    }
}
