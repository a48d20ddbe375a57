using System.IO.Compression;
using System.Text;
using OpsTools.Engine.Metrics;
using OpsTools.Metrics;

namespace OpsTools.Engine.Tests.Metrics;

/// <summary>The exposition parser against the text format 0.0.4 and OpenMetrics 1.0 specifications and the cases Prometheus's own parser tests cover (test data written here).</summary>
public class ExpositionReaderTests
{
    private static List<MetricSample> Parse(string text, ExpositionFormat format = ExpositionFormat.Text, int buffer = 64 * 1024)
    {
        using var reader = new ExpositionReader(new MemoryStream(Encoding.UTF8.GetBytes(text)), format, bufferSize: buffer);
        var list = new List<MetricSample>();
        while (reader.Read()) list.Add(reader.ToSample("test"));
        return list;
    }

    private static ExpositionFormatException Bad(string text, ExpositionFormat format = ExpositionFormat.Text) =>
        Assert.Throws<ExpositionFormatException>(() => Parse(text, format));

    [Fact]
    public void The_text_format_example_of_the_specification_reads_with_types_help_labels_escapes_and_timestamps()
    {
        const string text = """
            # HELP http_requests_total The total number of HTTP requests.
            # TYPE http_requests_total counter
            http_requests_total{method="post",code="200"} 1027 1395066363000
            http_requests_total{method="post",code="400"}    3 1395066363000

            # Escaping in label values:
            msdos_file_access_time_seconds{path="C:\\DIR\\FILE.TXT",error="Cannot find file:\n\"FILE.TXT\""} 1.458255915e9

            # Minimalistic line:
            metric_without_timestamp_and_labels 12.47

            # A weird metric from before the epoch:
            something_weird{problem="division by zero"} +Inf -3982045

            # A histogram, which has a pretty complex representation in the text format:
            # HELP http_request_duration_seconds A histogram of the request duration.
            # TYPE http_request_duration_seconds histogram
            http_request_duration_seconds_bucket{le="0.05"} 24054
            http_request_duration_seconds_bucket{le="0.1"} 33444
            http_request_duration_seconds_bucket{le="+Inf"} 144320
            http_request_duration_seconds_sum 53423
            http_request_duration_seconds_count 144320

            # Finally a summary, which has a complex representation, too:
            # HELP rpc_duration_seconds A summary of the RPC duration in seconds.
            # TYPE rpc_duration_seconds summary
            rpc_duration_seconds{quantile="0.5"} 4773
            rpc_duration_seconds_sum 1.7560473e+07
            rpc_duration_seconds_count 2693

            """;
        var s = Parse(text);
        Assert.Equal(13, s.Count);
        Assert.Equal("http_requests_total", s[0].Name);
        Assert.Equal(MetricType.Counter, s[0].Type);
        Assert.Equal("The total number of HTTP requests.", s[0].Help);
        Assert.Equal(new[] { "method", "code" }, s[0].Labels.Keys);
        Assert.Equal(1027, s[0].Value);
        Assert.Equal(DateTime.UnixEpoch.AddMilliseconds(1395066363000), s[0].Timestamp);
        Assert.Equal(3, s[1].Value);
        Assert.Equal(@"C:\DIR\FILE.TXT", s[2].Labels["path"]);
        Assert.Equal("Cannot find file:\n\"FILE.TXT\"", s[2].Labels["error"]);
        Assert.Equal(1.458255915e9, s[2].Value);
        Assert.Equal(MetricType.Unknown, s[3].Type);
        Assert.Null(s[3].Timestamp);
        Assert.Equal(double.PositiveInfinity, s[4].Value);
        Assert.Equal(DateTime.UnixEpoch.AddMilliseconds(-3982045), s[4].Timestamp);
        Assert.All(s.Skip(5).Take(5), x => { Assert.Equal("http_request_duration_seconds", x.Family); Assert.Equal(MetricType.Histogram, x.Type); });
        Assert.Equal("+Inf", s[7].Labels["le"]);
        Assert.All(s.Skip(10), x => Assert.Equal(MetricType.Summary, x.Type));
        Assert.Equal(1.7560473e+07, s[11].Value);
    }

