using System.Globalization;

namespace OpsTools.Engine.HostResources;

/// <summary>Byte counts for people: 1024-based units one decimal under 100 (12.3 GiB), whole numbers above (252 GiB).</summary>
public static class Sizes
{
    private static readonly string[] Units = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };

    public static string Format(long bytes)
    {
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < Units.Length - 1) { value /= 1024; unit++; }
        var text = value < 100 ? value.ToString("0.0", CultureInfo.InvariantCulture) : Math.Round(value).ToString("0", CultureInfo.InvariantCulture);
        return text + " " + Units[unit];
    }

    /// <summary>A percentage without needless decimals: 12, 12.5, 12.35.</summary>
    public static string Percent(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
