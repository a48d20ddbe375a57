using OpsTools.Configuration;

namespace OpsTools.Engine.Tests;

public class ThresholdSetTests
{
    [Fact]
    public void Defaults_are_the_runbook_values()
    {
        var t = new ThresholdSet();
        Assert.Equal(85, t.MemoryWarningPercent);
        Assert.Equal(95, t.MemoryCriticalPercent);
        Assert.Equal(10, t.DiskFreeCriticalPercent);
        Assert.Equal(2000, t.LatencyWarningMs);
        Assert.Equal(75, t.DbConnectionsWarningPercent);
    }

    [Fact]
    public void Unknown_name_is_an_error_that_lists_valid_names()
    {
        var e = Assert.Throws<ArgumentException>(() => new ThresholdSet().Apply(new Dictionary<string, object?> { ["MemWarn"] = 80 }, "prod.ops.psd1"));
        Assert.Contains("MemWarn", e.Message);
        Assert.Contains("MemoryWarningPercent", e.Message);
        Assert.Contains("prod.ops.psd1", e.Message);
    }
}
