using System.Globalization;
using System.Text.RegularExpressions;

namespace OpsTools;

/// <summary>How many digits a <see cref="ByteFormat"/> shows.</summary>
public enum ByteDigits
{
    /// <summary>Up to one decimal, a trailing .0 dropped: 3 MiB, 12.5 MiB.</summary>
    OneDecimal,
    /// <summary>One decimal always under 100 (12.0 GiB), whole numbers from 100 (252 GiB): df -h, pg_size_pretty's readers.</summary>
    FixedUnder100,
    /// <summary>Up to two decimals under 10, one from 10 (docker image prune: 1.25 GB, 65.5 kB).</summary>
    TwoUnder10,
    /// <summary>Four significant digits (Go's %.4g, docker stats: 12.5MiB, 1.234kB).</summary>
    FourSignificant,
    /// <summary>Rounded up, one decimal under 10, whole from 10 (du -h: 4.1K, 13M).</summary>
    CeilingDu,
}

/// <summary>
/// A dialect of byte sizes: the base (1024 or 1000), the unit names, the separator and the digits. The
/// module's dialects are the static instances; every one formats and parses with the invariant culture.
/// </summary>
public sealed class ByteFormat
{
    public ByteFormat(int unitBase, string[] units, string separator, ByteDigits digits)
    {
        Base = unitBase; Units = units; Separator = separator; Digits = digits;
    }

    public int Base { get; }
    public IReadOnlyList<string> Units { get; }
    public string Separator { get; }
    public ByteDigits Digits { get; }

