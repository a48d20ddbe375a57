using System.Management.Automation;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// <para type="synopsis">Drops orphaned OpsTools scratch databases (left by a killed Restore-Backup or restore drill), with confirmation.</para>
/// <para type="description">Takes the same filters as Get-DbScratchDatabase, or its objects from the pipeline. Only orphans are dropped: never a scratch database a running OpsTools owns (it holds the advisory lock on its name) or one with sessions connected. Each drop first takes that lock itself, so no owner can appear meanwhile, then runs DROP DATABASE without FORCE.</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "DbScratchDatabase", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = HelpLinks.Base + "Remove-DbScratchDatabase.md")]
[OutputType(typeof(DbScratchDatabase))]
public sealed class RemoveDbScratchDatabaseCommand : DbCmdlet
{
    /// <summary>Only scratch databases with these names (wildcards allowed); bound from Get-DbScratchDatabase objects.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Only scratch databases created at least this long ago (e.g. 1h, 2d); drill databases carry no time and are left out.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? OlderThan { get; set; }

    /// <summary>No confirmation prompt. -WhatIf and $WhatIfPreference still only list; -Confirm still asks (the rule: OpsCmdlet.ConfirmAsync).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private readonly List<(PgTarget Target, string[]? Names)> _requests = new();

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (PgTargetRegistry.Find(ConnectionId) is not null) _requests.Add((ResolveInputTarget(), Name));
        else foreach (var target in ResolveTargets()) _requests.Add((target, Name));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        foreach (var group in _requests.GroupBy(r => r.Target))
        {
            var target = group.Key;
            var names = group.Any(r => r.Names is not { Length: > 0 }) ? null : group.SelectMany(r => r.Names!).Distinct(StringComparer.Ordinal).ToArray();
            var filter = new DbScratchFilter { Names = names, OlderThan = OlderThan };
            DbScratchSession session;
            try { session = await DbScratchSession.OpenAsync(target, cancellationToken).ConfigureAwait(false); }
            catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, target.Name)); continue; }
            try
            {
                var found = await session.ListAsync(cancellationToken).ConfigureAwait(false);
                var matching = found.Where(filter.Matches).ToList();
                Verbose($"{target.Address}: {matching.Count} scratch database(s) match {filter}; orphans among them: {matching.Count(s => s.IsOrphan)}.");
                foreach (var missing in (names ?? Array.Empty<string>()).Where(n => !WildcardPattern.ContainsWildcardCharacters(n) && !found.Any(s => s.Name == n)))
                    Error(ToErrorRecord(new OpsToolsException("DbScratchNotFound", OpsErrorKind.NotFound,
                        $"There is no scratch database named '{missing}' on {target.Host}:{target.Port} (it was dropped, or is not one OpsTools creates).", missing),
                        "DbScratchNotFound", ErrorCategory.ObjectNotFound, missing));
                foreach (var s in matching)
                {
                    if (!s.IsOrphan)
                    {
                        // Named on purpose: say why it stays. Picked by a wildcard or no name: just left alone.
                        if (names?.Contains(s.Name) == true)
                            Error(ToErrorRecord(new OpsToolsException("DbScratchNotOrphan", OpsErrorKind.OperationFailed, "Not dropped. " + s.Message, s),
                                "DbScratchNotOrphan", ErrorCategory.ResourceBusy, s));
                        else Verbose($"{s.Name}: left alone. {s.Message}");
                        continue;
                    }
                    var size = s.SizeBytes is { } b ? ByteSize.Format(b) : "size unknown";
                    var age = s.Age is { } a ? (a.TotalHours >= 1 ? FormattableString.Invariant($", created {a.TotalHours:0.#} h ago") : FormattableString.Invariant($", created {a.TotalMinutes:0} min ago")) : "";
                    if (!await ConfirmAsync($"{s.Name} ({s.Kind}, {size}{age}, no owner, no sessions) on {target.Host}:{target.Port}",
                            "DROP DATABASE (orphaned OpsTools scratch database)", force: Force).ConfigureAwait(false))
                        continue;
                    try
                    {
                        await session.DropOrphanAsync(s, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OpsToolsException e)
                    {
                        Error(ToErrorRecord(e, e.ErrorId, e.ErrorId == "DbScratchDropDenied" ? ErrorCategory.PermissionDenied : ErrorCategory.OperationStopped, s));
                        if (e.ErrorId == "DbScratchDropDenied") continue;
                        break; // the session is gone: the next drops would fail the same way
                    }
                    if (!s.Dropped)
                        Error(ToErrorRecord(new OpsToolsException("DbScratchNotOrphan", OpsErrorKind.OperationFailed, s.Message, s),
                            "DbScratchNotOrphan", ErrorCategory.ResourceBusy, s));
                    else Output(s);
                }
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ReadError, target.Name));
            }
            finally
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
