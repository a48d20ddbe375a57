using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using OpsTools.Commands.Configuration;
using OpsTools.Configuration;

namespace OpsTools.Commands.Metrics;

/// <summary>Completes names from the Metrics area's sections of the environment already typed with -Environment.</summary>
public abstract class MetricsNameCompleterBase : IArgumentCompleter
{
    protected abstract IEnumerable<(string Name, string Tip)> Names(OpsEnvironment env);

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var env = CompleterSupport.BoundEnvironment(fakeBoundParameters);
        if (env is null) return Array.Empty<CompletionResult>();
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return Names(env).Where(n => pattern.IsMatch(n.Name))
            .Select(n => new CompletionResult(n.Name.Contains(' ') ? $"'{n.Name.Replace("'", "''")}'" : n.Name, n.Name, CompletionResultType.ParameterValue, string.IsNullOrEmpty(n.Tip) ? n.Name : n.Tip));
    }
}

/// <summary>The environment's Metrics endpoints.</summary>
public sealed class MetricsEndpointNameCompleter : MetricsNameCompleterBase
{
    protected override IEnumerable<(string, string)> Names(OpsEnvironment env) => env.Metrics.Select(m => (m.Name, m.Uri.ToString()));
}

/// <summary>The environment's Prometheus.Checks.</summary>
public sealed class PromCheckNameCompleter : MetricsNameCompleterBase
{
    protected override IEnumerable<(string, string)> Names(OpsEnvironment env) =>
        (env.Prometheus?.Checks ?? Array.Empty<PromCheckSettings>()).Select(c => (c.Name, c.Query));
}

/// <summary>The environment's AppFigures.</summary>
public sealed class AppFigureNameCompleter : MetricsNameCompleterBase
{
    protected override IEnumerable<(string, string)> Names(OpsEnvironment env) => env.AppFigures.Select(f => (f.Name, f.Uri + " " + f.Path));
}

/// <summary>The environment's AppActions.</summary>
public sealed class AppActionNameCompleter : MetricsNameCompleterBase
{
    protected override IEnumerable<(string, string)> Names(OpsEnvironment env) =>
        env.AppActions.Select(a => (a.Name, $"{a.Method} {a.Uri}{(a.Description is null ? "" : " - " + a.Description)}"));
}
