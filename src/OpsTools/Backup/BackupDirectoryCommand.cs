using System.IO.Compression;
using System.Management.Automation;
using OpsTools.Backup;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Backup;

namespace OpsTools.Commands.Backup;

/// <summary>
/// <para type="synopsis">Backs up a folder (uploads ...) as a verified tar.gz with a manifest in a backup store.</para>
/// <para type="description">The runbooks' "tar -czf uploads-backup.tar.gz /app/uploads", written under a temporary name while
/// hashing, read back completely, renamed, and only then described by a manifest. Outputs a BackupInfo.</para>
/// </summary>
[Cmdlet(VerbsData.Backup, "Directory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Base + "Backup-Directory.md")]
[OutputType(typeof(BackupInfo))]
public sealed class BackupDirectoryCommand : OpsCmdlet
{
    /// <summary>The folders to back up. Without it: the environment's Backup.Directories.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "Source")]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>The backup store (folder). Without it: the environment's Backup.Path.</summary>
    [Parameter]
    [Alias("StorePath")]
    [ValidateNotNullOrEmpty]
    public string? Store { get; set; }

    /// <summary>An environment file or object: Backup.Path is the store, Backup.Directories the folders when -Path is not given.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>The name the backups are grouped under. Default: the folder's name. Only with a single folder.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>gzip compression: Optimal (default), Fastest, SmallestSize or NoCompression.</summary>
    [Parameter]
    public CompressionLevel CompressionLevel { get; set; } = CompressionLevel.Optimal;

    private BackupStore? _store;
    private int _folders;

    protected override async Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        var storePath = Store is not null
            ? await InvokeOnPipelineAsync(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(Store))
            : EnvironmentRelative(Environment?.Backup?.Path);
        try { _store = new BackupStore(storePath ?? ""); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, Store); }
    }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (Path is not { Length: > 0 }) return; // the environment's folders are taken in EndProcessing
        var paths = await InvokeOnPipelineAsync(() => Path.Select(p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)).ToList());
        await BackUpAsync(paths, cancellationToken);
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (_folders > 0 || MyInvocation.BoundParameters.ContainsKey(nameof(Path)) || MyInvocation.ExpectingInput) return;
        var dirs = Environment?.Backup?.Directories ?? Array.Empty<string>();
        if (dirs.Count == 0)
            Fail(new OpsToolsException("BackupSourceMissing", OpsErrorKind.InvalidArgument,
                    "No folder to back up: pass -Path, or list folders in the environment file (Backup = @{ Directories = @('/app/uploads') })."),
                "BackupSourceMissing", ErrorCategory.InvalidArgument, null);
        await BackUpAsync(dirs.Select(d => EnvironmentRelative(d)!).ToList(), cancellationToken);
    }

    /// <summary>Paths in an environment file are relative to the file's folder.</summary>
    private string? EnvironmentRelative(string? path)
    {
        if (string.IsNullOrEmpty(path) || System.IO.Path.IsPathRooted(path)) return path;
        var baseDir = Environment?.Path is { } file ? System.IO.Path.GetDirectoryName(file) : null;
        return baseDir is null ? path : System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, path));
    }

    private async Task BackUpAsync(IReadOnlyList<string> paths, CancellationToken cancellationToken)
    {
        if (Name is not null && (paths.Count > 1 || _folders > 0))
            Fail(new OpsToolsException("BackupNameAmbiguous", OpsErrorKind.InvalidArgument,
                    "-Name names the backups of one folder; back up several folders without it (each is grouped under its own name)."),
                "BackupNameAmbiguous", ErrorCategory.InvalidArgument, Name);
        using var fileMode = GetBackupCommand.FileModeScope(Environment);
        foreach (var path in paths)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _folders++;
            if (!await ShouldProcessAsync(path, $"Back up the folder to the store '{_store!.Root}' (tar.gz, {CompressionLevel})"))
                continue;
            var activity = $"Backing up '{path}'";
            Verbose($"{activity} into '{_store.Root}' (tar.gz, compression {CompressionLevel}).");
            try
            {
                var result = await Task.Run(() => DirectoryBackup.Backup(path, _store, Name, CompressionLevel, p =>
                {
                    var pct = p.Phase == "Verifying"
                        ? (p.BytesTotal > 0 ? (int)(p.BytesDone * 100 / p.BytesTotal) : 0)
                        : (p.BytesTotal > 0 ? (int)(p.BytesDone * 100 / p.BytesTotal) : p.FilesTotal > 0 ? (int)(p.FilesDone * 100 / p.FilesTotal) : 0);
                    Progress(new ProgressRecord(1, "Backup-Directory", activity)
                    {
                        StatusDescription = p.Phase == "Verifying"
                            ? $"Verifying: reading the archive back ({p.BytesDone / 1048576} of {p.BytesTotal / 1048576} MB)"
                            : $"Archiving: {p.FilesDone} of {p.FilesTotal} files, {p.BytesDone / 1048576} of {p.BytesTotal / 1048576} MB",
                        CurrentOperation = p.CurrentItem ?? "",
                        PercentComplete = Math.Clamp(pct, 0, 100),
                    });
                }, cancellationToken), CancellationToken.None);
                foreach (var s in result.Skipped) Warning($"Backup-Directory '{path}': skipped {s}.");
                foreach (var c in result.Changed) Warning($"Backup-Directory '{path}': {c}.");
                Verbose($"Wrote '{result.Info.Path}': {result.Info.FileCount} files, {result.Bytes} bytes, {result.Info.SizeBytes} bytes compressed, SHA-256 {result.Info.Sha256}; read back and verified.");
                var output = PSObject.AsPSObject(result.Info);
                output.Properties.Add(new PSNoteProperty("SkippedFiles", result.Skipped.ToArray()));
                output.Properties.Add(new PSNoteProperty("ChangedFiles", result.Changed.ToArray()));
                Output(output);
            }
            catch (OpsToolsException e) when (e.ErrorId == "BackupCancelled" && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(e.Message, e, cancellationToken);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.WriteError, path));
            }
            finally
            {
                Progress(new ProgressRecord(1, "Backup-Directory", activity) { RecordType = ProgressRecordType.Completed, PercentComplete = 100 });
            }
        }
    }
}
