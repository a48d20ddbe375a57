using OpsTools.Configuration;
using OpsTools.Engine.HostResources;

namespace OpsTools.Engine.Tests;

public class MountTableTests
{
    // A container host: ext4 root, a bind mount of the same device, a data disk whose mount point has
    // a space (\040), a stacked /dev/shm, docker overlay layers and the usual pseudo file systems.
    private const string MountInfo = """
        22 27 0:21 / /proc rw,relatime - proc proc rw
        23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
        24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334460k,nr_inodes=3083615,mode=755
        25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684084k
        26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600,ptmxmode=000
        27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
        28 27 254:0 /var/lib/docker /srv/docker rw,relatime shared:1 - ext4 /dev/vda rw,discard
        29 27 8:17 / /mnt/data\040disk rw,noatime master:3 - xfs /dev/sdb1 rw,attr2
        30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=1024k
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        34 27 0:50 / /var/lib/docker/overlay2/abc/merged rw,relatime - overlay overlay rw,lowerdir=/x
        35 27 7:1 / /snap/core/123 ro,nodev,relatime - squashfs /dev/loop1 ro
        36 22 0:51 / /proc/sys/fs/binfmt_misc rw,relatime - binfmt_misc binfmt_misc rw
        37 27 0:52 / /run/user/1000 rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,size=1000k
        38 27 0:53 / /mnt/nfs rw,relatime - nfs4 server:/export rw,vers=4.2
        garbage line that is not mountinfo
        """;

    [Fact]
    public void Parses_fields_and_decodes_octal_escapes()
    {
        var m = MountTable.ParseMountInfo(MountInfo);
        Assert.Equal(17, m.Count);
        var data = Assert.Single(m, e => e.Device == "8:17");
        Assert.Equal("/mnt/data disk", data.MountPoint);
        Assert.Equal("xfs", data.FileSystemType);
        Assert.Equal("/dev/sdb1", data.Source);
        Assert.Equal("/", data.Root);
        var root = Assert.Single(m, e => e.MountPoint == "/");
        Assert.Equal("ext4", root.FileSystemType);
        Assert.Equal(27, root.MountId);
    }

    [Theory]
    [InlineData(@"/mnt/a\040b", "/mnt/a b")]
    [InlineData(@"/mnt/tab\011x", "/mnt/tab\tx")]
    [InlineData(@"/mnt/back\134slash", @"/mnt/back\slash")]
    [InlineData(@"/mnt/nl\012x", "/mnt/nl\nx")]
    [InlineData(@"/plain", "/plain")]
    [InlineData(@"/trailing\04", @"/trailing\04")]
    public void Unescape_decodes_kernel_escapes(string raw, string expected) => Assert.Equal(expected, MountTable.Unescape(raw));

    [Fact]
    public void Selects_real_file_systems_one_per_device()
    {
        var selected = MountTable.SelectReal(MountTable.ParseMountInfo(MountInfo), all: false).Select(m => m.MountPoint).ToList();
        // /srv/docker is a bind mount of / (same device 254:0): shown once, as /.
        Assert.Equal(new[] { "/", "/mnt/data disk", "/mnt/nfs" }, selected);
    }

    [Fact]
    public void All_adds_memory_backed_and_image_file_systems_but_never_pseudo_ones()
    {
        var selected = MountTable.SelectReal(MountTable.ParseMountInfo(MountInfo), all: true);
        var points = selected.Select(m => m.MountPoint).ToList();
        Assert.Contains("/dev", points);
        Assert.Contains("/run/user/1000", points);
        Assert.Contains("/snap/core/123", points);
        Assert.Contains("/var/lib/docker/overlay2/abc/merged", points);
        // Two mounts stacked on /dev/shm: the top one (0:27) is what df shows.
        Assert.Equal("0:27", Assert.Single(selected, m => m.MountPoint == "/dev/shm").Device);
        Assert.DoesNotContain(selected, m => m.FileSystemType is "proc" or "sysfs" or "devpts" or "cgroup" or "cgroup2" or "binfmt_misc");
    }

    [Fact]
    public void Overlay_root_of_a_container_is_reported()
    {
        const string container = """
            600 500 0:120 / / rw,relatime - overlay overlay rw,lowerdir=/a,upperdir=/b,workdir=/c
            601 600 0:121 / /proc rw,nosuid - proc proc rw
            602 600 0:122 / /dev rw,nosuid - tmpfs tmpfs rw,size=65536k
            603 600 254:0 /var/lib/docker/volumes/pg/_data /var/lib/postgresql/data rw,relatime - ext4 /dev/vda rw
            604 600 254:0 /etc/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw
            """;
        var selected = MountTable.SelectReal(MountTable.ParseMountInfo(container), all: false, isDirectory: p => p != "/etc/hosts");
        // The data volume and /etc/hosts share the host's disk: the directory stands for it, not the file.
        Assert.Equal(new[] { "/", "/var/lib/postgresql/data" }, selected.Select(m => m.MountPoint));
    }

