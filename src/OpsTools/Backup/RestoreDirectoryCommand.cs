using System.Management.Automation;
using OpsTools.Backup;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Backup;

namespace OpsTools.Commands.Backup;

/// <summary>
/// <para type="synopsis">Restores a folder backup (tar.gz from Backup-Directory) into a folder, verified before it replaces anything.</para>
/// <para type="description">Checks the archive's SHA-256 against its manifest, extracts it into a new folder beside the
/// destination (refusing entries or links that lead outside), verifies the file count, and only then swaps it in; a
/// non-empty destination is moved aside (kept) with -Force or after confirmation.</para>
/// </summary>
[Cmdlet(VerbsData.Restore, "Directory", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = InputObjectSet, HelpUri = HelpLinks.Base + "Restore-Directory.md")]
[OutputType(typeof(DirectoryRestoreResult))]
public sealed class RestoreDirectoryCommand : OpsCmdlet
{
    private const string ArchivePathSet = "ArchivePath";
    private const string InputObjectSet = "InputObject";

    /// <summary>A folder backup from Backup-Directory or Get-Backup.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public BackupInfo? InputObject { get; set; }

    /// <summary>The archive (.tar.gz) or its .manifest.json.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ArchivePathSet)]
    [ValidateNotNullOrEmpty]
    public string? ArchivePath { get; set; }

    /// <summary>The folder to restore into (created when missing).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string Destination { get; set; } = "";

    /// <summary>Replace a non-empty destination without asking; its content is moved aside and kept. -WhatIf and $WhatIfPreference still only report; -Confirm still asks.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var (source, dest) = await InvokeOnPipelineAsync(() => (
            InputObject is not null
                ? (string.IsNullOrEmpty(InputObject.ManifestPath) ? InputObject.Path : InputObject.ManifestPath)
                : SessionState.Path.GetUnresolvedProviderPathFromPSPath(ArchivePath!),
            SessionState.Path.GetUnresolvedProviderPathFromPSPath(Destination)));
        object target = (object?)InputObject ?? source;

        DirectoryRestorePlan plan;
        try { plan = DirectoryBackup.PlanRestore(source, dest); }
        catch (OpsToolsException e)
        {
            Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.InvalidArgument, target));
            return;
        }

        // The confirmation rule (OpsCmdlet): -WhatIf shows the plan and stops; -Force skips the prompts.
        Confirmation answer;
        try
        {
            answer = await ConfirmOutcomeAsync(plan.Destination, plan.Describe(),
                plan.DestinationNotEmpty
                    ? $"'{plan.Destination}' is not empty. Its current content will be moved to '{plan.PreviousPath}' (kept) and replaced by the backup {plan.BackupId}. Continue?"
                    : null,
                "Restore-Directory: replace a non-empty folder", Force);
        }
        catch (Exception e) when (plan.DestinationNotEmpty && e is not PipelineStoppedException and not OperationCanceledException)
        {
            answer = Confirmation.DangerNo; // a host that cannot ask (scripts, CI): refuse, as without -Force
        }
        if (answer is Confirmation.WhatIf or Confirmation.No) return;
        if (answer == Confirmation.DangerNo)
        {
            var refused = new OpsToolsException("RestoreDestinationNotEmpty", OpsErrorKind.InvalidArgument,
                $"The destination '{plan.Destination}' is not empty. Use -Force to move its current content aside (it is kept as '{plan.PreviousPath}') and restore in its place, or choose an empty or new folder. Nothing was changed.",
                plan.Destination);
            Error(ToErrorRecord(refused, refused.ErrorId, ErrorCategory.InvalidArgument, target));
            return;
        }
        var replace = Force.IsPresent || plan.DestinationNotEmpty; // confirmed (or forced) to move a non-empty destination aside

        var activity = $"Restoring {plan.BackupId} into '{plan.Destination}'";
        Verbose($"{plan.Describe()}. Checking the SHA-256 of '{plan.ArchivePath}' against '{plan.ManifestPath}' first.");
        try
        {
            var result = await Task.Run(() => DirectoryBackup.Restore(plan, replace, p =>
            {
                var pct = p.Phase == "Verifying"
                    ? (p.BytesTotal > 0 ? (int)(p.BytesDone * 100 / p.BytesTotal) : 0)
                    : (p.FilesTotal > 0 ? (int)(p.FilesDone * 100 / p.FilesTotal) : 0);
                Progress(new ProgressRecord(1, "Restore-Directory", activity)
                {
                    StatusDescription = p.Phase == "Verifying"
                        ? $"Checking the SHA-256 ({p.BytesDone / 1048576} of {p.BytesTotal / 1048576} MB)"
                        : $"Extracting: {p.FilesDone} of {p.FilesTotal} files, {p.BytesDone / 1048576} MB",
                    CurrentOperation = p.CurrentItem ?? "",
                    PercentComplete = Math.Clamp(pct, 0, 100),
                });
            }, cancellationToken), CancellationToken.None);
            if (result.PreviousMovedTo is not null)
                Warning($"The previous content of '{result.Destination}' is kept in '{result.PreviousMovedTo}'; remove it when the restore is confirmed good.");
            Verbose(result.Message);
            Output(result);
        }
        catch (OpsToolsException e) when (e.ErrorId == "RestoreCancelled" && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(e.Message, e, cancellationToken);
        }
        catch (OpsToolsException e)
        {
            Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.WriteError, target));
        }
        finally
        {
            Progress(new ProgressRecord(1, "Restore-Directory", activity) { RecordType = ProgressRecordType.Completed, PercentComplete = 100 });
        }
    }
}
