using System.Management.Automation;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// <para type="synopsis">Terminates PostgreSQL sessions (pg_terminate_backend), or cancels their running query (pg_cancel_backend).</para>
/// <para type="description">From the pipeline (Get-DbConnection objects, by Pid) or by filter (-State idle -OlderThan 10m ...). Never the session it works through. One result per session.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "DbConnection", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = HelpLinks.Base + "Stop-DbConnection.md")]
[OutputType(typeof(DbConnectionStopResult))]
public sealed class StopDbConnectionCommand : DbSessionFilterCmdlet
{
    /// <summary>Backend process ids (bound from Get-DbConnection objects).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public int[]? Pid { get; set; }

    /// <summary>Bound from Get-DbConnection objects: a pid is only signalled while it is still the same process.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public DateTime? BackendStart { get; set; }

    /// <summary>Cancel the running query only (pg_cancel_backend); the session stays connected.</summary>
    [Parameter]
    public SwitchParameter CancelQueryOnly { get; set; }

    /// <summary>No confirmation prompt. -WhatIf and $WhatIfPreference still only report; -Confirm still asks (the rule: OpsCmdlet.ConfirmAsync).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private sealed record Request(PgTarget Target, int Pid, DateTime? BackendStart);

    private readonly List<Request> _requests = new();
    private bool _filterMode;
    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (Pid is not { Length: > 0 })
        {
            _filterMode = true;
            return Task.CompletedTask;
        }
        var target = PgTargetRegistry.Find(ConnectionId);
        if (target is null)
        {
            var targets = ResolveTargets();
            if (targets.Count > 1)
                Fail(new OpsToolsException("DbPidAmbiguous", OpsErrorKind.InvalidArgument,
                    $"-Pid names a process of one server, but the environment selects {targets.Count} databases ({string.Join(", ", targets.Select(t => t.Name))}); pick one with -Instance.", null),
                    "DbPidAmbiguous", ErrorCategory.InvalidArgument, null);
            target = targets[0];
        }
        foreach (var pid in Pid) _requests.Add(new Request(target, pid, BackendStart));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var filter = SessionFilter(null, ofDatabase: false);
        var stoppedAny = false;
        try
        {
            if (_requests.Count > 0)
            {
                foreach (var group in _requests.GroupBy(r => r.Target))
                    stoppedAny |= await StopListedAsync(group.Key, group.ToList(), filter, cancellationToken).ConfigureAwait(false);
            }
            if (_filterMode && _requests.Count == 0)
            {
                if (filter.IsEmpty)
                    Fail(new OpsToolsException("DbStopFilterMissing", OpsErrorKind.InvalidArgument,
                        "Stop-DbConnection needs sessions to stop: pipe Get-DbConnection objects, or give -Pid, -State, -MinDuration (-OlderThan), -User or -Application. It never stops every session at once.", null),
                        "DbStopFilterMissing", ErrorCategory.InvalidArgument, null);
                filter = SessionFilter(null, ofDatabase: true);
                foreach (var target in ResolveTargets())
                    stoppedAny |= await StopFilteredAsync(target, filter, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            // A terminated backend may have been one of this process's idle pooled connections: drop them all.
            if (stoppedAny && !CancelQueryOnly) DbActivitySession.ClearPools();
        }
    }

    private async Task<bool> StopListedAsync(PgTarget target, List<Request> requests, DbSessionFilter filter, CancellationToken ct)
    {
        var any = false;
        DbActivitySession session;
        try { session = await DbActivitySession.OpenAsync(target, ct).ConfigureAwait(false); }
        catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, target.Name)); return false; }
        await using (session.ConfigureAwait(false))
        {
            List<DbConnectionInfo> current;
            try { current = await session.ListAsync(includeSystem: true, ct).ConfigureAwait(false); }
            catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ReadError, target.Name)); return false; }
            foreach (var request in requests.DistinctBy(r => r.Pid))
            {
                var live = current.FirstOrDefault(s => s.Pid == request.Pid &&
                    (request.BackendStart is not DateTime start || s.BackendStart is not DateTime b || Math.Abs((b - start.ToUniversalTime()).TotalMilliseconds) < 1));
                if (live is null)
                {
                    var gone = target.Identify(new DbConnectionStopResult
                    {
                        Pid = request.Pid,
                        Action = CancelQueryOnly ? "Cancelled" : "Terminated",
                        Message = $"pid {request.Pid} no longer exists on {target.Address} (the session ended, or the pid now belongs to another process); nothing was done.",
                    });
                    gone.Database = null;
                    Output(gone);
                    continue;
                }
                if (!filter.IsEmpty && !filter.Matches(live))
                {
                    Verbose($"pid {live.Pid} ({live.State}, {live.Duration}) does not match {filter} now: left alone.");
                    continue;
                }
                any |= await StopOneAsync(session, live, ct).ConfigureAwait(false);
            }
        }
        return any;
    }

    private async Task<bool> StopFilteredAsync(PgTarget target, DbSessionFilter filter, CancellationToken ct)
    {
        var any = false;
        DbActivitySession session;
        try { session = await DbActivitySession.OpenAsync(target, ct).ConfigureAwait(false); }
        catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, target.Name)); return false; }
        await using (session.ConfigureAwait(false))
        {
            List<DbConnectionInfo> current;
            try { current = await session.ListAsync(includeSystem: false, ct).ConfigureAwait(false); }
            catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ReadError, target.Name)); return false; }
            var candidates = current.Where(s => s.Pid != session.BackendPid && filter.Matches(s)).ToList();
            Verbose($"{target.Address}: {candidates.Count} session(s) match {filter} (this command's own session, pid {session.BackendPid}, is never stopped).");
            foreach (var s in candidates)
                any |= await StopOneAsync(session, s, ct).ConfigureAwait(false);
        }
        return any;
    }

    private async Task<bool> StopOneAsync(DbActivitySession session, DbConnectionInfo s, CancellationToken ct)
    {
        var target = session.Target;
        var query = s.Query is { Length: > 60 } q ? q[..59].ReplaceLineEndings(" ") + "…" : s.Query?.ReplaceLineEndings(" ");
        var what = $"pid {s.Pid} ({s.User}@{s.Database}, {s.State}{(s.Application is { Length: > 0 } a ? ", " + a : "")}{(query is { Length: > 0 } ? ": " + query : "")}) on {target.Host}:{target.Port}";
        var action = CancelQueryOnly ? "Cancel the running query (pg_cancel_backend)" : "Terminate the session (pg_terminate_backend)";
        if (!await ConfirmAsync(what, action, force: Force).ConfigureAwait(false)) return false;
        Verbose($"{(CancelQueryOnly ? "pg_cancel_backend" : "pg_terminate_backend")}({s.Pid}) on {target.Address}.");
        DbConnectionStopResult result;
        try
        {
            result = await session.StopAsync(s, CancelQueryOnly, ct).ConfigureAwait(false);
        }
        catch (DbStopDeniedException e)
        {
            Output(e.Result);
            Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.PermissionDenied, s.Pid));
            return false;
        }
        catch (OpsToolsException e)
        {
            Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.OperationStopped, s.Pid));
            return false;
        }
        Output(result);
        return result.Succeeded;
    }
}
