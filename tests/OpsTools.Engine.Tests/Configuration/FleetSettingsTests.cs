using OpsTools.Configuration;
using OpsTools.Engine.Configuration;

namespace OpsTools.Engine.Tests.Configuration;

/// <summary>The Fleet section of an environment file: the hosts Invoke-FleetCheck -Environment runs on.</summary>
public sealed class FleetSettingsTests
{
    private static Dictionary<string, object?> Fleet(Dictionary<string, object?> fleet) => new() { ["Name"] = "prod", ["Fleet"] = fleet };

    [Fact]
    public void Reads_hosts_in_every_form_and_resolves_the_key_next_to_the_environment_file()
    {
        var env = EnvironmentReader.Read(Fleet(new()
        {
            ["Hosts"] = new object?[] { "web1", "ops@db1:2222", "[fe80::1]:22", "10.0.0.5" },
            ["UserName"] = "ops", ["KeyFilePath"] = "keys/fleet_ed25519", ["Port"] = 2200, ["ThrottleLimit"] = 8, ["TimeoutSec"] = 300,
        }), "/srv/ops/prod.ops.psd1");
        Assert.Equal(new[] { "web1", "ops@db1:2222", "[fe80::1]:22", "10.0.0.5" }, env.Fleet!.Hosts);
        Assert.Equal("/srv/ops/keys/fleet_ed25519", env.Fleet.KeyFilePath);
        Assert.Equal(("ops", 2200, 8, 300.0), (env.Fleet.UserName, env.Fleet.Port, env.Fleet.ThrottleLimit, env.Fleet.TimeoutSec));

        var home = EnvironmentReader.Read(Fleet(new() { ["Hosts"] = new object?[] { "web1" }, ["KeyFilePath"] = "~/.ssh/id_ed25519" }), "/srv/ops/prod.ops.psd1");
        Assert.Equal("~/.ssh/id_ed25519", home.Fleet!.KeyFilePath);
        Assert.Null(EnvironmentReader.Read(new Dictionary<string, object?> { ["Name"] = "x" }, null).Fleet);
    }

    [Theory]
    [InlineData("Hosts", "web 1", "Fleet.Hosts[0]: 'web 1' is not a host")]
    [InlineData("Hosts", "web1:port", "Fleet.Hosts[0]: 'web1:port' is not a host")]
    [InlineData("Port", 70000, "Fleet.Port: 70000 is not between 1 and 65535")]
    [InlineData("ThrottleLimit", 0, "Fleet.ThrottleLimit: 0 is not between 1 and 1024")]
    [InlineData("TimeoutSec", 1e308, "Fleet.TimeoutSec: 1E+308 is not between 1 and 86400 seconds")]
    [InlineData("Password", "s3cret", "key authentication only")]
    public void Names_the_bad_key_and_what_it_must_be(string key, object value, string expected)
    {
        var fleet = new Dictionary<string, object?> { ["Hosts"] = new object?[] { "web1" } };
        fleet[key] = key == "Hosts" ? new object?[] { value } : value;
        var e = Assert.Throws<OpsToolsException>(() => EnvironmentReader.Read(Fleet(fleet), "/srv/ops/prod.ops.psd1"));
        Assert.Contains(expected, e.Message);
        Assert.Contains("/srv/ops/prod.ops.psd1", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
    }
}
