using System.Diagnostics;
using System.Globalization;
using Npgsql;
using OpsTools.TestKit;

// Usage: dotnet run -c Release --project bench/VacuumBench [-- tables rowsPerTable repetitions jobs scope]
// scope: "tables" (default: both sides vacuum exactly the benchmark's tables t001..tNNN: -Table t* against vacuumdb -t ... -t ...)
//        or "all" (every relation of the database, system catalogs included: -All against plain vacuumdb).
var tables = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 100;
var rows = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 80_000;
var repetitions = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
var jobs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 2;
var scope = args.Length > 4 ? args[4] : "tables";
if (scope is not ("tables" or "all")) throw new ArgumentException("scope is 'tables' or 'all'");

using var pg = PgCluster.Start();
var vacuumdb = Path.Combine(pg.BinDirectory ?? throw new InvalidOperationException("needs a throwaway cluster (not OPSTOOLS_TEST_PG)"), "vacuumdb");
var db = pg.CreateDatabase("vacbench");
Console.WriteLine($"VacuumBench: {tables} tables x {rows} rows, PostgreSQL {pg.MajorVersion} at {pg.Host}:{pg.Port}, {jobs} jobs, {repetitions} repetitions, scope {scope}");
Console.WriteLine($"  machine: {Environment.ProcessorCount} CPU(s), {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");

// Load fast: INSERT ... SELECT generate_series over 4 connections.
var sw = Stopwatch.StartNew();
pg.Exec(string.Concat(Enumerable.Range(1, tables).Select(i => $"CREATE TABLE t{i:000}(id int PRIMARY KEY, a int, b text); ")), db);
ForAllTables(4, i => $"INSERT INTO t{i:000} SELECT g, g % 1000, md5(g::text) || md5((g + 1)::text) || md5((g + 2)::text) FROM generate_series(1, {rows}) g");
pg.Exec("VACUUM ANALYZE; CHECKPOINT", db);
var size = pg.Scalar<long>("SELECT pg_database_size(current_database())", db);
Console.WriteLine($"  loaded {size / 1048576.0:0} MB in {sw.Elapsed.TotalSeconds:0.0} s");

void ForAllTables(int connections, Func<int, string> sql)
{
    var next = 0;
    Parallel.For(0, connections, _ =>
    {
        using var c = pg.Open(db);
        for (int i; (i = Interlocked.Increment(ref next)) <= tables;)
        {
            using var cmd = new NpgsqlCommand(sql(i), c) { CommandTimeout = 0 };
            cmd.ExecuteNonQuery();
        }
    });
}

long Dead() => pg.Scalar<long>("SELECT sum(n_dead_tup) FROM pg_stat_user_tables", db);

// The same dead-tuple state before each side: 20% of every table's rows updated.
long MakeDead()
{
    ForAllTables(4, i => $"UPDATE t{i:000} SET a = a + 1 WHERE id % 5 = 0");
    pg.Exec("CHECKPOINT", db);
    Thread.Sleep(1500); // let the updaters' statistics reach shared memory (PG15 flushes at most once a second)
    return Dead();
}

using var session = new ModuleSession();
session.Invoke(pg.PowerShellSetup(db));
var script = scope == "all"
    ? $"$r = Invoke-DbVacuum @Pg -All -Parallel {jobs}; @($r | Where-Object Succeeded).Count"
    : $"$r = Invoke-DbVacuum @Pg -Schema public -Table 't*' -Parallel {jobs}; @($r | Where-Object Succeeded).Count";
var expectedTables = scope == "all"
    ? pg.Scalar<long>("SELECT count(*) FROM pg_class WHERE relkind IN ('r', 'm') AND relpersistence <> 't'", db)
    : tables;

var clientCpuMs = new List<double>();
double RunOpsTools()
{
    var cpu = Process.GetCurrentProcess().TotalProcessorTime;
    var t = Stopwatch.StartNew();
    var r = session.Run(script);
    t.Stop();
    clientCpuMs.Add((Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds);
    if (r.Terminating is not null || r.Errors.Count > 0)
        throw new InvalidOperationException("Invoke-DbVacuum failed: " + (r.Terminating?.Message ?? r.Errors[0].ToString()));
    var done = Convert.ToInt64(r.Output[0].BaseObject, CultureInfo.InvariantCulture);
    if (done != expectedTables) throw new InvalidOperationException($"Invoke-DbVacuum vacuumed {done} of {expectedTables} tables");
    return t.Elapsed.TotalMilliseconds;
}

double RunVacuumdb()
{
    var psi = new ProcessStartInfo(vacuumdb) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var a in new[] { "-j", jobs.ToString(CultureInfo.InvariantCulture), "-h", pg.Host, "-p", pg.Port.ToString(CultureInfo.InvariantCulture), "-U", pg.User, "-d", db })
        psi.ArgumentList.Add(a);
    if (scope == "tables")
        for (var i = 1; i <= tables; i++) { psi.ArgumentList.Add("-t"); psi.ArgumentList.Add($"public.t{i:000}"); }
    psi.Environment["PGPASSWORD"] = pg.Password;
    var t = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    var err = p.StandardError.ReadToEndAsync();
    p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    t.Stop();
    if (p.ExitCode != 0) throw new InvalidOperationException($"vacuumdb failed ({p.ExitCode}): {err.Result}");
    return t.Elapsed.TotalMilliseconds;
}

// Warm-up: one of each (caches, JIT, module load), not counted.
MakeDead(); RunOpsTools();
MakeDead(); RunVacuumdb();

var ops = new List<double>();
var vdb = new List<double>();
Console.WriteLine();
Console.WriteLine(scope == "all"
    ? "| run | dead tuples before | Invoke-DbVacuum -All -Parallel " + jobs + " | vacuumdb -j " + jobs + " |"
    : $"| run | dead tuples before | Invoke-DbVacuum -Table t* -Parallel {jobs} | vacuumdb -j {jobs} -t (x{tables}) |");
Console.WriteLine("| --- | ---: | ---: | ---: |");
for (var rep = 1; rep <= repetitions; rep++)
{
    // Alternate which side goes first.
    double o, v;
    long deadO, deadV;
    if (rep % 2 == 1) { deadO = MakeDead(); o = RunOpsTools(); deadV = MakeDead(); v = RunVacuumdb(); }
    else { deadV = MakeDead(); v = RunVacuumdb(); deadO = MakeDead(); o = RunOpsTools(); }
    if (Dead() != 0) Console.WriteLine($"  note: {Dead()} dead tuples left after run {rep}");
    ops.Add(o); vdb.Add(v);
    Console.WriteLine($"| {rep} | {deadO:N0} / {deadV:N0} | {o:0} ms | {v:0} ms |");
}
double Median(List<double> x) { var s = x.OrderBy(v => v).ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
var mo = Median(ops); var mv = Median(vdb);
Console.WriteLine($"| **median** | | **{mo:0} ms** | **{mv:0} ms** |");
Console.WriteLine();
Console.WriteLine($"OpsTools / vacuumdb = {mo / mv:0.00} (goal <= 1.10)");
Console.WriteLine($"OpsTools client CPU per run (this process, while the server vacuums on the same 2 cores): median {Median(clientCpuMs):0} ms");
pg.DropDatabase(db);
