using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using OpsTools.Configuration;
using OpsTools.HostResources;

namespace OpsTools.Engine.HostResources;

/// <summary>Memory and swap of a host, in bytes, and where the numbers came from.</summary>
public sealed record MemorySnapshot(long TotalBytes, long AvailableBytes, long SwapTotalBytes, long SwapFreeBytes, string Source);

/// <summary>The thresholds the memory check compares used memory with, in percent.</summary>
public sealed record MemoryThresholds(double WarningPercent, double CriticalPercent)
{
    public static MemoryThresholds From(ThresholdSet t) => new(t.MemoryWarningPercent, t.MemoryCriticalPercent);
    public override string ToString() => $"warn > {Sizes.Percent(WarningPercent)}% used; critical > {Sizes.Percent(CriticalPercent)}% used";
}

/// <summary>Parsers for what the operating systems report about memory.</summary>
public static class MemoryParsers
{
    /// <summary>
    /// Parses <c>/proc/meminfo</c>. Values are in kB (kibibytes). Available memory is MemAvailable
    /// (Linux 3.14+); older kernels lack it, and then it is MemFree + Buffers + Cached.
    /// </summary>
    public static MemorySnapshot ParseMemInfo(string text)
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var key = line[..colon].Trim();
            var rest = line[(colon + 1)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (rest.Length == 0 || !long.TryParse(rest[0], NumberStyles.None, CultureInfo.InvariantCulture, out var number)) continue;
            var multiplier = rest.Length > 1 && rest[1].Equals("kB", StringComparison.OrdinalIgnoreCase) ? 1024L : 1L;
            values[key] = number * multiplier;
        }

        if (!values.TryGetValue("MemTotal", out var total) || total <= 0)
            throw new OpsToolsException("MemInfoInvalid", OpsErrorKind.InvalidData, "/proc/meminfo has no MemTotal line; cannot tell the memory size.", "/proc/meminfo");

        string source;
        if (values.TryGetValue("MemAvailable", out var available))
            source = "/proc/meminfo (MemAvailable)";
        else
        {
            available = Get(values, "MemFree") + Get(values, "Buffers") + Get(values, "Cached");
            source = "/proc/meminfo (MemFree + Buffers + Cached; the kernel reports no MemAvailable)";
        }
        available = Math.Clamp(available, 0, total);
        var swapTotal = Get(values, "SwapTotal");
        var swapFree = Math.Clamp(Get(values, "SwapFree"), 0, swapTotal);
        return new MemorySnapshot(total, available, swapTotal, swapFree, source);
    }

    /// <summary>
    /// Parses macOS <c>vm_stat</c> output and returns the bytes that new work can use: free,
    /// inactive and speculative pages times the page size the header names.
    /// </summary>
    public static long ParseVmStatAvailable(string text)
    {
        var pageSize = 4096L;
        var header = Regex.Match(text, @"page size of (\d+) bytes");
        if (header.Success) pageSize = long.Parse(header.Groups[1].Value, CultureInfo.InvariantCulture);
        long Pages(string name)
        {
            var m = Regex.Match(text, "^" + Regex.Escape(name) + @":\s+(\d+)\.?\s*$", RegexOptions.Multiline);
            return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        }
        return (Pages("Pages free") + Pages("Pages inactive") + Pages("Pages speculative")) * pageSize;
    }

    private static long Get(Dictionary<string, long> values, string key) => values.TryGetValue(key, out var v) ? v : 0;
}

/// <summary>Physical memory and swap of this host (what <c>free</c> shows), as a check result.</summary>
public static class MemoryUsageProbe
{
    /// <summary>Warning when more than the warning share is used, Critical when more than the critical share.</summary>
    public static CheckStatus Evaluate(double usedPercent, MemoryThresholds t) =>
        usedPercent > t.CriticalPercent ? CheckStatus.Critical
        : usedPercent > t.WarningPercent ? CheckStatus.Warning
        : CheckStatus.Healthy;

    public static MemoryUsageResult CreateResult(MemorySnapshot m, string hostName, MemoryThresholds thresholds, TimeSpan duration, string? environment)
    {
        var used = m.TotalBytes - m.AvailableBytes;
        var usedPercent = m.TotalBytes <= 0 ? 0 : Math.Round(used * 100.0 / m.TotalBytes, 2);
        var status = Evaluate(usedPercent, thresholds);
        var swapUsed = m.SwapTotalBytes - m.SwapFreeBytes;
        var swap = m.SwapTotalBytes == 0 ? "no swap" : $"swap {ByteSize.Format(swapUsed, ByteFormat.IecFixed)} of {ByteSize.Format(m.SwapTotalBytes, ByteFormat.IecFixed)} used";
        var message = $"{hostName}: {ByteSize.Format(m.AvailableBytes, ByteFormat.IecFixed)} available of {ByteSize.Format(m.TotalBytes, ByteFormat.IecFixed)} ({Sizes.Percent(usedPercent)}% used), {swap}";
        message += status switch
        {
            CheckStatus.Critical => $"; over the critical threshold of {Sizes.Percent(thresholds.CriticalPercent)}% used.",
            CheckStatus.Warning => $"; over the warning threshold of {Sizes.Percent(thresholds.WarningPercent)}% used.",
            _ => ".",
        };
        return new MemoryUsageResult
        {
            Check = "MemoryUsage",
            Area = "Host",
            Target = hostName,
            TotalBytes = m.TotalBytes,
            AvailableBytes = m.AvailableBytes,
            UsedBytes = used,
            UsedPercent = usedPercent,
            SwapTotalBytes = m.SwapTotalBytes,
            SwapUsedBytes = swapUsed,
            Value = usedPercent,
            Threshold = thresholds.ToString(),
            Status = status,
            Message = message,
            Duration = duration,
            Timestamp = DateTime.UtcNow,
            Environment = environment,
        };
    }

