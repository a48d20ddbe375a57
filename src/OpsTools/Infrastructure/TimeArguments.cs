using System.Globalization;
using System.Management.Automation;

namespace OpsTools.Commands;

/// <summary>
/// What the admin typed for a time argument. PowerShell reads an unquoted <c>1d</c> as the decimal literal 1
/// (and <c>30s</c> as the short 30, <c>1kb</c> as 1024) in argument mode too, before any transformation runs;
/// but the binder hands a transformation the literal wrapped in a PSObject that keeps the token as typed, and
/// that PSObject's ToString() returns it. So "1d" is read as one day, not as 1 in the default unit. A number
/// that is not a literal (from a variable or an expression) has no token text: it counts in the default unit.
/// </summary>
internal static class TimeArgument
{
    /// <summary>The text form of a value as typed, or null when the value is not text or a typed number literal.</summary>
    public static object? Unwrap(object? inputData, out string? tokenText)
    {
        tokenText = null;
        if (inputData is not PSObject p) return inputData;
        var value = p.BaseObject;
        if (TimeText.IsNumber(value))
        {
            var typed = p.ToString();
            if (!string.Equals(typed, Convert.ToString(value, CultureInfo.InvariantCulture), StringComparison.Ordinal)) tokenText = typed;
        }
        return value;
    }

    /// <summary>The error for a number literal whose suffix is not a time unit (1kb, 0x10, 1n ...).</summary>
    public static ArgumentTransformationMetadataException NotAUnit(string token, string forms) => new(
        $"'{token}' is a PowerShell number literal, not a time: its suffix is not a time unit. Write it with a unit, quoted if needed: {forms}.");
}

/// <summary>A duration as admins write it (see <see cref="TimeText"/>); a bare number counts in <see cref="Unit"/>.</summary>
public sealed class DurationTransformationAttribute : ArgumentTransformationAttribute
{
    /// <summary>The unit of a bare number: "s" (default) or "ms".</summary>
    public string Unit { get; set; } = "s";

    private TimeSpan BareUnit => Unit == "ms" ? TimeSpan.FromMilliseconds(1) : TimeSpan.FromSeconds(1);

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = TimeArgument.Unwrap(inputData, out var token);
        if (value is null) return inputData;
        if (token is not null)
        {
            if (TimeText.TryParseDuration(token, out var typed, BareUnit)) return typed;
            if (!double.TryParse(token, NumberStyles.Float, CultureInfo.CurrentCulture, out _))
                throw TimeArgument.NotAUnit(token, TimeText.DurationForms);
        }
        if (TimeText.TryToDuration(value, out var span, BareUnit)) return span;
        if (value is string or DateTime or DateTimeOffset || TimeText.IsNumber(value))
            throw new ArgumentTransformationMetadataException($"'{value}' is not a duration. Use {TimeText.DurationForms}{(Unit == "ms" ? "; a bare number is milliseconds" : "; a bare number is seconds")}.");
        return inputData;
    }
}

/// <summary>A point in time as admins write it (see <see cref="TimeText"/>): a DateTime, or how long ago. The result is a UTC DateTime.</summary>
public sealed class PointInTimeTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = TimeArgument.Unwrap(inputData, out var token);
        if (value is null) return inputData;
        var now = DateTime.UtcNow;
        if (token is not null)
        {
            if (TimeText.TryParsePointInTime(token, now, out var typed)) return typed;
            if (!double.TryParse(token, NumberStyles.Float, CultureInfo.CurrentCulture, out _))
                throw TimeArgument.NotAUnit(token, TimeText.PointInTimeForms);
        }
        if (TimeText.TryToPointInTime(value, now, out var utc)) return utc;
        if (value is string or TimeSpan || TimeText.IsNumber(value))
            throw new ArgumentTransformationMetadataException($"'{value}' is neither a time nor a duration. Use {TimeText.PointInTimeForms}.");
        return inputData;
    }
}
