using System.Diagnostics;
using System.Globalization;
using System.Text;
using OpsTools.Engine.Metrics;

// MetricsParseBench [sizeMB] [repetitions]      run the comparison (default 50 MB and 5 MB, 5 repetitions)
// MetricsParseBench --parse <file> [objects]    one parse of a file (the child process the comparison times)
if (args.Length >= 2 && args[0] == "--parse")
{
    var objects = args.Length > 2 && args[2] == "objects";
    var sw = Stopwatch.StartNew();
    long samples = 0, maxHeap = 0;
    double sum = 0;
    using (var reader = new ExpositionReader(File.OpenRead(args[1]), ExpositionFormat.Text))
    {
        while (reader.Read())
        {
            samples++;
            if (objects) sum += reader.ToSample("bench").Value; else sum += reader.Value;
            if ((samples & 0x3fff) == 0) maxHeap = Math.Max(maxHeap, GC.GetTotalMemory(false));
        }
    }
    sw.Stop();
    Console.WriteLine(string.Join(' ', samples, sw.Elapsed.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture), maxHeap,
        PeakRss(Environment.ProcessId), sum.ToString("R", CultureInfo.InvariantCulture)));
    return 0;
}

var sizes = args.Length > 0 ? new[] { int.Parse(args[0], CultureInfo.InvariantCulture) } : new[] { 50, 5 };
var reps = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists)
    ?? throw new InvalidOperationException("promtool is not installed (apt-get install prometheus).");
var self = Environment.ProcessPath!;
var dll = typeof(ExpositionReader).Assembly.Location; // keeps the reference; the child is this program
var dir = Directory.CreateTempSubdirectory("opstools-parsebench-").FullName;
try
{
    foreach (var mb in sizes)
    {
        var file = Path.Combine(dir, $"metrics-{mb}mb.prom");
        var (lines, series) = Generate(file, mb * 1024L * 1024);
        Console.WriteLine($"\n{mb} MB exposition: {new FileInfo(file).Length / 1024 / 1024.0:0.0} MiB, {lines:N0} lines, {series:N0} samples (histograms, counters, gauges)");
        var ours = new List<(double Ms, long Heap, long Rss)>();
        var objs = new List<(double Ms, long Heap, long Rss)>();
        var theirs = new List<(double Ms, long Rss)>();
        // Warm-up (file cache, JIT images), not counted.
        RunOurs(self, file, false);
        RunPromtool(promtool, file);
        for (var i = 0; i < reps; i++)
        {
            // Interleaved, the order alternated.
            if (i % 2 == 0) { ours.Add(RunOurs(self, file, false)); theirs.Add(RunPromtool(promtool, file)); }
            else { theirs.Add(RunPromtool(promtool, file)); ours.Add(RunOurs(self, file, false)); }
            objs.Add(RunOurs(self, file, true));
        }
        for (var i = 0; i < reps; i++)
            Console.WriteLine($"  run {i + 1}: OpsTools {ours[i].Ms,7:0} ms (objects {objs[i].Ms,7:0} ms)   promtool check metrics {theirs[i].Ms,7:0} ms");
        var mo = Median(ours.Select(o => o.Ms)); var mj = Median(objs.Select(o => o.Ms)); var mp = Median(theirs.Select(t => t.Ms));
        Console.WriteLine($"  median: OpsTools {mo:0} ms, with MetricSample objects {mj:0} ms, promtool {mp:0} ms; promtool / OpsTools = {mp / mo:0.00} x (objects: {mp / mj:0.00} x)");
        Console.WriteLine($"  peak GC heap OpsTools {ours.Max(o => o.Heap) / 1024.0 / 1024:0.0} MiB (objects {objs.Max(o => o.Heap) / 1024.0 / 1024:0.0} MiB); peak RSS OpsTools {ours.Max(o => o.Rss) / 1024.0:0} MiB, promtool {theirs.Max(t => t.Rss) / 1024.0:0} MiB");
    }
}
finally { Directory.Delete(dir, true); }
return 0;

