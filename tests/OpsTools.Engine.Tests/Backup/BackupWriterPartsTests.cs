using System.Security.Cryptography;
using System.Text;
using OpsTools.Engine.Backup;

namespace OpsTools.Engine.Tests.Backup;

/// <summary>The pure parts of Backup-Database: checksums, names, options, error detection.</summary>
public sealed class BackupWriterPartsTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "opstools-hash-" + Guid.NewGuid().ToString("N")[..8]);

    public BackupWriterPartsTests() => Directory.CreateDirectory(_dir);
    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Hex(byte[] b) => Convert.ToHexString(b).ToLowerInvariant();

    [Fact]
    public async Task A_file_hashes_like_sha256sum()
    {
        var f = Path.Combine(_dir, "a.dump");
        var data = Enumerable.Range(0, 3_000_000).Select(i => (byte)(i * 31)).ToArray();
        File.WriteAllBytes(f, data);
        long last = 0;
        var d = await BackupHashing.HashFileAsync(f, n => last = n, CancellationToken.None);
        Assert.Equal(Hex(SHA256.HashData(data)), d.Sha256);
        Assert.Equal(data.Length, d.SizeBytes);
        Assert.Equal(data.Length, last);
        Assert.Equal(d, await BackupHashing.HashArchiveAsync(f, null, CancellationToken.None));
    }

    [Fact]
    public async Task A_folder_hashes_as_the_sha256sum_listing_of_its_files_in_ordinal_order()
    {
        File.WriteAllText(Path.Combine(_dir, "toc.dat"), "toc");
        File.WriteAllText(Path.Combine(_dir, "3001.dat.gz"), "three");
        File.WriteAllText(Path.Combine(_dir, "B.dat"), "upper");
        Directory.CreateDirectory(Path.Combine(_dir, "sub"));
        File.WriteAllText(Path.Combine(_dir, "sub", "x"), "");
        Assert.Equal(new[] { "3001.dat.gz", "B.dat", "sub/x", "toc.dat" }, BackupHashing.FilesInHashOrder(_dir));

        // What `find . -type f | sed 's|^./||' | LC_ALL=C sort | xargs sha256sum | sha256sum` computes.
        string Line(string content, string name) => Hex(SHA256.HashData(Encoding.UTF8.GetBytes(content))) + "  " + name + "\n";
        var listing = Line("three", "3001.dat.gz") + Line("upper", "B.dat") + Line("", "sub/x") + Line("toc", "toc.dat");
        var d = await BackupHashing.HashDirectoryAsync(_dir, null, CancellationToken.None);
        Assert.Equal(Hex(SHA256.HashData(Encoding.UTF8.GetBytes(listing))), d.Sha256);
        Assert.Equal(3 + 5 + 5, d.SizeBytes);
        Assert.Equal(4, d.FileCount);

        // An extra empty file, a rename or a changed byte all change it.
        File.WriteAllText(Path.Combine(_dir, "empty"), "");
        var withEmpty = await BackupHashing.HashDirectoryAsync(_dir, null, CancellationToken.None);
        Assert.NotEqual(d.Sha256, withEmpty.Sha256);
        File.Delete(Path.Combine(_dir, "empty"));
        File.Move(Path.Combine(_dir, "B.dat"), Path.Combine(_dir, "C.dat"));
        Assert.NotEqual(d.Sha256, (await BackupHashing.HashDirectoryAsync(_dir, null, CancellationToken.None)).Sha256);
        File.Move(Path.Combine(_dir, "C.dat"), Path.Combine(_dir, "B.dat"));
        Assert.Equal(d.Sha256, (await BackupHashing.HashDirectoryAsync(_dir, null, CancellationToken.None)).Sha256);
        File.WriteAllText(Path.Combine(_dir, "B.dat"), "uppeR");
        Assert.NotEqual(d.Sha256, (await BackupHashing.HashDirectoryAsync(_dir, null, CancellationToken.None)).Sha256);
    }

    [Fact]
    public void Archive_names_are_safe_and_temp_names_hidden()
    {
        var store = new BackupStore(_dir);
        var start = new DateTime(2026, 11, 24, 3, 15, 0, 123, DateTimeKind.Utc);
        var final = store.NewArchivePath("bk \"odd\" db's", "custom", start);
        Assert.Equal(Path.Combine(_dir, "bk__odd__db_s", "bk__odd__db_s_20261124T031500123Z.dump"), final);
        Assert.Equal(Path.Combine(_dir, "bk__odd__db_s", ".bk__odd__db_s_20261124T031500123Z.dump.partial"), BackupStore.TempPathFor(final));
        Assert.EndsWith(".dir", store.NewArchivePath("app", "directory", start));
        Assert.Equal("public.my table", DatabaseBackupWriter.TableKey("public", "my table"));
        Assert.Equal("SELECT count(*) FROM ONLY \"we\"\"ird\".\"t; DROP\"", DatabaseBackupWriter.CountSql("we\"ird", "t; DROP"));
    }

    [Theory]
    [InlineData(null, 1, "custom")]
    [InlineData(null, 4, "directory")]
    [InlineData("Directory", 1, "directory")]
    [InlineData("custom", 1, "custom")]
    [InlineData("DIRECTORY", 3, "directory")]
    public void Format_and_jobs(string? format, int jobs, string expected) => Assert.Equal(expected, DatabaseBackupWriter.NormalizeFormat(format, jobs));

    [Theory]
    [InlineData("Custom", 2)]
    [InlineData("tar", 1)]
    [InlineData(null, 0)]
    public void Bad_format_and_jobs_are_refused(string? format, int jobs) =>
        Assert.Equal("BackupInvalidOptions", Assert.Throws<OpsToolsException>(() => DatabaseBackupWriter.NormalizeFormat(format, jobs)).ErrorId);

    [Fact]
    public void Versions_and_tool_errors()
    {
        Assert.Equal(15, DatabaseBackupWriter.MajorOf(150004));
        Assert.Equal(9, DatabaseBackupWriter.MajorOf(90624));
        Assert.True(DatabaseBackupWriter.HasError("pg_dump: error: query failed: ERROR:  permission denied for table t\n"));
        Assert.True(DatabaseBackupWriter.HasError("pg_dump: error: connection to server failed: FATAL:  password authentication failed"));
        Assert.False(DatabaseBackupWriter.HasError("pg_dump: warning: there are circular foreign-key constraints on this table:\n"));
        Assert.False(DatabaseBackupWriter.HasError(""));
        Assert.True(DatabaseBackupWriter.IsDiskFull(new IOException("No space left on device : '/x'", 28)));
        Assert.False(DatabaseBackupWriter.IsDiskFull(new IOException("Permission denied", 13)));
    }
}
