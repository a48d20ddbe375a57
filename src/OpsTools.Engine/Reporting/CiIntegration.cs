using System.Text;

namespace OpsTools.Engine.Reporting;

/// <summary>The CI system a command runs in, as its environment variables tell.</summary>
public enum CiSystem { None, GitHubActions, AzureDevOps }

/// <summary>
/// What a report adds when it runs in CI: GitHub Actions workflow commands and the job summary,
/// Azure DevOps logging commands. Builds lines and files only; the cmdlet writes the lines to the host.
/// Nothing but the results goes into them (no environment variables, no settings).
/// </summary>
public static class CiIntegration
{
    /// <summary>GITHUB_ACTIONS=true → GitHub Actions; TF_BUILD=True → Azure DevOps; otherwise none.</summary>
    public static CiSystem Detect(Func<string, string?> getVariable)
    {
        if (string.Equals(getVariable("GITHUB_ACTIONS"), "true", StringComparison.OrdinalIgnoreCase)) return CiSystem.GitHubActions;
        if (string.Equals(getVariable("TF_BUILD"), "true", StringComparison.OrdinalIgnoreCase)) return CiSystem.AzureDevOps;
        return CiSystem.None;
    }

    /// <summary>The text after the annotation's title: "Target: Message" (the target only once when the message starts with it).</summary>
    public static string Describe(CheckResult r)
    {
        var message = r.Message ?? "";
        if (string.IsNullOrEmpty(r.Target) || message.StartsWith(r.Target + ":", StringComparison.Ordinal)) return message;
        return $"{r.Target}: {message}";
    }

    // ---------- GitHub Actions ----------

    /// <summary>
    /// <c>::error title=Check::Target: Message</c> for Critical and Unknown results,
    /// <c>::warning title=...::...</c> for Warning results; nothing for Healthy ones. Worst first.
    /// </summary>
    public static IReadOnlyList<string> GitHubAnnotations(IEnumerable<CheckResult> results) =>
        results
            .Where(r => r.Status != CheckStatus.Healthy)
            .OrderByDescending(r => Report.Severity(r.Status))
            .Select(r => $"::{(r.Status == CheckStatus.Warning ? "warning" : "error")} title={GitHubEscapeProperty(r.Check)}::{GitHubEscapeData(Describe(r))}")
            .ToList();

    /// <summary>Workflow-command data escaping: % → %25, CR → %0D, LF → %0A.</summary>
    public static string GitHubEscapeData(string? text) =>
        (text ?? "").Replace("%", "%25").Replace("\r", "%0D").Replace("\n", "%0A");

    /// <summary>Workflow-command property escaping: as data, plus : → %3A and , → %2C.</summary>
    public static string GitHubEscapeProperty(string? text) =>
        GitHubEscapeData(text).Replace(":", "%3A").Replace(",", "%2C");

    /// <summary>Appends Markdown to the job summary file (GITHUB_STEP_SUMMARY), separated from what is there by a blank line.</summary>
    public static void AppendStepSummary(string summaryPath, string markdown)
    {
        var text = markdown.EndsWith('\n') ? markdown : markdown + "\n";
        var separator = File.Exists(summaryPath) && new FileInfo(summaryPath).Length > 0 ? "\n" : "";
        File.AppendAllText(summaryPath, separator + text, new UTF8Encoding(false));
    }

    // ---------- Azure DevOps ----------

    /// <summary>
    /// <c>##vso[task.logissue type=error]Check Target: Message</c> for Critical and Unknown results,
    /// <c>type=warning</c> for Warning results. Worst first.
    /// </summary>
    public static IReadOnlyList<string> AzureDevOpsIssues(IEnumerable<CheckResult> results) =>
        results
            .Where(r => r.Status != CheckStatus.Healthy)
            .OrderByDescending(r => Report.Severity(r.Status))
            .Select(r => $"##vso[task.logissue type={(r.Status == CheckStatus.Warning ? "warning" : "error")}]{AzureEscape($"{r.Check} {Describe(r)}")}")
            .ToList();

    /// <summary><c>##vso[task.uploadsummary]path</c>: attaches a Markdown file to the run's summary page.</summary>
    public static string AzureDevOpsUploadSummary(string markdownPath) => "##vso[task.uploadsummary]" + AzureEscape(markdownPath);

    /// <summary>The agent's escaping: % → %AZP25, then ; → %3B, CR → %0D, LF → %0A, ] → %5D.</summary>
    public static string AzureEscape(string? text) =>
        (text ?? "").Replace("%", "%AZP25").Replace(";", "%3B").Replace("\r", "%0D").Replace("\n", "%0A").Replace("]", "%5D");
}

/// <summary>Writes a report file so that a failure never leaves half a report.</summary>
public static class ReportFile
{
    /// <summary>
    /// Why <paramref name="path"/> cannot take a report (it is a folder, or its folder does not exist), or null.
    /// Like Out-File and Export-Csv, a missing folder is refused, never created.
    /// </summary>
    public static OpsToolsException? CheckPath(string path)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full);
        if (dir is null)
            return new OpsToolsException("ReportPathInvalid", OpsErrorKind.InvalidArgument, $"'{path}' has no folder.", path);
        if (Directory.Exists(full))
            return new OpsToolsException("ReportPathIsFolder", OpsErrorKind.InvalidArgument, $"'{full}' is a folder; -Path names the report file.", full);
        if (!Directory.Exists(dir))
            return new OpsToolsException("ReportFolderNotFound", OpsErrorKind.NotFound,
                $"Cannot write the report to '{full}': the folder '{dir}' does not exist. Create it first (New-Item -ItemType Directory -Path '{dir}') or give another -Path.", full);
        return null;
    }

    /// <summary>
    /// Writes the text (UTF-8, no BOM) to a temporary file in the report's folder (owner-only, 0600, on
    /// Unix: reports name hosts, databases and what is wrong with them) and renames it over
    /// <paramref name="path"/>; the temporary file is removed on failure. The folder must exist.
    /// </summary>
    public static FileInfo WriteAtomic(string path, string text)
    {
        if (CheckPath(path) is { } problem) throw problem;
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        var temp = Path.Combine(dir, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            Security.DataFiles.WriteAllText(temp, text, new UTF8Encoding(false));
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            try { if (File.Exists(temp)) File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw new OpsToolsException("ReportWriteFailed",
                e is UnauthorizedAccessException ? OpsErrorKind.PermissionDenied : OpsErrorKind.OperationFailed,
                $"Cannot write the report to '{full}': {e.Message}", full, e);
        }
        return new FileInfo(full);
    }
}
