using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Certificates;

/// <summary>The environment's certificates in the checklists: weekly all of them sorted by days left, daily the critical ones.</summary>
public sealed class CertificateChecklistTests : IClassFixture<CertificateTestSites>
{
    private readonly CertificateTestSites _sites;
    public CertificateChecklistTests(CertificateTestSites sites) => _sites = sites;

    private string Environment(string name, params string[] sites)
    {
        var path = Path.Combine(_sites.Folder, name + ".ops.psd1");
        var endpoints = string.Join(", ", sites.Select(s => $"'{_sites.Endpoint(s)}'"));
        File.WriteAllText(path, $$"""
            @{
                Name = '{{name}}'
                Certificates = @{
                    CaFile = 'ca.pem'
                    Endpoints = @( {{endpoints}} )
                    Paths = @( @{ Path = 'pem'; Label = 'files' } )
                    Labels = @{ files = @{ WarningDays = 4000; CriticalDays = 1 } }
                }
            }
            """);
        Directory.CreateDirectory(Path.Combine(_sites.Folder, "pem"));
        File.WriteAllText(Path.Combine(_sites.Folder, "pem", "root.pem"), _sites.Pki.RootPem);
        return path;
    }

    [Fact]
    public void The_weekly_maintenance_lists_every_certificate_of_the_environment_sorted_by_days_left()
    {
        using var s = new ModuleSession();
        s.Set("env", Environment("weekly", "valid", "expiring", "wronghost"));
        var r = s.Run("Invoke-WeeklyMaintenance -Environment $env");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.All(r.Output, o => Assert.True(o.S("Area") == "Certificates" && o.P("DaysLeft") is not null, o.S("Message")));
        var days = r.Output.Select(o => (int)o.P("DaysLeft")!).ToList();
        Assert.Equal(4, days.Count);
        Assert.Equal(days.OrderBy(d => d), days);
        Assert.Equal(new[] { 5, 90, 90 }, days.Take(3));
        Assert.Equal("WrongHost", r.Output.Single(o => o.S("Name") == _sites.Endpoint("wronghost")).S("Problem"));
        // The root file, under the 'files' label (warn under 4000 days): ten years left is a warning there.
        Assert.Equal("files", r.Output[3].S("Label"));
        Assert.Equal("Warning", r.Output[3].S("Status"));
        Assert.Equal("warn < 4000 days; critical < 1 days", r.Output[3].S("Threshold"));
        Assert.All(r.Output, o => Assert.Equal("weekly", o.S("Environment")));
    }

    [Fact]
    public void The_daily_check_reports_only_the_critical_certificates_or_one_healthy_line()
    {
        using var s = new ModuleSession();
        s.Set("bad", Environment("daily-bad", "valid", "expiring"));
        var r = s.Run("Invoke-DailyCheck -Environment $bad -Skip Disk, Memory");
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        Assert.Equal("Critical", o.S("Status"));
        Assert.Equal(_sites.Endpoint("expiring"), o.S("Name"));

        s.Set("good", Environment("daily-good", "valid", "fullchain"));
        var g = Assert.Single(s.Run("Invoke-DailyCheck -Environment $good -Skip Disk, Memory").Output);
        Assert.Equal("Healthy", g.S("Status"));
        Assert.Contains("3 certificate(s) checked, none critical", g.S("Message"));
        Assert.Contains($"{_sites.Endpoint("fullchain")} in 70 days", g.S("Message"));

        var skipped = s.Run("Invoke-DailyCheck -Environment $good -Skip Disk, Memory, Certificates");
        Assert.Empty(skipped.Output);
    }
}
