using System.Text.Json;
using System.Xml;
using System.Xml.Linq;
using OpsTools.Engine.Reporting;
using OpsTools.Health;
using OpsTools.HostResources;
using YamlDotNet.RepresentationModel;

namespace OpsTools.Engine.Tests;

public class ReportingTests
{
    private static readonly DateTime When = new(2025, 3, 1, 6, 30, 0, DateTimeKind.Utc);

    private static List<CheckResult> Sample() => new()
    {
        new CheckResult { Check = "AppHealth", Area = "Health", Target = "api", Status = CheckStatus.Healthy, Message = "200 OK in 12 ms", Value = 12.0, Duration = TimeSpan.FromMilliseconds(12), Timestamp = When },
        new DiskUsageResult
        {
            Check = "DiskUsage", Area = "Host", Target = "/", Mount = "/", FileSystem = "ext4", SizeBytes = 100L << 30, UsedBytes = 95L << 30,
            FreeBytes = 5L << 30, UsedPercent = 95, FreePercent = 5, Value = 95.0, Status = CheckStatus.Critical,
            Message = "/: 5.0 GiB free of 100 GiB (5% free)", Threshold = "warn < 20% free; critical < 10% free",
            Duration = TimeSpan.FromMilliseconds(1500), Timestamp = When,
        },
        new CheckResult { Check = "MemoryUsage", Area = "Host", Target = "db1", Status = CheckStatus.Warning, Message = "pipe | and\nnew line", Value = 88.5, Timestamp = When },
        new CheckResult { Check = "Backup", Area = "", Target = "s3", Status = CheckStatus.Unknown, Message = "no access", Timestamp = When },
        new AppHealthResult
        {
            Check = "AppHealth", Area = "Health", Target = "web", Status = CheckStatus.Warning, Message = "slow", Uri = new Uri("https://web.example/health"),
            StatusCode = 200, LatencyMs = 2500, Timestamp = When,
            Components = new[] { new ComponentHealthResult { Check = "AppHealth", Target = "web/db", Component = "db", Status = CheckStatus.Healthy, Details = new Dictionary<string, string> { ["version"] = "16" } } },
        },
    };

    private static Report Make(IEnumerable<CheckResult>? results = null, string title = "Daily check") => new(title, results ?? Sample(), When);

    [Fact]
    public void Summary_counts_and_worst_first_ordering()
    {
        var r = Make();
        Assert.Equal(new ReportSummary(5, 1, 2, 1, 1), r.Summary);
        Assert.Equal("1 critical, 2 warning, 1 unknown, 1 healthy (5 results)", r.Summary.ToString());
        var areas = r.ByArea();
        Assert.Equal(new[] { "Host", "Health", "General" }, areas.Select(a => a.Area));
        Assert.Equal(new[] { CheckStatus.Warning, CheckStatus.Healthy }, areas[1].Results.Select(x => x.Status));
        Assert.Equal(new[] { CheckStatus.Critical, CheckStatus.Warning }, areas[0].Results.Select(x => x.Status));
    }

