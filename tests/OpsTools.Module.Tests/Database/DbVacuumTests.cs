using System.Diagnostics;
using System.Management.Automation;
using Npgsql;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Database;

/// <summary>Get-DbVacuumStatus, Invoke-DbVacuum and Invoke-DbReindex against the throwaway cluster (autovacuum off).</summary>
[Collection("PostgreSQL")]
public sealed class DbVacuumTests(PgClusterFixture fixture)
{
    private PgCluster Pg => fixture.Cluster;

    /// <summary>Runs SQL and makes sure its statistics reached shared memory before the connection closes.</summary>
    private void Exec(string db, string sql)
    {
        using var c = Pg.Open(db);
        using (var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 300 }) cmd.ExecuteNonQuery();
        if (Pg.MajorVersion >= 15)
        {
            using (var f = new NpgsqlCommand("SELECT pg_stat_force_next_flush()", c)) f.ExecuteNonQuery();
            using var again = new NpgsqlCommand("SELECT 1", c); again.ExecuteNonQuery(); // the flush happens when the session goes idle
        }
        else Thread.Sleep(1500);
    }

    private long Long(string db, string sql) => Pg.Scalar<long>(sql, db);

    private static T P<T>(PSObject o, string name)
    {
        var v = RunResult.Prop(o, name);
        if (typeof(T) == typeof(string)) return (T)(object)(v?.ToString() ?? "");
        var t = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return v is null ? default! : (T)Convert.ChangeType(v, t, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A result object whose properties read like the typed one's.</summary>
    private sealed class R(PSObject o)
    {
        public string Type => o.BaseObject.GetType().FullName!;
        public string S(string n) => P<string>(o, n);
        public long L(string n) => P<long>(o, n);
        public long? N(string n) => RunResult.Prop(o, n) is null ? null : P<long>(o, n);
        public double D(string n) => P<double>(o, n);
        public bool B(string n) => P<bool>(o, n);
        public object? X(string n) => RunResult.Prop(o, n);
    }

    [Fact]
    public void A_bloated_table_is_critical_and_vacuum_analyze_cleans_it()
    {
        var db = Pg.CreateDatabase();
        try
        {
            Exec(db, "CREATE TABLE bloat(id int PRIMARY KEY, v text); INSERT INTO bloat SELECT g, repeat('x', 50) FROM generate_series(1, 20000) g; " +
                     "CREATE TABLE tiny(id int); INSERT INTO tiny VALUES (1), (2)");
            Exec(db, "UPDATE bloat SET v = v || 'y'");
            using var s = new ModuleSession();
            var status = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbVacuumStatus @Pg");
            Assert.Equal(2, status.Count);
            var first = new R(status[0]);
            Assert.Equal("bloat", first.S("Table"));
            Assert.Equal("public", first.S("Schema"));
            Assert.True(first.D("DeadRatio") >= 0.45, $"dead ratio {first.D("DeadRatio")}");
            Assert.Equal(20000, first.L("DeadTuples"));
            Assert.Equal("Critical", first.S("Status"));
            Assert.Equal("OpsTools.Database.DbVacuumStatusResult", first.Type);
            Assert.Equal("Database", first.S("Area"));
            Assert.True(first.L("TotalBytes") > first.L("TableBytes"));
            Assert.Null(first.X("LastVacuum"));
            Assert.False(string.IsNullOrEmpty(first.S("ConnectionId")));
            var tiny = new R(status[1]);
            Assert.Equal("Healthy", tiny.S("Status")); // never vacuumed, nothing dead: not critical

            // Filters
            Assert.Single(s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbVacuumStatus @Pg -MinDeadRatio 0.2"));
            Assert.Single(s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbVacuumStatus @Pg -Table ti*"));
            Assert.Empty(s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbVacuumStatus @Pg -Schema other"));
            Assert.Contains(s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbVacuumStatus @Pg -All -Schema pg_catalog"), o => P<string>(o, "Table") == "pg_class");

            var r = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbVacuum @Pg -Table bloat -Analyze -Verbose");
            Assert.Null(r.Terminating);
            Assert.Empty(r.Errors);
            var result = new R(Assert.Single(r.Output));
            Assert.True(result.B("Succeeded"));
            Assert.Equal("VACUUM (ANALYZE)", result.S("Operation"));
            Assert.Equal(20000, result.L("DeadTuplesBefore"));
            Assert.Equal(0, result.L("DeadTuplesAfter")); // PG15+: VACUUM writes its counts to shared memory when it ends
            Assert.True(result.L("TotalBytesBefore") > 0 && result.L("TotalBytesAfter") > 0);
            Assert.Equal(db, result.S("Database"));
            Assert.Contains(r.Verbose, v => v.Contains("VACUUM (ANALYZE) \"public\".\"bloat\""));
            Assert.DoesNotContain(r.Verbose, v => v.Contains(Pg.Password));
            Assert.Equal(1, Long(db, "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'bloat' AND last_vacuum IS NOT NULL AND last_analyze IS NOT NULL"));
            Assert.Equal(0, Long(db, "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'tiny' AND last_vacuum IS NOT NULL"));

            var after = new R(s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbVacuumStatus @Pg -Table bloat")[0]);
            Assert.Equal(0, after.L("DeadTuples"));
            Assert.Equal("Healthy", after.S("Status"));
            Assert.NotNull(after.X("LastVacuum"));
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public void Pipeline_from_status_vacuums_exactly_the_selected_tables_and_WhatIf_changes_nothing()
    {
        var db = Pg.CreateDatabase();
        try
        {
            Exec(db, "CREATE TABLE a(id int, v int); INSERT INTO a SELECT g, 0 FROM generate_series(1, 4000) g; " +
                     "CREATE TABLE b(id int, v int); INSERT INTO b SELECT g, 0 FROM generate_series(1, 4000) g; " +
                     "CREATE TABLE c(id int, v int); INSERT INTO c SELECT g, 0 FROM generate_series(1, 4000) g");
            Exec(db, "UPDATE a SET v = 1; UPDATE b SET v = 1 WHERE id <= 1500; UPDATE c SET v = 1 WHERE id <= 100");
            using var s = new ModuleSession();

            var whatIf = s.Run(Pg.PowerShellSetup(db) + "; Get-DbVacuumStatus @Pg | Invoke-DbVacuum -Analyze -WhatIf");
            Assert.Null(whatIf.Terminating);
            Assert.Empty(whatIf.Errors);
            Assert.Empty(whatIf.Output);
            Assert.Equal(0, Long(db, "SELECT count(*) FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL OR last_analyze IS NOT NULL"));
            Assert.Equal(4000, Long(db, "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'a'"));

            var r = s.Run(Pg.PowerShellSetup(db) + "; Get-DbVacuumStatus @Pg | Where-Object DeadRatio -gt 0.1 | Invoke-DbVacuum -Analyze");
            Assert.Null(r.Terminating);
            Assert.Empty(r.Errors);
            var tables = r.Output.Select(o => P<string>(o, "Table")).OrderBy(t => t).ToArray();
            Assert.Equal(new[] { "a", "b" }, tables);
            Assert.All(r.Output, o => Assert.True(P<bool>(o, "Succeeded")));
            Assert.Equal("a,b", Pg.Scalar<string>("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL", db));
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public void Full_with_Force_shrinks_the_table_and_Parallel_gives_one_result_per_table()
    {
        var db = Pg.CreateDatabase();
        try
        {
            var create = string.Concat(Enumerable.Range(1, 8).Select(i =>
                $"CREATE TABLE p{i}(id int, v text); INSERT INTO p{i} SELECT g, repeat('z', 100) FROM generate_series(1, 5000) g; "));
            Exec(db, create + "CREATE TABLE shrink(id int, v text); INSERT INTO shrink SELECT g, repeat('s', 200) FROM generate_series(1, 20000) g");
            Exec(db, "DELETE FROM shrink WHERE id % 10 <> 0; " + string.Concat(Enumerable.Range(1, 8).Select(i => $"UPDATE p{i} SET v = v || 'u'; ")));
            var sizeBefore = Long(db, "SELECT pg_relation_size('shrink')");
            using var s = new ModuleSession();

            var full = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbVacuum @Pg -Table shrink -Full -Force");
            Assert.Null(full.Terminating);
            Assert.Empty(full.Errors);
            var f = new R(Assert.Single(full.Output));
            Assert.Equal("VACUUM (FULL)", f.S("Operation"));
            Assert.Equal(sizeBefore, f.L("TableBytesBefore"));
            var sizeAfter = Long(db, "SELECT pg_relation_size('shrink')");
            Assert.True(sizeAfter < sizeBefore / 4, $"{sizeBefore} -> {sizeAfter}");
            Assert.Equal(sizeAfter, f.L("TableBytesAfter"));
            Assert.True(f.L("BytesFreed") > 0);

            var par = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbVacuum @Pg -Table p* -Parallel 2");
            Assert.Null(par.Terminating);
            Assert.Empty(par.Errors);
            Assert.Equal(8, par.Output.Count);
            Assert.Equal(Enumerable.Range(1, 8).Select(i => $"p{i}").OrderBy(x => x), par.Output.Select(o => P<string>(o, "Table")).OrderBy(x => x));
            Assert.All(par.Output, o => { Assert.True(P<bool>(o, "Succeeded")); Assert.Equal("VACUUM", P<string>(o, "Operation")); Assert.Equal(0L, P<long>(o, "DeadTuplesAfter")); });
            Assert.Contains(par.Progress, p => p.StatusDescription.Contains("of 8 done"));
            Assert.Equal(8, Long(db, "SELECT count(*) FROM pg_stat_user_tables WHERE relname LIKE 'p%' AND last_vacuum IS NOT NULL"));

            // The whole database (no -Table): every user table, each its own statement.
            var whole = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbVacuum @Pg -AnalyzeOnly");
            Assert.Empty(whole.Errors);
            Assert.Equal(9, whole.Output.Count);
            Assert.All(whole.Output, o => Assert.Equal("ANALYZE", P<string>(o, "Operation")));
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public void Odd_names_are_quoted_and_injection_finds_no_table()
    {
        var db = Pg.CreateDatabase();
        try
        {
            Exec(db, "CREATE SCHEMA \"my schema\"; CREATE TABLE \"my schema\".\"we\"\"ird tab le\"(id int); INSERT INTO \"my schema\".\"we\"\"ird tab le\" SELECT generate_series(1, 1000); " +
                     "DELETE FROM \"my schema\".\"we\"\"ird tab le\" WHERE id > 100; CREATE TABLE y(id int); CREATE INDEX \"odd idx\"\"\" ON \"my schema\".\"we\"\"ird tab le\"(id)");
            using var s = new ModuleSession();
            var status = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbVacuumStatus @Pg -Table 'we\"ird*'");
            Assert.Equal("my schema", P<string>(Assert.Single(status), "Schema"));

            var r = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbVacuum @Pg -Table 'we\"ird tab le' -Analyze");
            Assert.Empty(r.Errors);
            var v = new R(Assert.Single(r.Output));
            Assert.Equal("we\"ird tab le", v.S("Table"));
            Assert.Equal(900, v.L("DeadTuplesBefore"));
            Assert.Equal(0, v.L("DeadTuplesAfter"));

            var piped = s.Run(Pg.PowerShellSetup(db) + "; Get-DbVacuumStatus @Pg -Schema 'my schema' | Invoke-DbVacuum");
            Assert.Empty(piped.Errors);
            Assert.Single(piped.Output);

            foreach (var attack in new[] { "-Table 'x; DROP TABLE y'", "-Table 'y; DROP TABLE y'", "-Table 'y\"; DROP TABLE y; --'", "-Schema 'public; DROP TABLE y' -Table y" })
            {
                var bad = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbVacuum @Pg " + attack);
                Assert.Null(bad.Terminating);
                Assert.Empty(bad.Output);
                var e = Assert.Single(bad.Errors);
                Assert.Equal("DbTableNotFound", e.FullyQualifiedErrorId.Split(',')[0]);
                Assert.Contains("not found", e.Exception.Message);
                Assert.Equal(1, Long(db, "SELECT count(*) FROM pg_class WHERE relname = 'y'"));
            }
            var badIndex = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbReindex @Pg -Index 'i; DROP TABLE y'");
            Assert.Equal("DbIndexNotFound", Assert.Single(badIndex.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(1, Long(db, "SELECT count(*) FROM pg_class WHERE relname = 'y'"));

            var ri = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbReindex @Pg -Index 'odd idx\"' -Schema 'my schema'");
            Assert.Empty(ri.Errors);
            Assert.Equal("odd idx\"", P<string>(Assert.Single(ri.Output), "Index"));
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public void Reindex_table_concurrently_reports_sizes_and_pipeline_binds_IndexName()
    {
        var db = Pg.CreateDatabase();
        try
        {
            Exec(db, "CREATE TABLE r(id int PRIMARY KEY, v int); CREATE INDEX r_v ON r(v); INSERT INTO r SELECT g, g FROM generate_series(1, 20000) g; " +
                     "UPDATE r SET v = v + 1; UPDATE r SET v = v + 1");
            Exec(db, "VACUUM r");
            using var s = new ModuleSession();
            var before = Long(db, "SELECT pg_indexes_size('r')");
            var r = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbReindex @Pg -Table r");
            Assert.Null(r.Terminating);
            Assert.Empty(r.Errors);
            var x = new R(Assert.Single(r.Output));
            Assert.True(x.B("Succeeded"));
            Assert.True(x.B("Concurrently"));
            Assert.Equal("REINDEX TABLE CONCURRENTLY", x.S("Operation"));
            Assert.Equal(2, x.L("IndexCount"));
            Assert.Equal(before, x.L("SizeBefore"));
            Assert.True(x.L("SizeAfter") < x.L("SizeBefore"), $"{x.L("SizeBefore")} -> {x.L("SizeAfter")}");
            Assert.Equal(Long(db, "SELECT pg_indexes_size('r')"), x.L("SizeAfter"));

            var piped = s.Run(Pg.PowerShellSetup(db) + "; [pscustomobject]@{ IndexName = 'r_v'; Schema = 'public'; Table = 'r' } | Invoke-DbReindex @Pg");
            Assert.Empty(piped.Errors);
            var p = new R(Assert.Single(piped.Output));
            Assert.Equal("r_v", p.S("Index"));
            Assert.Equal("r", p.S("Table"));
            Assert.Equal("REINDEX INDEX CONCURRENTLY", p.S("Operation"));
            Assert.True(p.L("SizeAfter") > 0);

            var locking = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbReindex @Pg -Index r_pkey -NoConcurrently -Force");
            Assert.Empty(locking.Errors);
            Assert.Equal("REINDEX INDEX", P<string>(Assert.Single(locking.Output), "Operation"));

            var all = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbReindex @Pg -All -WhatIf");
            Assert.Empty(all.Errors);
            Assert.Empty(all.Output);

            var unknown = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbReindex @Pg -Index nope");
            Assert.Empty(unknown.Output);
            var e = Assert.Single(unknown.Errors);
            Assert.Equal("DbIndexNotFound", e.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
            Assert.Contains("Index 'nope' not found", e.Exception.Message);
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public void Unreachable_database_is_a_critical_status_and_a_vacuum_error()
    {
        using var s = new ModuleSession();
        var port = HealthServer.FreePort();
        var setup = Pg.PowerShellSetup("postgres") + $"; $Pg.Port = {port}";
        var status = s.Invoke(setup + "; Get-DbVacuumStatus @Pg");
            var st = new R(Assert.Single(status));
            Assert.Equal("Critical", st.S("Status"));
            Assert.Contains("connection refused", st.S("Message"));
        var r = s.Run(setup + "; Invoke-DbVacuum @Pg -Table t");
        Assert.Equal("DbConnectionRefused", Assert.Single(r.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public async Task Ctrl_C_cancels_a_VACUUM_waiting_on_a_lock_on_the_server()
    {
        var db = Pg.CreateDatabase();
        try
        {
            Exec(db, "CREATE TABLE t(id int); INSERT INTO t SELECT generate_series(1, 1000); DELETE FROM t WHERE id > 10");
            using var holder = Pg.Open(db);
            using var tx = holder.BeginTransaction();
            using (var l = new NpgsqlCommand("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", holder, tx)) l.ExecuteNonQuery();

            using var s = new ModuleSession();
            using var cts = new CancellationTokenSource();
            var cancelledAt = Stopwatch.StartNew();
            var waiter = Task.Run(() =>
            {
                // Cancel once the VACUUM is really waiting on the server (at most 15 s), then 1 s later.
                var sw = Stopwatch.StartNew();
                while (sw.Elapsed < TimeSpan.FromSeconds(15) && Pg.Scalar<long>(
                           "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'VACUUM%' AND wait_event_type = 'Lock'") == 0)
                    Thread.Sleep(100);
                Thread.Sleep(1000);
                cancelledAt.Restart();
                cts.Cancel();
            });
            var r = s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbVacuum @Pg -Table t -Analyze", cts.Token);
            var stopTook = cancelledAt.Elapsed;
            await waiter;
            Assert.True(stopTook < TimeSpan.FromSeconds(5), $"stopping took {stopTook}");
            Assert.Empty(r.Output);
            Assert.True(r.Terminating is null or PipelineStoppedException, r.Terminating?.ToString());
            Assert.Equal(0, Long("postgres", "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'VACUUM%' AND state = 'active'"));
            tx.Rollback();
            Assert.Equal(0, Long(db, "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 't' AND last_vacuum IS NOT NULL"));
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public async Task Server_stopped_mid_Parallel_run_gives_per_table_errors_and_no_false_success()
    {
        if (Pg.External) return; // cannot stop someone else's server
        var db = Pg.CreateDatabase();
        var locked = Enumerable.Range(1, 6).Select(i => $"s{i}").ToArray();
        try
        {
            Exec(db, "CREATE TABLE big1(id int, v text); INSERT INTO big1 SELECT g, repeat('b', 100) FROM generate_series(1, 30000) g; " +
                     "CREATE TABLE big2(id int, v text); INSERT INTO big2 SELECT g, repeat('b', 100) FROM generate_series(1, 30000) g; " +
                     string.Concat(locked.Select(t => $"CREATE TABLE {t}(id int); INSERT INTO {t} SELECT generate_series(1, 100); ")));
            Exec(db, "UPDATE big1 SET v = 'c'; UPDATE big2 SET v = 'c'");
            var holder = Pg.Open(db);
            var tx = holder.BeginTransaction();
            using (var l = new NpgsqlCommand($"LOCK TABLE {string.Join(", ", locked)} IN ACCESS EXCLUSIVE MODE", holder, tx)) l.ExecuteNonQuery();

            using var s = new ModuleSession();
            // big1 and big2 are largest, so they go first and finish; the two workers then wait on locked tables.
            var run = Task.Run(() => s.Run(Pg.PowerShellSetup(db) + "; Invoke-DbVacuum @Pg -Parallel 2"));
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(30) && Pg.Scalar<long>(
                       "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'VACUUM%' AND wait_event_type = 'Lock'") < 2)
                Thread.Sleep(100);
            Pg.StopServer();
            try { holder.Dispose(); } catch (Exception) { }
            var r = await run.WaitAsync(TimeSpan.FromSeconds(60));
            Pg.StartServer();

            Assert.Null(r.Terminating);
            var done = r.Output.Select(o => new R(o)).ToList();
            Assert.Equal(new[] { "big1", "big2" }, done.Select(d => d.S("Table")).OrderBy(x => x));
            Assert.All(done, d => Assert.True(d.B("Succeeded")));
            Assert.Equal(6, r.Errors.Count);
            Assert.Equal(locked.Select(t => "public." + t).OrderBy(x => x), r.Errors.Select(e => (string)e.TargetObject).OrderBy(x => x));
            Assert.All(r.Errors, e => Assert.Contains(e.FullyQualifiedErrorId.Split(',')[0], new[] { "DbConnectionLost", "DbConnectionRefused" }));
            Assert.Equal(2, r.Errors.Count(e => e.FullyQualifiedErrorId.StartsWith("DbConnectionLost", StringComparison.Ordinal)));
            Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("DbConnectionRefused", StringComparison.Ordinal) && e.Exception.Message.StartsWith("Not started"));
            // What the server says after the restart: exactly the reported tables were vacuumed.
            Assert.Equal("big1,big2", Pg.Scalar<string>("SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_stat_user_tables WHERE vacuum_count > 0", db));
        }
        finally
        {
            try { Pg.StartServer(); } catch (InvalidOperationException) { /* already running */ }
            Pg.DropDatabase(db);
        }
    }
}
