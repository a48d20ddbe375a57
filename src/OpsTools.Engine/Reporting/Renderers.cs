using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;
using System.Xml;
using YamlDotNet.Serialization;

namespace OpsTools.Engine.Reporting;

/// <summary>Renders a <see cref="Report"/> in one of the report formats.</summary>
public static class ReportRenderer
{
    public static string Render(Report report, ReportFormat format, JUnitWarningMode junitWarnings = JUnitWarningMode.Pass) => format switch
    {
        ReportFormat.Markdown => MarkdownReport.Render(report),
        ReportFormat.Json => JsonReport.Render(report),
        ReportFormat.Html => HtmlReport.Render(report),
        ReportFormat.JUnit => JUnitReport.Render(report, junitWarnings),
        ReportFormat.Yaml => YamlReport.Render(report),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>The usual file extension of a format.</summary>
    public static string Extension(ReportFormat format) => format switch
    {
        ReportFormat.Markdown => ".md",
        ReportFormat.Json => ".json",
        ReportFormat.Html => ".html",
        ReportFormat.JUnit => ".xml",
        _ => ".yaml",
    };
}

/// <summary>GitHub-flavoured Markdown: a summary line, then a table per area, problems first.</summary>
public static class MarkdownReport
{
    public static string Render(Report report)
    {
        var sb = new StringBuilder();
        sb.Append("# ").Append(EscapeText(report.Title)).Append('\n').Append('\n');
        sb.Append(SummaryLine(report)).Append('\n');
        if (report.Results.Count == 0)
        {
            sb.Append('\n').Append("No results.").Append('\n');
            return sb.ToString();
        }
        foreach (var (area, results) in report.ByArea())
        {
            sb.Append('\n').Append("## ").Append(EscapeText(area)).Append('\n').Append('\n');
            var hosts = report.HasHosts;
            sb.Append(hosts ? "| Host | Status | Check | Target | Value | Threshold | Message |\n" : "| Status | Check | Target | Value | Threshold | Message |\n");
            sb.Append(hosts ? "| --- | --- | --- | --- | ---: | --- | --- |\n" : "| --- | --- | --- | ---: | --- | --- |\n");
            foreach (var r in results)
            {
                var status = r.Status == CheckStatus.Healthy ? "Healthy" : "**" + r.Status + "**";
                if (hosts) sb.Append("| ").Append(EscapeCell(r.ComputerName)).Append(' ');
                sb.Append("| ").Append(status)
                  .Append(" | ").Append(EscapeCell(r.Check))
                  .Append(" | ").Append(EscapeCell(r.Target))
                  .Append(" | ").Append(EscapeCell(report.FormatValue(r.Value)))
                  .Append(" | ").Append(EscapeCell(r.Threshold))
                  .Append(" | ").Append(EscapeCell(r.Message))
                  .Append(" |\n");
            }
        }
        return sb.ToString();
    }

    /// <summary>"**Critical: 1** · **Warning: 2** · Unknown: 0 · Healthy: 5 · 8 results · generated ...Z"</summary>
    public static string SummaryLine(Report report)
    {
        var s = report.Summary;
        static string Part(string name, int n) => n > 0 && name != "Healthy" ? $"**{name}: {n}**" : $"{name}: {n}";
        return string.Join(" · ",
            Part("Critical", s.Critical), Part("Warning", s.Warning), Part("Unknown", s.Unknown), Part("Healthy", s.Healthy),
            $"{s.Total} result{(s.Total == 1 ? "" : "s")}", "generated " + report.GeneratedAt.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC");
    }

    /// <summary>
    /// Text for a table cell: pipes escaped, line breaks as &lt;br&gt;, and &lt; &gt; &amp; as entities so a
    /// message cannot inject HTML into a rendered page.
    /// </summary>
    public static string EscapeCell(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case '|': sb.Append("\\|"); break;
                case '\\': sb.Append("\\\\"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '&': sb.Append("&amp;"); break;
                case '\r':
                    if (i + 1 < text.Length && text[i + 1] == '\n') i++;
                    sb.Append("<br>");
                    break;
                case '\n': sb.Append("<br>"); break;
                default:
                    if (char.IsControl(c)) sb.Append(' ');
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Text for a heading: one line, HTML-sensitive characters as entities.</summary>
    public static string EscapeText(string? text) =>
        (text ?? "").Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\r", " ").Replace("\n", " ");
}

/// <summary>JSON written with System.Text.Json's writer from the report's data tree.</summary>
public static class JsonReport
{
    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        // Non-ASCII letters stay readable; HTML-sensitive characters are still escaped.
        Encoder = JavaScriptEncoder.Create(UnicodeRanges.All),
    };

    public static string Render(Report report)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, Options))
            Write(writer, report.ToData());
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void Write(Utf8JsonWriter w, object? value)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case double d when double.IsNaN(d) || double.IsInfinity(d): w.WriteNullValue(); break;
            case float f when float.IsNaN(f) || float.IsInfinity(f): w.WriteNullValue(); break;
            case double d: w.WriteNumberValue(d); break;
            case float f: w.WriteNumberValue(f); break;
            case decimal m: w.WriteNumberValue(m); break;
            case ulong ul: w.WriteNumberValue(ul); break;
            case byte or sbyte or short or ushort or int or uint or long: w.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case IEnumerable<KeyValuePair<string, object?>> obj:
                w.WriteStartObject();
                foreach (var (k, v) in obj)
                {
                    w.WritePropertyName(k);
                    Write(w, v);
                }
                w.WriteEndObject();
                break;
            case System.Collections.IEnumerable list:
                w.WriteStartArray();
                foreach (var item in list) Write(w, item);
                w.WriteEndArray();
                break;
            default: w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture)); break;
        }
    }
}

