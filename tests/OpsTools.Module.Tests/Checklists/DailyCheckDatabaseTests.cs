using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Checklists;

/// <summary>The daily check's database step against the real test cluster.</summary>
[Collection("PostgreSQL")]
public sealed class DailyCheckDatabaseTests(PgClusterFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-dailydb-").FullName;

    private static string Str(PSObject o, string p) => o.Properties[p]?.Value?.ToString() ?? "";

    [Fact]
    public void Databases_of_the_environment_are_checked_and_an_unreachable_one_fails_the_run()
    {
        var pg = fixture.Cluster;
        var db = pg.CreateDatabase();
        try
        {
            var path = Path.Combine(_dir, "db.ops.psd1");
            File.WriteAllText(path, $$"""
                @{
                    Name      = 'dbdaily'
                    Databases = @(
                        @{ Name = 'app'; Server = '{{pg.Host}}'; Port = {{pg.Port}}; Database = '{{db}}'; User = '{{pg.User}}'; PasswordVariable = 'OPSTOOLS_TEST_DAILY_PW' }
                        @{ Name = 'gone'; Server = '127.0.0.1'; Port = {{HealthServer.FreePort()}}; Database = 'x'; User = 'x'; PasswordVariable = 'OPSTOOLS_TEST_DAILY_PW' }
                    )
                }
                """);
            using var s = new ModuleSession();
            var r = s.Run($"$env:OPSTOOLS_TEST_DAILY_PW = '{pg.Password}'; try {{ Invoke-DailyCheck -Environment '{path}' -Skip Disk, Memory -FailOn Critical }} finally {{ $env:OPSTOOLS_TEST_DAILY_PW = $null }}");

            var app = r.Output.Where(o => Str(o, "Instance") == "app").ToList();
            Assert.Equal("Healthy", Str(Assert.Single(app, o => Str(o, "Check") == "Reachable"), "Status"));
            Assert.Single(app, o => Str(o, "Check") == "Connections");
            Assert.Single(app, o => Str(o, "Check") == "TransactionIdWraparound");
            Assert.All(app, o => Assert.Equal("dbdaily", Str(o, "Environment")));
            var gone = Assert.Single(r.Output, o => Str(o, "Instance") == "gone");
            Assert.Equal("Critical", Str(gone, "Status"));
            Assert.Contains("refused", Str(gone, "Message"));

            var error = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
            Assert.Equal("DailyCheckFailed", error.FullyQualifiedErrorId.Split(',')[0]);
            Assert.DoesNotContain(pg.Password, string.Join("\n", r.Output.Select(o => Str(o, "Message"))) + error.Exception.Message + s.Host.Text);
        }
        finally { pg.DropDatabase(db); }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
