using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using OpsTools.TestKit;

// Usage: dotnet run -c Release --project bench/FleetBench [-- hosts repetitions throttle]
// The daily check over N PowerShell-remoting hosts on loopback (TestKit's SshHost: sshd + pwsh 7.6.10 as the powershell
// subsystem, OpsTools in each host's user module path): `Invoke-FleetCheck -HostName ... -ScriptBlock { Invoke-DailyCheck }`
// against the loop an admin would otherwise write, `foreach ($p in $ports) { Invoke-Command -HostName 127.0.0.1 -Port $p
// ... { Import-Module OpsTools; Invoke-DailyCheck } }`, each host timed. Both sides run in their own real pwsh process with
// the built module imported first (not timed); a Stopwatch in the script times the measured part only. Interleaved with
// the order alternated, one warm-up of each side, medians. Goals (issue): loop / fleet >= 8, fleet / slowest host <= 1.3.
// Also measured: the CPU time the host side used (sshd sessions and the remote pwsh processes), because on this machine
// all N "hosts" share the same cores. throttle (default 32, the command's default) is Invoke-FleetCheck -ThrottleLimit:
// on a machine with few cores, a throttle of the core count shows what the fleet run costs without N pwsh processes
// starting at once on the same cores.
var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 20;
var repetitions = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var throttle = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 32;
if (!File.Exists(RepoPaths.ModuleManifest)) { Console.Error.WriteLine($"build first: {RepoPaths.ModuleManifest} is missing (dotnet build -c Release OpsTools.sln)"); return 1; }
var (dotnet, pwshDll) = SshHost.Pwsh();
var sshOption = "@{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }";
var clockTick = 1000.0 / SysConf(2 /* _SC_CLK_TCK */);

