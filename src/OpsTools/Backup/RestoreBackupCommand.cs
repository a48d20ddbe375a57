using System.Management.Automation;
using OpsTools.Backup;
using OpsTools.Commands.Database;
using OpsTools.Engine.Backup;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Backup;

/// <summary>
/// <para type="synopsis">Restores a database backup: into a new database first, verified against the manifest's exact row counts, then swapped in place of the target (kept renamed) after a safety backup; or next to it with -AsDatabase.</para>
/// </summary>
[Cmdlet(VerbsData.Restore, "Backup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = InputObjectSet, HelpUri = HelpLinks.Base + "Restore-Backup.md")]
[OutputType(typeof(RestoreResult))]
public sealed class RestoreBackupCommand : DbCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string PathSet = "Path";

    /// <summary>The backup (from Get-Backup, Backup-Database or Test-Backup -PassThru).</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public BackupInfo? InputObject { get; set; }

    /// <summary>The archive (file, or folder for directory format) or its manifest.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>The database to replace (default: the backup's database).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Target { get; set; }

    /// <summary>Restore under this new name next to the target, for inspection: no safety backup, no swap, the target untouched.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AsDatabase { get; set; }

    /// <summary>pg_restore -j (directory-format backups). Default 1.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int Jobs { get; set; } = 1;

    /// <summary>Skip the safety backup of the target's current state.</summary>
    [Parameter]
    public SwitchParameter NoSafetyBackup { get; set; }

    /// <summary>Where the safety backup goes (default: the store of the backup being restored).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SafetyBackupStore { get; set; }

    /// <summary>The pg_restore to use.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PgRestorePath { get; set; }

    /// <summary>No confirmation prompts (replacing the target and terminating its connections included). -WhatIf and $WhatIfPreference still only report; -Confirm still asks.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>
    /// The database on the server to connect to for CREATE/ALTER DATABASE (default PGDATABASE, else the role name;
    /// 'postgres' when that is one of the databases being renamed). Not bound from pipeline input: a backup's
    /// Database is what it is of, not where to connect.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public override string? Database { get; set; }

    private PgTarget? _server;
    private string? _safetyStore;

    protected override async Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        // Resolved once, before pipeline input binds.
        var targets = ResolveTargets();
        if (targets.Count > 1)
            Fail(new OpsToolsException("RestoreServerAmbiguous", OpsErrorKind.InvalidArgument,
                $"A restore goes to one server, but {targets.Count} databases were selected ({string.Join(", ", targets.Select(t => t.Name))}): pick one with -Instance.", null),
                "RestoreServerAmbiguous", ErrorCategory.InvalidArgument, null);
        _server = targets[0];
        if (SafetyBackupStore is not null)
            _safetyStore = await InvokeOnPipelineAsync(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(SafetyBackupStore)).ConfigureAwait(false);
    }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        RestoreRequest request;
        if (InputObject is not null)
        {
            if (string.IsNullOrEmpty(InputObject.Path))
            {
                Error(new ErrorRecord(new OpsToolsException("BackupPathMissing", OpsErrorKind.InvalidArgument, "The backup object has no Path.", null),
                    "BackupPathMissing", ErrorCategory.InvalidArgument, InputObject));
                return;
            }
            request = NewRequest(InputObject.Path, string.IsNullOrEmpty(InputObject.ManifestPath) ? null : InputObject.ManifestPath,
                string.IsNullOrEmpty(InputObject.Store) ? null : InputObject.Store);
        }
        else
        {
            var full = await InvokeOnPipelineAsync(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path!)).ConfigureAwait(false);
            request = NewRequest(full, null, null);
        }

        RestorePlan plan;
        try { plan = DatabaseRestorer.Plan(request); }
        catch (OpsToolsException e)
        {
            Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.InvalidArgument, request.Path));
            return;
        }

        var where = $"{_server!.Host}:{_server.Port}/{AsDatabase ?? plan.Target}";
        var action = $"Restore-Backup {plan.BackupId}: {plan}";
        foreach (var step in plan.Steps) Verbose("Plan: " + step);
        if (!await ConfirmAsync(where, action,
                AsDatabase is null
                    ? $"Replace the database '{plan.Target}' on {_server.Host}:{_server.Port} with the backup {plan.BackupId}? Its connections are terminated; the current database is kept as '{plan.PreviousDatabase}'."
                    : null,
                "Restore-Backup", Force).ConfigureAwait(false))
            return;

        var activity = $"Restore-Backup {plan.BackupId} -> {AsDatabase ?? plan.Target}";
        using var fileMode = GetBackupCommand.FileModeScope(Environment);
        try
        {
            var result = await DatabaseRestorer.RestoreAsync(plan,
                step => { if (!cancellationToken.IsCancellationRequested) Progress(new ProgressRecord(1, activity, step)); },
                line => { if (!cancellationToken.IsCancellationRequested) Verbose(line); },
                cancellationToken).ConfigureAwait(false);
            if (Environment is not null) result.Environment = Environment.Name;
            Output(result);
        }
        catch (OpsToolsException) when (cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(cancellationToken);
        }
        catch (OpsToolsException e)
        {
            if (e.Target is RestoreResult r && Environment is not null) r.Environment = Environment.Name;
            Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.OperationStopped, plan.BackupId));
        }
        finally
        {
            Progress(new ProgressRecord(1, activity, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }

    private RestoreRequest NewRequest(string path, string? manifest, string? store) => new()
    {
        Path = path,
        ManifestPath = manifest,
        Store = store,
        Server = _server!,
        Target = Target,
        AsDatabase = AsDatabase,
        Jobs = Jobs,
        SafetyBackup = !NoSafetyBackup,
        SafetyStore = _safetyStore,
        PgRestorePath = PgRestorePath,
    };
}
