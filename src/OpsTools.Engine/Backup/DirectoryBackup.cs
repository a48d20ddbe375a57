using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using OpsTools.Backup;

namespace OpsTools.Engine.Backup;

/// <summary>Where a directory backup or restore is, for progress bars.</summary>
public sealed class DirectoryProgress
{
    /// <summary>Archiving, Verifying (reading the archive back / checking the checksum) or Extracting.</summary>
    public string Phase { get; init; } = "";
    public long FilesDone { get; init; }
    public long FilesTotal { get; init; }
    public long BytesDone { get; init; }
    public long BytesTotal { get; init; }
    public string? CurrentItem { get; init; }
}

/// <summary>A finished, verified directory backup and the source files it could not, or not fully, take.</summary>
public sealed class DirectoryBackupResult
{
    public BackupInfo Info { get; init; } = null!;
    /// <summary>Entries left out, as "relative/path: reason" (vanished while the backup ran, special files, links leading outside the folder, the store itself).</summary>
    public IReadOnlyList<string> Skipped { get; init; } = Array.Empty<string>();
    /// <summary>Files that were written to while being read, as "relative/path: what changed". They are in the archive as far as they were read.</summary>
    public IReadOnlyList<string> Changed { get; init; } = Array.Empty<string>();
    /// <summary>Bytes of file content archived (uncompressed).</summary>
    public long Bytes { get; init; }
}

/// <summary>What Restore-Directory is about to do; shown by -WhatIf, then carried out by <see cref="DirectoryBackup.Restore"/>.</summary>
public sealed class DirectoryRestorePlan
{
    public string ArchivePath { get; init; } = "";
    public string ManifestPath { get; init; } = "";
    public BackupManifest Manifest { get; init; } = null!;
    public string BackupId { get; init; } = "";
    public string Destination { get; init; } = "";
    public bool DestinationExists { get; init; }
    /// <summary>The destination exists and holds something: restoring moves that aside.</summary>
    public bool DestinationNotEmpty { get; init; }
    /// <summary>Where the current content would be moved (the name is stamped again when the move happens).</summary>
    public string PreviousPath { get; init; } = "";

    /// <summary>One sentence for -WhatIf and confirmation prompts.</summary>
    public string Describe() =>
        $"Restore the backup {BackupId} ({Manifest.FileCount?.ToString(CultureInfo.InvariantCulture) ?? "?"} files, archive '{ArchivePath}') into '{Destination}'" +
        (DestinationNotEmpty ? $"; its current content is moved to '{PreviousPath}' (kept)"
            : DestinationExists ? " (an empty folder, replaced)" : " (a new folder)");
}

/// <summary>
/// tar.gz backups of folders (uploads ...) with System.Formats.Tar, and their restore. Written under a
/// temporary name while hashing, read back completely, renamed, and only then given a manifest; restored
/// into a new folder beside the destination, verified, and only then swapped in.
/// </summary>
public static class DirectoryBackup
{
    public const string Format = "tar.gz";
    private const int MaxLinkHops = 40;

    private enum ItemKind { Directory, File, Link }

    private sealed record SourceItem(string Relative, string FullPath, ItemKind Kind, long Length, UnixFileMode? Mode, DateTimeOffset MTime, string? LinkTarget);

    private sealed record Written(string Name, TarEntryType Type, long Length, string? LinkName);

    // ------------------------------------------------------------------ backup

