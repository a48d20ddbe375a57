using System.Diagnostics;
using System.Globalization;
using OpsTools.TestKit;

// Usage: dotnet run -c Release --project bench/QueueBench [-- queues repetitions]
var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1000;
var repetitions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;

using var redis = RedisServer.Start();
var names = Enumerable.Range(1, count).Select(i => $"queue:{i:0000}").ToList();
var rnd = new Random(42);
var sizes = names.ToDictionary(n => n, _ => rnd.Next(0, 50));
redis.CliWithInput(string.Join("\n", names.Where(n => sizes[n] > 0).Select(n => "RPUSH " + n + " " + string.Join(' ', Enumerable.Range(0, sizes[n])))) + "\n");
var work = Directory.CreateTempSubdirectory("opstools-queuebench-").FullName;
var namesFile = Path.Combine(work, "names.txt");
var llenFile = Path.Combine(work, "llen.txt");
File.WriteAllLines(namesFile, names);
File.WriteAllLines(llenFile, names.Select(n => "LLEN " + n));
Console.WriteLine($"QueueBench: {count} lists on redis-server {redis.Cli("INFO", "server").Split('\n').First(l => l.StartsWith("redis_version")).Trim()} at 127.0.0.1:{redis.Port}, {repetitions} repetitions after one warm-up");
Console.WriteLine($"  machine: {Environment.ProcessorCount} CPU(s), {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");

using var session = new ModuleSession();
session.Invoke(redis.PowerShellSetup());
session.Set("names", names.ToArray());
var expectedTotal = sizes.Values.Sum();

double OpsTools()
{
    var t = Stopwatch.StartNew();
    var r = session.Run("$r = Get-QueueStatus @Redis -Name $names -Kind List; $t = 0; foreach ($q in $r) { $t += $q.Length }; $r.Count; $t");
    t.Stop();
    if (r.Terminating is not null || r.Errors.Count > 0) throw new InvalidOperationException("Get-QueueStatus failed: " + (r.Terminating?.Message ?? r.Errors[0].ToString()));
    var n = Convert.ToInt32(r.Output[0].BaseObject, CultureInfo.InvariantCulture);
    var total = Convert.ToInt64(r.Output[1].BaseObject, CultureInfo.InvariantCulture);
    if (n != count || total != expectedTotal) throw new InvalidOperationException($"Get-QueueStatus: {n} queues, {total} items; expected {count}, {expectedTotal}");
    return t.Elapsed.TotalMilliseconds;
}

double Bash(string script)
{
    var psi = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
    psi.ArgumentList.Add("-c"); psi.ArgumentList.Add(script);
    var t = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    var output = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    t.Stop();
    var total = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Sum(l => long.Parse(l.Trim().Replace("(integer) ", ""), CultureInfo.InvariantCulture));
    if (p.ExitCode != 0 || total != expectedTotal) throw new InvalidOperationException($"bash side failed ({p.ExitCode}): {total} items; {p.StandardError.ReadToEnd()}");
    return t.Elapsed.TotalMilliseconds;
}

var loop = $"while read q; do redis-cli -h 127.0.0.1 -p {redis.Port} LLEN \"$q\"; done < {namesFile}";
var batch = $"redis-cli -h 127.0.0.1 -p {redis.Port} < {llenFile}";
OpsTools(); Bash(batch); Bash(loop); // warm-up
var ours = new List<double>(); var loops = new List<double>(); var batches = new List<double>();
for (var i = 0; i < repetitions; i++)
{
    ours.Add(OpsTools());
    batches.Add(Bash(batch));
    loops.Add(Bash(loop));
    Console.WriteLine($"  run {i + 1}: Get-QueueStatus {ours[^1],8:0.0} ms | redis-cli batch {batches[^1],8:0.0} ms | redis-cli LLEN loop {loops[^1],9:0.0} ms");
}
static double Median(List<double> v) { var s = v.OrderBy(x => x).ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
var (mo, mb, ml) = (Median(ours), Median(batches), Median(loops));
Console.WriteLine($"median: Get-QueueStatus {mo:0.0} ms, one redis-cli reading the batch {mb:0.0} ms, loop of redis-cli LLEN {ml:0.0} ms");
Console.WriteLine($"loop / Get-QueueStatus = {ml / mo:0.0}x faster (goal >= 50x); Get-QueueStatus / redis-cli batch = {mo / mb:0.00}x its time (goal <= 2x)");
Directory.Delete(work, true);
