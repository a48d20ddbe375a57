using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Health;

/// <summary>
/// Issue 12, findings 3 and 4 through the real PowerShell engine: secret headers do not follow a redirect to another
/// origin (two real Kestrel servers on different ports), and one bad value in an environment file is one Unknown result.
/// </summary>
public sealed class HealthHardeningTests : IDisposable
{
    private const string ApiKey = "k-7H3-api-key-SECRET-value";
    private const string Token = "tk-redirect-bearer-SECRET-42";

    // "other": another origin (its own port) that records what it was sent.
    private readonly HealthServer _other = HealthServer.Start(app =>
        app.MapGet("/landing", () => Results.Json(new { status = "UP" })));
    private readonly HealthServer _home;
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-health-hard-").FullName;

    public HealthHardeningTests()
    {
        var other = _other;
        _home = HealthServer.Start(app =>
        {
            app.MapGet("/away", () => Results.Redirect(other.Http("/landing").ToString()));
            app.MapGet("/here", () => Results.Redirect("/same"));
            app.MapGet("/same", (HttpContext c) => Results.Json(new { status = c.Request.Headers["X-Api-Key"] == ApiKey ? "UP" : "DOWN" }));
            app.MapGet("/ok", () => Results.Json(new { status = "UP" }));
        });
    }

    public void Dispose()
    {
        _home.Dispose();
        _other.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static string Q(string s) => "'" + s.Replace("'", "''") + "'";

    [Fact]
    public void A_secret_header_and_a_bearer_token_are_not_sent_to_the_other_origin_a_redirect_points_at()
    {
        using var s = new ModuleSession();
        s.Set("u", _home.Http("/away").ToString());
        s.Set("t", new System.Net.NetworkCredential("", Token).SecurePassword);
        var r = s.Run($"Get-AppHealth -Uri $u -Header @{{ 'X-Api-Key' = '{ApiKey}' }} -BearerToken $t");
        Assert.Empty(r.Errors);
        Assert.Equal("Healthy", r.Output[0].S("Status"));
        Assert.Equal(1, _other.Hits.GetValueOrDefault("/landing"));
        var sent = _other.LastHeaders["/landing"];
        Assert.False(sent.ContainsKey("X-Api-Key"), "the API key reached the other origin");
        Assert.False(sent.ContainsKey("Authorization"), "the bearer token reached the other origin");
        Assert.DoesNotContain(sent.Values.SelectMany(v => v.ToArray()), v => v is not null && (v.Contains(ApiKey) || v.Contains(Token)));
        // The origin asked for got them.
        Assert.Equal(ApiKey, _home.LastHeaders["/away"]["X-Api-Key"].ToString());
    }

    [Fact]
    public void A_redirect_within_the_same_origin_keeps_the_header()
    {
        using var s = new ModuleSession();
        s.Set("u", _home.Http("/here").ToString());
        var r = s.Run($"Get-AppHealth -Uri $u -Header @{{ 'X-Api-Key' = '{ApiKey}' }}");
        Assert.Empty(r.Errors);
        Assert.Equal("Healthy", r.Output[0].S("Status"));
        Assert.Equal(1, _home.Hits.GetValueOrDefault("/same"));
    }

    [Theory]
    [InlineData("1e308")]
    [InlineData("100000")]
    [InlineData("0")]
    [InlineData("-1")]
    public void A_TimeoutSec_outside_the_parameters_range_makes_one_Unknown_result_and_the_other_endpoints_are_probed(string value)
    {
        var env = Path.Combine(_dir, "prod.ops.psd1");
        File.WriteAllText(env, $$"""
            @{
                AppHealth = @(
                    @{ Name = 'bad'; Uri = '{{_home.Http("/ok")}}'; TimeoutSec = {{value}} }
                    @{ Name = 'good'; Uri = '{{_home.Http("/ok")}}' }
                    'http://:secret@127.0.0.1:{{_home.HttpBase.Port}}/ok'
                )
            }
            """);
        using var s = new ModuleSession();
        var r = s.Run($"Get-AppHealth -Environment {Q(env)}");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var endpoints = r.Output.Where(o => o.IsEndpoint()).ToList();
        Assert.Equal(3, endpoints.Count);
        var bad = Assert.Single(endpoints, e => e.S("Name") == "bad");
        Assert.Equal("Unknown", bad.S("Status"));
        var message = bad.S("Message");
        Assert.Contains("prod.ops.psd1", message);
        Assert.Contains("TimeoutSec", message);
        Assert.Contains("0.05-3600", message);
        // Probed (on a loaded machine its latency may make it a Warning, never Unknown).
        Assert.Equal(200, Assert.Single(endpoints, e => e.S("Name") == "good").P("StatusCode"));
        // The URL with an empty user name and a password is probed and shown without the password.
        var third = Assert.Single(endpoints, e => e.S("Name") != "good" && e.S("Name") != "bad");
        Assert.Equal(200, third.P("StatusCode"));
        Assert.DoesNotContain("secret", third.S("Target"));
        Assert.DoesNotContain("secret", Results2.AllText(r, s));
    }
}