    /// <summary>
    /// Backs up <paramref name="source"/> into <paramref name="store"/>. Returns only when the archive is
    /// complete, flushed, read back and matching, renamed and described by its manifest. Any failure
    /// (including Ctrl+C and a full disk) leaves neither the archive nor its temporary file nor a manifest,
    /// and is an OpsToolsException: BackupFailed, BackupCancelled or BackupDiskFull (BackupSourceNotFound
    /// for a missing folder).
    /// </summary>
    public static DirectoryBackupResult Backup(string source, BackupStore store, string? name, CompressionLevel level,
        Action<DirectoryProgress>? progress, CancellationToken ct)
    {
        source = Path.GetFullPath(source);
        if (source.Length > 1) source = Path.TrimEndingDirectorySeparator(source);
        if (!Directory.Exists(source))
            throw new OpsToolsException("BackupSourceNotFound", OpsErrorKind.NotFound,
                File.Exists(source) ? $"'{source}' is a file; Backup-Directory backs up folders." : $"The folder '{source}' does not exist.", source);
        if (string.IsNullOrWhiteSpace(name)) name = Path.GetFileName(source);
        if (string.IsNullOrWhiteSpace(name))
            throw new OpsToolsException("BackupNameMissing", OpsErrorKind.InvalidArgument,
                $"The folder '{source}' has no name to group its backups under: give one with -Name.", source);

        var start = DateTime.UtcNow;
        var final = store.NewArchivePath(name, Format, start);
        var temp = BackupStore.TempPathFor(final);
        var group = Path.GetDirectoryName(final)!;
        var createdGroup = false;
        var skipped = new List<string>();
        var changed = new List<string>();
        var renamed = false;
        try
        {
            if (!Directory.Exists(group))
            {
                Security.DataFiles.CreateDirectory(group);
                createdGroup = true;
            }
            if (File.Exists(final) || Directory.Exists(final))
                throw new OpsToolsException("BackupFailed", OpsErrorKind.OperationFailed, $"'{final}' already exists; run the backup again.", final);

            var items = Walk(source, store.Root, skipped, ct);
            KeepSafeLinks(items, skipped);
            var filesTotal = items.Count(i => i.Kind == ItemKind.File);
            var bytesTotal = items.Where(i => i.Kind == ItemKind.File).Sum(i => i.Length);

            // Write: tar (PAX) -> gzip -> hashing -> temp file.
            var written = new List<Written>(items.Count + 1);
            string sha;
            long archiveBytes;
            long filesDone = 0, bytesDone = 0;
            long lastReport = 0;
            void Report(string phase, string? current, bool force = false)
            {
                if (progress is null) return;
                var now = Environment.TickCount64;
                if (!force && now - lastReport < 100) return;
                lastReport = now;
                progress(new DirectoryProgress { Phase = phase, FilesDone = filesDone, FilesTotal = filesTotal, BytesDone = bytesDone, BytesTotal = bytesTotal, CurrentItem = current });
            }

            using (var file = Security.DataFiles.Create(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var hashing = new HashingWriteStream(file, ct);
                using (hashing)
                {
                    using (var gzip = new GZipStream(hashing, level, leaveOpen: true))
                    using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
                    {
                        // The folder itself, so its mode and time come back.
                        var rootEntry = new PaxTarEntry(TarEntryType.Directory, "./") { ModificationTime = Directory.GetLastWriteTimeUtc(source) };
                        if (!OperatingSystem.IsWindows()) rootEntry.Mode = File.GetUnixFileMode(source);
                        tar.WriteEntry(rootEntry);
                        written.Add(new Written("./", TarEntryType.Directory, 0, null));

                        foreach (var item in items)
                        {
                            ct.ThrowIfCancellationRequested();
                            Report("Archiving", item.Relative);
                            switch (item.Kind)
                            {
                                case ItemKind.Directory:
                                {
                                    var e = new PaxTarEntry(TarEntryType.Directory, item.Relative + "/") { ModificationTime = item.MTime };
                                    if (item.Mode is { } m) e.Mode = m;
                                    tar.WriteEntry(e);
                                    written.Add(new Written(e.Name, TarEntryType.Directory, 0, null));
                                    break;
                                }
                                case ItemKind.Link:
                                {
                                    var e = new PaxTarEntry(TarEntryType.SymbolicLink, item.Relative) { ModificationTime = item.MTime, LinkName = item.LinkTarget! };
                                    if (item.Mode is { } m) e.Mode = m;
                                    tar.WriteEntry(e);
                                    written.Add(new Written(e.Name, TarEntryType.SymbolicLink, 0, item.LinkTarget));
                                    break;
                                }
                                case ItemKind.File:
                                {
                                    var length = WriteFile(tar, item, skipped, changed, n => { bytesDone += n; Report("Archiving", item.Relative); }, ct);
                                    if (length is null) break;
                                    written.Add(new Written(item.Relative, TarEntryType.RegularFile, length.Value, null));
                                    filesDone++;
                                    break;
                                }
                            }
                        }
                    } // tar end blocks, then the gzip trailer
                    hashing.Flush();
                    sha = hashing.FinishHash();
                    archiveBytes = hashing.BytesWritten;
                }
                file.Flush(flushToDisk: true);
            }
            Report("Archiving", null, force: true);

            // Verify: read the whole archive back; entries, sizes and the hash must be what was written.
            var onDisk = new FileInfo(temp).Length;
            if (onDisk != archiveBytes)
                throw new OpsToolsException("BackupFailed", OpsErrorKind.OperationFailed,
                    $"Verifying '{temp}' failed: {onDisk} bytes on disk, {archiveBytes} written.", temp);
            var check = ReadBack(temp, ct, n =>
            {
                if (progress is null) return;
                var now = Environment.TickCount64;
                if (now - lastReport < 100) return;
                lastReport = now;
                progress(new DirectoryProgress { Phase = "Verifying", FilesDone = filesDone, FilesTotal = filesTotal, BytesDone = n, BytesTotal = archiveBytes });
            });
            VerifyAgainst(written, check, sha, temp);

            File.Move(temp, final, overwrite: false);
            renamed = true;
            var manifest = new BackupManifest
            {
                Kind = BackupKind.Directory,
                Name = name,
                Archive = Path.GetFileName(final),
                Format = Format,
                SizeBytes = archiveBytes,
                Sha256 = sha,
                StartTime = start,
                EndTime = DateTime.UtcNow,
                Source = source,
                OpsToolsVersion = OpsToolsVersion,
                Host = Environment.MachineName,
                User = Environment.UserName,
                FileCount = filesDone,
                Verification = BackupVerification.ChecksumVerified,
                LastTestTime = DateTime.UtcNow,
                LastTestMessage = $"Read back after writing: {written.Count} entries, {bytesDone} bytes of {filesDone} files, SHA-256 matches.",
            };
            var manifestPath = BackupManifest.ManifestPathFor(final);
            manifest.Write(manifestPath);
            return new DirectoryBackupResult { Info = manifest.ToInfo(manifestPath, store.Root), Skipped = skipped, Changed = changed, Bytes = bytesDone };
        }
        catch (Exception e)
        {
            TryDeleteFile(temp);
            if (renamed)
            {
                TryDeleteFile(BackupManifest.ManifestPathFor(final));
                TryDeleteFile(final);
            }
            if (createdGroup) TryDeleteEmptyDirectory(group);
            throw Classify(e, ct, source, "Backing up", "BackupFailed", "BackupCancelled", "BackupDiskFull",
                "Nothing was written to the store.");
        }
    }

    private static string OpsToolsVersion => typeof(DirectoryBackup).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";

    /// <summary>Every item below <paramref name="root"/>, parents before children, names in ordinal order. Links are never followed.</summary>
    private static List<SourceItem> Walk(string root, string storeRoot, List<string> skipped, CancellationToken ct)
    {
        var items = new List<SourceItem>();
        var stack = new Stack<(string Full, string Relative)>();
        stack.Push((root, ""));
        var options = new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0, ReturnSpecialDirectories = false };
        while (stack.Count > 0)
        {
            ct.ThrowIfCancellationRequested();
            var (dir, rel) = stack.Pop();
            List<FileSystemInfo> children;
            try
            {
                children = new DirectoryInfo(dir).EnumerateFileSystemInfos("*", options).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
            }
            catch (DirectoryNotFoundException) when (rel.Length > 0)
            {
                skipped.Add($"{rel}/: vanished while the backup ran");
                items.RemoveAll(i => i.Relative == rel);
                continue;
            }
            var subdirs = new List<(string, string)>();
            foreach (var c in children)
            {
                var childRel = rel.Length == 0 ? c.Name : rel + "/" + c.Name;
                try
                {
                    var mode = OperatingSystem.IsWindows() ? (UnixFileMode?)null : c.UnixFileMode;
                    var mtime = new DateTimeOffset(c.LastWriteTimeUtc, TimeSpan.Zero);
                    if (c.LinkTarget is { } target)
                    {
                        items.Add(new SourceItem(childRel, c.FullName, ItemKind.Link, 0, mode, mtime, NormalizeLinkTarget(target, root, childRel, skipped)));
                    }
                    else if (c is DirectoryInfo)
                    {
                        if (PathsEqual(c.FullName, storeRoot))
                        {
                            skipped.Add($"{childRel}/: the backup store itself");
                            continue;
                        }
                        items.Add(new SourceItem(childRel, c.FullName, ItemKind.Directory, 0, mode, mtime, null));
                        subdirs.Add((c.FullName, childRel));
                    }
                    else
                    {
                        items.Add(new SourceItem(childRel, c.FullName, ItemKind.File, ((FileInfo)c).Length, mode, mtime, null));
                    }
                }
                catch (FileNotFoundException) { skipped.Add($"{childRel}: vanished while the backup ran"); }
                catch (DirectoryNotFoundException) { skipped.Add($"{childRel}: vanished while the backup ran"); }
            }
            // Depth first in name order: push in reverse so the first name comes out first.
            for (var i = subdirs.Count - 1; i >= 0; i--) stack.Push(subdirs[i]);
        }
        items.RemoveAll(i => i.Kind == ItemKind.Link && i.LinkTarget is null);
        // Parents before children, siblings in name order: sort by path segments.
        items.Sort((a, b) => CompareSegments(a.Relative, b.Relative));
        return items;
    }