    [Fact]
    public void Blanks_trailing_commas_labels_without_commas_and_tabs_are_taken_as_Prometheus_takes_them()
    {
        var s = Parse("# \tTYPE go_gc_duration_seconds summary\n" +
                      "go_gc_duration_seconds{quantile=\"0.25\",} 7.424100000000001e-05\n" +
                      "go_gc_duration_seconds { quantile = \"1.0\", a = \"b\" } 8.3835e-05\n" +
                      "go_gc_duration_seconds { quantile = \"2.0\" a = \"b\" } 8.3835e-05\n" +
                      "some:aggregate:rate5m{a_b=\"c\"}\t1\n" +
                      "go_goroutines 33  \t123123\n" +
                      "_metric_starting_with_underscore 1\n" +
                      "testmetric{label=\"\\\"bar\\\"\"} 1\n" +
                      "# HELP nohelp2 \n" +
                      "null_byte_metric{a=\"abc\0\"} 1\n");
        Assert.Equal(MetricType.Summary, s[0].Type);
        Assert.Equal("0.25", s[0].Labels["quantile"]);
        Assert.Equal(7.424100000000001e-05, s[0].Value);
        Assert.Equal("b", s[1].Labels["a"]);
        Assert.Equal("2.0", s[2].Labels["quantile"]);
        Assert.Equal("b", s[2].Labels["a"]);
        Assert.Equal("some:aggregate:rate5m", s[3].Name);
        Assert.Equal(DateTime.UnixEpoch.AddMilliseconds(123123), s[4].Timestamp);
        Assert.Equal("\"bar\"", s[6].Labels["label"]);
        Assert.Equal("abc\0", s[7].Labels["a"]);
    }

    [Theory]
    [InlineData("NaN", double.NaN)]
    [InlineData("nan", double.NaN)]
    [InlineData("+Inf", double.PositiveInfinity)]
    [InlineData("-Inf", double.NegativeInfinity)]
    [InlineData("Inf", double.PositiveInfinity)]
    [InlineData("-inf", double.NegativeInfinity)]
    [InlineData("1e-3", 0.001)]
    [InlineData("-0.5", -0.5)]
    [InlineData("1.7976931348623157e308", double.MaxValue)]
    public void Values_are_read_as_Go_reads_them(string text, double expected)
    {
        var s = Parse($"m {text}\n").Single();
        Assert.Equal(expected, s.Value);
    }

    [Theory]
    [InlineData("a\n", "no value")]
    [InlineData("a{b='c'} 1\n", "not quoted")]
    [InlineData("a{b=\n", "not quoted")]
    [InlineData("a true\n", "not a number")]
    [InlineData("foo 1_2\n", "not a number")]
    [InlineData("foo 0x1p-3\n", "not a number")]
    [InlineData("foo 0 1_2\n", "not a timestamp")]
    [InlineData("{a=\"ok\"} 1\n", "neither a sample nor a comment")]
    [InlineData("# TYPE #\n", "without a metric name")]
    [InlineData("empty_label_name{=\"\"} 0\n", "invalid label name")]
    [InlineData("a{b=\"c\",b=\"d\"} 1\n", "appears twice")]
    [InlineData("# TYPE a histogrammm\n", "unknown metric type")]
    [InlineData("a 1 2 3\n", "unexpected text")]
    [InlineData("\u0001\u0002garbage\n", "neither a sample")]
    public void Garbage_is_an_error_that_names_the_line_and_the_problem(string text, string expected)
    {
        var e = Bad(text);
        Assert.Contains(expected, e.Message);
        Assert.Equal(1, e.Line);
        Assert.Equal("MetricsFormatInvalid", e.ErrorId);
    }

    [Fact]
    public void Invalid_UTF8_in_a_label_value_is_an_error()
    {
        var bytes = new byte[] { (byte)'a', (byte)'{', (byte)'b', (byte)'=', (byte)'"', 0xff, (byte)'"', (byte)'}', (byte)' ', (byte)'1', (byte)'\n' };
        using var reader = new ExpositionReader(new MemoryStream(bytes), ExpositionFormat.Text);
        var e = Assert.Throws<ExpositionFormatException>(() => reader.Read());
        Assert.Contains("UTF-8", e.Message);
    }

