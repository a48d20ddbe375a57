using System.Text.Json;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Health;

/// <summary>
/// What Get-AppHealth's objects look like in the pipelines admins type after it: Select-Object,
/// Group-Object, ConvertTo-Json, Export-Csv; the order of the results; a degraded service.
/// </summary>
public class AppHealthShapeTests(HealthTestServer web) : IClassFixture<HealthTestServer>
{
    private ModuleSession Session()
    {
        var s = new ModuleSession();
        s.Set("u", web.Http("/degraded"));
        return s;
    }

    [Fact]
    public void Component_rows_carry_their_endpoints_name_so_Select_and_Group_keep_them_together()
    {
        using var s = Session();
        s.Set("env", Path.Combine(Directory.CreateTempSubdirectory("opstools-shape-").FullName, "e.ops.psd1"));
        s.Invoke($"Set-Content -Path $env -Value \"@{{ Name = 'lab'; AppHealth = @(@{{ Name = 'api'; Uri = '{web.Http("/degraded")}' }}, @{{ Name = 'web'; Uri = '{web.Http("/health")}' }}) }}\"");
        var groups = s.Invoke("Get-AppHealth -Environment $env | Group-Object Name | Sort-Object Name | ForEach-Object { '{0}={1}' -f $_.Name, $_.Count }");
        Assert.Equal(new[] { "api=4", "web=3" }, groups.Select(g => g.BaseObject.ToString()));
        var rows = s.Invoke("Get-AppHealth -Environment $env -Name api | Select-Object Name, Component, Status");
        Assert.All(rows, r => Assert.Equal("api", r.S("Name")));
        Assert.Equal(new[] { "", "database", "cache", "ai" }, rows.Select(r => r.S("Component")));
    }

    [Fact]
    public void Results_come_back_in_the_order_given_though_the_endpoints_are_probed_at_once()
    {
        using var s = Session();
        s.Set("uris", new[] { web.Http("/wait-ms/900"), web.Http("/wait-ms/10"), web.Http("/wait-ms/600"), web.Http("/text-ok") });
        var run = s.Run("Get-AppHealth -Uri $uris -Verbose");
        Assert.Equal(new[] { "/wait-ms/900", "/wait-ms/10", "/wait-ms/600", "/text-ok" }, run.Output.Select(o => new Uri(o.S("Target")).AbsolutePath));
        // Probed at once: they completed fastest first (the verbose line of each answer is written as it arrives).
        var answered = run.Verbose.Where(v => v.Contains(" -> ", StringComparison.Ordinal)).Select(v => new Uri(v[..v.IndexOf(" -> ", StringComparison.Ordinal)]).AbsolutePath).ToList();
        Assert.True(answered.IndexOf("/wait-ms/10") < answered.IndexOf("/wait-ms/600") && answered.IndexOf("/wait-ms/600") < answered.IndexOf("/wait-ms/900"), string.Join(", ", answered));
        // From the pipeline too, in input order.
        var piped = s.Invoke("$uris[3], $uris[0] | Get-AppHealth");
        Assert.Equal(new[] { "/text-ok", "/wait-ms/900" }, piped.Select(o => new Uri(o.S("Target")).AbsolutePath));
    }

    [Fact]
    public void A_service_that_answers_200_with_one_component_down_is_degraded_a_Warning_not_Critical()
    {
        using var s = Session();
        s.Set("p", web.Http("/partial-down"));
        var r = s.Invoke("Get-AppHealth $p -LatencyWarningMs 60000 -LatencyCriticalMs 60000"); // a loaded machine must not make it slow
        var ep = r[0];
        Assert.True(("Warning", "UP") == (ep.S("Status"), ep.S("ReportedStatus")), ep.S("Status") + ": " + ep.S("Message"));
        Assert.Contains("1 of 2 components not healthy: search (DOWN)", ep.S("Message"));
        var search = Assert.Single(r, o => o.S("Component") == "search");
        Assert.Equal(("Warning", "DOWN"), (search.S("Status"), search.S("ReportedStatus")));
        Assert.Contains("search reports DOWN", search.S("Message"));
        Assert.Contains("degraded", search.S("Message"));
        // -FailOn Critical-style counting finds nothing critical; a service that says it is down still is.
        Assert.Empty(s.Invoke("Get-AppHealth $p -LatencyWarningMs 60000 -LatencyCriticalMs 60000 | Where-Object Status -eq Critical"));
        s.Set("down", web.Http("/spring-down"));
        var down = s.Invoke("Get-AppHealth $down");
        Assert.Equal("Critical", down[0].S("Status"));
        Assert.Equal("Critical", Assert.Single(down, o => o.S("Component") == "db").S("Status"));
    }