    private static int CompareSegments(string a, string b)
    {
        var sa = a.Split('/');
        var sb = b.Split('/');
        for (var i = 0; i < Math.Min(sa.Length, sb.Length); i++)
        {
            var c = string.CompareOrdinal(sa[i], sb[i]);
            if (c != 0) return c;
        }
        return sa.Length.CompareTo(sb.Length);
    }

    private static bool PathsEqual(string a, string b) =>
        string.Equals(Path.TrimEndingDirectorySeparator(a), Path.TrimEndingDirectorySeparator(b),
            OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    /// <summary>
    /// Absolute link targets inside the folder become relative (so they still work wherever the folder is
    /// restored); absolute targets elsewhere are left out with a warning, since a restore refuses them.
    /// </summary>
    private static string? NormalizeLinkTarget(string target, string root, string relative, List<string> skipped)
    {
        if (!Path.IsPathRooted(target)) return target.Replace('\\', '/');
        var full = Path.GetFullPath(target);
        var rel = Path.GetRelativePath(root, full);
        if (rel == ".." || rel.StartsWith(".." + Path.DirectorySeparatorChar, StringComparison.Ordinal) || Path.IsPathRooted(rel))
        {
            skipped.Add($"{relative}: symbolic link to '{target}', outside the folder (not stored; a restore never creates links that lead outside)");
            return null;
        }
        var depth = relative.Count(c => c == '/');
        var up = string.Concat(Enumerable.Repeat("../", depth));
        var result = up + (rel == "." ? "" : rel.Replace('\\', '/'));
        return result.Length == 0 ? "." : result.TrimEnd('/');
    }

    /// <summary>Drops links that lead outside the folder (repeating until stable: dropping one link can change where another leads).</summary>
    private static void KeepSafeLinks(List<SourceItem> items, List<string> skipped)
    {
        while (true)
        {
            var links = items.Where(i => i.Kind == ItemKind.Link).ToDictionary(i => i.Relative, i => i.LinkTarget!, StringComparer.Ordinal);
            var bad = items.Where(i => i.Kind == ItemKind.Link && ResolveInside(i.Relative, i.LinkTarget!, links) is not null).ToList();
            if (bad.Count == 0) return;
            foreach (var b in bad)
            {
                skipped.Add($"{b.Relative}: symbolic link to '{b.LinkTarget}', {ResolveInside(b.Relative, b.LinkTarget!, links)} (not stored)");
                items.Remove(b);
            }
        }
    }

    /// <summary>
    /// Follows a link inside a tree whose links are <paramref name="links"/> (relative path -> target), component
    /// by component, the way the operating system would. Null when it stays inside the tree; else why not.
    /// </summary>
    internal static string? ResolveInside(string linkPath, string target, IReadOnlyDictionary<string, string> links)
    {
        var stack = new List<string>(linkPath.Split('/', StringSplitOptions.RemoveEmptyEntries));
        if (stack.Count > 0) stack.RemoveAt(stack.Count - 1);
        var remaining = new LinkedList<string>(SplitTarget(target, out var rooted));
        if (rooted) return "an absolute path";
        var hops = 0;
        while (remaining.First is { } node)
        {
            remaining.RemoveFirst();
            var seg = node.Value;
            if (seg.Length == 0 || seg == ".") continue;
            if (seg == "..")
            {
                if (stack.Count == 0) return "leading outside the folder";
                stack.RemoveAt(stack.Count - 1);
                continue;
            }
            stack.Add(seg);
            if (links.TryGetValue(string.Join('/', stack), out var next))
            {
                if (++hops > MaxLinkHops) return "a loop of symbolic links";
                stack.RemoveAt(stack.Count - 1);
                var parts = SplitTarget(next, out var nextRooted);
                if (nextRooted) return "through a link to an absolute path";
                for (var i = parts.Length - 1; i >= 0; i--) remaining.AddFirst(parts[i]);
            }
        }
        return null;
    }

    private static string[] SplitTarget(string target, out bool rooted)
    {
        rooted = target.StartsWith('/') || target.StartsWith('\\') || Path.IsPathRooted(target);
        return target.Split('/', StringSplitOptions.None);
    }

    /// <summary>Writes one regular file; null when it vanished (recorded in <paramref name="skipped"/>).</summary>
    private static long? WriteFile(TarWriter tar, SourceItem item, List<string> skipped, List<string> changed, Action<int> onRead, CancellationToken ct)
    {
        if (item.Length == 0)
        {
            // Never open an empty-looking entry: FIFOs, sockets and devices also report length 0, and opening a FIFO blocks.
            var special = SpecialType(item.FullPath);
            if (special is null)
            {
                skipped.Add($"{item.Relative}: vanished while the backup ran");
                return null;
            }
            if (special != TarEntryType.RegularFile)
            {
                skipped.Add($"{item.Relative}: special file ({special}), not backed up");
                return null;
            }
            var empty = new PaxTarEntry(TarEntryType.RegularFile, item.Relative) { ModificationTime = item.MTime };
            if (item.Mode is { } m0) empty.Mode = m0;
            tar.WriteEntry(empty);
            return 0;
        }

        FileStream input;
        try
        {
            input = new FileStream(item.FullPath, new FileStreamOptions
            {
                Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete,
                Options = FileOptions.SequentialScan, BufferSize = 0,
            });
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            skipped.Add($"{item.Relative}: vanished while the backup ran");
            return null;
        }
        using (input)
        {
            var data = new FixedLengthReadStream(input, item.Length, ct, onRead);
            var entry = new PaxTarEntry(TarEntryType.RegularFile, item.Relative) { ModificationTime = item.MTime, DataStream = data };
            if (item.Mode is { } m) entry.Mode = m;
            try
            {
                tar.WriteEntry(entry);
            }
            catch (FileShrankException e)
            {
                throw new OpsToolsException("BackupFailed", OpsErrorKind.OperationFailed,
                    $"'{item.FullPath}' changed while it was being read: {e.Message}. Run the backup again when the folder is quiet.", item.FullPath, e);
            }
            if (data.Position != item.Length)
                throw new OpsToolsException("BackupFailed", OpsErrorKind.OperationFailed,
                    $"'{item.FullPath}': {data.Position} of {item.Length} bytes were archived.", item.FullPath);
            data.ProbeForGrowth();
            DateTime after;
            try { after = File.GetLastWriteTimeUtc(item.FullPath); } catch (IOException) { after = item.MTime.UtcDateTime; }
            if (data.Grew)
                changed.Add($"{item.Relative}: grew while it was read; the first {item.Length} bytes are in the backup");
            else if (after != item.MTime.UtcDateTime)
                changed.Add($"{item.Relative}: modified while it was read; the backup may hold a mix of old and new content");
        }
        return item.Length;
    }

    /// <summary>The tar type the OS reports for a path (RegularFile, Fifo, CharacterDevice ...), without opening it; null when it is gone.</summary>
    private static TarEntryType? SpecialType(string path)
    {
        if (!File.Exists(path)) return null;
        if (OperatingSystem.IsWindows()) return TarEntryType.RegularFile;
        // TarWriter classifies with lstat; an empty regular file writes no data, so this never blocks.
        try
        {
            using var ms = new MemoryStream();
            using (var w = new TarWriter(ms, TarEntryFormat.Pax, leaveOpen: true)) w.WriteEntry(path, "x");
            ms.Position = 0;
            using var r = new TarReader(ms);
            return r.GetNextEntry()?.EntryType;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
    }

    private sealed record ReadBackResult(List<Written> Entries, long Bytes, string Sha256, long ArchiveBytes);

    /// <summary>Reads an archive completely: every entry (with its data) and the SHA-256 of the whole file.</summary>
    private static ReadBackResult ReadBack(string path, CancellationToken ct, Action<long>? onRead)
    {
        var entries = new List<Written>();
        long bytes = 0;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using var hashing = new HashingReadStream(file, ct, onRead);
        using (var gzip = new GZipStream(hashing, CompressionMode.Decompress, leaveOpen: true))
        {
            using (var tar = new TarReader(gzip, leaveOpen: true))
            {
                var buffer = new byte[1 << 16];
                while (tar.GetNextEntry() is { } e)
                {
                    long n = 0;
                    if (e.DataStream is { } s)
                    {
                        int r;
                        while ((r = s.Read(buffer, 0, buffer.Length)) > 0) n += r;
                    }
                    if (e.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && n != e.Length)
                        throw new InvalidDataException($"entry '{e.Name}' announces {e.Length} bytes but holds {n}");
                    bytes += n;
                    entries.Add(new Written(e.Name, e.EntryType, n, string.IsNullOrEmpty(e.LinkName) ? null : e.LinkName));
                }
            }
            var rest = new byte[1 << 16];
            while (gzip.Read(rest, 0, rest.Length) > 0) { }
        }
        var sha = hashing.DrainAndFinishHash();
        return new ReadBackResult(entries, bytes, sha, hashing.BytesRead);
    }

    private static void VerifyAgainst(List<Written> written, ReadBackResult check, string sha, string path)
    {
        string? problem = null;
        if (check.Sha256 != sha) problem = $"SHA-256 read back {check.Sha256}, written {sha}";
        else if (check.Entries.Count != written.Count) problem = $"{check.Entries.Count} entries read back, {written.Count} written";
        else
        {
            for (var i = 0; i < written.Count && problem is null; i++)
            {
                var (w, r) = (written[i], check.Entries[i]);
                if (w.Name != r.Name || w.Type != r.Type || w.Length != r.Length || w.LinkName != r.LinkName)
                    problem = $"entry {i + 1} reads back as '{r.Name}' ({r.Type}, {r.Length} bytes), written as '{w.Name}' ({w.Type}, {w.Length} bytes)";
            }
            var total = written.Sum(w => w.Length);
            if (problem is null && total != check.Bytes) problem = $"{check.Bytes} bytes of file content read back, {total} written";
        }
        if (problem is not null)
            throw new OpsToolsException("BackupFailed", OpsErrorKind.OperationFailed, $"Verifying the written archive '{path}' failed: {problem}.", path);
    }

    // ------------------------------------------------------------------ restore

    /// <summary>
    /// Reads the manifest of a directory backup (given the archive, or its manifest) and looks at the
    /// destination. Changes nothing.
    /// </summary>
    public static DirectoryRestorePlan PlanRestore(string archiveOrManifest, string destination)
    {
        var given = Path.GetFullPath(archiveOrManifest);
        string manifestPath, archivePath;
        if (given.EndsWith(".manifest.json", StringComparison.OrdinalIgnoreCase))
        {
            manifestPath = given;
            archivePath = "";
        }
        else
        {
            manifestPath = BackupManifest.ManifestPathFor(given);
            archivePath = given;
        }
        if (!File.Exists(manifestPath))
            throw new OpsToolsException("BackupManifestInvalid", OpsErrorKind.InvalidData,
                $"'{given}' has no manifest ('{manifestPath}' does not exist), so its checksum cannot be checked: an archive without a manifest is not a verified backup. Nothing was changed.", given);
        var m = BackupManifest.Read(manifestPath);
        if (m.Kind != BackupKind.Directory || !string.Equals(m.Format, Format, StringComparison.Ordinal))
            throw new OpsToolsException("BackupNotDirectory", OpsErrorKind.InvalidArgument,
                $"The backup '{manifestPath}' is a {m.Kind} backup in format '{m.Format}', not a folder backup (tar.gz): use Restore-Backup for databases.", manifestPath);
        var named = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(manifestPath)!, m.Archive));
        if (archivePath.Length > 0 && !PathsEqual(named, archivePath))
            throw new OpsToolsException("BackupManifestInvalid", OpsErrorKind.InvalidData,
                $"The manifest '{manifestPath}' describes '{named}', not '{archivePath}'. Nothing was changed.", manifestPath);
        archivePath = named;
        if (!File.Exists(archivePath))
            throw new OpsToolsException("BackupArchiveMissing", OpsErrorKind.NotFound, $"The archive '{archivePath}' named by '{manifestPath}' does not exist.", archivePath);

        var dest = Path.GetFullPath(destination);
        if (dest.Length > 1) dest = Path.TrimEndingDirectorySeparator(dest);
        var parent = Path.GetDirectoryName(dest);
        if (string.IsNullOrEmpty(parent) || string.IsNullOrEmpty(Path.GetFileName(dest)))
            throw new OpsToolsException("RestoreDestinationInvalid", OpsErrorKind.InvalidArgument,
                $"Cannot restore into '{dest}': give a folder below a root (e.g. /app/uploads).", dest);
        if (File.Exists(dest))
            throw new OpsToolsException("RestoreDestinationInvalid", OpsErrorKind.InvalidArgument, $"The destination '{dest}' is a file, not a folder.", dest);
        var exists = Directory.Exists(dest);
        if (exists && new DirectoryInfo(dest).LinkTarget is { } link)
            throw new OpsToolsException("RestoreDestinationInvalid", OpsErrorKind.InvalidArgument,
                $"The destination '{dest}' is a symbolic link (to '{link}'); give the folder it points to.", dest);
        var notEmpty = exists && Directory.EnumerateFileSystemEntries(dest).Any();
        return new DirectoryRestorePlan
        {
            ArchivePath = archivePath, ManifestPath = manifestPath, Manifest = m,
            BackupId = $"{m.Name}/{m.EndTime.ToUniversalTime():yyyyMMdd'T'HHmmssfff'Z'}",
            Destination = dest, DestinationExists = exists, DestinationNotEmpty = notEmpty,
            PreviousPath = PreviousPathFor(dest, DateTime.UtcNow),
        };
    }

