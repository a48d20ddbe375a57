using System.Globalization;
using OpsTools.Configuration;
using static OpsTools.Engine.Configuration.EnvironmentReader;

namespace OpsTools.Engine.Incidents;

/// <summary>Reads an environment file's <c>Incidents</c> section.</summary>
internal static class IncidentSettingsReader
{
    private static readonly string[] Keys = { "Path", "NotificationTarget", "Commander", "EvidenceTimeoutSec", "LogTail" };

    public static IncidentSettings Read(IDictionary<string, object?> table, string where, string? path)
    {
        RejectUnknownKeys(table, Keys, where, "");
        var folder = GetString(table, "Path");
        if (folder is { Length: > 0 } && path is not null && !System.IO.Path.IsPathRooted(folder) && !folder.StartsWith('~'))
            folder = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, folder));
        var s = new IncidentSettings
        {
            Path = folder is { Length: > 0 } ? folder : null,
            NotificationTarget = GetString(table, "NotificationTarget"),
            Commander = GetString(table, "Commander"),
        };
        if (TryGet(table, "EvidenceTimeoutSec", out var t) && t is not null)
        {
            var v = Number(t, $"{where}.EvidenceTimeoutSec");
            if (v is < 1 or > 3600) throw Invalid($"{where}.EvidenceTimeoutSec: {v} is outside 1..3600 seconds.");
            s.EvidenceTimeoutSec = v;
        }
        if (TryGet(table, "LogTail", out var n) && n is not null)
        {
            var v = Number(n, $"{where}.LogTail");
            if (v is < 0 or > 100000 || v != Math.Floor(v)) throw Invalid($"{where}.LogTail: {v} is not a whole number of lines in 0..100000.");
            s.LogTail = (int)v;
        }
        return s;
    }

    private static double Number(object value, string where) => value switch
    {
        int i => i, long l => l, double d => d, decimal m => (double)m,
        string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var p) => p,
        _ => throw Invalid($"{where}: expected a number, got '{value}'."),
    };

    private static OpsToolsException Invalid(string message) =>
        new("EnvironmentFileInvalid", OpsErrorKind.InvalidData, message);
}
