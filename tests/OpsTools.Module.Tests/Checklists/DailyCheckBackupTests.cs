using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Checklists;

/// <summary>The daily check's "verify backup completion" item against a real store.</summary>
[Collection("PostgreSQL")]
public sealed class DailyCheckBackupTests(PgClusterFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-dailybk-").FullName;

    private static string S(PSObject o, string p) => o.Properties[p]?.Value?.ToString() ?? "";

    private string Env(string db, string maxAge)
    {
        var pg = fixture.Cluster;
        var path = Path.Combine(_dir, "bk.ops.psd1");
        File.WriteAllText(path, $$"""
            @{
                Name      = 'bkdaily'
                Databases = @(@{ Name = 'app'; Server = '{{pg.Host}}'; Port = {{pg.Port}}; Database = '{{db}}'; User = '{{pg.User}}'; PasswordVariable = 'OPSTOOLS_DAILYBK_PW' })
                Backup    = @{ Path = '{{Path.Combine(_dir, "store")}}'; MaxAgeHours = {{maxAge}} }
            }
            """);
        Directory.CreateDirectory(Path.Combine(_dir, "store"));
        return path;
    }

    private PSObject Freshness(ModuleSession s, string env)
    {
        var r = s.Run($"$env:OPSTOOLS_DAILYBK_PW = '{fixture.Cluster.Password}'; try {{ Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory, Database }} finally {{ $env:OPSTOOLS_DAILYBK_PW = $null }}");
        Assert.Empty(r.Errors);
        return Assert.Single(r.Output);
    }

    [Fact]
    public void Missing_untested_tested_and_stale_backups_are_told_apart()
    {
        var pg = fixture.Cluster;
        var db = pg.CreateDatabase("dailybk");
        try
        {
            pg.Exec("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100);", db);
            using var s = new ModuleSession();
            var env = Env(db, "26");

            var none = Freshness(s, env);
            Assert.Equal(("BackupFreshness", "Critical"), (S(none, "Check"), S(none, "Status")));
            Assert.Contains("No backup", S(none, "Message"));

            var pw = $"$env:OPSTOOLS_DAILYBK_PW = '{pg.Password}'; ";
            Assert.Empty(s.Run(pw + $"Backup-Database -Environment '{env}'").Errors);
            var untested = Freshness(s, env);
            Assert.Equal("Warning", S(untested, "Status"));
            Assert.Contains("never been tested", S(untested, "Message"));

            Assert.Empty(s.Run(pw + $"Get-Backup -Environment '{env}' -Latest | Test-Backup -Quick").Errors);
            var good = Freshness(s, env);
            Assert.Equal("Healthy", S(good, "Status"));
            Assert.Contains("ChecksumVerified", S(good, "Message"));

            var stale = Freshness(s, Env(db, "0"));
            Assert.True(S(stale, "Status") == "Critical", S(stale, "Message") + " / " + S(stale, "Value") + " / " + S(stale, "Threshold"));
            Assert.Contains("old (more than", S(stale, "Message"));
        }
        finally { pg.DropDatabase(db); }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
