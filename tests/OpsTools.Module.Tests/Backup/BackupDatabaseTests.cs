using System.Diagnostics;
using System.Management.Automation;
using System.Text.Json;
using Npgsql;
using OpsTools.TestKit;
using Xunit.Abstractions;

namespace OpsTools.Module.Tests.Backup;

/// <summary>Backup-Database and Get-Backup against the throwaway cluster, with its own pg_dump/pg_restore.</summary>
[Collection("PostgreSQL")]
public sealed class BackupDatabaseTests : IDisposable
{
    private readonly PgClusterFixture _fixture;
    private readonly ITestOutputHelper _log;
    private readonly string _store;
    private readonly List<string> _databases = new();

    public BackupDatabaseTests(PgClusterFixture fixture, ITestOutputHelper log)
    {
        _fixture = fixture;
        _log = log;
        _store = Path.Combine(Path.GetTempPath(), "opstools-bk-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(_store);
    }

    private PgCluster Pg => _fixture.Cluster;

    public void Dispose()
    {
        foreach (var db in _databases) Pg.DropDatabase(db);
        try { Directory.Delete(_store, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private string NewDatabase(string prefix = "bk")
    {
        var db = Pg.CreateDatabase(prefix);
        _databases.Add(db);
        return db;
    }

    private void Exec(string db, string sql)
    {
        using var c = Pg.Open(db);
        using var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 600 };
        cmd.ExecuteNonQuery();
    }

    private T Scalar<T>(string db, string sql) => Pg.Scalar<T>(sql, db)!;

    private static string Q(string s) => s.Replace("'", "''");

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static string S(PSObject o, string name) => P(o, name)?.ToString() ?? "";

    private string Tool(string name) => Pg.BinDirectory is { } bin ? Path.Combine(bin, name) : name;

    /// <summary>Restores an archive into a new database with the cluster's own pg_restore (what a person would run).</summary>
    private string RestoreIntoNewDatabase(string archive)
    {
        var db = NewDatabase("rs");
        var psi = new ProcessStartInfo(Tool("pg_restore")) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "--exit-on-error", "--no-password", "-d", db, archive }) psi.ArgumentList.Add(a);
        psi.Environment["PGHOST"] = Pg.Host;
        psi.Environment["PGPORT"] = Pg.Port.ToString();
        psi.Environment["PGUSER"] = Pg.User;
        psi.Environment["PGPASSWORD"] = Pg.Password;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(120_000), "pg_restore hung");
        Assert.True(p.ExitCode == 0, "pg_restore failed: " + err.Result);
        return db;
    }

