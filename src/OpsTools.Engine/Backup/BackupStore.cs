using System.Globalization;
using OpsTools.Backup;

namespace OpsTools.Engine.Backup;

/// <summary>
/// A backup store: a folder (local or mounted) with one sub-folder per database or source folder,
/// holding archives and their manifests:
/// <code>
/// &lt;store&gt;/app/app_20261124T031500123Z.dump
/// &lt;store&gt;/app/app_20261124T031500123Z.dump.manifest.json
/// &lt;store&gt;/uploads/uploads_20261124T032000456Z.tar.gz (+ .manifest.json)
/// </code>
/// While a backup is being written it lives under a hidden temporary name (<c>.&lt;file&gt;.partial</c>) and is
/// renamed only when complete and verified; its manifest is written after that. Anything without a
/// readable manifest that matches it is never listed as a good backup.
/// </summary>
public sealed class BackupStore
{
    public BackupStore(string root)
    {
        if (string.IsNullOrWhiteSpace(root))
            throw new OpsToolsException("BackupStoreMissing", OpsErrorKind.InvalidArgument,
                "No backup store: pass -Path, or name one in the environment file (Backup = @{ Path = '/srv/backups' }).", null);
        Root = System.IO.Path.GetFullPath(root);
    }

    public string Root { get; }

    /// <summary>Folder of one database's (or source folder's) backups.</summary>
    public string GroupDirectory(string name) => System.IO.Path.Combine(Root, SafeName(name));

