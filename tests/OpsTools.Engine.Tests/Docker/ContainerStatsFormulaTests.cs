using System.Text;
using OpsTools.Docker;
using OpsTools.Engine.Docker;

namespace OpsTools.Engine.Tests.Docker;

/// <summary>CPU % and memory as the docker CLI computes them (stats_helpers.go), from the engine's stats JSON on cgroup v1 and v2.</summary>
public sealed class ContainerStatsFormulaTests
{
    // cgroup v1 (Engine 20.10, cgroupfs): taken from this machine's engine ('stats?stream=false' of a container burning
    // one CPU with --memory 64m), with page cache (total_inactive_file) and block I/O added.
    private const string CgroupV1 = """
    {
      "read": "2026-11-24T09:38:40.351336405Z", "preread": "2026-11-24T09:38:39.347139328Z",
      "pids_stats": { "current": 3 },
      "blkio_stats": { "io_service_bytes_recursive": [
        { "major": 8, "minor": 0, "op": "Read", "value": 4096 }, { "major": 8, "minor": 0, "op": "Write", "value": 1234 },
        { "major": 8, "minor": 0, "op": "Sync", "value": 5330 }, { "major": 8, "minor": 0, "op": "Async", "value": 0 },
        { "major": 8, "minor": 0, "op": "Total", "value": 5330 } ] },
      "cpu_stats": { "cpu_usage": { "total_usage": 2086494897, "percpu_usage": [2071872970, 14621927] },
                     "system_cpu_usage": 33283850000000, "online_cpus": 2 },
      "precpu_stats": { "cpu_usage": { "total_usage": 1080272241, "percpu_usage": [1065650314, 14621927] },
                        "system_cpu_usage": 33281830000000, "online_cpus": 2 },
      "memory_stats": { "usage": 876544, "max_usage": 3817472,
        "stats": { "cache": 208896, "inactive_file": 4096, "total_inactive_file": 208896, "rss": 57344 }, "limit": 67108864 },
      "name": "/dklogs-sample", "id": "2b6510e40ec2",
      "networks": { "eth0": { "rx_bytes": 646, "tx_bytes": 90 }, "eth1": { "rx_bytes": 90, "tx_bytes": 0 } }
    }
    """;

    // cgroup v2 (unified hierarchy): no total_* keys, inactive_file, lower-case block I/O ops, and no online_cpus
    // (older engines): the CPU count comes from percpu_usage as the CLI does.
    private const string CgroupV2 = """
    {
      "pids_stats": { "current": 7, "limit": 4611686018427387903 },
      "blkio_stats": { "io_service_bytes_recursive": [
        { "major": 259, "minor": 0, "op": "read", "value": 1048576 }, { "major": 259, "minor": 0, "op": "write", "value": 2097152 },
        { "major": 253, "minor": 0, "op": "read", "value": 1048576 } ] },
      "cpu_stats": { "cpu_usage": { "total_usage": 4000000000, "percpu_usage": [1, 2, 3, 4] }, "system_cpu_usage": 8000000000 },
      "precpu_stats": { "cpu_usage": { "total_usage": 3000000000 }, "system_cpu_usage": 4000000000 },
      "memory_stats": { "usage": 10485760,
        "stats": { "anon": 6291456, "file": 4194304, "active_file": 2097152, "inactive_file": 2097152 }, "limit": 67108864 },
      "networks": { "eth0": { "rx_bytes": 1234, "tx_bytes": 5678 } }
    }
    """;

    [Fact]
    public void Cgroup_v1_sample_gives_what_docker_stats_shows()
    {
        var f = DockerStats.Compute(CgroupV1);
        Assert.Equal(99.626, f.CpuPercent, 3); // (1006222656 / 2020000000) * 2 * 100
        Assert.Equal(2, f.OnlineCpus);
        Assert.Equal(876544 - 208896, f.MemoryUsedBytes); // usage − total_inactive_file (v1), not inactive_file
        Assert.Equal(67108864, f.MemoryLimitBytes);
        Assert.Equal(667648 * 100.0 / 67108864, f.MemoryPercent, 6);
        Assert.Equal((646 + 90, 90), (f.NetworkRxBytes, f.NetworkTxBytes)); // every interface
        Assert.Equal((4096, 1234), (f.BlockReadBytes, f.BlockWriteBytes)); // Sync/Async/Total not counted
        Assert.Equal(3, f.Pids);
    }

    [Fact]
    public void Cgroup_v2_sample_gives_what_docker_stats_shows()
    {
        var f = DockerStats.Compute(CgroupV2);
        Assert.Equal(4, f.OnlineCpus); // len(percpu_usage) when online_cpus is missing
        Assert.Equal(100.0, f.CpuPercent, 6); // (1e9 / 4e9) * 4 * 100
        Assert.Equal(8 * 1024 * 1024, f.MemoryUsedBytes); // usage − inactive_file
        Assert.Equal(12.5, f.MemoryPercent, 6);
        Assert.Equal((2097152, 2097152), (f.BlockReadBytes, f.BlockWriteBytes)); // every device
        Assert.Equal(7, f.Pids);
    }

