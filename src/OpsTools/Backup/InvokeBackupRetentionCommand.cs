using System.Management.Automation;
using OpsTools.Backup;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Backup;

namespace OpsTools.Commands.Backup;

/// <summary>
/// <para type="synopsis">Applies the retention policy to a backup store (runbook: keep the last 30 days): removes what the policy allows, never the newest verified backup of a database.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "BackupRetention", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "Invoke-BackupRetention.md")]
[OutputType(typeof(RetentionDecision))]
public sealed class InvokeBackupRetentionCommand : OpsCmdlet
{
    /// <summary>The runbooks' retention when neither a parameter nor the environment gives one.</summary>
    public const int DefaultRetentionDays = 30;

    /// <summary>The backup store folder. Default: the environment's Backup.Path.</summary>
    [Parameter(Position = 0)]
    [Alias("Store")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: Backup.Path, Backup.RetentionDays, Backup.KeepLast.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Keep backups younger than this many days.</summary>
    [Parameter]
    [ValidateRange(1, 36500)]
    public int RetentionDays { get; set; }

    /// <summary>Keep at least this many newest backups of each database or folder.</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int KeepLast { get; set; }

    /// <summary>Only these databases or folders (wildcards allowed). Default: every group of the store.</summary>
    [Parameter]
    [Alias("Database")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var (root, days, keep) = await InvokeOnPipelineAsync(() => (
            GetBackupCommand.StoreRoot(Path, Environment, p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)),
            MyInvocation.BoundParameters.ContainsKey(nameof(RetentionDays)) ? RetentionDays : Environment?.Backup?.RetentionDays,
            MyInvocation.BoundParameters.ContainsKey(nameof(KeepLast)) ? KeepLast : Environment?.Backup?.KeepLast));
        BackupStore store;
        try { store = new BackupStore(root ?? ""); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, null); return; }
        if (!Directory.Exists(store.Root))
            Fail(new OpsToolsException("BackupStoreNotFound", OpsErrorKind.NotFound,
                $"The backup store '{store.Root}' does not exist (a typo, or a volume that is not mounted?).", store.Root),
                "BackupStoreNotFound", ErrorCategory.ObjectNotFound, store.Root);
        if (days is < 1 || keep is < 1)
            Fail(new OpsToolsException("BackupRetentionInvalid", OpsErrorKind.InvalidArgument,
                $"The environment's Backup.RetentionDays ({days}) and Backup.KeepLast ({keep}) must be 1 or more.", null),
                "BackupRetentionInvalid", ErrorCategory.InvalidArgument, null);
        if (days is null && keep is null) days = DefaultRetentionDays;

        var patterns = (Name ?? Array.Empty<string>()).Select(n => (Pattern: WildcardPattern.Get(n, WildcardOptions.IgnoreCase), Safe: BackupStore.SafeName(n))).ToList();
        bool Matches(string name) => patterns.Count == 0 || patterns.Any(p => p.Pattern.IsMatch(name) || string.Equals(p.Safe, name, StringComparison.Ordinal));

        Verbose($"Retention on the store '{store.Root}': {(days is { } d ? $"keep {d} days" : "")}{(days is not null && keep is not null ? " or " : "")}{(keep is { } k ? $"the newest {k}" : "")} of each database or folder; never the newest verified backup.");
        var now = DateTime.UtcNow;
        var backups = store.List().Where(b => Matches(b.Name) || Matches(System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(b.Path)) ?? "")).ToList();
        var decisions = BackupRetention.Plan(backups, days, keep, now);
        decisions.AddRange(BackupRetention.PlanStalePartials(store, now, Matches));

        foreach (var decision in decisions)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (decision.Action == RetentionAction.Remove
                && await ShouldProcessAsync(decision.Path, $"Remove backup {decision.Id} ({decision.Reason})"))
            {
                try
                {
                    BackupRetention.Delete(store.Root, decision.Path, decision.ManifestPath);
                    decision.Action = RetentionAction.Removed;
                    Verbose($"Removed {decision.Id}: {decision.Reason}.");
                }
                catch (OpsToolsException e)
                {
                    decision.Action = RetentionAction.Failed;
                    decision.Reason += "; removal failed: " + e.Message;
                    Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.WriteError, decision));
                }
            }
            Output(decision);
        }
    }
}
