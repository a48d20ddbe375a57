using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using OpsTools.Configuration;

namespace OpsTools.Commands.Configuration;

/// <summary>Completes <c>-Environment</c> with the *.ops.psd1 files under the typed folder.</summary>
public sealed class EnvironmentFileCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        var cwd = CompleterSupport.CurrentDirectory();
        var typedDir = Path.GetDirectoryName(word) ?? "";
        var searchDir = Path.GetFullPath(Path.Combine(cwd, typedDir));
        if (!Directory.Exists(searchDir)) yield break;
        var prefix = Path.GetFileName(word);
        IEnumerable<string> files;
        try { files = Directory.EnumerateFiles(searchDir, prefix + "*.ops.psd1").OrderBy(f => f, StringComparer.OrdinalIgnoreCase).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var file in files)
        {
            var text = typedDir.Length == 0 ? "./" + Path.GetFileName(file) : Path.Combine(typedDir, Path.GetFileName(file));
            var quoted = text.Contains(' ') ? $"'{text.Replace("'", "''")}'" : text;
            yield return new CompletionResult(quoted, Path.GetFileName(file), CompletionResultType.ParameterValue, file);
        }
    }
}

/// <summary>Completes <c>-Name</c> with the health endpoint names of the environment already given with -Environment.</summary>
public sealed class AppHealthNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var env = CompleterSupport.BoundEnvironment(fakeBoundParameters);
        if (env is null) return Array.Empty<CompletionResult>();
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return env.AppHealth.Where(e => pattern.IsMatch(e.Name))
            .Select(e => new CompletionResult(e.Name, e.Name, CompletionResultType.ParameterValue, e.Uri.ToString()));
    }
}

internal static class CompleterSupport
{
    /// <summary>PowerShell's current location (not the process's), where paths typed by the user are relative to.</summary>
    public static string CurrentDirectory()
    {
        try
        {
            var result = ScriptBlock.Create("$ExecutionContext.SessionState.Path.CurrentFileSystemLocation.ProviderPath").Invoke();
            if (result.Count > 0 && result[0]?.BaseObject is string s && s.Length > 0) return s;
        }
        catch (RuntimeException) { }
        return Environment.CurrentDirectory;
    }

    /// <summary>The environment named by an already typed -Environment argument, or null.</summary>
    public static OpsEnvironment? BoundEnvironment(IDictionary fakeBoundParameters)
    {
        if (!fakeBoundParameters.Contains("Environment")) return null;
        var value = fakeBoundParameters["Environment"] is PSObject p ? p.BaseObject : fakeBoundParameters["Environment"];
        try
        {
            return value switch
            {
                OpsEnvironment e => e,
                string path => EnvironmentFile.Load(Path.GetFullPath(Path.Combine(CurrentDirectory(), path))),
                _ => null,
            };
        }
        catch (OpsToolsException) { return null; }
    }
}
