// LogScanBench: see bench/README.md. Usage: dotnet run -c Release --project bench/LogScanBench [-- sizeMiB runs selectStringRuns]
using System.Diagnostics;
using System.Globalization;
using System.Text;

var sizeMiB = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1024;
var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var ssRuns = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 1;
var repo = FindRepo();
var module = Path.Combine(repo, "out", "OpsTools", "0.1.0", "OpsTools.psd1");
var pwsh = File.Exists("/tmp/pwshtool/pwsh") ? "/tmp/pwshtool/pwsh" : "pwsh";
var dir = Path.Combine(Path.GetTempPath(), "logscanbench-" + Environment.ProcessId);
Directory.CreateDirectory(dir);
try
{
    var big = Path.Combine(dir, "big.log");
    var small = Path.Combine(dir, "small.log");
    var warm = Path.Combine(dir, "warm.log");
    Generate(warm, 1 << 20, 3);
    Generate(big, (long)sizeMiB << 20, 1);
    Generate(small, (long)Math.Max(64, sizeMiB / 4) << 20, 2);
    var bytes = new FileInfo(big).Length;
    Console.WriteLine($"data: {big} {bytes / 1048576.0:0} MiB, {small} {new FileInfo(small).Length / 1048576.0:0} MiB; pwsh {pwsh}");
    Run("cat", $"{big} {small}", toNull: true); // into the page cache

    var grep = new List<double>(); var ops = new List<double>(); var ss = new List<double>(); var grepCpu = new List<double>(); var opsCpu = new List<double>();
    long grepCount = -1, opsCount = -1, ssCount = -1;
    for (var i = 0; i < runs; i++)
    {
        var sw = Stopwatch.StartNew();
        var g = Run("bash", $"-c \"TIMEFORMAT='%U %S'; time grep -c ERROR {big}\"", stderrOut: true);
        grep.Add(sw.Elapsed.TotalSeconds);
        var gl = g.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var cpu = gl[^1].Split(' ');
        grepCpu.Add(double.Parse(cpu[0], CultureInfo.InvariantCulture) + double.Parse(cpu[1], CultureInfo.InvariantCulture));
        g = gl[0];
        grepCount = long.Parse(g.Trim(), CultureInfo.InvariantCulture);
        // Warm-up on a 1 MiB file in the same process (engine load and JIT), then the measured run; CPU seconds of the process during it.
        // Warm: the same command over the quarter-size file first, so the JIT's tiering is done (steady state, as in a
        // long session or a second file of a glob); the first call in a fresh pwsh is measured on its own below.
        var o = Pwsh($"$null = Search-Log -Path '{small}' -Pattern ERROR -CaseSensitive -Count; $p = [System.Diagnostics.Process]::GetCurrentProcess(); $c0 = $p.TotalProcessorTime; $t = Measure-Command {{ $c = Search-Log -Path '{big}' -Pattern ERROR -CaseSensitive -Count }}; $p.Refresh(); \"$($t.TotalSeconds) $($c.Count) $(($p.TotalProcessorTime - $c0).TotalSeconds)\"");
        opsCpu.Add(double.Parse(o.Trim().Split(' ')[2], CultureInfo.InvariantCulture));
        ops.Add(Sec(o)); opsCount = Num(o);
        if (i < ssRuns)
        {
            var s = Pwsh($"$null = (Select-String -Path '{warm}' -Pattern ERROR -CaseSensitive).Count; $t = Measure-Command {{ $n = (Select-String -Path '{big}' -Pattern ERROR -CaseSensitive).Count }}; \"$($t.TotalSeconds) $n\"");
            ss.Add(Sec(s)); ssCount = Num(s);
        }
        Console.WriteLine($"run {i + 1}: grep -c {grep[^1]:0.000} s, Search-Log -Count {ops[^1]:0.000} s" + (i < ssRuns ? $", Select-String {ss[^1]:0.000} s" : ""));
    }
    Console.WriteLine($"counts: grep {grepCount}, Search-Log {opsCount}, Select-String {ssCount}");
    double mb = bytes / 1e6;
    Console.WriteLine($"median grep -c {Median(grep):0.000} s ({mb / Median(grep):0} MB/s); Search-Log -Count {Median(ops):0.000} s ({mb / Median(ops):0} MB/s); " +
                      $"ratio OpsTools/grep throughput {Median(grep) / Median(ops):0.00}");
    Console.WriteLine($"CPU seconds: grep -c {Median(grepCpu):0.000} s ({mb / Median(grepCpu):0} MB/s), Search-Log -Count {Median(opsCpu):0.000} s ({mb / Median(opsCpu):0} MB/s); ratio by CPU time {Median(grepCpu) / Median(opsCpu):0.00}");
    if (ss.Count > 0) Console.WriteLine($"Select-String {Median(ss):0.000} s: Search-Log is {Median(ss) / Median(ops):0.0}x faster");
    // The first call in a fresh pwsh (module imported, only a 1 MiB call before it): what a cron job that counts once sees.
    var cold = Pwsh($"$null = Search-Log -Path '{warm}' -Pattern ERROR -CaseSensitive -Count; $p = [System.Diagnostics.Process]::GetCurrentProcess(); $c0 = $p.TotalProcessorTime; $t = Measure-Command {{ $c = Search-Log -Path '{big}' -Pattern ERROR -CaseSensitive -Count }}; $p.Refresh(); \"$($t.TotalSeconds) $($c.Count) $(($p.TotalProcessorTime - $c0).TotalSeconds)\"");
    var coldCpu = double.Parse(cold.Trim().Split(' ')[2], CultureInfo.InvariantCulture);
    Console.WriteLine($"first call in a fresh pwsh: Search-Log -Count {Sec(cold):0.000} s wall, {coldCpu:0.000} s CPU ({mb / coldCpu:0} MB/s); ratio by CPU time against grep {Median(grepCpu) / coldCpu:0.00}");

    foreach (var file in new[] { small, big })
    {
        var times = new List<double>(); var cpus = new List<double>(); long peak = 0; string counts = "";
        for (var i = 0; i < runs; i++)
        {
            var o = Pwsh($"$null = Measure-LogError -Path '{(file == big ? small : warm)}' -Pattern ERROR -CaseSensitive; $p = [System.Diagnostics.Process]::GetCurrentProcess(); $c0 = $p.TotalProcessorTime; $t = Measure-Command {{ $s = Measure-LogError -Path '{file}' -Pattern ERROR -CaseSensitive }}; $p.Refresh(); $cpu = ($p.TotalProcessorTime - $c0).TotalSeconds; [GC]::Collect(); \"$($t.TotalSeconds) $([System.Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64) $($s.LinesRead) $($s.Matched) $($s.Reconciled) $($s.DistinctTemplates) $($s.Timeline.Count) $cpu\"");
            var parts = o.Trim().Split(' ');
            times.Add(double.Parse(parts[0], CultureInfo.InvariantCulture));
            peak = Math.Max(peak, long.Parse(parts[1], CultureInfo.InvariantCulture));
            counts = string.Join(' ', parts.Skip(2).Take(5));
            cpus.Add(double.Parse(parts[7], CultureInfo.InvariantCulture));
        }
        var len = new FileInfo(file).Length;
        Console.WriteLine($"summary {Path.GetFileName(file)} ({len / 1048576.0:0} MiB): median {Median(times):0.000} s = {len / 1e6 / Median(times):0} MB/s wall, CPU {Median(cpus):0.000} s = {len / 1e6 / Median(cpus):0} MB/s; peak working set of the pwsh process {peak / 1048576.0:0} MiB; lines/matched/reconciled/templates/hours: {counts}");
    }
    var baseline = Pwsh("[GC]::Collect(); \"0 $([System.Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64)\"");
    Console.WriteLine($"pwsh with the module imported, nothing run: peak working set {long.Parse(baseline.Trim().Split(' ')[1], CultureInfo.InvariantCulture) / 1048576.0:0} MiB");
}
finally
{
    Directory.Delete(dir, true);
}

