using System.Globalization;

namespace OpsTools.Engine.HostResources;

/// <summary>Byte counts for people: 1024-based units one decimal under 100 (12.3 GiB), whole numbers above (252 GiB).</summary>
public static class Sizes
{
    /// <summary>A percentage without needless decimals: 12, 12.5, 12.35.</summary>
    public static string Percent(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
