using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using OpsTools.Commands.Configuration;

namespace OpsTools.Commands.Notifications;

/// <summary>Completes -Target with the Notifications targets of the environment already typed with -Environment.</summary>
public sealed class NotificationTargetCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var env = CompleterSupport.BoundEnvironment(fakeBoundParameters);
        if (env?.Notifications is null) return Array.Empty<CompletionResult>();
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return env.Notifications.Targets.Where(t => pattern.IsMatch(t.Name))
            .Select(t => new CompletionResult(t.Name.Contains(' ') ? $"'{t.Name.Replace("'", "''")}'" : t.Name, t.Name, CompletionResultType.ParameterValue,
                $"{t.Service}{(t.Channel is null ? "" : " " + t.Channel)}"));
    }
}
