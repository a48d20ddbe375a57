using System.Globalization;
using System.Text;

namespace OpsTools.Engine.HostResources;

/// <summary>One line of <c>/proc/self/mountinfo</c> (or <c>/proc/mounts</c>).</summary>
public sealed record MountEntry(
    int MountId,
    int ParentId,
    string Device,
    string Root,
    string MountPoint,
    string FileSystemType,
    string Source,
    string Options);

/// <summary>
/// Reads the kernel's mount table and picks the file systems a person means by "disk space":
/// what <c>df</c> shows, without pseudo and memory-backed file systems, one line per device.
/// </summary>
public static class MountTable
{
    /// <summary>Kernel and virtual file systems that never hold user data; never reported.</summary>
    public static readonly IReadOnlySet<string> PseudoFileSystems = new HashSet<string>(StringComparer.Ordinal)
    {
        "proc", "sysfs", "devpts", "cgroup", "cgroup2", "nsfs", "autofs", "mqueue", "debugfs", "tracefs",
        "securityfs", "pstore", "bpf", "configfs", "fusectl", "binfmt_misc", "hugetlbfs", "rpc_pipefs",
        "efivarfs", "selinuxfs", "fuse.gvfsd-fuse", "fuse.portal", "fuse.lxcfs", "overlay_internal", "nfsd",
        "sockfs", "pipefs", "anon_inodefs", "devfs", "usbfs", "rootfs", "ramfs_internal", "zfs_snapshot",
    };

    /// <summary>Memory-backed, read-only image and layered file systems: reported only with -All.</summary>
    public static readonly IReadOnlySet<string> AllOnlyFileSystems = new HashSet<string>(StringComparer.Ordinal)
    {
        "tmpfs", "devtmpfs", "ramfs", "squashfs", "overlay", "aufs", "iso9660", "none",
    };

