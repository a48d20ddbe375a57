using System.Collections.ObjectModel;

namespace OpsTools;

/// <summary>
/// A list that reads as its items: <see cref="ToString"/> joins them with "; ". Collection properties of
/// OpsTools results hold one, so that Export-Csv, ConvertTo-Csv and string interpolation show the items
/// rather than the collection's type name ("System.String[]"). In every other way it is a list.
/// </summary>
public sealed class TextList<T> : List<T>
{
    private readonly Func<T, string?>? _format;

    public TextList() { }

    public TextList(IEnumerable<T> items, Func<T, string?>? format = null) : base(items) => _format = format;

    /// <summary>The items as text, joined with "; " (empty for no items).</summary>
    public override string ToString() => string.Join("; ", this.Select(i => (_format is null ? i?.ToString() : _format(i)) ?? ""));
}

/// <summary>Names and values that read as "name=value; name=value" (see <see cref="TextList{T}"/>).</summary>
public sealed class TextMap : ReadOnlyDictionary<string, string>
{
    public TextMap() : base(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)) { }

    public TextMap(IEnumerable<KeyValuePair<string, string>> items) : base(Copy(items)) { }

    private static Dictionary<string, string> Copy(IEnumerable<KeyValuePair<string, string>> items)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (k, v) in items) d[k] = v;
        return d;
    }

    /// <summary>The entries as "name=value", joined with "; ".</summary>
    public override string ToString() => string.Join("; ", this.Select(kv => kv.Key + "=" + kv.Value));
}

/// <summary>Wraps collections assigned to result properties (see <see cref="TextList{T}"/>).</summary>
public static class TextList
{
    /// <summary>The items as a <see cref="TextList{T}"/> (the same instance when it already is one; empty for null).</summary>
    public static TextList<T> From<T>(IEnumerable<T>? items, Func<T, string?>? format = null) =>
        items is TextList<T> list && format is null ? list : new TextList<T>(items ?? Array.Empty<T>(), format);

    /// <summary>The entries as a <see cref="TextMap"/> (the same instance when it already is one; empty for null).</summary>
    public static TextMap From(IEnumerable<KeyValuePair<string, string>>? items) =>
        items as TextMap ?? new TextMap(items ?? Array.Empty<KeyValuePair<string, string>>());
}