// The remote pwsh of a session is not reaped by its sshd (its CPU time does not show in the listener's cutime): it is
// orphaned. As a child subreaper this process becomes its parent and reaps it with wait4, which gives its CPU time.
if (Prctl(36 /* PR_SET_CHILD_SUBREAPER */, 1, 0, 0, 0) != 0) throw new InvalidOperationException("prctl(PR_SET_CHILD_SUBREAPER) failed: " + Marshal.GetLastPInvokeError());
var hosts = new ConcurrentBag<SshHost>();
void StopHosts() { while (hosts.TryTake(out var h)) h.Dispose(); }
Console.CancelKeyPress += (_, _) => StopHosts();
try
{
    var sw = Stopwatch.StartNew();
    Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = 8 }, _ => hosts.Add(SshHost.Start(RepoPaths.ModuleDirectory)));
    var started = hosts.OrderBy(h => h.Port).ToList();
    var names = started.Select(h => $"{SshHost.HostName}:{h.Port}").ToList();
    Console.WriteLine($"FleetBench: {count} remoting hosts on {SshHost.HostName} (started in {sw.Elapsed.TotalSeconds:0.0} s), {repetitions} repetitions after one warm-up of each side; Invoke-FleetCheck -ThrottleLimit {throttle}");
    Console.WriteLine($"  sshd: {TestProcess.Run("/bin/sh", "-c", $"{SshHost.Sshd} -V 2>&1 | head -n 1").Trim()}; pwsh (caller and each host's powershell subsystem): {dotnet} {pwshDll}");
    Console.WriteLine($"  machine: {Environment.ProcessorCount} CPU(s), {RuntimeInformation.OSDescription}, .NET {Environment.Version}");

    // The caller's CPU in the timed part: its own (TotalProcessorTime) and that of the children it reaped (cutime + cstime
    // in /proc/self/stat: the ssh clients).
    var prelude = $$"""
        Import-Module OpsTools; $base = (Get-Module OpsTools).ModuleBase; $key = '{{SshHost.ClientKeyFile}}'; $opt = {{sshOption}}
        function Get-CallerCpu { $s = [System.IO.File]::ReadAllText('/proc/self/stat'); $f = $s.Substring($s.LastIndexOf(')') + 2).Split(' ')
            [System.Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalMilliseconds + ([long]$f[13] + [long]$f[14]) * {{clockTick.ToString(CultureInfo.InvariantCulture)}} }

        """;
    var fleetScript = prelude + $$"""
        $hosts = @({{string.Join(", ", names.Select(n => $"'{n}'"))}})
        $c0 = Get-CallerCpu
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        $r = @(Invoke-FleetCheck -HostName $hosts -KeyFilePath $key -SSHOption $opt -ThrottleLimit {{throttle}} -ScriptBlock { Invoke-DailyCheck } -ErrorVariable errs)
        $sw.Stop()
        $cpu = (Get-CallerCpu) - $c0
        $perHost = foreach ($h in $hosts) {
            $mine = @($r | Where-Object { $_.ComputerName -eq $h })
            [pscustomobject]@{ Host = $h; Ms = 0; Results = $mine.Count; Checks = @($mine | ForEach-Object Check | Sort-Object -Unique)
                Unknown = @($mine | Where-Object { "$($_.Status)" -eq 'Unknown' } | ForEach-Object { "$($_.Check)/$($_.Target): $($_.Message)" }); Errors = @() }
        }
        $other = @($r | Where-Object { $_.ComputerName -notin $hosts } | ForEach-Object { "$($_.ComputerName) $($_.Check): $($_.Message)" })
        'RESULT ' + ([pscustomobject]@{ WallMs = $sw.Elapsed.TotalMilliseconds; CallerCpuMs = $cpu; ModuleBase = $base; Hosts = @($perHost)
            Errors = @(@($errs | ForEach-Object { "$_" }) + $other) } | ConvertTo-Json -Compress -Depth 5)
        """;
    var loopScript = prelude + $$"""
        $ports = @({{string.Join(", ", started.Select(h => h.Port))}})
        $runs = [System.Collections.Generic.List[object]]::new()
        $c0 = Get-CallerCpu
        $sw = [System.Diagnostics.Stopwatch]::StartNew()
        foreach ($p in $ports) {
            $t = [System.Diagnostics.Stopwatch]::StartNew()
            $r = @(Invoke-Command -HostName 127.0.0.1 -Port $p -KeyFilePath $key -Options $opt -ScriptBlock { Import-Module OpsTools; Invoke-DailyCheck } -ErrorVariable errs)
            $t.Stop()
            $runs.Add(@($p, $t.Elapsed.TotalMilliseconds, $r, @($errs)))
        }
        $sw.Stop()
        $cpu = (Get-CallerCpu) - $c0
        $perHost = foreach ($x in $runs) {
            $mine = $x[2]
            [pscustomobject]@{ Host = "127.0.0.1:$($x[0])"; Ms = $x[1]; Results = $mine.Count; Checks = @($mine | ForEach-Object Check | Sort-Object -Unique)
                Unknown = @($mine | Where-Object { "$($_.Status)" -eq 'Unknown' } | ForEach-Object { "$($_.Check)/$($_.Target): $($_.Message)" })
                Errors = @($x[3] | ForEach-Object { "$_" }) }
        }
        'RESULT ' + ([pscustomobject]@{ WallMs = $sw.Elapsed.TotalMilliseconds; CallerCpuMs = $cpu; ModuleBase = $base; Hosts = @($perHost); Errors = @() } | ConvertTo-Json -Compress -Depth 5)
        """;

    var listeners = started.Select(h => h.Pid).ToHashSet();
    var ours = new HashSet<int>(listeners); // children started through Process (reaped by .NET, never by wait4 here)
    var orphanCpuMs = 0.0;

    // Host side's CPU: the sshd listeners' cutime + cstime (each reaps its per-connection sshd) plus the orphaned remote
    // pwsh processes this process reaped. Read when no session process is left (also so that neither side pays for the
    // other's sessions still ending).
    double HostCpuMs()
    {
        var until = DateTime.UtcNow.AddSeconds(120);
        while (ReapAndCount() > 0)
        {
            if (DateTime.UtcNow > until) throw new InvalidOperationException($"{ReapAndCount()} host session process(es) still running 120 s after the side ended");
            Thread.Sleep(100);
        }
        return orphanCpuMs + listeners.Sum(pid => { var f = StatFields(pid)!; return (long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture)) * clockTick; });
    }

    // Session processes still there: children of an sshd listener, and orphans re-parented here (zombies are reaped).
    int ReapAndCount()
    {
        var n = 0;
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || StatFields(pid) is not { } f) continue;
            var ppid = int.Parse(f[1], CultureInfo.InvariantCulture);
            if (listeners.Contains(ppid)) n++;
            else if (ppid == Environment.ProcessId && !ours.Contains(pid))
            {
                if (f[0] == "Z" && Wait4(pid, out _, 1 /* WNOHANG */, out var ru) == pid)
                    orphanCpuMs += (ru.UserSec + ru.SysSec) * 1000.0 + (ru.UserUsec + ru.SysUsec) / 1000.0;
                else n++;
            }
        }
        return n;
    }

    Side RunSide(string name, string script)
    {
        var cpuBefore = HostCpuMs();
        var psi = new ProcessStartInfo(dotnet) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { pwshDll, "-NoProfile", "-NonInteractive", "-Command", script }) psi.ArgumentList.Add(a);
        var modulePath = Environment.GetEnvironmentVariable("PSModulePath");
        psi.Environment["PSModulePath"] = Path.Combine(RepoPaths.Root, "out") + (string.IsNullOrEmpty(modulePath) ? "" : Path.PathSeparator + modulePath);
        psi.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["POWERSHELL_UPDATECHECK"] = "Off";
        using var p = Process.Start(psi)!;
        ours.Add(p.Id);
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(20)))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{name}: the pwsh process did not finish within 20 minutes");
        }
        ours.Remove(p.Id);
        var line = output.Result.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("RESULT ", StringComparison.Ordinal));
        if (p.ExitCode != 0 || line is null)
            throw new InvalidOperationException($"{name}: pwsh exited {p.ExitCode} without a result.\nstdout: {output.Result}\nstderr: {err.Result}");
        var r = JsonSerializer.Deserialize<SideResult>(line["RESULT ".Length..])!;
        var hostCpu = HostCpuMs() - cpuBefore;

        // No speed on failures: every host answered with its disk and memory checks, nothing Unknown, no errors.
        var problems = new List<string>();
        if (!string.Equals(Path.GetFullPath(r.ModuleBase ?? ""), Path.GetFullPath(RepoPaths.ModuleDirectory), StringComparison.Ordinal))
            problems.Add($"the caller imported OpsTools from {r.ModuleBase}, not {RepoPaths.ModuleDirectory}");
        problems.AddRange(r.Errors ?? []);
        foreach (var n in names)
        {
            var h = r.Hosts?.FirstOrDefault(x => x.Host == n);
            if (h is null) { problems.Add($"{n}: no results"); continue; }
            if (!(h.Checks ?? []).Contains("DiskUsage") || !(h.Checks ?? []).Contains("MemoryUsage"))
                problems.Add($"{n}: {h.Results} result(s), checks [{string.Join(", ", h.Checks ?? [])}]; expected DiskUsage and MemoryUsage");
            problems.AddRange((h.Unknown ?? []).Select(u => $"{n}: Unknown {u}"));
            problems.AddRange((h.Errors ?? []).Select(e => $"{n}: error {e}"));
        }
        if ((r.Hosts?.Count ?? 0) != count) problems.Add($"{r.Hosts?.Count ?? 0} hosts in the answer, expected {count}");
        if (problems.Count > 0)
            throw new InvalidOperationException($"{name}: {problems.Count} problem(s), no speed reported:\n  " + string.Join("\n  ", problems.Take(40)));
        var perHost = r.Hosts!.Select(h => h.Ms).ToList();
        return new Side(r.WallMs, r.CallerCpuMs, hostCpu, r.Hosts!.Sum(h => h.Results), perHost);
    }

    Side Fleet() => RunSide("Invoke-FleetCheck", fleetScript);
    Side Loop() => RunSide("host-by-host loop", loopScript);

    var warmFleet = Fleet();
    var warmLoop = Loop();
    Console.WriteLine($"  warm-up (not counted): Invoke-FleetCheck {warmFleet.WallMs / 1000:0.0} s, loop {warmLoop.WallMs / 1000:0.0} s; results per run: fleet {warmFleet.Results}, loop {warmLoop.Results}");

    var fleets = new List<Side>();
    var loops = new List<Side>();
    Console.WriteLine();
    Console.WriteLine($"| run | Invoke-FleetCheck ({count} hosts) | host-by-host loop | slowest host in the loop | median host in the loop | loop / fleet | fleet / slowest host |");
    Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    for (var rep = 1; rep <= repetitions; rep++)
    {
        Side f, l;
        if (rep % 2 == 1) { f = Fleet(); l = Loop(); }
        else { l = Loop(); f = Fleet(); }
        fleets.Add(f); loops.Add(l);
        Console.WriteLine($"| {rep}{(rep % 2 == 1 ? " (fleet first)" : " (loop first)")} | {f.WallMs / 1000:0.00} s | {l.WallMs / 1000:0.00} s | {l.PerHostMs.Max() / 1000:0.00} s | {Median(l.PerHostMs) / 1000:0.00} s | {l.WallMs / f.WallMs:0.00} | {f.WallMs / l.PerHostMs.Max():0.00} |");
    }
    var mf = Median(fleets.Select(s => s.WallMs)); var ml = Median(loops.Select(s => s.WallMs));
    var ms = Median(loops.Select(s => s.PerHostMs.Max())); var mh = Median(loops.Select(s => Median(s.PerHostMs)));
    var speedup = Median(fleets.Zip(loops, (f, l) => l.WallMs / f.WallMs));
    var vsSlowest = Median(fleets.Zip(loops, (f, l) => f.WallMs / l.PerHostMs.Max()));
    Console.WriteLine($"| **median** | **{mf / 1000:0.00} s** | **{ml / 1000:0.00} s** | **{ms / 1000:0.00} s** | **{mh / 1000:0.00} s** | **{speedup:0.00}** | **{vsSlowest:0.00}** |");
    Console.WriteLine();
    Console.WriteLine("CPU time per run (medians): host side = the sshd sessions and the remote pwsh processes; caller = the client pwsh and its ssh clients during the timed part");
    Console.WriteLine("| side | wall | host-side CPU | per host | caller CPU | (host + caller CPU) / cores | wall / that |");
    Console.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: |");
    foreach (var (label, runs) in new[] { ("Invoke-FleetCheck", fleets), ("host-by-host loop", loops) })
    {
        var wall = Median(runs.Select(s => s.WallMs)); var host = Median(runs.Select(s => s.HostCpuMs)); var caller = Median(runs.Select(s => s.CallerCpuMs));
        var floor = (host + caller) / Environment.ProcessorCount;
        Console.WriteLine($"| {label} | {wall / 1000:0.00} s | {host / 1000:0.00} s | {host / count / 1000:0.00} s | {caller / 1000:0.00} s | {floor / 1000:0.00} s | {wall / floor:0.00} |");
    }
    Console.WriteLine();
    Console.WriteLine($"loop / Invoke-FleetCheck = {speedup:0.00} x faster (goal >= 8); Invoke-FleetCheck / slowest single host = {vsSlowest:0.00} (goal <= 1.3) (medians of the per-run ratios; ratios of the medians: {ml / mf:0.00}, {mf / ms:0.00})");
    return 0;
}
catch (Exception e)
{
    // Caught here so that the finally stops the hosts (an unhandled exception need not run it).
    Console.Error.WriteLine(e);
    return 1;
}
finally
{
    StopHosts();
}

