using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using OpsTools.Backup;
using OpsTools.Engine.Backup;

namespace OpsTools.Engine.Tests.Backup;

/// <summary>DirectoryBackup without PowerShell: round trip, link rules, refusals of unsafe or damaged archives.</summary>
public sealed class DirectoryBackupEngineTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("opstools-dirbk-").FullName;
    private string Src => Path.Combine(_root, "uploads");
    private string StoreDir => Path.Combine(_root, "store");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    internal static Dictionary<string, string> Snapshot(string root)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var rel = Path.GetRelativePath(root, e.FullName);
            var mode = OperatingSystem.IsWindows() ? "" : Convert.ToString((int)e.UnixFileMode, 8);
            if (e.LinkTarget is { } t) map[rel] = "link -> " + t;
            else if (e is DirectoryInfo) map[rel] = "dir " + mode;
            else map[rel] = $"file {mode} {((FileInfo)e).Length} {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(e.FullName)))} {e.LastWriteTimeUtc:yyyyMMddHHmmss}";
        }
        return map;
    }

    private void MakeTree()
    {
        Directory.CreateDirectory(Path.Combine(Src, "a", "b", "c"));
        Directory.CreateDirectory(Path.Combine(Src, "empty-dir"));
        File.WriteAllBytes(Path.Combine(Src, "empty.txt"), Array.Empty<byte>());
        File.WriteAllText(Path.Combine(Src, "a", "b", "c", "deep.txt"), "deep");
        File.WriteAllText(Path.Combine(Src, "ünïcødé файл 名前.txt"), "unicode");
        var big = new byte[300_000];
        Random.Shared.NextBytes(big);
        File.WriteAllBytes(Path.Combine(Src, "a", "random.bin"), big);
        File.WriteAllText(Path.Combine(Src, "run.sh"), "#!/bin/sh\necho hi\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(Src, "run.sh"), (UnixFileMode)Convert.ToInt32("755", 8));
            File.SetUnixFileMode(Path.Combine(Src, "a", "random.bin"), (UnixFileMode)Convert.ToInt32("600", 8));
        }
        File.CreateSymbolicLink(Path.Combine(Src, "a", "link-to-deep"), "b/c/deep.txt");
        File.CreateSymbolicLink(Path.Combine(Src, "a", "b", "up-link"), "../random.bin");
    }

    [Fact]
    public void Round_trip_restores_an_identical_tree_and_writes_a_manifest()
    {
        MakeTree();
        var store = new BackupStore(StoreDir);
        var r = DirectoryBackup.Backup(Src, store, null, CompressionLevel.Fastest, null, CancellationToken.None);
        Assert.Empty(r.Skipped);
        Assert.Empty(r.Changed);
        Assert.Equal(BackupKind.Directory, r.Info.Kind);
        Assert.Equal("uploads", r.Info.Name);
        Assert.Equal("tar.gz", r.Info.Format);
        Assert.Equal(5, r.Info.FileCount);
        Assert.Equal(Src, r.Info.Source);
        Assert.Equal(BackupVerification.ChecksumVerified, r.Info.Verification);
        Assert.EndsWith(".tar.gz", r.Info.Path);
        Assert.Equal(new FileInfo(r.Info.Path).Length, r.Info.SizeBytes);
        Assert.Equal(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(r.Info.Path))).ToLowerInvariant(), r.Info.Sha256);
        Assert.True(File.Exists(r.Info.ManifestPath));
        Assert.Equal(2, Directory.GetFiles(Path.GetDirectoryName(r.Info.Path)!).Length); // archive + manifest, no temp files

        var dest = Path.Combine(_root, "restored");
        var result = DirectoryBackup.Restore(DirectoryBackup.PlanRestore(r.Info.Path, dest), false, null, CancellationToken.None);
        Assert.Equal(5, result.FileCount);
        Assert.Equal(2, result.LinkCount);
        Assert.Null(result.PreviousMovedTo);
        Assert.Equal(Snapshot(Src), Snapshot(dest));
        Assert.Empty(Directory.GetDirectories(_root, ".restored.restore-*"));
    }

    [Fact]
    public void Links_are_stored_as_links_absolute_ones_inside_become_relative_and_outside_ones_are_left_out()
    {
        Directory.CreateDirectory(Path.Combine(Src, "sub"));
        File.WriteAllText(Path.Combine(Src, "sub", "f.txt"), "x");
        File.WriteAllText(Path.Combine(_root, "secret.txt"), "outside");
        File.CreateSymbolicLink(Path.Combine(Src, "sub", "abs-inside"), Path.Combine(Src, "sub", "f.txt"));
        File.CreateSymbolicLink(Path.Combine(Src, "abs-outside"), Path.Combine(_root, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(Src, "rel-outside"), "../secret.txt");
        File.CreateSymbolicLink(Path.Combine(Src, "dir-link"), "sub");
        var r = DirectoryBackup.Backup(Src, new BackupStore(StoreDir), "links", CompressionLevel.Fastest, null, CancellationToken.None);
        Assert.Equal(2, r.Skipped.Count);
        Assert.Contains(r.Skipped, s => s.StartsWith("abs-outside:"));
        Assert.Contains(r.Skipped, s => s.StartsWith("rel-outside:"));
        Assert.Equal(1, r.Info.FileCount); // dir-link not followed: sub/f.txt only once

        var dest = Path.Combine(_root, "out");
        DirectoryBackup.Restore(DirectoryBackup.PlanRestore(r.Info.ManifestPath, dest), false, null, CancellationToken.None);
        Assert.Equal("../sub/f.txt", new FileInfo(Path.Combine(dest, "sub", "abs-inside")).LinkTarget);
        Assert.Equal("x", File.ReadAllText(Path.Combine(dest, "sub", "abs-inside")));
        Assert.Equal("sub", new FileInfo(Path.Combine(dest, "dir-link")).LinkTarget);
        Assert.False(File.Exists(Path.Combine(dest, "abs-outside")));
        Assert.Equal("x", File.ReadAllText(Path.Combine(dest, "dir-link", "f.txt")));
    }

    [Theory]
    [InlineData("a", "b", null)]
    [InlineData("x/a", "../b", null)]
    [InlineData("x/a", "../../b", "leading outside the folder")]
    [InlineData("a", "/etc/passwd", "an absolute path")]
    [InlineData("a", "c/..", null)]
    public void ResolveInside_follows_paths_lexically_without_links(string link, string target, string? expected) =>
        Assert.Equal(expected, DirectoryBackup.ResolveInside(link, target, new Dictionary<string, string> { [link] = target }));

    [Fact]
    public void ResolveInside_follows_other_links_the_way_the_OS_would()
    {
        // c -> "." then a -> "c/..": lexically inside, really the folder's parent.
        var links = new Dictionary<string, string> { ["c"] = ".", ["a"] = "c/.." };
        Assert.Equal("leading outside the folder", DirectoryBackup.ResolveInside("a", "c/..", links));
        var loop = new Dictionary<string, string> { ["p"] = "q", ["q"] = "p" };
        Assert.Equal("a loop of symbolic links", DirectoryBackup.ResolveInside("p", "q", loop));
        var deeper = new Dictionary<string, string> { ["l"] = "x/y", ["m"] = "l/.." };
        Assert.Null(DirectoryBackup.ResolveInside("m", "l/..", deeper));
    }

    /// <summary>Writes a crafted tar.gz with a valid manifest, so only the entry rules can refuse it.</summary>
    internal static string Craft(string storeDir, Action<TarWriter> write)
    {
        var dir = Path.Combine(storeDir, "crafted");
        Directory.CreateDirectory(dir);
        var archive = Path.Combine(dir, "crafted_20260101T000000000Z.tar.gz");
        using (var fs = File.Create(archive))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
        using (var tar = new TarWriter(gz, TarEntryFormat.Pax))
            write(tar);
        new BackupManifest
        {
            Kind = BackupKind.Directory, Name = "crafted", Archive = Path.GetFileName(archive), Format = "tar.gz",
            SizeBytes = new FileInfo(archive).Length, Sha256 = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(archive))).ToLowerInvariant(),
            StartTime = DateTime.UtcNow, EndTime = DateTime.UtcNow, FileCount = 1, OpsToolsVersion = "0.1.0",
        }.Write(BackupManifest.ManifestPathFor(archive));
        return archive;
    }

    private static PaxTarEntry FileEntry(string name, string text) =>
        new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(text)) };

    public static TheoryData<string> UnsafeArchives => new() { "dotdot", "absolute", "link-out", "link-abs", "through-link", "hardlink", "link-trick" };

    [Theory]
    [MemberData(nameof(UnsafeArchives))]
    public void Unsafe_archives_are_refused_whole_and_nothing_is_written(string kind)
    {
        var archive = Craft(StoreDir, tar =>
        {
            tar.WriteEntry(FileEntry("ok.txt", "fine"));
            switch (kind)
            {
                case "dotdot": tar.WriteEntry(FileEntry("../evil", "evil")); break;
                case "absolute": tar.WriteEntry(FileEntry(Path.Combine(_root, "evil"), "evil")); break;
                case "link-out": tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "evil") { LinkName = "../../.." }); break;
                case "link-abs": tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "evil") { LinkName = _root }); break;
                case "through-link":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "d") { LinkName = "sub" });
                    tar.WriteEntry(FileEntry("d/evil", "evil"));
                    break;
                case "hardlink": tar.WriteEntry(new PaxTarEntry(TarEntryType.HardLink, "evil") { LinkName = "/etc/passwd" }); break;
                case "link-trick":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "c") { LinkName = "." });
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "evil") { LinkName = "c/.." });
                    break;
            }
        });
        var dest = Path.Combine(_root, "target");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "keep.txt"), "mine");
        var before = Snapshot(_root);
        var e = Assert.Throws<OpsToolsException>(() =>
            DirectoryBackup.Restore(DirectoryBackup.PlanRestore(archive, dest), true, null, CancellationToken.None));
        Assert.Equal("RestoreUnsafeArchive", e.ErrorId);
        Assert.Contains("Nothing was changed", e.Message);
        Assert.Equal(before, Snapshot(_root));
        Assert.False(File.Exists(Path.Combine(_root, "evil")));
    }

    [Theory]
    [InlineData("flip")]
    [InlineData("truncate")]
    public void Damaged_archives_are_refused_before_anything_is_touched(string damage)
    {
        MakeTree();
        var r = DirectoryBackup.Backup(Src, new BackupStore(StoreDir), null, CompressionLevel.Fastest, null, CancellationToken.None);
        var bytes = File.ReadAllBytes(r.Info.Path);
        if (damage == "flip") bytes[bytes.Length / 2] ^= 0x01;
        else bytes = bytes[..(bytes.Length - 100)];
        File.WriteAllBytes(r.Info.Path, bytes);
        var dest = Path.Combine(_root, "target");
        var e = Assert.Throws<OpsToolsException>(() =>
            DirectoryBackup.Restore(DirectoryBackup.PlanRestore(r.Info.Path, dest), true, null, CancellationToken.None));
        Assert.Equal("BackupChecksumMismatch", e.ErrorId);
        Assert.False(Directory.Exists(dest));
        Assert.Empty(Directory.GetDirectories(_root, ".target.*"));
    }

    [Fact]
    public void Ctrl_C_during_a_restore_leaves_the_destination_untouched_and_no_temp_folder()
    {
        MakeTree();
        var r = DirectoryBackup.Backup(Src, new BackupStore(StoreDir), null, CompressionLevel.Fastest, null, CancellationToken.None);
        var dest = Path.Combine(_root, "live");
        Directory.CreateDirectory(dest);
        File.WriteAllText(Path.Combine(dest, "keep.txt"), "keep");
        using var cts = new CancellationTokenSource();
        var e = Assert.Throws<OpsToolsException>(() => DirectoryBackup.Restore(DirectoryBackup.PlanRestore(r.Info.Path, dest), true, p =>
        {
            // Cancel once the checksum pass is through: the new folder exists and extraction begins.
            if (p.Phase == "Verifying" && p.BytesDone == p.BytesTotal) cts.Cancel();
        }, cts.Token));
        Assert.Equal("RestoreCancelled", e.ErrorId);
        Assert.True(cts.IsCancellationRequested);
        Assert.Equal(new[] { "keep.txt" }, Directory.GetFileSystemEntries(dest).Select(Path.GetFileName));
        Assert.Empty(Directory.GetFileSystemEntries(_root, ".live*"));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(_root), e => Path.GetFileName(e).StartsWith("live.pre-restore"));
    }

    [Fact]
    public void An_archive_without_a_manifest_is_refused()
    {
        MakeTree();
        var r = DirectoryBackup.Backup(Src, new BackupStore(StoreDir), null, CompressionLevel.Fastest, null, CancellationToken.None);
        File.Delete(r.Info.ManifestPath);
        var e = Assert.Throws<OpsToolsException>(() => DirectoryBackup.PlanRestore(r.Info.Path, Path.Combine(_root, "t")));
        Assert.Equal("BackupManifestInvalid", e.ErrorId);
    }

    [Fact]
    public void A_file_that_vanishes_during_the_backup_is_skipped_and_listed()
    {
        Directory.CreateDirectory(Src);
        File.WriteAllText(Path.Combine(Src, "a.txt"), "a");
        File.WriteAllText(Path.Combine(Src, "b.txt"), "b");
        var deleted = false;
        var r = DirectoryBackup.Backup(Src, new BackupStore(StoreDir), null, CompressionLevel.Fastest, p =>
        {
            if (!deleted && p.CurrentItem == "a.txt") { File.Delete(Path.Combine(Src, "b.txt")); deleted = true; }
        }, CancellationToken.None);
        Assert.True(deleted);
        Assert.Equal("b.txt: vanished while the backup ran", Assert.Single(r.Skipped));
        Assert.Equal(1, r.Info.FileCount);
    }

    [Fact]
    public void A_file_that_shrinks_while_read_fails_the_backup_and_leaves_nothing()
    {
        Directory.CreateDirectory(Src);
        File.WriteAllText(Path.Combine(Src, "a.txt"), "a");
        File.WriteAllBytes(Path.Combine(Src, "b.bin"), new byte[100_000]);
        var e = Assert.Throws<OpsToolsException>(() => DirectoryBackup.Backup(Src, new BackupStore(StoreDir), null, CompressionLevel.Fastest, p =>
        {
            if (p.CurrentItem == "a.txt") File.WriteAllBytes(Path.Combine(Src, "b.bin"), new byte[10]);
        }, CancellationToken.None));
        Assert.Equal("BackupFailed", e.ErrorId);
        Assert.Contains("changed while it was being read", e.Message);
        Assert.False(Directory.Exists(StoreDir) && Directory.EnumerateFileSystemEntries(StoreDir, "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public void Disk_full_is_recognised_from_the_errno()
    {
        Assert.True(DirectoryBackup.IsDiskFull(new IOException("No space left on device : '/x'", 28)));
        Assert.False(DirectoryBackup.IsDiskFull(new IOException("Permission denied", 13)));
    }
}
