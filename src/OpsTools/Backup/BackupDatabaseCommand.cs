using System.Globalization;
using System.Management.Automation;
using OpsTools.Backup;
using OpsTools.Commands.Database;
using OpsTools.Engine.Backup;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Backup;

/// <summary>
/// <para type="synopsis">Backs up PostgreSQL databases with the pg_dump that fits the server, into a backup store: checksummed, verified, with exact row counts, renamed into place only when complete.</para>
/// </summary>
[Cmdlet(VerbsData.Backup, "Database", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Base + "Backup-Database.md")]
[OutputType(typeof(BackupInfo))]
public sealed class BackupDatabaseCommand : DbCmdlet
{
    /// <summary>The backup store folder. Default: the environment's Backup.Path.</summary>
    [Parameter]
    [Alias("Store")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Custom (pg_dump -Fc, one file; the default) or Directory (pg_dump -Fd, a folder; needed for -Jobs).</summary>
    [Parameter]
    [ValidateSet("Custom", "Directory", IgnoreCase = true)]
    public string? Format { get; set; }

    /// <summary>Tables dumped at once (pg_dump -j); more than 1 implies -Format Directory. Default 1.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int Jobs { get; set; } = 1;

    /// <summary>The pg_dump to use instead of the one found for the server's version (it must be that version or newer).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PgDumpPath { get; set; }

    private string? _storeRoot;
    private string? _pgDump;
    private string _format = "custom";
    private int _activity;

    protected override async Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        try { _format = DatabaseBackupWriter.NormalizeFormat(Format, Jobs); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, Format); }
        _storeRoot = await InvokeOnPipelineAsync(() => GetBackupCommand.StoreRoot(Path, Environment, p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)));
        if (PgDumpPath is not null)
            _pgDump = await InvokeOnPipelineAsync(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(PgDumpPath));
        try { _ = new BackupStore(_storeRoot ?? ""); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, null); }
    }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<PgTarget> targets = PgTargetRegistry.Find(ConnectionId) is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        var store = new BackupStore(_storeRoot!);
        using var fileMode = GetBackupCommand.FileModeScope(Environment);
        foreach (var target in targets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!await ShouldProcessAsync(target.Address, $"Back up database '{target.Database}' ({_format} format) to the store '{store.Root}'")) continue;
            var id = ++_activity;
            var activity = $"Backing up {target.Address} to {store.Root}";
            try
            {
                var info = await DatabaseBackupWriter.BackupAsync(target, store,
                    new DatabaseBackupOptions { Format = _format, Jobs = Jobs, PgDumpPath = _pgDump, Log = Verbose },
                    p => Progress(new ProgressRecord(id, "Backup-Database", activity)
                    {
                        StatusDescription = p.Phase switch
                        {
                            "Dumping" => $"pg_dump: {ByteSize.Format(p.BytesWritten)} written; rows counted in {p.TablesCounted} of {p.TablesTotal} tables",
                            "Hashing" => "computing the SHA-256 of the archive",
                            "Verifying" => "pg_restore --list: reading the archive's table of contents",
                            _ => p.Phase,
                        },
                    }),
                    cancellationToken).ConfigureAwait(false);
                Verbose(string.Create(CultureInfo.InvariantCulture,
                    $"Backup {info.Id}: {info.Path}, {info.SizeBytes} bytes, SHA-256 {info.Sha256}, {info.RowCounts.Count} tables, {info.Duration.TotalSeconds:0.00} s."));
                Output(info);
            }
            catch (OpsToolsException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.OperationStopped, target.Database));
            }
            finally
            {
                Progress(new ProgressRecord(id, "Backup-Database", activity) { RecordType = ProgressRecordType.Completed });
            }
        }
    }
}