    [Fact]
    public void Finds_the_mount_holding_a_path()
    {
        var m = MountTable.ParseMountInfo(MountInfo);
        Assert.Equal("/", MountTable.FindContaining(m, "/var/lib/postgresql")!.MountPoint);
        Assert.Equal("/mnt/data disk", MountTable.FindContaining(m, "/mnt/data disk/x/y")!.MountPoint);
        Assert.Equal("/", MountTable.FindContaining(m, "/mnt/data diskette")!.MountPoint);
        Assert.Equal("0:27", MountTable.FindContaining(m, "/dev/shm/a")!.Device);
        Assert.Equal("/mnt/nfs", MountTable.FindContaining(m, "/mnt/nfs")!.MountPoint);
    }

    [Fact]
    public void Parses_proc_mounts_as_a_fallback()
    {
        const string mounts = "/dev/vda / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n/dev/sdb1 /mnt/data\\040disk xfs rw 0 0\n/dev/vda /srv/bind ext4 rw 0 0\n";
        var m = MountTable.ParseMounts(mounts);
        Assert.Equal(4, m.Count);
        Assert.Equal("/mnt/data disk", m[2].MountPoint);
        Assert.Equal(new[] { "/", "/mnt/data disk" }, MountTable.SelectReal(m, false).Select(e => e.MountPoint));
    }
}

public class DiskUsageEvaluationTests
{
    private static readonly DiskThresholds Defaults = DiskThresholds.From(new ThresholdSet());

    [Fact]
    public void Space_is_computed_as_df_does()
    {
        // The numbers of a real ext4 root: f_frsize 4096, blocks, bfree, bavail.
        var space = FileSystemSpace.FromStatVfs(new StatVfs(4096, 66053021, 62631496, 20773016));
        Assert.Equal(66053021L * 4096, space.SizeBytes);
        Assert.Equal((66053021L - 62631496) * 4096, space.UsedBytes);
        Assert.Equal(20773016L * 4096, space.FreeBytes);
        // used / (used + avail), rounded up: 3421525 / 24194541 = 14.14% -> 15, as df prints.
        Assert.Equal(15, DiskUsageProbe.DfUsePercent(space.UsedBytes, space.FreeBytes));
    }

    [Theory]
    [InlineData(0, 100, 0)]
    [InlineData(0, 0, 0)]
    [InlineData(1, 999, 1)]      // 0.1% -> 1
    [InlineData(50, 50, 50)]
    [InlineData(999, 1, 100)]    // 99.9% -> 100
    [InlineData(100, 0, 100)]
    public void Use_percent_rounds_up(long used, long avail, double expected) =>
        Assert.Equal(expected, DiskUsageProbe.DfUsePercent(used, avail));

    [Theory]
    [InlineData(20.0, "Healthy")]  // exactly at the warning threshold: not under it
    [InlineData(19.99, "Warning")]
    [InlineData(10.0, "Warning")]  // exactly at the critical threshold: not under it
    [InlineData(9.99, "Critical")]
    [InlineData(0, "Critical")]
    [InlineData(100, "Healthy")]
    public void Free_space_thresholds_at_the_boundaries(double freePercent, string expected) =>
        Assert.Equal(expected, DiskUsageProbe.Evaluate(freePercent, Defaults).ToString());

    [Fact]
    public void Result_carries_df_numbers_threshold_text_and_message()
    {
        var gib = 1024L * 1024 * 1024;
        var r = DiskUsageProbe.CreateResult("/", "ext4", new FileSystemSpace(100 * gib, 95 * gib, 5 * gib), Defaults, TimeSpan.FromMilliseconds(3), "prod");
        Assert.Equal("DiskUsage", r.Check);
        Assert.Equal("Host", r.Area);
        Assert.Equal("/", r.Target);
        Assert.Equal(95, r.UsedPercent);
        Assert.Equal(5, r.FreePercent);
        Assert.Equal(95.0, r.Value);
        Assert.Equal(CheckStatus.Critical, r.Status);
        Assert.Equal("warn < 20% free; critical < 10% free", r.Threshold);
        Assert.Equal("/: 5.0 GiB free of 100 GiB (5% free); under the critical threshold of 10% free.", r.Message);
        Assert.Equal("prod", r.Environment);
        Assert.Equal(100, r.SizeGB);
    }

    [Fact]
    public void Thresholds_use_the_exact_free_share_not_the_rounded_one()
    {
        // 10.5% free exactly: df shows 90% used (89.5 rounded up), yet it is not under 10% free.
        var r = DiskUsageProbe.CreateResult("/d", "xfs", new FileSystemSpace(1000, 895, 105), Defaults, TimeSpan.Zero, null);
        Assert.Equal(90, r.UsedPercent);
        Assert.Equal(CheckStatus.Warning, r.Status);
    }

