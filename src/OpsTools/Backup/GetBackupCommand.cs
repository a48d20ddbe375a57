using System.Management.Automation;
using OpsTools.Backup;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Backup;

namespace OpsTools.Commands.Backup;

/// <summary>
/// <para type="synopsis">Lists the backups of a backup store as objects, newest first, with their verification state.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Backup", HelpUri = HelpLinks.Base + "Get-Backup.md")]
[OutputType(typeof(BackupInfo))]
public sealed class GetBackupCommand : OpsCmdlet
{
    /// <summary>Only backups of these databases or folders (wildcards allowed). Default: all.</summary>
    [Parameter(Position = 0)]
    [Alias("Database")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>The backup store folder. Default: the environment's Backup.Path.</summary>
    [Parameter]
    [Alias("Store")]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its Backup.Path is the store.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Only the newest usable backup (not Failed, not Incomplete) of each database or folder.</summary>
    [Parameter]
    public SwitchParameter Latest { get; set; }

    /// <summary>Only backups that ended at or after this time (local time unless the value says UTC).</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTime? Since { get; set; }

    /// <summary>Also list archives without a usable manifest (Verification Incomplete).</summary>
    [Parameter]
    public SwitchParameter IncludeIncomplete { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var root = await InvokeOnPipelineAsync(() => StoreRoot(Path, Environment, p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p)));
        BackupStore store;
        try { store = new BackupStore(root ?? ""); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, null); return; }
        if (!Directory.Exists(store.Root))
            Fail(new OpsToolsException("BackupStoreNotFound", OpsErrorKind.NotFound,
                $"The backup store '{store.Root}' does not exist (a typo, or a volume that is not mounted?).", store.Root),
                "BackupStoreNotFound", ErrorCategory.ObjectNotFound, store.Root);

        Verbose($"Reading the backup store '{store.Root}'.");
        var names = Name ?? Array.Empty<string>();
        List<BackupInfo> all;
        if (names.Length > 0 && !names.Any(WildcardPattern.ContainsWildcardCharacters))
            all = names.Select(BackupStore.SafeName).Distinct(StringComparer.Ordinal).SelectMany(n => store.List(n))
                .OrderByDescending(b => b.EndTime).ThenByDescending(b => b.Id, StringComparer.Ordinal).ToList();
        else
            all = store.List();

        var selected = Select(all, names, Since, IncludeIncomplete, Latest, out var skippedIncomplete, out var warnings);
        if (IncludeIncomplete && !Latest)
        {
            // The hidden temporary files of unfinished backups (a killed Backup-Database leaves one), with their age.
            var partials = names.Length > 0 && !names.Any(WildcardPattern.ContainsWildcardCharacters)
                ? names.Select(BackupStore.SafeName).Distinct(StringComparer.Ordinal).SelectMany(n => store.ListPartials(n)).ToList()
                : store.ListPartials();
            selected.AddRange(Select(partials, names, null, true, false, out _, out _));
        }
        foreach (var w in warnings) Warning(w);
        if (skippedIncomplete > 0)
            Warning($"{skippedIncomplete} incomplete backup{(skippedIncomplete == 1 ? "" : "s")} left out (an archive without a usable manifest: the backup did not finish, or the manifest was removed or damaged). Use -IncludeIncomplete to see {(skippedIncomplete == 1 ? "it" : "them")}.");
        foreach (var b in selected) Output(b);
    }

    /// <summary>The filtering rules of Get-Backup, over a store listing that is newest first.</summary>
    internal static List<BackupInfo> Select(IReadOnlyList<BackupInfo> all, string[] names, DateTime? since, bool includeIncomplete, bool latest,
        out int skippedIncomplete, out List<string> warnings)
    {
        warnings = new List<string>();
        var patterns = names.Select(n => (Name: n, Pattern: WildcardPattern.Get(n, WildcardOptions.IgnoreCase), Safe: BackupStore.SafeName(n))).ToList();
        bool NameMatches(BackupInfo b) => patterns.Count == 0 || patterns.Any(p =>
            p.Pattern.IsMatch(b.Name)
            // An archive without a manifest only has its folder's (safe) name.
            || (b.Verification == BackupVerification.Incomplete && b.Database is null && !WildcardPattern.ContainsWildcardCharacters(p.Name) && string.Equals(b.Name, p.Safe, StringComparison.Ordinal)));
        var sinceUtc = since?.Kind == DateTimeKind.Utc ? since.Value : since?.ToUniversalTime();
        var list = all.Where(NameMatches).Where(b => sinceUtc is null || b.EndTime >= sinceUtc).ToList();
        skippedIncomplete = 0;
        if (!includeIncomplete)
        {
            skippedIncomplete = list.Count(b => b.Verification == BackupVerification.Incomplete);
            list = list.Where(b => b.Verification != BackupVerification.Incomplete).ToList();
        }
        if (!latest) return list;

        var result = new List<BackupInfo>();
        foreach (var group in list.GroupBy(b => b.Name, StringComparer.Ordinal))
        {
            var usable = group.FirstOrDefault(b => b.Verification is not (BackupVerification.Failed or BackupVerification.Incomplete));
            var newest = group.First();
            if (usable is null)
                warnings.Add($"No usable backup of '{group.Key}': the ones found failed their test or are incomplete (newest: {newest.Id}, {newest.Verification}).");
            else
            {
                if (!ReferenceEquals(usable, newest))
                    warnings.Add($"The newest backup of '{group.Key}' ({newest.Id}) is {newest.Verification}{(newest.LastTestMessage is { Length: > 0 } m ? ": " + m : "")}; -Latest returns the newest usable one, {usable.Id}.");
                result.Add(usable);
            }
        }
        return result.OrderByDescending(b => b.EndTime).ThenByDescending(b => b.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// The backup store folder for a command: -Path (resolved against the current location), else the
    /// environment's Backup.Path (a relative one is relative to the environment file's folder); null when neither.
    /// Call on the pipeline thread (<paramref name="resolve"/> uses the session's current location).
    /// </summary>
    /// <summary>
    /// The mode of the data files written in this flow: the environment's Backup.FileMode when it names one (validated when
    /// the file was read), else $env:OPSTOOLS_FILE_MODE, else owner-only (0600 files, 0700 folders).
    /// </summary>
    internal static IDisposable FileModeScope(OpsEnvironment? environment) =>
        Engine.Security.DataFiles.Use(environment?.Backup?.FileMode is { } m ? Engine.Security.DataFiles.ParseMode(m, "Backup.FileMode") : null);

    internal static string? StoreRoot(string? path, OpsEnvironment? environment, Func<string, string> resolve)
    {
        if (!string.IsNullOrWhiteSpace(path)) return resolve(path);
        var configured = environment?.Backup?.Path;
        if (string.IsNullOrWhiteSpace(configured)) return null;
        if (System.IO.Path.IsPathRooted(configured) || configured.StartsWith('~') || environment!.Path is null) return resolve(configured);
        return System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(environment.Path)!, configured));
    }
}
