using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;
using OpsTools.Database;

namespace OpsTools.Commands.Database;

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
