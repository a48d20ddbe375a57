using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Checklists;

/// <summary>Invoke-WeeklyMaintenance against the real test cluster.</summary>
[Collection("PostgreSQL")]
public sealed class WeeklyMaintenanceTests(PgClusterFixture fixture) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-weekly-").FullName;

    private static string Str(PSObject o, string p) => o.Properties[p]?.Value?.ToString() ?? "";

    private string Prepare(out string db)
    {
        var pg = fixture.Cluster;
        db = pg.CreateDatabase("weekly");
        pg.Exec("""
            CREATE EXTENSION pg_stat_statements;
            CREATE TABLE orders (id int PRIMARY KEY, customer int, note text);
            INSERT INTO orders SELECT g, g % 100, repeat('x', 50) FROM generate_series(1, 20000) g;
            CREATE INDEX orders_note_unused ON orders (note);
            CREATE TABLE small (id int);
            ANALYZE;
            DELETE FROM orders WHERE id % 2 = 0;
            """, db);
        var path = Path.Combine(_dir, "weekly.ops.psd1");
        File.WriteAllText(path, $$"""
            @{
                Name      = 'weekly'
                Databases = @(
                    @{ Name = 'app'; Server = '{{pg.Host}}'; Port = {{pg.Port}}; Database = '{{db}}'; User = '{{pg.User}}'; PasswordVariable = 'OPSTOOLS_TEST_WEEKLY_PW' }
                    @{ Name = 'gone'; Server = '127.0.0.1'; Port = {{HealthServer.FreePort()}}; Database = 'x'; User = 'x'; PasswordVariable = 'OPSTOOLS_TEST_WEEKLY_PW' }
                )
            }
            """);
        return path;
    }

    private string Wrap(string script) =>
        $"$env:OPSTOOLS_TEST_WEEKLY_PW = '{fixture.Cluster.Password}'; try {{ {script} }} finally {{ $env:OPSTOOLS_TEST_WEEKLY_PW = $null }}";

    [Fact]
    public void Vacuums_exactly_the_bloated_table_and_reports_every_step_for_each_database()
    {
        var pg = fixture.Cluster;
        var path = Prepare(out var db);
        try
        {
            using var s = new ModuleSession();
            var r = s.Run(Wrap($"Invoke-WeeklyMaintenance -Environment '{path}'"));
            Assert.Null(r.Terminating);
            var app = r.Output.Where(o => Str(o, "Environment") == "weekly" && !Str(o, "Target").StartsWith("gone")).ToList();

            // Reported as it is after the vacuum, with what it was before in the message.
            var bloated = Assert.Single(r.Output, o => Str(o, "Check") == "DbVacuum" && Str(o, "Table") == "orders");
            Assert.Equal("Healthy", Str(bloated, "Status"));
            Assert.StartsWith("After VACUUM (ANALYZE):", Str(bloated, "Message"));
            Assert.Contains("Before it: Critical, 10000 dead tuples", Str(bloated, "Message"));
            var vacuumed = Assert.Single(r.Output, o => Str(o, "Check") == "Vacuum");
            Assert.Equal("Healthy", Str(vacuumed, "Status"));
            Assert.EndsWith("public.orders", Str(vacuumed, "Target"));
            Assert.NotNull(pg.Scalar<DateTime?>("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'orders'", db));
            Assert.Null(pg.Scalar<DateTime?>("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'small'", db));

            Assert.Contains(r.Output, o => Str(o, "Check") == "SlowQuery");
            Assert.Contains(r.Output, o => Str(o, "Check") == "TableSize" && Str(o, "Target").Contains("orders"));
            Assert.Contains(r.Output, o => Str(o, "Check") == "IndexAdvice" && Str(o, "Index") == "orders_note_unused");

            // The unreachable database: each step it could not run is one result that says why; nothing hides the others.
            var gone = r.Output.Where(o => Str(o, "Instance") == "gone" || Str(o, "Target") == "weekly").ToList();
            Assert.NotEmpty(gone);
            Assert.All(gone, o => Assert.Contains(Str(o, "Status"), new[] { "Critical", "Unknown" }));
            Assert.Contains(gone, o => Str(o, "Message").Contains("refused"));
        }
        finally { pg.DropDatabase(db); }
    }

    [Fact]
    public void An_orphaned_restore_database_on_the_server_is_one_Warning_and_nothing_is_dropped()
    {
        var pg = fixture.Cluster;
        var path = Prepare(out var db);
        var orphan = db + "_restore_20261130T235959Z";
        var owned = db + "_restore_20261206T120000Z";
        pg.Exec($"CREATE DATABASE \"{orphan}\"");
        pg.Exec($"CREATE DATABASE \"{owned}\"");
        // The owned one: a live session holds its scratch lock, as a running Restore-Backup does.
        var b = new Npgsql.NpgsqlConnectionStringBuilder(pg.ConnectionString("postgres")) { ApplicationName = "OpsTools Restore-Backup (pid 7 on elsewhere)", Pooling = false };
        using var owner = new Npgsql.NpgsqlConnection(b.ConnectionString);
        owner.Open();
        using (var lockCmd = new Npgsql.NpgsqlCommand($"SELECT pg_advisory_lock({0x4F505343}, hashtext('{owned}'))", owner)) lockCmd.ExecuteNonQuery();
        try
        {
            using var s = new ModuleSession();
            var r = s.Run(Wrap($"Invoke-WeeklyMaintenance -Environment '{path}' -Skip VacuumStatus, Vacuum, SlowQueries, TableSizes, IndexAdvice"));
            Assert.Null(r.Terminating);
            var scratch = r.Output.Where(o => Str(o, "Check") == "ScratchDatabase").ToList();
            var warning = Assert.Single(scratch, o => Str(o, "Target") == $"app/{orphan}");
            Assert.Equal("Warning", Str(warning, "Status"));
            Assert.Equal("Backup", Str(warning, "Area"));
            Assert.Contains("Remove-DbScratchDatabase", Str(warning, "Message"));
            Assert.DoesNotContain(scratch, o => Str(o, "Target").Contains(owned));
            Assert.Contains(scratch, o => Str(o, "Target") == "gone" && Str(o, "Status") == "Unknown"); // the unreachable server: one Unknown
            Assert.Equal(1L, pg.Scalar<long>($"SELECT count(*) FROM pg_database WHERE datname = '{orphan}'")); // reported, not dropped
        }
        finally
        {
            owner.Close();
            pg.DropDatabase(orphan);
            pg.DropDatabase(owned);
            pg.DropDatabase(db);
        }
    }

    [Fact]
    public void A_table_the_vacuum_cleaned_counts_as_it_is_after_the_vacuum_so_FailOn_Critical_passes()
    {
        var pg = fixture.Cluster;
        var path = Prepare(out var db);
        try
        {
            using var s = new ModuleSession();
            var r = s.Run(Wrap($"Invoke-WeeklyMaintenance -Environment '{path}' -Instance app -Skip SlowQueries, TableSizes, IndexAdvice -FailOn Critical"));
            Assert.Null(r.Terminating);
            Assert.DoesNotContain(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("WeeklyMaintenanceFailed"));
            Assert.Equal(0L, pg.Scalar<long>("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'orders'", db));

            var orders = Assert.Single(r.Output, o => Str(o, "Check") == "DbVacuum" && Str(o, "Table") == "orders");
            Assert.Equal("Healthy", Str(orders, "Status"));
            Assert.Equal("0", Str(orders, "DeadTuples"));
            Assert.Contains("Before it: Critical, 10000 dead tuples (50% of rows)", Str(orders, "Message"));
            Assert.Equal("weekly", Str(orders, "Environment"));
            Assert.Contains("OpsTools.ChecklistResult", orders.TypeNames);
            Assert.Equal("Healthy", Str(Assert.Single(r.Output, o => Str(o, "Check") == "Vacuum"), "Status"));
            // The status rows come before the vacuum rows, as before.
            Assert.True(r.Output.ToList().FindIndex(o => Str(o, "Check") == "DbVacuum") < r.Output.ToList().FindIndex(o => Str(o, "Check") == "Vacuum"));
            Assert.DoesNotContain(r.Output, o => Str(o, "Status") == "Critical");
        }
        finally { pg.DropDatabase(db); }
    }

    [Fact]
    public void WhatIf_vacuums_nothing_and_FailOn_Critical_fails_on_the_unreachable_database()
    {
        var pg = fixture.Cluster;
        var path = Prepare(out var db);
        try
        {
            using var s = new ModuleSession();
            var r = s.Run(Wrap($"Invoke-WeeklyMaintenance -Environment '{path}' -WhatIf -FailOn Critical"));
            Assert.DoesNotContain(r.Output, o => Str(o, "Check") == "Vacuum");
            Assert.Null(pg.Scalar<DateTime?>("SELECT last_vacuum FROM pg_stat_user_tables WHERE relname = 'orders'", db));
            Assert.Contains("What if: Performing the operation \"VACUUM (ANALYZE)\" on target \"app (1 tables)\"", s.Host.Text);
            var error = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
            Assert.Equal("WeeklyMaintenanceFailed", error.FullyQualifiedErrorId.Split(',')[0]);

            var only = s.Run(Wrap($"Invoke-WeeklyMaintenance -Environment '{path}' -Instance app -Skip Vacuum, SlowQueries, TableSizes, ScratchDatabases -WhatIf"));
            Assert.All(only.Output, o => Assert.Contains(Str(o, "Check"), new[] { "DbVacuum", "IndexAdvice" }));
        }
        finally { pg.DropDatabase(db); }
    }

    [Fact]
    public void With_a_backup_store_the_latest_backup_is_drilled_and_retention_runs()
    {
        var pg = fixture.Cluster;
        var db = pg.CreateDatabase("weeklybk");
        try
        {
            pg.Exec("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 1000);", db);
            var store = Directory.CreateDirectory(Path.Combine(_dir, "store")).FullName;
            var path = Path.Combine(_dir, "weeklybk.ops.psd1");
            File.WriteAllText(path, $$"""
                @{
                    Name      = 'weeklybk'
                    Databases = @(@{ Name = 'app'; Server = '{{pg.Host}}'; Port = {{pg.Port}}; Database = '{{db}}'; User = '{{pg.User}}'; PasswordVariable = 'OPSTOOLS_TEST_WEEKLY_PW' })
                    Backup    = @{ Path = '{{store}}'; RetentionDays = 30 }
                }
                """);
            using var s = new ModuleSession();
            Assert.Empty(s.Run(Wrap($"Backup-Database -Environment '{path}'")).Errors);
            var r = s.Run(Wrap($"Invoke-WeeklyMaintenance -Environment '{path}' -Skip VacuumStatus, Vacuum, SlowQueries, TableSizes, IndexAdvice"));
            Assert.Null(r.Terminating);
            Assert.Empty(r.Errors);
            var drill = Assert.Single(r.Output, o => Str(o, "Check") == "BackupTest");
            Assert.True(Str(drill, "Status") == "Healthy", Str(drill, "Message"));
            var retention = Assert.Single(r.Output, o => Str(o, "Check") == "BackupRetention");
            Assert.Equal("Healthy", Str(retention, "Status"));
            Assert.StartsWith("Retention removed 0 backup(s)", Str(retention, "Message"));
            Assert.Equal("RestoreVerified", Str(Assert.Single(s.Run(Wrap($"Get-Backup -Environment '{path}'")).Output), "Verification"));
        }
        finally { pg.DropDatabase(db); }
    }

    [Fact]
    public void Monthly_review_drills_every_database_and_says_when_one_has_no_backup()
    {
        var pg = fixture.Cluster;
        var db = pg.CreateDatabase("monthly");
        try
        {
            pg.Exec("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 500);", db);
            var store = Directory.CreateDirectory(Path.Combine(_dir, "mstore")).FullName;
            var path = Path.Combine(_dir, "monthly.ops.psd1");
            File.WriteAllText(path, $$"""
                @{
                    Name      = 'monthly'
                    Databases = @(
                        @{ Name = 'app'; Server = '{{pg.Host}}'; Port = {{pg.Port}}; Database = '{{db}}'; User = '{{pg.User}}'; PasswordVariable = 'OPSTOOLS_TEST_WEEKLY_PW' }
                        @{ Name = 'other'; Server = '{{pg.Host}}'; Port = {{pg.Port}}; Database = 'never_backed_up'; User = '{{pg.User}}'; PasswordVariable = 'OPSTOOLS_TEST_WEEKLY_PW' }
                    )
                    Backup    = @{ Path = '{{store}}' }
                }
                """);
            using var s = new ModuleSession();
            Assert.Empty(s.Run(Wrap($"Backup-Database -Environment '{path}' -Instance app")).Errors);
            var r = s.Run(Wrap($"Invoke-MonthlyReview -Environment '{path}' -FailOn Critical"));
            var drill = Assert.Single(r.Output, o => Str(o, "Check") == "BackupTest");
            Assert.True(Str(drill, "Status") == "Healthy", Str(drill, "Message"));
            var missing = Assert.Single(r.Output, o => Str(o, "Check") == "DisasterRecovery");
            Assert.Equal("Critical", Str(missing, "Status"));
            Assert.Contains("never_backed_up", Str(missing, "Message"));
            Assert.Contains(r.Output, o => Str(o, "Check") == "BackupFreshness" && Str(o, "Target") == db && Str(o, "Status") == "Healthy");
            var error = r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
            Assert.Equal("MonthlyReviewFailed", error.FullyQualifiedErrorId.Split(',')[0]);
        }
        finally { pg.DropDatabase(db); }
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