    [Fact]
    public void Empty_precpu_or_no_progress_is_zero_cpu_not_garbage()
    {
        var f = DockerStats.Compute("""{ "cpu_stats": { "cpu_usage": { "total_usage": 5000 }, "system_cpu_usage": 9000, "online_cpus": 2 }, "precpu_stats": { "cpu_usage": {} }, "memory_stats": {} }""");
        Assert.Equal(0, DockerStats.CpuPercent(5000, 9000, 5000, 9000, 2)); // no delta
        Assert.Equal(0, DockerStats.CpuPercent(6000, 9000, 5000, 10000, 2)); // counter went back (restart)
        Assert.Equal(5000.0 / 9000 * 200, f.CpuPercent, 6); // precpu empty = zeros: the CLI computes from zero too
        Assert.Equal(0, f.MemoryLimitBytes);
        Assert.Equal(0, f.MemoryPercent); // no limit reported: 0, not a division by zero
    }

    [Fact]
    public void Page_cache_larger_than_usage_leaves_usage()
    {
        using var doc = System.Text.Json.JsonDocument.Parse("""{ "inactive_file": 5000 }""");
        Assert.Equal(4000, DockerStats.MemoryUsed(4000, doc.RootElement));
        Assert.Equal(4000, DockerStats.MemoryUsed(4000, null));
    }

    [Theory]
    [InlineData(50, 10, CheckStatus.Healthy)]
    [InlineData(50, 86, CheckStatus.Warning)]
    [InlineData(150, 10, CheckStatus.Warning)] // CPU above CpuWarningPercent
    [InlineData(10, 96, CheckStatus.Critical)]
    public void Thresholds_are_host_memorys_and_the_cpu_warning(double cpu, double memPercent, CheckStatus expected)
    {
        var t = ContainerStatThresholds.From(new OpsTools.Configuration.ThresholdSet());
        var f = new ContainerStatFigures(cpu, 2, (long)(memPercent * 1024 * 1024 / 100 * 64), 64L * 1024 * 1024, memPercent, 0, 0, 0, 0, 1);
        var r = DockerStats.Evaluate("unix:///x.sock", "id", "api_1", "abc", "p", "api", f, t, TimeSpan.Zero, null);
        Assert.Equal(expected, r.Status);
        Assert.Equal("ContainerStats", r.Check);
        Assert.Contains("api_1", r.Message);
        Assert.Contains("85", r.Threshold);
    }

    [Theory]
    [InlineData(876544, "856KiB")]
    [InlineData(67108864, "64MiB")]
    [InlineData(13107200, "12.5MiB")]
    [InlineData(0, "0B")]
    public void Memory_sizes_read_as_the_cli_writes_them(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes, ByteFormat.DockerBinary));

    [Theory]
    [InlineData(736, "736B")]
    [InlineData(1234, "1.234kB")]
    [InlineData(4100, "4.1kB")]
    [InlineData(123456789, "123.5MB")]
    public void Io_sizes_read_as_the_cli_writes_them(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes, ByteFormat.DockerDecimal));
}

/// <summary>Cutting the demultiplexed stdout/stderr bytes into lines.</summary>
public sealed class LogLineSplitterTests
{
    [Fact]
    public void Lines_split_across_frames_and_interleaved_streams_come_out_whole_and_apart()
    {
        var s = new LogLineSplitter();
        var lines = new List<(bool Stderr, string Text)>();
        void Add(bool err, string text) => s.Add(err, Encoding.UTF8.GetBytes(text), lines);
        Add(false, "out one\nout tw");
        Add(true, "err o");
        Add(false, "o\r\n");
        Add(true, "ne\nerr two\n");
        var euro = Encoding.UTF8.GetBytes("prix 5€\n"); // a multi-byte character cut between two frames
        s.Add(false, euro.AsSpan(0, euro.Length - 2), lines);
        s.Add(false, euro.AsSpan(euro.Length - 2), lines);
        Add(false, "no newline at the end");
        s.Flush(lines);
        Assert.Equal(new[]
        {
            (false, "out one"), (false, "out two"), (true, "err one"), (true, "err two"), (false, "prix 5€"), (false, "no newline at the end"),
        }, lines);
    }

    [Fact]
    public void Empty_lines_are_kept()
    {
        var s = new LogLineSplitter();
        var lines = new List<(bool Stderr, string Text)>();
        s.Add(false, "a\n\nb\n"u8, lines);
        s.Flush(lines);
        Assert.Equal(new[] { "a", "", "b" }, lines.Select(l => l.Text));
    }

    [Fact]
    public void Since_and_until_go_to_the_engine_as_unix_seconds_with_nanoseconds()
    {
        Assert.Equal("1700000000.123456700", DockerLogs.UnixSeconds(new DateTime(2023, 11, 14, 22, 13, 20, DateTimeKind.Utc).AddTicks(1234567)));
        Assert.Equal("0.000000000", DockerLogs.UnixSeconds(DateTime.UnixEpoch));
    }
}