    private static Dictionary<string, long> ManifestCounts(string manifestPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(manifestPath));
        return doc.RootElement.GetProperty("rowCounts").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64());
    }

    /// <summary>Every file under the store (hidden temp files included).</summary>
    private string[] StoreFiles() => Directory.Exists(_store)
        ? Directory.GetFileSystemEntries(_store, "*", SearchOption.AllDirectories).Where(e => File.Exists(e) || Path.GetDirectoryName(e) != _store).ToArray()
        : Array.Empty<string>();

    /// <summary>The ErrorId of the one error a run ended with (a cmdlet's terminating error ends only its statement in a script).</summary>
    private static string ErrorId(RunResult r)
    {
        var record = r.Terminating is IContainsErrorRecord c ? c.ErrorRecord : Assert.Single(r.Errors);
        return record.FullyQualifiedErrorId.Split(',')[0];
    }

    private string Backup(ModuleSession s, string db, string extra = "") =>
        Pg.PowerShellSetup(db) + $"; Backup-Database @Pg -Path '{Q(_store)}' {extra}";

    [Fact]
    public void Round_trip_brings_back_tables_sequences_extensions_and_large_objects()
    {
        var db = NewDatabase();
        var pgcrypto = Scalar<long>(db, "SELECT count(*) FROM pg_available_extensions WHERE name = 'pgcrypto'") > 0;
        Exec(db, """
            CREATE SCHEMA app;
            CREATE TABLE app.items(id int PRIMARY KEY, name text, price numeric(10,2), created timestamptz DEFAULT '2026-01-01');
            INSERT INTO app.items(id, name, price) SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 5000) g;
            CREATE TABLE "odd ""name"" t"(id int PRIMARY KEY, v text);
            INSERT INTO "odd ""name"" t" VALUES (1, 'a'), (2, E'line\nbreak'), (3, NULL);
            CREATE TABLE events(id int, at date) PARTITION BY RANGE (id);
            CREATE TABLE events_1 PARTITION OF events FOR VALUES FROM (0) TO (100);
            CREATE TABLE events_2 PARTITION OF events FOR VALUES FROM (100) TO (1000);
            INSERT INTO events SELECT g, date '2026-01-01' + g FROM generate_series(1, 300) g;
            CREATE TABLE empty_one(id int PRIMARY KEY);
            CREATE SEQUENCE order_no START 1000;
            SELECT nextval('order_no'), nextval('order_no'), nextval('order_no');
            """);
        // pgcrypto ships with Debian's postgresql package; a server without it skips that part.
        if (pgcrypto) Exec(db, "CREATE EXTENSION pgcrypto; CREATE TABLE secrets(id int PRIMARY KEY, h text); INSERT INTO secrets VALUES (1, encode(digest('abc', 'sha256'), 'hex'))");
        else _log.WriteLine("pgcrypto is not available on this server: the extension part of the round trip is skipped.");
        var loid = Scalar<long>(db, "SELECT lo_from_bytea(0, decode(repeat('00ff10ab', 50000), 'hex'))::bigint");
        var loMd5 = Scalar<string>(db, $"SELECT md5(lo_get({loid}))");

        using var s = new ModuleSession();
        var r = s.Run(Backup(s, db) + " -Verbose");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var b = Assert.Single(r.Output);
        Assert.Equal("OpsTools.Backup.BackupInfo", b.BaseObject.GetType().FullName);
        Assert.Equal(db, S(b, "Name"));
        Assert.Equal(db, S(b, "Database"));
        Assert.Equal("Database", S(b, "Kind"));
        Assert.Equal("custom", S(b, "Format"));
        Assert.Equal("Unverified", S(b, "Verification"));
        var archive = S(b, "Path");
        Assert.True(File.Exists(archive));
        Assert.EndsWith(".dump", archive);
        Assert.Equal(Path.Combine(_store, db), Path.GetDirectoryName(archive));
        Assert.Equal(new FileInfo(archive).Length, Convert.ToInt64(P(b, "SizeBytes")));
        using (var fs = File.OpenRead(archive))
            Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(fs)).ToLowerInvariant(), S(b, "Sha256"));
        Assert.StartsWith(Pg.MajorVersion + ".", S(b, "ServerVersion"));
        Assert.StartsWith(Pg.MajorVersion + ".", S(b, "PgDumpVersion"));
        Assert.Equal($"{Pg.Host}:{Pg.Port}", S(b, "Source"));
        Assert.Equal(Environment.MachineName, S(b, "MachineName"));
        Assert.False(string.IsNullOrEmpty(S(b, "OpsToolsVersion")));
        Assert.Contains(r.Verbose, v => v.Contains("pg_restore --list read", StringComparison.Ordinal));
        Assert.Contains(r.Progress, p => p.Activity == "Backup-Database");
        Assert.DoesNotContain(r.Verbose, v => v.Contains(Pg.Password, StringComparison.Ordinal));

        // The manifest's counts are the test's own counts (partitions counted as themselves, the parent not at all).
        var counts = ManifestCounts(S(b, "ManifestPath"));
        var expected = new Dictionary<string, long>
        {
            ["app.items"] = 5000, ["public.odd \"name\" t"] = 3, ["public.events_1"] = 99, ["public.events_2"] = 201, ["public.empty_one"] = 0,
        };
        if (pgcrypto) expected["public.secrets"] = 1;
        Assert.Equal(expected.OrderBy(k => k.Key), counts.OrderBy(k => k.Key));
        var shown = (System.Collections.IEnumerable)P(b, "RowCounts")!;
        Assert.Equal(expected.Count, shown.Cast<object>().Count());

        // Restore it with the cluster's pg_restore and compare.
        var restored = RestoreIntoNewDatabase(archive);
        foreach (var (table, sql) in new[]
        {
            ("app.items", "FROM app.items t"), ("odd", "FROM \"odd \"\"name\"\" t\" t"), ("events", "FROM events t"),
        })
        {
            var query = $"SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY id)), '') {sql}";
            Assert.Equal(Scalar<string>(db, query), Scalar<string>(restored, query));
        }
        Assert.Equal(5000, Scalar<long>(restored, "SELECT count(*) FROM app.items"));
        Assert.Equal("1002:true", Scalar<string>(restored, "SELECT last_value::text || ':' || is_called::text FROM order_no"));
        Assert.Equal(1003L, Scalar<long>(restored, "SELECT nextval('order_no')"));
        Assert.Equal(loMd5, Scalar<string>(restored, $"SELECT md5(lo_get({loid}))"));
        if (pgcrypto)
        {
            Assert.Equal(1L, Scalar<long>(restored, "SELECT count(*) FROM pg_extension WHERE extname = 'pgcrypto'"));
            Assert.Equal(Scalar<string>(db, "SELECT h FROM secrets"), Scalar<string>(restored, "SELECT encode(digest('abc', 'sha256'), 'hex')"));
        }
        // Nothing else in the store: no temp file, one archive and its manifest.
        Assert.Equal(new[] { Path.GetFileName(archive), Path.GetFileName(archive) + ".manifest.json" },
            Directory.GetFiles(Path.Combine(_store, db)).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray());
    }

    [Fact]
    public async Task Writes_during_the_dump_do_not_break_the_agreement_of_counts_and_archive()
    {
        var db = NewDatabase();
        Exec(db, "CREATE TABLE orders(id bigserial PRIMARY KEY, payload text); " +
                 "INSERT INTO orders(payload) SELECT repeat(md5(g::text), 8) FROM generate_series(1, 400000) g; " +
                 "CREATE TABLE audit(id bigserial PRIMARY KEY, note text); INSERT INTO audit(note) SELECT 'n' || g FROM generate_series(1, 1000) g");
        var before = Scalar<long>(db, "SELECT count(*) FROM orders");
        using var stop = new CancellationTokenSource();
        long inserted = 0;
        var writer = Task.Run(() =>
        {
            using var c = Pg.Open(db);
            while (!stop.IsCancellationRequested)
            {
                using var cmd = new NpgsqlCommand("INSERT INTO orders(payload) SELECT 'new' FROM generate_series(1, 50); INSERT INTO audit(note) VALUES ('during')", c);
                cmd.ExecuteNonQuery();
                Interlocked.Add(ref inserted, 50);
                Thread.Sleep(5);
            }
        });
        RunResult r;
        try
        {
            SpinWait.SpinUntil(() => Interlocked.Read(ref inserted) > 0, 10_000);
            using var s = new ModuleSession();
            r = s.Run(Backup(s, db));
        }
        finally
        {
            stop.Cancel();
            await writer.WaitAsync(TimeSpan.FromSeconds(30));
        }
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var b = Assert.Single(r.Output);
        var counts = ManifestCounts(S(b, "ManifestPath"));
        var after = Scalar<long>(db, "SELECT count(*) FROM orders");
        _log.WriteLine($"orders: {before} before, {counts["public.orders"]} in the snapshot, {after} after ({Interlocked.Read(ref inserted)} inserted meanwhile)");
        Assert.True(counts["public.orders"] > before, "the writer's first rows were committed before the backup started");
        Assert.True(after > counts["public.orders"], "rows were written while the dump ran");

        var restored = RestoreIntoNewDatabase(S(b, "Path"));
        Assert.Equal(counts["public.orders"], Scalar<long>(restored, "SELECT count(*) FROM orders"));
        Assert.Equal(counts["public.audit"], Scalar<long>(restored, "SELECT count(*) FROM audit"));
        // One snapshot for both tables: each "during" insert went into both in one transaction.
        Assert.Equal((counts["public.orders"] - 400000) / 50, counts["public.audit"] - 1000);
    }

    [Fact]
    public void Get_Backup_lists_newest_first_filters_and_never_lists_incomplete_archives_as_good()
    {
        var app = NewDatabase("app");
        var other = NewDatabase("oth");
        Exec(app, "CREATE TABLE t(id int); INSERT INTO t VALUES (1)");
        Exec(other, "CREATE TABLE t(id int)");
        using var s = new ModuleSession();
        var first = Assert.Single(s.Invoke(Backup(s, app)));
        var o = Assert.Single(s.Invoke(Backup(s, other)));
        Thread.Sleep(20);
        var middle = DateTime.UtcNow;
        var second = Assert.Single(s.Invoke(Backup(s, app)));

        // Left behind by a backup that never finished: an archive without manifest, and a hidden temp file.
        File.WriteAllBytes(Path.Combine(_store, app, app + "_20991231T000000000Z.dump"), new byte[] { 1, 2, 3 });
        File.WriteAllBytes(Path.Combine(_store, app, "." + app + "_20991231T000000001Z.dump.partial"), new byte[] { 1, 2, 3 });

        var all = s.Run($"Get-Backup -Path '{Q(_store)}'");
        Assert.Empty(all.Errors);
        Assert.Equal(new[] { S(second, "Id"), S(o, "Id"), S(first, "Id") }, all.Output.Select(b => S(b, "Id")).ToArray());
        Assert.Contains(all.Warnings, w => w.Contains("1 incomplete backup left out", StringComparison.Ordinal));
        Assert.All(all.Output, b => Assert.NotEqual("Incomplete", S(b, "Verification")));

        var mine = s.Invoke($"Get-Backup -Path '{Q(_store)}' -Database {app} -WarningAction SilentlyContinue");
        Assert.Equal(new[] { S(second, "Id"), S(first, "Id") }, mine.Select(b => S(b, "Id")).ToArray());
        var latest = s.Invoke($"Get-Backup -Path '{Q(_store)}' -Latest -WarningAction SilentlyContinue");
        Assert.Equal(new[] { S(second, "Id"), S(o, "Id") }, latest.Select(b => S(b, "Id")).ToArray());
        var latestApp = Assert.Single(s.Invoke($"Get-Backup -Path '{Q(_store)}' -Name app* -Latest -WarningAction SilentlyContinue"));
        Assert.Equal(S(second, "Path"), S(latestApp, "Path"));
        var since = s.Invoke($"Get-Backup -Path '{Q(_store)}' -Since ([datetime]::new({middle.Ticks}, 'Utc')) -WarningAction SilentlyContinue");
        Assert.Equal(new[] { S(second, "Id") }, since.Select(b => S(b, "Id")).ToArray());
        var localSince = s.Invoke($"Get-Backup -Path '{Q(_store)}' -Since ([datetime]::new({middle.ToLocalTime().Ticks}, 'Local')) -WarningAction SilentlyContinue");
        Assert.Single(localSince);

        var withIncomplete = s.Invoke($"Get-Backup -Path '{Q(_store)}' -Database {app} -IncludeIncomplete");
        Assert.Equal(3, withIncomplete.Count);
        var orphan = withIncomplete.Single(b => S(b, "Verification") == "Incomplete");
        Assert.EndsWith("_20991231T000000000Z.dump", S(orphan, "Path"));
        Assert.DoesNotContain(withIncomplete, b => S(b, "Path").EndsWith(".partial", StringComparison.Ordinal));
        // -Latest never picks the incomplete one, even though it is "newer".
        Assert.Equal(S(second, "Id"), S(Assert.Single(s.Invoke($"Get-Backup -Path '{Q(_store)}' -Database {app} -Latest -IncludeIncomplete")), "Id"));

        // The store from an environment file; a store that does not exist is an error, not an empty list.
        var envFile = Path.Combine(_store, "t.ops.psd1");
        File.WriteAllText(envFile, $"@{{ Name = 't'; Backup = @{{ Path = '{Q(_store)}' }} }}");
        Assert.Equal(2, s.Invoke($"Get-Backup -Environment '{Q(envFile)}' -Database {app} -WarningAction SilentlyContinue").Count);
        var missing = s.Run($"Get-Backup -Path '{Q(Path.Combine(_store, "nope"))}'");
        Assert.Equal("BackupStoreNotFound", ErrorId(missing));
        Assert.Empty(missing.Output);
        var none = s.Run("Get-Backup");
        Assert.Equal("BackupStoreMissing", ErrorId(none));

        // Piped on by Database (what Test-Backup binds).
        var piped = s.Invoke($"Get-Backup -Path '{Q(_store)}' -Database {app} -Latest | ForEach-Object {{ $_.Database }}");
        Assert.Equal(app, Assert.Single(piped).ToString());
    }

    /// <summary>Process ids of pg_dump processes that this test process started.</summary>
    private static List<int> OurPgDumps()
    {
        var mine = Environment.ProcessId;
        var result = new List<int>();
        foreach (var p in Process.GetProcessesByName("pg_dump"))
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{p.Id}/stat");
                var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);
                if (ppid == mine) result.Add(p.Id);
            }
            catch (Exception e) when (e is IOException or FormatException) { }
            finally { p.Dispose(); }
        }
        return result;
    }

    private string? PartialFile() => Directory.Exists(_store)
        ? Directory.GetFiles(_store, "*.partial", SearchOption.AllDirectories).FirstOrDefault(f => { try { return new FileInfo(f).Length > 1_000_000; } catch (IOException) { return false; } })
        : null;

    [Fact]
    public async Task Ctrl_C_or_a_killed_pg_dump_mid_way_leaves_no_archive_no_manifest_and_no_temp_file()
    {
        var db = NewDatabase("big");
        // About 200 MB of rows, so the dump is still running when it is interrupted.
        Exec(db, "CREATE TABLE big(id int, payload text); INSERT INTO big SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 900000) g");
        _log.WriteLine($"table size: {Scalar<long>(db, "SELECT pg_total_relation_size('big')") / 1048576} MB");
        using var s = new ModuleSession();
        var before = s.Invoke($"Get-Backup -Path '{Q(_store)}' -IncludeIncomplete").Count;

        // 1. Ctrl+C once pg_dump has written its first megabyte.
        using var cts = new CancellationTokenSource();
        var sawPartial = false;
        var watcher = Task.Run(() =>
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(60) && !cts.IsCancellationRequested)
            {
                if (PartialFile() is not null) { sawPartial = true; break; }
                Thread.Sleep(10);
            }
            cts.Cancel();
        });
        var sw = Stopwatch.StartNew();
        var r = s.Run(Backup(s, db), cts.Token);
        await watcher;
        _log.WriteLine($"stopped after {sw.ElapsedMilliseconds} ms");
        Assert.True(sawPartial, "the dump was interrupted while it was writing");
        Assert.True(r.Terminating is null or PipelineStoppedException, r.Terminating?.ToString());
        Assert.Empty(r.Output);
        Assert.Empty(r.Errors); // stopped, not "failed"
        Assert.Empty(StoreFiles());
        Assert.Empty(OurPgDumps());

        // 2. pg_dump killed from outside (OOM killer, an admin's kill -9).
        var run = Task.Run(() => s.Run(Backup(s, db)));
        var killed = 0;
        var watch = Stopwatch.StartNew();
        while (!run.IsCompleted && watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (PartialFile() is not null)
            {
                foreach (var pid in OurPgDumps())
                    try { using var p = Process.GetProcessById(pid); p.Kill(); killed++; } catch (ArgumentException) { } catch (InvalidOperationException) { }
                if (killed > 0) break;
            }
            Thread.Sleep(10);
        }
        var k = await run.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(killed > 0, "pg_dump was killed mid-way");
        Assert.Empty(k.Output);
        var error = Assert.Single(k.Errors);
        Assert.Equal("BackupFailed", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("killed by signal 9", error.Exception.Message);
        Assert.Empty(StoreFiles());

        Assert.Equal(before, s.Invoke($"Get-Backup -Path '{Q(_store)}' -IncludeIncomplete").Count);
        // No session of the backup is left on the server.
        SpinWait.SpinUntil(() => Scalar<long>("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'OpsTools Backup-Database'") == 0, 10_000);
        Assert.Equal(0L, Scalar<long>("postgres", "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'OpsTools Backup-Database'"));
    }

    [Fact]
    public void A_wrong_or_too_old_pg_dump_is_a_clear_error_and_nothing_is_written()
    {
        var db = NewDatabase();
        Exec(db, "CREATE TABLE t(id int)");
        if (OperatingSystem.IsWindows()) return; // the fake pg_dump is a shell script
        var fakeDir = Path.Combine(_store, "..", "opstools-fake-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(fakeDir);
        try
        {
            var fake = Path.Combine(fakeDir, "pg_dump");
            File.WriteAllText(fake, "#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.0'\n");
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var s = new ModuleSession();

            var old = s.Run(Backup(s, db, $"-PgDumpPath '{Q(fake)}'"));
            var e1 = Assert.Single(old.Errors);
            Assert.Equal("PgToolVersionMismatch", e1.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains("9.6.0", e1.Exception.Message);
            Assert.Contains($"pg_dump {Pg.MajorVersion} or newer", e1.Exception.Message);

            var notDump = s.Run(Backup(s, db, "-PgDumpPath /bin/true"));
            Assert.Equal("PgToolNotFound", Assert.Single(notDump.Errors).FullyQualifiedErrorId.Split(',')[0]);
            var missing = s.Run(Backup(s, db, $"-PgDumpPath '{Q(Path.Combine(fakeDir, "nothing"))}'"));
            Assert.Equal("PgToolNotFound", Assert.Single(missing.Errors).FullyQualifiedErrorId.Split(',')[0]);

            Assert.Empty(old.Output);
            Assert.Empty(StoreFiles());
        }
        finally
        {
            Directory.Delete(fakeDir, recursive: true);
        }
    }

    [Fact]
    public void A_full_store_is_a_clear_error_and_leaves_nothing()
    {
        var mount = Path.Combine(_store, "small");
        Directory.CreateDirectory(mount);
        var m = Process.Start(new ProcessStartInfo("mount", $"-t tmpfs -o size=2m tmpfs {mount}") { RedirectStandardError = true, UseShellExecute = false })!;
        m.WaitForExit();
        if (m.ExitCode != 0)
        {
            // Needs root (CI runs as root); say so loudly rather than pass silently.
            _log.WriteLine("SKIPPED: cannot mount a 2 MB tmpfs here (" + m.StandardError.ReadToEnd().Trim() + "); the disk-full test did not run.");
            return;
        }
        try
        {
            var db = NewDatabase();
            // Random-looking text compresses poorly: a dump of several MB.
            Exec(db, "CREATE TABLE t(id int, v text); INSERT INTO t SELECT g, md5(g::text) || md5((g * 7)::text) FROM generate_series(1, 150000) g");
            using var s = new ModuleSession();
            var r = s.Run(Pg.PowerShellSetup(db) + $"; Backup-Database @Pg -Store '{Q(mount)}'");
            Assert.Empty(r.Output);
            var e = Assert.Single(r.Errors);
            Assert.Equal("BackupDiskFull", e.FullyQualifiedErrorId.Split(',')[0]);
            Assert.Contains(mount, e.Exception.Message);
            Assert.Contains("MB free", e.Exception.Message);
            Assert.Empty(Directory.GetFiles(mount, "*", SearchOption.AllDirectories));

            // Directory format: pg_dump itself hits the full disk.
            var d = s.Run(Pg.PowerShellSetup(db) + $"; Backup-Database @Pg -Store '{Q(mount)}' -Format Directory");
            Assert.Equal("BackupDiskFull", Assert.Single(d.Errors).FullyQualifiedErrorId.Split(',')[0]);
            Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(mount, db)));
        }
        finally
        {
            using var u = Process.Start("umount", mount);
            u.WaitForExit();
        }
    }

    [Fact]
    public void Directory_format_with_two_jobs_restores_and_its_checksum_follows_the_documented_rule()
    {
        var db = NewDatabase();
        Exec(db, "CREATE TABLE a(id int PRIMARY KEY, v text); INSERT INTO a SELECT g, md5(g::text) FROM generate_series(1, 20000) g; " +
                 "CREATE TABLE b(id int PRIMARY KEY); INSERT INTO b SELECT generate_series(1, 777)");
        using var s = new ModuleSession();
        var b = Assert.Single(s.Invoke(Backup(s, db, "-Jobs 2")));
        Assert.Equal("directory", S(b, "Format"));
        var dir = S(b, "Path");
        Assert.True(Directory.Exists(dir));
        Assert.EndsWith(".dir", dir);
        Assert.True(File.Exists(Path.Combine(dir, "toc.dat")));
        // sha256sum of each file in ordinal name order, then sha256 of that listing.
        var listing = string.Concat(Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace('\\', '/')).OrderBy(f => f, StringComparer.Ordinal)
            .Select(f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(dir, f)))).ToLowerInvariant() + "  " + f + "\n"));
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(listing))).ToLowerInvariant(), S(b, "Sha256"));
        Assert.Equal(Directory.GetFiles(dir).Sum(f => new FileInfo(f).Length), Convert.ToInt64(P(b, "SizeBytes")));
        Assert.Equal(new Dictionary<string, long> { ["public.a"] = 20000, ["public.b"] = 777 }.OrderBy(k => k.Key), ManifestCounts(S(b, "ManifestPath")).OrderBy(k => k.Key));
        var restored = RestoreIntoNewDatabase(dir);
        Assert.Equal(Scalar<string>(db, "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM a t"), Scalar<string>(restored, "SELECT md5(string_agg(t::text, ',' ORDER BY id)) FROM a t"));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(_store, db), ".*"));

        // -Format Custom with -Jobs is refused before anything runs.
        var bad = s.Run(Backup(s, db, "-Format Custom -Jobs 2"));
        Assert.Equal("BackupInvalidOptions", ErrorId(bad));
        Assert.Empty(bad.Output);
    }

    [Fact]
    public void A_database_named_with_quotes_and_spaces_is_backed_up_under_a_safe_folder_name()
    {
        const string name = "bk \"odd\" db's";
        Exec("postgres", "CREATE DATABASE \"bk \"\"odd\"\" db's\"");
        _databases.Add(name);
        Exec(name, "CREATE TABLE \"my table\"(id int); INSERT INTO \"my table\" VALUES (1), (2)");
        using var s = new ModuleSession();
        var b = Assert.Single(s.Invoke(Pg.PowerShellSetup("x") + $"; $Pg.Database = '{Q(name)}'; Backup-Database @Pg -Path '{Q(_store)}'"));
        Assert.Equal(name, S(b, "Database"));
        Assert.Equal(Path.Combine(_store, "bk__odd__db_s"), Path.GetDirectoryName(S(b, "Path")));
        Assert.Equal(2L, ManifestCounts(S(b, "ManifestPath"))["public.my table"]);
        using (var doc = JsonDocument.Parse(File.ReadAllText(S(b, "ManifestPath"))))
            Assert.Equal(name, doc.RootElement.GetProperty("name").GetString());
        var listed = Assert.Single(s.Invoke($"Get-Backup -Path '{Q(_store)}' -Database '{Q(name)}'"));
        Assert.Equal(S(b, "Id"), S(listed, "Id"));
        var restored = RestoreIntoNewDatabase(S(b, "Path"));
        Assert.Equal(2L, Scalar<long>(restored, "SELECT count(*) FROM \"my table\""));
    }

    [Fact]
    public void Every_database_of_an_environment_is_backed_up_and_a_failing_one_is_a_non_terminating_error()
    {
        var good = NewDatabase();
        Exec(good, "CREATE TABLE t(id int)");
        var env = Path.Combine(_store, "two.ops.psd1");
        File.WriteAllText(env, $$"""
            @{
                Name = 'two'
                Databases = @(
                    @{ Name = 'missing'; Server = '{{Pg.Host}}'; Port = {{Pg.Port}}; Database = 'no_such_db'; User = '{{Pg.User}}'; PasswordVariable = 'OPSTOOLS_BK_PW' }
                    @{ Name = 'good'; Server = '{{Pg.Host}}'; Port = {{Pg.Port}}; Database = '{{good}}'; User = '{{Pg.User}}'; PasswordVariable = 'OPSTOOLS_BK_PW' }
                )
                Backup = @{ Path = 'store' }
            }
            """);
        using var s = new ModuleSession();
        var r = s.Run($"$env:OPSTOOLS_BK_PW = '{Pg.Password}'; try {{ Backup-Database -Environment '{Q(env)}' }} finally {{ $env:OPSTOOLS_BK_PW = $null }}");
        Assert.Null(r.Terminating);
        Assert.Equal("DbDatabaseNotFound", Assert.Single(r.Errors).FullyQualifiedErrorId.Split(',')[0]);
        var b = Assert.Single(r.Output);
        Assert.Equal(good, S(b, "Database"));
        Assert.StartsWith(Path.Combine(_store, "store", good), S(b, "Path")); // relative to the environment file

        // -WhatIf writes nothing.
        var w = s.Run(Pg.PowerShellSetup(good) + $"; Backup-Database @Pg -Path '{Q(Path.Combine(_store, "whatif"))}' -WhatIf");
        Assert.Empty(w.Output);
        Assert.False(Directory.Exists(Path.Combine(_store, "whatif")));
    }
}
