using System.Diagnostics;
using System.Globalization;
using OpsTools.TestKit;

// CertScanBench: Get-TlsCertificate against `xargs -P 32` over `openssl s_client | openssl x509 -noout -enddate`.
// 500 TLS endpoints on one Kestrel process (one port each, certificates from a throwaway CA), the same run, interleaved,
// median of the repetitions after a warm-up. Args: [endpoints] [throttle] [repetitions]
var endpoints = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 500;
var throttle = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 32;
var repetitions = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 5;

using var pki = new TestPki("Bench");
Console.WriteLine($"Making {endpoints} certificates and starting the TLS server...");
var sites = Enumerable.Range(0, endpoints)
    .Select(i => new TlsSite($"s{i}", pki.Issue(new[] { "localhost", "127.0.0.1" }, DateTimeOffset.UtcNow.AddDays(10 + i % 80)), new[] { pki.Intermediate }))
    .ToList();
using var server = TlsTestServer.Start(sites);
var dir = Directory.CreateTempSubdirectory("opstools-certbench-").FullName;
var caFile = Path.Combine(dir, "ca.pem");
File.WriteAllText(caFile, pki.RootPem);
var list = Path.Combine(dir, "endpoints.txt");
File.WriteAllLines(list, sites.Select(s => server.Endpoint(s.Name)));

using var session = new ModuleSession();
session.Set("eps", sites.Select(s => server.Endpoint(s.Name)).ToArray());
session.Set("ca", caFile);

double Ops()
{
    var sw = Stopwatch.StartNew();
    var r = session.Run($"$r = Get-TlsCertificate $eps -CaFile $ca -ThrottleLimit {throttle}; $r.Count; @($r | Where-Object Trusted).Count");
    sw.Stop();
    if (r.Terminating is not null || r.Errors.Count > 0) throw new InvalidOperationException("Get-TlsCertificate failed: " + (r.Terminating?.Message ?? r.Errors[0].ToString()));
    if ((int)r.Output[0].BaseObject != endpoints || (int)r.Output[1].BaseObject != endpoints) throw new InvalidOperationException($"expected {endpoints} trusted results, got {r.Output[0]} / {r.Output[1]}");
    return sw.Elapsed.TotalMilliseconds;
}

double OpenSsl()
{
    var psi = new ProcessStartInfo("bash", new[] { "-c",
        $"xargs -P {throttle} -I{{}} sh -c 'echo | openssl s_client -connect {{}} -servername localhost 2>/dev/null | openssl x509 -noout -enddate' < '{list}' | grep -c notAfter" })
    { RedirectStandardOutput = true, RedirectStandardError = true };
    var sw = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    var output = p.StandardOutput.ReadToEnd().Trim();
    p.WaitForExit();
    sw.Stop();
    if (output != endpoints.ToString(CultureInfo.InvariantCulture)) throw new InvalidOperationException($"openssl read {output} of {endpoints}");
    return sw.Elapsed.TotalMilliseconds;
}

Console.WriteLine("Warm-up...");
Ops(); OpenSsl();
var ops = new List<double>(); var ssl = new List<double>();
for (var i = 0; i < repetitions; i++)
{
    ops.Add(Ops());
    ssl.Add(OpenSsl());
    Console.WriteLine($"run {i + 1}: Get-TlsCertificate {ops[^1]:0} ms, xargs -P {throttle} openssl {ssl[^1]:0} ms");
}
static double Median(List<double> v) { var s = v.Order().ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
var mo = Median(ops); var ms = Median(ssl);
Console.WriteLine($"median: Get-TlsCertificate {mo:0} ms, openssl {ms:0} ms; openssl / OpsTools = {ms / mo:0.0}x");
foreach (var s in sites) s.Certificate.Dispose();
Directory.Delete(dir, true);
