using System.Management.Automation;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// <para type="synopsis">Lists PostgreSQL sessions (pg_stat_activity) as objects, or counts them per state with -Summary.</para>
/// <para type="description">By default every client backend of the server; -Database (given explicitly) narrows it to that database's sessions unless -AllDatabases.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "DbConnection", HelpUri = HelpLinks.Base + "Get-DbConnection.md")]
[OutputType(typeof(DbConnectionInfo), typeof(DbConnectionSummary))]
public sealed class GetDbConnectionCommand : DbSessionFilterCmdlet
{
    /// <summary>Only these backend process ids.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public int[]? Pid { get; set; }

    /// <summary>Also background processes (autovacuum, WAL sender, checkpointer ...), not only client backends.</summary>
    [Parameter]
    public SwitchParameter IncludeSystem { get; set; }

    /// <summary>Counts per state (State, Count, OldestDuration) instead of one object per session.</summary>
    [Parameter]
    public SwitchParameter Summary { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var targets = PgTargetRegistry.Find(ConnectionId) is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        var filter = SessionFilter(Pid, ofDatabase: true);
        foreach (var target in targets)
        {
            List<DbConnectionInfo> sessions;
            try
            {
                await using var session = await DbActivitySession.OpenAsync(target, cancellationToken).ConfigureAwait(false);
                Verbose($"{target.Address}: reading pg_stat_activity ({(IncludeSystem ? "every process" : "client backends")}; {filter}); this session is pid {session.BackendPid}.");
                sessions = await session.ListAsync(IncludeSystem, cancellationToken).ConfigureAwait(false);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, target.Name));
                continue;
            }
            var matching = sessions.Where(filter.Matches).ToList();
            if (Summary)
            {
                foreach (var row in DbActivitySession.Summarize(matching))
                {
                    row.Database = filter.Database;
                    Output(row);
                }
            }
            else
            {
                foreach (var s in matching) Output(s);
            }
        }
    }
}
