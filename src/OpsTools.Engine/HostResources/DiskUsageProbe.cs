using System.Diagnostics;
using OpsTools.Configuration;
using OpsTools.HostResources;

namespace OpsTools.Engine.HostResources;

/// <summary>Space of one file system, in bytes, as df reports it.</summary>
public readonly record struct FileSystemSpace(long SizeBytes, long UsedBytes, long FreeBytes)
{
    /// <summary>df's arithmetic: size = f_blocks, used = f_blocks − f_bfree, avail = f_bavail, all × f_frsize.</summary>
    public static FileSystemSpace FromStatVfs(StatVfs s)
    {
        var frsize = s.FragmentSize == 0 ? 1UL : s.FragmentSize;
        var used = s.Blocks >= s.BlocksFree ? s.Blocks - s.BlocksFree : 0;
        return new FileSystemSpace(Clamp(s.Blocks * frsize), Clamp(used * frsize), Clamp(s.BlocksAvailable * frsize));
    }

    private static long Clamp(ulong v) => v > long.MaxValue ? long.MaxValue : (long)v;
}

/// <summary>The thresholds the disk check compares free space with, in percent of the space users can use.</summary>
public sealed record DiskThresholds(double FreeWarningPercent, double FreeCriticalPercent)
{
    public static DiskThresholds From(ThresholdSet t) => new(t.DiskFreeWarningPercent, t.DiskFreeCriticalPercent);
    public override string ToString() => $"warn < {Sizes.Percent(FreeWarningPercent)}% free; critical < {Sizes.Percent(FreeCriticalPercent)}% free";
}

/// <summary>Disk space of mounted file systems (what <c>df</c> shows), as check results.</summary>
public static class DiskUsageProbe
{
    /// <summary>How long one file system may take to answer (a hung NFS mount must not hang the check).</summary>
    public static TimeSpan StatTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>df's Use%: used / (used + avail) × 100, rounded up to a whole number; 0 for an empty file system.</summary>
    public static double DfUsePercent(long used, long available)
    {
        if (used <= 0) return 0;
        var total = (decimal)used + available;
        if (total <= 0) return 0;
        return (double)Math.Ceiling(used * 100m / total);
    }

    /// <summary>Free share of the space users can use, unrounded: avail / (used + avail) × 100.</summary>
    public static double ExactFreePercent(long used, long available)
    {
        var total = (double)used + available;
        return total <= 0 ? 0 : available * 100.0 / total;
    }

    /// <summary>Critical when free space is under the critical threshold, Warning under the warning one.</summary>
    public static CheckStatus Evaluate(double freePercent, DiskThresholds t) =>
        freePercent < t.FreeCriticalPercent ? CheckStatus.Critical
        : freePercent < t.FreeWarningPercent ? CheckStatus.Warning
        : CheckStatus.Healthy;

    /// <summary>Builds the result for one file system from its numbers.</summary>
    public static DiskUsageResult CreateResult(string mount, string fileSystem, FileSystemSpace space, DiskThresholds thresholds,
        TimeSpan duration, string? environment)
    {
        var usedPercent = DfUsePercent(space.UsedBytes, space.FreeBytes);
        var exactFree = ExactFreePercent(space.UsedBytes, space.FreeBytes);
        var status = space.SizeBytes == 0 && space.FreeBytes == 0 && space.UsedBytes == 0
            ? CheckStatus.Unknown
            : Evaluate(exactFree, thresholds);
        var message = status == CheckStatus.Unknown
            ? $"{mount}: the file system reports no size ({fileSystem})."
            : $"{mount}: {ByteSize.Format(space.FreeBytes, ByteFormat.IecFixed)} free of {ByteSize.Format(space.SizeBytes, ByteFormat.IecFixed)} ({Sizes.Percent(100 - usedPercent)}% free)";
        message += status switch
        {
            CheckStatus.Critical => $"; under the critical threshold of {Sizes.Percent(thresholds.FreeCriticalPercent)}% free.",
            CheckStatus.Warning => $"; under the warning threshold of {Sizes.Percent(thresholds.FreeWarningPercent)}% free.",
            CheckStatus.Healthy => ".",
            _ => "",
        };
        return new DiskUsageResult
        {
            Check = "DiskUsage",
            Area = "Host",
            Target = mount,
            Mount = mount,
            FileSystem = fileSystem,
            SizeBytes = space.SizeBytes,
            UsedBytes = space.UsedBytes,
            FreeBytes = space.FreeBytes,
            UsedPercent = usedPercent,
            FreePercent = 100 - usedPercent,
            Value = usedPercent,
            Threshold = thresholds.ToString(),
            Status = status,
            Message = message,
            Duration = duration,
            Timestamp = DateTime.UtcNow,
            Environment = environment,
        };
    }

