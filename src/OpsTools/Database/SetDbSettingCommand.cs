using System.Management.Automation;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// <para type="synopsis">Changes a PostgreSQL server setting with ALTER SYSTEM SET (or RESET), optionally reloading the configuration.</para>
/// <para type="description">The result says whether a restart (context postmaster) or a reload is needed, and whether the new value is in effect.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "DbSetting", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = SetSet, HelpUri = HelpLinks.Base + "Set-DbSetting.md")]
[OutputType(typeof(DbSettingChangeResult))]
public sealed class SetDbSettingCommand : DbCmdlet
{
    private const string SetSet = "Set";
    private const string ResetSet = "Reset";

    /// <summary>The setting's name, as in pg_settings (validated there first).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DbSettingNameCompleter))]
    public string Name { get; set; } = "";

    /// <summary>The new value (several for list settings such as shared_preload_libraries). Units as in postgresql.conf: 250, '250ms', '4GB'.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = SetSet)]
    [ValidateNotNullOrEmpty]
    public string[] Value { get; set; } = Array.Empty<string>();

    /// <summary>ALTER SYSTEM RESET: remove the setting from postgresql.auto.conf (back to postgresql.conf or the default).</summary>
    [Parameter(Mandatory = true, ParameterSetName = ResetSet)]
    public SwitchParameter Reset { get; set; }

    /// <summary>Run pg_reload_conf() afterwards and report the new effective value.</summary>
    [Parameter]
    public SwitchParameter Reload { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var targets = PgTargetRegistry.Find(ConnectionId) is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        foreach (var target in targets)
        {
            try
            {
                await ChangeAsync(target, cancellationToken).ConfigureAwait(false);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.InvalidOperation, Name));
            }
        }
    }

    private async Task ChangeAsync(PgTarget target, CancellationToken ct)
    {
        await using var session = await DbSettingsSession.OpenAsync(target, ct).ConfigureAwait(false);
        var before = await session.ResolveForChangeAsync(Name, ct).ConfigureAwait(false);
        var values = Reset ? null : Value;
        var sql = DbSettingsSession.AlterSystemSql(before.Name, values);
        if (!await ShouldProcessAsync($"{before.Name} on {target.Address} (now {before.Value}, context {before.Context})", sql).ConfigureAwait(false))
            return;
        Verbose($"{target.Address}: {sql}");
        await session.AlterSystemAsync(before.Name, values, ct).ConfigureAwait(false);
        if (Reload)
        {
            Verbose($"{target.Address}: SELECT pg_reload_conf()");
            await session.ReloadAsync(ct).ConfigureAwait(false);
        }
        var after = await session.GetAsync(before.Name, ct).ConfigureAwait(false) ?? before;

        var restart = before.Context == "postmaster";
        var result = target.Identify(new DbSettingChangeResult
        {
            Name = before.Name, Action = Reset ? "Reset" : "Set", RequestedValue = values is null ? null : string.Join(", ", values),
            OldValue = before.Value, Value = after.Value, Context = before.Context,
            RestartRequired = restart, ReloadRequired = !restart && !Reload, Reloaded = Reload,
            Applied = !restart && Reload, PendingRestart = after.PendingRestart,
        });
        var change = Reset ? $"{result.Name} reset in postgresql.auto.conf" : $"{result.Name} set to {result.RequestedValue} in postgresql.auto.conf";
        result.Message = restart
            ? $"{change}; it takes effect after a server restart (context postmaster){(after.PendingRestart ? ", the server reports a pending restart" : "")}. Effective now: {after.Value}."
            : Reload
                ? $"{change} and reloaded: now {after.Value} (was {before.Value})" +
                  (before.Context is "backend" or "superuser-backend" ? "; sessions started before keep the old value." : ".")
                : $"{change}; reload to apply (context {before.Context}: Set-DbSetting -Reload, or SELECT pg_reload_conf()). Effective now: {after.Value}.";
        Output(result);
    }
}
