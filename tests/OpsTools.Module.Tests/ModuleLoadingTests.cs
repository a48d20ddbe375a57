using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests;

public class ModuleLoadingTests
{
    [Fact]
    public void Import_exports_exactly_the_commands_the_manifest_names()
    {
        using var s = new ModuleSession();
        var names = s.Invoke("(Get-Command -Module OpsTools).Name").Select(o => o.BaseObject.ToString()).OrderBy(n => n).ToList();
        Assert.Equal(new[] { "Export-OpsReport", "Get-AppHealth", "Get-DiskUsage", "Get-MemoryUsage", "Get-OpsEnvironment", "Invoke-DailyCheck" }
            .Where(n => names.Contains(n) || true).OrderBy(n => n), names);
    }
}
