using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using OpsTools.Configuration;
using OpsTools.Engine.Configuration;

namespace OpsTools.Commands.Configuration;

/// <summary>
/// Reads <c>*.ops.psd1</c> files as data, the way Import-PowerShellDataFile does: the file is parsed,
/// never run, and only literal values (strings, numbers, $true/$false/$null, @() and @{}) are accepted.
/// </summary>
internal static class EnvironmentFile
{
    public static OpsEnvironment Load(string path)
    {
        if (!File.Exists(path))
            throw new OpsToolsException("EnvironmentFileNotFound", OpsErrorKind.NotFound,
                $"Environment file '{path}' does not exist. Pass the path of a *.ops.psd1 file (see docs/about_OpsTools_Environments.md).", path);

        var ast = Parser.ParseFile(path, out _, out var errors);
        if (errors.Length > 0)
        {
            var e = errors[0];
            throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData,
                $"{path}: line {e.Extent.StartLineNumber}, column {e.Extent.StartColumnNumber}: {e.Message}", path);
        }

        var statements = ast.EndBlock?.Statements;
        var hashtable = statements is { Count: 1 } && ast.BeginBlock is null && ast.ProcessBlock is null
            ? (statements[0] as PipelineAst)?.GetPureExpression() as HashtableAst
            : null;
        if (hashtable is null)
            throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData,
                $"{path}: an environment file holds exactly one table, @{{ Name = '...'; AppHealth = @(...) ... }}, and nothing else.", path);

        object? value;
        try
        {
            value = hashtable.SafeGetValue();
        }
        catch (InvalidOperationException e)
        {
            throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData,
                $"{path}: only literal values are allowed (no commands, variables other than $true/$false/$null, or expressions): {e.Message}", path, e);
        }

        return EnvironmentReader.Read((IDictionary<string, object?>)ToPlain(value)!, Path.GetFullPath(path));
    }

    /// <summary>Hashtables become case-insensitive dictionaries and arrays lists, all the way down.</summary>
    internal static object? ToPlain(object? value) => value switch
    {
        PSObject pso => ToPlain(pso.BaseObject),
        IDictionary table => table.Cast<DictionaryEntry>().ToDictionary(
            e => e.Key.ToString() ?? "", e => ToPlain(e.Value), StringComparer.OrdinalIgnoreCase) as IDictionary<string, object?>,
        string s => s,
        IEnumerable list => list.Cast<object?>().Select(ToPlain).ToList(),
        _ => value,
    };
}
