using System.Diagnostics;
using System.Globalization;
using OpsTools.TestKit;

// Usage: dotnet run -c Release --project bench/KubeScaleBench [-- deployments repetitions]
// Set-ReplicaCount over N deployments against its fairest peer: ONE `kubectl scale --replicas=N deployment -l <selector>`
// over the same N (one process, one list, then a write per match), interleaved with the order alternated, medians.
var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 50;
var repetitions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;
const string Kubectl = "/usr/bin/kubectl";
if (!File.Exists(Kubectl)) throw new InvalidOperationException("kubectl not found at " + Kubectl);

var sw = Stopwatch.StartNew();
using var k = KubeCluster.Start();
Console.WriteLine($"KubeScaleBench: {count} deployments, {repetitions} repetitions, kube-apiserver {KubeCluster.Version} at {k.Server} (started in {sw.Elapsed.TotalSeconds:0.0} s)");
Console.WriteLine($"  machine: {Environment.ProcessorCount} CPU(s), {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");
Console.WriteLine($"  kubectl: {TestProcess.Run("/bin/sh", "-c", $"{Kubectl} version --client --short 2>/dev/null || {Kubectl} version --client").Split('\n')[0].Trim()}");

// The fake kubelet stays paused: pods are created and deleted by the real controllers on both sides alike, but nobody
// reports them running, so the API server is not also busy with status updates while the sides are timed.
k.Kubelet!.Paused = true;
var ns = k.CreateNamespace("bench");
var names = Enumerable.Range(1, count).Select(i => $"app{i:000}").ToList();
const string Selector = "tier=scalebench";
foreach (var n in names)
{
    var d = KubeCluster.NewDeployment(n, 1);
    d["metadata"]!["labels"]!["tier"] = "scalebench";
    k.CreateDeployment(ns, d);
}

using var session = new ModuleSession();
session.Invoke(k.PowerShellSetup(ns));

int[] SpecReplicas() => k.Api.Get($"/apis/apps/v1/namespaces/{ns}/deployments")["items"]!.AsArray().Select(d => (int)d!["spec"]!["replicas"]!).ToArray();

void Check(string side, int replicas)
{
    var got = SpecReplicas();
    if (got.Length != count || got.Any(r => r != replicas))
        throw new InvalidOperationException($"{side}: expected {count} deployments at {replicas}, got {string.Join(",", got)}");
}

var writes = new List<int>();
// Before each timed side: let the controllers finish with the previous side's 50 changes (ReplicaSets updated, pods created or
// deleted, status written), so that neither side pays for the other's aftermath (busy API server, status writes = 409s).
void Settle()
{
    KubeCluster.WaitFor(() => k.Api.Get($"/apis/apps/v1/namespaces/{ns}/deployments")["items"]!.AsArray().All(d =>
        ((long?)d!["status"]?["observedGeneration"] ?? 0) >= (long)d["metadata"]!["generation"]!
        && ((int?)d["status"]?["replicas"] ?? 0) == (int)d["spec"]!["replicas"]!), TimeSpan.FromSeconds(120), "the deployments to settle");
    Thread.Sleep(500);
}

double RunOpsTools(int replicas)
{
    Settle();
    var t = Stopwatch.StartNew();
    var r = session.Run($"$r = Get-Deployment @Kube -Selector {Selector} | Set-ReplicaCount -Replicas {replicas}; @($r | Where-Object Changed).Count; $a = 0; $r | ForEach-Object {{ $a += $_.Attempts }}; $a");
    t.Stop();
    if (r.Terminating is not null || r.Errors.Count > 0)
        throw new InvalidOperationException("Set-ReplicaCount failed: " + (r.Terminating?.Message ?? r.Errors[0].ToString()));
    var changed = Convert.ToInt32(r.Output[0].BaseObject, CultureInfo.InvariantCulture);
    if (changed != count) throw new InvalidOperationException($"Set-ReplicaCount changed {changed} of {count}");
    writes.Add(Convert.ToInt32(r.Output[1].BaseObject, CultureInfo.InvariantCulture));
    Check("OpsTools", replicas);
    return t.Elapsed.TotalMilliseconds;
}

double RunKubectl(int replicas)
{
    Settle();
    var t = Stopwatch.StartNew();
    TestProcess.Run(Kubectl, $"--kubeconfig={k.KubeconfigPath}", $"--context={k.Context}", "-n", ns, "scale", "deployment", "-l", Selector, $"--replicas={replicas}");
    t.Stop();
    Check("kubectl", replicas);
    return t.Elapsed.TotalMilliseconds;
}

// Every timed run changes every deployment (1 -> 2 -> 1 ...): no side gets the "already there" shortcut.
var current = 1;
int Next() => current = current == 1 ? 2 : 1;

// Warm-up: one of each (JIT, module load, kubectl's discovery cache), not counted.
RunOpsTools(Next());
RunKubectl(Next());

var ops = new List<double>();
var kc = new List<double>();
Console.WriteLine();
Console.WriteLine($"| run | Get-Deployment -Selector \\| Set-ReplicaCount ({count}) | kubectl scale deployment -l ({count}) | OpsTools / kubectl |");
Console.WriteLine("| --- | ---: | ---: | ---: |");
for (var rep = 1; rep <= repetitions; rep++)
{
    double o, c;
    if (rep % 2 == 1) { o = RunOpsTools(Next()); c = RunKubectl(Next()); }
    else { c = RunKubectl(Next()); o = RunOpsTools(Next()); }
    ops.Add(o); kc.Add(c);
    Console.WriteLine($"| {rep} | {o:0} ms ({writes[^1]} writes) | {c:0} ms | {o / c:0.00} |");
}
double Median(List<double> x) { var s = x.OrderBy(v => v).ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
var mo = Median(ops); var mk = Median(kc);
Console.WriteLine($"| **median** | **{mo:0} ms** | **{mk:0} ms** | **{mo / mk:0.00}** |");
Console.WriteLine();
Console.WriteLine($"OpsTools / kubectl scale -l = {mo / mk:0.00} x (goal <= 1.0); per deployment: OpsTools {mo / count:0.0} ms, kubectl {mk / count:0.0} ms");
k.DeleteNamespace(ns);

