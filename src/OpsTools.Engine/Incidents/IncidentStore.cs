using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using OpsTools.Configuration;
using OpsTools.Engine.Security;
using OpsTools.Incidents;

namespace OpsTools.Engine.Incidents;

/// <summary>
/// The incident folders: one folder per incident (named by its id) under a root, each with incident.json (the record
/// and its timeline), evidence/ (collections) and bundles/. Everything is created owner-only through
/// <see cref="DataFiles"/>. Every change is read-modify-write under an exclusive lock on the incident's .lock file
/// (flock on Unix, a share lock on Windows), so two writers at once (two shells adding notes) both keep their entry;
/// incident.json is replaced by temp-file-and-rename, so a reader never sees half a file.
/// </summary>
public sealed class IncidentStore
{
    public const string RecordFile = "incident.json";
    public const string EvidenceFolder = "evidence";
    public const string BundleFolder = "bundles";
    private const string LockFile = ".lock";
    private static readonly Regex IdPattern = new(@"^INC-(\d{8})-(\d{2,})$", RegexOptions.CultureInvariant);

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public IncidentStore(string root) => Root = System.IO.Path.GetFullPath(root);

    /// <summary>The folder holding one folder per incident.</summary>
    public string Root { get; }

    /// <summary>How long a writer waits for another one's lock before giving up (IncidentLocked).</summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The incident root: the parameter, else the environment's Incidents.Path, else $OPSTOOLS_INCIDENT_PATH, else the user's
    /// data folder (Linux: $XDG_DATA_HOME or ~/.local/share; macOS: ~/Library/Application Support...; Windows: %LOCALAPPDATA%) + OpsTools/incidents.
    /// </summary>
    public static string ResolveRoot(string? path, OpsEnvironment? environment)
    {
        if (path is { Length: > 0 }) return Expand(path);
        if (environment?.Incidents?.Path is { Length: > 0 } p) return Expand(p);
        if (System.Environment.GetEnvironmentVariable("OPSTOOLS_INCIDENT_PATH") is { Length: > 0 } v) return Expand(v);
        var data = System.Environment.GetFolderPath(System.Environment.SpecialFolder.LocalApplicationData, System.Environment.SpecialFolderOption.DoNotVerify);
        if (string.IsNullOrEmpty(data))
            data = System.IO.Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".local", "share");
        return System.IO.Path.Combine(data, "OpsTools", "incidents");
    }

    private static string Expand(string p) =>
        System.IO.Path.GetFullPath(p.StartsWith("~/", StringComparison.Ordinal)
            ? System.IO.Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), p[2..]) : p);

    public string FolderOf(string id) => System.IO.Path.Combine(Root, CheckId(id));

    private static string CheckId(string id)
    {
        if (!IdPattern.IsMatch(id ?? ""))
            throw new OpsToolsException("IncidentIdInvalid", OpsErrorKind.InvalidArgument,
                $"'{id}' is not an incident id (INC-yyyyMMdd-NN, as New-Incident and Get-Incident show them).", id);
        return id!;
    }

    /// <summary>Opens a new incident: a new folder with its record and the first timeline entry (Opened, Investigating).</summary>
    public Incident Create(string title, IncidentSeverity severity, string commander, OpsEnvironment? environment, string? notificationTarget, string? summary, DateTime now)
    {
        DataFiles.CreateDirectory(Root);
        using var rootLock = Lock(System.IO.Path.Combine(Root, LockFile));
        var day = now.ToString("yyyyMMdd", CultureInfo.InvariantCulture);
        var next = Directory.EnumerateDirectories(Root).Select(System.IO.Path.GetFileName)
            .Select(n => IdPattern.Match(n ?? "")).Where(m => m.Success && m.Groups[1].Value == day)
            .Select(m => int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max() + 1;
        var id = $"INC-{day}-{next:00}";
        var folder = System.IO.Path.Combine(Root, id);
        DataFiles.CreateDirectory(folder);
        var incident = new Incident
        {
            Id = id, Title = title, Severity = severity, Commander = commander,
            Environment = environment?.Name, EnvironmentPath = environment?.Path,
            NotificationTarget = notificationTarget ?? environment?.Incidents?.NotificationTarget,
            Status = IncidentStatus.Investigating, Opened = now, Path = folder, IncidentRoot = Root,
        };
        var entry = new IncidentTimelineEntry
        {
            Time = now, Kind = "Opened", Status = IncidentStatus.Investigating, Author = commander, Message = summary ?? "",
        };
        incident.Timeline = new[] { Describe(incident, entry) };
        Write(incident);
        return incident;
    }

    /// <summary>Reads one incident; a missing folder is IncidentNotFound, a damaged record IncidentRecordInvalid.</summary>
    public Incident Read(string id)
    {
        var folder = FolderOf(id);
        var file = System.IO.Path.Combine(folder, RecordFile);
        if (!File.Exists(file))
            throw new OpsToolsException("IncidentNotFound", OpsErrorKind.NotFound,
                $"There is no incident '{id}' in '{Root}'{(Directory.Exists(Root) ? "" : " (the folder does not exist)")}. Get-Incident lists them; -Path or the environment's Incidents.Path picks another folder.", id);
        return ReadFile(file, folder);
    }

    private static Incident ReadFile(string file, string folder)
    {
        try
        {
            var incident = JsonSerializer.Deserialize<Incident>(File.ReadAllBytes(file), Json) ?? throw new JsonException("empty document");
            if (string.IsNullOrEmpty(incident.Id)) throw new JsonException("the id is missing");
            incident.Path = folder;
            incident.IncidentRoot = System.IO.Path.GetDirectoryName(folder)!;
            return incident;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new OpsToolsException("IncidentRecordInvalid", OpsErrorKind.InvalidData,
                $"The incident record '{file}' cannot be read: {e.Message}", file, e);
        }
    }

    /// <summary>Every incident of the root, newest first; damaged records are reported through <paramref name="onError"/> and skipped.</summary>
    public List<Incident> List(Action<OpsToolsException>? onError = null)
    {
        var list = new List<Incident>();
        if (!Directory.Exists(Root)) return list;
        foreach (var folder in Directory.EnumerateDirectories(Root))
        {
            var name = System.IO.Path.GetFileName(folder);
            if (!IdPattern.IsMatch(name)) continue;
            var file = System.IO.Path.Combine(folder, RecordFile);
            if (!File.Exists(file)) continue;
            try { list.Add(ReadFile(file, folder)); }
            catch (OpsToolsException e) { onError?.Invoke(e); }
        }
        return list.OrderByDescending(i => i.Opened).ThenByDescending(i => i.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Adds one timeline entry under the incident's lock: a note (<paramref name="status"/> null) or a status change.
    /// Returns the entry as recorded (with its notification Title/Text/Severity) and the incident after it.
    /// </summary>
    public (IncidentTimelineEntry Entry, Incident Incident) Append(string id, string message, IncidentStatus? status, string author, DateTime now)
    {
        var folder = FolderOf(id);
        if (!File.Exists(System.IO.Path.Combine(folder, RecordFile))) Read(id); // the not-found error
        using var l = Lock(System.IO.Path.Combine(folder, LockFile));
        var incident = Read(id);
        var entry = new IncidentTimelineEntry
        {
            Time = now, Kind = status is null ? "Note" : "Status", Status = status ?? incident.Status,
            Author = author, Message = message,
        };
        if (status is { } s)
        {
            incident.Status = s;
            incident.Resolved = s == IncidentStatus.Resolved ? now : null;
        }
        incident.Timeline = incident.Timeline.Append(Describe(incident, entry)).ToList();
        Write(incident);
        return (entry, incident);
    }

    /// <summary>Records an evidence collection's folder name on the incident (under its lock).</summary>
    public void AddEvidence(string id, string collectionName)
    {
        var folder = FolderOf(id);
        using var l = Lock(System.IO.Path.Combine(folder, LockFile));
        var incident = Read(id);
        incident.Evidence = incident.Evidence.Append(collectionName).ToList();
        Write(incident);
    }

    /// <summary>Fills the notification fields of an entry: Title, Text (as the runbooks post updates), Severity.</summary>
    public static IncidentTimelineEntry Describe(Incident incident, IncidentTimelineEntry entry)
    {
        entry.IncidentId = incident.Id;
        entry.IncidentSeverity = incident.Severity;
        entry.NotificationTarget = incident.NotificationTarget;
        entry.Title = $"[{incident.Severity}] {incident.Title} - {entry.Status}";
        entry.Severity = entry.Status == IncidentStatus.Resolved ? "Resolved" : IncidentSeverityLevels.NotificationSeverity(incident.Severity);
        var when = entry.Time.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
        var text = new StringBuilder();
        switch (entry.Kind)
        {
            case "Opened":
                text.Append("INCIDENT DECLARED: ").Append(incident.Title).Append('\n')
                    .Append("Severity: ").Append(incident.Severity).Append(" - ").Append(incident.SeverityName)
                    .Append(" (response: ").Append(incident.ResponseTime).Append(")\n");
                if (incident.Environment is { Length: > 0 } env) text.Append("Environment: ").Append(env).Append('\n');
                text.Append("Started: ").Append(when).Append('\n')
                    .Append("Lead: ").Append(incident.Commander).Append('\n')
                    .Append("Status: ").Append(entry.Status);
                if (entry.Message.Length > 0) text.Append('\n').Append("Impact: ").Append(entry.Message);
                break;
            case "Status" when entry.Status == IncidentStatus.Resolved:
                text.Append("RESOLVED: ").Append(entry.Message.Length > 0 ? entry.Message : incident.Title).Append('\n')
                    .Append("Severity: ").Append(incident.Severity).Append('\n')
                    .Append("Duration: ").Append(FormatDuration(entry.Time - incident.Opened)).Append('\n')
                    .Append("Post-mortem to follow.");
                break;
            case "Status":
                text.Append("UPDATE (").Append(entry.Status).Append("): ").Append(entry.Message.Length > 0 ? entry.Message : $"status is now {entry.Status}.");
                break;
            default:
                text.Append("UPDATE: ").Append(entry.Message);
                break;
        }
        entry.Text = text.ToString();
        return entry;
    }

    /// <summary>"45 minutes", "2 hours 5 minutes", "3 days 4 hours".</summary>
    public static string FormatDuration(TimeSpan d)
    {
        if (d < TimeSpan.Zero) d = TimeSpan.Zero;
        static string U(int n, string unit) => $"{n} {unit}{(n == 1 ? "" : "s")}";
        if (d.TotalMinutes < 1) return U((int)d.TotalSeconds, "second");
        if (d.TotalHours < 1) return U((int)d.TotalMinutes, "minute");
        if (d.TotalDays < 1) return U((int)d.TotalHours, "hour") + (d.Minutes > 0 ? " " + U(d.Minutes, "minute") : "");
        return U((int)d.TotalDays, "day") + (d.Hours > 0 ? " " + U(d.Hours, "hour") : "");
    }

    private static void Write(Incident incident)
    {
        var file = System.IO.Path.Combine(incident.Path, RecordFile);
        var temp = System.IO.Path.Combine(incident.Path, "." + RecordFile + "." + Guid.NewGuid().ToString("N")[..8] + ".partial");
        try
        {
            using (var fs = DataFiles.Create(temp, FileMode.CreateNew, fileMode: DataFiles.ExistingMode(file)))
            {
                JsonSerializer.Serialize(fs, incident, Json);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, file, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>Takes an exclusive lock on a lock file, waiting for another writer up to <see cref="LockTimeout"/>.</summary>
    private IDisposable Lock(string lockPath)
    {
        var deadline = DateTime.UtcNow + LockTimeout;
        var delay = 5;
        while (true)
        {
            try
            {
                return DataFiles.Create(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, fileMode: DataFiles.ExistingMode(lockPath));
            }
            catch (IOException) when (DateTime.UtcNow < deadline && File.Exists(lockPath))
            {
                Thread.Sleep(Random.Shared.Next(delay, delay * 2));
                delay = Math.Min(delay * 2, 100);
            }
            catch (IOException e) when (File.Exists(lockPath))
            {
                throw new OpsToolsException("IncidentLocked", OpsErrorKind.OperationFailed,
                    $"Another command has held '{lockPath}' for more than {LockTimeout.TotalSeconds:0} s; try again.", lockPath, e);
            }
        }
    }
}
