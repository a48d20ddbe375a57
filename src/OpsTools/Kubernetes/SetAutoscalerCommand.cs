using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Changes a HorizontalPodAutoscaler's minimum/maximum replicas and CPU (or memory) utilization target; returns it before and after.</para>
/// <para type="description">The runbooks' 'oc patch hpa x -p {"spec":{"minReplicas":3}}'. Raising -MinReplicas above the current replica count makes the autoscaler scale the workload up at once (manual scaling through the HPA). Uses autoscaling/v2 where the server serves it, else autoscaling/v1, which can express only a CPU target.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "Autoscaler", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "Set-Autoscaler.md")]
[OutputType(typeof(AutoscalerChangeResult))]
public sealed class SetAutoscalerCommand : KubeCmdlet
{
    /// <summary>The autoscaler's name (binds from Get-Autoscaler objects).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The fewest replicas the autoscaler keeps (at least 1).</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int? MinReplicas { get; set; }

    /// <summary>The most replicas the autoscaler may scale to (at least MinReplicas).</summary>
    [Parameter]
    [ValidateRange(1, 100000)]
    public int? MaxReplicas { get; set; }

    /// <summary>The average CPU utilization to aim at, in percent of the pods' CPU requests.</summary>
    [Parameter]
    [Alias("CpuPercent")]
    [ValidateRange(1, 10000)]
    public int? TargetCpu { get; set; }

    /// <summary>The average memory utilization to aim at, in percent of the pods' memory requests (needs autoscaling/v2 on the server).</summary>
    [Parameter]
    [ValidateRange(1, 10000)]
    public int? TargetMemory { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var change = new AutoscalerChange { MinReplicas = MinReplicas, MaxReplicas = MaxReplicas, TargetCpu = TargetCpu, TargetMemory = TargetMemory };
        try { change.Validate(Name); } // before any API call
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, Name); return; }
        var target = ResolveTarget();
        try
        {
            var version = await KubeAutoscalers.DiscoverVersionAsync(target, ct);
            Verbose($"Autoscaler '{Name}' in {target.Describe()} through {version} (discovered).");
            var result = await KubeAutoscalers.SetAsync(target, target.Namespace, Name, version, change, async (before, changes) =>
            {
                if (changes.Count == 0)
                {
                    Verbose($"Autoscaler '{Name}' already has those settings: nothing to change.");
                    return true;
                }
                return await ShouldProcessAsync($"horizontalpodautoscaler '{Name}' ({before.Reference}) in {target.Describe()}", string.Join("; ", changes));
            }, ct);
            if (result is not null) Output(result);
        }
        catch (OpsToolsException e) { ObjectError(e, e.ErrorId, Name); }
    }
}