    /// <summary>The final archive path for a backup started at <paramref name="startUtc"/>; extension by format.</summary>
    public string NewArchivePath(string name, string format, DateTime startUtc)
    {
        var ext = format switch
        {
            "custom" => ".dump",
            "directory" => ".dir",
            "tar.gz" => ".tar.gz",
            _ => throw new ArgumentException($"unknown format '{format}'", nameof(format)),
        };
        var stamp = startUtc.ToUniversalTime().ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture);
        return System.IO.Path.Combine(GroupDirectory(name), $"{SafeName(name)}_{stamp}{ext}");
    }

    /// <summary>The hidden name an archive is written under until it is complete and verified.</summary>
    public static string TempPathFor(string finalPath) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(finalPath)!, "." + System.IO.Path.GetFileName(finalPath) + ".partial");

    /// <summary>
    /// Every backup in the store, newest first. Manifests that cannot be read, manifests whose archive is
    /// gone, and archives without a manifest come back with Verification = Incomplete and a message,
    /// so they are visible but never taken for good backups.
    /// </summary>
    /// <summary>How far in the future a manifest's date may be (clocks of two hosts writing one store) before it is not trusted.</summary>
    public static readonly TimeSpan FutureTolerance = TimeSpan.FromMinutes(10);

    public List<BackupInfo> List(string? name = null) => List(name, DateTime.UtcNow);

    /// <summary>The listing as of <paramref name="nowUtc"/> (a manifest dated after it, beyond <see cref="FutureTolerance"/>, is not trusted).</summary>
    public List<BackupInfo> List(string? name, DateTime nowUtc)
    {
        var result = new List<BackupInfo>();
        if (!Directory.Exists(Root)) return result;
        var groups = name is null ? Directory.GetDirectories(Root) : new[] { GroupDirectory(name) };
        foreach (var group in groups.Where(Directory.Exists))
        {
            var manifests = Directory.GetFiles(group, "*.manifest.json")
                .Where(f => !System.IO.Path.GetFileName(f).StartsWith('.')).ToList();
            var described = new HashSet<string>(StringComparer.Ordinal);
            foreach (var manifestPath in manifests)
            {
                BackupInfo info;
                try
                {
                    var m = BackupManifest.Read(manifestPath);
                    info = m.ToInfo(manifestPath, Root);
                    var sibling = manifestPath[..^".manifest.json".Length];
                    if (!IsEntryOf(group, info.Path))
                    {
                        // A manifest naming an archive elsewhere (../, an absolute path, a link): that archive is never listed or used.
                        var named = info.Path;
                        info = Orphan(sibling, group, $"The manifest names an archive outside its folder of the store ('{named}'): it is not used. Remove the manifest or restore it from a copy.");
                        info.ManifestPath = System.IO.Path.GetFullPath(manifestPath);
                        described.Add(sibling);
                    }
                    else if (m.EndTime > nowUtc + FutureTolerance || m.StartTime > nowUtc + FutureTolerance)
                    {
                        // A skewed clock or an edited manifest: a date in the future would stay "newest" forever.
                        described.Add(info.Path);
                        info.Verification = BackupVerification.Incomplete;
                        info.LastTestMessage = string.Create(CultureInfo.InvariantCulture,
                            $"The manifest's date {m.EndTime:yyyy-MM-dd HH:mm:ss}Z is in the future (now {nowUtc:yyyy-MM-dd HH:mm:ss}Z): a wrong clock on the host that wrote it, or an edited manifest. It is not trusted as the newest backup and does not count toward KeepLast; check the clock, then run Test-Backup on it.");
                    }
                    else described.Add(info.Path);
                    if (info.Verification != BackupVerification.Incomplete && !File.Exists(info.Path) && !Directory.Exists(info.Path))
                    {
                        info.Verification = BackupVerification.Incomplete;
                        info.LastTestMessage = $"The archive '{info.Path}' named by the manifest is missing.";
                    }
                }
                catch (OpsToolsException e)
                {
                    var archive = manifestPath[..^".manifest.json".Length];
                    described.Add(archive);
                    info = Orphan(archive, group, e.Message);
                }
                result.Add(info);
            }
            foreach (var entry in Directory.EnumerateFileSystemEntries(group))
            {
                var file = System.IO.Path.GetFileName(entry);
                if (file.StartsWith('.') || file.EndsWith(".manifest.json", StringComparison.Ordinal) || described.Contains(entry)) continue;
                result.Add(Orphan(entry, group, "The archive has no manifest: the backup did not finish, or the manifest was removed."));
            }
        }
        return result.OrderByDescending(b => b.EndTime).ThenByDescending(b => b.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>True when <paramref name="path"/> is a direct entry of the group folder (no "..", no absolute path elsewhere).</summary>
    internal static bool IsEntryOf(string group, string path)
    {
        var cmp = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var full = System.IO.Path.GetFullPath(path).TrimEnd('/', '\\');
        var parent = System.IO.Path.GetDirectoryName(full);
        return parent is not null && string.Equals(parent.TrimEnd('/', '\\'), System.IO.Path.GetFullPath(group).TrimEnd('/', '\\'), cmp);
    }

    /// <summary>
    /// The hidden temporary files and folders of unfinished backups (".&lt;file&gt;.partial"), each as an Incomplete entry whose
    /// message gives its age: young ones may still be written by a running backup; older than a day, they are leftovers of a
    /// killed backup (Invoke-BackupRetention removes those).
    /// </summary>
    public List<BackupInfo> ListPartials(string? name = null)
    {
        var result = new List<BackupInfo>();
        if (!Directory.Exists(Root)) return result;
        var groups = name is null ? Directory.GetDirectories(Root) : new[] { GroupDirectory(name) };
        foreach (var group in groups.Where(Directory.Exists))
            foreach (var entry in Directory.EnumerateFileSystemEntries(group, ".*.partial"))
            {
                var info = Orphan(entry, group, "");
                var age = DateTime.UtcNow - info.EndTime;
                var stale = age > BackupRetention.LeftoverGrace;
                if (!stale) continue; // a running backup may be writing it: not listed (as before)
                info.ManifestPath = "";
                info.LastTestMessage = string.Create(CultureInfo.InvariantCulture,
                    $"Temporary file of an unfinished backup, last written {FormatAge(age)} ago: ") + (stale
                    ? "a leftover of a backup that was killed or crashed. Invoke-BackupRetention removes it."
                    : "a backup may still be writing it (left alone for a day).");
                result.Add(info);
            }
        return result;
    }

    private static string FormatAge(TimeSpan age) =>
        age.TotalDays >= 1 ? $"{(int)age.TotalDays} d {age.Hours} h" : age.TotalHours >= 1 ? $"{(int)age.TotalHours} h {age.Minutes} min" : $"{Math.Max(0, (int)age.TotalMinutes)} min";

    private BackupInfo Orphan(string archive, string group, string message)
    {
        var isDir = Directory.Exists(archive);
        var time = isDir ? Directory.GetLastWriteTimeUtc(archive) : File.Exists(archive) ? File.GetLastWriteTimeUtc(archive) : DateTime.MinValue;
        var name = System.IO.Path.GetFileName(group);
        return new BackupInfo
        {
            Id = $"{name}/{System.IO.Path.GetFileName(archive)}",
            Name = name,
            Path = archive,
            ManifestPath = BackupManifest.ManifestPathFor(archive),
            Store = Root,
            SizeBytes = !isDir && File.Exists(archive) ? new FileInfo(archive).Length : 0,
            StartTime = time,
            EndTime = time,
            Verification = BackupVerification.Incomplete,
            LastTestMessage = message,
        };
    }

    /// <summary>A name safe as a file name on every OS: anything but letters, digits, '-', '_' and '.' becomes '_'.</summary>
    public static string SafeName(string name)
    {
        var chars = name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray();
        var s = new string(chars).Trim('.');
        return s.Length == 0 ? "_" : s;
    }
}
