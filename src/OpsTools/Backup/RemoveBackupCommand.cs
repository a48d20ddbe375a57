using System.Management.Automation;
using OpsTools.Backup;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Backup;

namespace OpsTools.Commands.Backup;

/// <summary>
/// <para type="synopsis">Removes backups from a backup store (manifest first, then the archive); refuses the newest verified backup of a database unless -AllowNewestVerified.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "Backup", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = InputObjectSet, HelpUri = HelpLinks.Base + "Remove-Backup.md")]
public sealed class RemoveBackupCommand : OpsCmdlet
{
    private const string InputObjectSet = "InputObject";
    private const string PathSet = "Path";

    /// <summary>A backup from Get-Backup.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    [ValidateNotNull]
    public BackupInfo? InputObject { get; set; }

    /// <summary>The archive (file or directory-format folder) or its .manifest.json.</summary>
    [Parameter(Mandatory = true, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Remove without asking for confirmation.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Allow removing the backup that protects its database: the newest verified one (or, when none is verified, the newest usable one).</summary>
    [Parameter]
    public SwitchParameter AllowNewestVerified { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var archive = await InvokeOnPipelineAsync(() => InputObject is not null
            ? InputObject.Path
            : SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path!));
        object target = (object?)InputObject ?? archive;
        archive = System.IO.Path.GetFullPath(archive).TrimEnd('/', '\\');
        if (archive.EndsWith(".manifest.json", StringComparison.Ordinal)) archive = archive[..^".manifest.json".Length];

        // The backup as the store lists it now (the pipeline object may be stale), and its group's protected backup.
        var groupDir = System.IO.Path.GetDirectoryName(archive);
        var storeRoot = InputObject is { Store.Length: > 0 } ? InputObject.Store : groupDir is null ? null : System.IO.Path.GetDirectoryName(groupDir);
        if (storeRoot is null || groupDir is null)
        {
            Error(ToErrorRecord(new OpsToolsException("BackupNotFound", OpsErrorKind.NotFound, $"'{archive}' is not a backup in a store.", archive),
                "BackupNotFound", ErrorCategory.ObjectNotFound, target));
            return;
        }
        var store = new BackupStore(storeRoot);
        var all = store.List();
        var backup = all.FirstOrDefault(b => string.Equals(b.Path.TrimEnd('/', '\\'), archive, StringComparison.Ordinal));
        if (backup is null)
        {
            Error(ToErrorRecord(new OpsToolsException("BackupNotFound", OpsErrorKind.NotFound,
                $"No backup '{archive}' in the store '{store.Root}' (already removed?).", archive), "BackupNotFound", ErrorCategory.ObjectNotFound, target));
            return;
        }
        var keep = BackupRetention.Protected(all.Where(b => b.Name == backup.Name), out var verified);
        if (ReferenceEquals(keep, backup) && !AllowNewestVerified)
        {
            Error(ToErrorRecord(new OpsToolsException("BackupNewestVerifiedProtected", OpsErrorKind.InvalidArgument,
                verified
                    ? $"{backup.Id} is the newest verified backup of '{backup.Name}': not removed. Use -AllowNewestVerified to remove it anyway."
                    : $"{backup.Id} is the newest backup of '{backup.Name}' and none of its backups is verified: not removed. Use -AllowNewestVerified to remove it anyway.",
                backup.Path), "BackupNewestVerifiedProtected", ErrorCategory.InvalidOperation, target));
            return;
        }

        if (!await ConfirmAsync(backup.Path, $"Remove backup {backup.Id} ({backup.Verification}, {backup.SizeBytes} bytes) and its manifest", force: Force))
            return;
        try
        {
            BackupRetention.Delete(store.Root, backup.Path, backup.ManifestPath);
            Verbose($"Removed {backup.Id}.");
        }
        catch (OpsToolsException e)
        {
            Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.WriteError, target));
        }
    }
}