    /// <summary>An Unknown result for a file system that could not be measured.</summary>
    public static DiskUsageResult UnknownResult(string mount, string fileSystem, string reason, DiskThresholds thresholds, TimeSpan duration, string? environment) => new()
    {
        Check = "DiskUsage",
        Area = "Host",
        Target = mount,
        Mount = mount,
        FileSystem = fileSystem,
        Status = CheckStatus.Unknown,
        Message = $"{mount}: {reason}",
        Threshold = thresholds.ToString(),
        Duration = duration,
        Timestamp = DateTime.UtcNow,
        Environment = environment,
    };

    /// <summary>
    /// Every real file system of this host (memory-backed ones too with <paramref name="all"/>).
    /// A file system that cannot be measured becomes an Unknown result that says why.
    /// </summary>
    public static async Task<IReadOnlyList<DiskUsageResult>> GetAllAsync(bool all, DiskThresholds thresholds, string? environment, CancellationToken cancellationToken)
    {
        var results = new List<DiskUsageResult>();
        if (NativeFileSystem.StatVfsSupported)
        {
            foreach (var m in MountTable.SelectReal(ReadMountTable(), all, Directory.Exists))
            {
                cancellationToken.ThrowIfCancellationRequested();
                results.Add(await MeasureLinuxAsync(m.MountPoint, m, pathNamed: false, thresholds, environment, cancellationToken).ConfigureAwait(false));
            }
            return results;
        }

        foreach (var d in DriveInfo.GetDrives())
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!WantedDrive(d, all)) continue;
            var sw = Stopwatch.StartNew();
            try
            {
                if (!d.IsReady) continue;
                results.Add(CreateResult(d.RootDirectory.FullName, d.DriveFormat, FromDrive(d), thresholds, sw.Elapsed, environment));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                results.Add(UnknownResult(d.Name, "", e.Message, thresholds, sw.Elapsed, environment));
            }
        }
        return results;
    }

    /// <summary>
    /// The file system that holds <paramref name="fullPath"/> (what <c>df PATH</c> shows).
    /// Throws <see cref="OpsToolsException"/> PathNotFound when the path does not exist.
    /// </summary>
    public static async Task<DiskUsageResult> GetForPathAsync(string fullPath, DiskThresholds thresholds, string? environment, CancellationToken cancellationToken)
    {
        if (!File.Exists(fullPath) && !Directory.Exists(fullPath))
            throw new OpsToolsException("PathNotFound", OpsErrorKind.NotFound, $"Path '{fullPath}' does not exist.", fullPath);

        if (NativeFileSystem.StatVfsSupported)
        {
            var real = NativeFileSystem.RealPath(fullPath);
            var mount = MountTable.FindContaining(ReadMountTable(), real);
            var result = await MeasureLinuxAsync(fullPath, mount, pathNamed: true, thresholds, environment, cancellationToken).ConfigureAwait(false);
            result.Path = fullPath;
            return result;
        }

        var sw = Stopwatch.StartNew();
        var drive = FindDrive(fullPath)
            ?? throw new OpsToolsException("FileSystemQueryFailed", OpsErrorKind.NotFound, $"No drive holds '{fullPath}'.", fullPath);
        var driveResult = CreateResult(drive.RootDirectory.FullName, drive.DriveFormat, FromDrive(drive), thresholds, sw.Elapsed, environment);
        driveResult.Path = fullPath;
        return driveResult;
    }

    private static async Task<DiskUsageResult> MeasureLinuxAsync(string statPath, MountEntry? mount, bool pathNamed, DiskThresholds thresholds, string? environment, CancellationToken cancellationToken)
    {
        var mountPoint = mount?.MountPoint ?? statPath;
        var fsType = mount?.FileSystemType ?? "";
        var sw = Stopwatch.StartNew();
        var stat = Task.Run(() => NativeFileSystem.Stat(statPath), CancellationToken.None);
        try
        {
            var raw = await stat.WaitAsync(StatTimeout, cancellationToken).ConfigureAwait(false);
            return CreateResult(mountPoint, fsType, FileSystemSpace.FromStatVfs(raw), thresholds, sw.Elapsed, environment);
        }
        catch (TimeoutException)
        {
            return UnknownResult(mountPoint, fsType, $"the file system did not answer within {StatTimeout.TotalSeconds:0} s (a hung network mount?).", thresholds, sw.Elapsed, environment);
        }
        catch (OpsToolsException e) when (!(pathNamed && e.ErrorId == "PathNotFound"))
        {
            return UnknownResult(mountPoint, fsType, e.Message, thresholds, sw.Elapsed, environment);
        }
    }

    /// <summary>The mount table of this process (<c>/proc/self/mountinfo</c>, else <c>/proc/mounts</c>).</summary>
    public static IReadOnlyList<MountEntry> ReadMountTable()
    {
        try
        {
            return MountTable.ParseMountInfo(File.ReadAllText("/proc/self/mountinfo"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            try { return MountTable.ParseMounts(File.ReadAllText("/proc/mounts")); }
            catch (Exception e2) when (e2 is IOException or UnauthorizedAccessException)
            {
                throw new OpsToolsException("MountTableUnreadable", OpsErrorKind.OperationFailed,
                    $"Cannot read the mount table (/proc/self/mountinfo, /proc/mounts): {e2.Message}", "/proc/self/mountinfo", e2);
            }
        }
    }

    private static FileSystemSpace FromDrive(DriveInfo d)
    {
        var size = d.TotalSize;
        var used = Math.Max(0, size - d.TotalFreeSpace);
        return new FileSystemSpace(size, used, d.AvailableFreeSpace);
    }

    private static bool WantedDrive(DriveInfo d, bool all)
    {
        if (OperatingSystem.IsWindows())
            return d.DriveType is DriveType.Fixed or DriveType.Network || all && d.DriveType is DriveType.Removable or DriveType.Ram;
        // macOS and other Unix without statvfs support: DriveInfo maps file system types to drive types.
        return d.DriveType is DriveType.Fixed or DriveType.Network || all && d.DriveType is DriveType.Ram or DriveType.Removable;
    }

    private static DriveInfo? FindDrive(string fullPath)
    {
        if (OperatingSystem.IsWindows())
        {
            var root = Path.GetPathRoot(fullPath);
            return string.IsNullOrEmpty(root) ? null : new DriveInfo(root);
        }
        DriveInfo? best = null;
        foreach (var d in DriveInfo.GetDrives())
        {
            var mp = d.RootDirectory.FullName.TrimEnd('/');
            var contains = mp.Length == 0 || fullPath == mp || fullPath.StartsWith(mp + "/", StringComparison.Ordinal);
            if (contains && (best is null || mp.Length >= best.RootDirectory.FullName.TrimEnd('/').Length)) best = d;
        }
        return best;
    }
}
