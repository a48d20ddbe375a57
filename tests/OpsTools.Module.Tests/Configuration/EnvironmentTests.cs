using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Configuration;

public sealed class EnvironmentTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-env-").FullName;
    private readonly ModuleSession _s = new();

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Sample_environment_reads_with_its_endpoints_thresholds_and_sections()
    {
        var sample = Path.Combine(RepoPaths.Root, "docs", "examples", "shop-prod.ops.psd1");
        var env = _s.Invoke($"Get-OpsEnvironment -Path '{sample}'").Single();
        Assert.Equal("shop-prod", env.Properties["Name"].Value);
        var endpoints = _s.Invoke($"(Get-OpsEnvironment '{sample}').AppHealth | ForEach-Object {{ $_.Name + '=' + $_.Uri }}").Select(o => o.ToString()).ToList();
        Assert.Equal(new[] { "api=https://api.shop.example/health", "web=https://shop.example/healthz", "ai=https://ai.shop.internal/api/ai-service?action=health" }, endpoints);
        Assert.Equal(1000.0, _s.Invoke($"(Get-OpsEnvironment '{sample}').Thresholds.LatencyWarningMs").Single().BaseObject);
        // Defaults stay where the file says nothing.
        Assert.Equal(95.0, _s.Invoke($"(Get-OpsEnvironment '{sample}').Thresholds.MemoryCriticalPercent").Single().BaseObject);
        Assert.Equal("/var/lib/postgresql", _s.Invoke($"(Get-OpsEnvironment '{sample}').DiskMounts[1]").Single().BaseObject);
        Assert.True((bool)_s.Invoke($"(Get-OpsEnvironment '{sample}').Sections.ContainsKey('Databases')").Single().BaseObject);
        Assert.Equal("app db.shop.internal 5432 shop ops", _s.Invoke($"$d = (Get-OpsEnvironment '{sample}').Databases[0]; \"$($d.Name) $($d.Server) $($d.Port) $($d.Database) $($d.User)\"").Single().BaseObject);
    }

    [Fact]
    public void The_Kubernetes_section_names_context_namespace_deployments_and_a_kubeconfig_next_to_the_file()
    {
        var path = Write("k.ops.psd1", "@{ Kubernetes = @{ Kubeconfig = 'kube/prod.yaml'; Context = 'prod'; Namespace = 'shop'; Deployments = @('api', 'web') } }");
        var r = _s.Invoke($"$k = (Get-OpsEnvironment '{path}').Kubernetes; $k.Context; $k.Namespace; $k.Deployments -join ','; $k.Kubeconfig[0]");
        Assert.Equal(new object[] { "prod", "shop", "api,web", Path.Combine(_dir, "kube", "prod.yaml") }, r.Select(o => o.BaseObject));
    }

    [Fact]
    public void The_Docker_section_names_the_engine_the_compose_project_and_a_certificate_folder_next_to_the_file()
    {
        var path = Write("d.ops.psd1", "@{ Docker = @{ Host = 'tcp://docker1:2376'; ComposeProject = 'shop'; CertPath = 'certs'; TlsVerify = $true } }");
        var r = _s.Invoke($"$d = (Get-OpsEnvironment '{path}').Docker; $d.Host; $d.ComposeProject; $d.CertPath; $d.TlsVerify");
        Assert.Equal(new object[] { "tcp://docker1:2376", "shop", Path.Combine(_dir, "certs"), true }, r.Select(o => o.BaseObject));
    }

    [Fact]
    public void Name_defaults_to_the_file_name_and_plain_strings_are_endpoints()
    {
        var path = Write("staging.ops.psd1", "@{ AppHealth = 'http://127.0.0.1:8080/health' }");
        var r = _s.Invoke($"$e = Get-OpsEnvironment '{path}'; $e.Name; $e.AppHealth[0].Name");
        Assert.Equal("staging", r[0].BaseObject);
        Assert.Equal("127.0.0.1:8080/health", r[1].BaseObject);
    }

    [Fact]
    public void A_file_that_would_run_code_is_refused_and_the_code_does_not_run()
    {
        var marker = Path.Combine(_dir, "ran.txt");
        var path = Write("evil.ops.psd1", $"@{{ Name = [System.IO.File]::WriteAllText('{marker}', 'x') }}");
        var r = _s.Run($"Get-OpsEnvironment '{path}'");
        var error = Assert.Single(r.Errors);
        Assert.Equal("EnvironmentFileInvalid", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("only literal values", error.Exception.Message);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void Syntax_errors_name_the_file_and_line()
    {
        var path = Write("broken.ops.psd1", "@{\n  Name = 'x'\n  AppHealth = @(\n}");
        var r = _s.Run($"Get-OpsEnvironment '{path}'");
        var error = Assert.Single(r.Errors);
        Assert.Contains("broken.ops.psd1", error.Exception.Message);
        Assert.Contains("line ", error.Exception.Message);
    }

    [Theory]
    [InlineData("@{ Thresholds = @{ MemWarn = 80 } }", "unknown threshold 'MemWarn'")]
    [InlineData("@{ Thresholds = @{ MemoryWarningPercent = 'high' } }", "must be a number")]
    [InlineData("@{ AppHealth = @('ftp://x/health') }", "not an absolute http:// or https:// URL")]
    [InlineData("@{ AppHealth = @(@{ Name = 'api' }) }", "needs a Uri")]
    [InlineData("@{ Databse = @() }", "unknown section(s) 'Databse'")]
    [InlineData("@{ Databases = @(@{ Name = 'app'; Password = 'hunter2' }) }", "Passwords never go in an environment file")]
    [InlineData("@{ Databases = @(@{ Server = 'db1' }) }", "needs a Name or a Database")]
    [InlineData("@{ Databases = @(@{ Name = 'app'; Port = 99999 }) }", "is not a TCP port")]
    [InlineData("@{ Kubernetes = @{ Context = 'prod'; Token = 'abc' } }", "Credentials never go in an environment file")]
    [InlineData("@{ Kubernetes = @{ Namespce = 'shop' } }", "unknown key(s) 'Namespce'")]
    [InlineData("@{ Docker = @{ Host = 'docker1' } }", "is not an engine address")]
    [InlineData("@{ Docker = @{ Project = 'shop' } }", "unknown key(s) 'Project'")]
    public void Invalid_content_is_a_clear_error(string content, string expected)
    {
        var path = Write("bad.ops.psd1", content);
        var r = _s.Run($"Get-OpsEnvironment '{path}'");
        var error = Assert.Single(r.Errors);
        Assert.Contains(expected, error.Exception.Message);
        Assert.Contains("bad.ops.psd1", error.Exception.Message);
    }

    [Fact]
    public void A_path_on_a_drive_that_does_not_exist_is_an_error_and_the_other_paths_still_read()
    {
        var good = Write("fine.ops.psd1", "@{ Name = 'fine' }");
        var r = _s.Run($"Get-OpsEnvironment -Path 'nodrive:/x.ops.psd1', '{good}'");
        var error = Assert.Single(r.Errors);
        Assert.Equal("EnvironmentFileNotFound", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("nodrive:/x.ops.psd1", error.Exception.Message);
        Assert.Equal("fine", Assert.Single(r.Output).Properties["Name"].Value);
    }

    [Fact]
    public void Missing_file_is_an_error_that_names_it()
    {
        var r = _s.Run($"Get-OpsEnvironment '{Path.Combine(_dir, "nope.ops.psd1")}'");
        var error = Assert.Single(r.Errors);
        Assert.Equal("EnvironmentFileNotFound", error.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("nope.ops.psd1", error.Exception.Message);
    }

    [Fact]
    public void Environment_parameter_takes_a_path_or_an_object_and_rejects_a_bad_file_at_binding()
    {
        var good = Write("good.ops.psd1", "@{ Name = 'good' }");
        Assert.Empty(_s.Invoke($"Invoke-DailyCheck -Environment '{good}' -Skip Disk, Memory"));
        Assert.Empty(_s.Invoke($"Get-OpsEnvironment '{good}' | Invoke-DailyCheck -Skip Disk, Memory"));
        var bad = Write("bad2.ops.psd1", "@{ Nme = 'x' }");
        var r = _s.Run($"Invoke-DailyCheck -Environment '{bad}'");
        Assert.Empty(r.Output);
        var error = Assert.Single(r.Errors);
        Assert.Equal("ParameterArgumentTransformationError,Invoke-DailyCheck", error.FullyQualifiedErrorId);
        Assert.Contains("unknown section(s) 'Nme'", error.Exception.Message);
    }

    public void Dispose()
    {
        _s.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
