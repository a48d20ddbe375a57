using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// Base of the Kubernetes/OpenShift commands: one way to say which cluster, everywhere.
/// <list type="bullet">
/// <item>-Kubeconfig (one or more files), else the environment file's Kubernetes.Kubeconfig, else KUBECONFIG, else ~/.kube/config, else the pod's service account;</item>
/// <item>-Context, else the environment's, else the kubeconfig's current context;</item>
/// <item>-Namespace, else the environment's, else the context's, else 'default'.</item>
/// </list>
/// Objects piped in from another Kubernetes command bring their own ClusterId and Namespace.
/// Cmdlets never name KubernetesClient types (V1Pod, IKubernetes calls ...), not even in locals or lambdas: that
/// assembly lives in OpsTools' isolated load context, which the cmdlet assembly cannot bind to ("Could not load
/// KubernetesClient"). Engine methods (src/OpsTools.Engine/Kubernetes) take and return OpsTools types instead.
/// </summary>
public abstract class KubeCmdlet : OpsCmdlet
{
    /// <summary>Kubeconfig file(s). Default: KUBECONFIG, else ~/.kube/config, else the in-cluster service account.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context. Default: the environment's, else the kubeconfig's current context.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeContextCompleter))]
    public string? Context { get; set; }

    /// <summary>The namespace (OpenShift: project). Default: the environment's, else the context's, else 'default'.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("ns", "Project")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeNamespaceCompleter))]
    public virtual string? Namespace { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its Kubernetes section.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Seconds one API request may take. Default 30.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public double RequestTimeoutSec { get; set; } = 30;

    /// <summary>Set by pipeline input from another OpsTools Kubernetes command; carries no secret.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? ClusterId { get; set; }

    private KubeTarget? _target;

    /// <summary>
    /// The cluster this invocation (or this pipeline input object) is about. For piped objects the
    /// target they came from is reused unless -Kubeconfig/-Context say otherwise. Bad input (no kubeconfig,
    /// unknown context, malformed file) ends the command with one clear error.
    /// </summary>
    protected KubeTarget ResolveTarget()
    {
        if (Kubeconfig is null && Context is null && KubeTargetRegistry.Find(ClusterId) is { } known)
            return Namespace is { Length: > 0 } ns ? known.WithNamespace(ns) : known;
        try
        {
            _target ??= KubeTargetResolver.Resolve(new KubeTargetSpec
            {
                Kubeconfig = Kubeconfig,
                Context = Context,
                Settings = Environment?.Kubernetes,
                TimeoutSec = RequestTimeoutSec,
            });
        }
        catch (OpsToolsException e)
        {
            Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, e.Target);
            throw; // not reached
        }
        var target = _target;
        if (Namespace is { Length: > 0 } explicitNs) target = target.WithNamespace(explicitNs);
        else if (Environment?.Kubernetes?.Namespace is { Length: > 0 } envNs) target = target.WithNamespace(envNs);
        Verbose($"Kubernetes: {target.Describe()} (user '{target.User ?? "?"}', from {target.Source}).");
        return target;
    }

    /// <summary>Writes a non-terminating error for one object (the pipeline goes on with the next).</summary>
    protected void ObjectError(Exception e, string fallbackErrorId, object? target) =>
        Error(ToErrorRecord(e, fallbackErrorId, ErrorCategory.NotSpecified, target));

    /// <summary>Translates a failure of an API call about one object (see KubeErrors); returns null for the user's Ctrl+C.</summary>
    protected OpsToolsException? Translate(Exception e, KubeTarget target, string action, string? objectRef = null, string? ns = null) =>
        KubeErrors.Translate(e, target, action, objectRef, ns, CancellationToken);
}

/// <summary>Completes -Context with the contexts of the kubeconfig the command would read (honours a typed -Kubeconfig).</summary>
public sealed class KubeContextCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var files = KubeCompleterSupport.BoundKubeconfig(fakeBoundParameters);
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return KubeTargetResolver.Contexts(files).Where(c => pattern.IsMatch(c.Name))
            .Select(c => new CompletionResult(KubeCompleterSupport.Quote(c.Name), c.Name, CompletionResultType.ParameterValue,
                $"{c.Name} (cluster {c.Cluster ?? "?"}, namespace {c.Namespace ?? "default"})"));
    }
}

/// <summary>Completes -Namespace with the cluster's namespaces (uses the typed -Kubeconfig/-Context/-Environment).</summary>
public sealed class KubeNamespaceCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var target = KubeCompleterSupport.Target(fakeBoundParameters);
        if (target is null) return Array.Empty<CompletionResult>();
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var names = target.NamespaceNamesAsync(cts.Token).GetAwaiter().GetResult();
            return names.Where(n => pattern.IsMatch(n))
                .Select(n => new CompletionResult(n, n, CompletionResultType.ParameterValue, n)).ToList();
        }
        catch (Exception) { return Array.Empty<CompletionResult>(); } // completion never throws at the user
    }
}

internal static class KubeCompleterSupport
{
    public static string Quote(string s) => s.IndexOfAny(new[] { ' ', '\'', '"', '$', '`' }) >= 0 ? $"'{s.Replace("'", "''")}'" : s;

    public static IReadOnlyList<string>? BoundKubeconfig(IDictionary bound)
    {
        if (!bound.Contains("Kubeconfig")) return null;
        var value = bound["Kubeconfig"] is PSObject p ? p.BaseObject : bound["Kubeconfig"];
        var cwd = CompleterSupport.CurrentDirectory();
        return value switch
        {
            string s => new[] { Path.GetFullPath(Path.Combine(cwd, s)) },
            IEnumerable e => e.Cast<object>().Select(o => Path.GetFullPath(Path.Combine(cwd, o?.ToString() ?? ""))).ToList(),
            _ => null,
        };
    }

    /// <summary>The target the typed parameters point at, for completers that ask the cluster; null when it cannot be made.</summary>
    public static KubeTarget? Target(IDictionary bound)
    {
        try
        {
            var env = CompleterSupport.BoundEnvironment(bound);
            var target = KubeTargetResolver.Resolve(new KubeTargetSpec
            {
                Kubeconfig = BoundKubeconfig(bound),
                Context = bound.Contains("Context") ? bound["Context"]?.ToString() : null,
                Settings = env?.Kubernetes,
                TimeoutSec = 5,
            });
            if (bound.Contains("Namespace") && bound["Namespace"]?.ToString() is { Length: > 0 } ns) target = target.WithNamespace(ns);
            else if (env?.Kubernetes?.Namespace is { Length: > 0 } envNs) target = target.WithNamespace(envNs);
            return target;
        }
        catch (Exception) { return null; }
    }
}