    [Fact]
    public void Markdown_has_summary_tables_per_area_problems_first_and_escapes_cells()
    {
        var md = MarkdownReport.Render(Make());
        var lines = md.Split('\n');
        Assert.Equal("# Daily check", lines[0]);
        Assert.StartsWith("**Critical: 1** · **Warning: 2** · **Unknown: 1** · Healthy: 1 · 5 results · generated 2025-03-01 06:30:00 UTC", lines[2]);
        Assert.True(md.IndexOf("## Host", StringComparison.Ordinal) < md.IndexOf("## Health", StringComparison.Ordinal));
        Assert.Contains("| **Critical** | DiskUsage | / | 95 | warn &lt; 20% free; critical &lt; 10% free | /: 5.0 GiB free of 100 GiB (5% free) |", md);
        Assert.Contains("pipe \\| and<br>new line", md);
        // Every table row has exactly 7 unescaped pipes.
        foreach (var row in lines.Where(l => l.StartsWith("| ")))
            Assert.Equal(7, System.Text.RegularExpressions.Regex.Matches(row, @"(?<!\\)\|").Count);
        var healthIdx = md.IndexOf("## Health", StringComparison.Ordinal);
        Assert.True(md.IndexOf("| web |", healthIdx, StringComparison.Ordinal) < md.IndexOf("| api |", healthIdx, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a|b", "a\\|b")]
    [InlineData("x\r\ny\nz", "x<br>y<br>z")]
    [InlineData("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;")]
    [InlineData("back\\slash", "back\\\\slash")]
    [InlineData(null, "")]
    public void Markdown_cell_escaping(string? raw, string expected) => Assert.Equal(expected, MarkdownReport.EscapeCell(raw));

    [Fact]
    public void Results_from_other_hosts_get_a_Host_column_in_Markdown_and_Html_and_the_host_in_JUnit_names()
    {
        var fleet = Make(new[]
        {
            new CheckResult { Check = "DiskUsage", Area = "Host", Target = "/", Status = CheckStatus.Healthy, Message = "ok", ComputerName = "web1" },
            new CheckResult { Check = "Fleet", Area = "Fleet", Target = "Connect", Status = CheckStatus.Unknown, Message = "down", ComputerName = "db1:2222" },
        });
        var md = MarkdownReport.Render(fleet);
        Assert.Contains("| Host | Status | Check | Target | Value | Threshold | Message |", md);
        Assert.Contains("| web1 | Healthy | DiskUsage | / |", md);
        Assert.Contains("| db1:2222 | **Unknown** | Fleet | Connect |", md);
        var html = HtmlReport.Render(fleet);
        Assert.Contains("<th>Host</th><th>Status</th>", html);
        Assert.Contains("<td>db1:2222</td><td class=\"status unknown\">", html);
        var junit = XDocument.Parse(JUnitReport.Render(fleet, JUnitWarningMode.Pass));
        Assert.Contains(junit.Descendants("testcase"), t => (string?)t.Attribute("name") == "web1: /");
        // Local results keep the columns they always had.
        Assert.DoesNotContain("| Host |", MarkdownReport.Render(Make()));
        Assert.DoesNotContain("<th>Host</th>", HtmlReport.Render(Make()));
    }

    [Fact]
    public void Markdown_of_no_results_says_so() => Assert.Contains("No results.", MarkdownReport.Render(Make(Array.Empty<CheckResult>())));

    [Fact]
    public void Json_parses_back_with_every_property_of_the_runtime_type()
    {
        using var doc = JsonDocument.Parse(JsonReport.Render(Make()));
        var root = doc.RootElement;
        Assert.Equal("Daily check", root.GetProperty("title").GetString());
        Assert.Equal("2025-03-01T06:30:00Z", root.GetProperty("generatedAt").GetString());
        Assert.Equal(1, root.GetProperty("summary").GetProperty("critical").GetInt32());
        Assert.Equal(5, root.GetProperty("summary").GetProperty("total").GetInt32());
        var results = root.GetProperty("results");
        Assert.Equal(5, results.GetArrayLength());
        var disk = results[1];
        Assert.Equal("Critical", disk.GetProperty("status").GetString());
        Assert.Equal(1.5, disk.GetProperty("duration").GetDouble());
        Assert.Equal("2025-03-01T06:30:00Z", disk.GetProperty("timestamp").GetString());
        Assert.Equal("/", disk.GetProperty("mount").GetString());
        Assert.Equal(100L << 30, disk.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(100, disk.GetProperty("sizeGB").GetDouble());
        Assert.True(disk.GetProperty("isProblem").GetBoolean());
        Assert.Equal(95, disk.GetProperty("value").GetDouble());
        var web = results[4];
        Assert.Equal("https://web.example/health", web.GetProperty("uri").GetString());
        Assert.Equal("db", web.GetProperty("components")[0].GetProperty("component").GetString());
        Assert.Equal("16", web.GetProperty("components")[0].GetProperty("details").GetProperty("version").GetString());
        Assert.Equal("pipe | and\nnew line", results[2].GetProperty("message").GetString());
        Assert.Equal(JsonValueKind.Null, results[0].GetProperty("threshold").ValueKind);
    }

    [Fact]
    public void Json_handles_odd_values()
    {
        var odd = new CheckResult { Check = "X", Target = "t", Value = double.NaN, Message = "ünïcode <b>" };
        using var doc = JsonDocument.Parse(JsonReport.Render(Make(new[] { odd })));
        var r = doc.RootElement.GetProperty("results")[0];
        Assert.Equal(JsonValueKind.Null, r.GetProperty("value").ValueKind);
        Assert.Equal("ünïcode <b>", r.GetProperty("message").GetString());
    }

    [Fact]
    public void Yaml_parses_back_with_YamlDotNet()
    {
        var text = YamlReport.Render(Make());
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        Assert.Equal("Daily check", ((YamlScalarNode)root["title"]).Value);
        Assert.Equal("2", ((YamlScalarNode)((YamlMappingNode)root["summary"])["warning"]).Value);
        var results = (YamlSequenceNode)root["results"];
        Assert.Equal(5, results.Children.Count);
        var disk = (YamlMappingNode)results[1];
        Assert.Equal("Critical", ((YamlScalarNode)disk["status"]).Value);
        Assert.Equal("ext4", ((YamlScalarNode)disk["fileSystem"]).Value);
        Assert.Equal("pipe | and\nnew line", ((YamlScalarNode)((YamlMappingNode)results[2])["message"]).Value);

        // Strings that look like other YAML types stay strings.
        var tricky = new CheckResult { Check = "yes", Target = "null", Message = "1.5", Area = "- x: y" };
        var r2 = new YamlStream();
        r2.Load(new StringReader(YamlReport.Render(Make(new[] { tricky }))));
        var item = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)r2.Documents[0].RootNode)["results"])[0];
        Assert.Equal("yes", ((YamlScalarNode)item["check"]).Value);
        Assert.NotEqual(YamlDotNet.Core.ScalarStyle.Plain, ((YamlScalarNode)item["target"]).Style);
        Assert.Equal("- x: y", ((YamlScalarNode)item["area"]).Value);
    }

    [Fact]
    public void Html_is_self_contained_and_encodes_everything()
    {
        var xss = new CheckResult { Check = "<b>X</b>", Area = "<i>A</i>", Target = "\"><script>alert('t')</script>", Status = CheckStatus.Critical, Message = "<script>alert(1)</script> & <img src=x onerror=alert(2)>" };
        var html = HtmlReport.Render(Make(new[] { xss }, "<title>Report</title>"));
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("<b>X", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(2)&gt;", html);
        Assert.Contains("&lt;title&gt;Report&lt;/title&gt;", html);
        Assert.Contains("<style>", html);
        Assert.DoesNotContain("src=\"", html);
        Assert.DoesNotContain("href=", html);
        Assert.Contains("class=\"status critical\"", html);
    }

    [Fact]
    public void JUnit_loads_with_counts_per_suite()
    {
        var doc = new XmlDocument();
        doc.LoadXml(JUnitReport.Render(Make(), JUnitWarningMode.Pass));
        var suites = doc.DocumentElement!;
        Assert.Equal("testsuites", suites.Name);
        Assert.Equal("5", suites.GetAttribute("tests"));
        Assert.Equal("2", suites.GetAttribute("failures")); // Critical + Unknown
        Assert.Equal("0", suites.GetAttribute("skipped"));
        var host = (XmlElement)doc.SelectSingleNode("/testsuites/testsuite[@name='Host']")!;
        Assert.Equal("2", host.GetAttribute("tests"));
        Assert.Equal("1", host.GetAttribute("failures"));
        var disk = (XmlElement)host.SelectSingleNode("testcase[@classname='DiskUsage']")!;
        Assert.Equal("/", disk.GetAttribute("name"));
        Assert.Equal("1.5", disk.GetAttribute("time"));
        Assert.Equal("Critical", ((XmlElement)disk.SelectSingleNode("failure")!).GetAttribute("type"));
        var mem = (XmlElement)host.SelectSingleNode("testcase[@classname='MemoryUsage']")!;
        Assert.Null(mem.SelectSingleNode("failure"));
        Assert.Contains("pipe | and", mem.SelectSingleNode("system-out")!.InnerText);
        Assert.NotNull(doc.SelectSingleNode("/testsuites/testsuite[@name='General']/testcase[@classname='Backup']/failure"));
    }

    [Theory]
    [InlineData(JUnitWarningMode.Failure, "4", "0")]
    [InlineData(JUnitWarningMode.Skipped, "2", "2")]
    [InlineData(JUnitWarningMode.Pass, "2", "0")]
    public void JUnit_warning_modes(JUnitWarningMode mode, string failures, string skipped)
    {
        var doc = new XmlDocument();
        doc.LoadXml(JUnitReport.Render(Make(), mode));
        Assert.Equal(failures, doc.DocumentElement!.GetAttribute("failures"));
        Assert.Equal(skipped, doc.DocumentElement!.GetAttribute("skipped"));
    }

    [Fact]
    public void JUnit_survives_characters_xml_cannot_carry()
    {
        var bad = new CheckResult { Check = "C", Target = "t\u0001", Status = CheckStatus.Critical, Message = "bell\u0007 & <tag> \"q\"" };
        var doc = new XmlDocument();
        doc.LoadXml(JUnitReport.Render(Make(new[] { bad }), JUnitWarningMode.Pass));
        var failure = (XmlElement)doc.SelectSingleNode("//failure")!;
        Assert.Equal("bell\uFFFD & <tag> \"q\"", failure.GetAttribute("message"));
    }

    [Fact]
    public void GitHub_annotations_and_escaping()
    {
        var results = new[]
        {
            new CheckResult { Check = "Disk,Usage:x", Target = "/", Status = CheckStatus.Warning, Message = "/: 50% free\r\nnext" },
            new CheckResult { Check = "Mem", Target = "h", Status = CheckStatus.Critical, Message = "100%" },
            new CheckResult { Check = "Ok", Target = "h", Status = CheckStatus.Healthy, Message = "fine" },
            new CheckResult { Check = "U", Target = "t", Status = CheckStatus.Unknown, Message = "could not run" },
        };
        var lines = CiIntegration.GitHubAnnotations(results);
        Assert.Equal(new[]
        {
            "::error title=Mem::h: 100%25",
            "::warning title=Disk%2CUsage%3Ax::/: 50%25 free%0D%0Anext",
            "::error title=U::t: could not run",
        }, lines);
        Assert.Equal("a%25b%0Dc%0Ad:e,f", CiIntegration.GitHubEscapeData("a%b\rc\nd:e,f"));
        Assert.Equal("a%25b%0Dc%0Ad%3Ae%2Cf", CiIntegration.GitHubEscapeProperty("a%b\rc\nd:e,f"));
    }

    [Fact]
    public void Azure_DevOps_lines_and_escaping()
    {
        var results = new[]
        {
            new CheckResult { Check = "Disk", Target = "/", Status = CheckStatus.Warning, Message = "a;b]c\n50%" },
            new CheckResult { Check = "Mem", Target = "h", Status = CheckStatus.Critical, Message = "m" },
        };
        Assert.Equal(new[]
        {
            "##vso[task.logissue type=error]Mem h: m",
            "##vso[task.logissue type=warning]Disk /: a%3Bb%5Dc%0A50%AZP25",
        }, CiIntegration.AzureDevOpsIssues(results));
        Assert.Equal("##vso[task.uploadsummary]/tmp/r.md", CiIntegration.AzureDevOpsUploadSummary("/tmp/r.md"));
    }

    [Theory]
    [InlineData("true", null, CiSystem.GitHubActions)]
    [InlineData(null, "True", CiSystem.AzureDevOps)]
    [InlineData("false", "False", CiSystem.None)]
    [InlineData(null, null, CiSystem.None)]
    public void Detects_the_ci_system(string? github, string? tfBuild, CiSystem expected) =>
        Assert.Equal(expected, CiIntegration.Detect(n => n == "GITHUB_ACTIONS" ? github : n == "TF_BUILD" ? tfBuild : null));

    [Fact]
    public void Export_in_GitHub_Actions_appends_the_markdown_summary_and_adds_no_secrets()
    {
        var dir = Directory.CreateTempSubdirectory("opstools-gh-").FullName;
        try
        {
            var summary = Path.Combine(dir, "summary.md");
            File.WriteAllText(summary, "previous step\n");
            var vars = new Dictionary<string, string?> { ["GITHUB_ACTIONS"] = "true", ["GITHUB_STEP_SUMMARY"] = summary, ["SECRET_TOKEN"] = "s3cr3t-value" };
            var outcome = ReportExporter.Export(Make(), new ExportRequest { Format = ReportFormat.Json }, n => vars.GetValueOrDefault(n));
            Assert.Equal(CiSystem.GitHubActions, outcome.Ci);
            Assert.Equal(4, outcome.HostLines.Count);
            var text = File.ReadAllText(summary);
            Assert.StartsWith("previous step\n\n# Daily check", text);
            Assert.DoesNotContain("s3cr3t", text + outcome.Text + string.Join("\n", outcome.HostLines));
            Assert.StartsWith("{", outcome.Text);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Atomic_write_refuses_a_missing_folder_replaces_files_owner_only_and_leaves_no_temporary_file()
    {
        var dir = Directory.CreateTempSubdirectory("opstools-report-").FullName;
        try
        {
            // Like Out-File: a folder that does not exist is named, not created.
            var missing = Assert.Throws<OpsToolsException>(() => ReportFile.WriteAtomic(Path.Combine(dir, "a", "b", "report.md"), "one"));
            Assert.Equal(("ReportFolderNotFound", OpsErrorKind.NotFound), (missing.ErrorId, missing.Kind));
            Assert.Contains($"the folder '{Path.Combine(dir, "a", "b")}' does not exist", missing.Message);
            Assert.False(Directory.Exists(Path.Combine(dir, "a")));

            var path = Path.Combine(Directory.CreateDirectory(Path.Combine(dir, "a", "b")).FullName, "report.md");
            var fi = ReportFile.WriteAtomic(path, "one");
            Assert.Equal(path, fi.FullName);
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
            ReportFile.WriteAtomic(path, "two");
            Assert.Equal("two", File.ReadAllText(path));
            if (!OperatingSystem.IsWindows())
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path)); // a replaced report is owner-only too
            Assert.Equal(new[] { "report.md" }, Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));

            // The parent "folder" is a file: a clear error, and the existing report is untouched.
            var blocker = Path.Combine(dir, "file");
            File.WriteAllText(blocker, "x");
            var e = Assert.Throws<OpsToolsException>(() => ReportFile.WriteAtomic(Path.Combine(blocker, "r.md"), "y"));
            Assert.Contains(e.ErrorId, new[] { "ReportWriteFailed", "ReportFolderNotFound" });
            var folder = Assert.Throws<OpsToolsException>(() => ReportFile.WriteAtomic(Path.Combine(dir, "a"), "y"));
            Assert.Equal("ReportPathIsFolder", folder.ErrorId);
            Assert.Equal("two", File.ReadAllText(path));
            Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
        }
        finally { Directory.Delete(dir, true); }
    }
}
