using System.Globalization;
using System.Management.Automation;
using OpsTools.Commands.Database;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// A point in time as admins write it: a DateTime (or a date string), or a duration back from now
/// (a TimeSpan, "00:30:00", "30m", "2h", "1d"). The result is a UTC DateTime.
/// </summary>
public sealed class PointInTimeTransformationAttribute : ArgumentTransformationAttribute
{
    private static readonly DurationTransformationAttribute Duration = new();

    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject p ? p.BaseObject : inputData;
        switch (value)
        {
            case DateTime t: return t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Local).ToUniversalTime() : t.ToUniversalTime();
            case DateTimeOffset o: return o.UtcDateTime;
            case TimeSpan span: return DateTime.UtcNow - span;
            case string s:
                try
                {
                    if (Duration.Transform(engineIntrinsics, s) is TimeSpan back) return DateTime.UtcNow - back;
                }
                catch (ArgumentTransformationMetadataException) { /* not a duration: a date? */ }
                if (DateTime.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeLocal, out var parsed))
                    return parsed;
                throw new ArgumentTransformationMetadataException(
                    $"'{s}' is neither a time nor a duration. Use a DateTime ('2024-05-01 08:00'), or how long ago: a TimeSpan (01:00:00) or 30m, 2h, 1d.");
            default:
                return inputData;
        }
    }
}
