using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Incidents;
using OpsTools.Incidents;

namespace OpsTools.Commands.Incidents;

/// <summary>
/// Base of the incident commands: which incident folder (-Path, else the environment's Incidents.Path, else
/// $env:OPSTOOLS_INCIDENT_PATH, else the user's data folder) and the environment.
/// </summary>
public abstract class IncidentCmdlet : OpsCmdlet
{
    /// <summary>The folder that holds the incident folders. Default: the environment's Incidents.Path, else $env:OPSTOOLS_INCIDENT_PATH, else the user's data folder.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public virtual OpsEnvironment? Environment { get; set; }

    /// <summary>Set by pipeline input from Get-Incident and New-Incident: the folder the incident is in. Not meant to be typed.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? IncidentRoot { get; set; }

    /// <summary>The store this invocation (or this piped incident) works in.</summary>
    protected async Task<IncidentStore> StoreAsync()
    {
        if (Path is null && IncidentRoot is { Length: > 0 } root) return new IncidentStore(root);
        var given = Path is null ? null : await InvokeOnPipelineAsync(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path));
        var store = new IncidentStore(IncidentStore.ResolveRoot(given, Environment));
        Verbose($"Incident folder: {store.Root}");
        return store;
    }

    /// <summary>The user name for a timeline entry: the given author, else the OS user.</summary>
    protected static string AuthorOr(string? author) => author is { Length: > 0 } ? author : System.Environment.UserName;

    /// <summary>Writes a failure about one incident as a non-terminating error.</summary>
    protected void IncidentError(OpsToolsException e, object? target) => Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.NotSpecified, target));
}

/// <summary>Base of the commands about one incident: -Id (bound from incident objects) and reading it.</summary>
public abstract class IncidentItemCmdlet : IncidentCmdlet
{
    /// <summary>The incident (INC-yyyyMMdd-NN); bound from Get-Incident and New-Incident objects.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("IncidentId")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(IncidentIdCompleter))]
    public string Id { get; set; } = "";

    /// <summary>The incident -Id names, or null after a non-terminating error (IncidentNotFound ...).</summary>
    protected Incident? ReadIncident(IncidentStore store)
    {
        try { return store.Read(Id); }
        catch (OpsToolsException e) { IncidentError(e, Id); return null; }
    }
}

/// <summary>Completes incident ids (-Id) from the folder the typed -Path/-Environment point at, open ones first.</summary>
public sealed class IncidentIdCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        try
        {
            var env = CompleterSupport.BoundEnvironment(fakeBoundParameters);
            var path = fakeBoundParameters.Contains("Path") ? fakeBoundParameters["Path"]?.ToString() : null;
            if (path is not null) path = System.IO.Path.GetFullPath(System.IO.Path.Combine(CompleterSupport.CurrentDirectory(), path));
            var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            return new IncidentStore(IncidentStore.ResolveRoot(path, env)).List()
                .Where(i => pattern.IsMatch(i.Id)).OrderBy(i => i.IsOpen ? 0 : 1)
                .Select(i => new CompletionResult(i.Id, i.Id, CompletionResultType.ParameterValue, $"{i.Id} [{i.Severity}] {i.Title} ({i.Status})")).ToList();
        }
        catch (Exception) { return Array.Empty<CompletionResult>(); } // completion never throws at the user
    }
}
