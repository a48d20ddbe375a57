using System.Text;
using OpsTools.Engine.Health;

namespace OpsTools.Engine.Tests.Health;

public class HealthBodyParserTests
{
    private const string Json = "application/json";

    private static HealthComponent Component(HealthBody body, string path) =>
        Assert.Single(body.Components, c => c.Path == path);

    [Fact]
    public void Runbook_shape_with_object_and_string_components()
    {
        var body = HealthBodyParser.Parse("""
            {"status":"healthy","timestamp":"2024-05-01T10:00:00Z",
             "components":{"database":{"status":"healthy","latencyMs":4},"ai":"ok","memory":{"status":"degraded","usedPercent":91}}}
            """, Json);
        Assert.Equal(HealthBodyKind.Json, body.Kind);
        Assert.Equal("healthy", body.ReportedStatus);
        Assert.Equal(CheckStatus.Healthy, body.Status);
        Assert.Equal(new[] { "database", "ai", "memory" }, body.Components.Select(c => c.Path));
        Assert.Equal(CheckStatus.Healthy, Component(body, "database").Status);
        Assert.Equal("4", Component(body, "database").Details["latencyMs"]);
        Assert.Equal("ok", Component(body, "ai").ReportedStatus);
        Assert.Equal(CheckStatus.Healthy, Component(body, "ai").Status);
        Assert.Equal(CheckStatus.Warning, Component(body, "memory").Status);
        Assert.Null(body.Error);
    }