    [Fact]
    public void Thresholds_from_an_environment_set()
    {
        var t = DiskThresholds.From(new ThresholdSet().Apply(new Dictionary<string, object?> { ["DiskFreeCriticalPercent"] = 100 }, "test"));
        Assert.Equal(CheckStatus.Critical, DiskUsageProbe.Evaluate(99.9, t));
    }

    [Theory]
    [InlineData(0L, "0 B")]
    [InlineData(1023L, "1023 B")]
    [InlineData(4096L, "4.0 KiB")]
    [InlineData(13207024435L, "12.3 GiB")]
    [InlineData(107374182400L, "100 GiB")]
    public void Sizes_are_formatted_like_df_h(long bytes, string expected) => Assert.Equal(expected, ByteSize.Format(bytes, ByteFormat.IecFixed));
}

public class MemoryParserTests
{
    private const string MemInfo = """
        MemTotal:       24684084 kB
        MemFree:        24115292 kB
        MemAvailable:   20290344 kB
        Buffers:            3120 kB
        Cached:           342488 kB
        SwapCached:            0 kB
        SwapTotal:       2097148 kB
        SwapFree:        1048572 kB
        HugePages_Total:       0
        """;

    [Fact]
    public void Parses_meminfo_in_bytes()
    {
        var m = MemoryParsers.ParseMemInfo(MemInfo);
        Assert.Equal(24684084L * 1024, m.TotalBytes);
        Assert.Equal(20290344L * 1024, m.AvailableBytes);
        Assert.Equal(2097148L * 1024, m.SwapTotalBytes);
        Assert.Equal(1048572L * 1024, m.SwapFreeBytes);
        Assert.Contains("MemAvailable", m.Source);
    }

    [Fact]
    public void Without_MemAvailable_falls_back_to_free_plus_buffers_plus_cached()
    {
        var old = string.Join('\n', MemInfo.Split('\n').Where(l => !l.StartsWith("MemAvailable")));
        var m = MemoryParsers.ParseMemInfo(old);
        Assert.Equal((24115292L + 3120 + 342488) * 1024 > m.TotalBytes ? m.TotalBytes : (24115292L + 3120 + 342488) * 1024, m.AvailableBytes);
        Assert.Contains("MemFree + Buffers + Cached", m.Source);

        var small = MemoryParsers.ParseMemInfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n");
        Assert.Equal(400L * 1024, small.AvailableBytes);
        Assert.Equal(0, small.SwapTotalBytes);
    }

    [Fact]
    public void Missing_MemTotal_is_an_InvalidData_error()
    {
        var e = Assert.Throws<OpsToolsException>(() => MemoryParsers.ParseMemInfo("MemFree: 1 kB\n"));
        Assert.Equal("MemInfoInvalid", e.ErrorId);
        Assert.Equal(OpsErrorKind.InvalidData, e.Kind);
    }

    [Fact]
    public void Parses_vm_stat()
    {
        const string vmStat = """
            Mach Virtual Memory Statistics: (page size of 16384 bytes)
            Pages free:                               10000.
            Pages active:                            200000.
            Pages inactive:                           30000.
            Pages speculative:                         5000.
            Pages throttled:                              0.
            Pages wired down:                         90000.
            """;
        Assert.Equal((10000L + 30000 + 5000) * 16384, MemoryParsers.ParseVmStatAvailable(vmStat));
    }

    [Theory]
    [InlineData(85.0, "Healthy")]   // at the warning threshold: not over it
    [InlineData(85.01, "Warning")]
    [InlineData(95.0, "Warning")]
    [InlineData(95.01, "Critical")]
    [InlineData(0, "Healthy")]
    [InlineData(100, "Critical")]
    public void Memory_thresholds_at_the_boundaries(double used, string expected) =>
        Assert.Equal(expected, MemoryUsageProbe.Evaluate(used, MemoryThresholds.From(new ThresholdSet())).ToString());

    [Fact]
    public void Result_has_used_bytes_percent_swap_and_message()
    {
        var gib = 1024L * 1024 * 1024;
        var r = MemoryUsageProbe.CreateResult(new MemorySnapshot(16 * gib, 4 * gib, 2 * gib, gib, "test"), "db1",
            MemoryThresholds.From(new ThresholdSet()), TimeSpan.Zero, null);
        Assert.Equal("MemoryUsage", r.Check);
        Assert.Equal("Host", r.Area);
        Assert.Equal("db1", r.Target);
        Assert.Equal(12 * gib, r.UsedBytes);
        Assert.Equal(75, r.UsedPercent);
        Assert.Equal(gib, r.SwapUsedBytes);
        Assert.Equal(CheckStatus.Healthy, r.Status);
        Assert.Equal("db1: 4.0 GiB available of 16.0 GiB (75% used), swap 1.0 GiB of 2.0 GiB used.", r.Message);
        Assert.Equal("warn > 85% used; critical > 95% used", r.Threshold);
    }
}