static double Median(IEnumerable<double> values) { var s = values.OrderBy(v => v).ToList(); return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2; }

// /proc/<pid>/stat after the command name: [0] state, [1] ppid, ... [13] cutime, [14] cstime (clock ticks). Null when gone.
static string[]? StatFields(int pid)
{
    try
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }
    catch (IOException) { return null; }
    catch (UnauthorizedAccessException) { return null; }
}


[DllImport("libc", EntryPoint = "sysconf")]
static extern long SysConf(int name);

[DllImport("libc", EntryPoint = "prctl", SetLastError = true)]
static extern int Prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

[DllImport("libc", EntryPoint = "wait4", SetLastError = true)]
static extern int Wait4(int pid, out int status, int options, out RUsage usage);

record Side(double WallMs, double CallerCpuMs, double HostCpuMs, int Results, List<double> PerHostMs);
record HostResult(string Host, double Ms, int Results, List<string>? Checks, List<string>? Unknown, List<string>? Errors);
record SideResult(double WallMs, double CallerCpuMs, string? ModuleBase, List<HostResult>? Hosts, List<string>? Errors);

[StructLayout(LayoutKind.Sequential)]
struct RUsage
{
    public long UserSec, UserUsec, SysSec, SysUsec;
    public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NVcsw, NIvcsw;
}
