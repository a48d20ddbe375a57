// Cold start as cron and CI pay it: a whole `pwsh -NoProfile -Command "Import-Module X; Get-Command -Module X | Out-Null"`
// process, for OpsTools and for an empty binary module with a manifest (bench/EmptyModule), interleaved, the order
// alternated. Measures each process's CPU time (user + system, from getrusage(RUSAGE_CHILDREN) around its wait) and
// wall time; reports medians and the ratio. The pwsh is the pinned local tool (PowerShell 7.6.10), or OPSTOOLS_PWSH.
// Usage: dotnet run -c Release --project bench/ColdStartBench [-- <runs>]
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using OpsTools.TestKit;

var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 21;
var config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
var emptyDll = Path.Combine(RepoPaths.Root, "bench", "EmptyModule", "bin", config, "net8.0", "EmptyModule.dll");
if (!File.Exists(emptyDll)) { Console.Error.WriteLine($"build first: {emptyDll} is missing"); return 1; }
var pwsh = FindPwsh();
if (pwsh is null) { Console.Error.WriteLine("pwsh 7.6.10 not found: run 'dotnet tool restore' (or set OPSTOOLS_PWSH)"); return 1; }

// The empty module as a module folder with a manifest, like OpsTools: Import-Module by path, Get-Command by name.
var emptyRoot = Directory.CreateTempSubdirectory("opstools-coldstart-").FullName;
var emptyDir = Directory.CreateDirectory(Path.Combine(emptyRoot, "EmptyModule", "1.0.0")).FullName;
File.Copy(emptyDll, Path.Combine(emptyDir, "EmptyModule.dll"));
var emptyManifest = Path.Combine(emptyDir, "EmptyModule.psd1");
File.WriteAllText(emptyManifest, "@{ RootModule = 'EmptyModule.dll'; ModuleVersion = '1.0.0'; GUID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'; " +
    "PowerShellVersion = '7.4'; CmdletsToExport = @('Get-Nothing'); FunctionsToExport = @(); AliasesToExport = @(); VariablesToExport = @() }");

string Script(string manifest, string name) => $"Import-Module '{manifest}'; Get-Command -Module {name} | Out-Null";
var sides = new (string Name, string Script)[]
{
    ("empty binary module", Script(emptyManifest, "EmptyModule")),
    ("OpsTools", Script(RepoPaths.ModuleManifest, "OpsTools")),
};

// Warm-up: disk caches equal for both.
foreach (var s in sides) Measure(pwsh, s.Script);
var cpu = sides.ToDictionary(s => s.Name, _ => new List<double>());
var wall = sides.ToDictionary(s => s.Name, _ => new List<double>());
for (var i = 0; i < runs; i++)
{
    var order = i % 2 == 0 ? sides : sides.Reverse().ToArray();
    foreach (var s in order)
    {
        var (c, w) = Measure(pwsh, s.Script);
        cpu[s.Name].Add(c); wall[s.Name].Add(w);
    }
}
Directory.Delete(emptyRoot, recursive: true);

double Median(List<double> xs) { var s = xs.OrderBy(x => x).ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }
Console.WriteLine($"pwsh cold start with Import-Module + Get-Command -Module, {runs} runs each, interleaved (order alternated), medians:");
Console.WriteLine($"  pwsh: {string.Join(' ', pwsh)}");
foreach (var s in sides)
    Console.WriteLine($"  {s.Name,-22}: CPU {Median(cpu[s.Name]),7:F0} ms   wall {Median(wall[s.Name]),7:F0} ms");
var ratio = Median(cpu["OpsTools"]) / Median(cpu["empty binary module"]);
Console.WriteLine($"  CPU ratio OpsTools / empty: {ratio:F3} (goal <= 1.15)");
Console.WriteLine($"  wall ratio OpsTools / empty: {Median(wall["OpsTools"]) / Median(wall["empty binary module"]):F3}");
return 0;

static (double CpuMs, double WallMs) Measure(string[] pwsh, string script)
{
    var psi = new ProcessStartInfo(pwsh[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    foreach (var a in pwsh.Skip(1)) psi.ArgumentList.Add(a);
    foreach (var a in new[] { "-NoProfile", "-NonInteractive", "-Command", script }) psi.ArgumentList.Add(a);
    var before = ChildrenCpuMs();
    var sw = Stopwatch.StartNew();
    using var p = Process.Start(psi)!;
    var err = p.StandardError.ReadToEndAsync();
    p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    sw.Stop();
    if (p.ExitCode != 0) throw new InvalidOperationException($"pwsh failed ({p.ExitCode}): {err.Result}");
    return (ChildrenCpuMs() - before, sw.Elapsed.TotalMilliseconds);
}

// getrusage(RUSAGE_CHILDREN): user + system time of every child this process has waited for.
static double ChildrenCpuMs()
{
    var usage = new RUsage();
    if (GetRUsage(-1, ref usage) != 0) throw new InvalidOperationException("getrusage failed");
    return (usage.UserSec + usage.SysSec) * 1000.0 + (usage.UserUsec + usage.SysUsec) / 1000.0;
}

static string[]? FindPwsh()
{
    if (Environment.GetEnvironmentVariable("OPSTOOLS_PWSH") is { Length: > 0 } p) return [p];
    var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } n ? n
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
    var home = Path.Combine(packages, "powershell", "7.6.10", "tools", "net10.0", "any", OperatingSystem.IsWindows() ? "win" : "unix");
    var apphost = Path.Combine(home, OperatingSystem.IsWindows() ? "pwsh.exe" : "pwsh");
    return File.Exists(apphost) ? [apphost] : File.Exists(Path.Combine(home, "pwsh.dll")) ? ["dotnet", Path.Combine(home, "pwsh.dll")] : null;
}

[DllImport("libc", EntryPoint = "getrusage", SetLastError = true)]
static extern int GetRUsage(int who, ref RUsage usage);

[StructLayout(LayoutKind.Sequential)]
struct RUsage
{
    public long UserSec, UserUsec, SysSec, SysUsec;
    public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NVcsw, NIvcsw;
}
