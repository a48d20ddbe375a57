using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using OpsTools.Database;

namespace OpsTools.Engine.Database;

/// <summary>
/// Get-DbSetting / Set-DbSetting: reads pg_settings, and changes settings with ALTER SYSTEM.
/// A name is used in SQL only after it was found in pg_settings, and then quoted; values are
/// string literals with every quote and backslash escaped.
/// </summary>
public sealed class DbSettingsSession : IAsyncDisposable
{
    private const string SelectSql = """
        SELECT name, setting, unit, current_setting(name), category, context, source, sourcefile, pending_restart,
               short_desc, boot_val, reset_val, vartype, min_val, max_val, enumvals
        FROM pg_settings
        """;

    private static readonly Regex NameShape = new(@"^[A-Za-z_][A-Za-z0-9_.]*$", RegexOptions.CultureInvariant);

    private readonly NpgsqlConnection _connection;

    private DbSettingsSession(PgTarget target, NpgsqlConnection connection) { Target = target; _connection = connection; }

    public PgTarget Target { get; }

    public static async Task<DbSettingsSession> OpenAsync(PgTarget target, CancellationToken cancellationToken) =>
        new(target, await target.OpenAsync(cancellationToken).ConfigureAwait(false));

    /// <summary>Every setting the role may read, by name.</summary>
    public async Task<List<DbSettingInfo>> ListAsync(CancellationToken cancellationToken) =>
        await QueryAsync(SelectSql + " ORDER BY name", null, cancellationToken).ConfigureAwait(false);

    /// <summary>One setting, by exact name (case-insensitive, as PostgreSQL treats them), or null.</summary>
    public async Task<DbSettingInfo?> GetAsync(string name, CancellationToken cancellationToken) =>
        (await QueryAsync(SelectSql + " WHERE lower(name) = lower(@name)", name, cancellationToken).ConfigureAwait(false)).FirstOrDefault();

