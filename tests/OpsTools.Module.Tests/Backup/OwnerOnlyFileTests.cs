using System.Management.Automation;
using System.Runtime.InteropServices;
using OpsTools.TestKit;
using Xunit.Abstractions;

namespace OpsTools.Module.Tests.Backup;

/// <summary>
/// Issue 12, finding 1: every file the backup commands write is owner-only (0600, folders 0700) under the common 0022 umask,
/// and a backup group can be let in with the environment's Backup.FileMode. Checked with stat(2) through .NET's file API,
/// not through the module.
/// </summary>
[Collection("PostgreSQL")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class OwnerOnlyFileTests : IDisposable
{
    [DllImport("libc", EntryPoint = "umask")]
    private static extern uint Umask(uint mask);

    private readonly PgClusterFixture _fixture;
    private readonly ITestOutputHelper _log;
    private readonly string _root = Directory.CreateTempSubdirectory("opstools-mode-").FullName;
    private readonly List<string> _databases = new();
    private readonly uint _previousUmask;

    public OwnerOnlyFileTests(PgClusterFixture fixture, ITestOutputHelper log)
    {
        _fixture = fixture;
        _log = log;
        _previousUmask = Umask(0x12); // 0022: files 0644 and folders 0755 unless the program asks for less
    }

    private PgCluster Pg => _fixture.Cluster;

    public void Dispose()
    {
        Umask(_previousUmask);
        foreach (var db in _databases) Pg.DropDatabase(db);
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private static string Q(string s) => "'" + s.Replace("'", "''") + "'";
    private static string Mode(string path) => Convert.ToString((int)File.GetUnixFileMode(path), 8);
    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    private string Database()
    {
        var db = Pg.CreateDatabase("mode");
        _databases.Add(db);
        using var c = Pg.Open(db);
        using var cmd = new Npgsql.NpgsqlCommand("CREATE TABLE t(id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'secret ' || g FROM generate_series(1, 500) g", c);
        cmd.ExecuteNonQuery();
        return db;
    }

    [Fact]
    public void Backups_manifests_and_the_folders_they_create_are_owner_only_under_a_0022_umask()
    {
        var db = Database();
        var store = Path.Combine(_root, "new-store"); // does not exist yet: the command creates it
        var src = Path.Combine(_root, "uploads");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "a.txt"), "hello");
        File.SetUnixFileMode(Path.Combine(src, "a.txt"), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        using var s = new ModuleSession();
        var r = s.Run(Pg.PowerShellSetup(db) + $"; Backup-Database @Pg -Path {Q(store)}; Backup-Database @Pg -Path {Q(store)} -Format Directory; Backup-Directory -Path {Q(src)} -Store {Q(store)}");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(3, r.Output.Count);

        Assert.Equal("700", Mode(store));
        Assert.Equal("700", Mode(Path.Combine(store, db)));
        Assert.Equal("700", Mode(Path.Combine(store, "uploads")));
        foreach (var b in r.Output)
        {
            var archive = (string)P(b, "Path")!;
            var manifest = (string)P(b, "ManifestPath")!;
            _log.WriteLine($"{Mode(archive)} {archive}");
            Assert.Equal("600", Mode(manifest));
            if (Directory.Exists(archive))
            {
                Assert.Equal("700", Mode(archive));
                foreach (var f in Directory.GetFiles(archive, "*", SearchOption.AllDirectories)) Assert.Equal("600", Mode(f));
            }
            else Assert.Equal("600", Mode(archive));
        }

        // Test-Backup rewrites the manifest (temp file + rename): it stays owner-only.
        var t = s.Run($"Get-Backup -Path {Q(store)} | Test-Backup -Quick");
        Assert.Empty(t.Errors);
        foreach (var m in Directory.GetFiles(store, "*.manifest.json", SearchOption.AllDirectories)) Assert.Equal("600", Mode(m));
        // Nothing anywhere in the store is readable by others.
        foreach (var e in Directory.GetFileSystemEntries(store, "*", SearchOption.AllDirectories))
            Assert.True((File.GetUnixFileMode(e) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite)) == 0, $"{e} is {Mode(e)}");
    }

    [Fact]
    public void Backup_FileMode_in_the_environment_lets_a_backup_group_read_and_a_mode_for_others_is_refused()
    {
        var store = Path.Combine(_root, "group-store");
        var src = Path.Combine(_root, "shared");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "a.txt"), "hello");
        var env = Path.Combine(_root, "prod.ops.psd1");
        File.WriteAllText(env, $"@{{ Backup = @{{ Path = {Q(store)}; FileMode = '0640' }} }}");
        var bad = Path.Combine(_root, "bad.ops.psd1");
        File.WriteAllText(bad, $"@{{ Backup = @{{ Path = {Q(store)}; FileMode = '0644' }} }}");

        using var s = new ModuleSession();
        var r = s.Run($"Backup-Directory -Path {Q(src)} -Environment {Q(env)}");
        Assert.Empty(r.Errors);
        var b = Assert.Single(r.Output);
        Assert.Equal("640", Mode((string)P(b, "Path")!));
        Assert.Equal("640", Mode((string)P(b, "ManifestPath")!));
        Assert.Equal("750", Mode(Path.Combine(store, "shared")));

        var e = s.Run($"Get-OpsEnvironment -Path {Q(bad)}");
        var error = e.Terminating as IContainsErrorRecord is { } c ? c.ErrorRecord : Assert.Single(e.Errors);
        Assert.Contains("bad.ops.psd1", error.Exception.Message);
        Assert.Contains("Backup.FileMode", error.Exception.Message);
        Assert.Contains("0640", error.Exception.Message);
    }
}