    [Fact]
    public void An_exposition_cut_in_the_middle_of_a_line_is_an_error_not_a_smaller_value()
    {
        var e = Bad("a 1\nhttp_requests_total{code=\"200\"} 12");
        Assert.Contains("cut short", e.Message);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void OpenMetrics_reads_units_created_exemplars_and_second_timestamps_and_needs_EOF()
    {
        const string text = "# TYPE acme_http_router_request_seconds summary\n" +
                            "# UNIT acme_http_router_request_seconds seconds\n" +
                            "# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.\n" +
                            "acme_http_router_request_seconds_sum{path=\"/api/v1\",method=\"GET\"} 9036.32\n" +
                            "acme_http_router_request_seconds_count{path=\"/api/v1\",method=\"GET\"} 807283.0\n" +
                            "acme_http_router_request_seconds_created{path=\"/api/v1\",method=\"GET\"} 1605281325.0\n" +
                            "# TYPE foo counter\n" +
                            "foo_total 17.0 1520879607.789 # {id=\"counter-test\"} 5\n" +
                            "foo_created 1520430000.123\n" +
                            "# TYPE hist histogram\n" +
                            "hist_bucket{le=\"0.01\"} 0 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n" +
                            "hist_bucket{le=\"+Inf\"} 17\n" +
                            "# EOF\n";
        var s = Parse(text, ExpositionFormat.OpenMetrics);
        Assert.Equal(7, s.Count);
        Assert.Equal("seconds", s[0].Unit);
        Assert.Equal(MetricType.Summary, s[2].Type);
        Assert.Equal("acme_http_router_request_seconds", s[2].Family);
        Assert.Equal("foo", s[3].Family);
        Assert.Equal(MetricType.Counter, s[3].Type);
        Assert.Equal(17.0, s[3].Value);
        Assert.Equal(DateTime.UnixEpoch.AddMilliseconds(1520879607789), s[3].Timestamp);
        Assert.Equal(MetricType.Counter, s[4].Type);
        Assert.Equal(0, s[5].Value);
        Assert.Equal(17, s[6].Value);
    }

    [Fact]
    public void OpenMetrics_without_EOF_was_cut_short_and_text_after_EOF_is_refused()
    {
        Assert.Contains("without '# EOF'", Bad("# TYPE a gauge\na 1\n", ExpositionFormat.OpenMetrics).Message);
        Assert.Contains("after '# EOF'", Bad("a 1\n# EOF\nb 2\n", ExpositionFormat.OpenMetrics).Message);
        Assert.Contains("empty line", Bad("a 1\n\n# EOF\n", ExpositionFormat.OpenMetrics).Message);
    }

    [Fact]
    public void A_line_longer_than_the_buffer_grows_it_and_a_huge_one_is_refused()
    {
        var longValue = new string('x', 5000);
        var s = Parse($"a{{v=\"{longValue}\"}} 1\nb 2\n", buffer: 1024);
        Assert.Equal(longValue, s[0].Labels["v"]);
        Assert.Equal(2, s[1].Value);
        var huge = new string('y', ExpositionReader.MaxLineBytes + 10);
        Assert.Contains("longer than", Bad($"a{{v=\"{huge}\"}} 1\n").Message);
    }

    [Fact]
    public void Reading_in_small_chunks_gives_the_same_samples_as_reading_at_once()
    {
        var sb = new StringBuilder("# TYPE h histogram\n");
        for (var i = 0; i < 2000; i++) sb.Append($"h_bucket{{route=\"/r{i % 17}\",le=\"{i % 10}\"}} {i}.5\n");
        var text = sb.ToString();
        var once = Parse(text);
        var chunked = Parse(text, buffer: 1024);
        Assert.Equal(2000, once.Count);
        Assert.Equal(once.Select(x => x.ToString()), chunked.Select(x => x.ToString()));
    }

    [Fact]
    public async Task A_gzip_stream_and_an_async_read_give_the_samples()
    {
        var ms = new MemoryStream();
        await using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true))
            gz.Write(Encoding.UTF8.GetBytes("# TYPE up gauge\nup{job=\"a\"} 1\nup{job=\"b\"} 0\n"));
        ms.Position = 0;
        using var reader = new ExpositionReader(new GZipStream(ms, CompressionMode.Decompress), ExpositionFormat.Text);
        var values = new List<double>();
        while (await reader.ReadAsync()) values.Add(reader.Value);
        Assert.Equal(new[] { 1.0, 0.0 }, values);
        Assert.Equal(3, reader.LineNumber);
    }

    [Fact]
    public void The_format_comes_from_the_content_type()
    {
        Assert.Equal(ExpositionFormat.OpenMetrics, MetricsScraper.FormatOf("application/openmetrics-text; version=1.0.0; charset=utf-8"));
        Assert.Equal(ExpositionFormat.Text, MetricsScraper.FormatOf("text/plain; version=0.0.4"));
        Assert.Equal(ExpositionFormat.Text, MetricsScraper.FormatOf(null));
    }
}
