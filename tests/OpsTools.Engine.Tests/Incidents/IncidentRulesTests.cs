using OpsTools.Configuration;
using OpsTools.Engine.Configuration;
using OpsTools.Engine.Incidents;
using OpsTools.Incidents;

namespace OpsTools.Engine.Tests.Incidents;

/// <summary>The incident rules that need no files: the runbooks' severity table, update texts, the report's timeline and prompts, the Incidents section.</summary>
public class IncidentRulesTests
{
    private static Incident Sample(DateTime opened) => new()
    {
        Id = "INC-20261207-01", Title = "High error rate", Severity = IncidentSeverity.P1, Commander = "alice",
        Environment = "prod", Opened = opened, Status = IncidentStatus.Investigating, Path = "/x/INC-20261207-01",
    };

    [Theory]
    [InlineData(IncidentSeverity.P0, "Critical", "Immediate", "Critical")]
    [InlineData(IncidentSeverity.P1, "High", "30 minutes", "Critical")]
    [InlineData(IncidentSeverity.P2, "Medium", "2 hours", "Warning")]
    [InlineData(IncidentSeverity.P3, "Low", "Next business day", "Info")]
    public void Severities_have_the_runbooks_names_and_response_times(IncidentSeverity s, string name, string response, string notification)
    {
        Assert.Equal(name, IncidentSeverityLevels.Name(s));
        Assert.Equal(response, IncidentSeverityLevels.ResponseTime(s));
        Assert.Equal(notification, IncidentSeverityLevels.NotificationSeverity(s));
        Assert.False(string.IsNullOrWhiteSpace(IncidentSeverityLevels.Meaning(s)));
    }

    [Fact]
    public void Update_texts_read_as_the_runbooks_post_them()
    {
        var opened = new DateTime(2026, 12, 7, 14, 30, 0, DateTimeKind.Utc);
        var inc = Sample(opened);
        var declared = IncidentStore.Describe(inc, new IncidentTimelineEntry { Time = opened, Kind = "Opened", Status = IncidentStatus.Investigating, Author = "alice", Message = "Login fails" });
        Assert.Equal("INCIDENT DECLARED: High error rate\nSeverity: P1 - High (response: 30 minutes)\nEnvironment: prod\nStarted: 2026-12-07 14:30 UTC\nLead: alice\nStatus: Investigating\nImpact: Login fails", declared.Text);
        Assert.Equal("[P1] High error rate - Investigating", declared.Title);
        var note = IncidentStore.Describe(inc, new IncidentTimelineEntry { Time = opened.AddMinutes(5), Kind = "Note", Status = IncidentStatus.Investigating, Message = "Restarted api" });
        Assert.Equal("UPDATE: Restarted api", note.Text);
        var resolved = IncidentStore.Describe(inc, new IncidentTimelineEntry { Time = opened.AddMinutes(45), Kind = "Status", Status = IncidentStatus.Resolved, Message = "Pool raised" });
        Assert.Equal("RESOLVED: Pool raised\nSeverity: P1\nDuration: 45 minutes\nPost-mortem to follow.", resolved.Text);
        Assert.Equal("Resolved", resolved.Severity);
    }

    [Theory]
    [InlineData(30, "30 seconds")]
    [InlineData(60, "1 minute")]
    [InlineData(2 * 3600 + 5 * 60, "2 hours 5 minutes")]
    [InlineData(3 * 86400 + 4 * 3600, "3 days 4 hours")]
    public void Durations_are_written_in_words(int seconds, string text) =>
        Assert.Equal(text, IncidentStore.FormatDuration(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public void The_timeline_merges_entries_and_evidence_moments_in_time_order_once_each()
    {
        var t0 = new DateTime(2026, 12, 7, 14, 0, 0, DateTimeKind.Utc);
        var inc = Sample(t0.AddMinutes(10));
        inc.Timeline = new[] { IncidentStore.Describe(inc, new IncidentTimelineEntry { Time = t0.AddMinutes(10), Kind = "Opened", Author = "alice" }) };
        var moment = new EvidenceMoment { Time = t0, Kind = "Deployment", Text = "deployment/api revision 7 rolled out (api:1.8)" };
        var alert = new EvidenceMoment { Time = t0.AddMinutes(5), Kind = "Alert", Text = "Alert HighErrorRate (critical) firing" };
        var evidence = new[]
        {
            new IncidentEvidence { Moments = new[] { moment, alert } },
            new IncidentEvidence { Moments = new[] { moment } }, // seen again by a later collection
        };
        var lines = IncidentReport.Timeline(inc, evidence);
        Assert.Equal(new[] { "Deployment", "Alert", "Status" }, lines.Select(l => l.Source));
    }

    [Fact]
    public void What_people_write_is_a_prompt_and_never_filled_in()
    {
        var inc = Sample(new DateTime(2026, 12, 7, 14, 0, 0, DateTimeKind.Utc));
        inc.Timeline = new[] { IncidentStore.Describe(inc, new IncidentTimelineEntry { Time = inc.Opened, Kind = "Opened", Author = "alice" }) };
        var md = IncidentReport.Markdown(inc, Array.Empty<IncidentEvidence>(), inc.Opened.AddHours(1));
        foreach (var section in new[] { "## Root Cause", "## Resolution", "## Prevention", "## Action Items" })
        {
            var start = md.IndexOf(section, StringComparison.Ordinal);
            var next = md.IndexOf("\n## ", start + 3, StringComparison.Ordinal);
            var body = md[(start + section.Length)..(next < 0 ? md.Length : next)];
            Assert.Contains("[" + IncidentReport.PromptMarker + ":", body);
            Assert.DoesNotContain("Recorded", body);
        }
        Assert.Contains("(still open)", md);
    }

    [Fact]
    public void The_Incidents_section_is_read_and_its_mistakes_are_named()
    {
        var env = EnvironmentReader.Read(new Dictionary<string, object?>
        {
            ["Incidents"] = new Dictionary<string, object?> { ["Path"] = "incidents", ["NotificationTarget"] = "oncall", ["EvidenceTimeoutSec"] = 12, ["LogTail"] = 20 },
        }, "/srv/ops/prod.ops.psd1");
        Assert.Equal("/srv/ops/incidents", env.Incidents!.Path);
        Assert.Equal("oncall", env.Incidents.NotificationTarget);
        Assert.Equal(12, env.Incidents.EvidenceTimeoutSec);
        Assert.Equal(20, env.Incidents.LogTail);
        Assert.Equal("/srv/ops/incidents", IncidentStore.ResolveRoot(null, env));

        var e = Assert.Throws<OpsToolsException>(() => EnvironmentReader.Read(new Dictionary<string, object?>
        {
            ["Incidents"] = new Dictionary<string, object?> { ["Folder"] = "x" },
        }, "/srv/ops/prod.ops.psd1"));
        Assert.Contains("'Folder'", e.Message);
        Assert.Contains("Path", e.Message);
        var t = Assert.Throws<OpsToolsException>(() => EnvironmentReader.Read(new Dictionary<string, object?>
        {
            ["Incidents"] = new Dictionary<string, object?> { ["EvidenceTimeoutSec"] = 0 },
        }, null));
        Assert.Contains("EvidenceTimeoutSec", t.Message);
    }
}
