using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsTools.TestKit;

// Usage: dotnet run -c Release --project bench/AppHealthBench [-- endpoints delayMs throttle repetitions]
var endpoints = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500;
var delayMs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50;
var throttle = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 32;
var repetitions = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 5;

using var server = HealthServer.Start(app =>
    app.MapGet("/ep/{n}", async (int n, HttpContext ctx) =>
    {
        await Task.Delay(delayMs, ctx.RequestAborted);
        return Results.Text("""{"status":"UP","components":{"db":{"status":"UP"}}}""", "application/json");
    }));

var uris = Enumerable.Range(0, endpoints).Select(i => server.Http($"/ep/{i}").ToString()).ToArray();
var urlFile = Path.Combine(Path.GetTempPath(), $"apphealth-bench-{Environment.ProcessId}.txt");
File.WriteAllLines(urlFile, uris);

// The brief's ideal: perfect overlap with no overhead at all. Whole waves (ceil) are a little more honest, and shown too.
var idealMs = (double)endpoints / throttle * delayMs;
var wavesMs = Math.Ceiling((double)endpoints / throttle) * delayMs;
Console.WriteLine($"AppHealthBench: {endpoints} endpoints x {delayMs} ms on one Kestrel server (127.0.0.1), {throttle} at a time, {repetitions} repetitions");
Console.WriteLine($"  machine: {Environment.ProcessorCount} CPU(s), {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
Console.WriteLine($"  ideal: {endpoints}/{throttle} x {delayMs} ms = {idealMs:0} ms   (in whole waves: ceil({endpoints}/{throttle}) x {delayMs} ms = {wavesMs:0} ms)");

using var session = new ModuleSession();
session.Set("uris", uris);
var script = $"$r = Get-AppHealth -Uri $uris -ThrottleLimit {throttle}; @($r | Where-Object {{ $_ -is [OpsTools.Health.AppHealthResult] -and $_.Status -eq 'Healthy' }}).Count";

double RunOpsTools()
{
    var sw = Stopwatch.StartNew();
    var result = session.Run(script);
    sw.Stop();
    if (result.Terminating is not null || result.Errors.Count > 0)
        throw new InvalidOperationException("Get-AppHealth failed: " + (result.Terminating?.Message ?? result.Errors[0].ToString()));
    var healthy = Convert.ToInt32(result.Output[0].BaseObject, CultureInfo.InvariantCulture);
    if (healthy != endpoints) throw new InvalidOperationException($"only {healthy} of {endpoints} endpoints were healthy");
    return sw.Elapsed.TotalMilliseconds;
}

double RunCurl()
{
    var psi = new ProcessStartInfo("bash", ["-c", $"xargs -P {throttle} -n 1 curl -s -o /dev/null --fail < '{urlFile}'"])
    {
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    };
    var sw = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    p.WaitForExit();
    sw.Stop();
    if (p.ExitCode != 0) throw new InvalidOperationException($"xargs/curl exited with {p.ExitCode}: {p.StandardError.ReadToEnd()}");
    return sw.Elapsed.TotalMilliseconds;
}

// Warm-up (JIT, module engine load, server's first requests), not counted.
var coldMs = RunOpsTools();
RunCurl();
Console.WriteLine($"  OpsTools first (cold) run: {coldMs:0} ms (not counted)");

var ops = new List<double>();
var curl = new List<double>();
for (var i = 0; i < repetitions; i++)
{
    // Interleaved, so both see the same machine state.
    ops.Add(RunOpsTools());
    curl.Add(RunCurl());
}
File.Delete(urlFile);

static double Median(List<double> xs)
{
    var s = xs.OrderBy(x => x).ToList();
    return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
}

string Row(string name, List<double> xs) =>
    $"  {name,-34} runs: {string.Join(", ", xs.Select(x => x.ToString("0", CultureInfo.InvariantCulture)))} ms   median {Median(xs):0} ms   min {xs.Min():0} ms";

Console.WriteLine(Row($"Get-AppHealth -ThrottleLimit {throttle}", ops));
Console.WriteLine(Row($"xargs -P {throttle} -n 1 curl", curl));
var opsMedian = Median(ops);
var curlMedian = Median(curl);
Console.WriteLine($"  OpsTools / ideal = {opsMedian / idealMs:0.00}   (target <= 1.20; against whole waves {opsMedian / wavesMs:0.00})");
Console.WriteLine($"  OpsTools / curl  = {opsMedian / curlMedian:0.00}   (target < 1.00)");
Console.WriteLine($"  curl / ideal     = {curlMedian / idealMs:0.00}");
var met = opsMedian <= 1.2 * idealMs && opsMedian < curlMedian;
Console.WriteLine(met ? "  TARGET MET" : "  TARGET MISSED");
return met ? 0 : 1;
