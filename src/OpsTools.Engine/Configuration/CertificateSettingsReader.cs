using System.Globalization;
using OpsTools.Configuration;
using static OpsTools.Engine.Configuration.EnvironmentReader;

namespace OpsTools.Engine.Configuration;

/// <summary>Reads an environment file's <c>Certificates</c> section.</summary>
internal static class CertificateSettingsReader
{
    private static readonly string[] Keys = { "Endpoints", "Paths", "CaFile", "Kubernetes", "Labels" };
    private static readonly string[] EndpointKeys = { "Endpoint", "ServerName", "StartTls", "Label" };
    private static readonly string[] PathKeys = { "Path", "Recurse", "PasswordVariable", "Label" };
    private static readonly string[] StartTlsValues = { "None", "Postgres", "Smtp" };

    public static CertificateSettings Read(IDictionary<string, object?> table, string where, string? path)
    {
        RejectUnknownKeys(table, Keys, where, " PFX passwords never go in an environment file: name the variable that holds one with PasswordVariable.");
        var baseDir = path is null ? null : System.IO.Path.GetDirectoryName(path);
        var settings = new CertificateSettings { CaFile = Resolve(GetString(table, "CaFile"), baseDir) };
        if (TryGet(table, "Endpoints", out var endpoints) && endpoints is not null)
            settings.Endpoints = AsList(endpoints).Select((e, i) => ReadEndpoint(e, $"{where}.Endpoints[{i}]")).ToList();
        if (TryGet(table, "Paths", out var paths) && paths is not null)
            settings.Paths = AsList(paths).Select((e, i) => ReadPath(e, $"{where}.Paths[{i}]", baseDir)).ToList();
        if (TryGet(table, "Kubernetes", out var kube) && kube is not null)
            settings.Kubernetes = kube is bool b ? b : throw Invalid($"{where}.Kubernetes: expected $true or $false.");
        if (TryGet(table, "Labels", out var labels) && labels is not null)
        {
            var result = new Dictionary<string, CertificateLabelThresholds>(StringComparer.OrdinalIgnoreCase);
            foreach (var (label, value) in AsTable(labels, $"{where}.Labels"))
            {
                var at = $"{where}.Labels.{label}";
                var t = AsTable(value, at);
                RejectUnknownKeys(t, new[] { "WarningDays", "CriticalDays" }, at, "");
                var thresholds = new CertificateLabelThresholds
                {
                    WarningDays = TryGet(t, "WarningDays", out var w) && w is not null ? Days(w, at + ".WarningDays") : null,
                    CriticalDays = TryGet(t, "CriticalDays", out var c) && c is not null ? Days(c, at + ".CriticalDays") : null,
                };
                if (thresholds.WarningDays < thresholds.CriticalDays)
                    throw Invalid($"{at}: WarningDays ({thresholds.WarningDays}) must not be below CriticalDays ({thresholds.CriticalDays}).");
                result[label] = thresholds;
            }
            settings.Labels = result;
        }
        return settings;
    }

    private static CertificateEndpoint ReadEndpoint(object? item, string where)
    {
        if (item is string s) return new CertificateEndpoint { Endpoint = s };
        var t = AsTable(item, where);
        RejectUnknownKeys(t, EndpointKeys, where, "");
        var e = new CertificateEndpoint
        {
            Endpoint = GetString(t, "Endpoint") ?? throw Invalid($"{where}: an endpoint needs Endpoint = 'host:port' (or a URL)."),
            ServerName = GetString(t, "ServerName"),
            StartTls = GetString(t, "StartTls"),
            Label = GetString(t, "Label"),
        };
        if (e.StartTls is not null)
            e.StartTls = StartTlsValues.FirstOrDefault(v => v.Equals(e.StartTls, StringComparison.OrdinalIgnoreCase))
                ?? throw Invalid($"{where}.StartTls: '{e.StartTls}' is not one of {string.Join(", ", StartTlsValues)}.");
        return e;
    }

    private static CertificatePath ReadPath(object? item, string where, string? baseDir)
    {
        if (item is string s) return new CertificatePath { Path = Resolve(s, baseDir)! };
        var t = AsTable(item, where);
        RejectUnknownKeys(t, PathKeys, where, " PFX passwords never go in an environment file: name the variable that holds one with PasswordVariable.");
        var p = new CertificatePath
        {
            Path = Resolve(GetString(t, "Path") ?? throw Invalid($"{where}: an entry needs Path = '/etc/ssl/...'."), baseDir)!,
            PasswordVariable = GetString(t, "PasswordVariable"),
            Label = GetString(t, "Label"),
        };
        if (TryGet(t, "Recurse", out var r) && r is not null)
            p.Recurse = r is bool b ? b : throw Invalid($"{where}.Recurse: expected $true or $false.");
        return p;
    }

    private static string? Resolve(string? p, string? baseDir) =>
        p is null || baseDir is null || System.IO.Path.IsPathRooted(p) || p.StartsWith('~') ? p : System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, p));

    private static double Days(object v, string where)
    {
        try
        {
            var d = Convert.ToDouble(v, CultureInfo.InvariantCulture);
            if (d < 0 || double.IsNaN(d)) throw new FormatException();
            return d;
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        { throw Invalid($"{where}: expected a number of days (zero or more), not '{v}'."); }
    }

    private static OpsToolsException Invalid(string message) => new("EnvironmentFileInvalid", OpsErrorKind.InvalidData, message);
}
