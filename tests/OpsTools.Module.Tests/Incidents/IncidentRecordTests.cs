using System.Text.Json;
using OpsTools.TestKit;
using static OpsTools.Module.Tests.Incidents.IncidentTestSupport;

namespace OpsTools.Module.Tests.Incidents;

/// <summary>The incident record through the module: files on disk read back with System.Text.Json, stat and the report text.</summary>
public sealed class IncidentRecordTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("opstools-incidents-").FullName;
    private string Store => Path.Combine(_root, "incidents");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static object? P(System.Management.Automation.PSObject o, string name) => RunResult.Prop(o, name);

    private JsonElement Record(string id) => JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Store, id, "incident.json"))).RootElement;

    [Fact]
    public void An_incident_is_opened_updated_and_resolved_as_UTC_timeline_entries_in_owner_only_files()
    {
        using var s = new ModuleSession();
        var r = s.Run($"$i = New-Incident 'High error rate on the API' P1 -Commander alice -Summary 'Login fails' -Path {Q(Store)}; $i");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var incident = Assert.Single(r.Output);
        var id = (string)P(incident, "Id")!;
        Assert.Matches(@"^INC-\d{8}-01$", id);
        Assert.Equal("30 minutes", P(incident, "ResponseTime"));
        Assert.Equal("High", P(incident, "SeverityName"));

        var note = Assert.Single(s.Run($"Add-IncidentNote {id} 'Restarted api-2' -Author bob -Path {Q(Store)}").Output);
        Assert.Equal("UPDATE: Restarted api-2", P(note, "Text"));
        Assert.Equal("[P1] High error rate on the API - Investigating", P(note, "Title"));
        Assert.Equal("Critical", P(note, "Severity"));
        s.Run($"Set-IncidentStatus {id} Identified 'Pool exhausted' -Path {Q(Store)}");
        var resolved = Assert.Single(s.Run($"Set-IncidentStatus {id} Resolved 'Back to normal' -Path {Q(Store)}").Output);
        Assert.StartsWith("RESOLVED: Back to normal", (string)P(resolved, "Text")!);
        Assert.Contains("Post-mortem to follow.", (string)P(resolved, "Text")!);
        Assert.Equal("Resolved", P(resolved, "Severity"));

        // What is on disk, read without OpsTools.
        var json = Record(id);
        Assert.Equal("P1", json.GetProperty("severity").GetString());
        Assert.Equal("Resolved", json.GetProperty("status").GetString());
        var timeline = json.GetProperty("timeline").EnumerateArray().ToList();
        Assert.Equal(new[] { "Opened", "Note", "Status", "Status" }, timeline.Select(t => t.GetProperty("kind").GetString()));
        Assert.Equal(new[] { "Investigating", "Investigating", "Identified", "Resolved" }, timeline.Select(t => t.GetProperty("status").GetString()));
        Assert.All(timeline, t => Assert.EndsWith("Z", t.GetProperty("time").GetString()));
        Assert.EndsWith("Z", json.GetProperty("resolved").GetString());
        Assert.Equal("bob", timeline[1].GetProperty("author").GetString());

        Assert.Equal("700", Mode(Store));
        Assert.Equal("700", Mode(Path.Combine(Store, id)));
        Assert.Equal("600", Mode(Path.Combine(Store, id, "incident.json")));

        // Get-Incident: open ones exclude it now; by id it comes back resolved with its timeline.
        Assert.Empty(s.Run($"Get-Incident -Open -Path {Q(Store)}").Output);
        var got = Assert.Single(s.Run($"Get-Incident {id} -Path {Q(Store)}").Output);
        Assert.Equal(false, P(got, "IsOpen"));
        Assert.Equal(4, ((System.Collections.IEnumerable)P(got, "Timeline")!).Cast<object>().Count());
    }

    [Fact]
    public void Two_writers_adding_notes_at_the_same_time_both_keep_every_note()
    {
        string id;
        using (var s = new ModuleSession())
            id = (string)P(s.Invoke($"New-Incident 'Queue backing up' P2 -Path {Q(Store)}")[0], "Id")!;
        const int perWriter = 15;
        var writers = Enumerable.Range(0, 2).Select(w => Task.Run(() =>
        {
            using var s = new ModuleSession();
            var r = s.Run($"1..{perWriter} | ForEach-Object {{ Add-IncidentNote {id} \"writer {w} note $_\" -Path {Q(Store)} }} | Out-Null");
            Assert.Null(r.Terminating);
            Assert.Empty(r.Errors);
        })).ToArray();
        Task.WaitAll(writers);
        var messages = Record(id).GetProperty("timeline").EnumerateArray().Select(t => t.GetProperty("message").GetString()).ToList();
        Assert.Equal(1 + 2 * perWriter, messages.Count);
        for (var w = 0; w < 2; w++)
            for (var n = 1; n <= perWriter; n++)
                Assert.Contains($"writer {w} note {n}", messages);
        Assert.Empty(Directory.GetFiles(Path.Combine(Store, id), "*.partial"));
    }

    [Fact]
    public void The_report_has_the_runbook_sections_marks_what_people_write_and_encodes_recorded_text()
    {
        using var s = new ModuleSession();
        var id = (string)P(s.Invoke($"New-Incident 'API <down>' P0 -Path {Q(Store)} -Summary 'everyone'")[0], "Id")!;
        s.Run($"Add-IncidentNote {id} '<script>alert(1)</script> seen in logs' -Path {Q(Store)}");
        s.Run($"Set-IncidentStatus {id} Resolved 'Rolled back to revision 2' -Path {Q(Store)}");
        var md = (string)s.Invoke($"Export-IncidentReport {id} -Path {Q(Store)}")[0].BaseObject;
        foreach (var section in new[] { "# Major Incident Report", "## Summary", "## Timeline", "## Root Cause", "## Resolution", "## Prevention", "## Action Items" })
            Assert.Contains("\n" + section + "\n", "\n" + md);
        Assert.Contains("**Severity**: P0 - Critical (response: Immediate)", md);
        Assert.Contains("**Impact**: _[TO BE WRITTEN:", md);
        // Root cause: nothing recorded (no Identified message), so only the prompt; the resolution quotes what was recorded.
        var rootCause = Between(md, "## Root Cause", "## Resolution");
        Assert.DoesNotContain("Recorded", rootCause);
        Assert.Contains("[TO BE WRITTEN: the technical root cause", rootCause);
        Assert.Contains("Rolled back to revision 2", Between(md, "## Resolution", "## Prevention"));
        Assert.Contains("\\<script\\>", md);

        var html = Path.Combine(_root, "report.html");
        var file = Assert.Single(s.Run($"Export-IncidentReport {id} -Format Html -OutFile {Q(html)} -PassThru -Path {Q(Store)}").Output);
        Assert.Equal(html, ((FileInfo)file.BaseObject).FullName);
        var text = File.ReadAllText(html);
        Assert.DoesNotContain("<script>", text);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", text);
        Assert.Contains("API &lt;down&gt;", text);
        foreach (var h in new[] { "<h2>Summary</h2>", "<h2>Timeline</h2>", "<h2>Root Cause</h2>", "<h2>Resolution</h2>", "<h2>Prevention</h2>", "<h2>Action Items</h2>" })
            Assert.Contains(h, text);
        Assert.Equal("600", Mode(html));
    }

    private static string Between(string text, string start, string end)
    {
        var i = text.IndexOf(start, StringComparison.Ordinal);
        var j = text.IndexOf(end, i, StringComparison.Ordinal);
        return text[i..j];
    }

    [Fact]
    public void WhatIf_opens_nothing_and_an_unknown_or_damaged_incident_is_an_error_naming_it()
    {
        using var s = new ModuleSession();
        var r = s.Run($"New-Incident 'Dry run' P3 -Path {Q(Store)} -WhatIf");
        Assert.Empty(r.Output);
        Assert.False(Directory.Exists(Path.Combine(Store)) && Directory.GetDirectories(Store).Length > 0);

        var missing = s.Run($"Add-IncidentNote INC-20000101-01 'x' -Path {Q(Store)}");
        var e = Assert.Single(missing.Errors);
        Assert.StartsWith("IncidentNotFound,", e.FullyQualifiedErrorId);
        Assert.Contains("INC-20000101-01", e.Exception.Message);

        var good = (string)P(s.Invoke($"New-Incident 'Good' P2 -Path {Q(Store)}")[0], "Id")!;
        var bad = (string)P(s.Invoke($"New-Incident 'Bad' P2 -Path {Q(Store)}")[0], "Id")!;
        File.WriteAllText(Path.Combine(Store, bad, "incident.json"), "{ not json");
        var list = s.Run($"Get-Incident -Path {Q(Store)}");
        Assert.Equal(good, (string)P(Assert.Single(list.Output), "Id")!);
        Assert.StartsWith("IncidentRecordInvalid,", Assert.Single(list.Errors).FullyQualifiedErrorId);

        var garbage = s.Run($"Get-Incident 'not-an-id' -Path {Q(Store)}");
        Assert.StartsWith("IncidentIdInvalid,", Assert.Single(garbage.Errors).FullyQualifiedErrorId);
    }
}
