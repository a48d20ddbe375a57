using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using OpsTools.TestKit;

// Usage: dotnet run -c Release --project bench/BackupVerifyBench [-- targetMB repetitions]
// Test-Backup -Quick (size, streamed SHA-256, pg_restore --list, manifest update) against sha256sum of the
// same archive, alternating, page cache warm for both.
var targetMb = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500;
var repetitions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
var inv = CultureInfo.InvariantCulture;

using var pg = PgCluster.Start();
var bin = pg.BinDirectory ?? throw new InvalidOperationException("needs a throwaway cluster (not OPSTOOLS_TEST_PG)");
var db = pg.CreateDatabase("verifybench");
var store = Path.Combine(Path.GetTempPath(), "opstools-verifybench-" + Guid.NewGuid().ToString("N")[..8]);
Console.WriteLine($"BackupVerifyBench: ~{targetMb} MB archive, PostgreSQL {pg.MajorVersion}, {repetitions} repetitions");
Console.WriteLine($"  machine: {Environment.ProcessorCount} CPU(s), {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
try
{
    // ~140 bytes of text per row; pg_dump --compress=0 writes about that much per row.
    var rows = targetMb * 1048576L / 140;
    var sw = Stopwatch.StartNew();
    pg.Exec("CREATE TABLE payload(id bigint, a text)", db);
    const int parts = 4;
    Parallel.For(0, parts, i =>
    {
        using var c = pg.Open(db);
        using var cmd = new NpgsqlCommand($"INSERT INTO payload SELECT g, md5(g::text) || md5((g+1)::text) || md5((g+2)::text) || md5((g+3)::text) FROM generate_series({i * rows / parts + 1}, {(i + 1) * rows / parts}) g", c) { CommandTimeout = 0 };
        cmd.ExecuteNonQuery();
    });
    Console.WriteLine($"  loaded {rows:N0} rows in {sw.Elapsed.TotalSeconds:0.0} s");

    // The archive, laid out as BackupStore does, and its manifest (BackupManifest's JSON).
    var group = Directory.CreateDirectory(Path.Combine(store, db)).FullName;
    var start = DateTime.UtcNow;
    var archive = Path.Combine(group, $"{db}_{start.ToString("yyyyMMdd'T'HHmmssfff'Z'", inv)}.dump");
    sw.Restart();
    Run(Path.Combine(bin, "pg_dump"), new[] { "--format=custom", "--compress=0", "--no-password", "--file", archive },
        new() { ["PGHOST"] = pg.Host, ["PGPORT"] = pg.Port.ToString(inv), ["PGUSER"] = pg.User, ["PGPASSWORD"] = pg.Password, ["PGDATABASE"] = db });
    var size = new FileInfo(archive).Length;
    Console.WriteLine($"  pg_dump -Fc -Z0: {size / 1048576.0:0} MB in {sw.Elapsed.TotalSeconds:0.0} s");
    string sha;
    using (var fs = File.OpenRead(archive)) sha = Convert.ToHexString(SHA256.HashData(fs)).ToLowerInvariant();
    var manifest = new JsonObject
    {
        ["manifestVersion"] = 1, ["kind"] = "Database", ["name"] = db, ["archive"] = Path.GetFileName(archive), ["format"] = "custom",
        ["sizeBytes"] = size, ["sha256"] = sha, ["startTime"] = start, ["endTime"] = DateTime.UtcNow,
        ["serverVersion"] = pg.Scalar<string>("SHOW server_version"), ["pgDumpVersion"] = pg.MajorVersion.ToString(inv),
        ["opsToolsVersion"] = "bench", ["rowCounts"] = new JsonObject { ["public.payload"] = rows }, ["verification"] = "Unverified",
    };
    File.WriteAllText(archive + ".manifest.json", manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    using var session = new ModuleSession();
    var script = $"(Test-Backup -Path '{archive.Replace("'", "''")}' -Quick).Status.ToString()";
    double Ops()
    {
        var t = Stopwatch.StartNew();
        var r = session.Run(script);
        t.Stop();
        var status = r.Output.Count == 1 ? r.Output[0].BaseObject.ToString() : "no result: " + r.Terminating?.Message + string.Join(" | ", r.Errors);
        if (status != "Healthy") throw new InvalidOperationException("Test-Backup -Quick did not pass: " + status);
        return t.Elapsed.TotalSeconds;
    }
    double Sha()
    {
        var t = Stopwatch.StartNew();
        var output = Run("sha256sum", new[] { archive }, null);
        t.Stop();
        if (!output.StartsWith(sha, StringComparison.Ordinal)) throw new InvalidOperationException("sha256sum disagrees: " + output);
        return t.Elapsed.TotalSeconds;
    }

    // For context: OpenSSL's SHA-256 (uses the CPU's SHA extensions where there are some, as .NET does through OpenSSL).
    double? Openssl()
    {
        try
        {
            var t = Stopwatch.StartNew();
            var output = Run("openssl", new[] { "dgst", "-sha256", "-r", archive }, null);
            t.Stop();
            if (!output.StartsWith(sha, StringComparison.Ordinal)) throw new InvalidOperationException("openssl disagrees: " + output);
            return t.Elapsed.TotalSeconds;
        }
        catch (System.ComponentModel.Win32Exception) { return null; }
    }

    Openssl(); Sha(); Ops(); // warm-up: page cache, module and engine loaded, pg_restore found
    var ops = new List<double>();
    var tool = new List<double>();
    var openssl = new List<double>();
    for (var i = 0; i < repetitions; i++)
    {
        if (i % 2 == 0) { tool.Add(Sha()); ops.Add(Ops()); } else { ops.Add(Ops()); tool.Add(Sha()); }
        var o = Openssl();
        if (o is { } os) openssl.Add(os);
        Console.WriteLine(string.Create(inv, $"  run {i + 1}: openssl dgst {(o is null ? "n/a" : $"{o:0.000} s")}, sha256sum {tool[^1]:0.000} s ({size / 1048576.0 / tool[^1]:0} MB/s), Test-Backup -Quick {ops[^1]:0.000} s ({size / 1048576.0 / ops[^1]:0} MB/s), ratio {ops[^1] / tool[^1]:0.00}"));
    }
    double Median(List<double> v) { var s = v.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
    var mo = Median(ops);
    var mt = Median(tool);
    Console.WriteLine(string.Create(inv, $"median: sha256sum {mt:0.000} s ({size / 1048576.0 / mt:0} MB/s); Test-Backup -Quick {mo:0.000} s ({size / 1048576.0 / mo:0} MB/s); ratio Test-Backup/sha256sum {mo / mt:0.00}"));
    if (openssl.Count > 0)
        Console.WriteLine(string.Create(inv, $"median: openssl dgst -sha256 {Median(openssl):0.000} s ({size / 1048576.0 / Median(openssl):0} MB/s); ratio Test-Backup/openssl {mo / Median(openssl):0.00}"));
}
finally
{
    pg.DropDatabase(db);
    try { Directory.Delete(store, recursive: true); } catch (IOException) { }
}

static string Run(string exe, IEnumerable<string> args, Dictionary<string, string>? env)
{
    var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in args) psi.ArgumentList.Add(a);
    if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
    using var p = Process.Start(psi)!;
    var stdout = p.StandardOutput.ReadToEndAsync();
    var stderr = p.StandardError.ReadToEndAsync();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} failed ({p.ExitCode}): {stderr.Result}");
    return stdout.Result;
}
