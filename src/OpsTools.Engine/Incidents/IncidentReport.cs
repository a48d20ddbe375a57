using System.Globalization;
using System.Net;
using System.Text;
using OpsTools.Incidents;

namespace OpsTools.Engine.Incidents;

/// <summary>One line of the report's timeline, from whichever record it came.</summary>
public sealed record ReportTimelineLine(DateTime Time, string Source, string Text);

/// <summary>
/// The runbook's Major Incident Report (Date, Incident ID, Severity, Duration, Impact; Summary, Timeline, Root Cause,
/// Resolution, Prevention, Action Items) for one incident, in Markdown or HTML. Only recorded facts are filled in: the
/// incident record, its notes and status changes, and the moments found in its evidence (alerts firing, rollouts,
/// warning events, containers stopping, the collections themselves). What only a person can write is left as a clearly
/// marked prompt (<see cref="PromptMarker"/>), never made up; what the timeline recorded for it (the Identified and
/// Resolved messages) is quoted beside the prompt, labelled as recorded.
/// </summary>
public static class IncidentReport
{
    /// <summary>Starts every prompt: search a report for it to find what is still to write.</summary>
    public const string PromptMarker = "TO BE WRITTEN";

    public static IReadOnlyList<ReportTimelineLine> Timeline(Incident incident, IReadOnlyList<IncidentEvidence> evidence)
    {
        var lines = new List<ReportTimelineLine>();
        foreach (var e in incident.Timeline)
        {
            var text = e.Kind switch
            {
                "Opened" => $"Incident opened ({incident.Severity}, {incident.SeverityName}) by {e.Author}; status Investigating" + (e.Message.Length > 0 ? $": {e.Message}" : ""),
                "Status" => $"Status {e.Status}" + (e.Message.Length > 0 ? $": {e.Message}" : "") + $" ({e.Author})",
                _ => $"Note: {e.Message} ({e.Author})",
            };
            lines.Add(new ReportTimelineLine(e.Time, e.Kind == "Note" ? "Note" : "Status", text));
        }
        // Moments from the evidence, once each (the same alert or rollout seen by several collections is one line).
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var m in evidence.SelectMany(x => x.Moments))
            if (seen.Add($"{m.Time:O}|{m.Kind}|{m.Text}"))
                lines.Add(new ReportTimelineLine(m.Time, m.Kind, m.Text));
        return lines.OrderBy(l => l.Time).ThenBy(l => l.Source == "Status" ? 0 : 1).ToList();
    }

    public static string Markdown(Incident incident, IReadOnlyList<IncidentEvidence> evidence, DateTime now)
    {
        var sb = new StringBuilder();
        var duration = (incident.Resolved ?? now) - incident.Opened;
        sb.Append("# Major Incident Report\n\n");
        sb.Append("**Date**: ").Append(incident.Opened.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append("  \n");
        sb.Append("**Incident ID**: ").Append(incident.Id).Append("  \n");
        sb.Append("**Severity**: ").Append(incident.Severity).Append(" - ").Append(incident.SeverityName).Append(" (response: ").Append(incident.ResponseTime).Append(")  \n");
        sb.Append("**Duration**: ").Append(IncidentStore.FormatDuration(duration)).Append(incident.Resolved is null ? " (still open)" : "").Append("  \n");
        sb.Append("**Impact**: ").Append(Prompt("how many users were affected, and how?")).Append("  \n");
        sb.Append("**Commander**: ").Append(Md(incident.Commander)).Append("  \n");
        if (incident.Environment is { Length: > 0 } env) sb.Append("**Environment**: ").Append(Md(env)).Append("  \n");
        sb.Append("**Status**: ").Append(incident.Status).Append("  \n\n");

        sb.Append("## Summary\n\n");
        sb.Append(Md(incident.Title)).Append(". Opened ").Append(Utc(incident.Opened));
        sb.Append(incident.Resolved is { } r ? $", resolved {Utc(r)} after {IncidentStore.FormatDuration(duration)}." : ", not resolved yet.").Append(' ');
        sb.Append($"Severity {incident.Severity} covers: {incident.SeverityMeaning}.\n\n");
        if (incident.Timeline.FirstOrDefault(t => t.Kind == "Opened") is { Message.Length: > 0 } opened)
            sb.Append("Recorded when it was opened: ").Append(Md(opened.Message)).Append("\n\n");
        sb.Append(Prompt("a brief description of what happened, for readers who were not there.")).Append("\n\n");

        sb.Append("## Timeline\n\nAll times UTC. From the incident's notes and status changes")
          .Append(evidence.Count > 0 ? $", and {evidence.Count} evidence collection(s) (alerts, deployments, events)" : "").Append(".\n\n");
        foreach (var l in Timeline(incident, evidence))
            sb.Append("- ").Append(l.Time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append(" - **").Append(l.Source).Append("** ").Append(Md(l.Text)).Append('\n');
        sb.Append('\n');

        Section(sb, "Root Cause", incident, IncidentStatus.Identified, "the technical root cause analysis: what failed, and why.", Md);
        Section(sb, "Resolution", incident, IncidentStatus.Resolved, "what was done to fix it.", Md);
        sb.Append("## Prevention\n\n").Append(Prompt("what will be done to prevent a recurrence.")).Append("\n\n");
        sb.Append("## Action Items\n\n").Append(Prompt("one line per action, with an owner and a date:")).Append('\n')
          .Append("- [ ] ").Append(Prompt("action item")).Append('\n').Append("- [ ] ").Append(Prompt("action item")).Append("\n\n");

        if (evidence.Count > 0)
        {
            sb.Append("## Evidence\n\n| Collected (UTC) | Collectors | Failed | SHA-256 | Folder |\n|---|---|---|---|---|\n");
            foreach (var e in evidence)
                sb.Append("| ").Append(Utc(e.Started)).Append(" | ").Append(e.Collected).Append(" of ").Append(e.Collectors.Count(c => c.Outcome != EvidenceOutcome.Skipped))
                  .Append(" | ").Append(Md(e.Failures.Length == 0 ? "none" : e.Failures).Replace("|", "\\|")).Append(" | `").Append(e.Sha256[..Math.Min(16, e.Sha256.Length)])
                  .Append("...` | ").Append(Md(System.IO.Path.GetFileName(e.Path))).Append(" |\n");
            sb.Append('\n');
        }
        sb.Append("---\nGenerated by Export-IncidentReport ").Append(Utc(now)).Append(". Sections marked ").Append(PromptMarker).Append(" are for the people who handled the incident to write.\n");
        return sb.ToString();
    }

    private static void Section(StringBuilder sb, string title, Incident incident, IncidentStatus status, string prompt, Func<string, string> enc)
    {
        sb.Append("## ").Append(title).Append("\n\n");
        var recorded = incident.Timeline.Where(t => t.Kind == "Status" && t.Status == status && t.Message.Length > 0).ToList();
        foreach (var t in recorded)
            sb.Append("Recorded ").Append(Utc(t.Time)).Append(" (").Append(status).Append(", ").Append(enc(t.Author)).Append("): ").Append(enc(t.Message)).Append("\n\n");
        sb.Append(Prompt(prompt)).Append("\n\n");
    }

    private static string Prompt(string what) => $"_[{PromptMarker}: {what}]_";

    private static string Utc(DateTime t) => t.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

    /// <summary>Text as Markdown shows it literally: characters Markdown would read as markup are escaped.</summary>
    private static string Md(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.Replace("\r", "").Replace("\n", " "))
        {
            if (c is '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '#' or '|') sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>The same report as a self-contained HTML page; every recorded text is HTML-encoded.</summary>
    public static string Html(Incident incident, IReadOnlyList<IncidentEvidence> evidence, DateTime now)
    {
        static string E(string? s) => WebUtility.HtmlEncode(s ?? "");
        static string P(string what) => $"<p class=\"prompt\"><em>[{PromptMarker}: {E(what)}]</em></p>";
        var duration = (incident.Resolved ?? now) - incident.Opened;
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Major Incident Report ").Append(E(incident.Id)).Append("</title>\n")
          .Append("<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}.prompt{background:#fff3cd;border-left:4px solid #e0a800;padding:.3em .6em}")
          .Append("table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}.src{font-weight:bold}</style>\n</head>\n<body>\n");
        sb.Append("<h1>Major Incident Report</h1>\n<dl>\n");
        void Field(string name, string html) => sb.Append("<dt>").Append(name).Append("</dt><dd>").Append(html).Append("</dd>\n");
        Field("Date", E(incident.Opened.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        Field("Incident ID", E(incident.Id));
        Field("Severity", E($"{incident.Severity} - {incident.SeverityName} (response: {incident.ResponseTime})"));
        Field("Duration", E(IncidentStore.FormatDuration(duration) + (incident.Resolved is null ? " (still open)" : "")));
        Field("Impact", $"<em class=\"prompt\">[{PromptMarker}: how many users were affected, and how?]</em>");
        Field("Commander", E(incident.Commander));
        if (incident.Environment is { Length: > 0 } env) Field("Environment", E(env));
        Field("Status", E(incident.Status.ToString()));
        sb.Append("</dl>\n");

        sb.Append("<h2>Summary</h2>\n<p>").Append(E(incident.Title)).Append(". Opened ").Append(E(Utc(incident.Opened)))
          .Append(E(incident.Resolved is { } r ? $", resolved {Utc(r)} after {IncidentStore.FormatDuration(duration)}." : ", not resolved yet."))
          .Append(' ').Append(E($"Severity {incident.Severity} covers: {incident.SeverityMeaning}.")).Append("</p>\n");
        if (incident.Timeline.FirstOrDefault(t => t.Kind == "Opened") is { Message.Length: > 0 } opened)
            sb.Append("<p>Recorded when it was opened: ").Append(E(opened.Message)).Append("</p>\n");
        sb.Append(P("a brief description of what happened, for readers who were not there."));

        sb.Append("<h2>Timeline</h2>\n<p>All times UTC.</p>\n<ul>\n");
        foreach (var l in Timeline(incident, evidence))
            sb.Append("<li><time datetime=\"").Append(l.Time.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)).Append("\">")
              .Append(l.Time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)).Append("</time> - <span class=\"src\">").Append(E(l.Source)).Append("</span> ")
              .Append(E(l.Text)).Append("</li>\n");
        sb.Append("</ul>\n");

        void HtmlSection(string title, IncidentStatus status, string prompt)
        {
            sb.Append("<h2>").Append(title).Append("</h2>\n");
            foreach (var t in incident.Timeline.Where(t => t.Kind == "Status" && t.Status == status && t.Message.Length > 0))
                sb.Append("<p>Recorded ").Append(E(Utc(t.Time))).Append(" (").Append(E(status.ToString())).Append(", ").Append(E(t.Author)).Append("): ").Append(E(t.Message)).Append("</p>\n");
            sb.Append(P(prompt));
        }
        HtmlSection("Root Cause", IncidentStatus.Identified, "the technical root cause analysis: what failed, and why.");
        HtmlSection("Resolution", IncidentStatus.Resolved, "what was done to fix it.");
        sb.Append("<h2>Prevention</h2>\n").Append(P("what will be done to prevent a recurrence."));
        sb.Append("<h2>Action Items</h2>\n").Append(P("one line per action, with an owner and a date."));
        sb.Append("<ul>\n<li><input type=\"checkbox\" disabled> <em>[").Append(PromptMarker).Append(": action item]</em></li>\n</ul>\n");
        if (evidence.Count > 0)
        {
            sb.Append("<h2>Evidence</h2>\n<table>\n<tr><th>Collected (UTC)</th><th>Collectors</th><th>Failed</th><th>SHA-256</th><th>Folder</th></tr>\n");
            foreach (var e in evidence)
                sb.Append("<tr><td>").Append(E(Utc(e.Started))).Append("</td><td>").Append(e.Collected).Append(" of ").Append(e.Collectors.Count(c => c.Outcome != EvidenceOutcome.Skipped))
                  .Append("</td><td>").Append(E(e.Failures.Length == 0 ? "none" : e.Failures)).Append("</td><td><code>").Append(E(e.Sha256))
                  .Append("</code></td><td>").Append(E(System.IO.Path.GetFileName(e.Path))).Append("</td></tr>\n");
            sb.Append("</table>\n");
        }
        sb.Append("<hr>\n<p>Generated by Export-IncidentReport ").Append(E(Utc(now))).Append(". Sections marked ").Append(PromptMarker)
          .Append(" are for the people who handled the incident to write.</p>\n</body>\n</html>\n");
        return sb.ToString();
    }
}
