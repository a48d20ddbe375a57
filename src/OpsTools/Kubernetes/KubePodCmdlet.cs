using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// Base of the commands that report on pods picked by -Name (wildcards), -Selector, -Deployment, or deployments
/// from Get-Deployment in the pipeline (Get-PodHealth, Get-PodResourceUsage).
/// </summary>
public abstract class KubePodCmdlet : KubeCmdlet
{
    protected const string DeploymentSet = "Deployment";
    protected const string InputObjectSet = "InputObject";
    protected const string NameSet = "Name";

    /// <summary>Pod names (wildcards allowed). Default: every pod of the namespace.</summary>
    [Parameter(Position = 0, ParameterSetName = NameSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubePodNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only pods whose labels match (app=web,tier!=db), as kubectl -l.</summary>
    [Parameter(ParameterSetName = NameSet)]
    [Alias("l", "LabelSelector")]
    [ValidateNotNullOrEmpty]
    public string? Selector { get; set; }

    /// <summary>The pods of this deployment.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DeploymentSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeWorkloadNameCompleter))]
    public string? Deployment { get; set; }

    /// <summary>Deployments (or StatefulSets) from Get-Deployment: the pods of each.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = InputObjectSet)]
    public DeploymentInfo? InputObject { get; set; }

    /// <summary>The workload the pods were asked for by (-Deployment or the piped object), for error targets.</summary>
    protected string? Workload => InputObject?.Name ?? Deployment;

    /// <summary>
    /// Keeps the items whose pod name matches -Name (all without -Name); writes a KubeObjectNotFound error for every
    /// name without wildcards that matched nothing (<paramref name="what"/> says what was looked for: "pod", "metrics for pod").
    /// </summary>
    protected IEnumerable<T> MatchNames<T>(IReadOnlyCollection<T> items, Func<T, string> podName, KubeTarget target, string ns, string what)
    {
        var names = Name ?? Array.Empty<string>();
        if (names.Length == 0) return items;
        var patterns = names.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var n in names.Where(n => !WildcardPattern.ContainsWildcardCharacters(n) && !items.Any(i => podName(i).Equals(n, StringComparison.OrdinalIgnoreCase))))
            ObjectError(new OpsToolsException("KubeObjectNotFound", OpsErrorKind.NotFound,
                $"{what} '{n}' not found in {target.Describe(ns)}{(Selector is null ? "" : $" (with selector {Selector})")}.", n), "KubeObjectNotFound", n);
        return items.Where(i => patterns.Any(p => p.IsMatch(podName(i)))).ToList();
    }
}