    private async Task<List<DbSettingInfo>> QueryAsync(string sql, string? name, CancellationToken cancellationToken)
    {
        var list = new List<DbSettingInfo>();
        try
        {
            await using var cmd = new NpgsqlCommand(sql, _connection);
            if (name is not null) cmd.Parameters.AddWithValue("name", name);
            await using var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                list.Add(Target.Identify(new DbSettingInfo
                {
                    Name = reader.GetString(0), Setting = S(1), Unit = S(2), Value = S(3), Category = S(4), Context = S(5),
                    Source = S(6), SourceFile = S(7), PendingRestart = !reader.IsDBNull(8) && reader.GetBoolean(8),
                    Description = S(9), BootValue = S(10), ResetValue = S(11), Type = S(12), MinValue = S(13), MaxValue = S(14),
                    EnumValues = reader.IsDBNull(15) ? null : reader.GetFieldValue<string[]>(15),
                }));
            }
        }
        catch (Exception e) when (e is NpgsqlException && !cancellationToken.IsCancellationRequested)
        {
            throw PgErrors.Statement(Target, "Reading pg_settings", e);
        }
        return list;
    }

    /// <summary>
    /// The setting to change, validated: a name that is not shaped like a setting name, or that
    /// pg_settings does not know, is an error listing close matches; an internal (read-only) setting too.
    /// </summary>
    public async Task<DbSettingInfo> ResolveForChangeAsync(string name, CancellationToken cancellationToken)
    {
        if (!NameShape.IsMatch(name) || name.Length > 63)
            throw new OpsToolsException("DbSettingNameInvalid", OpsErrorKind.InvalidArgument,
                $"'{name}' is not a setting name (letters, digits, '_' and '.' only); nothing was changed.", name);
        var setting = await GetAsync(name, cancellationToken).ConfigureAwait(false);
        if (setting is null)
        {
            var all = await ListAsync(cancellationToken).ConfigureAwait(false);
            var close = CloseMatches(name, all.Select(s => s.Name));
            throw new OpsToolsException("DbSettingNotFound", OpsErrorKind.NotFound,
                $"{Target.Address} has no setting named '{name}'." + (close.Count > 0 ? $" Did you mean: {string.Join(", ", close)}?" : "") +
                " List them with Get-DbSetting.", name);
        }
        if (setting.Context == "internal")
            throw new OpsToolsException("DbSettingReadOnly", OpsErrorKind.InvalidArgument,
                $"'{setting.Name}' is a read-only (internal) setting on {Target.Address}: it is fixed when the server is built or initialized and cannot be changed.", setting.Name);
        return setting;
    }

    /// <summary>The ALTER SYSTEM statement (the name must come from pg_settings).</summary>
    public static string AlterSystemSql(string name, IReadOnlyList<string>? values) =>
        values is null
            ? $"ALTER SYSTEM RESET {PgSql.QuoteIdent(name)}"
            : $"ALTER SYSTEM SET {PgSql.QuoteIdent(name)} TO {string.Join(", ", values.Select(QuoteLiteral))}";

    /// <summary>ALTER SYSTEM SET name TO values, or ALTER SYSTEM RESET name when <paramref name="values"/> is null.</summary>
    public async Task AlterSystemAsync(string name, IReadOnlyList<string>? values, CancellationToken cancellationToken)
    {
        try
        {
            await using var cmd = new NpgsqlCommand(AlterSystemSql(name, values), _connection);
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (PostgresException e) when (e.SqlState == "42501")
        {
            throw new OpsToolsException("DbPermissionDenied", OpsErrorKind.PermissionDenied,
                $"ALTER SYSTEM {(values is null ? "RESET" : "SET")} {name} on {Target.Address}: permission denied ({e.MessageText}). " +
                $"ALTER SYSTEM needs a superuser (or, on PostgreSQL 15+, GRANT ALTER SYSTEM ON PARAMETER {name}); connect as one.",
                Target.Name, e);
        }
        catch (PostgresException e) when (e.SqlState is "22023" or "22P02" or "42704" or "55P02")
        {
            throw new OpsToolsException("DbSettingValueInvalid", OpsErrorKind.InvalidArgument,
                $"ALTER SYSTEM SET {name} on {Target.Address}: {e.MessageText}{(e.Hint is { Length: > 0 } h ? " (" + h + ")" : "")}. Nothing was changed.",
                name, e);
        }
        catch (Exception e) when (e is NpgsqlException && !cancellationToken.IsCancellationRequested)
        {
            throw PgErrors.Statement(Target, $"ALTER SYSTEM {(values is null ? "RESET" : "SET")} {name}", e);
        }
    }

    /// <summary>pg_reload_conf(), then waits (up to 5 s) until this session has re-read the configuration.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken)
    {
        try
        {
            DateTime before;
            await using (var cmd = new NpgsqlCommand("SELECT pg_conf_load_time()", _connection))
                before = (DateTime)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            await using (var cmd = new NpgsqlCommand("SELECT pg_reload_conf()", _connection))
                await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (DateTime.UtcNow < deadline)
            {
                await using var cmd = new NpgsqlCommand("SELECT pg_conf_load_time()", _connection);
                var now = (DateTime)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
                if (now > before) return;
                await Task.Delay(20, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is NpgsqlException && !cancellationToken.IsCancellationRequested)
        {
            throw PgErrors.Statement(Target, "pg_reload_conf()", e);
        }
    }

    /// <summary>E'literal' with backslashes and quotes escaped (safe whatever standard_conforming_strings is).</summary>
    public static string QuoteLiteral(string value)
    {
        if (value.Contains('\0'))
            throw new OpsToolsException("DbSettingValueInvalid", OpsErrorKind.InvalidArgument, "A setting value cannot contain a NUL character.", null);
        var sb = new StringBuilder("E'");
        foreach (var c in value)
        {
            if (c == '\\') sb.Append("\\\\");
            else if (c == '\'') sb.Append("''");
            else sb.Append(c);
        }
        return sb.Append('\'').ToString();
    }

    /// <summary>Up to five names close to <paramref name="name"/>: containing it, or within a small edit distance.</summary>
    public static List<string> CloseMatches(string name, IEnumerable<string> names)
    {
        var n = name.ToLowerInvariant();
        return names
            .Select(x => (x, d: x.Contains(n, StringComparison.OrdinalIgnoreCase) || (n.Length >= 4 && n.Contains(x, StringComparison.OrdinalIgnoreCase)) ? 0 : Distance(n, x.ToLowerInvariant())))
            .Where(t => t.d <= Math.Max(2, n.Length / 4))
            .OrderBy(t => t.d).ThenBy(t => t.x, StringComparer.Ordinal)
            .Take(5).Select(t => t.x).ToList();
    }

    private static int Distance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) prev[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (var j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync().ConfigureAwait(false);
}
