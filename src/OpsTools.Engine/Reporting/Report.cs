using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;

namespace OpsTools.Engine.Reporting;

/// <summary>How Warning results appear in JUnit XML.</summary>
public enum JUnitWarningMode
{
    /// <summary>A passing test case whose system-out carries the message (default).</summary>
    Pass,
    /// <summary>A failed test case, like Critical and Unknown.</summary>
    Failure,
    /// <summary>A skipped test case.</summary>
    Skipped,
}

/// <summary>Report output formats.</summary>
public enum ReportFormat { Markdown, Json, Html, JUnit, Yaml }

/// <summary>Counts of results per status.</summary>
public sealed record ReportSummary(int Total, int Critical, int Warning, int Unknown, int Healthy)
{
    public static ReportSummary Of(IEnumerable<CheckResult> results)
    {
        int c = 0, w = 0, u = 0, h = 0, t = 0;
        foreach (var r in results)
        {
            t++;
            switch (r.Status)
            {
                case CheckStatus.Critical: c++; break;
                case CheckStatus.Warning: w++; break;
                case CheckStatus.Unknown: u++; break;
                default: h++; break;
            }
        }
        return new ReportSummary(t, c, w, u, h);
    }

    /// <summary>Counts per status, worst first: "1 critical, 2 warning, 0 unknown, 5 healthy (8 results)".</summary>
    public override string ToString() =>
        $"{Critical} critical, {Warning} warning, {Unknown} unknown, {Healthy} healthy ({Total} result{(Total == 1 ? "" : "s")})";

    /// <summary>The worst status present; Healthy for an empty report.</summary>
    public CheckStatus Worst => Critical > 0 ? CheckStatus.Critical : Warning > 0 ? CheckStatus.Warning : Unknown > 0 ? CheckStatus.Unknown : CheckStatus.Healthy;
}

/// <summary>What a report is made of: a title, when it was made and the results, in the order they came.</summary>
public sealed class Report
{
    public Report(string title, IEnumerable<CheckResult> results, DateTime? generatedAt = null)
    {
        Title = title;
        Results = results.ToList();
        GeneratedAt = (generatedAt ?? DateTime.UtcNow).ToUniversalTime();
        Summary = ReportSummary.Of(Results);
        HasHosts = Results.Any(r => !string.IsNullOrEmpty(r.ComputerName));
    }

    public string Title { get; }
    public DateTime GeneratedAt { get; }
    public IReadOnlyList<CheckResult> Results { get; }
    public ReportSummary Summary { get; }

    /// <summary>True when results came from other hosts (a fleet run): the tables get a Host column.</summary>
    public bool HasHosts { get; }

    /// <summary>
    /// Turns what a result's <c>Value</c> (or any property of type object) holds into something the
    /// renderers know, e.g. unwraps PowerShell's PSObject. Set by the cmdlet layer; identity here.
    /// </summary>
    public Func<object?, object?> ValueUnwrapper { get; init; } = v => v;

    /// <summary>Severity order for "worst first": Critical, Warning, Unknown, Healthy.</summary>
    public static int Severity(CheckStatus s) => s switch
    {
        CheckStatus.Critical => 3,
        CheckStatus.Warning => 2,
        CheckStatus.Unknown => 1,
        _ => 0,
    };

    /// <summary>The area a result is listed under ("General" when it names none).</summary>
    public static string AreaOf(CheckResult r) => string.IsNullOrWhiteSpace(r.Area) ? "General" : r.Area;

    /// <summary>Results grouped per area: areas with the worst results first, and in each area problems first (stable otherwise).</summary>
    public IReadOnlyList<(string Area, IReadOnlyList<CheckResult> Results)> ByArea() =>
        Results
            .Select((r, i) => (r, i))
            .GroupBy(x => AreaOf(x.r), StringComparer.Ordinal)
            .Select(g => (Area: g.Key,
                Results: (IReadOnlyList<CheckResult>)g.OrderByDescending(x => Severity(x.r.Status)).ThenBy(x => x.i).Select(x => x.r).ToList(),
                Worst: g.Max(x => Severity(x.r.Status)),
                First: g.Min(x => x.i)))
            .OrderByDescending(g => g.Worst).ThenBy(g => g.First)
            .Select(g => (g.Area, g.Results))
            .ToList();

    /// <summary>A value as report text: numbers in invariant culture without needless decimals.</summary>
    public string FormatValue(object? value)
    {
        value = ValueUnwrapper(value);
        return value switch
        {
            null => "",
            double d => d.ToString("0.##", CultureInfo.InvariantCulture),
            float f => f.ToString("0.##", CultureInfo.InvariantCulture),
            decimal m => m.ToString("0.##", CultureInfo.InvariantCulture),
            DateTime t => t.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            TimeSpan ts => ts.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s",
            IFormattable x => x.ToString(null, CultureInfo.InvariantCulture),
            string s => s,
            IEnumerable e => string.Join(", ", e.Cast<object?>().Select(FormatValue)),
            _ => value.ToString() ?? "",
        };
    }

