using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Engine.PgBouncer;
using OpsTools.PgBouncer;

namespace OpsTools.Commands.PgBouncer;

/// <summary>
/// <para type="synopsis">Sends RECONNECT, RELOAD, PAUSE or RESUME (optionally for one database) to PgBouncer's admin console: the runbooks' "restart PgBouncer to reset connections" without a restart.</para>
/// <para type="description">RECONNECT closes every server connection once it is released (clients stay connected); RELOAD rereads the configuration; PAUSE waits for running queries and holds new ones; RESUME lets them go. ConfirmImpact High: it asks first unless -Force (never over -WhatIf). The user must be in PgBouncer's admin_users.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "PgBouncerCommand", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, HelpUri = HelpLinks.Base + "Invoke-PgBouncerCommand.md")]
[OutputType(typeof(PgBouncerCommandResult))]
public sealed class InvokePgBouncerCommandCommand : PgBouncerCmdlet
{
    /// <summary>Reconnect, Reload, Pause or Resume.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateSet("Reconnect", "Reload", "Pause", "Resume", IgnoreCase = true)]
    public string Command { get; set; } = "";

    /// <summary>Only this database (RECONNECT, PAUSE, RESUME); default: every database. Binds from Get-PgBouncerPool objects.</summary>
    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? Database { get; set; }

    /// <summary>Send it without asking (never overrides -WhatIf).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private readonly HashSet<string> _done = new(StringComparer.Ordinal);

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var db = Command.Equals("Reload", StringComparison.OrdinalIgnoreCase) ? null : Database;
        var statement = PgBouncerAdmin.Statement(Command, db);
        if (!_done.Add(statement)) return; // several pools of one database piped in: one command
        var proceed = await ConfirmAsync($"PgBouncer {target.Server}{(db is null ? " (every database)" : $" database '{db}'")}", statement, force: Force).ConfigureAwait(false);
        if (!proceed) return;
        try
        {
            var result = await PgBouncerAdmin.RunAsync(target, Command, db, ct).ConfigureAwait(false);
            Verbose($"{statement} on {target.Server}: {result.Answer}.");
            Output(result);
        }
        catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.NotSpecified, statement)); }
    }
}
