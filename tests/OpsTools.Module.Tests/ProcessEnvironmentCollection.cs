namespace OpsTools.Module.Tests;

/// <summary>
/// Export-OpsReport reads process-wide environment variables (GITHUB_ACTIONS, TF_BUILD ...), so every
/// test that runs it is in this one collection, which never runs in parallel with anything else.
/// The fixture clears the CI variables for the collection (the suite may itself run in CI) and puts
/// them back afterwards.
/// </summary>
[CollectionDefinition("ProcessEnvironment", DisableParallelization = true)]
public sealed class ProcessEnvironmentCollection : ICollectionFixture<CiVariablesCleared> { }

public sealed class CiVariablesCleared : IDisposable
{
    public static readonly string[] Names = { "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "TF_BUILD" };
    private readonly Dictionary<string, string?> _saved = Names.ToDictionary(n => n, Environment.GetEnvironmentVariable);

    public CiVariablesCleared()
    {
        foreach (var n in Names) Environment.SetEnvironmentVariable(n, null);
    }

    public void Dispose()
    {
        foreach (var (n, v) in _saved) Environment.SetEnvironmentVariable(n, v);
    }

    /// <summary>Restores the cleared state after a test that set variables through the runspace's $env:.</summary>
    public static void Reset()
    {
        foreach (var n in Names) Environment.SetEnvironmentVariable(n, null);
    }
}
