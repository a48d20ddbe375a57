using System.Globalization;
using OpsTools.Configuration;
using static OpsTools.Engine.Configuration.EnvironmentReader;

namespace OpsTools.Engine.Configuration;

/// <summary>The Notifications section of an environment file. Secrets are named by variable, never written in the file.</summary>
internal static class NotificationSettingsReader
{
    private static readonly string[] SectionKeys = { "Default", "Level", "StatePath", "Targets" };
    private static readonly string[] TargetKeys = { "Name", "Service", "UrlVariable", "KeyVariable", "Uri", "Channel", "Format", "Template", "Mention", "Source", "TimeoutSec" };
    public static readonly string[] Services = { "Slack", "Teams", "PagerDuty", "Opsgenie", "Webhook" };
    public static readonly string[] Levels = { "Warning", "Critical" };

    public static void Read(IDictionary<string, object?> data, OpsEnvironment env, string source, string? path)
    {
        if (!TryGet(data, "Notifications", out var section) || section is null) return;
        var where = $"{source}: Notifications";
        var table = AsTable(section, where);
        Known(table, SectionKeys, where);
        var s = new NotificationSettings { Default = GetString(table, "Default") };
        if (GetString(table, "Level") is { } level)
            s.Level = Levels.FirstOrDefault(l => l.Equals(level, StringComparison.OrdinalIgnoreCase))
                      ?? throw Bad($"{where}.Level: '{level}' is not one of {string.Join(", ", Levels)}.");
        if (GetString(table, "StatePath") is { } state)
            s.StatePath = path is not null && !System.IO.Path.IsPathRooted(state) && !state.StartsWith('~')
                ? System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, state)) : state;
        if (TryGet(table, "Targets", out var targets) && targets is not null)
            s.Targets = AsList(targets).Select((t, i) => ReadTarget(t, $"{where}.Targets[{i}]")).ToList();
        var dup = s.Targets.GroupBy(t => t.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw Bad($"{where}.Targets: the name '{dup.Key}' is used twice.");
        if (s.Default is not null && !s.Targets.Any(t => t.Name.Equals(s.Default, StringComparison.OrdinalIgnoreCase)))
            throw Bad($"{where}.Default: no target is named '{s.Default}'. Targets: {(s.Targets.Count == 0 ? "none" : string.Join(", ", s.Targets.Select(t => t.Name)))}.");
        env.Notifications = s;
    }

    private static NotificationTarget ReadTarget(object? item, string where)
    {
        var table = AsTable(item, where);
        Known(table, TargetKeys, where);
        var service = GetString(table, "Service") ?? throw Bad($"{where}: a target needs a Service ({string.Join(", ", Services)}).");
        var t = new NotificationTarget
        {
            Name = GetString(table, "Name") ?? throw Bad($"{where}: a target needs a Name, e.g. @{{ Name = 'ops-slack'; Service = 'Slack'; UrlVariable = 'OPS_SLACK_WEBHOOK' }}."),
            Service = Services.FirstOrDefault(x => x.Equals(service, StringComparison.OrdinalIgnoreCase))
                      ?? throw Bad($"{where}.Service: '{service}' is not one of {string.Join(", ", Services)}."),
            UrlVariable = GetString(table, "UrlVariable"),
            KeyVariable = GetString(table, "KeyVariable"),
            Channel = GetString(table, "Channel"),
            Template = GetString(table, "Template"),
            Mention = GetString(table, "Mention"),
            Source = GetString(table, "Source"),
        };
        where = $"{where} ('{t.Name}')";
        if (GetString(table, "Format") is { } format)
            t.Format = new[] { "Envelope", "Card" }.FirstOrDefault(f => f.Equals(format, StringComparison.OrdinalIgnoreCase))
                       ?? throw Bad($"{where}.Format: '{format}' is not Envelope or Card.");
        if (TryGet(table, "TimeoutSec", out var timeout) && timeout is not null)
        {
            var v = ToDouble(timeout, $"{where}.TimeoutSec");
            t.TimeoutSec = v is >= 0.05 and <= 3600 ? v : throw Bad($"{where}.TimeoutSec: {v} is outside 0.05-3600.");
        }
        if (GetString(table, "Uri") is { } uriText)
        {
            if (t.Service is "Teams" || (t.Service is "Slack" && t.KeyVariable is null) || t.Service is "Webhook")
                throw Bad($"{where}.Uri: a webhook URL is a secret (anyone who has it can post): put it in an environment variable and name that with UrlVariable.");
            t.Uri = ParseUri(uriText, $"{where}.Uri");
            if (t.Uri.UserInfo.Length > 0) throw Bad($"{where}.Uri: credentials in the URL are refused: name the variable that holds the key with KeyVariable.");
        }
        switch (t.Service)
        {
            case "Slack" when t.UrlVariable is null && t.KeyVariable is null:
                throw Bad($"{where}: a Slack target needs UrlVariable (an incoming webhook) or KeyVariable (a bot token) with Channel.");
            case "Slack" when t.KeyVariable is not null && t.Channel is null && t.UrlVariable is null:
                throw Bad($"{where}: a Slack bot token (KeyVariable) posts to a Channel: add Channel = '#ops'.");
            case "Teams" or "Webhook" when t.UrlVariable is null:
                throw Bad($"{where}: a {t.Service} target needs UrlVariable, the environment variable that holds its URL.");
            case "PagerDuty" or "Opsgenie" when t.KeyVariable is null:
                throw Bad($"{where}: a {t.Service} target needs KeyVariable, the environment variable that holds its {(t.Service == "PagerDuty" ? "routing key" : "API key")}.");
        }
        return t;
    }

    private static void Known(IDictionary<string, object?> table, string[] keys, string where) =>
        RejectUnknownKeys(table, keys, where,
            " Webhook URLs, routing keys and tokens never go in an environment file: name the variable that holds them with UrlVariable or KeyVariable.",
            "url", "key", "webhook");

    private static OpsToolsException Bad(string message) => new("EnvironmentFileInvalid", OpsErrorKind.InvalidData, message);
}
