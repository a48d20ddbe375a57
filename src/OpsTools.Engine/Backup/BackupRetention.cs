using System.Globalization;
using OpsTools.Backup;

namespace OpsTools.Engine.Backup;

/// <summary>
/// Retention of a backup store ("keep last 30 days" in the runbooks), as a pure plan over
/// <see cref="BackupStore.List"/> plus the deletion itself.
/// <para>Rules, per group (Name):</para>
/// <list type="bullet">
/// <item>The newest backup whose Verification is ChecksumVerified or RestoreVerified is never removed. When the
/// group has no verified backup, its newest usable backup (not Failed, not Incomplete; else its newest backup)
/// is kept instead, and the reason says that none is verified.</item>
/// <item>With both limits, a backup is removed only when BOTH allow it: older than RetentionDays AND beyond the
/// newest KeepLast. Either rule keeping it keeps it (the safer reading: adding a limit never removes more).</item>
/// <item>Incomplete entries (archives without a usable manifest, manifests without an archive) are not backups and
/// do not count towards KeepLast; they are removed when older than RetentionDays (with only KeepLast: older than
/// one day), never when younger than one day (a backup may be between its rename and its manifest).</item>
/// <item>Hidden temporary files of unfinished backups (".&lt;file&gt;.partial") older than one day are removed.</item>
/// </list>
/// </summary>
public static class BackupRetention
{
    /// <summary>Leftovers younger than this are never touched: a backup may still be writing them.</summary>
    public static readonly TimeSpan LeftoverGrace = TimeSpan.FromDays(1);

    /// <summary>The backup of a group that is never removed (null for a group with only Incomplete entries).</summary>
    public static BackupInfo? Protected(IEnumerable<BackupInfo> group, out bool verified)
    {
        var list = group.Where(b => b.Verification != BackupVerification.Incomplete)
            .OrderByDescending(b => b.EndTime).ThenByDescending(b => b.Id, StringComparer.Ordinal).ToList();
        var v = list.FirstOrDefault(b => b.Verification is BackupVerification.ChecksumVerified or BackupVerification.RestoreVerified);
        verified = v is not null;
        return v ?? list.FirstOrDefault(b => b.Verification != BackupVerification.Failed) ?? list.FirstOrDefault();
    }

    /// <summary>Decides Keep/Remove for every entry; the result is in the input's order (newest first for a store listing).</summary>
    public static List<RetentionDecision> Plan(IReadOnlyList<BackupInfo> backups, int? retentionDays, int? keepLast, DateTime nowUtc)
    {
        if (retentionDays is null && keepLast is null)
            throw new ArgumentException("Give RetentionDays, KeepLast or both.");
        if (retentionDays is < 0) throw new ArgumentOutOfRangeException(nameof(retentionDays));
        if (keepLast is < 0) throw new ArgumentOutOfRangeException(nameof(keepLast));

        var decisions = new Dictionary<BackupInfo, RetentionDecision>(ReferenceEqualityComparer.Instance);
        var days = retentionDays is { } d ? TimeSpan.FromDays(d) : (TimeSpan?)null;
        string DaysText(int n) => n == 1 ? "1 day" : $"{n.ToString(CultureInfo.InvariantCulture)} days";

        foreach (var group in backups.GroupBy(b => b.Name, StringComparer.Ordinal))
        {
            var keep = Protected(group, out var verified);
            var rank = 0;
            foreach (var b in group.OrderByDescending(b => b.EndTime).ThenByDescending(b => b.Id, StringComparer.Ordinal))
            {
                var age = nowUtc - b.EndTime;
                RetentionAction action;
                string reason;
                if (b.Verification == BackupVerification.Incomplete && b.EndTime > nowUtc + BackupStore.FutureTolerance)
                {
                    action = RetentionAction.Keep;
                    reason = "kept, not counted: its manifest is dated in the future (a wrong clock or an edited manifest); check it by hand";
                }
                else if (b.Verification == BackupVerification.Incomplete)
                {
                    var limit = days is { } dd && dd > LeftoverGrace ? dd : LeftoverGrace;
                    if (age > limit)
                    {
                        action = RetentionAction.Remove;
                        reason = $"incomplete (not a backup: {b.LastTestMessage ?? "no usable manifest"}), older than {(days is { } x && x > LeftoverGrace ? DaysText(retentionDays!.Value) : "1 day")}";
                    }
                    else
                    {
                        action = RetentionAction.Keep;
                        reason = $"kept: incomplete but younger than {(days is { } x && x > LeftoverGrace ? DaysText(retentionDays!.Value) : "1 day")}";
                    }
                }
                else
                {
                    var withinDays = days is { } dd && age <= dd;
                    var withinCount = keepLast is { } k && rank < k;
                    rank++;
                    if (ReferenceEquals(b, keep))
                    {
                        action = RetentionAction.Keep;
                        reason = verified ? $"kept: newest verified backup of {b.Name}"
                            : $"kept: newest backup of {b.Name} (none of its backups is verified)";
                    }
                    else if (withinDays)
                    {
                        action = RetentionAction.Keep;
                        reason = $"kept: within {DaysText(retentionDays!.Value)}";
                    }
                    else if (withinCount)
                    {
                        action = RetentionAction.Keep;
                        reason = $"kept: among the newest {keepLast!.Value.ToString(CultureInfo.InvariantCulture)}";
                    }
                    else
                    {
                        action = RetentionAction.Remove;
                        var parts = new List<string>();
                        if (retentionDays is { } rd) parts.Add($"older than {DaysText(rd)}");
                        if (keepLast is { } kl) parts.Add($"beyond the newest {kl.ToString(CultureInfo.InvariantCulture)}");
                        reason = string.Join(" and ", parts);
                    }
                }
                decisions[b] = Decision(b, age, action, reason);
            }
        }
        return backups.Select(b => decisions[b]).ToList();
    }

