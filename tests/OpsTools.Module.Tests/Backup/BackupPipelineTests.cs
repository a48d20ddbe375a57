using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Backup;

/// <summary>The commands together, as the runbooks read: back up, list, verify.</summary>
[Collection("PostgreSQL")]
public sealed class BackupPipelineTests(PgClusterFixture fixture) : IDisposable
{
    private readonly string _store = Directory.CreateTempSubdirectory("opstools-bkpipe-").FullName;

    private static string S(PSObject o, string p) => o.Properties[p]?.Value?.ToString() ?? "";

    [Fact]
    public void Backups_written_by_Backup_Database_pass_Test_Backup_in_both_formats_and_the_store_says_so()
    {
        var pg = fixture.Cluster;
        var db = pg.CreateDatabase("bkpipe");
        try
        {
            pg.Exec("CREATE TABLE orders (id int PRIMARY KEY, note text); INSERT INTO orders SELECT g, md5(g::text) FROM generate_series(1, 5000) g;", db);
            using var s = new ModuleSession();
            var setup = pg.PowerShellSetup(db) + $"; $store = '{_store}'; ";
            var made = s.Run(setup + "Backup-Database @Pg -Path $store; Backup-Database @Pg -Path $store -Format Directory -Jobs 2");
            Assert.Empty(made.Errors);
            Assert.Equal(new[] { "custom", "directory" }, made.Output.Select(o => S(o, "Format")));

            // The drill server comes from the parameters; the backups from the pipeline.
            var tests = s.Run(setup + $"Get-Backup -Path $store -Database '{db}' | Test-Backup -Server {pg.Host} -Port {pg.Port} -Credential $Cred");
            Assert.Empty(tests.Errors);
            Assert.Equal(2, tests.Output.Count);
            Assert.All(tests.Output, t => Assert.Equal("Healthy", S(t, "Status")));

            var listed = s.Run(setup + $"Get-Backup -Path $store -Database '{db}'");
            Assert.Equal(new[] { "RestoreVerified", "RestoreVerified" }, listed.Output.Select(o => S(o, "Verification")));
            var latest = Assert.Single(s.Run(setup + $"Get-Backup -Path $store -Database '{db}' -Latest").Output);
            Assert.Equal("directory", S(latest, "Format"));
            Assert.Equal(0L, pg.Scalar<long>("SELECT count(*) FROM pg_database WHERE datname LIKE 'opstools_drill_%'"));
        }
        finally { pg.DropDatabase(db); }
    }

    public void Dispose() => Directory.Delete(_store, recursive: true);
}
