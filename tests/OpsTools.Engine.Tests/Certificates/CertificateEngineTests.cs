using OpsTools.Certificates;
using OpsTools.Configuration;
using OpsTools.Engine.Certificates;
using OpsTools.Engine.Configuration;

namespace OpsTools.Engine.Tests.Certificates;

public sealed class CertificateEngineTests
{
    [Theory]
    [InlineData("api.example.com", "api.example.com", 443, StartTlsMode.None)]
    [InlineData("api.example.com:8443", "api.example.com", 8443, StartTlsMode.None)]
    [InlineData("https://api.example.com/health", "api.example.com", 443, StartTlsMode.None)]
    [InlineData("postgres://db1:6543/shop", "db1", 6543, StartTlsMode.Postgres)]
    [InlineData("postgresql://db1", "db1", 5432, StartTlsMode.Postgres)]
    [InlineData("db1:5432", "db1", 5432, StartTlsMode.Postgres)]
    [InlineData("smtp://mail", "mail", 25, StartTlsMode.Smtp)]
    [InlineData("submission://mail", "mail", 587, StartTlsMode.Smtp)]
    [InlineData("[::1]:443", "::1", 443, StartTlsMode.None)]
    public void Endpoints_parse_to_host_port_and_STARTTLS(string text, string host, int port, StartTlsMode mode)
    {
        var parsed = TlsEndpointRequest.Parse(text, out var problem);
        Assert.Null(problem);
        Assert.Equal((host, port, mode), parsed!.Value);
    }

    [Theory]
    [InlineData("ftp://x")]
    [InlineData("host:99999")]
    [InlineData("host:abc")]
    [InlineData("")]
    public void Garbage_endpoints_say_why(string text)
    {
        Assert.Null(TlsEndpointRequest.Parse(text, out var problem));
        Assert.False(string.IsNullOrEmpty(problem));
    }

    [Theory]
    [InlineData("*.example.com", "api.example.com", true)]
    [InlineData("*.example.com", "example.com", false)]
    [InlineData("*.example.com", "a.b.example.com", false)]
    [InlineData("API.example.com", "api.EXAMPLE.com", true)]
    [InlineData("*.com", "example.com", false)]
    public void Host_names_match_as_RFC_6125_says(string pattern, string name, bool match) =>
        Assert.Equal(match, CertificateFacts.DnsMatch(pattern, name));

    [Fact]
    public void Thresholds_come_from_the_call_then_the_label_then_the_environment()
    {
        var set = new ThresholdSet { CertificateWarningDays = 40, CertificateCriticalDays = 10 };
        var settings = new CertificateSettings
        {
            Labels = new Dictionary<string, CertificateLabelThresholds>(StringComparer.OrdinalIgnoreCase) { ["manual"] = new() { WarningDays = 60 } },
        };
        Assert.Equal(new CertificateThresholds(40, 10), CertificateThresholds.For(null, set, settings));
        Assert.Equal(new CertificateThresholds(60, 10), CertificateThresholds.For("MANUAL", set, settings));
        Assert.Equal(new CertificateThresholds(60, 3), CertificateThresholds.For("manual", set, settings, null, 3));
        Assert.Equal(new CertificateThresholds(30, 7), CertificateThresholds.For("other", null, null));
    }

    [Fact]
    public void The_environment_section_is_read_and_bad_keys_are_named()
    {
        var env = EnvironmentReader.Read(new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Certificates"] = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
            {
                ["Endpoints"] = new List<object?> { "api:443", new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["Endpoint"] = "db:5432", ["StartTls"] = "postgres", ["Label"] = "manual" } },
                ["Paths"] = new List<object?> { "certs" },
                ["Kubernetes"] = true,
                ["Labels"] = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["manual"] = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["WarningDays"] = 45 } },
            },
        }, "/srv/ops/prod.ops.psd1");
        Assert.Equal(2, env.Certificates!.Endpoints.Count);
        Assert.Equal("Postgres", env.Certificates.Endpoints[1].StartTls);
        Assert.Equal("/srv/ops/certs", env.Certificates.Paths[0].Path);
        Assert.True(env.Certificates.Kubernetes);
        Assert.Equal(45, env.Certificates.Labels["manual"].WarningDays);

        var e = Assert.Throws<OpsToolsException>(() => EnvironmentReader.Read(new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Certificates"] = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase)
            {
                ["Paths"] = new List<object?> { new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase) { ["Path"] = "x.pfx", ["Password"] = "s3cret" } },
            },
        }, null));
        Assert.Contains("'Password'", e.Message);
        Assert.Contains("PasswordVariable", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
    }

    [Fact]
    public void A_PEM_parser_skips_key_blocks_and_names_a_cut_short_file()
    {
        var text = "-----BEGIN PRIVATE KEY-----\nMIIBVQ==\n-----END PRIVATE KEY-----\n-----BEGIN CERTIFICATE-----\nMIIB";
        var certs = CertificateFiles.ReadPemCertificates(text, out var problem);
        Assert.Empty(certs);
        Assert.Contains("cut short", problem);
    }
}
