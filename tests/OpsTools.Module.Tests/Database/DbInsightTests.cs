using System.Management.Automation;
using Npgsql;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Database;

/// <summary>Get-DbSlowQuery, Get-DbSize, Get-DbTableSize and Get-DbIndexAdvice against the real throwaway cluster.</summary>
[Collection("PostgreSQL")]
public sealed class DbInsightTests(PgClusterFixture fixture) : IDisposable
{
    private readonly PgCluster _pg = fixture.Cluster;
    private readonly List<string> _databases = new();
    private readonly ModuleSession _s = new();

    private string NewDatabase()
    {
        var db = _pg.CreateDatabase("ins");
        _databases.Add(db);
        return db;
    }

    public void Dispose()
    {
        _s.Dispose();
        foreach (var db in _databases) _pg.DropDatabase(db);
    }

    private static void Exec(NpgsqlConnection c, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 120 };
        cmd.ExecuteNonQuery();
    }

    /// <summary>Makes this backend's pending table/index statistics visible to other sessions now.</summary>
    private static void FlushStats(NpgsqlConnection c)
    {
        Exec(c, "SELECT pg_stat_force_next_flush()");
        Exec(c, "SELECT 1"); // the flush happens when the backend goes idle before this statement
    }

    private static T P<T>(PSObject o, string name) => (T)RunResult.Prop(o, name)!;

    /// <summary>An output object's properties by name (the test process does not reference the module's types).</summary>
    private sealed class Row(PSObject o)
    {
        public PSObject Object => o;
        public object? this[string name] => RunResult.Prop(o, name);
        public string S(string name) => this[name]?.ToString() ?? "";
        public long L(string name) => Convert.ToInt64(this[name]);
        public long? NL(string name) => this[name] is null ? null : Convert.ToInt64(this[name]);
        public TimeSpan T(string name) => (TimeSpan)this[name]!;
        public string TypeName => Object.BaseObject.GetType().FullName!;
    }

    private IReadOnlyList<Row> Rows(string script) => _s.Invoke(script).Select(o => new Row(o)).ToList();

    // ---------------------------------------------------------------- Get-DbSlowQuery

    private string SlowWorkload()
    {
        var db = NewDatabase();
        using var c = _pg.Open(db);
        Exec(c, "CREATE EXTENSION pg_stat_statements");
        Exec(c, "CREATE FUNCTION opstools_slow() RETURNS void LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.2); END $$");
        Exec(c, "CREATE TABLE small(id int); INSERT INTO small SELECT generate_series(1, 100)");
        for (var i = 0; i < 3; i++) Exec(c, "SELECT opstools_slow()");
        for (var i = 0; i < 20; i++) Exec(c, "SELECT count(*) FROM small WHERE id > 5");
        return db;
    }

    [Fact]
    public void Slow_query_is_listed_first_with_calls_and_mean_time()
    {
        var db = SlowWorkload();
        var rows = Rows(_pg.PowerShellSetup(db) + "; Get-DbSlowQuery @Pg -Top 5");
        var first = rows[0];
        Assert.Equal("OpsTools.Database.DbSlowQuery", first.TypeName);
        Assert.Contains("opstools_slow", first.S("Query"));
        Assert.Equal(3, first.L("Calls"));
        Assert.True(first.T("MeanTime") >= TimeSpan.FromMilliseconds(200), $"mean {first.T("MeanTime")}");
        Assert.True(first.T("TotalTime") >= TimeSpan.FromMilliseconds(600));
        Assert.True(first.T("MaxTime") >= first.T("MeanTime") && first.T("MinTime") <= first.T("MeanTime"));
        Assert.Equal(db, first.S("Database"));
        Assert.Equal("postgres", first.S("User"));
        Assert.NotNull(first["QueryId"]);
        Assert.Equal(("SlowQuery", "Database", "Healthy"), (first.S("Check"), first.S("Area"), first.S("Status"))); // under the 1 s default
        Assert.StartsWith("pg-", first.S("ConnectionId"));
        Assert.Equal((long)_pg.Port, first.L("Port"));
        Assert.True(first.Object.BaseObject.GetType().BaseType!.FullName == "OpsTools.CheckResult");
        // Nested statements (pg_sleep inside the function) are left out by default, and so is the command's own query.
        Assert.DoesNotContain(rows, r => r.S("Query").StartsWith("SELECT pg_sleep"));
        Assert.DoesNotContain(rows, r => r.S("Query").Contains("OpsTools:Get-DbSlowQuery"));
        Assert.Equal(5, rows.Count);
        var count = Rows(_pg.PowerShellSetup(db) + "; Get-DbSlowQuery @Pg -Top 100").Single(q => q.S("Query").Contains("FROM small"));
        Assert.Equal(20, count.L("Calls"));
        Assert.Equal(20, count.L("Rows")); // one row per call
        Assert.Equal(1.0, (double)count["HitRatio"]!);
    }

    [Fact]
    public void OpsTools_own_vacuum_backup_and_drill_statements_stay_out_of_the_slow_query_list()
    {
        var db = SlowWorkload();
        using (var c = _pg.Open(db))
            Exec(c, "CREATE TABLE big(id int, note text); CREATE INDEX big_id ON big (id); INSERT INTO big SELECT g, 'x' FROM generate_series(1, 3000) g; DELETE FROM big WHERE id % 3 = 0");
        var store = Directory.CreateTempSubdirectory("opstools-slow-store-").FullName;
        try
        {
            // What a week of OpsTools does to the database: a vacuum, a reindex, a nightly backup (pg_dump), a restore drill.
            _s.Invoke(_pg.PowerShellSetup(db) + $"; Invoke-DbVacuum @Pg -Table big -Analyze -Confirm:$false | Out-Null; Invoke-DbReindex @Pg -Table big -Confirm:$false -Force | Out-Null" +
                      $"; Backup-Database @Pg -Path '{store}' | Test-Backup @Pg | Out-Null");
            var own = Rows(_pg.PowerShellSetup(db) + "; Get-DbSlowQuery @Pg -Top 500 -AllDatabases -IncludeOpsTools").Select(q => q.S("Query")).ToList();
            Assert.Contains(own, q => q.Contains("VACUUM (ANALYZE)"));   // they are there to be left out...
            Assert.Contains(own, q => q.StartsWith("COPY ") && q.Contains("TO stdout"));

            var rows = Rows(_pg.PowerShellSetup(db) + "; Get-DbSlowQuery @Pg -Top 500 -AllDatabases");
            var texts = rows.Select(q => q.S("Query")).ToList();
            Assert.DoesNotContain(texts, q => q.Contains("VACUUM") || q.Contains("REINDEX") || q.Contains("/* OpsTools"));
            Assert.DoesNotContain(texts, q => q.StartsWith("COPY ", StringComparison.OrdinalIgnoreCase));
            Assert.All(rows, q => Assert.NotEqual("", q.S("Database")));
            Assert.DoesNotContain(rows, q => q.S("Database").All(char.IsDigit)); // no scratch database of a drill, gone by now
            // ...so in this database the application's own slow statement leads again.
            Assert.Contains("opstools_slow", Rows(_pg.PowerShellSetup(db) + "; Get-DbSlowQuery @Pg -Top 1").Single().S("Query"));
        }
        finally { Directory.Delete(store, true); }
    }

    [Fact]
    public void Min_mean_time_sort_warning_threshold_and_nested_statements()
    {
        var db = SlowWorkload();
        var setup = _pg.PowerShellSetup(db) + "; ";
        var slow = _s.Invoke(setup + "Get-DbSlowQuery @Pg -MinMeanTime 150");
        Assert.Single(slow);
        Assert.Contains("opstools_slow", P<string>(slow[0], "Query"));
        Assert.Empty(_s.Invoke(setup + "Get-DbSlowQuery @Pg -MinMeanTime '1.5s'"));
        Assert.Single(_s.Invoke(setup + "Get-DbSlowQuery @Pg -MinMeanTime ([TimeSpan]::FromMilliseconds(150))"));

        var byCalls = _s.Invoke(setup + "Get-DbSlowQuery @Pg -SortBy Calls -Top 1");
        Assert.Contains("FROM small", P<string>(byCalls[0], "Query"));

        var warned = _s.Invoke(setup + "Get-DbSlowQuery @Pg -WarningMeanTime 100 | Where-Object Status -eq Warning");
        Assert.Single(warned);
        Assert.Contains("warn > 100 ms", P<string>(warned[0], "Threshold"));

        var nested = _s.Invoke(setup + "Get-DbSlowQuery @Pg -IncludeNested -MinMeanTime 150");
        Assert.Equal(2, nested.Count); // the function call and the pg_sleep inside it
        Assert.Contains(nested, r => P<string>(r, "Query").StartsWith("SELECT pg_sleep"));
    }

    [Fact]
    public void Reset_asks_first_and_then_clears_the_database_statistics()
    {
        var db = SlowWorkload();
        var setup = _pg.PowerShellSetup(db) + "; ";
        var whatIf = _s.Invoke(setup + "Get-DbSlowQuery @Pg -Reset -WhatIf");
        Assert.NotEmpty(whatIf); // still lists
        Assert.NotEmpty(_s.Invoke(setup + "Get-DbSlowQuery @Pg -MinMeanTime 150"));
        _s.Invoke(setup + "Get-DbSlowQuery @Pg -Reset -Confirm:$false");
        Assert.Empty(_s.Invoke(setup + "Get-DbSlowQuery @Pg -MinMeanTime 150"));
    }

    [Fact]
    public void Missing_extension_is_a_clear_non_terminating_error_with_the_enable_steps()
    {
        var db = NewDatabase(); // no CREATE EXTENSION here
        var r = _s.Run(_pg.PowerShellSetup(db) + "; Get-DbSlowQuery @Pg; 'went on'");
        Assert.Null(r.Terminating);
        Assert.Equal("went on", r.Output.Last().BaseObject);
        var e = Assert.Single(r.Errors);
        Assert.StartsWith("DbExtensionMissing", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, e.CategoryInfo.Category);
        var m = e.Exception.Message;
        Assert.Contains($"CREATE EXTENSION pg_stat_statements; in database \"{db}\"", m);
        Assert.Contains("shared_preload_libraries = 'pg_stat_statements' in postgresql.conf", m);
        Assert.Contains("restart the server (already done on this server)", m); // the fixture preloads it
        Assert.DoesNotContain(_pg.Password, m);
    }

    [Fact]
    public void Format_views_show_psql_like_tables()
    {
        var db = SlowWorkload();
        _pg.Exec("CREATE INDEX small_id ON small (id)", db);
        var setup = _pg.PowerShellSetup(db) + "; ";
        _s.Invoke(setup + "Get-DbSlowQuery @Pg | Out-Default");
        Assert.Contains("Mean(ms)", _s.Host.Text);
        Assert.Contains("SELECT opstools_slow()", _s.Host.Text);
        _s.Host.ClearText();
        _s.Invoke(setup + "Get-DbSize @Pg | Out-Default");
        Assert.Contains("Connections", _s.Host.Text);
        Assert.Contains(db, _s.Host.Text);
        _s.Host.ClearText();
        _s.Invoke(setup + "Get-DbTableSize @Pg | Out-Default");
        Assert.Contains("Rows(est)", _s.Host.Text);
        Assert.Contains("small", _s.Host.Text);
        _s.Host.ClearText();
        _s.Invoke(setup + "Get-DbIndexAdvice @Pg | Out-Default");
        Assert.Contains("Advice", _s.Host.Text);
        Assert.Contains("public.small", _s.Host.Text);
        Assert.Contains("UnusedIndex", _s.Host.Text);
    }

    // ---------------------------------------------------------------- Get-DbSize

    [Fact]
    public void Database_sizes_match_pg_database_size_and_pipe_into_table_sizes()
    {
        var db = NewDatabase();
        _pg.Exec("CREATE TABLE filler AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 20000) g", db);
        var expected = _pg.Scalar<long>($"SELECT pg_database_size('{db}')");
        var setup = _pg.PowerShellSetup(db) + "; ";
        var all = Rows(setup + "Get-DbSize @Pg");
        var mine = Assert.Single(all, d => d.S("Name") == db);
        Assert.Equal("OpsTools.Database.DbSize", mine.TypeName);
        Assert.Equal(expected, mine.L("SizeBytes"));
        Assert.Equal(db, mine.S("Database"));
        Assert.Equal(("postgres", "UTF8", true, false), (mine.S("Owner"), mine.S("Encoding"), (bool)mine["AllowConnections"]!, (bool)mine["IsTemplate"]!));
        Assert.True(mine.L("Connections") >= 1); // the command's own session
        Assert.Matches(@"^\d+(\.\d)? (MB|kB)$", mine.S("Size"));
        Assert.DoesNotContain(all, d => (bool)d["IsTemplate"]!);
        Assert.Equal(all.OrderByDescending(d => d.NL("SizeBytes") ?? -1).Select(d => d.S("Name")), all.Select(d => d.S("Name")));
        Assert.Contains(_s.Invoke(setup + "Get-DbSize @Pg -IncludeTemplate"), o => P<string>(o, "Name") == "template1");
        var sizeCheck = Rows(setup + $"Get-DbSize @Pg -Name '{db}' -AsCheckResult").Single();
        Assert.Equal(("OpsTools.CheckResult", "DatabaseSize", "Healthy", expected), (sizeCheck.TypeName, sizeCheck.S("Check"), sizeCheck.S("Status"), sizeCheck.L("Value")));

        // Connected to 'postgres', the listed database's objects lead Get-DbTableSize to that database.
        var tables = _s.Invoke(setup + $"$Pg.Database = 'postgres'; Get-DbSize @Pg -Name '{db}' | Get-DbTableSize");
        Assert.Equal("filler", P<string>(Assert.Single(tables), "Table"));
        Assert.Equal(db, P<string>(tables[0], "Database"));
    }

    [Fact]
    public void Wrong_password_is_one_clear_error_per_target()
    {
        var db = NewDatabase();
        var r = _s.Run(_pg.PowerShellSetup(db).Replace(_pg.Password, "wrong-pw") + "; Get-DbSize @Pg; Get-DbTableSize @Pg; 'went on'");
        Assert.Null(r.Terminating);
        Assert.Equal(2, r.Errors.Count);
        Assert.All(r.Errors, e => Assert.StartsWith("DbAuthenticationFailed", e.FullyQualifiedErrorId));
        Assert.Equal("went on", r.Output.Single().BaseObject);
    }

    // ---------------------------------------------------------------- Get-DbTableSize

    [Fact]
    public void Table_sizes_are_largest_first_and_match_the_servers_functions()
    {
        var db = NewDatabase();
        using (var c = _pg.Open(db))
        {
            Exec(c, "CREATE TABLE big (id int PRIMARY KEY, pad text); INSERT INTO big SELECT g, repeat('x', 100) FROM generate_series(1, 70000) g; ANALYZE big");
            Exec(c, "CREATE TABLE tiny (id int); INSERT INTO tiny VALUES (1)");
            // Random text that does not compress: stored out of line in TOAST.
            Exec(c, "CREATE TABLE docs (id int, body text); INSERT INTO docs SELECT g, (SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 300) s) FROM generate_series(1, 50) g");
            Exec(c, "CREATE SCHEMA \"My Schema\"; CREATE TABLE \"My Schema\".\"we\"\"ird tab le\" (id int)");
        }
        var rows = Rows(_pg.PowerShellSetup(db) + "; Get-DbTableSize @Pg").ToList();
        Assert.Equal(new[] { "big", "docs" }, rows.Take(2).Select(r => r.S("Table")));
        Assert.True(rows.FindIndex(r => r.S("Table") == "big") < rows.FindIndex(r => r.S("Table") == "tiny"));
        Assert.Equal(rows.OrderByDescending(r => r.L("TotalBytes")).Select(r => r.L("TotalBytes")), rows.Select(r => r.L("TotalBytes")));

        var big = rows[0];
        Assert.Equal("OpsTools.Database.DbTableSize", big.TypeName);
        Assert.True(big.L("TotalBytes") > 10_000_000, $"big is {big.L("TotalBytes")} bytes");
        Assert.Equal(_pg.Scalar<long>("SELECT pg_total_relation_size('big')", db), big.L("TotalBytes"));
        Assert.Equal(_pg.Scalar<long>("SELECT pg_relation_size('big')", db), big.L("TableBytes"));
        Assert.Equal(_pg.Scalar<long>("SELECT pg_indexes_size('big')", db), big.L("IndexBytes"));
        Assert.True(big.L("IndexBytes") > 0);
        Assert.InRange(big.L("RowEstimate"), 69_000, 71_000);
        Assert.Equal(("public", db, "r"), (big.S("Schema"), big.S("Database"), big.S("Kind")));
        Assert.Matches(@"^1\d\.\d MB$", big.S("Total"));

        var docs = rows.Single(r => r.S("Table") == "docs");
        var toast = _pg.Scalar<long>("SELECT pg_total_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'docs'", db);
        Assert.True(toast > 100_000, $"toast {toast}");
        Assert.Equal(toast, docs.L("ToastBytes"));
        Assert.Equal(0, docs.L("IndexBytes"));

        Assert.Null(rows.Single(r => r.S("Table") == "tiny")["RowEstimate"]); // never analyzed (reltuples = -1)
        var weird = rows.Single(r => r.S("Schema") == "My Schema");
        Assert.Equal("we\"ird tab le", weird.S("Table"));

        var setup = _pg.PowerShellSetup(db) + "; ";
        Assert.Equal("big", _s.Invoke(setup + "Get-DbTableSize @Pg -Top 1 | ForEach-Object Table").Single().BaseObject);
        Assert.Equal(new object[] { "tiny" }, _s.Invoke(setup + "Get-DbTableSize @Pg -Table 'ti*'").Select(o => P<string>(o, "Table")));
        Assert.Equal(new object[] { "we\"ird tab le" }, _s.Invoke(setup + "Get-DbTableSize @Pg -Schema 'My Schema'").Select(o => P<string>(o, "Table")));
        Assert.Equal(2, _s.Invoke(setup + "Get-DbTableSize @Pg -Schema public -Top 2").Count);

        // Names are matched in the command, never pasted into SQL.
        Assert.Empty(_s.Invoke(setup + "Get-DbTableSize @Pg -Table \"x'; DROP TABLE big; --\" -Schema 'public\"; DROP TABLE big; --'"));
        Assert.Empty(_s.Invoke(setup + "Get-DbIndexAdvice @Pg -Table \"x'; DROP TABLE big; --\""));
        Assert.Equal(1L, _pg.Scalar<long>("SELECT count(*) FROM pg_class WHERE relname = 'big'", db));

        // For reports: informational check results.
        var check = Rows(setup + "Get-DbTableSize @Pg -Top 1 -AsCheckResult").Single();
        Assert.Equal(("OpsTools.CheckResult", "TableSize", "Database", "Healthy"), (check.TypeName, check.S("Check"), check.S("Area"), check.S("Status")));
        Assert.Equal(big.L("TotalBytes"), check.L("Value"));
        Assert.StartsWith("public.big: 1", check.S("Message"));
        Assert.EndsWith("/" + db + " public.big", check.S("Target"));
    }

    [Fact]
    public void Environment_databases_entry_with_a_password_variable()
    {
        var db = NewDatabase();
        _pg.Exec("CREATE TABLE envtab (id int)", db);
        var dir = Directory.CreateTempSubdirectory("opstools-insight-").FullName;
        var variable = "OPSTOOLS_INSIGHT_PW_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
        try
        {
            var file = Path.Combine(dir, "insight.ops.psd1");
            File.WriteAllText(file, $$"""
                @{
                    Name = 'insight-test'
                    Databases = @(
                        @{ Name = 'appdb'; Server = '{{_pg.Host}}'; Port = {{_pg.Port}}; Database = '{{db}}'; User = '{{_pg.User}}'; PasswordVariable = '{{variable}}' }
                    )
                    Thresholds = @{ DbSlowQueryWarningMs = 1 }
                }
                """);
            var rows = _s.Invoke($"$env:{variable} = '{_pg.Password}'; Get-DbTableSize -Environment '{file}'");
            var t = Assert.Single(rows);
            Assert.Equal(("appdb", "envtab", db), (P<string>(t, "Instance"), P<string>(t, "Table"), P<string>(t, "Database")));
            Assert.Contains(_s.Invoke($"Get-DbSize -Environment '{file}' -Instance appdb"), o => P<string>(o, "Name") == db);

            // The environment's threshold applies to Get-DbSlowQuery (1 ms: every statement is slow).
            _pg.Exec("CREATE EXTENSION pg_stat_statements", db);
            _pg.Exec("SELECT pg_sleep(0.01)", db);
            var slow = _s.Invoke($"Get-DbSlowQuery -Environment '{file}'");
            Assert.Contains(slow, o => P<string>(o, "Query").Contains("pg_sleep"));
            Assert.All(slow.Where(o => P<TimeSpan>(o, "MeanTime") > TimeSpan.FromMilliseconds(1)),
                o => Assert.Equal("Warning", P<object>(o, "Status").ToString()));
            Assert.All(slow, o => Assert.Equal("insight-test", P<string>(o, "Environment")));
        }
        finally
        {
            System.Environment.SetEnvironmentVariable(variable, null);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Weekly_checklist_steps_give_check_results_and_a_missing_extension_stops_only_its_step()
    {
        var db = SlowWorkload();
        _pg.Exec("CREATE INDEX small_id ON small (id)", db);
        var bare = NewDatabase(); // no pg_stat_statements there
        // The lines proposed for Invoke-WeeklyMaintenance, with the same $run wrapper as Invoke-DailyCheck.
        var script = _pg.PowerShellSetup(db) + """
            ; $results = [System.Collections.Generic.List[object]]::new()
            $run = {
                param([string] $Check, [scriptblock] $Body)
                try { foreach ($r in & $Body) { if ($r -is [OpsTools.CheckResult]) { $results.Add($r) } } }
                catch { $results.Add([OpsTools.CheckResult]@{ Check = $Check; Area = 'Database'; Status = 'Unknown'; Message = "The check could not run: $($_.Exception.Message)" }) }
            }
            & $run 'SlowQuery' { Get-DbSlowQuery @Pg -Top 10 -ErrorAction Stop }
            & $run 'TableSize' { Get-DbTableSize @Pg -Top 10 -AsCheckResult -ErrorAction Stop }
            & $run 'IndexAdvice' { Get-DbIndexAdvice @Pg -ErrorAction Stop }
            $Pg.Database = '
            """ + bare + """
            '
            & $run 'SlowQuery' { Get-DbSlowQuery @Pg -Top 10 -ErrorAction Stop }
            $results
            """;
        var rows = Rows(script);
        Assert.Contains(rows, r => r.S("Check") == "SlowQuery" && r.S("Status") == "Healthy" && r.S("Query").Contains("opstools_slow"));
        Assert.Contains(rows, r => r.S("Check") == "TableSize" && r.S("Message").StartsWith("public.small:"));
        Assert.Contains(rows, r => r.S("Check") == "IndexAdvice" && r.S("Status") == "Warning" && r.S("Index") == "small_id");
        var unknown = Assert.Single(rows, r => r.S("Status") == "Unknown");
        Assert.Contains("CREATE EXTENSION pg_stat_statements", unknown.S("Message"));
    }

    // ---------------------------------------------------------------- Get-DbIndexAdvice

    [Fact]
    public void Index_advice_finds_unused_duplicate_and_missing_indexes_with_quoted_fix_statements()
    {
        var db = NewDatabase();
        using (var c = _pg.Open(db))
        {
            Exec(c, """
                CREATE TABLE orders (id int PRIMARY KEY, customer int, note text, code int UNIQUE);
                INSERT INTO orders SELECT g, g % 500, 'n' || g, g FROM generate_series(1, 20000) g;
                CREATE INDEX idx_orders_note ON orders (note);
                CREATE INDEX idx_cust_a ON orders (customer);
                CREATE INDEX idx_cust_b ON orders (customer);
                CREATE UNIQUE INDEX orders_id_again ON orders (id);
                CREATE INDEX idx_expr ON orders (lower(note));
                CREATE SCHEMA "My Schema";
                CREATE TABLE "My Schema"."big ""events"" table" (id int PRIMARY KEY, "Cat ""egory" int, payload text);
                INSERT INTO "My Schema"."big ""events"" table" SELECT g, (random() * 1000)::int, md5(g::text) FROM generate_series(1, 20000) g;
                CREATE INDEX "id""x un used" ON "My Schema"."big ""events"" table" (payload);
                ANALYZE;
                """);
            // Use the primary keys (so they are not "unused"), then hunt by a non-indexed column many times.
            Exec(c, "SET enable_seqscan = off; SELECT count(*) FROM orders WHERE id = 5; SELECT count(*) FROM orders WHERE code = 5; RESET enable_seqscan");
            for (var i = 0; i < 60; i++)
                Exec(c, "SELECT count(*) FROM \"My Schema\".\"big \"\"events\"\" table\" WHERE \"Cat \"\"egory\" = 7");
            FlushStats(c);
        }

        var advice = Rows(_pg.PowerShellSetup(db) + "; Get-DbIndexAdvice @Pg");
        Assert.All(advice, a => Assert.Equal(("IndexAdvice", "Database", "Warning", "OpsTools.Database.DbIndexAdvice"), (a.S("Check"), a.S("Area"), a.S("Status"), a.TypeName)));
        Assert.DoesNotContain(advice, a => a.S("Index") is "orders_pkey" or "orders_code_key");

        var unused = advice.Where(a => a.S("Kind") == "UnusedIndex").ToDictionary(a => a.S("Index"));
        Assert.Contains("idx_orders_note", unused.Keys);
        var note = unused["idx_orders_note"];
        Assert.Equal("DROP INDEX CONCURRENTLY \"public\".\"idx_orders_note\";", note.S("FixStatement"));
        Assert.Contains("idx_scan = 0", note.S("Reason"));
        Assert.Contains("statistics", note.S("Reason"));
        Assert.Equal(_pg.Scalar<long>("SELECT pg_relation_size('idx_orders_note')", db), note.L("IndexBytes"));
        Assert.Equal(0, note.L("Scans"));
        Assert.Equal("idx_orders_note", note.S("IndexName"));
        Assert.Equal(db, note.S("Database"));
        Assert.Contains("expression index", unused["idx_expr"].S("Reason"));

        var dups = advice.Where(a => a.S("Kind") == "DuplicateIndex").ToDictionary(a => a.S("Index"));
        Assert.Equal(new[] { "idx_cust_b", "orders_id_again" }, dups.Keys.Order());
        Assert.Equal("idx_cust_a", dups["idx_cust_b"].S("DuplicateOf"));
        Assert.Equal("orders_pkey", dups["orders_id_again"].S("DuplicateOf"));
        Assert.Contains("primary key", dups["orders_id_again"].S("Reason"));
        Assert.DoesNotContain("idx_cust_b", unused.Keys); // reported once, as a duplicate
        Assert.DoesNotContain("idx_cust_a", unused.Keys); // the pair's keeper is never advised to go as well

        var weirdUnused = unused["id\"x un used"];
        Assert.Equal("DROP INDEX CONCURRENTLY \"My Schema\".\"id\"\"x un used\";", weirdUnused.S("FixStatement"));
        Assert.Equal(("My Schema", "big \"events\" table"), (weirdUnused.S("Schema"), weirdUnused.S("Table")));

        var missing = Assert.Single(advice, a => a.S("Kind") == "MissingIndex");
        Assert.Equal(("My Schema", "big \"events\" table", null), (missing.S("Schema"), missing.S("Table"), missing["Index"]));
        Assert.True(missing.L("SeqScans") >= 60, $"seq scans {missing.L("SeqScans")}");
        Assert.True(missing.L("SeqTupRead") >= 60 * 20000L);
        Assert.Equal(20000, missing.L("LiveTuples"));
        Assert.Equal(new[] { "Cat \"egory" }, (IEnumerable<string>)missing["CandidateColumns"]!);
        Assert.Equal("-- consider: CREATE INDEX CONCURRENTLY ON \"My Schema\".\"big \"\"events\"\" table\" (\"Cat \"\"egory\");", missing.S("FixStatement"));
        Assert.Contains("sequential scans", missing.S("Reason"));

        // The statements are valid SQL as written (the advice itself never ran them).
        Assert.Equal(1L, _pg.Scalar<long>("SELECT count(*) FROM pg_class WHERE relname = 'id\"x un used'", db));
        _pg.Exec(weirdUnused.S("FixStatement"), db);
        _pg.Exec(missing.S("FixStatement").Replace("-- consider: ", ""), db);
        _pg.Exec(dups["idx_cust_b"].S("FixStatement"), db);
        Assert.Equal(0L, _pg.Scalar<long>("SELECT count(*) FROM pg_class WHERE relname IN ('id\"x un used', 'idx_cust_b')", db));
        // Every DROP the advice gave, applied: orders still has an index on customer.
        foreach (var a in advice.Where(a => a.S("Table") == "orders" && a.S("Index") is not ("idx_cust_b" or "")))
            _pg.Exec(a.S("FixStatement"), db);
        Assert.Equal(1L, _pg.Scalar<long>("SELECT count(*) FROM pg_indexes WHERE tablename = 'orders' AND indexdef LIKE '%(customer)'", db));

        // Filters, kinds and thresholds.
        var setup = _pg.PowerShellSetup(db) + "; ";
        Assert.All(_s.Invoke(setup + "Get-DbIndexAdvice @Pg -Kind UnusedIndex"), o => Assert.Equal("UnusedIndex", P<object>(o, "Kind").ToString()));
        Assert.Empty(_s.Invoke(setup + "Get-DbIndexAdvice @Pg -Kind MissingIndex -MinSeqScans 1000"));
        Assert.Empty(_s.Invoke(setup + "Get-DbIndexAdvice @Pg -Kind MissingIndex -MinRows 50000"));
        Assert.All(_s.Invoke(setup + "Get-DbIndexAdvice @Pg -Schema 'My*'"), o => Assert.Equal("My Schema", P<string>(o, "Schema")));
        Assert.Empty(_s.Invoke(setup + "Get-DbIndexAdvice @Pg -Kind UnusedIndex -MinIndexBytes 1GB"));
        var piped = _s.Invoke(setup + "Get-DbTableSize @Pg -Table orders | Get-DbIndexAdvice");
        Assert.NotEmpty(piped);
        Assert.All(piped, o => Assert.Equal("orders", P<string>(o, "Table")));
        // Straight into a report.
        Assert.NotEmpty(_s.Invoke(setup + "Get-DbIndexAdvice @Pg | Where-Object { $_ -is [OpsTools.CheckResult] }"));
    }
}
