using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Engine.Redis;
using OpsTools.Redis;

namespace OpsTools.Commands.Redis;

/// <summary>
/// <para type="synopsis">Checks a Redis server: reachable, PING latency, memory against maxmemory, fragmentation, evictions, hit rate, clients, persistence, replication, keys per database.</para>
/// <para type="description">One RedisHealthResult per check (Keyspace: one per database), from one INFO, CONFIG GET save and three PINGs. An unreachable server (refused, timeout, wrong password, TLS failure) is one Critical Reachable result that says why, never an error.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "RedisHealth", HelpUri = HelpLinks.Base + "Get-RedisHealth.md")]
[OutputType(typeof(RedisHealthResult))]
public sealed class GetRedisHealthCommand : RedisCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>The checks to run (default: all).</summary>
    [Parameter]
    [ValidateSet("Reachable", "Latency", "Memory", "Fragmentation", "Evictions", "HitRate", "Clients", "Persistence", "Replication", "Keyspace", IgnoreCase = true)]
    public string[]? Check { get; set; }

    /// <summary>used_memory as a percent of maxmemory above which it is a warning. Default: RedisMemoryWarningPercent, else 85.</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double MemoryWarningPercent { get; set; }

    /// <summary>used_memory as a percent of maxmemory above which it is critical. Default: RedisMemoryCriticalPercent, else 95.</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double MemoryCriticalPercent { get; set; }

    /// <summary>Hit rate (percent) below which it is a warning. Default: RedisHitRateWarningPercent, else 90.</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double HitRateWarningPercent { get; set; }

    /// <summary>PING milliseconds above which it is a warning. Default: RedisLatencyWarningMs, else 50.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double LatencyWarningMs { get; set; }

    /// <summary>PING milliseconds above which it is critical. Default: RedisLatencyCriticalMs, else 500.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double LatencyCriticalMs { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var t = Thresholds;
        var options = new RedisHealthOptions
        {
            Checks = new HashSet<string>(Check is { Length: > 0 } ? Check : RedisHealthOptions.AllChecks, StringComparer.OrdinalIgnoreCase),
            MemoryWarningPercent = Pick(nameof(MemoryWarningPercent), MemoryWarningPercent, t.RedisMemoryWarningPercent),
            MemoryCriticalPercent = Pick(nameof(MemoryCriticalPercent), MemoryCriticalPercent, t.RedisMemoryCriticalPercent),
            HitRateWarningPercent = Pick(nameof(HitRateWarningPercent), HitRateWarningPercent, t.RedisHitRateWarningPercent),
            LatencyWarningMs = Pick(nameof(LatencyWarningMs), LatencyWarningMs, t.RedisLatencyWarningMs),
            LatencyCriticalMs = Pick(nameof(LatencyCriticalMs), LatencyCriticalMs, t.RedisLatencyCriticalMs),
            FragmentationWarningRatio = t.RedisFragmentationWarningRatio,
            ClientsWarningPercent = t.RedisClientsWarningPercent, ClientsCriticalPercent = t.RedisClientsCriticalPercent,
            RdbAgeWarningHours = t.RedisRdbAgeWarningHours,
            ReplicationLagWarningSeconds = t.RedisReplicationLagWarningSeconds, ReplicationLagCriticalSeconds = t.RedisReplicationLagCriticalSeconds,
            Environment = Environment?.Name,
        };
        if (options.MemoryWarningPercent > options.MemoryCriticalPercent && Bound(nameof(MemoryWarningPercent)) && Bound(nameof(MemoryCriticalPercent)))
            Fail(new ArgumentException($"-MemoryWarningPercent ({options.MemoryWarningPercent}) must not be above -MemoryCriticalPercent ({options.MemoryCriticalPercent})."),
                "InvalidThresholds", ErrorCategory.InvalidArgument, null);
        foreach (var r in await RedisHealth.CheckAsync(target, options, Verbose, ct).ConfigureAwait(false))
            Output(r);
    }
}
