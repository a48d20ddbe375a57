using System.Diagnostics;
using System.Management.Automation;
using Npgsql;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Backup;

/// <summary>Test-Backup against real pg_dump archives, the real pg_restore and the throwaway cluster.</summary>
[Collection("PostgreSQL")]
public sealed class TestBackupTests(PgClusterFixture fixture) : IDisposable
{
    private PgCluster Pg => fixture.Cluster;
    private readonly string _store = BackupFixtures.NewStore();
    private readonly List<string> _databases = new();

    public void Dispose()
    {
        foreach (var db in _databases) Pg.DropDatabase(db);
        BackupFixtures.DeleteStore(_store);
    }

    private string NewDatabase(string sql, string? name = null)
    {
        string db;
        if (name is null) db = Pg.CreateDatabase("bk");
        else { Pg.Exec($"CREATE DATABASE \"{name.Replace("\"", "\"\"")}\""); db = name; }
        _databases.Add(db);
        Pg.Exec(sql, db);
        return db;
    }

    private const string ShopSchema =
        "CREATE TABLE customers(id serial PRIMARY KEY, name text NOT NULL); " +
        "INSERT INTO customers(name) SELECT 'c' || g FROM generate_series(1, 1200) g; " +
        "CREATE TABLE orders(id bigserial PRIMARY KEY, customer int REFERENCES customers(id), total numeric(10,2)); " +
        "INSERT INTO orders(customer, total) SELECT 1 + g % 1200, g * 1.5 FROM generate_series(1, 5000) g; " +
        "CREATE SCHEMA audit; CREATE TABLE audit.events(at timestamptz DEFAULT now(), what text); " +
        "CREATE TABLE empty_one(x int);";

    private long DrillDatabasesLeft() => Pg.Scalar<long>("SELECT count(*) FROM pg_database WHERE datname LIKE 'opstools\\_drill\\_%'");

    /// <summary>PowerShell that defines $Pg for the drill server: the cluster, connecting to 'postgres' to create scratch databases.</summary>
    private string Drill => Pg.PowerShellSetup("postgres");

    private static string Q(string s) => "'" + s.Replace("'", "''") + "'";

    private static T P<T>(PSObject o, string name)
    {
        var v = RunResult.Prop(o, name);
        if (typeof(T) == typeof(string)) return (T)(object)(v?.ToString() ?? "");
        var t = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return v is null ? default! : (T)Convert.ChangeType(v, t, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string Verification(FixtureBackup b) => (string)BackupFixtures.ReadManifest(b.ManifestPath)["verification"]!;

    private static PSObject One(RunResult r)
    {
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        return Assert.Single(r.Output);
    }

    /// <summary>A BackupInfo built in the script, as Get-Backup would pass it.</summary>
    private static string InfoOf(FixtureBackup b) =>
        $"[OpsTools.Backup.BackupInfo]@{{ Id = {Q(b.Name + "/x")}; Name = {Q(b.Name)}; Database = {Q(b.Name)}; Path = {Q(b.Archive)}; ManifestPath = {Q(b.ManifestPath)}; Store = {Q(b.Store)}; MachineName = 'backuphost' }}";

    [Fact]
    public void A_good_backup_passes_Quick_and_Drill_and_the_manifest_records_it()
    {
        var db = NewDatabase(ShopSchema);
        var b = BackupFixtures.Create(Pg, db, _store);
        using var s = new ModuleSession();

        var quick = s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick");
        var q = One(quick);
        Assert.Equal("OpsTools.Backup.BackupTestResult", q.BaseObject.GetType().FullName);
        Assert.Equal("Healthy", P<string>(q, "Status"));
        Assert.Equal("Quick", P<string>(q, "Mode"));
        Assert.True(P<bool>(q, "ChecksumOk"));
        Assert.True(P<bool>(q, "ArchiveReadable"));
        Assert.Equal("BackupTest", P<string>(q, "Check"));
        Assert.Equal("Backup", P<string>(q, "Area"));
        Assert.StartsWith(db + "/", P<string>(q, "Target"));
        Assert.Equal(P<string>(q, "Target"), P<string>(q, "BackupId"));
        Assert.Equal(new FileInfo(b.Archive).Length, P<long>(q, "BytesHashed"));
        Assert.Equal("ChecksumVerified", Verification(b));
        Assert.Contains(quick.Progress, p => p.StatusDescription.Contains("Checking the SHA-256") && p.StatusDescription.Contains(" of "));
        Assert.Equal(0, DrillDatabasesLeft());

        // The default: a restore drill, from a BackupInfo on the pipeline (its Host must not become the drill server).
        var drill = s.Run(Drill + "; " + InfoOf(b) + " | Test-Backup @Pg -Verbose");
        var d = One(drill);
        Assert.Equal("Healthy", P<string>(d, "Status"));
        Assert.Equal("Drill", P<string>(d, "Mode"));
        Assert.Equal(4, P<int>(d, "TablesCompared"));
        Assert.Empty((System.Collections.IEnumerable)RunResult.Prop(d, "TablesMismatched")!);
        Assert.StartsWith("opstools_drill_", P<string>(d, "ScratchDatabase"));
        Assert.True(P<bool>(d, "ScratchDropped"));
        Assert.Equal("RestoreVerified", P<string>(d, "Verification"));
        Assert.Contains("row counts", P<string>(d, "Message"));
        Assert.Equal(0, DrillDatabasesLeft());
        var m = BackupFixtures.ReadManifest(b.ManifestPath);
        Assert.Equal("RestoreVerified", (string)m["verification"]!);
        Assert.NotNull(m["lastTestTime"]);
        Assert.StartsWith("Drill:", (string)m["lastTestMessage"]!);
        Assert.Contains(drill.Progress, p => p.Activity.StartsWith("Test-Backup") && p.RecordType == ProgressRecordType.Completed);
        Assert.True(drill.Progress.Any(p => (p.StatusDescription ?? "").Contains("Counting rows")), string.Join(" | ", drill.Progress.Select(p => p.StatusDescription)));
        Assert.Contains(drill.Verbose, v => v.Contains("--no-owner") && v.Contains("--no-acl"));
        Assert.DoesNotContain(drill.Verbose, v => v.Contains(Pg.Password));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(b.Archive)!, ".*")); // no temp manifests left

        // -PassThru passes the updated backup on, for Restore-Backup.
        var passed = One(s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg -PassThru"));
        Assert.Equal("OpsTools.Backup.BackupInfo", passed.BaseObject.GetType().FullName);
        Assert.Equal("RestoreVerified", P<string>(passed, "Verification"));
        Assert.Equal(b.Archive, P<string>(passed, "Path"));
        Assert.Equal(0, DrillDatabasesLeft());

        // The drill leaves no idle session behind on the server (its connections are not kept in a pool).
        Assert.Equal(0, Pg.Scalar<long>("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'OpsTools'"));

        // A quick test later proves the archive unchanged and keeps the stronger proof.
        var again = One(s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick"));
        Assert.Equal("Healthy", P<string>(again, "Status"));
        Assert.Equal("RestoreVerified", P<string>(again, "Verification"));
        Assert.Equal("RestoreVerified", Verification(b));

        // -WhatIf changes nothing.
        var before = File.ReadAllText(b.ManifestPath);
        var whatIf = s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg -WhatIf");
        Assert.Empty(whatIf.Output);
        Assert.Equal(before, File.ReadAllText(b.ManifestPath));
    }

    [Fact]
    public void A_directory_format_backup_is_hashed_file_by_file_and_restored_in_parallel()
    {
        var db = NewDatabase(ShopSchema);
        var b = BackupFixtures.Create(Pg, db, _store, format: "directory");
        using var s = new ModuleSession();
        var d = One(s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg -Verbose"));
        Assert.Equal("Healthy", P<string>(d, "Status"));
        Assert.Equal(4, P<int>(d, "TablesCompared"));
        Assert.Equal("RestoreVerified", Verification(b));
        Assert.Equal(0, DrillDatabasesLeft());

        // One data file of the folder changed: the folder's checksum catches it.
        var data = Directory.GetFiles(b.Archive, "*.dat*").OrderByDescending(f => new FileInfo(f).Length).First();
        var bytes = File.ReadAllBytes(data);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(data, bytes);
        var bad = One(s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick"));
        Assert.Equal("Critical", P<string>(bad, "Status"));
        Assert.Contains("Checksum mismatch", P<string>(bad, "Message"));
        Assert.Equal("Failed", Verification(b));
    }

    [Fact]
    public void A_truncated_archive_fails_Quick_and_Drill_with_the_reason()
    {
        var db = NewDatabase(ShopSchema);
        var b = BackupFixtures.Create(Pg, db, _store);
        var full = new FileInfo(b.Archive).Length;
        using (var f = new FileStream(b.Archive, FileMode.Open)) f.SetLength(full / 2);
        using var s = new ModuleSession();

        var q = One(s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick"));
        Assert.Equal("Critical", P<string>(q, "Status"));
        Assert.Contains($"{full / 2:N0} bytes but the manifest says {full:N0} (truncated?)", P<string>(q, "Message"));
        Assert.False(P<bool>(q, "ChecksumOk"));
        Assert.Equal("Failed", P<string>(q, "Verification"));
        Assert.Equal("Failed", Verification(b));

        var d = One(s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg"));
        Assert.Equal("Critical", P<string>(d, "Status"));
        Assert.Contains("truncated?", P<string>(d, "Message"));
        Assert.Null(RunResult.Prop(d, "ScratchDatabase")); // never got that far
        Assert.Equal(0, DrillDatabasesLeft());
        Assert.Equal("Failed", Verification(b));

        // -PassThru never passes a bad backup on: an error instead, with the result as its target.
        var pass = s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick -PassThru");
        Assert.Empty(pass.Output);
        var e = Assert.Single(pass.Errors);
        Assert.Equal("BackupTestFailed", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("truncated?", e.Exception.Message);

        // Even when someone "fixed" the manifest to the cut archive, the restore drill does not pass it.
        BackupFixtures.Reseal(b);
        var sealedDrill = One(s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg"));
        Assert.Equal("Critical", P<string>(sealedDrill, "Status"));
        Assert.Matches("pg_restore cannot read the archive|pg_restore could not restore the archive", P<string>(sealedDrill, "Message"));
        Assert.Equal("Failed", Verification(b));
        Assert.Equal(0, DrillDatabasesLeft());
    }

    [Fact]
    public void One_flipped_byte_fails_on_the_checksum_although_pg_restore_still_lists_the_archive()
    {
        var db = NewDatabase(ShopSchema);
        var b = BackupFixtures.Create(Pg, db, _store, compression: 0);
        var expected = b.Sha256;
        var bytes = File.ReadAllBytes(b.Archive);
        bytes[bytes.Length / 2] ^= 0x20;
        File.WriteAllBytes(b.Archive, bytes);
        var list = BackupFixtures.RunFull(BackupFixtures.Tool(Pg, "pg_restore"), new[] { "--list", b.Archive }, null, check: false);
        Assert.Equal(0, list.ExitCode); // the table of contents is intact: only the checksum can tell
        var actual = BackupFixtures.Hash(b.Archive).Sha256;

        using var s = new ModuleSession();
        var q = One(s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick"));
        Assert.Equal("Critical", P<string>(q, "Status"));
        Assert.Contains($"Checksum mismatch: expected {expected}, got {actual}", P<string>(q, "Message"));
        Assert.Equal("Failed", Verification(b));
        var d = One(s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg"));
        Assert.Equal("Critical", P<string>(d, "Status"));
        Assert.Contains("Checksum mismatch", P<string>(d, "Message"));
        Assert.Equal(0, DrillDatabasesLeft());
    }

    [Fact]
    public void A_missing_or_unreadable_manifest_is_a_clear_failure_and_nothing_is_written()
    {
        var db = NewDatabase(ShopSchema);
        var b = BackupFixtures.Create(Pg, db, _store);
        File.Delete(b.ManifestPath);
        using var s = new ModuleSession();

        var q = One(s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick"));
        Assert.Equal("Critical", P<string>(q, "Status"));
        Assert.Contains("No manifest", P<string>(q, "Message"));
        Assert.Null(RunResult.Prop(q, "Verification"));
        Assert.False(File.Exists(b.ManifestPath)); // nothing made up

        // As Get-Backup lists an archive without a manifest: Incomplete, no MachineName, no Database.
        var orphan = $"[OpsTools.Backup.BackupInfo]@{{ Id = 'x/orphan'; Path = {Q(b.Archive)}; ManifestPath = {Q(b.ManifestPath)}; Verification = 'Incomplete' }}";
        var d = One(s.Run(Drill + "; " + orphan + " | Test-Backup @Pg"));
        Assert.Equal("Critical", P<string>(d, "Status"));
        Assert.Contains("No manifest", P<string>(d, "Message"));
        var passOn = s.Run(Drill + "; " + orphan + " | Test-Backup @Pg -PassThru");
        Assert.Empty(passOn.Output);
        Assert.Equal("BackupTestFailed", Assert.Single(passOn.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(0, DrillDatabasesLeft());

        File.WriteAllText(b.ManifestPath, "{ \"name\": \"x\", ");
        var garbled = One(s.Run($"Test-Backup -Path {Q(b.ManifestPath)} -Quick"));
        Assert.Equal("Critical", P<string>(garbled, "Status"));
        Assert.Contains(b.ManifestPath, P<string>(garbled, "Message"));
        Assert.Equal("{ \"name\": \"x\", ", File.ReadAllText(b.ManifestPath)); // evidence kept as it was

        var missing = One(s.Run($"Test-Backup -Path {Q(Path.Combine(_store, "nothing.dump"))} -Quick"));
        Assert.Equal("Critical", P<string>(missing, "Status"));
        Assert.Contains("no archive", P<string>(missing, "Message"));
    }

    [Fact]
    public void An_edited_row_count_fails_the_drill_naming_the_table_and_the_scratch_database_is_dropped()
    {
        var db = NewDatabase(ShopSchema);
        var b = BackupFixtures.Create(Pg, db, _store);
        var m = BackupFixtures.ReadManifest(b.ManifestPath);
        m["rowCounts"]!["public.orders"] = 5001;
        BackupFixtures.WriteManifest(b.ManifestPath, m);
        using var s = new ModuleSession();

        var d = One(s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg"));
        Assert.Equal("Critical", P<string>(d, "Status"));
        var mismatched = ((System.Collections.IEnumerable)RunResult.Prop(d, "TablesMismatched")!).Cast<object>().Select(o => o.ToString()).ToList();
        Assert.Equal(new[] { "public.orders expected 5001 got 5000" }, mismatched);
        Assert.Contains("public.orders expected 5001 got 5000", P<string>(d, "Message"));
        Assert.Equal(4, P<int>(d, "TablesCompared"));
        Assert.True(P<bool>(d, "ScratchDropped"));
        Assert.Equal(0, DrillDatabasesLeft());
        Assert.Equal("Failed", Verification(b));

        // A quick test afterwards passes its own checks but does not undo the failed drill.
        var q = One(s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick"));
        Assert.Equal("Critical", P<string>(q, "Status"));
        Assert.True(P<bool>(q, "ChecksumOk"));
        Assert.Contains("last restore drill", P<string>(q, "Message"));
        Assert.Contains("public.orders expected 5001 got 5000", P<string>(q, "Message"));
        Assert.Equal("Failed", P<string>(q, "Verification"));
        Assert.Equal("Failed", Verification(b));
        Assert.Empty(s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick -PassThru").Output);

        // The console view: one line per backup with what was checked.
        s.Invoke($"Test-Backup -Path {Q(b.Archive)} -Quick | Out-Default");
        var screen = s.Host.Text;
        foreach (var column in new[] { "Status", "Backup", "Mode", "Tables", "Diffs", "Message" })
            Assert.Contains(column, screen);
        Assert.Contains("Critical", screen);
        Assert.Contains(db + "/", screen);
    }

    [Fact]
    public void Another_databases_dump_with_a_recomputed_checksum_passes_Quick_but_fails_the_drill_on_tables()
    {
        var db = NewDatabase(ShopSchema);
        var b = BackupFixtures.Create(Pg, db, _store);
        // Same table names, other contents, and one table more.
        var other = NewDatabase(ShopSchema.Replace("1200", "700") + " CREATE TABLE stray(x int); INSERT INTO stray VALUES (1);");
        var otherBackup = BackupFixtures.Create(Pg, other, BackupFixtures.NewStore());
        try
        {
            File.Copy(otherBackup.Archive, b.Archive, overwrite: true);
            BackupFixtures.Reseal(b);
            using var s = new ModuleSession();

            var q = One(s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick"));
            Assert.Equal("Healthy", P<string>(q, "Status")); // the checksum is the manifest's, and every table has data: only a drill can tell

            var d = One(s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg"));
            Assert.Equal("Critical", P<string>(d, "Status"));
            var mismatched = ((System.Collections.IEnumerable)RunResult.Prop(d, "TablesMismatched")!).Cast<object>().Select(o => o.ToString()!).ToList();
            Assert.Contains("public.customers expected 1200 got 700", mismatched);
            Assert.Contains(mismatched, x => x.StartsWith("public.stray not in the manifest"));
            Assert.DoesNotContain(mismatched, x => x.StartsWith("public.orders"));
            Assert.True(P<bool>(d, "ScratchDropped"));
            Assert.Equal(0, DrillDatabasesLeft());
            Assert.Equal("Failed", Verification(b));
        }
        finally { BackupFixtures.DeleteStore(otherBackup.Store); }
    }

    [Fact]
    public async Task Ctrl_C_during_a_drill_leaves_no_scratch_database_and_records_nothing()
    {
        var db = NewDatabase(
            "CREATE TABLE big(id bigint PRIMARY KEY, a int, b text); " +
            "INSERT INTO big SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 1500000) g; " +
            "CREATE INDEX ON big(a); CREATE INDEX ON big(b);");
        var b = BackupFixtures.Create(Pg, db, _store);
        using var s = new ModuleSession();
        using var stop = new CancellationTokenSource();
        // Press Ctrl+C once pg_restore is connected and working in the scratch database.
        var watcher = Task.Run(async () =>
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(60) && !stop.IsCancellationRequested)
            {
                if (Pg.Scalar<long>("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'OpsTools Test-Backup' AND datname LIKE 'opstools\\_drill\\_%'") > 0)
                {
                    await Task.Delay(300);
                    stop.Cancel();
                    return true;
                }
                await Task.Delay(50);
            }
            return false;
        });
        var clock = Stopwatch.StartNew();
        var r = s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg", stop.Token);
        Assert.True(await watcher, "pg_restore never connected to a scratch database");
        Assert.True(r.Terminating is null or PipelineStoppedException, r.Terminating?.ToString());
        Assert.Empty(r.Output);
        Assert.Equal(0, DrillDatabasesLeft()); // dropped before the command returned
        Assert.Equal(0, Pg.Scalar<long>("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'OpsTools Test-Backup'"));
        Assert.Equal("Unverified", Verification(b)); // an interrupted test says nothing about the backup
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void A_database_whose_name_has_quotes_and_spaces_with_an_odd_table_passes()
    {
        var name = "bk \"quoted\" db " + Guid.NewGuid().ToString("N")[..6];
        var db = NewDatabase("CREATE SCHEMA \"Sales Dept\"; CREATE TABLE \"Sales Dept\".\"my \"\"odd\"\" table\"(id int, \"a.b\" text); " +
                             "INSERT INTO \"Sales Dept\".\"my \"\"odd\"\" table\" SELECT g, 'x' FROM generate_series(1, 321) g; " +
                             "CREATE TABLE \"dots.in.name\"(x int); INSERT INTO \"dots.in.name\" VALUES (1), (2);", name);
        var b = BackupFixtures.Create(Pg, db, _store);
        Assert.Contains("Sales Dept.my \"odd\" table", b.RowCounts.Keys);
        using var s = new ModuleSession();

        var q = One(s.Run($"Test-Backup -Path {Q(b.Archive)} -Quick"));
        Assert.Equal("Healthy", P<string>(q, "Status"));
        var d = One(s.Run(Drill + "; " + InfoOf(b) + " | Test-Backup @Pg"));
        Assert.Equal("Healthy", P<string>(d, "Status"));
        Assert.Equal(2, P<int>(d, "TablesCompared"));
        Assert.True(P<bool>(d, "ScratchDropped"));
        Assert.StartsWith("opstools_drill_bk_quoted_db_", P<string>(d, "ScratchDatabase"));
        Assert.Equal("RestoreVerified", Verification(b));
        Assert.Equal(0, DrillDatabasesLeft());

        // The manifest must name every table: one dropped from it shows up in the drill.
        var m = BackupFixtures.ReadManifest(b.ManifestPath);
        m["rowCounts"]!.AsObject().Remove("public.dots.in.name");
        BackupFixtures.WriteManifest(b.ManifestPath, m);
        var extra = One(s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg"));
        Assert.Equal("Critical", P<string>(extra, "Status"));
        Assert.Contains("public.dots.in.name not in the manifest", P<string>(extra, "Message"));
    }

    [Fact]
    public void An_unreachable_drill_server_is_Unknown_and_not_held_against_the_backup()
    {
        var db = NewDatabase(ShopSchema);
        var b = BackupFixtures.Create(Pg, db, _store);
        using var s = new ModuleSession();
        var port = HealthServer.FreePort();
        var d = One(s.Run(Drill + $"; Test-Backup -Path {Q(b.Archive)} @Pg -Port {port} -TimeoutSec 3"));
        Assert.Equal("Unknown", P<string>(d, "Status"));
        Assert.Contains("connection refused", P<string>(d, "Message"));
        Assert.True(P<bool>(d, "ChecksumOk"));
        Assert.Null(RunResult.Prop(d, "Verification"));
        Assert.Equal("Unverified", Verification(b));
    }
}
