using OpsTools.Engine.Health;
using OpsTools.Engine.Security;

namespace OpsTools.Engine.Tests.Health;

public class RedactionTests
{
    [Theory]
    [InlineData("https://user:pa55word@api.example/health", "https://user:***@api.example/health")]
    [InlineData("https://ghp_tokenvalue@api.example/health", "https://***@api.example/health")]
    [InlineData("https://api.example/health?token=abc123&verbose=1", "https://api.example/health?token=***&verbose=1")]
    [InlineData("https://api.example/health?x=1", "https://api.example/health?x=1")]
    public void Urls_are_shown_without_secrets(string url, string expected)
    {
        Assert.Equal(expected, Redaction.RedactUri(new Uri(url)));
    }

    [Fact]
    public void Redacted_uri_object_has_no_password()
    {
        var redacted = Redaction.RedactedUri(new Uri("http://admin:S3cret!@127.0.0.1:8080/health"));
        Assert.DoesNotContain("S3cret", redacted.ToString());
        Assert.DoesNotContain("S3cret", redacted.AbsoluteUri);
        Assert.Equal("127.0.0.1", redacted.Host);
    }

    [Theory]
    [InlineData("Host=db;Username=app;Password=s3cret;Database=app", "Host=db;Username=app;Password=***;Database=app")]
    [InlineData("Server=db;User Id=sa;Pwd=s3cret", "Server=db;User Id=sa;Pwd=***")]
    [InlineData("postgres://app:s3cret@db:5432/app", "postgres://app:***@db:5432/app")]
    public void Connection_strings_are_shown_without_secrets(string cs, string expected)
    {
        Assert.Equal(expected, Redaction.RedactConnectionString(cs));
    }

    [Theory]
    [InlineData("password", true)]
    [InlineData("DB_PASSWORD", true)]
    [InlineData("client-secret", true)]
    [InlineData("X-Api-Key", true)]
    [InlineData("access_token", true)]
    [InlineData("Authorization", true)]
    [InlineData("ConnectionString", true)]
    [InlineData("key", true)]
    [InlineData("database", false)]
    [InlineData("keyspace", false)]
    [InlineData("status", false)]
    [InlineData("monkeypatch", false)]
    public void Secret_names(string name, bool secret) => Assert.Equal(secret, Redaction.IsSecretName(name));

    [Fact]
    public void Known_secret_values_are_masked_in_text()
    {
        Assert.Equal("auth failed for *** at host", Redaction.RedactText("auth failed for abcd-token at host", new[] { "abcd-token" }));
    }

    [Fact]
    public void Probe_request_lists_its_secrets()
    {
        var r = new HealthProbeRequest
        {
            Uri = new Uri("https://u:p%40ss-word@h/health"),
            BearerToken = "tok-value",
            Headers = new Dictionary<string, string> { ["X-Api-Key"] = "key-value" },
        };
        var secrets = r.Secrets().ToList();
        Assert.Contains("tok-value", secrets);
        Assert.Contains("key-value", secrets);
        Assert.Contains("p@ss-word", secrets);
        Assert.Equal("https://u:***@h/health", r.DisplayUri);
    }

    [Theory]
    [InlineData(new int[0], "200-299")]
    [InlineData(new[] { 200 }, "200")]
    [InlineData(new[] { 200, 204 }, "200, 204")]
    [InlineData(new[] { 200, 201, 202, 301 }, "200-202, 301")]
    [InlineData(new[] { 200, 201 }, "200, 201")]
    public void Expected_status_text(int[] codes, string expected) =>
        Assert.Equal(expected, AppHealthProber.FormatExpected(codes));
}
