using System.Diagnostics;
using System.Globalization;
using Npgsql;
using OpsTools.TestKit;

// Backup-Database (custom format: SHA-256 while writing, exact row counts in the dump's snapshot,
// pg_restore --list, rename, manifest) against plain `pg_dump -Fc -f file` of the same database.
// Usage: dotnet run -c Release --project bench/BackupBench [-- tables rowsPerTable repetitions]
var tables = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 80_000;
var repetitions = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;

using var pg = PgCluster.Start();
var pgDump = Path.Combine(pg.BinDirectory ?? throw new InvalidOperationException("needs a throwaway cluster (not OPSTOOLS_TEST_PG)"), "pg_dump");
var db = pg.CreateDatabase("bkbench");
var work = Directory.CreateTempSubdirectory("opstools-bkbench-").FullName;
Console.WriteLine($"BackupBench: {tables} tables x {rows} rows, PostgreSQL {pg.MajorVersion} at {pg.Host}:{pg.Port}, {repetitions} repetitions");
Console.WriteLine($"  machine: {Environment.ProcessorCount} CPU(s), {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");

var sw = Stopwatch.StartNew();
pg.Exec(string.Concat(Enumerable.Range(1, tables).Select(i => $"CREATE TABLE t{i:000}(id int PRIMARY KEY, a int, b text); ")), db);
var next = 0;
Parallel.For(0, 4, _ =>
{
    using var c = pg.Open(db);
    for (int i; (i = Interlocked.Increment(ref next)) <= tables;)
    {
        using var cmd = new NpgsqlCommand($"INSERT INTO t{i:000} SELECT g, g % 1000, md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) FROM generate_series(1, {rows}) g", c) { CommandTimeout = 0 };
        cmd.ExecuteNonQuery();
    }
});
pg.Exec("VACUUM ANALYZE; CHECKPOINT", db);
Console.WriteLine($"  loaded {pg.Scalar<long>("SELECT pg_database_size(current_database())", db) / 1048576.0:0} MB in {sw.Elapsed.TotalSeconds:0.0} s");

using var session = new ModuleSession();
session.Invoke(pg.PowerShellSetup(db));

double RunOpsTools(int rep)
{
    var store = Path.Combine(work, $"store{rep}");
    var t = Stopwatch.StartNew();
    var r = session.Run($"Backup-Database @Pg -Path '{store}'");
    t.Stop();
    if (r.Terminating is not null || r.Errors.Count > 0 || r.Output.Count != 1)
        throw new InvalidOperationException("Backup-Database failed: " + (r.Terminating?.Message ?? string.Join("; ", r.Errors)));
    Directory.Delete(store, recursive: true);
    return t.Elapsed.TotalMilliseconds;
}

double RunPgDump(int rep)
{
    var file = Path.Combine(work, $"plain{rep}.dump");
    var psi = new ProcessStartInfo(pgDump) { UseShellExecute = false, RedirectStandardError = true };
    foreach (var a in new[] { "-Fc", "-h", pg.Host, "-p", pg.Port.ToString(CultureInfo.InvariantCulture), "-U", pg.User, "-d", db, "-f", file }) psi.ArgumentList.Add(a);
    psi.Environment["PGPASSWORD"] = pg.Password;
    var t = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    var err = p.StandardError.ReadToEnd();
    p.WaitForExit();
    t.Stop();
    if (p.ExitCode != 0) throw new InvalidOperationException("pg_dump failed: " + err);
    File.Delete(file);
    return t.Elapsed.TotalMilliseconds;
}

RunOpsTools(0); RunPgDump(0); // warm-up of both, caches alike
var ops = new List<double>(); var plain = new List<double>();
Console.WriteLine();
Console.WriteLine("| run | Backup-Database | pg_dump -Fc |");
Console.WriteLine("| --- | ---: | ---: |");
for (var rep = 1; rep <= repetitions; rep++)
{
    double o, v;
    if (rep % 2 == 1) { o = RunOpsTools(rep); v = RunPgDump(rep); } else { v = RunPgDump(rep); o = RunOpsTools(rep); }
    ops.Add(o); plain.Add(v);
    Console.WriteLine($"| {rep} | {o:0} ms | {v:0} ms |");
}
double Median(List<double> x) { var s = x.OrderBy(v => v).ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
var mo = Median(ops); var mv = Median(plain);
Console.WriteLine($"| **median** | **{mo:0} ms** | **{mv:0} ms** |");
Console.WriteLine();
Console.WriteLine($"Backup-Database / pg_dump = {mo / mv:0.00} (goal <= 1.05; Backup-Database also hashes, counts rows exactly, lists the archive and writes the manifest)");
pg.DropDatabase(db);
Directory.Delete(work, recursive: true);
return 0;