    [Fact]
    public void Spring_Boot_actuator_with_nested_composite()
    {
        var body = HealthBodyParser.Parse("""
            {"status":"DOWN","components":{
               "db":{"status":"DOWN","details":{"database":"PostgreSQL","validationQuery":"isValid()","error":"org.postgresql.util.PSQLException: Connection refused"}},
               "diskSpace":{"status":"UP","details":{"total":499963174912,"free":91300229120,"threshold":10485760,"path":"/app/.","exists":true}},
               "ping":{"status":"UP"},
               "composite":{"status":"OUT_OF_SERVICE","components":{"primary":{"status":"UP"},"replica":{"status":"OUT_OF_SERVICE"}}}}}
            """, "application/vnd.spring-boot.actuator.v3+json");
        Assert.Equal("DOWN", body.ReportedStatus);
        Assert.Equal(CheckStatus.Critical, body.Status);
        Assert.Equal(new[] { "db", "diskSpace", "ping", "composite", "composite/primary", "composite/replica" }, body.Components.Select(c => c.Path));
        var db = Component(body, "db");
        Assert.Equal(CheckStatus.Critical, db.Status);
        Assert.Equal("PostgreSQL", db.Details["details.database"]);
        Assert.Contains("Connection refused", db.Details["details.error"]);
        Assert.Equal(db.Details["details.error"], db.Description);
        Assert.Equal("true", Component(body, "diskSpace").Details["details.exists"]);
        Assert.Equal(CheckStatus.Critical, Component(body, "composite").Status);
        Assert.Equal(CheckStatus.Healthy, Component(body, "composite/primary").Status);
        Assert.Equal(CheckStatus.Critical, Component(body, "composite/replica").Status);
        Assert.DoesNotContain(Component(body, "composite").Details.Keys, k => k.StartsWith("components", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Spring_Boot_2_0_components_under_details_and_1_x_components_beside_status()
    {
        var v20 = HealthBodyParser.Parse("""{"status":"UP","details":{"db":{"status":"UP","details":{"database":"H2"}},"redis":{"status":"DOWN"}}}""", Json);
        Assert.Equal(new[] { "db", "redis" }, v20.Components.Select(c => c.Path));
        Assert.Equal("H2", Component(v20, "db").Details["details.database"]);
        Assert.Equal(CheckStatus.Critical, Component(v20, "redis").Status);

        var v1 = HealthBodyParser.Parse("""{"status":"UP","diskSpace":{"status":"UP","free":1},"db":{"status":"UP","database":"MySQL"}}""", Json);
        Assert.Equal(new[] { "diskSpace", "db" }, v1.Components.Select(c => c.Path));
        Assert.Equal("MySQL", Component(v1, "db").Details["database"]);
    }

    [Fact]
    public void AspNetCore_health_checks_entries()
    {
        var body = HealthBodyParser.Parse("""
            {"status":"Unhealthy","totalDuration":"00:00:00.0213","entries":{
              "npgsql":{"data":{},"description":"Failed to connect to 10.0.0.5:5432","duration":"00:00:00.0201","exception":"Npgsql.NpgsqlException","status":"Unhealthy","tags":["db","ready"]},
              "self":{"data":{"uptime":"3d"},"duration":"00:00:00.0001","status":"Healthy","tags":[]}}}
            """, "application/json; charset=utf-8");
        Assert.Equal("Unhealthy", body.ReportedStatus);
        Assert.Equal(CheckStatus.Critical, body.Status);
        var npgsql = Component(body, "npgsql");
        Assert.Equal(CheckStatus.Critical, npgsql.Status);
        Assert.Equal("Failed to connect to 10.0.0.5:5432", npgsql.Description);
        Assert.Equal("00:00:00.0201", npgsql.Details["duration"]);
        Assert.Equal("db, ready", npgsql.Details["tags"]);
        Assert.Equal("3d", Component(body, "self").Details["data.uptime"]);
        Assert.Equal(CheckStatus.Healthy, Component(body, "self").Status);
    }

    [Fact]
    public void AspNetCore_degraded_maps_to_warning()
    {
        var body = HealthBodyParser.Parse("""{"status":"Degraded","entries":{"cache":{"status":"Degraded"}}}""", Json);
        Assert.Equal(CheckStatus.Warning, body.Status);
        Assert.Equal(CheckStatus.Warning, Component(body, "cache").Status);
    }

    [Fact]
    public void MicroProfile_checks_array()
    {
        var body = HealthBodyParser.Parse("""
            {"status":"DOWN","checks":[{"name":"database","status":"DOWN","data":{"error":"timeout"}},{"name":"liveness","status":"UP"}]}
            """, Json);
        Assert.Equal(new[] { "database", "liveness" }, body.Components.Select(c => c.Path));
        Assert.Equal(CheckStatus.Critical, Component(body, "database").Status);
        Assert.Equal("timeout", Component(body, "database").Details["data.error"]);
        Assert.False(Component(body, "database").Details.ContainsKey("name"));
    }

    [Fact]
    public void Ietf_health_json_checks_object_of_arrays()
    {
        var body = HealthBodyParser.Parse("""
            {"status":"warn","checks":{"db:responseTime":[{"componentId":"a","status":"pass","observedValue":12},{"componentId":"b","status":"warn","observedValue":900}],"uptime":[{"status":"pass"}]}}
            """, "application/health+json");
        Assert.Equal(CheckStatus.Warning, body.Status);
        Assert.Equal(new[] { "db:responseTime[0]", "db:responseTime[1]", "uptime" }, body.Components.Select(c => c.Path));
        Assert.Equal(CheckStatus.Warning, Component(body, "db:responseTime[1]").Status);
    }

    [Theory]
    [InlineData("""{"status":"ok"}""", "ok", CheckStatus.Healthy)]
    [InlineData("""{"status":"UP"}""", "UP", CheckStatus.Healthy)]
    [InlineData("""{"Status":"PASS"}""", "PASS", CheckStatus.Healthy)]
    [InlineData("""{"status":"green"}""", "green", CheckStatus.Healthy)]
    [InlineData("""{"status":"yellow"}""", "yellow", CheckStatus.Warning)]
    [InlineData("""{"status":"WARN"}""", "WARN", CheckStatus.Warning)]
    [InlineData("""{"status":"red"}""", "red", CheckStatus.Critical)]
    [InlineData("""{"status":"error"}""", "error", CheckStatus.Critical)]
    [InlineData("""{"status":"fail"}""", "fail", CheckStatus.Critical)]
    [InlineData("""{"status":"critical"}""", "critical", CheckStatus.Critical)]
    [InlineData("""{"status":"out-of-service"}""", "out-of-service", CheckStatus.Critical)]
    [InlineData("""{"status":"UNKNOWN"}""", "UNKNOWN", CheckStatus.Unknown)]
    [InlineData("""{"status":"sideways"}""", "sideways", CheckStatus.Unknown)]
    [InlineData("""{"healthy":true}""", "true", CheckStatus.Healthy)]
    [InlineData("""{"healthy":false}""", "false", CheckStatus.Critical)]
    [InlineData("""{"ok":true,"version":"1.2"}""", "true", CheckStatus.Healthy)]
    [InlineData("""{"status":{"code":"UP","description":""}}""", "UP", CheckStatus.Healthy)]
    [InlineData("true", "true", CheckStatus.Healthy)]
    [InlineData("\"ok\"", "ok", CheckStatus.Healthy)]
    public void Flat_and_boolean_shapes(string json, string reported, CheckStatus expected)
    {
        var body = HealthBodyParser.Parse(json, Json);
        Assert.Equal(reported, body.ReportedStatus);
        Assert.Equal(expected, body.Status);
        Assert.Empty(body.Components);
    }

    [Theory]
    [InlineData("OK", CheckStatus.Healthy)]
    [InlineData("healthy\n", CheckStatus.Healthy)]
    [InlineData("Healthy", CheckStatus.Healthy)]
    [InlineData("Degraded", CheckStatus.Warning)]
    [InlineData("Unhealthy", CheckStatus.Critical)]
    [InlineData("DOWN", CheckStatus.Critical)]
    public void Plain_text_status_words(string text, CheckStatus expected)
    {
        var body = HealthBodyParser.Parse(text, "text/plain");
        Assert.Equal(HealthBodyKind.Text, body.Kind);
        Assert.Equal(text.Trim(), body.ReportedStatus);
        Assert.Equal(expected, body.Status);
        Assert.Equal(text.Trim(), body.Excerpt);
    }

    [Fact]
    public void Text_that_is_no_status_word_says_nothing_about_health()
    {
        var body = HealthBodyParser.Parse("pong", "text/plain");
        Assert.Null(body.Status);
        Assert.Null(body.ReportedStatus);
        Assert.Equal("pong", body.Excerpt);
        var html = HealthBodyParser.Parse("<html><body><h1>Welcome to nginx!</h1>\n<p>If you see this page...</p></body></html>", "text/html");
        Assert.Null(html.Status);
        Assert.Null(html.ReportedStatus);
        Assert.StartsWith("<html><body><h1>Welcome to nginx!</h1> <p>", html.Excerpt);
    }

    [Fact]
    public void Json_without_json_content_type_is_still_read()
    {
        var body = HealthBodyParser.Parse("""{"status":"DOWN"}""", "text/plain");
        Assert.Equal(HealthBodyKind.Json, body.Kind);
        Assert.Equal(CheckStatus.Critical, body.Status);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"status":"UP",}""")]
    [InlineData("""{"status":"UP" "x":1}""")]
    [InlineData("<html>oops</html>")]
    public void Malformed_json_reports_the_parser_position(string text)
    {
        var body = HealthBodyParser.Parse(text, Json);
        Assert.Equal(HealthBodyKind.Json, body.Kind);
        Assert.NotNull(body.Error);
        Assert.Matches(@"^Malformed JSON at line \d+, byte \d+: ", body.Error);
        Assert.Null(body.Status);
        Assert.NotNull(body.Excerpt);
    }

    [Fact]
    public void Malformed_json_on_a_later_line_names_that_line()
    {
        var body = HealthBodyParser.Parse("{\n  \"status\": \"UP\",\n  \"components\": {oops}\n}", Json);
        Assert.StartsWith("Malformed JSON at line 3, byte ", body.Error);
    }

    [Theory]
    [InlineData("", Json)]
    [InlineData("   \r\n", Json)]
    [InlineData("", null)]
    [InlineData("", "text/plain")]
    public void Empty_body_is_empty_not_an_error(string text, string? contentType)
    {
        var body = HealthBodyParser.Parse(text, contentType);
        Assert.Equal(HealthBodyKind.Empty, body.Kind);
        Assert.Null(body.Error);
        Assert.Null(body.Status);
        Assert.Empty(body.Components);
    }

    [Fact]
    public void Huge_body_cut_at_the_limit_still_gives_the_top_level_status()
    {
        var sb = new StringBuilder("{\"status\":\"UP\",\"components\":{");
        for (var i = 0; sb.Length < 2 * 1024 * 1024; i++) sb.Append($"\"c{i}\":{{\"status\":\"UP\",\"details\":{{\"pad\":\"{new string('x', 200)}\"}}}},");
        sb.Append("\"last\":{\"status\":\"UP\"}}}");
        var bytes = Encoding.UTF8.GetBytes(sb.ToString());
        var cut = bytes.AsSpan(0, 1024 * 1024);

        var body = HealthBodyParser.Parse(cut, Json, truncated: true);
        Assert.True(body.Truncated);
        Assert.Equal("UP", body.ReportedStatus);
        Assert.Equal(CheckStatus.Healthy, body.Status);
        Assert.Null(body.Error);
    }

    [Fact]
    public void Huge_body_cut_without_a_status_is_malformed_and_says_it_was_cut()
    {
        var text = "[" + string.Join(",", Enumerable.Repeat("{\"n\":1}", 200_000));
        var body = HealthBodyParser.Parse(Encoding.UTF8.GetBytes(text).AsSpan(0, 1024 * 1024), Json, truncated: true);
        Assert.NotNull(body.Error);
        Assert.Contains("larger than", body.Error);
        Assert.Contains("1 MiB", body.Error);
    }

    [Fact]
    public void Huge_complete_body_parses_and_components_are_capped()
    {
        var sb = new StringBuilder("{\"status\":\"UP\",\"components\":{");
        for (var i = 0; i < 5000; i++) sb.Append($"\"c{i}\":\"UP\",");
        sb.Append("\"last\":\"UP\"}}");
        var body = HealthBodyParser.Parse(sb.ToString(), Json);
        Assert.Equal(1000, body.Components.Count);
    }

    [Fact]
    public void Long_detail_values_are_truncated()
    {
        var body = HealthBodyParser.Parse("{\"status\":\"UP\",\"components\":{\"db\":{\"status\":\"UP\",\"description\":\"" + new string('d', 5000) + "\"}}}", Json);
        var description = Component(body, "db").Details["description"];
        Assert.Equal(HealthBodyParser.MaxDetailLength, description.Length);
        Assert.EndsWith("...", description);
    }

    [Fact]
    public void Secret_looking_keys_are_masked_everywhere_in_details()
    {
        var body = HealthBodyParser.Parse("""
            {"status":"UP","components":{"db":{"status":"UP","details":{
               "password":"hunter2-pw","Secret":"s3cr3t-v","apiToken":"tok-123456","api_key":"k-987654","ConnectionString":"Host=db;Password=pw-in-cs",
               "Authorization":"Bearer abcdefghijkl","credentials":{"user":"u","pass":"p-1234"},"database":"PostgreSQL","keyspace":"app"}}}}
            """, Json);
        var d = Component(body, "db").Details;
        Assert.Equal("***", d["details.password"]);
        Assert.Equal("***", d["details.Secret"]);
        Assert.Equal("***", d["details.apiToken"]);
        Assert.Equal("***", d["details.api_key"]);
        Assert.Equal("***", d["details.ConnectionString"]);
        Assert.Equal("***", d["details.Authorization"]);
        Assert.Equal("***", d["details.credentials"]);
        Assert.Equal("PostgreSQL", d["details.database"]);
        Assert.Equal("app", d["details.keyspace"]);
        foreach (var secret in new[] { "hunter2-pw", "s3cr3t-v", "tok-123456", "k-987654", "pw-in-cs", "abcdefghijkl", "p-1234" })
            Assert.DoesNotContain(d.Values, v => v.Contains(secret));
    }

    [Fact]
    public void Secrets_inside_free_text_details_are_scrubbed()
    {
        var body = HealthBodyParser.Parse("""
            {"status":"DOWN","entries":{"npgsql":{"status":"Unhealthy","description":"cannot connect with Host=db;Username=app;Password=TopSecret99 to postgres://app:UrlSecret77@db/app"}}}
            """, Json);
        var c = Component(body, "npgsql");
        Assert.DoesNotContain("TopSecret99", c.Details["description"]);
        Assert.DoesNotContain("UrlSecret77", c.Details["description"]);
        Assert.DoesNotContain("TopSecret99", c.Description);
        Assert.Contains("Username=app", c.Details["description"]);
    }

    [Fact]
    public void Byte_order_mark_is_skipped()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("""{"status":"UP"}""")).ToArray();
        Assert.Equal(CheckStatus.Healthy, HealthBodyParser.Parse(bytes, Json).Status);
    }

    [Fact]
    public void Components_without_a_top_level_status_give_the_worst()
    {
        var body = HealthBodyParser.Parse("""{"components":{"a":"UP","b":"DOWN"}}""", Json);
        Assert.Null(body.ReportedStatus);
        Assert.Equal(CheckStatus.Critical, body.Status);
    }

    [Theory]
    [InlineData("application/json", true)]
    [InlineData("application/json; charset=utf-8", true)]
    [InlineData("application/health+json", true)]
    [InlineData("application/vnd.spring-boot.actuator.v3+json", true)]
    [InlineData("text/json", true)]
    [InlineData("text/plain", false)]
    [InlineData("application/jsonp", false)]
    [InlineData(null, false)]
    public void Json_content_types(string? contentType, bool expected) =>
        Assert.Equal(expected, HealthBodyParser.IsJsonContentType(contentType));
}
