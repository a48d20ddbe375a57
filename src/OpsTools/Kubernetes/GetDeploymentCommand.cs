using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Gets Deployments (and StatefulSets) with their replicas, images, revision, conditions and rollout state.</para>
/// <para type="description">What 'kubectl get deployment -o wide' and 'oc get deployment' show, as objects that pipe into Set-ReplicaCount, Restart-Deployment, Wait-Rollout and the other rollout commands.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Deployment", DefaultParameterSetName = NamespaceSet, HelpUri = HelpLinks.Base + "Get-Deployment.md")]
[OutputType(typeof(DeploymentInfo))]
public sealed class GetDeploymentCommand : KubeCmdlet
{
    private const string AllNamespacesSet = "AllNamespaces";
    private const string NamespaceSet = "Namespace";

    /// <summary>Names (wildcards allowed). Default: all.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeWorkloadNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Every namespace the user may list (kubectl -A).</summary>
    [Parameter(ParameterSetName = AllNamespacesSet)]
    [Alias("A")]
    public SwitchParameter AllNamespaces { get; set; }

    /// <summary>Only objects whose labels match (app=web,tier!=db).</summary>
    [Parameter]
    [Alias("l", "LabelSelector")]
    [ValidateNotNullOrEmpty]
    public string? Selector { get; set; }

    /// <summary>Deployment (default), StatefulSet, or both (All).</summary>
    [Parameter]
    [ValidateSet("Deployment", "StatefulSet", "All")]
    public string Kind { get; set; } = "Deployment";

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var deployments = Kind is "Deployment" or "All";
        var statefulSets = Kind is "StatefulSet" or "All";
        var names = Name ?? Array.Empty<string>();
        // Exact names: read them one by one, so a missing one is an error naming it.
        if (names.Length > 0 && names.All(n => !WildcardPattern.ContainsWildcardCharacters(n)) && Kind != "All" && !AllNamespaces)
        {
            foreach (var name in names)
            {
                try { Output(await KubeWorkloads.GetAsync(target, target.Namespace, Kind, name, ct)); }
                catch (OpsToolsException e) { ObjectError(e, "KubeObjectNotFound", name); }
            }
            return;
        }
        IReadOnlyList<DeploymentInfo> all;
        try { all = await KubeWorkloads.ListAsync(target, target.Namespace, AllNamespaces, deployments, statefulSets, Selector, ct); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.NotSpecified, target.Context); return; }
        var patterns = names.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var d in all)
            if (patterns.Count == 0 || patterns.Any(p => p.IsMatch(d.Name)))
                Output(d);
        foreach (var n in names.Where(n => !WildcardPattern.ContainsWildcardCharacters(n) && !all.Any(d => d.Name.Equals(n, StringComparison.OrdinalIgnoreCase))))
            ObjectError(new OpsToolsException("KubeObjectNotFound", OpsErrorKind.NotFound, $"{Kind.ToLowerInvariant()} '{n}' not found in {target.Describe()}.", n), "KubeObjectNotFound", n);
    }
}

/// <summary>Completes -Name with the deployments (and StatefulSets) of the namespace the typed parameters point at.</summary>
public sealed class KubeWorkloadNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        var target = KubeCompleterSupport.Target(fakeBoundParameters);
        if (target is null) return Array.Empty<CompletionResult>();
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        var kind = fakeBoundParameters.Contains("Kind") ? fakeBoundParameters["Kind"]?.ToString() : null;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var list = KubeWorkloads.ListAsync(target, target.Namespace, false, kind != "StatefulSet", kind is "StatefulSet" or "All", null, cts.Token).GetAwaiter().GetResult();
            return list.Where(d => pattern.IsMatch(d.Name))
                .Select(d => new CompletionResult(d.Name, d.Name, CompletionResultType.ParameterValue, $"{d.Kind.ToLowerInvariant()}/{d.Name} {d.Ready} {string.Join(",", d.Images)}")).ToList();
        }
        catch (Exception) { return Array.Empty<CompletionResult>(); }
    }
}
