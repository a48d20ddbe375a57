using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Sets CPU and memory requests and limits of a Deployment's or StatefulSet's containers (the runbooks' oc patch deployment ... resources).</para>
/// <para type="description">Quantities are checked against the Kubernetes quantity grammar before anything is sent: 400Mi, 1Gi, 512M, 500m, 0.5 are quantities; 400MB is not (say 400M or 400Mi). Starts a rolling update; -Wait waits for it. Returns the values before and after.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "DeploymentResource", SupportsShouldProcess = true, HelpUri = HelpLinks.Base + "Set-DeploymentResource.md")]
[OutputType(typeof(WorkloadChangeResult))]
public sealed class SetDeploymentResourceCommand : KubeWorkloadChangeCmdlet
{
    /// <summary>The container(s) to change; '*' for all. Default: the only container (an error lists them when there are several).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Container { get; set; }

    /// <summary>CPU request (cores or millicores: 0.25, 250m).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CpuRequest { get; set; }

    /// <summary>CPU limit (cores or millicores: 1, 500m).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CpuLimit { get; set; }

    /// <summary>Memory request (bytes with a suffix: 256Mi, 1Gi, 512M).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MemoryRequest { get; set; }

    /// <summary>Memory limit (bytes with a suffix: 400Mi, 1Gi, 512M).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MemoryLimit { get; set; }

    /// <summary>The change cause to record (kubernetes.io/change-cause). Default: "Set-DeploymentResource container limits.memory=400Mi ...".</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ChangeCause { get; set; }

    private readonly Dictionary<string, string> _settings = new();

    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (CpuRequest is not null) _settings["requests.cpu"] = KubeQuantity.Validate(CpuRequest, "cpu", nameof(CpuRequest));
            if (CpuLimit is not null) _settings["limits.cpu"] = KubeQuantity.Validate(CpuLimit, "cpu", nameof(CpuLimit));
            if (MemoryRequest is not null) _settings["requests.memory"] = KubeQuantity.Validate(MemoryRequest, "memory", nameof(MemoryRequest));
            if (MemoryLimit is not null) _settings["limits.memory"] = KubeQuantity.Validate(MemoryLimit, "memory", nameof(MemoryLimit));
            foreach (var r in new[] { "cpu", "memory" })
                KubeQuantity.CheckRequestWithinLimit(_settings.GetValueOrDefault("requests." + r), _settings.GetValueOrDefault("limits." + r), r);
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, e.Target); }
        if (_settings.Count == 0)
            Fail(new OpsToolsException("KubeResourceMissing", OpsErrorKind.InvalidArgument, "Say what to set: -CpuRequest, -CpuLimit, -MemoryRequest and/or -MemoryLimit.", null),
                "KubeResourceMissing", ErrorCategory.InvalidArgument, null);
        return Task.CompletedTask;
    }

    protected override Task ProcessRecordAsync(CancellationToken ct) =>
        EditEachAsync("SetResource", "Set resources",
            workload => KubeWorkloadEdit.SetResources(workload, Container, _settings),
            changes => ChangeCause ?? "Set-DeploymentResource " + string.Join(" ", changes.GroupBy(c => c.Container).Select(g => g.Key + " " + string.Join(" ", g.Select(c => $"{c.Item}={c.After}")))), ct);
}
