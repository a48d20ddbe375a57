using System.Globalization;
using System.Text.RegularExpressions;
using OpsTools.Configuration;
using static OpsTools.Engine.Configuration.EnvironmentReader;

namespace OpsTools.Engine.Configuration;

/// <summary>The Fleet section of an environment file: the hosts Invoke-FleetCheck -Environment runs on.</summary>
internal static class FleetSettingsReader
{
    private static readonly string[] Keys = { "Hosts", "UserName", "KeyFilePath", "Port", "ThrottleLimit", "TimeoutSec" };
    private static readonly Regex HostPattern = new(@"^(?:[^@\s]+@)?(?:\[[0-9A-Fa-f:.]+\]|[^:\s@\[\]]+)(?::\d{1,5})?$", RegexOptions.CultureInvariant);

    public static FleetSettings Read(IDictionary<string, object?> table, string where, string? path)
    {
        RejectUnknownKeys(table, Keys, where, " Fleet runs use SSH key authentication only: name the key with KeyFilePath (a passphrase belongs to ssh-agent).");
        var f = new FleetSettings();
        if (TryGet(table, "Hosts", out var hosts) && hosts is not null)
        {
            var list = new List<string>();
            foreach (var (h, i) in AsList(hosts).Select((h, i) => (h, i)))
            {
                var text = Convert.ToString(h, CultureInfo.InvariantCulture)?.Trim() ?? "";
                if (!HostPattern.IsMatch(text))
                    throw Bad($"{where}.Hosts[{i}]: '{text}' is not a host: write host, user@host, host:port or user@host:port.");
                list.Add(text);
            }
            f.Hosts = list;
        }
        f.UserName = GetString(table, "UserName");
        f.KeyFilePath = GetString(table, "KeyFilePath");
        if (f.KeyFilePath is not null && path is not null && !Path.IsPathRooted(f.KeyFilePath) && !f.KeyFilePath.StartsWith('~'))
            f.KeyFilePath = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, f.KeyFilePath));
        f.Port = DataStoreSettingsReader.Int(table, "Port", where, 1, 65535);
        f.ThrottleLimit = DataStoreSettingsReader.Int(table, "ThrottleLimit", where, 1, 1024);
        if (TryGet(table, "TimeoutSec", out var timeout) && timeout is not null)
        {
            var t = ToDouble(timeout, $"{where}.TimeoutSec");
            f.TimeoutSec = t is >= 1 and <= 86400 ? t : throw Bad($"{where}.TimeoutSec: {t.ToString(CultureInfo.InvariantCulture)} is not between 1 and 86400 seconds.");
        }
        return f;
    }

    private static OpsToolsException Bad(string message) => new("EnvironmentFileInvalid", OpsErrorKind.InvalidData, message);
}