static (double, long, long) RunOurs(string self, string file, bool objects)
{
    var psi = new ProcessStartInfo(self, $"--parse \"{file}\"{(objects ? " objects" : "")}") { RedirectStandardOutput = true, UseShellExecute = false };
    using var p = Process.Start(psi)!;
    var line = p.StandardOutput.ReadToEnd().Trim().Split(' ');
    p.WaitForExit();
    return (double.Parse(line[1], CultureInfo.InvariantCulture), long.Parse(line[2], CultureInfo.InvariantCulture), long.Parse(line[3], CultureInfo.InvariantCulture));
}

static (double, long) RunPromtool(string promtool, string file)
{
    // promtool reads stdin; bash feeds the file so the timing covers the same read as ours.
    var psi = new ProcessStartInfo("/bin/bash", $"-c \"exec {promtool} check metrics < '{file}' > /dev/null 2>&1\"") { UseShellExecute = false };
    var sw = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    long rss = 0;
    while (!p.WaitForExit(5)) rss = Math.Max(rss, PeakRss(p.Id));
    sw.Stop();
    return (sw.Elapsed.TotalMilliseconds, rss);
}

static long PeakRss(int pid)
{
    try
    {
        foreach (var l in File.ReadLines($"/proc/{pid}/status"))
            if (l.StartsWith("VmHWM:", StringComparison.Ordinal))
                return long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture); // KiB
    }
    catch (IOException) { }
    return 0;
}

static double Median(IEnumerable<double> v) { var a = v.OrderBy(x => x).ToArray(); return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2; }

static (long Lines, long Samples) Generate(string path, long bytes)
{
    // Many series: a latency histogram per route x method x code x instance (12 buckets + sum + count), a request
    // counter and a few gauges each; escapes and NaN/+Inf appear as they do in real expositions. Deterministic.
    string[] routes = Enumerable.Range(0, 40).Select(i => $"/api/v1/resource{i}/{{id}}").ToArray();
    string[] methods = { "GET", "POST", "PUT", "DELETE" };
    string[] codes = { "200", "201", "404", "500", "503" };
    double[] les = { 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5 };
    long lines = 0, samples = 0;
    using var w = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20) { NewLine = "\n" };
    var rng = new Random(13);
    var instance = 0;
    while (w.BaseStream.Length < bytes)
    {
        var inst = $"10.0.{instance / 250}.{instance % 250}:8080";
        w.WriteLine($"# HELP http_request_duration_seconds_{instance} The duration of HTTP requests processed by an ASP.NET Core application.");
        w.WriteLine($"# TYPE http_request_duration_seconds_{instance} histogram");
        lines += 2;
        foreach (var route in routes)
            foreach (var m in methods)
                foreach (var c in codes)
                {
                    var labels = $"code=\"{c}\",method=\"{m}\",controller=\"Items\",action=\"Get\",endpoint=\"{route}\",instance=\"{inst}\"";
                    long count = 0;
                    foreach (var le in les)
                    {
                        count += rng.Next(0, 50);
                        w.Write($"http_request_duration_seconds_{instance}_bucket{{{labels},le=\"");
                        w.Write(le.ToString("R", CultureInfo.InvariantCulture));
                        w.Write("\"} ");
                        w.WriteLine(count);
                        lines++; samples++;
                    }
                    count += rng.Next(0, 5);
                    w.WriteLine($"http_request_duration_seconds_{instance}_bucket{{{labels},le=\"+Inf\"}} {count}");
                    w.WriteLine($"http_request_duration_seconds_{instance}_sum{{{labels}}} {(count * 0.0731).ToString("R", CultureInfo.InvariantCulture)}");
                    w.WriteLine($"http_request_duration_seconds_{instance}_count{{{labels}}} {count}");
                    lines += 3; samples += 3;
                    if (w.BaseStream.Length >= bytes) break;
                }
        w.WriteLine($"# TYPE app_queue_size_{instance} gauge");
        w.WriteLine($"app_queue_size_{instance}{{queue=\"triage\",path=\"C:\\\\data\\\\q\",note=\"say \\\"hi\\\"\\n\"}} {rng.Next(0, 1000)}");
        w.WriteLine($"app_ratio_{instance} NaN");
        w.WriteLine($"app_limit_{instance} +Inf 1712345678000");
        lines += 4; samples += 3;
        instance++;
    }
    return (lines, samples);
}