/// <summary>YAML through YamlDotNet, from the same data tree as JSON.</summary>
public static class YamlReport
{
    public static string Render(Report report)
    {
        var serializer = new SerializerBuilder()
            .WithQuotingNecessaryStrings()
            .DisableAliases()
            .Build();
        return serializer.Serialize(ToYamlTree(report.ToData()));
    }

    // Mappings become insertion-ordered dictionaries, which YamlDotNet writes as YAML mappings.
    private static object? ToYamlTree(object? value) => value switch
    {
        IEnumerable<KeyValuePair<string, object?>> obj => obj.Aggregate(new Dictionary<string, object?>(StringComparer.Ordinal),
            (d, kv) => { d[kv.Key] = ToYamlTree(kv.Value); return d; }),
        string s => s,
        System.Collections.IEnumerable list => list.Cast<object?>().Select(ToYamlTree).ToList(),
        _ => value,
    };
}

/// <summary>One self-contained HTML page: inline CSS, no scripts, every text HTML-encoded.</summary>
public static class HtmlReport
{
    private const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1f2328;background:#fff}
        h1{font-size:1.6rem;margin-bottom:.25rem}h2{font-size:1.2rem;margin-top:2rem}
        .summary{margin:.5rem 0 1rem}.summary span{display:inline-block;padding:.15rem .6rem;margin-right:.4rem;border-radius:1rem;font-weight:600}
        .generated{color:#656d76;font-size:.9rem}
        table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{border:1px solid #d0d7de;padding:.35rem .6rem;text-align:left;vertical-align:top}
        th{background:#f6f8fa}td.value{text-align:right;white-space:nowrap}td.message{white-space:pre-wrap}
        .status{font-weight:600;white-space:nowrap}
        .critical{background:#ffebe9;color:#82071e}.warning{background:#fff8c5;color:#7d4e00}
        .unknown{background:#eaeef2;color:#424a53}.healthy{background:#dafbe1;color:#116329}
        """;

    public static string Render(Report report)
    {
        var s = report.Summary;
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        sb.Append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n");
        sb.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<title>").Append(E(report.Title)).Append("</title>\n<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n");
        sb.Append("<h1>").Append(E(report.Title)).Append("</h1>\n");
        sb.Append("<p class=\"generated\">Generated ").Append(E(Report.Iso(report.GeneratedAt))).Append(" · ")
          .Append(s.Total.ToString(CultureInfo.InvariantCulture)).Append(s.Total == 1 ? " result" : " results").Append("</p>\n");
        sb.Append("<p class=\"summary\">")
          .Append($"<span class=\"critical\">Critical: {s.Critical}</span>")
          .Append($"<span class=\"warning\">Warning: {s.Warning}</span>")
          .Append($"<span class=\"unknown\">Unknown: {s.Unknown}</span>")
          .Append($"<span class=\"healthy\">Healthy: {s.Healthy}</span>")
          .Append("</p>\n");
        if (report.Results.Count == 0) sb.Append("<p>No results.</p>\n");
        foreach (var (area, results) in report.ByArea())
        {
            sb.Append("<h2>").Append(E(area)).Append("</h2>\n<table>\n<thead><tr>").Append(report.HasHosts ? "<th>Host</th>" : "").Append("<th>Status</th><th>Check</th><th>Target</th><th>Value</th><th>Threshold</th><th>Message</th><th>Time (UTC)</th></tr></thead>\n<tbody>\n");
            foreach (var r in results)
            {
                var cls = r.Status.ToString().ToLowerInvariant();
                sb.Append("<tr class=\"").Append(cls).Append("\">");
                if (report.HasHosts) sb.Append("<td>").Append(E(r.ComputerName)).Append("</td>");
                sb
                  .Append("<td class=\"status ").Append(cls).Append("\">").Append(E(r.Status.ToString())).Append("</td>")
                  .Append("<td>").Append(E(r.Check)).Append("</td>")
                  .Append("<td>").Append(E(r.Target)).Append("</td>")
                  .Append("<td class=\"value\">").Append(E(report.FormatValue(r.Value))).Append("</td>")
                  .Append("<td>").Append(E(r.Threshold)).Append("</td>")
                  .Append("<td class=\"message\">").Append(E(r.Message)).Append("</td>")
                  .Append("<td>").Append(E(r.Timestamp.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))).Append("</td>")
                  .Append("</tr>\n");
            }
            sb.Append("</tbody>\n</table>\n");
        }
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>HTML-encodes text (&lt; &gt; &amp; &quot; &#39; and non-ASCII as references).</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");
}

/// <summary>
/// JUnit XML for CI test-result viewers: a testsuite per area, a testcase per result
/// (classname = Check, name = Target). Critical and Unknown are failures; Warning follows
/// <see cref="JUnitWarningMode"/> (default: passes, with the message in system-out).
/// </summary>
public static class JUnitReport
{
    public static string Render(Report report, JUnitWarningMode warnings)
    {
        var settings = new XmlWriterSettings
        {
            Indent = true,
            Encoding = new UTF8Encoding(false),
            OmitXmlDeclaration = false,
            NewLineChars = "\n",
        };
        using var stream = new MemoryStream();
        using (var w = XmlWriter.Create(stream, settings))
        {
            var groups = report.ByArea();
            w.WriteStartDocument();
            w.WriteStartElement("testsuites");
            w.WriteAttributeString("name", Clean(report.Title));
            WriteCounts(w, report.Results, warnings);
            w.WriteAttributeString("timestamp", Report.Iso(report.GeneratedAt));
            var id = 0;
            foreach (var (area, results) in groups)
            {
                w.WriteStartElement("testsuite");
                w.WriteAttributeString("name", Clean(area));
                w.WriteAttributeString("id", (id++).ToString(CultureInfo.InvariantCulture));
                WriteCounts(w, results, warnings);
                w.WriteAttributeString("timestamp", Report.Iso(results.Min(r => r.Timestamp)));
                foreach (var r in results)
                {
                    w.WriteStartElement("testcase");
                    w.WriteAttributeString("classname", Clean(r.Check));
                    w.WriteAttributeString("name", Clean(string.IsNullOrEmpty(r.ComputerName) ? r.Target : $"{r.ComputerName}: {r.Target}"));
                    w.WriteAttributeString("time", Seconds(r.Duration));
                    var detail = $"Status: {r.Status}\nValue: {report.FormatValue(r.Value)}\nThreshold: {r.Threshold}\nMessage: {r.Message}";
                    switch (Outcome(r.Status, warnings))
                    {
                        case "failure":
                            w.WriteStartElement("failure");
                            w.WriteAttributeString("message", Clean(r.Message));
                            w.WriteAttributeString("type", r.Status.ToString());
                            w.WriteString(Clean(detail));
                            w.WriteEndElement();
                            break;
                        case "skipped":
                            w.WriteStartElement("skipped");
                            w.WriteAttributeString("message", Clean(r.Message));
                            w.WriteEndElement();
                            break;
                    }
                    w.WriteElementString("system-out", Clean(detail));
                    w.WriteEndElement();
                }
                w.WriteEndElement();
            }
            w.WriteEndElement();
            w.WriteEndDocument();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>failure, skipped or pass, for a status.</summary>
    public static string Outcome(CheckStatus status, JUnitWarningMode warnings) => status switch
    {
        CheckStatus.Critical or CheckStatus.Unknown => "failure",
        CheckStatus.Warning => warnings switch
        {
            JUnitWarningMode.Failure => "failure",
            JUnitWarningMode.Skipped => "skipped",
            _ => "pass",
        },
        _ => "pass",
    };

    private static void WriteCounts(XmlWriter w, IReadOnlyList<CheckResult> results, JUnitWarningMode warnings)
    {
        w.WriteAttributeString("tests", results.Count.ToString(CultureInfo.InvariantCulture));
        w.WriteAttributeString("failures", results.Count(r => Outcome(r.Status, warnings) == "failure").ToString(CultureInfo.InvariantCulture));
        w.WriteAttributeString("errors", "0");
        w.WriteAttributeString("skipped", results.Count(r => Outcome(r.Status, warnings) == "skipped").ToString(CultureInfo.InvariantCulture));
        w.WriteAttributeString("time", Seconds(TimeSpan.FromTicks(results.Sum(r => r.Duration.Ticks))));
    }

    private static string Seconds(TimeSpan t) => Math.Max(0, t.TotalSeconds).ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Drops characters XML 1.0 cannot carry (control characters other than tab and line breaks).</summary>
    public static string Clean(string? text)
    {
        if (string.IsNullOrEmpty(text)) return "";
        var sb = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { sb.Append(c).Append(text[++i]); continue; }
            sb.Append(XmlConvert.IsXmlChar(c) ? c : '\uFFFD');
        }
        return sb.ToString();
    }
}