    /// <summary>IEC, 1024-based, up to one decimal: 512 B, 3 MiB, 12.5 GiB.</summary>
    public static readonly ByteFormat Iec = new(1024, new[] { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" }, " ", ByteDigits.OneDecimal);
    /// <summary>IEC as df -h reads: one decimal under 100 (4.0 KiB, 12.3 GiB), whole above (100 GiB).</summary>
    public static readonly ByteFormat IecFixed = new(1024, new[] { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" }, " ", ByteDigits.FixedUnder100);
    /// <summary>pg_size_pretty's units (1024-based, "bytes", kB, MB, GB), one decimal under 100: 8.3 MB, 245 GB.</summary>
    public static readonly ByteFormat Postgres = new(1024, new[] { "bytes", "kB", "MB", "GB", "TB", "PB" }, " ", ByteDigits.FixedUnder100);
    /// <summary>pg_size_pretty's units with up to one decimal: 3 MB, 1.5 GB (short messages such as replication lag).</summary>
    public static readonly ByteFormat PostgresShort = new(1024, new[] { "bytes", "kB", "MB", "GB", "TB", "PB" }, " ", ByteDigits.OneDecimal);
    /// <summary>docker's sizes (1000-based kB, MB, GB): 65.5 kB, 1.5 GB.</summary>
    public static readonly ByteFormat Docker = new(1000, new[] { "B", "kB", "MB", "GB", "TB", "PB" }, " ", ByteDigits.TwoUnder10);
    /// <summary>docker stats' memory (go-units BytesSize: 1024-based, %.4g, no space): 12.5MiB.</summary>
    public static readonly ByteFormat DockerBinary = new(1024, new[] { "B", "KiB", "MiB", "GiB", "TiB", "PiB" }, "", ByteDigits.FourSignificant);
    /// <summary>docker stats' I/O (go-units HumanSize: 1000-based, %.4g, no space): 1.234kB.</summary>
    public static readonly ByteFormat DockerDecimal = new(1000, new[] { "B", "kB", "MB", "GB", "TB", "PB" }, "", ByteDigits.FourSignificant);
    /// <summary>du -h: 1024-based single letters, rounded up, no space: 4.1K, 13M, 512.</summary>
    public static readonly ByteFormat Du = new(1024, new[] { "", "K", "M", "G", "T", "P" }, "", ByteDigits.CeilingDu);

    /// <summary>Formats a number of bytes in this dialect.</summary>
    public string Format(double bytes)
    {
        var v = bytes;
        var i = 0;
        while (Math.Abs(v) >= Base && i < Units.Count - 1) { v /= Base; i++; }
        var inv = CultureInfo.InvariantCulture;
        string number;
        if (Digits == ByteDigits.FourSignificant) number = v.ToString("G4", inv);
        else if (i == 0) number = Math.Round(bytes).ToString("0", inv);
        else number = Digits switch
        {
            ByteDigits.OneDecimal => v.ToString("0.#", inv),
            ByteDigits.FixedUnder100 => Math.Round(v, 1) < 100 ? v.ToString("0.0", inv) : Math.Round(v).ToString("0", inv),
            ByteDigits.TwoUnder10 => v.ToString(v < 10 ? "0.##" : "0.#", inv),
            _ => v < 10 ? (Math.Ceiling(v * 10) / 10).ToString("0.0", inv) : Math.Ceiling(v).ToString("0", inv),
        };
        return number + Separator + Units[i];
    }
}

/// <summary>
/// A number of bytes, formatted and parsed the same way everywhere (culture-invariant), in the dialects admins
/// read: IEC (KiB, MiB), docker's (kB, MB: 1000-based; KiB/MiB in docker stats), pg_size_pretty's (kB, MB:
/// 1024-based), du -h's. ToString() is IEC: "1.5 GiB" in every culture.
/// </summary>
public readonly struct ByteSize : IEquatable<ByteSize>, IComparable<ByteSize>, IFormattable
{
    private static readonly Regex Text = new(@"^\s*(?<n>[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)\s*(?<u>[a-zA-Z]*)\s*$", RegexOptions.CultureInvariant);

    public ByteSize(long bytes) => Bytes = bytes;

    /// <summary>The number of bytes.</summary>
    public long Bytes { get; }

    public static implicit operator ByteSize(long bytes) => new(bytes);
    public static implicit operator long(ByteSize size) => size.Bytes;

    /// <summary>IEC: 512 B, 1.5 GiB.</summary>
    public override string ToString() => ByteFormat.Iec.Format(Bytes);

    /// <summary>In a dialect.</summary>
    public string ToString(ByteFormat format) => format.Format(Bytes);

    /// <summary>Format names: iec (default), df, pg, pgshort, docker, dockerbinary, dockerdecimal, du. The culture is not used.</summary>
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString(FormatNamed(format));

    /// <summary>Formats a number of bytes (which may be fractional or negative) in a dialect.</summary>
    public static string Format(double bytes, ByteFormat? format = null) => (format ?? ByteFormat.Iec).Format(bytes);

    /// <summary>Formats a number of bytes in a dialect; empty for null.</summary>
    public static string FormatOrEmpty(long? bytes, ByteFormat format) => bytes is { } b ? format.Format(b) : "";

    /// <summary>
    /// Reads "1.5 GiB", "512", "10MB", "8 kB", "4.1K", "3 bytes". IEC units (KiB, MiB ...) are always 1024-based;
    /// k/M/G with or without B follow <paramref name="format"/>'s base: 1000 for docker's, 1024 for PostgreSQL's,
    /// /proc/meminfo's and du's; without a dialect they are SI (1000).
    /// </summary>
    public static bool TryParse(string? text, out ByteSize size, ByteFormat? format = null)
    {
        size = default;
        if (text is null) return false;
        var m = Text.Match(text);
        if (!m.Success) return false;
        if (!double.TryParse(m.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)) return false;
        var u = m.Groups["u"].Value;
        double factor;
        if (u.Length == 0 || u is "B" or "b" || u.Equals("bytes", StringComparison.OrdinalIgnoreCase) || u.Equals("byte", StringComparison.OrdinalIgnoreCase)) factor = 1;
        else
        {
            var power = "KMGTPE".IndexOf(char.ToUpperInvariant(u[0]));
            if (power < 0) return false;
            var rest = u[1..];
            double unitBase;
            if (rest.Equals("iB", StringComparison.OrdinalIgnoreCase) || rest.Equals("i", StringComparison.Ordinal)) unitBase = 1024;
            else if (rest.Length == 0 || rest.Equals("B", StringComparison.OrdinalIgnoreCase)) unitBase = format?.Base ?? 1000;
            else return false;
            factor = Math.Pow(unitBase, power + 1);
        }
        var bytes = Math.Round(n * factor);
        if (double.IsNaN(bytes) || bytes > long.MaxValue || bytes < long.MinValue) return false;
        size = new ByteSize((long)bytes);
        return true;
    }

    /// <summary>Like <see cref="TryParse"/>, throwing a FormatException that shows the forms.</summary>
    public static ByteSize Parse(string text, ByteFormat? format = null) =>
        TryParse(text, out var size, format) ? size
            : throw new FormatException($"'{text}' is not a size. Use a number of bytes with a unit: 512, 64KiB, 1.5 GiB, 10MB.");

    private static ByteFormat FormatNamed(string? name) => (name ?? "").ToLowerInvariant() switch
    {
        "" or "g" or "iec" => ByteFormat.Iec,
        "df" => ByteFormat.IecFixed,
        "pg" => ByteFormat.Postgres,
        "pgshort" => ByteFormat.PostgresShort,
        "docker" => ByteFormat.Docker,
        "dockerbinary" => ByteFormat.DockerBinary,
        "dockerdecimal" => ByteFormat.DockerDecimal,
        "du" => ByteFormat.Du,
        _ => throw new FormatException($"'{name}' is not a size format: iec, df, pg, pgshort, docker, dockerbinary, dockerdecimal or du."),
    };

    public bool Equals(ByteSize other) => Bytes == other.Bytes;
    public override bool Equals(object? obj) => obj is ByteSize other && Equals(other);
    public override int GetHashCode() => Bytes.GetHashCode();
    public int CompareTo(ByteSize other) => Bytes.CompareTo(other.Bytes);
    public static bool operator ==(ByteSize a, ByteSize b) => a.Equals(b);
    public static bool operator !=(ByteSize a, ByteSize b) => !a.Equals(b);
}
