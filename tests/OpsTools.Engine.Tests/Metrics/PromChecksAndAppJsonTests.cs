using System.Text.Json;
using OpsTools.Configuration;
using OpsTools.Engine.Metrics;
using OpsTools.Metrics;

namespace OpsTools.Engine.Tests.Metrics;

/// <summary>Named PromQL checks (empty and NaN are never OK unless the check says so) and jq-style paths into an app's JSON.</summary>
public class PromChecksAndAppJsonTests
{
    private static PromSeries S(double v, string? label = null) => new()
    {
        ResultType = "vector", Value = v, Labels = label is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["job"] = label },
    };

    [Fact]
    public void An_empty_result_is_Unknown_unless_the_check_says_what_empty_means()
    {
        var check = new PromCheckSettings { Name = "errors", Query = "q", Warning = 1 };
        var r = PromChecks.Judge(check, Array.Empty<PromSeries>(), "http://p", null, TimeSpan.Zero);
        Assert.Equal(CheckStatus.Unknown, r.Status);
        Assert.Contains("no series", r.Message);
        check.IfEmpty = CheckStatus.Healthy;
        Assert.Equal(CheckStatus.Healthy, PromChecks.Judge(check, Array.Empty<PromSeries>(), "http://p", null, TimeSpan.Zero).Status);
    }

    [Fact]
    public void NaN_is_Unknown_and_the_worst_series_sets_the_status()
    {
        var check = new PromCheckSettings { Name = "lat", Query = "q", Warning = 2, Critical = 5, Unit = "s" };
        var nan = PromChecks.Judge(check, new[] { S(double.NaN) }, "http://p", null, TimeSpan.Zero);
        Assert.Equal(CheckStatus.Unknown, nan.Status);
        Assert.Contains("NaN", nan.Message);
        var r = PromChecks.Judge(check, new[] { S(1, "a"), S(6, "b"), S(3, "c") }, "http://p", null, TimeSpan.Zero);
        Assert.Equal(CheckStatus.Critical, r.Status);
        Assert.Equal(6.0, r.Number);
        Assert.Contains("job=\"b\"", r.Series);
        var below = new PromCheckSettings { Name = "avail", Query = "q", Warning = 0.99, Critical = 0.95, Below = true };
        Assert.Equal(CheckStatus.Warning, PromChecks.Judge(below, new[] { S(0.97) }, "http://p", null, TimeSpan.Zero).Status);
    }

    [Theory]
    [InlineData(".queue_size", "12")]
    [InlineData("queue_size", "12")]
    [InlineData(".circuit_breakers.ai.state", "open")]
    [InlineData(".items[1].count", "7")]
    [InlineData(".items[-1].count", "7")]
    [InlineData(".[\"odd key\"]", "x")]
    [InlineData(".Queue_Size", "12")]
    public void Property_paths_are_read_as_jq_reads_them(string path, string expected)
    {
        using var doc = JsonDocument.Parse("{\"queue_size\": 12, \"circuit_breakers\": {\"ai\": {\"state\": \"open\"}}, \"items\": [{\"count\": 3}, {\"count\": 7}], \"odd key\": \"x\"}");
        Assert.True(AppJson.TryResolve(doc.RootElement, path, out var v, out var problem), problem);
        Assert.Equal(expected, v.ValueKind == JsonValueKind.String ? v.GetString() : v.GetRawText());
    }

    [Theory]
    [InlineData(".queue", "no .queue at the top (its keys: queue_size, items)")]
    [InlineData(".items[5].count", ".items has 2 item(s), no [5]")]
    [InlineData(".queue_size.x", ".queue_size is not an object")]
    public void A_missing_value_names_where_the_path_stopped(string path, string expected)
    {
        using var doc = JsonDocument.Parse("{\"queue_size\": 12, \"items\": [1, 2]}");
        Assert.False(AppJson.TryResolve(doc.RootElement, path, out _, out var problem));
        Assert.Contains(expected, problem);
    }
}