    /// <summary>Parses <c>/proc/self/mountinfo</c> text. Malformed lines are skipped.</summary>
    /// <remarks>
    /// Format (proc(5)): <c>36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue</c>:
    /// mount id, parent id, major:minor, root, mount point, options, optional fields ending at "-",
    /// file system type, source, super options. Spaces, tabs, newlines and backslashes in paths are
    /// written as octal escapes (\040, \011, \012, \134).
    /// </remarks>
    public static IReadOnlyList<MountEntry> ParseMountInfo(string text)
    {
        var list = new List<MountEntry>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0) continue;
            var f = line.Split(' ');
            var dash = Array.IndexOf(f, "-", 6);
            if (f.Length < 10 || dash < 0 || dash + 3 > f.Length) continue;
            if (!int.TryParse(f[0], NumberStyles.None, CultureInfo.InvariantCulture, out var id)) continue;
            int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent);
            list.Add(new MountEntry(id, parent, f[2], Unescape(f[3]), Unescape(f[4]), Unescape(f[dash + 1]),
                Unescape(f[dash + 2]), dash + 3 < f.Length ? f[dash + 3] : f[5]));
        }
        return list;
    }

    /// <summary>Parses <c>/proc/mounts</c> (fstab format) text, for kernels without mountinfo.</summary>
    public static IReadOnlyList<MountEntry> ParseMounts(string text)
    {
        var list = new List<MountEntry>();
        var id = 0;
        foreach (var raw in text.Split('\n'))
        {
            var f = raw.TrimEnd('\r').Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length < 4) continue;
            id++;
            // No device numbers here: the source stands in for the device (bind mounts of one
            // block device then still share it).
            var source = Unescape(f[0]);
            list.Add(new MountEntry(id, 0, source.StartsWith('/') ? source : "", "/", Unescape(f[1]), Unescape(f[2]), source, f[3]));
        }
        return list;
    }

    /// <summary>Decodes the kernel's octal escapes (<c>\040</c> is a space).</summary>
    public static string Unescape(string field)
    {
        if (field.IndexOf('\\') < 0) return field;
        var sb = new StringBuilder(field.Length);
        for (var i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1) && IsOctal(field, i + 2) && IsOctal(field, i + 3))
            {
                sb.Append((char)(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) | (field[i + 3] - '0')));
                i += 3;
            }
            else sb.Append(field[i]);
        }
        return sb.ToString();
    }

    private static bool IsOctal(string s, int i) => i < s.Length && s[i] is >= '0' and <= '7';

    /// <summary>True when a mount is a pseudo file system that is never reported.</summary>
    public static bool IsPseudo(MountEntry m) =>
        PseudoFileSystems.Contains(m.FileSystemType) || m.FileSystemType.StartsWith("cgroup", StringComparison.Ordinal);

    /// <summary>
    /// The mounts to report when no path is named, in mount order: real file systems only
    /// (memory-backed and image file systems too with <paramref name="all"/>), an overlay only when it
    /// is <c>/</c> (a container's root), the top mount where several are stacked on one mount point,
    /// and one mount per device (bind mounts of the same device are shown once, under the shortest
    /// mount point whose root is the file system's root, as df does). A bind mount of a single file
    /// (a container's /etc/hosts) stands for its device only when no directory mount of it is left;
    /// <paramref name="isDirectory"/> tells them apart (null: every mount point is a directory).
    /// </summary>
    public static IReadOnlyList<MountEntry> SelectReal(IEnumerable<MountEntry> mounts, bool all, Func<string, bool>? isDirectory = null)
    {
        isDirectory ??= _ => true;
        // A later mount on the same mount point hides the earlier one.
        var visible = new Dictionary<string, MountEntry>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var m in mounts)
        {
            if (!visible.ContainsKey(m.MountPoint)) order.Add(m.MountPoint);
            visible[m.MountPoint] = m;
        }

        var candidates = order.Select(p => visible[p]).Where(m => Wanted(m, all)).ToList();

        // One entry per device: prefer the mount of the file system's root, then the shortest path.
        var byDevice = new Dictionary<string, MountEntry>(StringComparer.Ordinal);
        foreach (var m in candidates)
        {
            var key = DeviceKey(m);
            if (!byDevice.TryGetValue(key, out var kept) || Better(m, kept, isDirectory)) byDevice[key] = m;
        }
        var keep = new HashSet<MountEntry>(byDevice.Values);
        return candidates.Where(keep.Contains).ToList();
    }

    private static string DeviceKey(MountEntry m) =>
        m.Device.Length > 0 && m.Device != "0:0" ? m.Device : m.Source + "\0" + m.MountPoint;

    private static bool Better(MountEntry candidate, MountEntry kept, Func<string, bool> isDirectory)
    {
        var cDir = isDirectory(candidate.MountPoint);
        var kDir = isDirectory(kept.MountPoint);
        if (cDir != kDir) return cDir;
        var cRoot = candidate.Root == "/";
        var kRoot = kept.Root == "/";
        if (cRoot != kRoot) return cRoot;
        return candidate.MountPoint.Length < kept.MountPoint.Length;
    }

    private static bool Wanted(MountEntry m, bool all)
    {
        if (IsPseudo(m)) return false;
        if (m.FileSystemType == "overlay" && m.MountPoint == "/") return true; // a container's root
        if (AllOnlyFileSystems.Contains(m.FileSystemType)) return all;
        return true;
    }

    /// <summary>
    /// The mount that holds <paramref name="fullPath"/> (an absolute path with symbolic links already
    /// resolved): the visible mount with the longest mount point that contains it.
    /// </summary>
    public static MountEntry? FindContaining(IEnumerable<MountEntry> mounts, string fullPath)
    {
        MountEntry? best = null;
        foreach (var m in mounts)
        {
            if (!Contains(m.MountPoint, fullPath)) continue;
            // >= : of mounts stacked on one mount point, the last one is the visible one.
            if (best is null || m.MountPoint.Length >= best.MountPoint.Length) best = m;
        }
        return best;
    }

    private static bool Contains(string mountPoint, string path)
    {
        if (mountPoint == "/") return path.StartsWith('/');
        return path == mountPoint || path.StartsWith(mountPoint + "/", StringComparison.Ordinal);
    }
}
