using System.Diagnostics;
using System.IO.Compression;
using System.Management.Automation;
using System.Text;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Logs;

/// <summary>
/// Measure-LogError, Search-Log, Get-LogSize and Remove-OldLog over generated log files of every format (some
/// gzip-rotated, some with malformed lines); every count is compared with grep -c / zgrep -c on the same input.
/// </summary>
public sealed class LogFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-logs-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static long L(PSObject o, string name) => Convert.ToInt64(P(o, name));

    internal static string Sh(string command)
    {
        var psi = new ProcessStartInfo("bash", new[] { "-c", command }) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return o.Trim();
    }

    private static long GrepC(string args) => long.Parse(Sh($"grep -c {args} || true"));

    private string Write(string name, IEnumerable<string> lines, bool gzip = false)
    {
        var path = Path.Combine(_dir, name);
        var text = string.Join("\n", lines) + "\n";
        if (gzip)
        {
            using var f = File.Create(path);
            using var z = new GZipStream(f, CompressionLevel.Fastest);
            z.Write(Encoding.UTF8.GetBytes(text));
        }
        else File.WriteAllText(path, text);
        return path;
    }

    private static IEnumerable<string> IsoLines(int n, int seed)
    {
        var r = new Random(seed);
        var t0 = new DateTime(2026, 12, 1, 8, 0, 0, DateTimeKind.Utc);
        for (var i = 0; i < n; i++)
        {
            var ts = t0.AddSeconds(i * 7).ToString("yyyy-MM-dd HH:mm:ss,fff");
            var k = r.Next(100);
            yield return k switch
            {
                < 5 => $"{ts} - api - ERROR - could not connect to server 10.0.0.{r.Next(255)}:5432 (attempt {r.Next(9)})",
                < 8 => $"{ts} - api - CRITICAL - payment {Guid.NewGuid()} failed: 'card declined'",
                < 9 => "Traceback (most recent call last): error in worker",
                < 25 => $"{ts} - api - WARNING - slow request {r.Next(5000)} ms",
                _ => $"{ts} - api - INFO - GET /api/items/{r.Next(1000)} 200",
            };
        }
    }

    [Fact]
    public void Plain_and_rotated_gzip_files_count_exactly_as_grep_and_zgrep_with_timeline_templates_and_levels()
    {
        Write("api.log", IsoLines(3000, 1));
        Write("api.log.1.gz", IsoLines(2000, 2), gzip: true);
        Write("api.log.2.gz", IsoLines(1000, 3), gzip: true);
        using var s = new ModuleSession();
        var r = s.Run($"Measure-LogError -Path '{_dir}/api.log*' -Top 5");
        Assert.Empty(r.Errors);
        var sum = Assert.Single(r.Output);
        var expected = GrepC($"-iE 'error|critical|fatal' {_dir}/api.log") + long.Parse(Sh($"zcat {_dir}/api.log.*.gz | grep -ciE 'error|critical|fatal'"));
        Assert.Equal(expected, L(sum, "Matched"));
        Assert.Equal(6000, L(sum, "LinesRead"));
        Assert.True((bool)P(sum, "Reconciled")!);
        Assert.Equal(L(sum, "LinesRead"), L(sum, "Matched") + L(sum, "NotMatched") + L(sum, "OutOfRange") + L(sum, "Unparsed") + L(sum, "PartialLines"));
        Assert.Equal(3, ((System.Collections.ICollection)P(sum, "Inputs")!).Count);
        Assert.Equal("Iso8601", P(sum, "Format")!.ToString());
        // templates: the connect error is masked into one template, with its count equal to grep's
        var templates = ((System.Collections.IEnumerable)P(sum, "Templates")!).Cast<object>().Select(PSObject.AsPSObject).ToList();
        var connect = templates.Single(t => ((string)P(t, "Template")!).Contains("could not connect"));
        Assert.Equal("could not connect to server <IP> (attempt <NUM>)", P(connect, "Template"));
        var grepConnect = GrepC($"'could not connect' {_dir}/api.log") + long.Parse(Sh($"zcat {_dir}/api.log.*.gz | grep -c 'could not connect'"));
        Assert.Equal(grepConnect, L(connect, "Count"));
        Assert.Contains("payment <UUID> failed: <STR>", templates.Select(t => (string)P(t, "Template")!));
        // timeline: the hours add up to the matched lines that have a time (the Traceback lines inherit theirs)
        var hours = ((System.Collections.IEnumerable)P(sum, "Timeline")!).Cast<object>().Select(PSObject.AsPSObject).ToList();
        Assert.Equal(L(sum, "Matched"), hours.Sum(h => L(h, "Errors")));
        // levels as the lines say them
        var levels = ((System.Collections.IEnumerable)P(sum, "Levels")!).Cast<object>().Select(PSObject.AsPSObject).ToDictionary(l => (string)P(l, "Level")!, l => L(l, "Count"));
        Assert.Equal(GrepC($"' - WARNING - ' {_dir}/api.log") + long.Parse(Sh($"zcat {_dir}/api.log.*.gz | grep -c ' - WARNING - '")), levels["WARN"]);
        // every hour with errors has its bar (the timeline view shows it)
        Assert.All(hours.Where(h => L(h, "Errors") > 0), h => Assert.StartsWith("#", (string)P(h, "Bar")!));
        // -Since/-Until cut on the lines' own time: out-of-range lines are counted, not lost
        var cut = s.Run($"Measure-LogError -Path '{_dir}/api.log' -Since ([DateTime]'2026-12-01T09:00:00Z') -Until ([DateTime]'2026-12-01T10:00:00Z')");
        var c = Assert.Single(cut.Output);
        Assert.True((bool)P(c, "Reconciled")!);
        var inHour = long.Parse(Sh($"grep -E '^2026-12-01 09:' {_dir}/api.log | grep -ciE 'error|critical|fatal'"));
        // Traceback lines continue the entry before them: count those that follow a 09:xx entry
        var tracebacksIn9 = long.Parse(Sh($"awk '/^2026-12-01/{{h=substr($2,1,2)}} /^Traceback/ && h==\"09\"{{n++}} END{{print n+0}}' {_dir}/api.log"));
        Assert.Equal(inHour + tracebacksIn9, L(c, "Matched"));
        Assert.True(L(c, "OutOfRange") > 0);
    }

    [Fact]
    public void Access_json_logfmt_cri_and_docker_json_files_are_detected_and_malformed_lines_reported_not_dropped()
    {
        var r0 = new Random(5);
        var access = Enumerable.Range(0, 500).Select(i => $"10.0.0.{i % 250} - - [01/Dec/2026:10:{i % 60:00}:00 +0100] \"GET /api/x/{i} HTTP/1.1\" {new[] { 200, 200, 401, 403, 500, 404 }[r0.Next(6)]} {i} \"-\" \"curl/8.0\"").ToList();
        access.Insert(10, "this is not an access log line ERROR");
        Write("access.log", access);
        var json = Enumerable.Range(0, 400).Select(i => $"{{\"ts\":\"2026-12-01T10:{i % 60:00}:00Z\",\"level\":\"{new[] { "info", "error", "warn" }[i % 3]}\",\"msg\":\"order {i} done\",\"status\":{(i % 7 == 0 ? 401 : 200)}}}").ToList();
        json.Insert(5, "{\"ts\": \"2026-12-01T10:00:00Z\", \"level\": \"error\", \"msg\": \"cut sh");
        Write("app.jsonl", json);
        var logfmt = Enumerable.Range(0, 300).Select(i => $"time=2026-12-01T10:{i % 60:00}:00Z level={(i % 4 == 0 ? "error" : "info")} msg=\"cache {i} miss\" status={(i % 10 == 0 ? 403 : 200)}").ToList();
        Write("svc.logfmt", logfmt);
        // CRI: F lines, and one entry split in two P lines plus its F line
        var cri = Enumerable.Range(0, 200).Select(i => $"2026-12-01T10:00:{i % 60:00}.123456789Z {(i % 2 == 0 ? "stdout" : "stderr")} F {(i % 5 == 0 ? "ERROR" : "INFO")} line {i}").ToList();
        cri.AddRange(new[] { "2026-12-01T10:01:00.1Z stdout P ERROR a very long ", "2026-12-01T10:01:00.2Z stdout P message cut by ", "2026-12-01T10:01:00.3Z stdout F the runtime", "garbage" });
        Write("pod.log", cri);
        var dj = Enumerable.Range(0, 100).Select(i => $"{{\"log\":\"{(i % 4 == 0 ? "ERROR" : "ok")} step {i}\\n\",\"stream\":\"stdout\",\"time\":\"2026-12-01T10:00:{i % 60:00}.5Z\"}}").ToList();
        Write("c-json.log", dj);

        using var s = new ModuleSession();
        var r = s.Run($"Measure-LogError -Path '{_dir}/access.log', '{_dir}/app.jsonl', '{_dir}/svc.logfmt', '{_dir}/pod.log', '{_dir}/c-json.log'");
        Assert.Empty(r.Errors);
        var by = r.Output.ToDictionary(o => Path.GetFileName((string)P(o, "Source")!));
        Assert.All(r.Output, o => Assert.True((bool)P(o, "Reconciled")!));

        var a = by["access.log"];
        Assert.Equal("Access", P(a, "Format")!.ToString());
        Assert.Equal(GrepC($"'\" 401 ' {_dir}/access.log"), L(a, "Status401"));
        Assert.Equal(GrepC($"'\" 403 ' {_dir}/access.log"), L(a, "Status403"));
        Assert.Equal(GrepC($"'\" 50[0-9] ' {_dir}/access.log"), L(a, "Status5xx"));
        Assert.Equal(1, L(a, "Unparsed"));
        Assert.Equal(1, L(a, "UnparsedMatching"));
        Assert.Equal(GrepC($"-iE 'error|critical|fatal' {_dir}/access.log"), L(a, "Matched") + L(a, "UnparsedMatching"));
        var example = PSObject.AsPSObject(((System.Collections.IEnumerable)P(a, "UnparsedExamples")!).Cast<object>().Single());
        Assert.Equal(11, L(example, "LineNumber"));

        var j = by["app.jsonl"];
        Assert.Equal("Json", P(j, "Format")!.ToString());
        Assert.Equal(1, L(j, "Unparsed"));
        Assert.Equal(GrepC($"-iE 'error|critical|fatal' {_dir}/app.jsonl"), L(j, "Matched") + L(j, "UnparsedMatching"));
        Assert.Equal(GrepC($"'\"status\":401' {_dir}/app.jsonl"), L(j, "Status401"));
        Assert.Equal("order <NUM> done", P(PSObject.AsPSObject(((System.Collections.IEnumerable)P(j, "Templates")!).Cast<object>().First()), "Template"));

        var l = by["svc.logfmt"];
        Assert.Equal("Logfmt", P(l, "Format")!.ToString());
        Assert.Equal(GrepC($"-iE 'error|critical|fatal' {_dir}/svc.logfmt"), L(l, "Matched"));
        Assert.Equal(GrepC($"'status=403' {_dir}/svc.logfmt"), L(l, "Status403"));

        var c = by["pod.log"];
        Assert.Equal("Cri", P(c, "Format")!.ToString());
        Assert.Equal(2, L(c, "PartialLines"));
        Assert.Equal(1, L(c, "Unparsed"));
        // the joined entry counts once: grep -c on the F lines plus the one entry that starts with a P line
        Assert.Equal(GrepC($"' F ERROR' {_dir}/pod.log") + 1, L(c, "Matched"));
        Assert.Contains(((System.Collections.IEnumerable)P(c, "Templates")!).Cast<object>().Select(PSObject.AsPSObject),
            t => (string)P(t, "Template")! == "a very long message cut by the runtime");

        var d = by["c-json.log"];
        Assert.Equal("DockerJson", P(d, "Format")!.ToString());
        Assert.Equal(GrepC($"ERROR {_dir}/c-json.log"), L(d, "Matched"));
    }

    [Fact]
    public void Search_log_finds_lines_with_context_and_counts_like_grep_c_per_file()
    {
        var lines = IsoLines(800, 7).ToList();
        Write("a.log", lines);
        Write("a.log.1.gz", IsoLines(500, 8), gzip: true);
        using var s = new ModuleSession();
        var count = s.Run($"Search-Log -Path '{_dir}/a.log*' -Pattern 'ERROR' -CaseSensitive -Count");
        Assert.Empty(count.Errors);
        var counts = count.Output.ToDictionary(o => Path.GetFileName((string)P(o, "Source")!), o => L(o, "Count"));
        Assert.Equal(GrepC($"ERROR {_dir}/a.log"), counts["a.log"]);
        Assert.Equal(long.Parse(Sh($"zgrep -c ERROR {_dir}/a.log.1.gz")), counts["a.log.1.gz"]);

        var hits = s.Run($"Search-Log -Path '{_dir}/a.log' -Pattern 'could not connect' -ContextLines 1,2");
        Assert.Empty(hits.Errors);
        Assert.Equal(GrepC($"'could not connect' {_dir}/a.log"), hits.Output.Count);
        var first = hits.Output[0];
        var n = L(first, "LineNumber");
        var grepN = Sh($"grep -n 'could not connect' {_dir}/a.log | head -1 | cut -d: -f1");
        Assert.Equal(long.Parse(grepN), n);
        Assert.Equal(lines[(int)n - 1], P(first, "Line"));
        Assert.Equal("ERROR", P(first, "Level"));
        Assert.NotNull(P(first, "Time"));
        var pre = ((System.Collections.IEnumerable)P(first, "PreContext")!).Cast<object>().Select(o => o.ToString()).ToList();
        var post = ((System.Collections.IEnumerable)P(first, "PostContext")!).Cast<object>().Select(o => o.ToString()).ToList();
        if (n > 1) Assert.Equal(new[] { lines[(int)n - 2] }, pre);
        Assert.Equal(lines.Skip((int)n).Take(2), post);
        // -Raw: grep -n lines
        var raw = s.Run($"Search-Log -Path '{_dir}/a.log' -Pattern 'could not connect' -Raw -MaxCount 1");
        Assert.Equal($"{_dir}/a.log:{n}:{lines[(int)n - 1]}", Assert.Single(raw.Output).ToString());
        // a bad pattern and a missing file are clear errors
        Assert.StartsWith("InvalidPattern", Assert.Single(s.Run($"Search-Log -Path '{_dir}/a.log' -Pattern '('").Errors).FullyQualifiedErrorId);
        Assert.StartsWith("LogFileNotFound", Assert.Single(s.Run($"Search-Log -Path '{_dir}/nope*.log' -Count").Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void Template_bound_is_reported_when_reached_and_memory_stays_flat()
    {
        // every error line is its own template (a word that is not masked)
        Write("many.log", Enumerable.Range(0, 500).Select(i => $"2026-12-01T10:00:00Z ERROR unknown code {new string((char)('a' + i % 26), 1 + i / 26)}"));
        using var s = new ModuleSession();
        var sum = Assert.Single(s.Run($"Measure-LogError -Path '{_dir}/many.log' -MaxTemplates 100").Output);
        Assert.True((bool)P(sum, "TemplateLimitReached")!);
        Assert.Equal(100, L(sum, "DistinctTemplates"));
        Assert.Equal(400, L(sum, "OtherTemplateCount"));
        Assert.Equal(500, L(sum, "Matched"));
        Assert.Contains("more than 100 distinct templates", (string)P(sum, "Message")!);
    }

    [Fact]
    public void Log_sizes_match_du_and_remove_old_log_lists_every_file_with_whatif_and_never_follows_links()
    {
        var logs = Directory.CreateDirectory(Path.Combine(_dir, "app", "logs")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(_dir, "outside")).FullName;
        var old1 = Write("app/logs/api_20261001.log", Enumerable.Repeat("old line", 1000));
        var old2 = Write("app/logs/api_20261002.log.gz", new[] { "x" }, gzip: true);
        var fresh = Write("app/logs/api_today.log", Enumerable.Repeat("new line", 10));
        var keepTxt = Write("app/logs/notes.txt", new[] { "keep" });
        var precious = Write("outside/precious.log", new[] { "do not delete" });
        foreach (var f in new[] { old1, old2, keepTxt, precious }) File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddDays(-40));
        File.CreateSymbolicLink(Path.Combine(logs, "link.log"), precious);
        Directory.CreateSymbolicLink(Path.Combine(logs, "linked-dir"), outside);

        using var s = new ModuleSession();
        var size = Assert.Single(s.Run($"Get-LogSize -Path '{logs}'").Output);
        Assert.Equal(long.Parse(Sh($"find '{logs}' -type f -printf '%s\\n' | awk '{{s+=$1}} END{{print s}}'")), L(size, "Bytes"));
        Assert.Equal(4, L(size, "Files"));
        var each = s.Run($"Get-LogSize -Path '{logs}/*'");
        Assert.Equal(4, each.Output.Count);
        Assert.Equal(new FileInfo(old1).Length, L(each.Output[0], "Bytes"));

        var whatIf = s.Run($"Remove-OldLog -Path '{logs}' -OlderThan 30d -Recurse -WhatIf");
        Assert.Empty(whatIf.Errors);
        Assert.Equal(new[] { old1, old2 }.Order(), whatIf.Output.Select(o => (string)P(o, "Path")!).Order());
        Assert.All(whatIf.Output, o => Assert.Equal("WhatIf", P(o, "Action")));
        Assert.Equal(new FileInfo(old1).Length, L(whatIf.Output.Single(o => (string)P(o, "Path")! == old1), "Bytes"));
        Assert.True(File.Exists(old1) && File.Exists(old2));

        var removed = s.Run($"Remove-OldLog -Path '{logs}' -OlderThan 30d -Recurse -Force");
        Assert.Empty(removed.Errors);
        Assert.All(removed.Output, o => Assert.Equal("Removed", P(o, "Action")));
        Assert.False(File.Exists(old1) || File.Exists(old2));
        Assert.True(File.Exists(fresh) && File.Exists(keepTxt) && File.Exists(precious));
        Assert.Equal("do not delete", File.ReadAllText(precious).Trim());
        Assert.True(File.Exists(Path.Combine(logs, "link.log"))); // the link itself stays too
    }

    [Fact]
    public void Journal_files_written_by_systemd_are_read_through_journalctl_with_unit_and_priority_filters()
    {
        // No systemd-journald runs on this machine (no /run/systemd/journal): the test writes a real journal file with
        // systemd-journal-remote from the export format and reads it with journalctl --file, as the command reads the journal.
        const string remote = "/lib/systemd/systemd-journal-remote";
        Assert.True(File.Exists(remote), "systemd-journal-remote is missing (apt-get install systemd-journal-remote)");
        var export = new StringBuilder();
        var t0 = (DateTime.UtcNow.AddHours(-3) - DateTime.UnixEpoch).Ticks / 10;
        for (var i = 0; i < 60; i++)
        {
            var unit = i % 2 == 0 ? "api.service" : "worker.service";
            var prio = i % 3 == 0 ? 3 : 6;
            export.Append($"__CURSOR=s=1;i={i + 1}\n__REALTIME_TIMESTAMP={t0 + i * 60_000_000L}\n__MONOTONIC_TIMESTAMP={i + 1}\n_BOOT_ID=0123456789abcdef0123456789abcdef\n");
            export.Append($"_SYSTEMD_UNIT={unit}\nPRIORITY={prio}\nSYSLOG_IDENTIFIER=app\nMESSAGE={(prio == 3 ? $"ERROR request {i} failed" : $"request {i} ok")}\n\n");
        }
        var exportFile = Path.Combine(_dir, "entries.export");
        File.WriteAllText(exportFile, export.ToString());
        var journal = Path.Combine(_dir, "test.journal");
        Sh($"{remote} --output='{journal}' '{exportFile}' 2>&1");
        Assert.True(File.Exists(journal), "systemd-journal-remote wrote no journal file");

        using var s = new ModuleSession();
        var all = Assert.Single(s.Run($"Measure-LogError -JournalFile '{journal}'").Output);
        Assert.Equal("Journal", P(all, "Format")!.ToString());
        Assert.Equal(long.Parse(Sh($"journalctl --file='{journal}' -o json | wc -l")), L(all, "LinesRead"));
        Assert.Equal(long.Parse(Sh($"journalctl --file='{journal}' -o json | grep -ciE 'error|critical|fatal'")), L(all, "Matched"));
        Assert.True((bool)P(all, "Reconciled")!);
        var levels = ((System.Collections.IEnumerable)P(all, "Levels")!).Cast<object>().Select(PSObject.AsPSObject).ToDictionary(l => (string)P(l, "Level")!, l => L(l, "Count"));
        Assert.Equal(20, levels["ERROR"]);

        var api = Assert.Single(s.Run($"Measure-LogError -JournalFile '{journal}' -Unit api.service -Priority err").Output);
        Assert.Equal(long.Parse(Sh($"journalctl --file='{journal}' -u api.service -p err -o json | wc -l")), L(api, "LinesRead"));
        Assert.Equal(10, L(api, "LinesRead"));
        var hits = s.Run($"Search-Log -JournalFile '{journal}' -Pattern 'request 3 failed'");
        var hit = Assert.Single(hits.Output);
        Assert.Equal("ERROR", P(hit, "Level"));
        Assert.Equal(new DateTime(DateTime.UnixEpoch.Ticks + (t0 + 3 * 60_000_000L) * 10, DateTimeKind.Utc), (DateTime)P(hit, "Time")!);
    }

    [Fact]
    public void The_environment_names_the_sources_and_the_daily_check_reviews_error_logs()
    {
        Write("api.log", IsoLines(400, 11).Select(l => l.Replace("2026-12-01", DateTime.UtcNow.AddHours(-1).ToString("yyyy-MM-dd"))));
        var env = Path.Combine(_dir, "t.ops.psd1");
        File.WriteAllText(env, $"@{{ Name = 't'; Logs = @{{ Paths = @('api.log'); Classes = @{{ Database = 'could not connect'; Payments = 'payment' }}; Cleanup = @(@{{ Path = '.'; Include = '*.gz'; OlderThanDays = 7 }}) }}; Thresholds = @{{ LogErrorWarningCount = 1; LogErrorCriticalCount = 100000 }} }}");
        using var s = new ModuleSession();
        var sum = Assert.Single(s.Run($"Measure-LogError -Environment '{env}'").Output);
        var classes = ((System.Collections.IEnumerable)P(sum, "Classes")!).Cast<object>().Select(PSObject.AsPSObject).ToDictionary(c => (string)P(c, "Name")!, c => L(c, "Count"));
        Assert.Equal(GrepC($"'could not connect' {_dir}/api.log"), classes["Database"]);
        Assert.Equal(GrepC($"payment {_dir}/api.log"), classes["Payments"]);
        Assert.Equal("Warning", P(sum, "Status")!.ToString());

        var daily = s.Run($"Invoke-DailyCheck -Environment '{env}' -Skip Disk, Memory");
        Assert.Empty(daily.Errors);
        var logs = daily.Output.Where(o => (string)P(o, "Area")! == "Logs").ToList();
        Assert.Contains(logs, o => (string)P(o, "Check")! == "LogErrors" && P(o, "Status")!.ToString() == "Warning");
        Assert.Contains(logs, o => (string)P(o, "Check")! == "LogErrorClass" && ((string)P(o, "Target")!).Contains("Database"));
        var weekly = s.Run($"Invoke-WeeklyMaintenance -Environment '{env}' -WhatIf");
        Assert.Contains(weekly.Output, o => (string)P(o, "Check")! == "LogCleanup");
    }
}
