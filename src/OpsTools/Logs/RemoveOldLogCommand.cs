using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Database;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Logs;
using OpsTools.Logs;

namespace OpsTools.Commands.Logs;

/// <summary>
/// <para type="synopsis">Removes old log files by age and name pattern (find logs/ -name "*.log" -mtime +30 -delete), with -WhatIf listing every file and the bytes it frees.</para>
/// <para type="description">Files in -Path (with -Recurse also in its subfolders) whose name matches -Include (default *.log, *.log.*, *.gz) and not -Exclude, and whose last write is older than -OlderThan. Links are never followed: a linked folder is not entered, a linked file is never removed, and each file is checked again to be a plain file inside the folder just before it goes. ConfirmImpact High: asks unless -Force; -WhatIf (or $WhatIfPreference) lists each file with its size and removes nothing. One LogRemoval per file (Action Removed, WhatIf, Declined or Failed; Bytes freed). Without -Path, the environment's Logs.Cleanup rules.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "OldLog", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = HelpLinks.Base + "Remove-OldLog.md")]
[OutputType(typeof(LogRemoval))]
public sealed class RemoveOldLogCommand : OpsCmdlet
{
    /// <summary>The log folder.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Age by last write: a TimeSpan or 30d, 12h (find -mtime +30 is -OlderThan 30d).</summary>
    [Parameter(Position = 1)]
    [DurationTransformation]
    public TimeSpan? OlderThan { get; set; }

    /// <summary>File-name patterns to remove (find -name). Default *.log, *.log.*, *.gz.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Include { get; set; }

    /// <summary>File-name patterns to keep whatever their age.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Exclude { get; set; }

    /// <summary>Also the subfolders (links are never followed).</summary>
    [Parameter]
    public SwitchParameter Recurse { get; set; }

    /// <summary>Do not ask (never overrides -WhatIf).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>An environment file: its Logs.Cleanup rules when -Path is not given.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var rules = new List<LogCleanupRule>();
        if (Path is not null)
        {
            if (OlderThan is null)
                Fail(new OpsToolsException("LogInvalidArgument", OpsErrorKind.InvalidArgument, "Say how old a log must be to go: -OlderThan 30d.", null),
                    "LogInvalidArgument", ErrorCategory.InvalidArgument, null);
            if (OlderThan!.Value <= TimeSpan.Zero)
                Fail(new OpsToolsException("LogInvalidArgument", OpsErrorKind.InvalidArgument, "-OlderThan must be more than zero.", OlderThan), "LogInvalidArgument", ErrorCategory.InvalidArgument, OlderThan);
            var cwd = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
            rules.Add(new LogCleanupRule
            {
                Path = System.IO.Path.GetFullPath(System.IO.Path.Combine(cwd, Path)), OlderThanDays = OlderThan.Value.TotalDays, Recurse = Recurse,
                Include = Include ?? new LogCleanupRule().Include,
            });
        }
        else if (Environment?.Logs?.Cleanup is { Count: > 0 } cleanup) rules.AddRange(cleanup);
        else
        {
            Fail(new OpsToolsException("LogNoSource", OpsErrorKind.InvalidArgument, "Name the log folder (-Path) and the age (-OlderThan), or -Environment with Logs.Cleanup rules.", null),
                "LogNoSource", ErrorCategory.InvalidArgument, null);
        }
        var whatIf = await IsWhatIfAsync();
        var now = DateTime.UtcNow;
        foreach (var rule in rules)
        {
            var age = OlderThan ?? TimeSpan.FromDays(rule.OlderThanDays);
            IReadOnlyList<OldLogFile> files;
            try { files = LogHousekeeping.OldFiles(rule.Path, rule.Include, now - age, rule.Recurse, Exclude); }
            catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, rule.Path)); continue; }
            Verbose($"{rule.Path}: {files.Count} file(s) matching {string.Join(", ", rule.Include)} older than {age.TotalDays:0.##} days.");
            foreach (var f in files)
            {
                ct.ThrowIfCancellationRequested();
                var result = new LogRemoval { Path = f.Path, Bytes = f.Bytes, LastWriteTime = f.LastWriteTimeUtc, Age = now - f.LastWriteTimeUtc };
                if (!await ConfirmAsync(f.Path, $"Remove log file ({f.Bytes} bytes, last written {f.LastWriteTimeUtc:u}, {result.Age.TotalDays:0} days ago)", force: Force))
                {
                    result.Action = whatIf ? "WhatIf" : "Declined";
                    Output(result);
                    continue;
                }
                try
                {
                    LogHousekeeping.Remove(rule.Path, f.Path);
                    result.Action = "Removed";
                }
                catch (Exception e) when (e is OpsToolsException or IOException or UnauthorizedAccessException)
                {
                    result.Action = "Failed";
                    result.Reason = e.Message;
                    Error(ToErrorRecord(e, "LogRemoveFailed", ErrorCategory.WriteError, f.Path));
                }
                Output(result);
            }
        }
    }
}