    // ---------- the data tree shared by the JSON and YAML renderers ----------

    /// <summary>
    /// The report as plain data (ordered dictionaries, lists, strings, numbers, booleans, null):
    /// title, generatedAt, summary and results, each result with every public property of its
    /// runtime type (derived types keep their own), Status as text, Duration in seconds,
    /// times as UTC ISO-8601. Keys are camelCase.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, object?>> ToData() => new List<KeyValuePair<string, object?>>
    {
        new("title", Title),
        new("generatedAt", Iso(GeneratedAt)),
        new("summary", new List<KeyValuePair<string, object?>>
        {
            new("total", Summary.Total),
            new("critical", Summary.Critical),
            new("warning", Summary.Warning),
            new("unknown", Summary.Unknown),
            new("healthy", Summary.Healthy),
            new("worst", Summary.Worst.ToString()),
        }),
        new("results", Results.Select(r => (object?)ObjectToData(r, 0)).ToList()),
    };

    private const int MaxDepth = 6;

    private IReadOnlyList<KeyValuePair<string, object?>> ObjectToData(object o, int depth)
    {
        var list = new List<KeyValuePair<string, object?>>();
        foreach (var p in PublicProperties(o.GetType()))
        {
            object? v;
            try { v = p.GetValue(o); }
            catch (TargetInvocationException e) { v = "(" + e.InnerException?.Message + ")"; }
            list.Add(new(JsonNamingPolicy.CamelCase.ConvertName(p.Name), ToData(v, depth + 1)));
        }
        return list;
    }

    private static readonly Dictionary<Type, PropertyInfo[]> PropertyCache = new();

    /// <summary>Readable public instance properties, base class first, in declaration order.</summary>
    public static PropertyInfo[] PublicProperties(Type type)
    {
        lock (PropertyCache)
        {
            if (PropertyCache.TryGetValue(type, out var cached)) return cached;
            var chain = new List<Type>();
            for (var t = type; t is not null && t != typeof(object); t = t.BaseType) chain.Insert(0, t);
            var props = chain
                .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).OrderBy(p => p.MetadataToken))
                .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.GetMethod is { IsPublic: true })
                .GroupBy(p => p.Name).Select(g => g.Last()) // a property redeclared with 'new' appears once
                .ToArray();
            PropertyCache[type] = props;
            return props;
        }
    }

    private object? ToData(object? value, int depth)
    {
        value = ValueUnwrapper(value);
        switch (value)
        {
            case null: return null;
            case string or bool: return value;
            case Enum e: return e.ToString();
            case TimeSpan ts: return ts.TotalSeconds;
            case DateTime dt: return Iso(dt);
            case DateTimeOffset dto: return dto.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
            case byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal: return value;
            case char c: return c.ToString();
            case Uri or Guid or Version: return value.ToString();
        }
        if (depth > MaxDepth) return value.ToString();
        switch (value)
        {
            case IDictionary d:
                // IDictionaryEnumerator, not foreach: generic dictionaries enumerate KeyValuePairs through IEnumerable.
                var entries = new List<KeyValuePair<string, object?>>();
                var en = d.GetEnumerator();
                while (en.MoveNext())
                    entries.Add(new(Convert.ToString(en.Key, CultureInfo.InvariantCulture) ?? "", ToData(en.Value, depth + 1)));
                return entries;
            case IEnumerable e:
                var items = e.Cast<object?>().ToList();
                if (items.Count > 0 && items.All(i => i is not null && IsKeyValuePair(i.GetType())))
                    return items.Select(i => new KeyValuePair<string, object?>(
                        Convert.ToString(i!.GetType().GetProperty("Key")!.GetValue(i), CultureInfo.InvariantCulture) ?? "",
                        ToData(i.GetType().GetProperty("Value")!.GetValue(i), depth + 1))).ToList();
                return items.Select(i => ToData(i, depth + 1)).ToList();
        }
        var type = value.GetType();
        if (type.IsPrimitive || type.IsPointer) return value.ToString();
        var props = PublicProperties(type);
        return props.Length == 0 ? value.ToString() : ObjectToData(value, depth);
    }

    private static bool IsKeyValuePair(Type t) => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(KeyValuePair<,>);

    /// <summary>UTC ISO-8601 with a Z (unspecified times are taken as UTC, as results keep them).</summary>
    public static string Iso(DateTime t)
    {
        var utc = t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc);
        return utc.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);
    }
}
