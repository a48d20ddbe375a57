using System.Management.Automation;
using OpsTools.Database;
using OpsTools.Engine.Database;

namespace OpsTools.Commands.Database;

/// <summary>The filters Get-DbScratchDatabase and Remove-DbScratchDatabase share.</summary>
internal sealed class DbScratchFilter
{
    public string[]? Names { get; init; }
    public DbScratchState[]? States { get; init; }
    public TimeSpan? OlderThan { get; init; }

    public bool Matches(DbScratchDatabase s)
    {
        if (Names is { Length: > 0 } && !Names.Any(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase).IsMatch(s.Name))) return false;
        if (States is { Length: > 0 } && !States.Contains(s.State)) return false;
        if (OlderThan is { } min && !(s.Age is { } age && age >= min)) return false;
        return true;
    }

    public override string ToString()
    {
        var parts = new List<string>();
        if (Names is { Length: > 0 }) parts.Add("named " + string.Join(" or ", Names));
        if (States is { Length: > 0 }) parts.Add("state " + string.Join(" or ", States));
        if (OlderThan is { } t) parts.Add($"created at least {t} ago");
        return parts.Count == 0 ? "every scratch database" : string.Join(", ", parts);
    }
}
