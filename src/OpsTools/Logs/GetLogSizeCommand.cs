using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Logs;
using OpsTools.Logs;

namespace OpsTools.Commands.Logs;

/// <summary>
/// <para type="synopsis">Shows how much space log folders and files take, as du -sh does (du -sh /app/logs/*).</para>
/// <para type="description">One LogSizeInfo per folder or file: bytes (the files' lengths added up, as du -sb), a du -h size, the number of files and the newest and oldest last write. Wildcards name several entries (/app/logs/* gives one row per entry, largest first). Links are never followed: a linked folder is not entered and a linked file is not counted. Without -Path, the folders of the environment's Logs.Paths and Logs.Cleanup rules.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "LogSize", HelpUri = HelpLinks.Base + "Get-LogSize.md")]
[OutputType(typeof(LogSizeInfo))]
public sealed class GetLogSizeCommand : OpsCmdlet
{
    /// <summary>Folders or files; wildcards allowed (/app/logs/*).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>An environment file: the folders of its Logs.Paths and Logs.Cleanup rules when -Path is not given.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    protected override Task ProcessRecordAsync(CancellationToken ct)
    {
        var cwd = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        IEnumerable<string> paths;
        if (Path is not null) paths = Path;
        else if (Environment?.Logs is { } logs)
            paths = logs.Paths.Select(p => p.IndexOfAny(new[] { '*', '?' }) >= 0 ? System.IO.Path.GetDirectoryName(p) ?? p : p)
                .Concat(logs.Cleanup.Select(c => c.Path)).Distinct(StringComparer.Ordinal);
        else
        {
            Fail(new OpsToolsException("LogNoSource", OpsErrorKind.InvalidArgument, "Name the folders or files: -Path, or -Environment with a Logs section.", null),
                "LogNoSource", ErrorCategory.InvalidArgument, null);
            return Task.CompletedTask;
        }
        foreach (var p in paths)
        {
            var full = System.IO.Path.GetFullPath(System.IO.Path.Combine(cwd, p));
            if (full.IndexOfAny(new[] { '*', '?' }) >= 0)
            {
                var dir = System.IO.Path.GetDirectoryName(full)!;
                var name = System.IO.Path.GetFileName(full);
                if (!Directory.Exists(dir))
                {
                    Error(ToErrorRecord(new OpsToolsException("LogPathNotFound", OpsErrorKind.NotFound, $"Folder '{dir}' does not exist.", p), "LogPathNotFound", ErrorCategory.ObjectNotFound, p));
                    continue;
                }
                var rows = new DirectoryInfo(dir).EnumerateFileSystemInfos(name, new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0, MatchType = MatchType.Simple })
                    .Where(e => e.LinkTarget is null).Select(e => LogHousekeeping.Size(e.FullName)).OrderByDescending(s => s.Bytes).ToList();
                if (rows.Count == 0) Warning($"Nothing matches '{p}'.");
                foreach (var r in rows) Output(r);
                continue;
            }
            try { Output(LogHousekeeping.Size(full)); }
            catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, p)); }
        }
        return Task.CompletedTask;
    }
}
