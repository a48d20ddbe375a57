using OpsTools.TestKit;

namespace OpsTools.Module.Tests;

public class ModuleLoadingTests
{
    private static readonly string DepsDir = Path.Combine(RepoPaths.ModuleDirectory, "deps");

    [Fact]
    public void Import_exports_exactly_the_commands_the_manifest_names()
    {
        using var s = new ModuleSession();
        var exported = s.Invoke("(Get-Command -Module OpsTools).Name").Select(o => o.BaseObject.ToString()).OrderBy(n => n).ToList();
        var ast = System.Management.Automation.Language.Parser.ParseFile(RepoPaths.ModuleManifest, out _, out _);
        var data = (System.Collections.Hashtable)ast.Find(a => a is System.Management.Automation.Language.HashtableAst, false)!.SafeGetValue();
        var manifest = ((object[])data["CmdletsToExport"]!).Concat((object[])data["FunctionsToExport"]!).Select(o => o.ToString()!).ToList();
        Assert.NotEmpty(exported);
        Assert.Equal(manifest.OrderBy(n => n), exported);
    }

    [Fact]
    public void Import_loads_no_dependency_until_a_command_needs_it()
    {
        var probe = ImportProbe.Run(RepoPaths.ModuleManifest);
        Assert.True(probe.ExitCode == 0, probe.Raw);
        Assert.Contains(probe.Assemblies, a => a.Name == "OpsTools");
        var fromDeps = probe.Assemblies.Where(a => a.Location.StartsWith(DepsDir, StringComparison.Ordinal)).Select(a => a.Name).ToList();
        Assert.Empty(fromDeps);
        Assert.DoesNotContain(probe.Assemblies, a => a.Name is "YamlDotNet" or "OpsTools.Engine" or "Npgsql" or "KubernetesClient");
    }

    [Fact]
    public void A_different_YamlDotNet_already_loaded_by_another_module_does_not_break_OpsTools()
    {
        // What powershell-yaml does: its own YamlDotNet, loaded into the default context first.
        var otherYaml = Path.Combine(AppContext.BaseDirectory, "YamlDotNet.dll");
        var otherVersion = System.Reflection.AssemblyName.GetAssemblyName(otherYaml).Version!.ToString();
        var script = "[OpsTools.CheckResult]@{ Check = 'Isolation'; Target = 't'; Status = 'Warning'; Message = 'yaml: works' } | Export-OpsReport -Format Yaml";
        var probe = ImportProbe.Run(RepoPaths.ModuleManifest, script, preload: new[] { otherYaml });
        Assert.True(probe.ExitCode == 0, probe.Raw);
        var yaml = string.Join("\n", probe.Output);
        Assert.Contains("Isolation", yaml);
        Assert.Contains("yaml: works", yaml);

        var yamls = probe.Assemblies.Where(a => a.Name == "YamlDotNet").ToList();
        Assert.Equal(2, yamls.Count);
        var theirs = Assert.Single(yamls, a => a.LoadContext == "Default");
        Assert.Equal(otherVersion, theirs.Version);
        var ours = Assert.Single(yamls, a => a.LoadContext == "OpsTools");
        Assert.StartsWith(DepsDir, ours.Location);
        Assert.NotEqual(theirs.Version, ours.Version);
        // The output types stay in the default context, where scripts see them.
        Assert.Contains(probe.Assemblies, a => a.Name == "OpsTools.Model" && a.LoadContext == "Default");
        Assert.Contains(probe.Assemblies, a => a.Name == "OpsTools.Engine" && a.LoadContext == "OpsTools");
    }

    [Fact]
    public void Npgsql_loads_on_first_database_command_in_the_OpsTools_context_only()
    {
        var probe = ImportProbe.Run(RepoPaths.ModuleManifest,
            $"Get-DbHealth -Server 127.0.0.1 -Port {HealthServer.FreePort()} -Database x -TimeoutSec 2 | ForEach-Object Status");
        Assert.True(probe.ExitCode == 0, probe.Raw);
        Assert.Equal("Critical", probe.Output[0]); // nothing listens there: a result, not an exception
        var npgsql = Assert.Single(probe.Assemblies, a => a.Name == "Npgsql");
        Assert.Equal("OpsTools", npgsql.LoadContext);
        Assert.StartsWith(DepsDir, npgsql.Location);
    }

    [Fact]
    public void Works_on_a_headless_host_without_HOME_or_a_temp_folder()
    {
        // cron, systemd units and CI containers often have no HOME, TEMP or profile.
        var bare = new Dictionary<string, string?>
        {
            ["HOME"] = null, ["TMPDIR"] = null, ["TEMP"] = null, ["TMP"] = null, ["USERPROFILE"] = null,
            ["XDG_CONFIG_HOME"] = null, ["XDG_CACHE_HOME"] = null, ["XDG_DATA_HOME"] = null, ["PSModulePath"] = null,
        };
        var probe = ImportProbe.Run(RepoPaths.ModuleManifest,
            "Invoke-DailyCheck | Export-OpsReport -Format Json | ForEach-Object { ([System.Text.Json.JsonDocument]::Parse($_)).RootElement.GetProperty('results').GetArrayLength() }; [string]$env:HOME",
            environment: bare);
        Assert.True(probe.ExitCode == 0, probe.Raw);
        Assert.True(int.Parse(probe.Output[0]) >= 2, probe.Raw); // at least one mount and the memory check
        Assert.Equal("", probe.Output[1]);
    }
}
