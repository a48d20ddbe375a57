using System.Text;
using OpsTools.Engine.Logs;
using OpsTools.Logs;

namespace OpsTools.Engine.Tests.Logs;

public sealed class LogEngineTests
{
    [Theory]
    [InlineData("could not connect to server 10.0.0.12:5432 after 1500 ms", "could not connect to server <IP> after <NUM> ms")]
    [InlineData("payment 3f2b8c1e-9a4d-4e2f-8b1a-0c9d8e7f6a5b failed: 'card declined'", "payment <UUID> failed: <STR>")]
    [InlineData("GET /api/items/42?page=3 took 12ms", "GET /api/items/<NUM>?page=<NUM> took <NUM>")]
    [InlineData("job 17 failed with code 0xdeadbeef user=\"bob\"", "job <NUM> failed with code <HEX> user=<STR>")]
    [InlineData("worker-3 lost   lease a1b2c3d4e5f6", "worker-<NUM> lost lease <HEX>")]
    public void Templates_mask_numbers_ids_addresses_hex_and_quoted_values(string message, string template) =>
        Assert.Equal(template, TemplateMasker.Mask(message));

    [Theory]
    [InlineData("ERROR", new[] { "ERROR" }, true)]
    [InlineData("error|fatal|critical", new[] { "error", "fatal", "critical" }, true)]
    [InlineData("(ERROR|CRITICAL)", new[] { "ERROR", "CRITICAL" }, true)]
    [InlineData(@"\bERROR\b", new[] { "ERROR" }, false)]
    [InlineData("rate limit exceeded", new[] { "rate limit exceeded" }, true)]
    [InlineData(@"a\.b", new[] { "a.b" }, true)]
    public void Literal_prefilters_are_taken_from_literal_alternations(string pattern, string[] literals, bool exact)
    {
        var (l, e) = LogMatcher.ExtractLiterals(pattern);
        Assert.Equal(literals, l);
        Assert.Equal(exact, e);
    }

    [Theory]
    [InlineData(@"(DROP|DELETE).*--")]
    [InlineData(@"\d+ ms")]
    [InlineData("err(or)?")]
    public void Patterns_that_are_not_literal_have_no_prefilter(string pattern) => Assert.Empty(LogMatcher.ExtractLiterals(pattern).Literals);

    [Fact]
    public void Ascii_lowering_leaves_utf8_bytes_alone()
    {
        var src = Encoding.UTF8.GetBytes("ÄRGER Error über ERRÖR " + new string('X', 70));
        var dst = new byte[src.Length];
        LogMatcher.AsciiLower(src, dst);
        Assert.Equal("Ärger error über errÖr " + new string((char)120, 70), Encoding.UTF8.GetString(dst));
    }

    [Theory]
    [InlineData("2026-12-01T10:00:00Z x", "2026-12-01T10:00:00.0000000Z")]
    [InlineData("2026-12-01T10:00:00.123456789Z x", "2026-12-01T10:00:00.1234567Z")]
    [InlineData("2026-12-01 10:00:00,250 - x", "2026-12-01T10:00:00.2500000Z")]
    [InlineData("2026-12-01T12:00:00+02:00 x", "2026-12-01T10:00:00.0000000Z")]
    [InlineData("2026-12-01 10:00:00.5 UTC [12] ERROR: x", "2026-12-01T10:00:00.5000000Z")]
    public void Iso_timestamps_parse_to_utc(string line, string expected)
    {
        var p = new LogLineParser();
        Assert.True(p.TryIso(Encoding.UTF8.GetBytes(line), out var ticks, out _));
        Assert.Equal(DateTime.Parse(expected, null, System.Globalization.DateTimeStyles.AdjustToUniversal | System.Globalization.DateTimeStyles.AssumeUniversal), new DateTime(ticks, DateTimeKind.Utc));
    }

