using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Configuration;

/// <summary>Tab completion as the console asks for it (TabExpansion2).</summary>
public sealed class CompletionTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-complete-").FullName;
    private readonly ModuleSession _s = new();

    private List<string> Complete(string line) =>
        _s.Invoke($"$null = $ExecutionContext.SessionState.Path.SetLocation('{_dir}'); (TabExpansion2 -inputScript '{line.Replace("'", "''")}' -cursorColumn {line.Length}).CompletionMatches | ForEach-Object CompletionText")
          .Select(o => o.BaseObject.ToString()!).ToList();

    [Fact]
    public void Environment_path_completes_to_environment_files_in_the_current_location()
    {
        File.WriteAllText(Path.Combine(_dir, "prod.ops.psd1"), "@{ Name = 'prod' }");
        File.WriteAllText(Path.Combine(_dir, "staging.ops.psd1"), "@{ Name = 'staging' }");
        File.WriteAllText(Path.Combine(_dir, "notes.txt"), "");
        Assert.Equal(new[] { "./prod.ops.psd1", "./staging.ops.psd1" }, Complete("Get-OpsEnvironment -Path "));
        Assert.Equal(new[] { "./staging.ops.psd1" }, Complete("Get-OpsEnvironment -Path st"));
    }

    [Fact]
    public void Endpoint_names_complete_from_the_environment_already_typed()
    {
        File.WriteAllText(Path.Combine(_dir, "prod.ops.psd1"),
            "@{ AppHealth = @(@{ Name = 'api'; Uri = 'http://127.0.0.1:1/health' }, @{ Name = 'admin'; Uri = 'http://127.0.0.1:1/admin' }, @{ Name = 'web'; Uri = 'http://127.0.0.1:1/' }) }");
        Assert.Equal(new[] { "api", "admin", "web" }, Complete("Get-AppHealth -Environment ./prod.ops.psd1 -Name "));
        Assert.Equal(new[] { "api", "admin" }, Complete("Get-AppHealth -Environment ./prod.ops.psd1 -Name a"));
        Assert.Equal(new[] { "./prod.ops.psd1" }, Complete("Get-DiskUsage -Environment ./p"));
        Assert.Equal(new[] { "./prod.ops.psd1" }, Complete("Invoke-DailyCheck -Environment "));
        // Without an environment there is nothing to offer, and nothing breaks.
        Assert.Empty(Complete("Get-AppHealth -Name a"));
    }

    public void Dispose()
    {
        _s.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
