using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Engine.Redis;
using OpsTools.Redis;

namespace OpsTools.Commands.Redis;

/// <summary>
/// <para type="synopsis">Clears a Redis database (FLUSHDB), every database (FLUSHALL, -All), or the keys matching a pattern (SCAN + UNLINK in batches); reports the keys and bytes that went.</para>
/// <para type="description">ConfirmImpact High: it asks before it clears, unless -Force (-Force never overrides -WhatIf). -WhatIf counts what would go (keys and bytes) and removes nothing. With -Pattern, the keyspace is walked with SCAN (never KEYS), and each batch of matching keys is measured (MEMORY USAGE) and removed (UNLINK, which frees the memory in the background) in one pipelined round trip.</para>
/// </summary>
[Cmdlet(VerbsCommon.Clear, "RedisCache", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = DatabaseSet, HelpUri = HelpLinks.Base + "Clear-RedisCache.md")]
[OutputType(typeof(RedisClearResult))]
public sealed class ClearRedisCacheCommand : RedisCmdlet
{
    public const string DatabaseSet = "Database";
    public const string AllSet = "All";
    public const string PatternSet = "Pattern";

    /// <summary>FLUSHALL: every database of the server.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    /// <summary>Only the keys matching this glob-style pattern (SCAN MATCH), e.g. 'session:*'.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PatternSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Pattern { get; set; }

    /// <summary>Keys per UNLINK (and per round trip). Default 500.</summary>
    [Parameter(ParameterSetName = PatternSet)]
    [ValidateRange(1, 100000)]
    public int BatchSize { get; set; } = 500;

    /// <summary>Clear without asking (never overrides -WhatIf).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var whatIf = await IsWhatIfAsync().ConfigureAwait(false);
        var what = ParameterSetName switch
        {
            AllSet => $"every database of {target.Server}",
            PatternSet => $"the keys matching '{Pattern}' in database {target.Database} of {target.Server}",
            _ => $"database {target.Database} of {target.Server}",
        };
        var action = ParameterSetName switch { AllSet => "FLUSHALL", PatternSet => "SCAN + UNLINK", _ => "FLUSHDB" };
        if (!whatIf)
        {
            var proceed = await ConfirmAsync(what, action, force: Force).ConfigureAwait(false);
            if (!proceed) return;
        }
        else Verbose($"WhatIf: counting what {action} would remove from {what}.");
        try
        {
            RedisClearResult result;
            if (ParameterSetName == PatternSet)
            {
                var activity = $"{(whatIf ? "Counting" : "Removing")} keys matching '{Pattern}' on {target.Server}/{target.Database}";
                result = await RedisKeys.RemoveMatchingAsync(target, Pattern!, BatchSize, whatIf,
                    (keys, bytes) => Progress(new ProgressRecord(1, activity, $"{keys} keys, {ByteSize.Format(bytes, ByteFormat.Iec)}")), ct).ConfigureAwait(false);
                Progress(new ProgressRecord(1, activity, "done") { RecordType = ProgressRecordType.Completed });
            }
            else result = await RedisKeys.FlushAsync(target, ParameterSetName == AllSet, whatIf, ct).ConfigureAwait(false);
            if (whatIf) Post(() => WriteObject(result));
            else { Verbose($"{action} on {what}: {result.Keys} keys, {result.Freed}."); Output(result); }
            if (whatIf) Post(() => ShouldProcess(what, $"{action} ({result.Keys} keys, {result.Freed})"));
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.ConnectionError, target.Address); }
    }
}
