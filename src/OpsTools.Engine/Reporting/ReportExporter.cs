namespace OpsTools.Engine.Reporting;

/// <summary>What Export-OpsReport was asked to do.</summary>
public sealed class ExportRequest
{
    public ReportFormat Format { get; init; } = ReportFormat.Markdown;
    /// <summary>The full path of the report file, or null to return the text.</summary>
    public string? Path { get; init; }
    public JUnitWarningMode JUnitWarnings { get; init; } = JUnitWarningMode.Pass;
    /// <summary>Add the CI system's annotations and summary when one is detected.</summary>
    public bool CiIntegration { get; init; } = true;
}

/// <summary>What an export produced: the text, the file written, and the lines for the host (CI annotations).</summary>
public sealed class ExportOutcome
{
    public required string Text { get; init; }
    public FileInfo? File { get; init; }
    public CiSystem Ci { get; init; }
    /// <summary>Lines for the host (the console / CI log), never for the output pipeline.</summary>
    public IReadOnlyList<string> HostLines { get; init; } = Array.Empty<string>();
    /// <summary>Things that went wrong on the side (e.g. the job summary could not be appended).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
    /// <summary>What was done, for -Verbose.</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();
}

/// <summary>Renders a report, writes it atomically when asked, and prepares the CI integration.</summary>
public static class ReportExporter
{
    public static ExportOutcome Export(Report report, ExportRequest request, Func<string, string?> getVariable)
    {
        var notes = new List<string>();
        var warnings = new List<string>();
        var text = ReportRenderer.Render(report, request.Format, request.JUnitWarnings);
        FileInfo? file = null;
        if (request.Path is not null)
        {
            file = ReportFile.WriteAtomic(request.Path, text);
            notes.Add($"Wrote the {request.Format} report ({report.Summary}) to '{file.FullName}'.");
        }

        var ci = request.CiIntegration ? CiIntegration.Detect(getVariable) : CiSystem.None;
        var lines = new List<string>();
        switch (ci)
        {
            case CiSystem.GitHubActions:
                var summaryPath = getVariable("GITHUB_STEP_SUMMARY");
                if (!string.IsNullOrEmpty(summaryPath))
                {
                    try
                    {
                        var markdown = request.Format == ReportFormat.Markdown ? text : MarkdownReport.Render(report);
                        CiIntegration.AppendStepSummary(summaryPath, markdown);
                        notes.Add("GitHub Actions: appended the Markdown report to the job summary (GITHUB_STEP_SUMMARY).");
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        warnings.Add($"Could not append the report to the GitHub Actions job summary: {e.Message}");
                    }
                }
                lines.AddRange(CiIntegration.GitHubAnnotations(report.Results));
                break;
            case CiSystem.AzureDevOps:
                lines.AddRange(CiIntegration.AzureDevOpsIssues(report.Results));
                if (file is not null && request.Format == ReportFormat.Markdown)
                    lines.Add(CiIntegration.AzureDevOpsUploadSummary(file.FullName));
                break;
        }
        if (ci != CiSystem.None) notes.Add($"{ci}: {lines.Count} logging command(s) for the host.");
        return new ExportOutcome { Text = text, File = file, Ci = ci, HostLines = lines, Warnings = warnings, Notes = notes };
    }
}