    /// <summary>
    /// Hidden temporary files and folders of unfinished backups and manifests (".&lt;file&gt;.partial") in the
    /// store's group folders, older than <see cref="LeftoverGrace"/> (by their newest write time): removed.
    /// Younger ones are not reported (a backup may be writing them right now).
    /// </summary>
    public static List<RetentionDecision> PlanStalePartials(BackupStore store, DateTime nowUtc, Func<string, bool>? groupFilter = null)
    {
        var result = new List<RetentionDecision>();
        if (!Directory.Exists(store.Root)) return result;
        foreach (var group in Directory.GetDirectories(store.Root))
        {
            var name = System.IO.Path.GetFileName(group);
            if (groupFilter is not null && !groupFilter(name)) continue;
            foreach (var entry in Directory.EnumerateFileSystemEntries(group))
            {
                var file = System.IO.Path.GetFileName(entry);
                if (!file.StartsWith('.') || !file.EndsWith(".partial", StringComparison.Ordinal)) continue;
                var isDir = Directory.Exists(entry);
                var written = LastWrite(entry, isDir);
                var age = nowUtc - written;
                if (age <= LeftoverGrace) continue;
                result.Add(new RetentionDecision
                {
                    Id = $"{name}/{file}", Name = name, EndTime = written, Age = age,
                    Verification = BackupVerification.Incomplete, Action = RetentionAction.Remove,
                    Reason = "stale temporary file of an unfinished backup, older than 1 day",
                    Path = entry, ManifestPath = "", Store = store.Root,
                    SizeBytes = isDir ? 0 : new FileInfo(entry).Length,
                });
            }
        }
        return result;
    }

    private static DateTime LastWrite(string path, bool isDir)
    {
        if (!isDir) return File.GetLastWriteTimeUtc(path);
        var newest = Directory.GetLastWriteTimeUtc(path);
        foreach (var f in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories))
        {
            var t = File.GetLastWriteTimeUtc(f);
            if (t > newest) newest = t;
        }
        return newest;
    }

    private static RetentionDecision Decision(BackupInfo b, TimeSpan age, RetentionAction action, string reason) => new()
    {
        Id = b.Id, Name = b.Name, EndTime = b.EndTime, Age = age, Verification = b.Verification,
        Action = action, Reason = reason, Path = b.Path, ManifestPath = b.ManifestPath, SizeBytes = b.SizeBytes, Store = b.Store,
    };

    /// <summary>
    /// Deletes one backup: the manifest first (from then on the backup is no longer listed as good), then the
    /// archive (file or directory-format folder). A crash in between leaves an orphan archive, listed as
    /// Incomplete and removed by the next retention run. Refuses paths outside the store's group folders.
    /// </summary>
    public static void Delete(string storeRoot, string archivePath, string? manifestPath)
    {
        var root = System.IO.Path.GetFullPath(storeRoot);
        void Guard(string p)
        {
            var full = System.IO.Path.GetFullPath(p);
            var group = System.IO.Path.GetDirectoryName(full.TrimEnd('/', '\\'));
            var parent = group is null ? null : System.IO.Path.GetDirectoryName(group);
            var cmp = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            if (parent is null || !string.Equals(parent.TrimEnd('/', '\\'), root.TrimEnd('/', '\\'), cmp))
                throw new OpsToolsException("BackupPathOutsideStore", OpsErrorKind.InvalidArgument,
                    $"Refusing to delete '{full}': it is not an entry of a group folder of the backup store '{root}'.", full);
            // A link is removed as a link: never follow it into what it points at.
        }
        Guard(archivePath);
        if (!string.IsNullOrEmpty(manifestPath)) Guard(manifestPath);
        try
        {
            if (!string.IsNullOrEmpty(manifestPath) && File.Exists(manifestPath)) File.Delete(manifestPath);
            var info = new FileInfo(archivePath);
            if (info.LinkTarget is not null || File.Exists(archivePath)) File.Delete(archivePath);
            else if (Directory.Exists(archivePath)) Directory.Delete(archivePath, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OpsToolsException("BackupRemoveFailed", OpsErrorKind.OperationFailed,
                $"Could not remove '{archivePath}': {e.Message}", archivePath, e);
        }
    }
}