    [Fact]
    public void ConvertTo_Json_round_trips_with_status_names_and_a_readable_duration()
    {
        using var s = Session();
        var json = (string)s.Invoke("Get-AppHealth $u -LatencyWarningMs 60000 -LatencyCriticalMs 60000 | ConvertTo-Json -Depth 4 -EnumsAsStrings").Single().BaseObject;
        using var doc = JsonDocument.Parse(json);
        var ep = doc.RootElement[0];
        Assert.Equal("Warning", ep.GetProperty("Status").GetString());
        Assert.Equal("ReportedUnhealthy", ep.GetProperty("Failure").GetString());
        Assert.Equal(JsonValueKind.Number, ep.GetProperty("DurationMs").ValueKind);
        Assert.True(ep.GetProperty("DurationMs").GetDouble() > 0);
        Assert.Equal("cache", doc.RootElement[2].GetProperty("Component").GetString());
        Assert.Equal(ep.GetProperty("Name").GetString(), doc.RootElement[2].GetProperty("Name").GetString());

        // Back in through ConvertFrom-Json, as another script reads it.
        var back = s.Invoke("Get-AppHealth $u -LatencyWarningMs 60000 -LatencyCriticalMs 60000 | ConvertTo-Json -Depth 4 -EnumsAsStrings | ConvertFrom-Json | Where-Object Status -eq 'Warning' | ForEach-Object { '{0}|{1}|{2}' -f $_.Name, $_.Component, $_.DurationMs.GetType().Name }");
        Assert.Equal(2, back.Count);
        Assert.All(back, b => Assert.EndsWith("|Double", b.BaseObject.ToString()));
    }

    [Fact]
    public void Export_Csv_writes_collections_as_their_items_not_as_a_type_name()
    {
        using var s = Session();
        var dir = Directory.CreateTempSubdirectory("opstools-csv-").FullName;
        try
        {
            s.Set("csv", Path.Combine(dir, "h.csv"));
            s.Invoke("Get-AppHealth $u -LatencyWarningMs 60000 -LatencyCriticalMs 60000 | Export-Csv -Path $csv");
            var text = File.ReadAllText(Path.Combine(dir, "h.csv"));
            Assert.DoesNotContain("System.Collections", text);
            Assert.DoesNotContain("OpsTools.", text);
            var rows = s.Invoke("Import-Csv -Path $csv");
            Assert.Equal("database=Healthy; cache=Warning; ai=Healthy", rows[0].S("Components"));
            Assert.Equal("Warning", rows[0].S("Status"));
            s.Set("csv2", Path.Combine(dir, "c.csv"));
            s.Invoke("Get-AppHealth $u -LatencyWarningMs 60000 -LatencyCriticalMs 60000 | Where-Object Component | Export-Csv -Path $csv2");
            Assert.DoesNotContain("System.Collections", File.ReadAllText(Path.Combine(dir, "c.csv")));
            var cache = s.Invoke("Import-Csv -Path $csv2").Single(r => r.S("Component") == "cache");
            Assert.Contains("description=eviction rate high", cache.S("Details"));
            Assert.Equal(rows[0].S("Name"), cache.S("Name"));
            Assert.True(double.TryParse(rows[0].S("DurationMs"), System.Globalization.CultureInfo.InvariantCulture, out _), rows[0].S("DurationMs"));
        }
        finally { Directory.Delete(dir, true); }
    }
}
