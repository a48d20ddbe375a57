using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Engine.PgBouncer;
using OpsTools.PgBouncer;

namespace OpsTools.Commands.PgBouncer;

/// <summary>
/// <para type="synopsis">Checks PgBouncer's pools (SHOW POOLS with each database's pool_size from SHOW DATABASES): waiting clients, the longest wait, server connections against the pool's size.</para>
/// <para type="description">One PgBouncerPoolResult per database/user pool (the admin console's own pool left out): Critical when clients wait longer than PgBouncerMaxWaitCriticalSeconds (pool exhausted), Warning when any client waits or the pool is at PgBouncerPoolUsedWarningPercent of its size, else Healthy. An unreachable console or a refused user is a terminating error (in Invoke-DailyCheck: one Unknown result).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "PgBouncerPool", HelpUri = HelpLinks.Base + "Get-PgBouncerPool.md")]
[OutputType(typeof(PgBouncerPoolResult))]
public sealed class GetPgBouncerPoolCommand : PgBouncerCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Only pools of these databases (wildcards allowed).</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Database { get; set; }

    /// <summary>The longest wait (seconds) above which a pool is a warning. Default: PgBouncerMaxWaitWarningSeconds, else 1.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double MaxWaitWarningSeconds { get; set; }

    /// <summary>The longest wait (seconds) above which a pool with waiting clients is critical. Default: PgBouncerMaxWaitCriticalSeconds, else 5.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double MaxWaitCriticalSeconds { get; set; }

    /// <summary>Server connections open as a percent of pool_size at or above which a pool is a warning. Default: PgBouncerPoolUsedWarningPercent, else 80.</summary>
    [Parameter]
    [ValidateRange(0.0, 100.0)]
    public double PoolUsedWarningPercent { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var t = (Environment?.Thresholds ?? new OpsTools.Configuration.ThresholdSet()).Clone();
        var options = new PgBouncerPoolOptions
        {
            MaxWaitWarningSeconds = Bound(nameof(MaxWaitWarningSeconds)) ? MaxWaitWarningSeconds : t.PgBouncerMaxWaitWarningSeconds,
            MaxWaitCriticalSeconds = Bound(nameof(MaxWaitCriticalSeconds)) ? MaxWaitCriticalSeconds : t.PgBouncerMaxWaitCriticalSeconds,
            PoolUsedWarningPercent = Bound(nameof(PoolUsedWarningPercent)) ? PoolUsedWarningPercent : t.PgBouncerPoolUsedWarningPercent,
            Environment = Environment?.Name,
        };
        List<PgBouncerPoolResult> pools;
        try { pools = await PgBouncerAdmin.PoolsAsync(target, options, ct).ConfigureAwait(false); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, OpsCmdletCategory(e), target.Address); return; }
        var patterns = Database?.Select(d => WildcardPattern.Get(d, WildcardOptions.IgnoreCase)).ToList();
        foreach (var p in pools.Where(p => patterns is null || patterns.Any(w => w.IsMatch(p.Database))))
            Output(p);
    }

    internal static ErrorCategory OpsCmdletCategory(OpsToolsException e) => MapCategory(e.Kind);
}
