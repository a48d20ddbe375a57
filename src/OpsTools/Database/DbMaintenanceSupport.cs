using System.Management.Automation;

namespace OpsTools.Commands.Database;

/// <summary>Name matching shared by Get-DbVacuumStatus, Invoke-DbVacuum and Invoke-DbReindex (no SQL: the names come from the catalog).</summary>
internal static class DbNameMatch
{
    internal static readonly string[] SystemSchemas = { "pg_catalog", "information_schema" };

    public static bool IsSystemSchema(string schema) =>
        SystemSchemas.Contains(schema) || schema.StartsWith("pg_toast", StringComparison.Ordinal) || schema.StartsWith("pg_temp_", StringComparison.Ordinal);

    /// <summary>True when <paramref name="name"/> matches one of the patterns (exact, or wildcards without regard to case); true for no patterns.</summary>
    public static bool Matches(string name, string[]? patterns)
    {
        if (patterns is not { Length: > 0 }) return true;
        foreach (var p in patterns)
        {
            if (string.Equals(p, name, StringComparison.Ordinal)) return true;
            if (WildcardPattern.ContainsWildcardCharacters(p) ? WildcardPattern.Get(p, WildcardOptions.IgnoreCase).IsMatch(name)
                                                               : string.Equals(p, name, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    /// <summary>
    /// The objects named by <paramref name="pattern"/>: exact names first (so names with [ ] * ? work), then the same
    /// name without regard to case, then wildcards; "schema.name" when no schema was given and nothing is named so.
    /// </summary>
    public static List<T> Select<T>(IEnumerable<T> candidates, string pattern, bool schemaGiven, Func<T, string> schema, Func<T, string> name)
    {
        var list = candidates as IList<T> ?? candidates.ToList();
        var exact = list.Where(c => string.Equals(name(c), pattern, StringComparison.Ordinal)).ToList();
        if (exact.Count > 0) return exact;
        var folded = list.Where(c => string.Equals(name(c), pattern, StringComparison.OrdinalIgnoreCase)).ToList();
        if (folded.Count > 0) return folded;
        if (WildcardPattern.ContainsWildcardCharacters(pattern))
        {
            var wp = WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase);
            var matched = list.Where(c => wp.IsMatch(name(c))).ToList();
            if (matched.Count > 0) return matched;
        }
        var dot = pattern.IndexOf('.');
        if (!schemaGiven && dot > 0 && dot < pattern.Length - 1)
        {
            var s = pattern[..dot];
            var n = pattern[(dot + 1)..];
            return list.Where(c => Matches(schema(c), new[] { s }) && Matches(name(c), new[] { n })).ToList();
        }
        return new List<T>();
    }
}
