using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using Npgsql;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.PgBouncer;

/// <summary>The PgBouncer commands against a real pgbouncer 1.18 in front of the test PostgreSQL; state checked with psql.</summary>
[Collection("PostgreSQL")]
public class PgBouncerTests
{
    private readonly PgCluster _pg;
    public PgBouncerTests(PgClusterFixture fixture) => _pg = fixture.Cluster;

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    /// <summary>The error a run ended with: a statement-terminating error lands in the error stream of a script.</summary>
    private static ErrorRecord Failure(RunResult r) =>
        (r.Terminating as RuntimeException)?.ErrorRecord ?? Assert.Single(r.Errors);

    private static string Setup(TestKit.PgBouncer b, string? user = null, string? password = null) =>
        $"$Bouncer = @{{ Server = '127.0.0.1'; Port = {b.Port}; Credential = [pscredential]::new('{user ?? b.AdminUser}', [System.Net.NetworkCredential]::new('', '{password ?? b.AdminPassword}').SecurePassword); TimeoutSec = 10 }}";

    [Fact]
    public void A_pool_of_2_with_5_clients_waiting_is_exhausted_as_SHOW_POOLS_in_psql_says()
    {
        using var bouncer = TestKit.PgBouncer.Start(_pg, poolSize: 2);
        var clients = Enumerable.Range(0, 7).Select(_ => bouncer.StartClient("SELECT pg_sleep(60)")).ToList();
        try
        {
            var until = DateTime.UtcNow.AddSeconds(20);
            Dictionary<string, string> row;
            do { Thread.Sleep(200); row = bouncer.PoolRow(); } while (row["cl_waiting"] != "5" && DateTime.UtcNow < until);
            Assert.Equal("5", row["cl_waiting"]);
            Thread.Sleep(1200); // the oldest waiter has waited over a second
            using var s = new ModuleSession();
            s.Invoke(Setup(bouncer));
            var pools = s.Invoke("Get-PgBouncerPool @Bouncer -MaxWaitCriticalSeconds 1");
            var pool = Assert.Single(pools); // the admin console's own pool is left out
            Assert.Equal("appdb", P(pool, "Database"));
            Assert.Equal(5L, P(pool, "ClientsWaiting"));
            Assert.Equal(2L, P(pool, "ClientsActive"));
            Assert.Equal(2L, P(pool, "PoolSize"));
            Assert.Equal(2L, P(pool, "ServersOpen"));
            Assert.True((double)P(pool, "MaxWaitSeconds")! >= 1);
            Assert.Equal("Critical", pool.Properties["Status"].Value.ToString());
            Assert.Contains("pool exhausted", (string)P(pool, "Message")!);
            // Waiting clients under the critical wait are a warning; the table says why.
            Assert.Equal("Warning", s.Invoke("Get-PgBouncerPool @Bouncer appdb -MaxWaitCriticalSeconds 3600")[0].Properties["Status"].Value.ToString());
            s.Host.ClearText();
            s.Invoke("Get-PgBouncerPool @Bouncer | Out-Default");
            var table = s.Host.Text;
            Assert.Contains("appdb/postgres", table);
            Assert.Contains("waiting clients", table);

            var clientsSeen = s.Invoke("Get-PgBouncerInfo @Bouncer -Show Clients").Where(c => (string)P(c, "database")! == "appdb").ToList();
            Assert.Equal(7, clientsSeen.Count);
            Assert.Equal(5, clientsSeen.Count(c => (string)P(c, "state")! == "waiting"));
            Assert.Equal(bouncer.Psql("SHOW CLIENTS").Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => l.Contains("|appdb|")), clientsSeen.Count);
        }
        finally
        {
            foreach (var c in clients) { try { c.Kill(); } catch (InvalidOperationException) { } c.Dispose(); }
        }
    }

    [Fact]
    public void SHOW_lists_come_back_as_objects_with_numbers_where_the_console_has_numbers()
    {
        using var bouncer = TestKit.PgBouncer.Start(_pg, poolSize: 3);
        using (var client = bouncer.StartClient("SELECT 1")) Assert.True(client.WaitForExit(30000)); // stats and pools appear once a client used the database
        using var s = new ModuleSession();
        s.Invoke(Setup(bouncer));
        var config = s.Invoke("Get-PgBouncerInfo @Bouncer -Show Config");
        Assert.Equal("3", P(config.Single(c => (string)P(c, "key")! == "default_pool_size"), "value")!.ToString());
        var stats = s.Invoke("Get-PgBouncerInfo @Bouncer Stats");
        Assert.IsType<long>(P(stats.Single(x => (string)P(x, "database")! == "appdb"), "total_query_count"));
        var databases = s.Invoke("Get-PgBouncerInfo @Bouncer -Show Databases");
        Assert.Equal(3L, P(databases.Single(d => (string)P(d, "name")! == "appdb"), "pool_size"));
        Assert.Contains("OpsTools.PgBouncer.Databases", databases[0].TypeNames);
        s.Invoke("Get-PgBouncerInfo @Bouncer -Show Servers | Out-Default");
        Assert.NotEmpty(s.Invoke("Get-PgBouncerInfo @Bouncer -Show Version"));
    }

    [Fact]
    public void PAUSE_RESUME_RECONNECT_and_RELOAD_go_through_ShouldProcess_and_WhatIf_sends_nothing()
    {
        using var bouncer = TestKit.PgBouncer.Start(_pg);
        using var s = new ModuleSession();
        s.Invoke(Setup(bouncer));
        var idle = Assert.Single(s.Invoke("Get-PgBouncerPool @Bouncer")); // configured, no client yet: an empty pool
        Assert.Equal("Healthy", idle.Properties["Status"].Value.ToString());
        Assert.Equal(2L, P(idle, "PoolSize"));
        string Paused() => bouncer.Psql("SHOW DATABASES").Split('\n').First(l => l.StartsWith("appdb|", StringComparison.Ordinal)).Split('|')[^2];
        Assert.Empty(s.Invoke("Invoke-PgBouncerCommand @Bouncer Pause appdb -WhatIf"));
        Assert.Equal("0", Paused());
        s.Host.ChoiceAnswer = 2; // No
        Assert.Empty(s.Run("Invoke-PgBouncerCommand @Bouncer Pause appdb").Output);
        Assert.Contains(s.Host.Prompts, p => p.Contains("PAUSE appdb"));
        Assert.Equal("0", Paused());
        var paused = s.Invoke("Invoke-PgBouncerCommand @Bouncer Pause appdb -Force")[0];
        Assert.Equal("PAUSE", P(paused, "Answer"));
        Assert.Equal("1", Paused());
        Assert.Equal("RESUME", P(s.Invoke("Get-PgBouncerPool @Bouncer | Invoke-PgBouncerCommand @Bouncer -Command Resume -Confirm:$false")[0], "Answer"));
        Assert.Equal("0", Paused());
        Assert.Equal("RECONNECT", P(s.Invoke("Invoke-PgBouncerCommand @Bouncer Reconnect -Force")[0], "Answer"));
        Assert.Equal("RELOAD", P(s.Invoke("Invoke-PgBouncerCommand @Bouncer Reload -Force")[0], "Answer"));
    }

    [Fact]
    public void A_user_the_admin_console_refuses_and_a_wrong_password_are_clear_errors_that_never_show_the_password()
    {
        using var bouncer = TestKit.PgBouncer.Start(_pg);
        using var s = new ModuleSession();
        s.Invoke(Setup(bouncer, bouncer.PlainUser));
        var refused = Failure(s.Run("Get-PgBouncerPool @Bouncer"));
        Assert.Equal("PgBouncerAuthenticationFailed", refused.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("admin_users", refused.Exception.Message);

        s.Invoke(Setup(bouncer, bouncer.AdminUser, "not-the-pw-8812"));
        var wrongRun = s.Run("Get-PgBouncerInfo @Bouncer -Show Pools -Verbose");
        var wrong = Failure(wrongRun);
        Assert.Equal("PgBouncerAuthenticationFailed", wrong.FullyQualifiedErrorId.Split(',')[0]);
        Assert.DoesNotContain("not-the-pw-8812", wrong.Exception.Message + string.Join("\n", wrongRun.Verbose) + s.Host.Text);

        // The stats user may read but not act.
        s.Invoke(Setup(bouncer, bouncer.StatsUser));
        Assert.NotEmpty(s.Invoke("Get-PgBouncerInfo @Bouncer -Show Stats"));
        var act = Failure(s.Run("Invoke-PgBouncerCommand @Bouncer Reload -Force"));
        Assert.Equal("PgBouncerCommandFailed", act.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("admin access needed", act.Exception.Message);

        var nobody = Failure(s.Run($"Get-PgBouncerPool -Server 127.0.0.1 -Port {HealthServer.FreePort()} -TimeoutSec 2"));
        Assert.Equal("PgBouncerUnreachable", nobody.FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Npgsql_cannot_run_SHOW_on_the_admin_console_which_is_why_OpsTools_speaks_the_simple_query_protocol_itself()
    {
        using var bouncer = TestKit.PgBouncer.Start(_pg);
        var cs = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1", Port = bouncer.Port, Username = bouncer.AdminUser, Password = bouncer.AdminPassword, Database = "pgbouncer",
            Pooling = false, ServerCompatibilityMode = ServerCompatibilityMode.NoTypeLoading, Timeout = 5,
        }.ConnectionString;
        var failure = Record.Exception(() =>
        {
            using var c = new NpgsqlConnection(cs);
            c.Open();
            using var cmd = new NpgsqlCommand("SHOW POOLS", c);
            using var r = cmd.ExecuteReader();
            while (r.Read()) { }
        });
        Assert.NotNull(failure);
        Assert.Contains("appdb", bouncer.Psql("SHOW DATABASES")); // psql, which uses the simple protocol, is answered
    }
}
