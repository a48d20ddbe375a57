using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Engine.Redis;
using OpsTools.Redis;

namespace OpsTools.Commands.Redis;

/// <summary>
/// <para type="synopsis">Lists keys matching a pattern with SCAN (never KEYS), with their type, time to live and memory usage.</para>
/// <para type="description">Walks the keyspace with SCAN cursor MATCH pattern COUNT n, which never blocks the server the way KEYS does; each page of keys is followed by one pipelined round trip for TYPE, PTTL and MEMORY USAGE. -First stops early (the runbook's redis-cli --scan --pattern '*' | head -20). Keys are written as they are found.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "RedisKey", HelpUri = HelpLinks.Base + "Get-RedisKey.md")]
[OutputType(typeof(RedisKeyInfo))]
public sealed class GetRedisKeyCommand : RedisCmdlet
{
    /// <summary>A glob-style pattern (*, ?, [abc], \ to escape), as SCAN MATCH takes it. Default '*'.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string Pattern { get; set; } = "*";

    /// <summary>Only keys of this type (SCAN ... TYPE): string, list, set, zset, hash, stream.</summary>
    [Parameter]
    [ValidateSet("string", "list", "set", "zset", "hash", "stream", IgnoreCase = true)]
    public string? Type { get; set; }

    /// <summary>Stop after this many keys.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long First { get; set; }

    /// <summary>SCAN's COUNT hint (how many slots one call walks). Default 1000.</summary>
    [Parameter]
    [ValidateRange(10, 100000)]
    public int PageSize { get; set; } = 1000;

    /// <summary>Do not ask MEMORY USAGE (faster on very many keys).</summary>
    [Parameter]
    public SwitchParameter NoMemory { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var query = new RedisKeyQuery { Pattern = Pattern, Type = Type?.ToLowerInvariant(), First = First, PageSize = PageSize, Memory = !NoMemory };
        Verbose($"SCAN 0 MATCH {Pattern} COUNT {PageSize}{(Type is null ? "" : " TYPE " + Type)} on {target.Address}.");
        try
        {
            await OutputStreamAsync(RedisKeys.ListAsync(target, query, ct), k => k, ct).ConfigureAwait(false);
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.ConnectionError, target.Address); }
    }
}
