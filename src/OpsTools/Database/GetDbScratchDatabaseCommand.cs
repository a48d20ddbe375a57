using System.Management.Automation;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// <para type="synopsis">Lists the scratch databases OpsTools created on a server (Restore-Backup's &lt;db&gt;_restore_&lt;stamp&gt;, restore drills' opstools_drill_*), with size, age, owner and whether they are orphans.</para>
/// <para type="description">A running Restore-Backup or restore drill holds an advisory lock on its scratch database's name from before CREATE DATABASE until it drops or renames it; the server releases the lock when that session ends. A scratch database without that lock and without connected sessions is an orphan (its host was killed, or the server restarted mid-restore): Remove-DbScratchDatabase drops those.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "DbScratchDatabase", HelpUri = HelpLinks.Base + "Get-DbScratchDatabase.md")]
[OutputType(typeof(DbScratchDatabase))]
public sealed class GetDbScratchDatabaseCommand : DbCmdlet
{
    /// <summary>Only scratch databases with these names (wildcards allowed).</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Only scratch databases in these states (Owned, InUse, Orphaned).</summary>
    [Parameter]
    [ValidateSet("Owned", "InUse", "Orphaned", IgnoreCase = true)]
    public DbScratchState[]? State { get; set; }

    /// <summary>Only scratch databases created at least this long ago (e.g. 1h, 2d); drill databases carry no time and are left out.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? OlderThan { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var filter = new DbScratchFilter { Names = Name, States = State, OlderThan = OlderThan };
        var targets = PgTargetRegistry.Find(ConnectionId) is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        foreach (var target in targets)
        {
            List<DbScratchDatabase> found;
            try
            {
                await using var session = await DbScratchSession.OpenAsync(target, cancellationToken).ConfigureAwait(false);
                found = await session.ListAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, target.Name));
                continue;
            }
            var matching = found.Where(filter.Matches).ToList();
            Verbose($"{target.Address}: {found.Count} scratch database(s), {matching.Count} match {filter}.");
            foreach (var s in matching) Output(s);
        }
    }
}
