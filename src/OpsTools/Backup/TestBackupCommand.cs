using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using OpsTools.Backup;
using OpsTools.Commands.Database;
using OpsTools.Engine.Backup;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Backup;

/// <summary>
/// <para type="synopsis">Proves a backup good: checksum and table of contents (-Quick), or a full restore drill into a scratch database with row counts compared, recorded in the manifest.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "Backup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = InputObjectSet, HelpUri = HelpLinks.Base + "Test-Backup.md")]
[OutputType(typeof(BackupTestResult))]
[OutputType(typeof(BackupInfo))]
public sealed class TestBackupCommand : DbCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string PathSet = "Path";

    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Backups from Get-Backup or Backup-Database.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public BackupInfo[]? InputObject { get; set; }

    /// <summary>The archive (file, or folder for directory format) or its manifest (.manifest.json).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = PathSet)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Only the checksum, the size and pg_restore --list: no scratch database, no server needed.</summary>
    [Parameter]
    public SwitchParameter Quick { get; set; }

    /// <summary>Pass each backup that passed on (the updated BackupInfo) instead of the result; a backup that did not pass becomes an error.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>The pg_restore to use (default: the one matching the backup's pg_dump version, or newer).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PgRestorePath { get; set; }

    /// <summary>
    /// The database on the drill server to connect to while creating and dropping the scratch database
    /// (default PGDATABASE, else the role name). Not bound from pipeline input: a backup's Database is the
    /// database it is of, not where the drill runs.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public override string? Database { get; set; }

    private PgTarget? _drillServer;

    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        // Resolved once, before any pipeline input binds (a backup's Host would otherwise bind to -Server).
        if (!Quick)
        {
            var targets = ResolveTargets();
            if (targets.Count > 1)
                Fail(new OpsToolsException("BackupDrillServerAmbiguous", OpsErrorKind.InvalidArgument,
                    $"The restore drill needs one server, but {targets.Count} databases were selected ({string.Join(", ", targets.Select(t => t.Name))}): pick one with -Instance.", null),
                    "BackupDrillServerAmbiguous", ErrorCategory.InvalidArgument, null);
            _drillServer = targets[0];
        }
        return Task.CompletedTask;
    }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var requests = new List<BackupTestRequest>();
        if (InputObject is not null)
        {
            foreach (var b in InputObject)
                requests.Add(new BackupTestRequest
                {
                    Path = b.Path,
                    ManifestPath = string.IsNullOrEmpty(b.ManifestPath) ? null : b.ManifestPath,
                    Store = string.IsNullOrEmpty(b.Store) ? null : b.Store,
                    Mode = Quick ? BackupTestMode.Quick : BackupTestMode.Drill,
                    DrillServer = _drillServer,
                    PgRestorePath = PgRestorePath,
                });
        }
        else if (Path is not null)
        {
            foreach (var p in Path)
            {
                var full = await InvokeOnPipelineAsync(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)).ConfigureAwait(false);
                requests.Add(new BackupTestRequest
                {
                    Path = full,
                    Mode = Quick ? BackupTestMode.Quick : BackupTestMode.Drill,
                    DrillServer = _drillServer,
                    PgRestorePath = PgRestorePath,
                });
            }
        }

        foreach (var request in requests)
        {
            if (string.IsNullOrEmpty(request.Path))
            {
                Error(new ErrorRecord(new OpsToolsException("BackupPathMissing", OpsErrorKind.InvalidArgument, "The backup object has no Path.", null),
                    "BackupPathMissing", ErrorCategory.InvalidArgument, request));
                continue;
            }
            var action = Quick
                ? "Check SHA-256, size and table of contents; record the result in the manifest"
                : $"Restore drill: create a scratch database on {_drillServer!.Address}, restore into it, compare row counts, drop it; record the result in the manifest";
            if (!await ShouldProcessAsync(request.Path, action).ConfigureAwait(false)) continue;
            await TestOneAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string Size(long done, long total) => total >= 10L << 20
        ? string.Create(CultureInfo.InvariantCulture, $"{done / 1048576.0:N0} of {total / 1048576.0:N0} MB")
        : string.Create(CultureInfo.InvariantCulture, $"{done / 1024.0:N0} of {total / 1024.0:N0} KB");

    private async Task TestOneAsync(BackupTestRequest request, CancellationToken cancellationToken)
    {
        var activity = $"Test-Backup {(Quick ? "-Quick " : "")}{System.IO.Path.GetFileName(request.Path)}";
        var since = Stopwatch.StartNew();
        var lastStep = "";
        var gate = new object();
        void OnProgress(BackupTestProgress p)
        {
            if (cancellationToken.IsCancellationRequested) return; // nothing may be written while the pipeline stops
            lock (gate)
            {
                if (p.Step == lastStep && since.ElapsedMilliseconds < 100) return;
                lastStep = p.Step;
                since.Restart();
            }
            var record = new ProgressRecord(1, activity, p.Step);
            if (p.BytesTotal > 0)
            {
                record.PercentComplete = (int)Math.Min(100, p.BytesDone * 100 / p.BytesTotal);
                record.StatusDescription = $"{p.Step}: {Size(p.BytesDone, p.BytesTotal)}";
            }
            else if (p.Total > 0)
            {
                record.PercentComplete = (int)Math.Min(100, p.Current * 100L / p.Total);
                record.StatusDescription = $"{p.Step} ({p.Current} of {p.Total})";
            }
            Progress(record);
        }
        void OnLog(string line)
        {
            if (!cancellationToken.IsCancellationRequested) Verbose(line);
        }

        var outcome = await BackupVerifier.TestAsync(request, OnProgress, OnLog, cancellationToken).ConfigureAwait(false);
        Progress(new ProgressRecord(1, activity, "Done") { RecordType = ProgressRecordType.Completed });
        var r = outcome.Result;
        if (Environment is not null) r.Environment = Environment.Name;
        if (r.ScratchDropped == false || r.Status == CheckStatus.Warning) Warning($"{r.BackupId}: {r.Message}");

        if (!PassThru)
        {
            Output(r);
            return;
        }
        if (r.Status is CheckStatus.Healthy or CheckStatus.Warning && outcome.Info is not null)
        {
            Output(outcome.Info);
            return;
        }
        var id = r.Status == CheckStatus.Unknown ? "BackupTestNotRun" : "BackupTestFailed";
        Error(new ErrorRecord(new OpsToolsException(id, r.Status == CheckStatus.Unknown ? OpsErrorKind.OperationFailed : OpsErrorKind.InvalidData,
            $"{r.BackupId}: {(r.Status == CheckStatus.Unknown ? "not tested" : "FAILED")}: {r.Message}", r), id,
            r.Status == CheckStatus.Unknown ? ErrorCategory.NotSpecified : ErrorCategory.InvalidData, r));
    }
}
