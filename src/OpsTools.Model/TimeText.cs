using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;

namespace OpsTools;

/// <summary>
/// The one grammar for durations and points in time that every command and environment file accepts.
/// Durations: a number with a unit (500ms, 30s, 10m, 2h, 1d, 1w, 1.5h, "2 hours"), several of them (1h30m,
/// "1 hour 30 minutes", Go's 1m0s), ISO 8601 (PT1H30M, P1D), a TimeSpan text (00:30:00, 1.02:00:00), and a
/// bare number in the caller's unit; "ago" may follow. Points in time: a duration back from now, "now",
/// or a date/time text (ISO 8601, 2024-05-01 08:00; local unless it names an offset or Z). Culture-invariant.
/// </summary>
public static class TimeText
{
    private static readonly Regex Parts = new(
        @"\G\s*(?<n>\d+(?:\.\d+)?|\.\d+)\s*(?<u>ms|msecs?|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?|weeks?)(?![a-z])\s*(?:,|and\b)?",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex BareNumber = new(@"^\s*(\d+(?:\.\d+)?|\.\d+)\s*$", RegexOptions.CultureInvariant);
    private static readonly Regex Ago = new(@"\s+ago\s*$|^\s*-\s*(?=\d)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>What durations look like, for error messages.</summary>
    public const string DurationForms = "a number with a unit (500ms, 30s, 10m, 2h, 1d, 1h30m, '1 hour'), ISO 8601 (PT30M) or a TimeSpan (00:30:00)";

    /// <summary>What points in time look like, for error messages.</summary>
    public const string PointInTimeForms = "a DateTime (2024-05-01T08:00:00Z, '2024-05-01 08:00'), or how long ago: 30m, 2h, 1d, '1 hour ago', PT1H or a TimeSpan (01:00:00)";

    /// <summary>Parses a duration. A bare number counts in <paramref name="bareUnit"/> (seconds unless the parameter says otherwise).</summary>
    public static bool TryParseDuration(string? text, out TimeSpan span, TimeSpan? bareUnit = null)
    {
        span = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var s = Ago.Replace(text, "").Trim();
        if (s.Length == 0) return false;

        var bare = BareNumber.Match(s);
        if (bare.Success)
        {
            var n = double.Parse(bare.Groups[1].Value, CultureInfo.InvariantCulture);
            return TryScale(n, bareUnit ?? TimeSpan.FromSeconds(1), out span);
        }
        if (s[0] is 'P' or 'p')
        {
            try { span = XmlConvert.ToTimeSpan(s.ToUpperInvariant()); return true; }
            catch (FormatException) { return false; }
            catch (OverflowException) { return false; }
        }
        if (s.Contains(':'))
            return TimeSpan.TryParse(s, CultureInfo.InvariantCulture, out span) && span >= TimeSpan.Zero;

        var total = 0.0;
        var at = 0;
        foreach (Match m in Parts.Matches(s))
        {
            if (m.Index != at) return false;
            at = m.Index + m.Length;
            var n = double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
            total += n * UnitSeconds(m.Groups["u"].Value);
        }
        if (at == 0 || at != s.Length) return false;
        return TryScale(total, TimeSpan.FromSeconds(1), out span);
    }

    /// <summary>Parses a point in time into UTC: a duration back from <paramref name="nowUtc"/>, "now", or a date text.</summary>
    public static bool TryParsePointInTime(string? text, DateTime nowUtc, out DateTime utc, TimeSpan? bareUnit = null)
    {
        utc = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        if (text.Trim().Equals("now", StringComparison.OrdinalIgnoreCase)) { utc = nowUtc; return true; }
        if (TryParseDuration(text, out var back, bareUnit)) return TryBack(nowUtc, back, out utc);
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal | DateTimeStyles.AllowWhiteSpaces, out var o))
        {
            utc = o.UtcDateTime;
            return true;
        }
        return false;
    }

    /// <summary>A DateTime, DateTimeOffset, TimeSpan (that long ago) or text as a UTC point in time.</summary>
    public static bool TryToPointInTime(object? value, DateTime nowUtc, out DateTime utc, TimeSpan? bareUnit = null)
    {
        utc = default;
        switch (value)
        {
            case DateTime t:
                utc = t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Local).ToUniversalTime() : t.ToUniversalTime();
                return true;
            case DateTimeOffset o: utc = o.UtcDateTime; return true;
            case TimeSpan span: return TryBack(nowUtc, span, out utc);
            case string s: return TryParsePointInTime(s, nowUtc, out utc, bareUnit);
            default:
                if (!IsNumber(value)) return false;
                return TryScale(Convert.ToDouble(value, CultureInfo.InvariantCulture), bareUnit ?? TimeSpan.FromSeconds(1), out var b) && TryBack(nowUtc, b, out utc);
        }
    }

    /// <summary>A TimeSpan, a number (in <paramref name="bareUnit"/>) or text as a duration.</summary>
    public static bool TryToDuration(object? value, out TimeSpan span, TimeSpan? bareUnit = null)
    {
        span = default;
        switch (value)
        {
            case TimeSpan t: span = t; return true;
            case string s: return TryParseDuration(s, out span, bareUnit);
            default:
                return IsNumber(value) && TryScale(Convert.ToDouble(value, CultureInfo.InvariantCulture), bareUnit ?? TimeSpan.FromSeconds(1), out span);
        }
    }

    /// <summary>True for the .NET number types.</summary>
    public static bool IsNumber(object? value) =>
        value is byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal or System.Numerics.BigInteger;

    private static double UnitSeconds(string unit)
    {
        var u = unit.ToLowerInvariant();
        if (u.StartsWith("ms", StringComparison.Ordinal) || u.StartsWith("milli", StringComparison.Ordinal)) return 0.001;
        return u[0] switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => 7 * 86400, // w
        };
    }

    private static bool TryScale(double n, TimeSpan unit, out TimeSpan span)
    {
        span = default;
        var ticks = n * unit.Ticks;
        if (double.IsNaN(ticks) || ticks < 0 || ticks >= TimeSpan.MaxValue.Ticks) return false;
        span = TimeSpan.FromTicks((long)Math.Round(ticks));
        return true;
    }

    private static bool TryBack(DateTime nowUtc, TimeSpan back, out DateTime utc)
    {
        utc = default;
        if (back < TimeSpan.Zero || back > nowUtc - DateTime.MinValue) return false;
        utc = nowUtc - back;
        return true;
    }
}
