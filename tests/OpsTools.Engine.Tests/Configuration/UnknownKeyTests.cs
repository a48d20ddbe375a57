using OpsTools.Configuration;
using OpsTools.Engine.Configuration;

namespace OpsTools.Engine.Tests.Configuration;

/// <summary>
/// Every section of an environment file refuses a key it does not know in the same words, and a key that looks like a
/// secret someone tried to write into the file gets that section's hint on where the secret goes instead.
/// </summary>
public sealed class UnknownKeyTests
{
    private static string ErrorOf(string section, object? value)
    {
        var e = Assert.Throws<OpsToolsException>(() =>
            EnvironmentReader.Read(new Dictionary<string, object?> { ["Name"] = "prod", [section] = value }, "/srv/ops/prod.ops.psd1"));
        Assert.Equal("EnvironmentFileInvalid", e.ErrorId);
        return e.Message;
    }

    private static Dictionary<string, object?> T(params (string Key, object? Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value, StringComparer.OrdinalIgnoreCase);

    public static TheoryData<string, object?, string, string> Sections => new()
    {
        { "Backup", T(("Path", "/b"), ("Pasword", "x")), "'Pasword'", "" },
        { "Kubernetes", T(("Context", "prod"), ("BearerToken", "x")), "'BearerToken'", "they stay in the kubeconfig" },
        { "Docker", T(("Host", "unix:///var/run/docker.sock"), ("Hots", "x")), "'Hots'", "" },
        { "Logs", T(("Paths", new object?[] { "/var/log/app" }), ("Path", "x")), "'Path'", "" },
        { "Databases", new object?[] { T(("Name", "app"), ("Passwd", "x")) }, "'Passwd'", "or use ~/.pgpass" },
        { "Redis", T(("Host", "127.0.0.1"), ("Auth", "x")), "'Auth'", "name the variable that holds it with PasswordVariable" },
        { "Notifications", T(("Targets", new object?[] { T(("Name", "ops"), ("Service", "Slack"), ("WebhookUrl", "x")) })), "'WebhookUrl'", "with UrlVariable or KeyVariable" },
        { "Prometheus", T(("Uri", "http://127.0.0.1:9090"), ("Token", "x")), "'Token'", "BearerTokenVariable" },
        { "Fleet", T(("Hosts", new object?[] { "web1" }), ("Password", "x")), "'Password'", "key authentication only" },
        { "Incidents", T(("Path", "/i"), ("Secret", "x")), "'Secret'", "" },
    };

    [Theory]
    [MemberData(nameof(Sections))]
    public void An_unknown_key_is_named_with_the_known_ones_and_a_secret_gets_its_hint(string section, object? value, string named, string hint)
    {
        var message = ErrorOf(section, value);
        Assert.Contains($"unknown key(s) {named}. Known keys: ", message);
        if (hint.Length > 0) Assert.Contains(hint, message);
        // The secret's value is never repeated.
        Assert.DoesNotContain("'x'", message);
    }

    [Fact]
    public void A_key_that_is_not_secret_like_gets_no_secret_hint()
    {
        var message = ErrorOf("Databases", new object?[] { T(("Name", "app"), ("Servr", "db1")) });
        Assert.Contains("unknown key(s) 'Servr'", message);
        Assert.DoesNotContain("never go in an environment file", message);
    }
}