string Pwsh(string script) => Run(pwsh, "-NoProfile -NonInteractive -Command \"Import-Module '" + module + "'; " + script.Replace("\"", "\\\"") + "\"");

static double Sec(string o) => double.Parse(o.Trim().Split(' ')[0], CultureInfo.InvariantCulture);
static long Num(string o) => long.Parse(o.Trim().Split(' ')[1], CultureInfo.InvariantCulture);
static double Median(List<double> v) { var s = v.OrderBy(x => x).ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }

static string Run(string file, string arguments, bool toNull = false, bool stderrOut = false)
{
    var psi = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
    using var p = Process.Start(psi)!;
    var err = p.StandardError.ReadToEndAsync();
    string output;
    if (toNull) { p.StandardOutput.BaseStream.CopyTo(Stream.Null); output = ""; }
    else output = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new Exception($"{file} {arguments}: exit {p.ExitCode}: {err.Result}");
    return stderrOut ? output + "\n" + err.Result : output;
}

static void Generate(string path, long size, int seed)
{
    var rnd = new Random(seed);
    var start = new DateTime(2026, 11, 1, 0, 0, 0, DateTimeKind.Utc);
    var services = new[] { "api", "worker", "db", "auth", "cache" };
    using var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
    long written = 0; var i = 0L;
    var sb = new StringBuilder(256);
    while (written < size)
    {
        var t = start.AddMilliseconds(i * 37);
        sb.Clear();
        sb.Append(t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append(' ');
        var r = rnd.Next(1000);
        var svc = services[rnd.Next(services.Length)];
        if (r < 30) sb.Append("ERROR ").Append(svc).Append(": could not connect to server 10.0.").Append(rnd.Next(256)).Append('.').Append(rnd.Next(256)).Append(":5432 after ").Append(rnd.Next(5000)).Append(" ms");
        else if (r < 45) sb.Append("ERROR ").Append(svc).Append(": request ").Append(Guid.NewGuid()).Append(" failed: status=").Append(500 + rnd.Next(4)).Append(" user='u").Append(rnd.Next(100000)).Append('\'');
        else if (r < 50) sb.Append("ERROR ").Append(svc).Append(": job ").Append(rnd.Next(1000000)).Append(" failed with code 0x").Append(rnd.Next().ToString("x8", CultureInfo.InvariantCulture));
        else if (r < 52) sb.Append("    at com.example.").Append(svc).Append(".Handler.run(Handler.java:").Append(rnd.Next(900)).Append(')');
        else if (r < 150) sb.Append("WARN ").Append(svc).Append(": slow query took ").Append(rnd.Next(10000)).Append(" ms on table orders");
        else sb.Append("INFO ").Append(svc).Append(": GET /api/items/").Append(rnd.Next(100000)).Append(" 200 in ").Append(rnd.Next(900)).Append(" ms from 192.168.").Append(rnd.Next(256)).Append('.').Append(rnd.Next(256));
        sb.Append('\n');
        w.Write(sb);
        written += sb.Length;
        i++;
    }
}

static string FindRepo()
{
    var d = new DirectoryInfo(AppContext.BaseDirectory);
    while (d is not null && !File.Exists(Path.Combine(d.FullName, "OpsTools.psd1"))) d = d.Parent;
    return d?.FullName ?? throw new Exception("run from inside the repository");
}
