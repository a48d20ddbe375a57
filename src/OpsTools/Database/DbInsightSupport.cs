using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace OpsTools.Commands.Database;

internal static class DbInsightFilters
{
    /// <summary>A schema/table filter from wildcard lists (null when neither is given).</summary>
    public static Func<string, string, bool>? SchemaTable(string[]? schemas, string[]? tables)
    {
        var s = Patterns(schemas);
        var t = Patterns(tables);
        if (s is null && t is null) return null;
        return (schema, table) => (s is null || s.Any(p => p.IsMatch(schema))) && (t is null || t.Any(p => p.IsMatch(table)));
    }

    /// <summary>Exact-name matching for names with no wildcard characters, wildcard matching otherwise (case-insensitive, like PowerShell).</summary>
    public static WildcardPattern[]? Patterns(string[]? names) =>
        names is { Length: > 0 } ? names.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToArray() : null;
}
