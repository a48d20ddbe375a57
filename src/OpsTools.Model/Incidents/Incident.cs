using System.Text.Json.Serialization;

namespace OpsTools.Incidents;

/// <summary>The runbooks' severity levels (Shrimp runbook "Severity Levels"): P0 is the worst.</summary>
public enum IncidentSeverity
{
    /// <summary>Critical, response immediate: API completely down, database unavailable, data corruption, security breach.</summary>
    P0 = 0,
    /// <summary>High, response within 30 minutes: error rates above 10%, significant degradation, authentication failure, critical feature unavailable.</summary>
    P1 = 1,
    /// <summary>Medium, response within 2 hours: minor performance issues, non-critical feature failure, queue backup.</summary>
    P2 = 2,
    /// <summary>Low, response next business day: UI glitches, documentation issues, enhancement requests.</summary>
    P3 = 3,
}

/// <summary>Where an incident stands (the runbooks' updates: Investigating, Identified, Monitoring, Resolved).</summary>
public enum IncidentStatus
{
    Investigating = 0,
    Identified = 1,
    Monitoring = 2,
    Resolved = 3,
}

/// <summary>The meaning and response time of each severity level, as the runbooks define them.</summary>
public static class IncidentSeverityLevels
{
    /// <summary>The level's name: Critical, High, Medium, Low.</summary>
    public static string Name(IncidentSeverity s) => s switch
    {
        IncidentSeverity.P0 => "Critical",
        IncidentSeverity.P1 => "High",
        IncidentSeverity.P2 => "Medium",
        _ => "Low",
    };

    /// <summary>What the level covers (the runbook's examples).</summary>
    public static string Meaning(IncidentSeverity s) => s switch
    {
        IncidentSeverity.P0 => "API completely down, database unavailable, data corruption detected, security breach",
        IncidentSeverity.P1 => "High error rates (>10%), significant performance degradation, authentication system failure, critical feature unavailable",
        IncidentSeverity.P2 => "Minor performance issues, non-critical feature failure, queue backup",
        _ => "UI glitches, documentation issues, enhancement requests",
    };

    /// <summary>How soon someone must respond: Immediate, 30 minutes, 2 hours, Next business day.</summary>
    public static string ResponseTime(IncidentSeverity s) => s switch
    {
        IncidentSeverity.P0 => "Immediate",
        IncidentSeverity.P1 => "30 minutes",
        IncidentSeverity.P2 => "2 hours",
        _ => "Next business day",
    };

    /// <summary>The level a notification carries for this severity: Critical (P0, P1), Warning (P2), Info (P3).</summary>
    public static string NotificationSeverity(IncidentSeverity s) => s switch
    {
        IncidentSeverity.P0 or IncidentSeverity.P1 => "Critical",
        IncidentSeverity.P2 => "Warning",
        _ => "Info",
    };
}

/// <summary>
/// One timestamped line of an incident's timeline: the opening, a note, a status change. Title, Text and Severity are
/// what a notification of the update carries (the runbooks' "INCIDENT DECLARED", "UPDATE: ...", "RESOLVED: ..."), so
/// the object can be handed to a sender as it is.
/// </summary>
public sealed class IncidentTimelineEntry
{
    /// <summary>The incident it belongs to.</summary>
    public string IncidentId { get; set; } = "";
    /// <summary>When it was recorded, UTC.</summary>
    public DateTime Time { get; set; }
    /// <summary>Opened, Note or Status.</summary>
    public string Kind { get; set; } = "";
    /// <summary>The incident's status after this entry.</summary>
    public IncidentStatus Status { get; set; }
    /// <summary>Who wrote it (the commander, or the user who ran the command).</summary>
    public string Author { get; set; } = "";
    /// <summary>What the person wrote (the note, the status message); empty when they wrote nothing.</summary>
    public string Message { get; set; } = "";
    /// <summary>A one-line title for a notification: "[P1] API errors - Identified".</summary>
    public string Title { get; set; } = "";
    /// <summary>The update as the runbooks post it: "INCIDENT DECLARED: ...", "UPDATE: ...", "RESOLVED: ...".</summary>
    public string Text { get; set; } = "";
    /// <summary>The notification level: Critical (P0, P1), Warning (P2), Info (P3); a resolution is Resolved.</summary>
    public string Severity { get; set; } = "";
    /// <summary>The incident's severity when the entry was written.</summary>
    public IncidentSeverity IncidentSeverity { get; set; }
    /// <summary>The notification target named for the incident (the environment's Incidents.NotificationTarget), if any.</summary>
    public string? NotificationTarget { get; set; }

    public override string ToString() => $"{Time:yyyy-MM-dd HH:mm:ss}Z {Kind} {Status}: {Message}";
}

/// <summary>An incident record, as New-Incident opens it and Get-Incident reads it (the folder's incident.json).</summary>
public sealed class Incident
{
    /// <summary>INC-yyyyMMdd-NN: the day it was opened (UTC) and a number for the day.</summary>
    public string Id { get; set; } = "";
    public string Title { get; set; } = "";
    public IncidentSeverity Severity { get; set; }
    /// <summary>Critical, High, Medium or Low.</summary>
    public string SeverityName => IncidentSeverityLevels.Name(Severity);
    /// <summary>What the severity covers, as the runbooks say.</summary>
    public string SeverityMeaning => IncidentSeverityLevels.Meaning(Severity);
    /// <summary>How soon the runbooks want a response at this severity.</summary>
    public string ResponseTime => IncidentSeverityLevels.ResponseTime(Severity);
    /// <summary>The incident commander (the runbooks' "Lead").</summary>
    public string Commander { get; set; } = "";
    /// <summary>The environment it happens in (its name).</summary>
    public string? Environment { get; set; }
    /// <summary>The environment file it was opened with, when one was given.</summary>
    public string? EnvironmentPath { get; set; }
    /// <summary>Who is told about it (a notification target named in the environment file), if any.</summary>
    public string? NotificationTarget { get; set; }
    public IncidentStatus Status { get; set; }
    /// <summary>When it was opened, UTC.</summary>
    public DateTime Opened { get; set; }
    /// <summary>When it was resolved, UTC (null while open).</summary>
    public DateTime? Resolved { get; set; }
    /// <summary>Opened to resolved, or to now while open.</summary>
    public TimeSpan Duration => (Resolved ?? DateTime.UtcNow) - Opened;
    /// <summary>True until it is resolved.</summary>
    public bool IsOpen => Status != IncidentStatus.Resolved;
    /// <summary>Every note and status change, oldest first.</summary>
    public IReadOnlyList<IncidentTimelineEntry> Timeline { get => _timeline; set => _timeline = TextList.From(value); }
    private IReadOnlyList<IncidentTimelineEntry> _timeline = new TextList<IncidentTimelineEntry>();
    /// <summary>Evidence collections saved for it (folder names under evidence/).</summary>
    public IReadOnlyList<string> Evidence { get => _evidence; set => _evidence = TextList.From(value); }
    private IReadOnlyList<string> _evidence = new TextList<string>();
    /// <summary>The incident's folder.</summary>
    [JsonIgnore]
    public string Path { get; set; } = "";
    /// <summary>The folder holding the incident folders; carries the store to the next incident command in a pipeline.</summary>
    [JsonIgnore]
    public string IncidentRoot { get; set; } = "";
    /// <summary>The last timeline entry's message (what was said last).</summary>
    public string LastUpdate => _timeline.Count == 0 ? "" : _timeline[^1].Message;

    public override string ToString() => $"{Id} [{Severity}] {Title} ({Status})";
}
