using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace OpsTools.Commands.Database;

/// <summary>
/// Lets a TimeSpan parameter take what admins type: a TimeSpan, a number of milliseconds (200), or text
/// with a unit ("200ms", "1.5s", "2m", "1h") or in TimeSpan form ("00:00:01"). Without this a bare number
/// would become ticks.
/// </summary>
public sealed class MillisecondsTimeSpanTransformationAttribute : ArgumentTransformationAttribute
{
    private static readonly Regex WithUnit = new(@"^\s*(?<n>\d+(\.\d+)?)\s*(?<u>ms|s|sec|m|min|h)\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject p ? p.BaseObject : inputData;
        switch (value)
        {
            case null: return null!;
            case TimeSpan: return value;
            case byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal:
                return TimeSpan.FromMilliseconds(Convert.ToDouble(value, CultureInfo.InvariantCulture));
            case string s:
                if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var ms)) return TimeSpan.FromMilliseconds(ms);
                var m = WithUnit.Match(s);
                if (m.Success)
                {
                    var n = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
                    return m.Groups["u"].Value.ToLowerInvariant() switch
                    {
                        "ms" => TimeSpan.FromMilliseconds(n),
                        "s" or "sec" => TimeSpan.FromSeconds(n),
                        "m" or "min" => TimeSpan.FromMinutes(n),
                        _ => TimeSpan.FromHours(n),
                    };
                }
                if (TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out var ts)) return ts;
                throw new ArgumentTransformationMetadataException(
                    $"'{s}' is not a duration: give milliseconds (200), a value with a unit (200ms, 1.5s, 2m, 1h) or a TimeSpan (00:00:01).");
            default:
                return value;
        }
    }
}

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
