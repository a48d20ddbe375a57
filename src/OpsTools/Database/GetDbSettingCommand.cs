using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// <para type="synopsis">Reads PostgreSQL server settings (pg_settings): value with unit, context, source, pending restart.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "DbSetting", HelpUri = HelpLinks.Base + "Get-DbSetting.md")]
[OutputType(typeof(DbSettingInfo))]
public sealed class GetDbSettingCommand : DbCmdlet
{
    /// <summary>Setting names (wildcards allowed). Default: every setting.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DbSettingNameCompleter))]
    public string[]? Name { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        var targets = PgTargetRegistry.Find(ConnectionId) is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        foreach (var target in targets)
        {
            List<DbSettingInfo> settings;
            try
            {
                await using var session = await DbSettingsSession.OpenAsync(target, cancellationToken).ConfigureAwait(false);
                Verbose($"{target.Address}: reading pg_settings.");
                settings = await session.ListAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, target.Name));
                continue;
            }
            IEnumerable<DbSettingInfo> selected = settings;
            if (Name is { Length: > 0 })
            {
                var patterns = Name.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
                selected = settings.Where(s => patterns.Any(p => p.IsMatch(s.Name)));
                foreach (var n in Name.Where(n => !WildcardPattern.ContainsWildcardCharacters(n)))
                {
                    if (settings.Any(s => string.Equals(s.Name, n, StringComparison.OrdinalIgnoreCase))) continue;
                    var close = DbSettingsSession.CloseMatches(n, settings.Select(s => s.Name));
                    Error(new ErrorRecord(new ItemNotFoundException(
                            $"{target.Address} has no setting named '{n}'." + (close.Count > 0 ? $" Did you mean: {string.Join(", ", close)}?" : "")),
                        "DbSettingNotFound", ErrorCategory.ObjectNotFound, n));
                }
            }
            foreach (var s in selected) Output(s);
        }
    }
}

/// <summary>Completes -Name with commonly tuned PostgreSQL settings.</summary>
public sealed class DbSettingNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return DbSettingNames.Common.Where(n => pattern.IsMatch(n))
            .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n));
    }
}

/// <summary>The built-in list, kept in the cmdlet layer so completion does not load the engine.</summary>
internal static class DbSettingNames
{
    public static readonly string[] Common =
    {
        "autovacuum", "autovacuum_max_workers", "autovacuum_naptime", "autovacuum_vacuum_scale_factor", "autovacuum_vacuum_threshold",
        "checkpoint_completion_target", "checkpoint_timeout", "deadlock_timeout", "default_statistics_target", "effective_cache_size",
        "effective_io_concurrency", "huge_pages", "idle_in_transaction_session_timeout", "idle_session_timeout", "listen_addresses",
        "lock_timeout", "log_autovacuum_min_duration", "log_checkpoints", "log_connections", "log_disconnections", "log_line_prefix",
        "log_lock_waits", "log_min_duration_statement", "log_statement", "log_temp_files", "maintenance_work_mem", "max_connections",
        "max_parallel_workers", "max_parallel_workers_per_gather", "max_wal_senders", "max_wal_size", "max_worker_processes", "min_wal_size",
        "port", "random_page_cost", "shared_buffers", "shared_preload_libraries", "ssl", "statement_timeout", "superuser_reserved_connections",
        "synchronous_commit", "temp_buffers", "track_io_timing", "wal_buffers", "wal_level", "work_mem",
    };
}
