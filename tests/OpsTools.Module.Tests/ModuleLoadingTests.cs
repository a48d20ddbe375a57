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
        Assert.DoesNotContain(probe.Assemblies, a => a.Name is "YamlDotNet" or "OpsTools.Engine" or "Npgsql" or "KubernetesClient" or "Docker.DotNet" or "StackExchange.Redis" or "RESPite");
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
    public void KubernetesClient_loads_on_first_cluster_command_in_the_OpsTools_context_beside_another_YamlDotNet()
    {
        // kubeconfig parsing needs YamlDotNet 18; another module's older YamlDotNet in the default context must not matter.
        var dir = Directory.CreateTempSubdirectory("opstools-kprobe-").FullName;
        try
        {
            var kubeconfig = Path.Combine(dir, "config");
            File.WriteAllText(kubeconfig, $"apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:{HealthServer.FreePort()}\n    insecure-skip-tls-verify: true\nusers:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n");
            var otherYaml = Path.Combine(AppContext.BaseDirectory, "YamlDotNet.dll");
            var probe = ImportProbe.Run(RepoPaths.ModuleManifest,
                $"try {{ Get-Deployment -Kubeconfig '{kubeconfig}' -RequestTimeoutSec 3 -ErrorAction Stop }} catch {{ $_.FullyQualifiedErrorId.Split(',')[0] }}",
                preload: new[] { otherYaml });
            Assert.True(probe.ExitCode == 0, probe.Raw);
            Assert.Equal("KubeUnreachable", probe.Output[0]); // the file was read; nothing listens there
            var client = Assert.Single(probe.Assemblies, a => a.Name == "KubernetesClient");
            Assert.Equal("OpsTools", client.LoadContext);
            Assert.Contains(probe.Assemblies, a => a.Name == "YamlDotNet" && a.LoadContext == "OpsTools");
            Assert.Contains(probe.Assemblies, a => a.Name == "YamlDotNet" && a.LoadContext == "Default");
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Docker_DotNet_loads_on_first_engine_command_in_the_OpsTools_context_only()
    {
        var probe = ImportProbe.Run(RepoPaths.ModuleManifest,
            "try { Get-Container -DockerHost unix:///tmp/opstools-no-engine.sock -ErrorAction Stop } catch { $_.FullyQualifiedErrorId.Split(',')[0] }");
        Assert.True(probe.ExitCode == 0, probe.Raw);
        Assert.Equal("DockerUnreachable", probe.Output[0]);
        var docker = Assert.Single(probe.Assemblies, a => a.Name == "Docker.DotNet");
        Assert.Equal("OpsTools", docker.LoadContext);
        Assert.StartsWith(DepsDir, docker.Location);
    }

    [Fact]
    public void StackExchange_Redis_and_its_own_dependencies_load_on_first_Redis_command_in_the_OpsTools_context_only()
    {
        var probe = ImportProbe.Run(RepoPaths.ModuleManifest,
            $"Get-RedisHealth -Server 127.0.0.1 -Port {HealthServer.FreePort()} -TimeoutSec 2 | ForEach-Object ErrorId");
        Assert.True(probe.ExitCode == 0, probe.Raw);
        Assert.Equal("RedisUnreachable", probe.Output[0]); // nothing listens there: a result, not an exception
        foreach (var name in new[] { "StackExchange.Redis", "RESPite", "System.IO.Hashing" })
        {
            Assert.True(File.Exists(Path.Combine(DepsDir, name + ".dll")), $"{name}.dll is not in deps/");
            // Whichever of them the connection attempt loaded, it came from deps/ into OpsTools' context.
            Assert.All(probe.Assemblies.Where(a => a.Name == name), a => { Assert.Equal("OpsTools", a.LoadContext); Assert.StartsWith(DepsDir, a.Location); });
        }
        Assert.Single(probe.Assemblies, a => a.Name == "StackExchange.Redis");
        Assert.False(File.Exists(Path.Combine(RepoPaths.ModuleDirectory, "StackExchange.Redis.dll")));
    }

    [Fact]
    public void Without_HOME_or_a_kubeconfig_a_cluster_command_says_how_to_log_in()
    {
        var bare = new Dictionary<string, string?> { ["HOME"] = null, ["KUBECONFIG"] = null, ["KUBERNETES_SERVICE_HOST"] = null, ["USERPROFILE"] = null };
        var probe = ImportProbe.Run(RepoPaths.ModuleManifest,
            "try { Get-Deployment -ErrorAction Stop } catch { $_.FullyQualifiedErrorId.Split(',')[0]; $_.Exception.Message }", environment: bare);
        Assert.True(probe.ExitCode == 0, probe.Raw);
        Assert.Equal("KubeconfigNotFound", probe.Output[0]);
        Assert.Contains("KUBECONFIG", probe.Output[1]);
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
