using System.Management.Automation;
using Npgsql;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Database;

/// <summary>Get-DbHealth, Get-DbConnection and Stop-DbConnection against the throwaway cluster, with sessions the tests hold open.</summary>
[Collection("PostgreSQL")]
public sealed class DbConnectionTests(PgClusterFixture fixture)
{
    private PgCluster Pg => fixture.Cluster;

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    private NpgsqlConnection OpenAs(string db, string application)
    {
        var b = new NpgsqlConnectionStringBuilder(Pg.ConnectionString(db)) { ApplicationName = application };
        var c = new NpgsqlConnection(b.ConnectionString);
        c.Open();
        return c;
    }

    private static void Exec(NpgsqlConnection c, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    private bool Alive(int pid) => Pg.Scalar<long>($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}") == 1;

    private static void WaitUntil(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what);
            Thread.Sleep(25);
        }
    }

    [Fact]
    public void Health_reports_every_check_with_the_sessions_held_open()
    {
        var db = Pg.CreateDatabase();
        var held = Enumerable.Range(0, 3).Select(_ => Pg.Open(db)).ToList();
        try
        {
            using var s = new ModuleSession();
            var results = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbHealth @Pg");
            var byCheck = results.ToDictionary(r => (string)P(r, "Check")!);
            Assert.Equal(new[] { "Reachable", "ServerVersion", "Uptime", "Connections", "Replication", "TransactionIdWraparound" }, results.Select(r => (string)P(r, "Check")!));
            Assert.All(results, r =>
            {
                Assert.Equal("OpsTools.Database.DbHealthResult", r.BaseObject.GetType().FullName);
                Assert.Equal("Healthy", P(r, "Status")!.ToString());
                Assert.Equal("Database", P(r, "Area"));
                Assert.Equal(db, P(r, "Database"));
                Assert.Equal(Pg.Port, P(r, "Port"));
                Assert.StartsWith("pg-", (string)P(r, "ConnectionId")!);
            });
            Assert.Equal("accepting connections", P(byCheck["Reachable"], "Ready"));
            Assert.StartsWith(Pg.MajorVersion + ".", (string)P(byCheck["ServerVersion"], "Value")!);
            Assert.True((TimeSpan)P(byCheck["Uptime"], "Uptime")! > TimeSpan.Zero);
            var connections = (int)P(byCheck["Connections"], "Connections")!;
            Assert.InRange(connections, 4, 60); // the three held here and the command's own
            Assert.Equal(60, P(byCheck["Connections"], "MaxConnections"));
            Assert.Equal(3, P(byCheck["Connections"], "ReservedConnections"));
            Assert.Equal(Math.Round(connections * 100.0 / 57, 1), (double)P(byCheck["Connections"], "UsedPercent")!);
            Assert.Contains("no replicas", (string)P(byCheck["Replication"], "Message")!);
            Assert.Equal("primary", P(byCheck["Replication"], "Role"));
            Assert.True((long)P(byCheck["TransactionIdWraparound"], "TransactionIdAge")! > 0);

            // A threshold below what is in use makes it a warning; one check only.
            var warn = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbHealth @Pg -Check Connections -ConnectionWarningPercent 1").Single();
            Assert.Equal("Warning", P(warn, "Status")!.ToString());
            Assert.Equal("warn > 1%; critical > 90%", P(warn, "Threshold"));
            var crit = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbHealth @Pg -Check Connections, TransactionIdWraparound -ConnectionWarningPercent 1 -ConnectionCriticalPercent 2 -WraparoundWarning 0 -WraparoundCritical 1");
            Assert.Equal(new[] { "Critical", "Critical" }, crit.Select(r => P(r, "Status")!.ToString()));
            var bad = s.Run(Pg.PowerShellSetup(db) + "; Get-DbHealth @Pg -ConnectionWarningPercent 50 -ConnectionCriticalPercent 40");
            Assert.Equal("InvalidThresholds", Assert.Single(bad.Errors).FullyQualifiedErrorId.Split(',')[0]);
        }
        finally
        {
            held.ForEach(c => c.Dispose());
            Pg.DropDatabase(db);
        }
    }

    [Fact]
    public void Health_runs_over_every_database_of_an_environment_with_its_thresholds_and_parameters_win()
    {
        var db1 = Pg.CreateDatabase();
        var db2 = Pg.CreateDatabase();
        var dir = Directory.CreateTempSubdirectory("opstools-env-").FullName;
        var variable = "OPSTOOLS_TEST_DBPW_" + Guid.NewGuid().ToString("N")[..6];
        System.Environment.SetEnvironmentVariable(variable, Pg.Password);
        try
        {
            var file = Path.Combine(dir, "t.ops.psd1");
            File.WriteAllText(file, $$"""
                @{
                    Name = 'dbtest'
                    Databases = @(
                        @{ Name = 'one'; Server = '{{Pg.Host}}'; Port = {{Pg.Port}}; Database = '{{db1}}'; User = '{{Pg.User}}'; PasswordVariable = '{{variable}}' }
                        @{ Name = 'two'; Server = '{{Pg.Host}}'; Port = {{Pg.Port}}; Database = '{{db2}}'; User = '{{Pg.User}}'; PasswordVariable = '{{variable}}' }
                    )
                    Thresholds = @{ DbConnectionsWarningPercent = 0.5; DbConnectionsCriticalPercent = 95 }
                }
                """);
            using var s = new ModuleSession();
            var results = s.Invoke($"Get-DbHealth -Environment '{file}' -Check Reachable, Connections");
            Assert.Equal(new[] { "one", "one", "two", "two" }, results.Select(r => (string)P(r, "Instance")!));
            Assert.All(results, r => Assert.Equal("dbtest", P(r, "Environment")));
            Assert.All(results.Where(r => (string)P(r, "Check")! == "Connections"), r => Assert.Equal("Warning", P(r, "Status")!.ToString()));
            var overridden = s.Invoke($"Get-DbHealth -Environment '{file}' -Instance two -Check Connections -ConnectionWarningPercent 80").Single();
            Assert.Equal("Healthy", P(overridden, "Status")!.ToString());
            Assert.Equal("warn > 80%; critical > 95%", P(overridden, "Threshold"));
        }
        finally
        {
            System.Environment.SetEnvironmentVariable(variable, null);
            Directory.Delete(dir, true);
            Pg.DropDatabase(db1);
            Pg.DropDatabase(db2);
        }
    }

    [Fact]
    public void Health_of_unreachable_wrong_password_and_unknown_database_are_critical_results_not_errors()
    {
        var db = Pg.CreateDatabase();
        try
        {
            using var s = new ModuleSession();
            var freePort = HealthServer.FreePort();
            var refused = s.Run(Pg.PowerShellSetup(db) + $"; Get-DbHealth @Pg -Port {freePort} -TimeoutSec 5");
            Assert.Empty(refused.Errors);
            var r = Assert.Single(refused.Output);
            Assert.Equal(("Reachable", "Critical", "no response", "DbConnectionRefused"),
                ((string)P(r, "Check")!, P(r, "Status")!.ToString(), (string)P(r, "Ready")!, (string)P(r, "ErrorId")!));
            Assert.Contains("connection refused", (string)P(r, "Message")!);

            const string wrong = "Wr0ng-Secret-Pw";
            var auth = s.Run($"$ss = [System.Security.SecureString]::new(); foreach ($ch in '{wrong}'.ToCharArray()) {{ $ss.AppendChar($ch) }}; " +
                             $"Get-DbHealth -Server {Pg.Host} -Port {Pg.Port} -Database {db} -Credential ([pscredential]::new('postgres', $ss)) -Verbose");
            Assert.Empty(auth.Errors);
            var a = Assert.Single(auth.Output);
            Assert.Equal("Critical", P(a, "Status")!.ToString());
            Assert.Equal("accepting connections", P(a, "Ready"));
            Assert.Contains("authentication failed", (string)P(a, "Message")!);
            var everything = string.Join("\n", auth.Output.SelectMany(o => o.Properties.Select(p => p.Value?.ToString())).Concat(auth.Verbose).Concat(auth.Warnings));
            Assert.DoesNotContain(wrong, everything);
            Assert.DoesNotContain(Pg.Password, everything);

            var unknown = s.Run(Pg.PowerShellSetup("no_such_db_here") + "; Get-DbHealth @Pg");
            Assert.Empty(unknown.Errors);
            var u = Assert.Single(unknown.Output);
            Assert.Equal("Critical", P(u, "Status")!.ToString());
            Assert.Contains("database 'no_such_db_here' does not exist", (string)P(u, "Message")!);
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public void Connections_list_idle_and_idle_in_transaction_sessions_with_filters_and_summary()
    {
        var db = Pg.CreateDatabase();
        using var idle = OpenAs(db, "held-idle");
        using var inTx = OpenAs(db, "held-tx");
        try
        {
            Exec(idle, "SELECT 1");
            Exec(inTx, "BEGIN; SELECT 2");
            Thread.Sleep(150);
            using var s = new ModuleSession();
            var all = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg");
            PSObject Of(NpgsqlConnection c) => all.Single(o => (int)P(o, "Pid")! == c.ProcessID);
            Assert.Equal("idle", P(Of(idle), "State"));
            Assert.Equal("idle in transaction", P(Of(inTx), "State"));
            Assert.Equal("held-idle", P(Of(idle), "Application"));
            Assert.Equal("SELECT 1", P(Of(idle), "Query"));
            Assert.Equal("postgres", P(Of(idle), "User"));
            Assert.StartsWith("127.0.0.1:", (string)P(Of(idle), "Client")!);
            Assert.Equal("client backend", P(Of(idle), "BackendType"));
            Assert.True((TimeSpan)P(Of(idle), "Duration")! >= TimeSpan.FromMilliseconds(100));
            Assert.NotNull(P(Of(inTx), "TransactionStart"));
            var current = Assert.Single(all, o => (bool)P(o, "IsCurrentSession")!);
            Assert.Equal("active", P(current, "State"));
            Assert.All(all, o => Assert.Equal(db, P(o, "Database")));

            var idleOnly = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg -State idle");
            Assert.Contains(idleOnly, o => (int)P(o, "Pid")! == idle.ProcessID);
            Assert.DoesNotContain(idleOnly, o => (int)P(o, "Pid")! == inTx.ProcessID);
            Assert.All(idleOnly, o => Assert.Equal("idle", P(o, "State")));

            Assert.Empty(s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg -OlderThan 1h"));
            Assert.Empty(s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg -User 'nobody*'"));
            var tx = Assert.Single(s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg -Application 'held-t*' -MinDuration 100ms"));
            Assert.Equal(inTx.ProcessID, P(tx, "Pid"));

            var summary = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg -Summary");
            Assert.All(summary, o => Assert.Equal("OpsTools.Database.DbConnectionSummary", o.BaseObject.GetType().FullName));
            Assert.Equal(1, summary.Where(o => (string?)P(o, "State") == "idle in transaction").Select(o => (int)P(o, "Count")!).Single());
            Assert.True(summary.Where(o => (string?)P(o, "State") == "idle").Select(o => (int)P(o, "Count")!).Single() >= 1);
            Assert.Equal(all.Count, summary.Sum(o => (int)P(o, "Count")!));

            // Without -Database the whole server is listed; -AllDatabases does the same with it.
            var server = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg -AllDatabases -IncludeSystem");
            Assert.Contains(server, o => (string?)P(o, "BackendType") == "checkpointer");
            var bad = s.Run(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg -OlderThan soon");
            Assert.Contains("not a duration", Assert.Single(bad.Errors).Exception.Message);
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public void Stop_by_filter_terminates_exactly_the_idle_session_and_WhatIf_nothing()
    {
        var db = Pg.CreateDatabase();
        using var idle = OpenAs(db, "held-idle");
        using var inTx = OpenAs(db, "held-tx");
        try
        {
            Exec(idle, "SELECT 1");
            Exec(inTx, "BEGIN; SELECT 2");
            Thread.Sleep(300);
            using var s = new ModuleSession();

            var whatIf = s.Run(Pg.PowerShellSetup(db) + "; Stop-DbConnection @Pg -State idle -OlderThan 200ms -WhatIf");
            Assert.Empty(whatIf.Errors);
            Assert.Empty(whatIf.Output);
            Assert.True(Alive(idle.ProcessID));

            var missing = s.Run(Pg.PowerShellSetup(db) + "; Stop-DbConnection @Pg -Force");
            Assert.Equal("DbStopFilterMissing", Assert.Single(missing.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains("never stops every session", missing.Errors[0].Exception.Message);

            var stopped = s.Invoke(Pg.PowerShellSetup(db) + "; Stop-DbConnection @Pg -State idle -OlderThan 200ms -Force");
            var r = Assert.Single(stopped);
            Assert.Equal("OpsTools.Database.DbConnectionStopResult", r.BaseObject.GetType().FullName);
            Assert.Equal((idle.ProcessID, "Terminated", true, "idle", "SELECT 1", db), ((int)P(r, "Pid")!, (string)P(r, "Action")!, (bool)P(r, "Succeeded")!, (string)P(r, "State")!, (string)P(r, "Query")!, (string)P(r, "Database")!));
            Assert.False(Alive(idle.ProcessID));
            Assert.True(Alive(inTx.ProcessID));

            // The module's own connections still work afterwards (no terminated connection left in its pool).
            Assert.NotEmpty(s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg"));

            // A pid that has gone meanwhile is a result, not an error.
            var gone = s.Run(Pg.PowerShellSetup(db) + $"; Stop-DbConnection @Pg -Pid {idle.ProcessID} -Force");
            Assert.Empty(gone.Errors);
            var g = Assert.Single(gone.Output);
            Assert.False((bool)P(g, "Succeeded")!);
            Assert.Contains("no longer exists", (string)P(g, "Message")!);
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public void Stop_from_the_pipeline_terminates_the_idle_in_transaction_session_and_never_its_own()
    {
        var db = Pg.CreateDatabase();
        using var idle = OpenAs(db, "held-idle");
        using var inTx = OpenAs(db, "held-tx");
        try
        {
            Exec(idle, "SELECT 1");
            Exec(inTx, "BEGIN; SELECT 2");
            using var s = new ModuleSession();
            var stopped = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg | Where-Object State -eq 'idle in transaction' | Stop-DbConnection -Force");
            var r = Assert.Single(stopped);
            Assert.Equal((inTx.ProcessID, true), ((int)P(r, "Pid")!, (bool)P(r, "Succeeded")!));
            Assert.False(Alive(inTx.ProcessID));
            Assert.True(Alive(idle.ProcessID));

            // Its own session, piped in, is refused with a result.
            var own = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbConnection @Pg | Where-Object IsCurrentSession | Stop-DbConnection -Force");
            var o = Assert.Single(own);
            Assert.False((bool)P(o, "Succeeded")!);
            Assert.Contains("never stopped", (string)P(o, "Message")!);
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public void CancelQueryOnly_cancels_a_running_pg_sleep_and_keeps_the_session()
    {
        var db = Pg.CreateDatabase();
        using var busy = OpenAs(db, "sleeper");
        try
        {
            var sleeping = Task.Run(() => Exec(busy, "SELECT pg_sleep(60)"));
            WaitUntil(() => Pg.Scalar<long>($"SELECT count(*) FROM pg_stat_activity WHERE pid = {busy.ProcessID} AND state = 'active' AND query LIKE '%pg_sleep%'") == 1, "pg_sleep did not start");
            using var s = new ModuleSession();
            var r = s.Invoke(Pg.PowerShellSetup(db) + $"; Stop-DbConnection @Pg -State active -Application sleeper -MinDuration 0s -CancelQueryOnly -Force").Single();
            Assert.Equal((busy.ProcessID, "Cancelled", true), ((int)P(r, "Pid")!, (string)P(r, "Action")!, (bool)P(r, "Succeeded")!));
            var e = Assert.Throws<PostgresException>(() => sleeping.GetAwaiter().GetResult());
            Assert.Equal("57014", e.SqlState);
            Assert.True(Alive(busy.ProcessID));
            using var cmd = new NpgsqlCommand("SELECT 42", busy);
            Assert.Equal(42, (int)cmd.ExecuteScalar()!);
        }
        finally { Pg.DropDatabase(db); }
    }
}
