using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Gets HorizontalPodAutoscalers: target, min/max, current and desired replicas, metric targets and current values, conditions, last scale time.</para>
/// <para type="description">What 'kubectl get hpa' / 'oc describe hpa' show, as objects. Read through autoscaling/v2 where the server serves it, else autoscaling/v1 (found by discovery); ApiVersion says which.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Autoscaler", HelpUri = HelpLinks.Base + "Get-Autoscaler.md")]
[OutputType(typeof(AutoscalerInfo))]
public sealed class GetAutoscalerCommand : KubeCmdlet
{
    /// <summary>Autoscaler names (wildcards allowed). Default: all in the namespace.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Only autoscalers that scale these Deployments (or other workloads: names, wildcards allowed).</summary>
    [Parameter]
    [Alias("Workload")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Deployment { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        IReadOnlyList<AutoscalerInfo> all;
        try
        {
            var version = await KubeAutoscalers.DiscoverVersionAsync(target, ct);
            Verbose($"Autoscalers through {version} (discovered).");
            all = await KubeAutoscalers.ListAsync(target, target.Namespace, version, ct);
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.NotSpecified, target.Context); return; }
        var names = (Name ?? Array.Empty<string>()).Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        var workloads = (Deployment ?? Array.Empty<string>()).Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        var found = 0;
        foreach (var a in all)
        {
            if (names.Count > 0 && !names.Any(p => p.IsMatch(a.Name))) continue;
            if (workloads.Count > 0 && !workloads.Any(p => p.IsMatch(a.TargetName))) continue;
            found++;
            Output(a);
        }
        foreach (var n in (Name ?? Array.Empty<string>()).Where(n => !WildcardPattern.ContainsWildcardCharacters(n) && !all.Any(a => a.Name.Equals(n, StringComparison.OrdinalIgnoreCase))))
            ObjectError(new OpsToolsException("KubeObjectNotFound", OpsErrorKind.NotFound, $"horizontalpodautoscaler '{n}' not found in {target.Describe()}.", n), "KubeObjectNotFound", n);
        if (found == 0 && Deployment is { Length: > 0 } && Name is null)
            Verbose($"No autoscaler in {target.Describe()} scales {string.Join(", ", Deployment)}.");
    }
}
