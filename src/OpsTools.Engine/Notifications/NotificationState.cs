using System.Text.Json;
using OpsTools.Engine.Security;

namespace OpsTools.Engine.Notifications;

/// <summary>
/// What was alerted and not yet resolved, per target: a small JSON file, owner-only (0600 in a 0700 folder), written
/// whole to a temporary file and renamed over the old one. The next run resolves what healed.
/// </summary>
public sealed class NotificationState
{
    /// <summary>Per target name: the open problems by dedup key.</summary>
    public Dictionary<string, Dictionary<string, NoticeItem>> Targets { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>~/.local/share/opstools/notifications/&lt;environment&gt;.json (the platform's local application data folder).</summary>
    public static string DefaultPath(string environment)
    {
        var safe = string.Concat(environment.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_'));
        return Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.LocalApplicationData, System.Environment.SpecialFolderOption.Create),
            "opstools", "notifications", (safe.Length == 0 ? "default" : safe) + ".json");
    }

    public static string Expand(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal) || path == "~"
            ? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), path.TrimStart('~').TrimStart('/'))
            : Path.GetFullPath(path);

    /// <summary>Reads the state; a missing file is an empty state; an unreadable one is an error that names the file.</summary>
    public static NotificationState Load(string path)
    {
        if (!File.Exists(path)) return new NotificationState();
        try
        {
            var state = JsonSerializer.Deserialize<NotificationState>(File.ReadAllText(path)) ?? new NotificationState();
            state.Targets = new Dictionary<string, Dictionary<string, NoticeItem>>(state.Targets, StringComparer.OrdinalIgnoreCase);
            return state;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new OpsToolsException("NotificationStateInvalid", OpsErrorKind.InvalidData,
                $"The notification state file '{path}' cannot be read ({e.Message}). Fix or delete it: deleting it forgets which problems were alerted (they are not resolved automatically then).", path, e);
        }
    }

    public Dictionary<string, NoticeItem> For(string target)
    {
        if (!Targets.TryGetValue(target, out var open)) Targets[target] = open = new Dictionary<string, NoticeItem>(StringComparer.Ordinal);
        return open;
    }

    public void Save(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        DataFiles.CreateDirectory(folder);
        var temp = Path.Combine(folder, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            DataFiles.WriteAllText(temp, JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }), NotificationJson.Utf8,
                flushToDisk: false);
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            try { if (File.Exists(temp)) File.Delete(temp); } catch (IOException) { }
        }
    }
}