    [Fact]
    public void Syslog_lines_get_the_year_that_is_not_in_the_future()
    {
        var p = new LogLineParser(new DateTime(2026, 1, 2, 0, 0, 0, DateTimeKind.Utc));
        Assert.True(p.TrySyslog(Encoding.UTF8.GetBytes("Dec 31 23:59:58 host app[1]: ERROR x"), out var t, out _));
        Assert.Equal(new DateTime(2025, 12, 31, 23, 59, 58, DateTimeKind.Utc), new DateTime(t, DateTimeKind.Utc));
        Assert.Equal(LogFormat.Syslog, p.Classify(Encoding.UTF8.GetBytes("May  1 10:00:00 host sshd[22]: Failed password")));
    }

    [Fact]
    public void Counts_reconcile_across_block_boundaries_and_a_last_line_without_newline()
    {
        // lines crossing the 1 MiB block edge many times; the last line has no '\n' (grep counts it)
        var sb = new StringBuilder();
        var errors = 0;
        for (var i = 0; i < 40000; i++)
        {
            var err = i % 7 == 0;
            if (err) errors++;
            sb.Append("2026-12-01T10:00:").Append((i % 60).ToString("00")).Append("Z ").Append(err ? "ERROR" : "INFO").Append(" line ").Append(i).Append(' ', i % 50).Append('\n');
        }
        sb.Append("2026-12-01T11:00:00Z ERROR last");
        errors++;
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        var a = new LogAnalyzer("mem", "File", new LogAnalysisOptions { Matcher = LogMatcher.Create("error", false) });
        a.BeginInput("mem");
        LogScanner.Analyze(new MemoryStream(bytes), a, CancellationToken.None);
        a.EndInput();
        var s = a.Finish(TimeSpan.FromSeconds(1), 10, 100);
        Assert.Equal(40001, s.LinesRead);
        Assert.Equal(errors, s.Matched);
        Assert.True(s.Reconciled);
        var (matches, lines, _) = LogScanner.Count(new MemoryStream(bytes), LogMatcher.Create("ERROR", true), CancellationToken.None);
        Assert.Equal((errors, 40001L), (matches, lines));
    }

    [Fact]
    public void Docker_json_file_entries_cut_by_the_16_KiB_limit_are_joined_into_one_entry()
    {
        // What dockerd's json-file driver writes for a 40 000-byte line: two 16 KiB entries without "\n", then the rest with it.
        var message = "ERROR payment 42 failed: " + new string('x', 40000 - 25);
        string Entry(string log, int second) =>
            "{\"log\":\"" + log + "\",\"stream\":\"stdout\",\"time\":\"2026-12-01T10:00:0" + second + ".000000000Z\"}";
        var lines = new List<string>
        {
            Entry("INFO started\\n", 0),
            Entry(message[..16384], 1), Entry(message[16384..32768], 1), Entry(message[32768..] + "\\n", 1),
            Entry("WARN path C:\\\\temp\\\\n", 2), // ends with an escaped backslash and an 'n', not a newline: partial, ends at EOF
        };
        var bytes = Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n");
        var a = new LogAnalyzer("c-json.log", "File", new LogAnalysisOptions { Matcher = LogMatcher.Create("ERROR", true) });
        a.BeginInput("c-json.log");
        LogScanner.Analyze(new MemoryStream(bytes), a, CancellationToken.None);
        a.EndInput();
        var s = a.Finish(TimeSpan.FromSeconds(1), 10, 100);
        Assert.Equal(LogFormat.DockerJson, s.Format);
        Assert.Equal(5, s.LinesRead);
        Assert.Equal(2, s.PartialLines); // the two cut entries; the last line, cut at the end of the file, stands for its entry
        Assert.Equal(1, s.Matched);
        Assert.True(s.Reconciled);
        var t = Assert.Single(s.Templates);
        Assert.StartsWith("payment <NUM> failed: xxxx", t.Template);
        Assert.Equal(new DateTime(2026, 12, 1, 10, 0, 1, DateTimeKind.Utc), t.FirstSeen);
    }
}