    /// <summary>Measures this host. Where the platform is not supported the result is Unknown and says so.</summary>
    public static MemoryUsageResult Get(MemoryThresholds thresholds, string? environment)
    {
        var host = HostName();
        var sw = Stopwatch.StartNew();
        MemorySnapshot? snapshot;
        string? reason = null;
        try
        {
            snapshot = Read(out reason);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OpsToolsException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            snapshot = null;
            reason = e.Message;
        }
        if (snapshot is null)
            return new MemoryUsageResult
            {
                Check = "MemoryUsage", Area = "Host", Target = host, Status = CheckStatus.Unknown,
                Message = $"{host}: memory use could not be read: {reason}", Threshold = thresholds.ToString(),
                Duration = sw.Elapsed, Timestamp = DateTime.UtcNow, Environment = environment,
            };
        return CreateResult(snapshot, host, thresholds, sw.Elapsed, environment);
    }

    /// <summary>The host name results name (the same one Invoke-DailyCheck uses).</summary>
    public static string HostName()
    {
        try { return System.Net.Dns.GetHostName(); }
        catch (System.Net.Sockets.SocketException) { return Environment.MachineName; }
    }

    private static MemorySnapshot? Read(out string? reason)
    {
        reason = null;
        if (OperatingSystem.IsLinux())
            return MemoryParsers.ParseMemInfo(File.ReadAllText("/proc/meminfo"));
        if (OperatingSystem.IsWindows())
            return ReadWindows();
        if (OperatingSystem.IsMacOS())
            return ReadMacOS();
        reason = $"not supported on {RuntimeInformation.OSDescription}.";
        return null;
    }

    // ---- Windows: GlobalMemoryStatusEx (compiled in everywhere, runs only on Windows) ----

    [StructLayout(LayoutKind.Sequential)]
    private struct MemoryStatusEx
    {
        public uint dwLength;
        public uint dwMemoryLoad;
        public ulong ullTotalPhys;
        public ulong ullAvailPhys;
        public ulong ullTotalPageFile;
        public ulong ullAvailPageFile;
        public ulong ullTotalVirtual;
        public ulong ullAvailVirtual;
        public ulong ullAvailExtendedVirtual;
    }

    [DllImport("kernel32.dll", SetLastError = true)]
    [return: MarshalAs(UnmanagedType.Bool)]
    private static extern bool GlobalMemoryStatusEx(ref MemoryStatusEx buffer);

    private static MemorySnapshot ReadWindows()
    {
        var status = new MemoryStatusEx { dwLength = (uint)Marshal.SizeOf<MemoryStatusEx>() };
        if (!GlobalMemoryStatusEx(ref status))
            throw new System.ComponentModel.Win32Exception(Marshal.GetLastPInvokeError());
        // The commit limit (page file total) includes physical memory; what is beyond it is the page file.
        var swapTotal = status.ullTotalPageFile > status.ullTotalPhys ? status.ullTotalPageFile - status.ullTotalPhys : 0;
        var swapUsed = Math.Min(swapTotal, (status.ullTotalPageFile - status.ullAvailPageFile) > (status.ullTotalPhys - status.ullAvailPhys)
            ? (status.ullTotalPageFile - status.ullAvailPageFile) - (status.ullTotalPhys - status.ullAvailPhys) : 0);
        return new MemorySnapshot((long)status.ullTotalPhys, (long)status.ullAvailPhys, (long)swapTotal, (long)(swapTotal - swapUsed), "GlobalMemoryStatusEx");
    }

    // ---- macOS: sysctl hw.memsize and vm.swapusage, vm_stat for available pages ----

    [DllImport("libc", EntryPoint = "sysctlbyname", SetLastError = true)]
    private static extern int sysctlbyname([MarshalAs(UnmanagedType.LPUTF8Str)] string name, IntPtr value, ref IntPtr length, IntPtr newValue, IntPtr newLength);

    private static MemorySnapshot ReadMacOS()
    {
        var total = SysctlInt64("hw.memsize");
        var psi = new ProcessStartInfo("vm_stat") { RedirectStandardOutput = true, UseShellExecute = false };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("vm_stat could not be started.");
        var text = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(5000)) { try { p.Kill(); } catch (InvalidOperationException) { } }
        var available = Math.Clamp(MemoryParsers.ParseVmStatAvailable(text), 0, total);
        // struct xsw_usage { u_int64_t xsu_total, xsu_avail, xsu_used; u_int32_t xsu_pagesize; boolean_t xsu_encrypted; }
        long swapTotal = 0, swapFree = 0;
        var buffer = Marshal.AllocHGlobal(32);
        try
        {
            var length = (IntPtr)32;
            if (sysctlbyname("vm.swapusage", buffer, ref length, IntPtr.Zero, IntPtr.Zero) == 0)
            {
                swapTotal = Marshal.ReadInt64(buffer, 0);
                swapFree = Marshal.ReadInt64(buffer, 8);
            }
        }
        finally { Marshal.FreeHGlobal(buffer); }
        return new MemorySnapshot(total, available, swapTotal, swapFree, "sysctl hw.memsize, vm_stat");
    }

    private static long SysctlInt64(string name)
    {
        var buffer = Marshal.AllocHGlobal(8);
        try
        {
            var length = (IntPtr)8;
            if (sysctlbyname(name, buffer, ref length, IntPtr.Zero, IntPtr.Zero) != 0)
                throw new System.ComponentModel.Win32Exception(Marshal.GetLastPInvokeError(), $"sysctl {name} failed");
            return Marshal.ReadInt64(buffer);
        }
        finally { Marshal.FreeHGlobal(buffer); }
    }
}
