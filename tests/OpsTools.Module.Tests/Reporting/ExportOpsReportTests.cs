using System.Management.Automation;
using System.Runtime.Loader;
using System.Text.Json;
using System.Xml;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Reporting;

[Collection("ProcessEnvironment")]
public sealed class ExportOpsReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-export-").FullName;

    public void Dispose()
    {
        CiVariablesCleared.Reset();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    // Results built in script, as a user (or another module) would make them.
    private const string Results = """
        $results = @(
            [OpsTools.CheckResult]@{ Check = 'AppHealth'; Area = 'Health'; Target = 'api'; Status = 'Healthy'; Message = 'ok'; Value = 12 }
            [OpsTools.CheckResult]@{ Check = 'X'; Area = 'App'; Target = 't'; Status = 'Critical'; Message = 'm' }
            [OpsTools.CheckResult]@{ Check = 'Disk,Usage:'; Area = 'Host'; Target = 'a|b'; Status = 'Warning'; Message = "50% free`nsecond line" }
            [OpsTools.CheckResult]@{ Check = 'Probe'; Area = 'Host'; Target = 'h'; Status = 'Unknown'; Message = '<script>alert(1)</script>' }
        )
        """;

    /// <summary>
    /// The error that stopped the pipeline. In a script, a terminating error ends its statement and is
    /// recorded in the error stream (the script goes on), unless it is thrown from the runspace itself.
    /// </summary>
    private static ErrorRecord Failure(RunResult r) =>
        r.Terminating is IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);

    private static string Text(RunResult r) => Assert.IsType<string>(Assert.Single(r.Output).BaseObject);

    private string EnvFile(string thresholds)
    {
        var file = Path.Combine(_dir, "lab.ops.psd1");
        File.WriteAllText(file, "@{ Name = 'lab'; Host = @{ DiskMounts = @('/') }; Thresholds = @{ " + thresholds + " } }");
        return file;
    }

    [Fact]
    public void WhatIf_and_a_declined_confirmation_write_no_file_and_no_annotation()
    {
        using var s = new ModuleSession();
        var file = Path.Combine(_dir, "whatif.md");
        var r = s.Run(Results + $"\n$env:GITHUB_ACTIONS = 'true'; try {{ $results | Export-OpsReport -Path '{file}' -WhatIf }} finally {{ $env:GITHUB_ACTIONS = $null }}");
        Assert.Empty(r.Output);
        Assert.Empty(r.Errors);
        Assert.False(File.Exists(file));
        Assert.Contains("What if: Performing the operation \"Write Markdown report\" on target \"" + file + "\"", s.Host.Text);
        Assert.DoesNotContain("::error", s.Host.Text);

        s.Host.ChoiceAnswer = 2; // "No" at the confirmation prompt
        r = s.Run(Results + $"\n$results | Export-OpsReport -Path '{file}' -Confirm");
        Assert.Single(s.Host.Prompts);
        Assert.Empty(r.Output);
        Assert.False(File.Exists(file));

        s.Host.ChoiceAnswer = 0; // "Yes"
        r = s.Run(Results + $"\n$results | Export-OpsReport -Path '{file}' -Confirm");
        Assert.True(File.Exists(file));
        Assert.Empty(r.Output);
    }

    [Fact]
    public void Markdown_is_the_default_and_comes_out_as_one_string()
    {
        using var s = new ModuleSession();
        var r = s.Run(Results + "\n$results | Export-OpsReport -Title 'Morning'");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var md = Text(r);
        Assert.StartsWith("# Morning\n", md);
        Assert.Contains("**Critical: 1** · **Warning: 1** · **Unknown: 1** · Healthy: 1 · 4 results", md);
        Assert.Contains("| **Critical** | X | t |", md);
        Assert.Contains("a\\|b", md);
        Assert.Contains("50% free<br>second line", md);
        Assert.Contains("&lt;script&gt;", md);
        Assert.True(md.IndexOf("## App", StringComparison.Ordinal) < md.IndexOf("## Host", StringComparison.Ordinal));
        Assert.True(md.IndexOf("## Host", StringComparison.Ordinal) < md.IndexOf("## Health", StringComparison.Ordinal));
        Assert.DoesNotContain("::error", s.Host.Text);
    }

    [Fact]
    public void Json_keeps_derived_types_properties()
    {
        using var s = new ModuleSession();
        var json = Text(s.Run(Results + "\n@($results) + @(Get-DiskUsage -Path /) + @(Get-MemoryUsage) | Export-OpsReport -Format Json"));
        using var doc = JsonDocument.Parse(json);
        var results = doc.RootElement.GetProperty("results");
        Assert.Equal(6, results.GetArrayLength());
        Assert.Equal("OpsTools report", doc.RootElement.GetProperty("title").GetString());
        Assert.EndsWith("Z", doc.RootElement.GetProperty("generatedAt").GetString());
        Assert.Equal(1, doc.RootElement.GetProperty("summary").GetProperty("critical").GetInt32());
        Assert.Equal("Critical", results[1].GetProperty("status").GetString());
        Assert.Equal(12, results[0].GetProperty("value").GetInt32());
        var disk = results.EnumerateArray().Single(e => e.GetProperty("check").GetString() == "DiskUsage");
        Assert.Equal("/", disk.GetProperty("mount").GetString());
        Assert.True(disk.GetProperty("sizeBytes").GetInt64() > 0);
        Assert.Equal(JsonValueKind.Number, disk.GetProperty("duration").ValueKind);
        var mem = results.EnumerateArray().Single(e => e.GetProperty("check").GetString() == "MemoryUsage");
        Assert.True(mem.GetProperty("totalBytes").GetInt64() > 0);
        Assert.True(mem.TryGetProperty("swapUsedBytes", out _));
    }

    [Fact]
    public void Html_encodes_an_xss_message()
    {
        using var s = new ModuleSession();
        var html = Text(s.Run(Results + "\n$results | Export-OpsReport -Format Html -Title '<b>T</b>'"));
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html);
        Assert.Contains("&lt;b&gt;T&lt;/b&gt;", html);
    }

    [Fact]
    public void JUnit_has_a_suite_per_area_and_failures_for_critical_and_unknown()
    {
        using var s = new ModuleSession();
        var doc = new XmlDocument();
        doc.LoadXml(Text(s.Run(Results + "\n$results | Export-OpsReport -Format JUnit")));
        Assert.Equal("4", doc.DocumentElement!.GetAttribute("tests"));
        Assert.Equal("2", doc.DocumentElement.GetAttribute("failures"));
        Assert.Equal(3, doc.SelectNodes("/testsuites/testsuite")!.Count);
        Assert.NotNull(doc.SelectSingleNode("//testsuite[@name='App']/testcase[@classname='X' and @name='t']/failure"));

        doc.LoadXml(Text(s.Run(Results + "\n$results | Export-OpsReport -Format JUnit -JUnitWarningAs Failure")));
        Assert.Equal("3", doc.DocumentElement!.GetAttribute("failures"));
        doc.LoadXml(Text(s.Run(Results + "\n$results | Export-OpsReport -Format JUnit -JUnitWarningAs Skipped")));
        Assert.Equal("1", doc.DocumentElement!.GetAttribute("skipped"));
    }

    [Fact]
    public void Yaml_works_with_another_YamlDotNet_in_the_default_load_context()
    {
        // What powershell-yaml does: an older YamlDotNet, loaded into the default context first.
        var old = typeof(YamlDotNet.Serialization.Serializer).Assembly;
        Assert.Equal(new Version(13, 0, 0, 0), old.GetName().Version);
        Assert.Equal(AssemblyLoadContext.Default, AssemblyLoadContext.GetLoadContext(old));
        _ = new YamlDotNet.Serialization.SerializerBuilder().Build().Serialize(new { a = 1 });

        using var s = new ModuleSession();
        var r = s.Run(Results + "\n$results | Export-OpsReport -Format Yaml");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var yaml = Text(r);

        // The older YamlDotNet reads what the module's YamlDotNet wrote.
        var data = new YamlDotNet.Serialization.DeserializerBuilder().Build().Deserialize<Dictionary<string, object>>(yaml);
        var results = (List<object>)data["results"];
        Assert.Equal(4, results.Count);
        Assert.Equal("Critical", ((Dictionary<object, object>)results[1])["status"]);
        Assert.Equal("50% free\nsecond line", ((Dictionary<object, object>)results[2])["message"]);

        // The module's YamlDotNet lives in OpsTools' own load context, never in the default one.
        var loaded = AppDomain.CurrentDomain.GetAssemblies().Where(a => a.GetName().Name == "YamlDotNet").ToList();
        var ours = Assert.Single(loaded, a => AssemblyLoadContext.GetLoadContext(a)?.Name == "OpsTools");
        Assert.True(ours.GetName().Version!.Major >= 16);
        Assert.All(loaded.Where(a => AssemblyLoadContext.GetLoadContext(a) == AssemblyLoadContext.Default),
            a => Assert.Equal(13, a.GetName().Version!.Major));
    }

    [Fact]
    public void Path_writes_the_file_atomically_owner_only_and_prints_nothing()
    {
        using var s = new ModuleSession();
        var path = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "reports", "nested")).FullName, "daily.md");
        File.WriteAllText(Path.Combine(_dir, "keep.txt"), "x");
        var r = s.Run(Results + $"\n$results | Export-OpsReport -Path '{path}'");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output); // like Out-File and Export-Csv: cron mails whatever reaches stdout
        Assert.Equal("", s.Invoke(Results + $"\n$results | Export-OpsReport -Path '{path}' | Out-String").Single().BaseObject);
        Assert.StartsWith("# OpsTools report", File.ReadAllText(path));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        // Overwrite with another format: replaced whole, no temporary files left.
        s.Invoke(Results + $"\n$results | Export-OpsReport -Format Json -Path '{path}'");
        Assert.StartsWith("{", File.ReadAllText(path));
        Assert.Equal(new[] { "daily.md" }, Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        // A relative path resolves against the session's location.
        s.Invoke($"$null = $ExecutionContext.SessionState.Path.SetLocation('{_dir}')");
        s.Invoke(Results + "\n$results | Export-OpsReport -Format Html -Path ./r.html");
        Assert.True(File.Exists(Path.Combine(_dir, "r.html")));
    }

    [Fact]
    public void A_missing_folder_is_refused_like_Out_File_does_and_nothing_is_created()
    {
        using var s = new ModuleSession();
        var path = Path.Combine(_dir, "no", "such", "dir", "r.html");
        var r = s.Run(Results + $"\n$ran = $false; $results | ForEach-Object {{ $ran = $true; $_ }} | Export-OpsReport -Format Html -Path '{path}'; $ran");
        var failure = Failure(r);
        Assert.Contains("ReportFolderNotFound", failure.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.ObjectNotFound, failure.CategoryInfo.Category);
        Assert.Contains($"the folder '{Path.GetDirectoryName(path)}' does not exist", failure.Exception.Message);
        Assert.False(Directory.Exists(Path.Combine(_dir, "no")), "the folder tree must not be created");
        Assert.Equal(false, Assert.Single(r.Output).BaseObject); // refused before any result was consumed

        // -WhatIf on the same path: no error, nothing created.
        r = s.Run(Results + $"\n$results | Export-OpsReport -Path '{path}' -WhatIf");
        Assert.Empty(r.Errors);
        Assert.False(Directory.Exists(Path.Combine(_dir, "no")));
    }

    [Fact]
    public void Path_that_is_a_folder_is_a_terminating_error_and_nothing_is_written()
    {
        using var s = new ModuleSession();
        var r = s.Run(Results + $"\n$results | Export-OpsReport -Path '{_dir}'");
        Assert.Contains("ReportPathIsFolder", Failure(r).FullyQualifiedErrorId);
        Assert.Empty(r.Output);
        Assert.Empty(Directory.GetFiles(_dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void PassThru_passes_the_results_on_and_still_writes_the_file()
    {
        using var s = new ModuleSession();
        var path = Path.Combine(_dir, "p.md");
        var r = s.Run(Results + $"\n$results | Export-OpsReport -Path '{path}' -PassThru | Where-Object Status -eq Critical");
        var only = Assert.Single(r.Output);
        Assert.Equal("X", RunResult.Prop(only, "Check"));
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void InputObject_parameter_takes_an_array_and_rejects_non_results()
    {
        using var s = new ModuleSession();
        var md = Text(s.Run(Results + "\nExport-OpsReport -InputObject $results -Format Markdown"));
        Assert.Contains("4 results", md);
        var bad = s.Run("'not a result' | Export-OpsReport");
        Assert.NotEmpty(bad.Errors);
    }

    [Fact]
    public void GitHub_Actions_annotations_go_to_the_host_and_the_summary_file_not_the_output()
    {
        using var s = new ModuleSession();
        var summary = Path.Combine(_dir, "step_summary.md");
        File.WriteAllText(summary, "");
        try
        {
            var r = s.Run(Results + $"""

                $env:GITHUB_ACTIONS = 'true'
                $env:GITHUB_STEP_SUMMARY = '{summary}'
                $results | Export-OpsReport -Format Json
                """);
            Assert.Null(r.Terminating);
            var json = Text(r);
            Assert.DoesNotContain("::error", json);
            var host = s.Host.Text;
            Assert.Contains("::error title=X::t: m\n", host);
            Assert.Contains("::warning title=Disk%2CUsage%3A::a|b: 50%25 free%0Asecond line\n", host);
            Assert.Contains("::error title=Probe::h: <script>alert(1)</script>\n", host);
            Assert.DoesNotContain("title=AppHealth", host);
            Assert.DoesNotContain(r.Output, o => o.BaseObject.ToString()!.Contains("::"));
            var md = File.ReadAllText(summary);
            Assert.StartsWith("# OpsTools report", md);
            Assert.Contains("| **Critical** | X | t |", md);

            // -NoCiIntegration: nothing for the CI.
            s.Host.ClearText();
            s.Invoke(Results + "\n$results | Export-OpsReport -NoCiIntegration");
            Assert.DoesNotContain("::", s.Host.Text);
            Assert.Equal(md, File.ReadAllText(summary));
        }
        finally
        {
            s.Run("Remove-Item Env:GITHUB_ACTIONS, Env:GITHUB_STEP_SUMMARY -ErrorAction SilentlyContinue");
            CiVariablesCleared.Reset();
        }
    }

    [Fact]
    public void Azure_DevOps_logging_commands_go_to_the_host()
    {
        using var s = new ModuleSession();
        var path = Path.Combine(_dir, "az.md");
        try
        {
            var r = s.Run(Results + $"""

                $env:TF_BUILD = 'True'
                $results | Export-OpsReport -Path '{path}'
                """);
            Assert.Null(r.Terminating);
            Assert.Empty(r.Output);
            var host = s.Host.Text;
            Assert.Contains("##vso[task.logissue type=error]X t: m\n", host);
            Assert.Contains("##vso[task.logissue type=warning]Disk,Usage: a|b: 50%AZP25 free%0Asecond line\n", host);
            Assert.Contains($"##vso[task.uploadsummary]{path}\n", host);

            // Not Markdown: no summary upload.
            s.Host.ClearText();
            s.Invoke(Results + $"\n$results | Export-OpsReport -Format Json -Path '{Path.Combine(_dir, "az.json")}'");
            Assert.DoesNotContain("uploadsummary", s.Host.Text);
            Assert.Contains("##vso[task.logissue", s.Host.Text);
        }
        finally
        {
            s.Run("Remove-Item Env:TF_BUILD -ErrorAction SilentlyContinue");
            CiVariablesCleared.Reset();
        }
    }

    [Fact]
    public void Daily_check_that_fails_still_gets_its_report_written()
    {
        using var s = new ModuleSession();
        var env = EnvFile("DiskFreeCriticalPercent = 100");
        var report = Path.Combine(Directory.CreateDirectory(Path.Combine(_dir, "out")).FullName, "daily.md");
        var r = s.Run($"Invoke-DailyCheck -Environment '{env}' -FailOn Critical | Export-OpsReport -Path '{report}'");

        var failure = Failure(r);
        Assert.Contains("DailyCheckFailed", failure.FullyQualifiedErrorId);
        Assert.Contains("failed (-FailOn Critical)", failure.Exception.Message);
        Assert.Empty(r.Output); // the pipeline stopped before Export-OpsReport's EndProcessing
        Assert.True(File.Exists(report), "the report must be written even though the pipeline failed");
        var md = File.ReadAllText(report);
        Assert.StartsWith("# OpsTools report: lab", md);
        Assert.Contains("| **Critical** | DiskUsage | / |", md);
        Assert.Contains("MemoryUsage", md);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(report)!, "*.tmp"));

        // The same pipeline without a failure: written in EndProcessing, nothing output.
        var ok = s.Run($"Invoke-DailyCheck -Environment '{EnvFile("DiskFreeCriticalPercent = 0; DiskFreeWarningPercent = 0; MemoryWarningPercent = 100; MemoryCriticalPercent = 100")}' -FailOn Critical | Export-OpsReport -Path '{report}'");
        Assert.Null(ok.Terminating);
        Assert.Empty(ok.Errors);
        Assert.Empty(ok.Output);
        Assert.Contains("Critical: 0", File.ReadAllText(report));
    }

    [Fact]
    public void Daily_check_that_fails_in_GitHub_Actions_still_annotates()
    {
        using var s = new ModuleSession();
        var summary = Path.Combine(_dir, "summary.md");
        var report = Path.Combine(_dir, "daily.json");
        try
        {
            var r = s.Run($"""
                $env:GITHUB_ACTIONS = 'true'
                $env:GITHUB_STEP_SUMMARY = '{summary}'
                Invoke-DailyCheck -Environment '{EnvFile("DiskFreeCriticalPercent = 100")}' -FailOn Critical | Export-OpsReport -Format Json -Path '{report}'
                """);
            Assert.Contains("DailyCheckFailed", Failure(r).FullyQualifiedErrorId);
            using var doc = JsonDocument.Parse(File.ReadAllText(report));
            Assert.True(doc.RootElement.GetProperty("summary").GetProperty("critical").GetInt32() >= 1);
            Assert.Contains("::error title=DiskUsage::/: ", s.Host.Text);
            Assert.Contains("| **Critical** | DiskUsage | / |", File.ReadAllText(summary));
        }
        finally
        {
            s.Run("Remove-Item Env:GITHUB_ACTIONS, Env:GITHUB_STEP_SUMMARY -ErrorAction SilentlyContinue");
            CiVariablesCleared.Reset();
        }
    }

    [Fact]
    public void A_bad_invocation_writes_no_report()
    {
        using var s = new ModuleSession();
        var path = Path.Combine(_dir, "never.md");
        var r = s.Run(Results + $"\n$results | Export-OpsReport -Format Pdf -Path '{path}'");
        Assert.True(r.Terminating is not null || r.Errors.Count > 0);
        Assert.False(File.Exists(path));
    }
}
