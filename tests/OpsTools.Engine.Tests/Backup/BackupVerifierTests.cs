using System.Formats.Tar;
using System.IO.Compression;
using System.Security;
using System.Security.Cryptography;
using OpsTools.Backup;
using OpsTools.Engine.Backup;
using OpsTools.Engine.Database;

namespace OpsTools.Engine.Tests.Backup;

/// <summary>The parts of Test-Backup's engine that need no server: hashing, --list parsing, names, the child's environment, folder backups.</summary>
public sealed class BackupVerifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-verify-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task A_folder_hashes_as_the_sha256sum_listing_of_its_files_in_ordinal_order_of_their_names()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_dir, "x.dir")).FullName;
        File.WriteAllText(Path.Combine(folder, "toc.dat"), "TOC");
        File.WriteAllText(Path.Combine(folder, "3001.dat.gz"), "three");
        File.WriteAllText(Path.Combine(folder, "B.dat"), "upper");
        string H(string text) => Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text))).ToLowerInvariant();
        // "3001..." < "B.dat" < "toc.dat"; what `sha256sum FILES | sha256sum` gives.
        var expected = H($"{H("three")}  3001.dat.gz\n{H("upper")}  B.dat\n{H("TOC")}  toc.dat\n");
        long seen = 0;
        var d = await BackupHashing.HashDirectoryAsync(folder, b => seen = b, CancellationToken.None);
        var (sha, bytes) = (d.Sha256, d.SizeBytes);
        Assert.Equal(expected, sha);
        Assert.Equal(13, bytes);
        Assert.Equal(13, seen);
        Assert.Equal(13, BackupHashing.SizeOf(folder));
        var fd = await BackupHashing.HashFileAsync(Path.Combine(folder, "toc.dat"), null, CancellationToken.None);
        var (fileSha, fileBytes) = (fd.Sha256, fd.SizeBytes);
        Assert.Equal(Convert.ToHexString(SHA256.HashData("TOC"u8.ToArray())).ToLowerInvariant(), fileSha);
        Assert.Equal(3, fileBytes);
    }

    [Fact]
    public void Table_data_entries_are_read_from_pg_restore_list_with_odd_names()
    {
        var lines = new[]
        {
            ";",
            "; Archive created at 2026-11-24 06:43:14 UTC",
            ";     dbname: bk \"quoted\" db",
            "215; 1259 16390 TABLE public orders postgres",
            "3340; 0 16386 TABLE DATA public customers postgres",
            "3341; 0 16391 TABLE DATA Sales Dept my \"odd\" table postgres",
            "3342; 0 16395 TABLE DATA public dots.in.name postgres",
            "3343; 0 16399 TABLE DATA public noowner ",
            "3344; 0 0 SEQUENCE SET public customers_id_seq postgres",
        };
        var entries = BackupVerifier.TableDataEntries(lines);
        Assert.Equal(4, entries.Count);
        Assert.True(BackupVerifier.HasDataEntry(entries, "public.customers"));
        Assert.True(BackupVerifier.HasDataEntry(entries, "Sales Dept.my \"odd\" table"));
        Assert.True(BackupVerifier.HasDataEntry(entries, "public.dots.in.name"));
        Assert.True(BackupVerifier.HasDataEntry(entries, "public.noowner"));
        Assert.False(BackupVerifier.HasDataEntry(entries, "public.orders")); // a TABLE entry, no data
        Assert.False(BackupVerifier.HasDataEntry(entries, "public.custom"));
        Assert.False(BackupVerifier.HasDataEntry(entries, "other.customers"));
    }

    [Fact]
    public void Scratch_names_are_safe_unique_and_fit_in_63_bytes()
    {
        var a = BackupVerifier.ScratchName("bk \"quoted\" db; DROP TABLE x --");
        Assert.Matches("^opstools_drill_bk_quoted_db_drop_table_x_[0-9a-f]{8}$", a);
        Assert.NotEqual(a, BackupVerifier.ScratchName("bk \"quoted\" db; DROP TABLE x --"));
        var long1 = BackupVerifier.ScratchName(new string('n', 200));
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(long1) <= 63, long1);
        Assert.Matches("^opstools_drill_db_[0-9a-f]{8}$", BackupVerifier.ScratchName("\"\"\""));
        Assert.Matches("^opstools_drill_caf_[0-9a-f]{8}$", BackupVerifier.ScratchName("Café"));
    }

    [Fact]
    public void A_restore_that_failed_on_the_roles_rights_is_told_apart_from_a_bad_archive()
    {
        Assert.True(BackupVerifier.LacksPrivilege(new[] { "pg_restore: error: could not execute query: ERROR:  permission denied to create extension \"pg_stat_statements\"" }));
        Assert.True(BackupVerifier.LacksPrivilege(new[] { "pg_restore: error: could not execute query: ERROR:  must be owner of extension plpgsql" }));
        Assert.False(BackupVerifier.LacksPrivilege(new[] { "pg_restore: error: could not read from input file: end of file" }));
        Assert.False(BackupVerifier.LacksPrivilege(new[] { "pg_restore: error: could not execute query: ERROR:  invalid input syntax for type integer" }));
    }

    [Theory]
    [InlineData("15.10", 15)]
    [InlineData("16beta1", 16)]
    [InlineData("9.6.24", 9)]
    [InlineData("15.4 (Debian 15.4-1)", 15)]
    [InlineData("", null)]
    [InlineData(null, null)]
    public void Major_versions_come_from_the_version_text(string? text, int? major) => Assert.Equal(major, BackupVerifier.MajorOf(text));

    [Fact]
    public void The_child_environment_carries_the_password_and_clears_what_could_redirect_it()
    {
        var pw = new SecureString();
        foreach (var c in "s3cret") pw.AppendChar(c);
        var t = PgTargetResolver.Resolve(new PgTargetSpec { Server = "db1", Port = 6543, User = "ops", Database = "postgres", Password = pw, SslMode = "require" },
            name => name == "PGDATABASE" ? "elsewhere" : null, _dir);
        var env = BackupVerifier.ChildEnvironment(t);
        Assert.Equal("db1", env["PGHOST"]);
        Assert.Equal("6543", env["PGPORT"]);
        Assert.Equal("ops", env["PGUSER"]);
        Assert.Equal("s3cret", env["PGPASSWORD"]);
        Assert.Equal("require", env["PGSSLMODE"]);
        Assert.Null(env["PGDATABASE"]);
        Assert.Null(env["PGSERVICE"]);
    }

    private (string Archive, string Manifest) FolderBackup()
    {
        var group = Directory.CreateDirectory(Path.Combine(_dir, "uploads")).FullName;
        var src = Directory.CreateDirectory(Path.Combine(_dir, "src")).FullName;
        for (var i = 0; i < 20; i++) File.WriteAllBytes(Path.Combine(src, $"f{i}.bin"), RandomNumberGenerator.GetBytes(4096));
        var archive = Path.Combine(group, "uploads_20261124T032000456Z.tar.gz");
        using (var fs = File.Create(archive))
        using (var gz = new GZipStream(fs, CompressionLevel.Fastest))
            TarFile.CreateFromDirectory(src, gz, includeBaseDirectory: false);
        var m = new BackupManifest
        {
            Kind = BackupKind.Directory, Name = "uploads", Archive = Path.GetFileName(archive), Format = "tar.gz",
            SizeBytes = new FileInfo(archive).Length, Sha256 = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(archive))).ToLowerInvariant(),
            StartTime = DateTime.UtcNow.AddMinutes(-1), EndTime = DateTime.UtcNow, FileCount = 20,
        };
        var manifest = BackupManifest.ManifestPathFor(archive);
        m.Write(manifest);
        return (archive, manifest);
    }

    [Fact]
    public async Task A_folder_backup_is_checked_by_checksum_and_read_to_its_end()
    {
        var (archive, manifest) = FolderBackup();
        var ok = await BackupVerifier.TestAsync(new BackupTestRequest { Path = archive, Mode = BackupTestMode.Drill }, null, null, CancellationToken.None);
        Assert.Equal(CheckStatus.Healthy, ok.Result.Status);
        Assert.Equal(BackupTestMode.Quick, ok.Result.Mode);
        Assert.True(ok.Result.ArchiveReadable);
        Assert.Equal(BackupVerification.ChecksumVerified, BackupManifest.Read(manifest).Verification);
        Assert.Equal(BackupVerification.ChecksumVerified, ok.Info!.Verification);
        Assert.Equal("uploads/20261124T032000456Z".Length, ok.Info.Id.Length);

        // Cut short, with the manifest "fixed" to match: the checksum passes, reading it does not.
        using (var fs = new FileStream(archive, FileMode.Open)) fs.SetLength(fs.Length - 3000);
        var m = BackupManifest.Read(manifest);
        m.SizeBytes = new FileInfo(archive).Length;
        m.Sha256 = Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(archive))).ToLowerInvariant();
        m.Write(manifest);
        var bad = await BackupVerifier.TestAsync(new BackupTestRequest { Path = manifest, Mode = BackupTestMode.Quick }, null, null, CancellationToken.None);
        Assert.Equal(CheckStatus.Critical, bad.Result.Status);
        Assert.True(bad.Result.ChecksumOk);
        Assert.False(bad.Result.ArchiveReadable);
        Assert.Contains("tar.gz cannot be read", bad.Result.Message);
        Assert.Equal(BackupVerification.Failed, BackupManifest.Read(manifest).Verification);
    }

    [Fact]
    public async Task A_manifest_that_describes_another_archive_fails()
    {
        var (archive, manifest) = FolderBackup();
        var copy = Path.Combine(Path.GetDirectoryName(archive)!, "uploads_20261125T000000000Z.tar.gz");
        File.Copy(archive, copy);
        File.Copy(manifest, BackupManifest.ManifestPathFor(copy));
        var r = await BackupVerifier.TestAsync(new BackupTestRequest { Path = copy, Mode = BackupTestMode.Quick }, null, null, CancellationToken.None);
        Assert.Equal(CheckStatus.Critical, r.Result.Status);
        Assert.Contains("describes the archive 'uploads_20261124T032000456Z.tar.gz'", r.Result.Message);
    }
}
