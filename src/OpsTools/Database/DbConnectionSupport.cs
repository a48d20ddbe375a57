using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;
using OpsTools.Database;

namespace OpsTools.Commands.Database;

/// <summary>Base of Get-DbConnection and Stop-DbConnection: the session filters, declared once.</summary>
public abstract class DbSessionFilterCmdlet : DbCmdlet
{
    /// <summary>Only sessions in these states.</summary>
    [Parameter]
    [ValidateSet("active", "idle", "idle in transaction", "idle in transaction (aborted)", "fastpath function call", "disabled", IgnoreCase = true)]
    public string[]? State { get; set; }

    /// <summary>Only sessions whose Duration is at least this long (e.g. 00:05:00, 5m, 30s).</summary>
    [Parameter]
    [Alias("OlderThan")]
    [DurationTransformation]
    public TimeSpan? MinDuration { get; set; }

    /// <summary>Only sessions of these roles (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? User { get; set; }

    /// <summary>Only sessions with these application_name values (wildcards allowed).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Application { get; set; }

    /// <summary>Sessions of every database even when -Database is given (it then only says where to connect).</summary>
    [Parameter]
    public SwitchParameter AllDatabases { get; set; }

    /// <summary>The filter the parameters describe; with <paramref name="ofDatabase"/>, narrowed to -Database when it was given and not -AllDatabases.</summary>
    internal DbSessionFilter SessionFilter(int[]? pids, bool ofDatabase) => new()
    {
        States = State, MinDuration = MinDuration, Users = User, Applications = Application, Pids = pids,
        Database = ofDatabase && MyInvocation.BoundParameters.ContainsKey(nameof(Database)) && !AllDatabases ? Database : null,
    };
}

/// <summary>The session filters Get-DbConnection and Stop-DbConnection share.</summary>
internal sealed class DbSessionFilter
{
    public string[]? States { get; init; }
    public TimeSpan? MinDuration { get; init; }
    public string[]? Users { get; init; }
    public string[]? Applications { get; init; }
    public int[]? Pids { get; init; }
    /// <summary>Only sessions of this database (datname), when set.</summary>
    public string? Database { get; init; }

    public bool IsEmpty => States is not { Length: > 0 } && MinDuration is null && Users is not { Length: > 0 } &&
                           Applications is not { Length: > 0 } && Pids is not { Length: > 0 };

    public bool Matches(DbConnectionInfo s)
    {
        if (States is { Length: > 0 } && !States.Any(x => string.Equals(x, s.State, StringComparison.OrdinalIgnoreCase))) return false;
        if (MinDuration is TimeSpan min && !(s.Duration is TimeSpan d && d >= min)) return false;
        if (Users is { Length: > 0 } && !Like(Users, s.User)) return false;
        if (Applications is { Length: > 0 } && !Like(Applications, s.Application)) return false;
        if (Pids is { Length: > 0 } && !Pids.Contains(s.Pid)) return false;
        if (Database is not null && s.Database != Database) return false;
        return true;
    }

    private static bool Like(string[] patterns, string? value) =>
        patterns.Any(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase).IsMatch(value ?? ""));

    public override string ToString()
    {
        var parts = new List<string>();
        if (States is { Length: > 0 }) parts.Add("state " + string.Join(" or ", States.Select(x => $"'{x}'")));
        if (MinDuration is TimeSpan t) parts.Add($"for at least {t}");
        if (Users is { Length: > 0 }) parts.Add("user " + string.Join(" or ", Users));
        if (Applications is { Length: > 0 }) parts.Add("application " + string.Join(" or ", Applications));
        if (Pids is { Length: > 0 }) parts.Add("pid " + string.Join(", ", Pids));
        if (Database is not null) parts.Add($"database '{Database}'");
        return parts.Count == 0 ? "every client session" : string.Join(", ", parts);
    }
}