    private static string PreviousPathFor(string dest, DateTime utc) =>
        dest + ".pre-restore-" + utc.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    private sealed record DeferredDir(string Full, string Relative, UnixFileMode? Mode, DateTimeOffset MTime);

    /// <summary>
    /// Carries out a plan: checks the archive's SHA-256 against the manifest, extracts it into a new folder
    /// beside the destination (refusing the whole archive if any entry would land, or any link would lead,
    /// outside it), verifies the count, and only then swaps it in. With <paramref name="replaceNonEmpty"/>
    /// a non-empty destination is moved aside (kept); without it, a non-empty destination is refused.
    /// Before the swap, any failure leaves the destination untouched and removes the new folder.
    /// </summary>
    public static DirectoryRestoreResult Restore(DirectoryRestorePlan plan, bool replaceNonEmpty, Action<DirectoryProgress>? progress, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        var m = plan.Manifest;
        var dest = plan.Destination;
        var parent = Path.GetDirectoryName(dest)!;
        string? temp = null;
        var createdParents = new List<string>(); // deepest first
        long lastReport = 0;
        void Report(DirectoryProgress p, bool force = false)
        {
            if (progress is null) return;
            var now = Environment.TickCount64;
            if (!force && now - lastReport < 100) return;
            lastReport = now;
            progress(p);
        }

        try
        {
            if (!replaceNonEmpty && Directory.Exists(dest) && Directory.EnumerateFileSystemEntries(dest).Any())
                throw NotEmpty(dest);

            // 1. The checksum, before anything is touched.
            var size = new FileInfo(plan.ArchivePath).Length;
            string sha;
            using (var f = new FileStream(plan.ArchivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
            using (var h = new HashingReadStream(f, ct, n => Report(new DirectoryProgress { Phase = "Verifying", BytesDone = n, BytesTotal = size, CurrentItem = plan.ArchivePath })))
                sha = h.DrainAndFinishHash();
            Report(new DirectoryProgress { Phase = "Verifying", BytesDone = size, BytesTotal = size, CurrentItem = plan.ArchivePath }, force: true);
            if (size != m.SizeBytes || !string.Equals(sha, m.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new OpsToolsException("BackupChecksumMismatch", OpsErrorKind.InvalidData,
                    $"The archive '{plan.ArchivePath}' does not match its manifest (SHA-256 {sha}, {size} bytes; the manifest says {m.Sha256}, {m.SizeBytes} bytes): it is corrupt, truncated or altered. Nothing was changed.",
                    plan.ArchivePath);

            // 2. Extract into a new folder beside the destination.
            for (var p = parent; !string.IsNullOrEmpty(p) && !Directory.Exists(p); p = Path.GetDirectoryName(p))
                createdParents.Add(p);
            Directory.CreateDirectory(parent);
            temp = Path.Combine(parent, "." + Path.GetFileName(dest) + ".restore-" + Guid.NewGuid().ToString("N")[..8]);
            Directory.CreateDirectory(temp);
            var counts = Extract(plan, temp, sha, p => Report(p), ct);

            // 3. Verify what landed on disk.
            var onDisk = CountFiles(temp);
            if (m.FileCount is { } expected && (counts.Files != expected || onDisk != expected))
                throw new OpsToolsException("RestoreVerifyFailed", OpsErrorKind.InvalidData,
                    $"The manifest of '{plan.ArchivePath}' lists {expected} files, but {counts.Files} were extracted and {onDisk} are on disk. Nothing was changed.", plan.ArchivePath);
            if (onDisk != counts.Files)
                throw new OpsToolsException("RestoreVerifyFailed", OpsErrorKind.InvalidData,
                    $"{counts.Files} files were extracted from '{plan.ArchivePath}' but {onDisk} are on disk. Nothing was changed.", plan.ArchivePath);
            ct.ThrowIfCancellationRequested();

            // 4. The swap: from here on, no cancellation.
            string? previous = null;
            if (Directory.Exists(dest))
            {
                if (Directory.EnumerateFileSystemEntries(dest).Any())
                {
                    if (!replaceNonEmpty) throw NotEmpty(dest);
                    previous = PreviousPathFor(dest, DateTime.UtcNow);
                    for (var i = 1; Directory.Exists(previous) || File.Exists(previous); i++)
                        previous = PreviousPathFor(dest, DateTime.UtcNow) + "-" + i.ToString(CultureInfo.InvariantCulture);
                    try { Directory.Move(dest, previous); }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        throw new OpsToolsException("RestoreFailed", OpsErrorKind.OperationFailed,
                            $"Cannot move '{dest}' aside to '{previous}': {e.Message} (a mount point cannot be moved: restore into a folder inside it). Nothing was changed.", dest, e);
                    }
                    try { Directory.Move(temp, dest); }
                    catch
                    {
                        Directory.Move(previous, dest); // put it back
                        throw;
                    }
                }
                else
                {
                    Directory.Delete(dest);
                    try { Directory.Move(temp, dest); }
                    catch
                    {
                        Directory.CreateDirectory(dest);
                        throw;
                    }
                }
            }
            else
            {
                Directory.Move(temp, dest);
            }
            temp = null;
            var duration = DateTime.UtcNow - started;
            return new DirectoryRestoreResult
            {
                BackupId = plan.BackupId, Archive = plan.ArchivePath, ManifestPath = plan.ManifestPath, Sha256 = sha,
                Destination = dest, FileCount = counts.Files, DirectoryCount = counts.Directories, LinkCount = counts.Links, Bytes = counts.Bytes,
                PreviousMovedTo = previous, Duration = duration, Timestamp = DateTime.UtcNow,
                Message = $"Restored {counts.Files} files ({counts.Bytes} bytes) from {plan.BackupId} into '{dest}'" +
                          (previous is null ? "." : $"; the previous content is kept in '{previous}'."),
            };
        }
        catch (Exception e)
        {
            if (temp is not null) TryDeleteTree(temp);
            foreach (var d in createdParents) TryDeleteEmptyDirectory(d);
            throw Classify(e, ct, plan.ArchivePath, "Restoring", "RestoreFailed", "RestoreCancelled", "RestoreDiskFull",
                $"The destination '{dest}' was not changed.");
        }
    }

    private static OpsToolsException NotEmpty(string dest) =>
        new("RestoreDestinationNotEmpty", OpsErrorKind.InvalidArgument,
            $"The destination '{dest}' is not empty. Use -Force to move its current content aside (it is kept as '{Path.GetFileName(dest)}.pre-restore-<time>') and restore in its place, or choose an empty or new folder. Nothing was changed.", dest);

    private sealed record ExtractCounts(long Files, long Directories, long Links, long Bytes);

    private static ExtractCounts Extract(DirectoryRestorePlan plan, string temp, string expectedSha, Action<DirectoryProgress> report, CancellationToken ct)
    {
        var unsafeArchive = (string why) => new OpsToolsException("RestoreUnsafeArchive", OpsErrorKind.InvalidData,
            $"The archive '{plan.ArchivePath}' is refused: {why}. Nothing was changed.", plan.ArchivePath);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var links = new Dictionary<string, string>(StringComparer.Ordinal);
        var dirs = new List<DeferredDir>();
        long files = 0, bytes = 0;
        var total = plan.Manifest.FileCount ?? 0;
        var buffer = new byte[1 << 16];
        string sha;
        using (var file = new FileStream(plan.ArchivePath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan))
        using (var hashing = new HashingReadStream(file, ct))
        {
            using (var gzip = new GZipStream(hashing, CompressionMode.Decompress, leaveOpen: true))
            {
                using (var tar = new TarReader(gzip, leaveOpen: true))
                {
                    while (tar.GetNextEntry() is { } e)
                    {
                        ct.ThrowIfCancellationRequested();
                        if (e.EntryType is TarEntryType.GlobalExtendedAttributes) continue;
                        var rel = SafeRelative(e.Name, unsafeArchive);
                        if (!seen.Add(rel)) throw unsafeArchive($"it lists '{rel}' more than once");
                        var full = rel.Length == 0 ? temp : Path.Combine(temp, rel.Replace('/', Path.DirectorySeparatorChar));
                        UnixFileMode? mode = OperatingSystem.IsWindows() ? null : e.Mode;
                        switch (e.EntryType)
                        {
                            case TarEntryType.Directory:
                                Directory.CreateDirectory(full);
                                dirs.Add(new DeferredDir(full, rel, mode, e.ModificationTime));
                                break;
                            case TarEntryType.RegularFile or TarEntryType.V7RegularFile:
                                if (rel.Length == 0) throw unsafeArchive("a file entry names the folder itself");
                                Directory.CreateDirectory(Path.GetDirectoryName(full)!);
                                long n = 0;
                                using (var output = new FileStream(full, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
                                {
                                    if (e.DataStream is { } data)
                                    {
                                        int r;
                                        while ((r = data.Read(buffer, 0, buffer.Length)) > 0)
                                        {
                                            ct.ThrowIfCancellationRequested();
                                            output.Write(buffer, 0, r);
                                            n += r;
                                        }
                                    }
                                }
                                if (n != e.Length) throw new InvalidDataException($"entry '{e.Name}' announces {e.Length} bytes but holds {n}");
                                if (mode is { } fm && !OperatingSystem.IsWindows()) File.SetUnixFileMode(full, fm);
                                File.SetLastWriteTimeUtc(full, e.ModificationTime.UtcDateTime);
                                files++;
                                bytes += n;
                                report(new DirectoryProgress { Phase = "Extracting", FilesDone = files, FilesTotal = total, BytesDone = bytes, CurrentItem = rel });
                                break;
                            case TarEntryType.SymbolicLink:
                                if (rel.Length == 0) throw unsafeArchive("a link entry names the folder itself");
                                if (string.IsNullOrEmpty(e.LinkName)) throw unsafeArchive($"the link '{rel}' has no target");
                                links[rel] = e.LinkName;
                                break;
                            default:
                                throw unsafeArchive($"'{rel}' is a {e.EntryType} entry, which Restore-Directory does not create");
                        }
                    }
                }
                while (gzip.Read(buffer, 0, buffer.Length) > 0) { }
            }
            sha = hashing.DrainAndFinishHash();
        }
        if (!string.Equals(sha, expectedSha, StringComparison.OrdinalIgnoreCase))
            throw new OpsToolsException("BackupChecksumMismatch", OpsErrorKind.InvalidData,
                $"The archive '{plan.ArchivePath}' changed while it was being restored (SHA-256 {sha}, checked {expectedSha} before). Nothing was changed.", plan.ArchivePath);

        // Links last, so nothing is ever written through one; each must stay inside the folder.
        foreach (var (rel, target) in links)
        {
            if (seen.Any(s => s.Length > rel.Length && s.StartsWith(rel + "/", StringComparison.Ordinal)))
                throw unsafeArchive($"entries lie below the symbolic link '{rel}'");
            if (ResolveInside(rel, target, links) is { } why)
                throw unsafeArchive($"the symbolic link '{rel}' -> '{target}' is {why}");
        }
        foreach (var (rel, target) in links)
        {
            var full = Path.Combine(temp, rel.Replace('/', Path.DirectorySeparatorChar));
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            File.CreateSymbolicLink(full, target);
        }
        // Folders' modes and times last, deepest first (writing inside a folder changes its time).
        foreach (var d in dirs.OrderByDescending(d => d.Relative.Length == 0 ? -1 : d.Relative.Count(c => c == '/')))
        {
            if (d.Mode is { } dm && !OperatingSystem.IsWindows()) File.SetUnixFileMode(d.Full, dm);
            Directory.SetLastWriteTimeUtc(d.Full, d.MTime.UtcDateTime);
        }
        return new ExtractCounts(files, dirs.Count(d => d.Relative.Length > 0), links.Count, bytes);
    }

    /// <summary>An entry name as a relative path with '/' separators ("" for the folder itself); refuses absolute names and '..'.</summary>
    private static string SafeRelative(string name, Func<string, OpsToolsException> refuse)
    {
        if (name.Contains('\0')) throw refuse("an entry name contains a NUL character");
        if (name.StartsWith('/') || name.StartsWith('\\') || Path.IsPathRooted(name))
            throw refuse($"the entry '{name}' has an absolute path");
        var parts = new List<string>();
        foreach (var seg in name.Split('/'))
        {
            if (seg.Length == 0 || seg == ".") continue;
            if (seg == "..") throw refuse($"the entry '{name}' leads outside the folder ('..')");
            if (OperatingSystem.IsWindows() && (seg.Contains('\\') || seg.Contains(':')))
                throw refuse($"the entry '{name}' is not a safe path on Windows");
            parts.Add(seg);
        }
        return string.Join('/', parts);
    }

    private static long CountFiles(string root)
    {
        long n = 0;
        var options = new EnumerationOptions { RecurseSubdirectories = false, IgnoreInaccessible = false, AttributesToSkip = 0 };
        var stack = new Stack<DirectoryInfo>();
        stack.Push(new DirectoryInfo(root));
        while (stack.Count > 0)
        {
            foreach (var c in stack.Pop().EnumerateFileSystemInfos("*", options))
            {
                if (c.LinkTarget is not null) continue;
                if (c is DirectoryInfo d) stack.Push(d);
                else n++;
            }
        }
        return n;
    }

    // ------------------------------------------------------------------ failures and clean-up

    internal static bool IsDiskFull(Exception e) => Security.DataFiles.IsDiskFull(e);

    private static OpsToolsException Classify(Exception e, CancellationToken ct, string target, string doing,
        string failedId, string cancelledId, string diskFullId, string nothingChanged)
    {
        if (e is OperationCanceledException || (ct.IsCancellationRequested && e is not OpsToolsException))
            return new OpsToolsException(cancelledId, OpsErrorKind.OperationFailed, $"{doing} '{target}' was cancelled. {nothingChanged}", target, e);
        if (IsDiskFull(e))
            return new OpsToolsException(diskFullId, OpsErrorKind.OperationFailed, $"{doing} '{target}' failed: the disk is full ({e.Message}). {nothingChanged}", target, e);
        if (e is OpsToolsException ops) return ops;
        var what = e switch
        {
            InvalidDataException or FormatException => "the archive is damaged: " + e.Message,
            _ => e.Message,
        };
        return new OpsToolsException(failedId, e is UnauthorizedAccessException ? OpsErrorKind.PermissionDenied : OpsErrorKind.OperationFailed,
            $"{doing} '{target}' failed: {what} {nothingChanged}", target, e);
    }

    private static void TryDeleteFile(string path)
    {
        try { if (File.Exists(path)) File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static void TryDeleteEmptyDirectory(string path)
    {
        try { if (Directory.Exists(path) && !Directory.EnumerateFileSystemEntries(path).Any()) Directory.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private static void TryDeleteTree(string path)
    {
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                // Folders restored read-only would stop the delete for a non-root user.
                foreach (var d in new DirectoryInfo(path).EnumerateDirectories("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true }))
                    if (d.LinkTarget is null) try { d.UnixFileMode |= UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute; } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
            Directory.Delete(path, recursive: true);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
