using System.Management.Automation;
using OpsTools.Docker;
using OpsTools.Engine.Docker;

namespace OpsTools.Commands.Docker;

/// <summary>
/// <para type="synopsis">Stops running containers (docker stop): the stop signal, then SIGKILL after -Timeout seconds.</para>
/// <para type="description">By name or from the pipeline (Get-Container objects). What the container serves is down until it is started again, so it asks for confirmation (ConfirmImpact High) unless -Force. Returns when the container has stopped (docker stop waits for it), with a ContainerActionResult: the state before and after and the exit code. A container that is already stopped is left as it is.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(ContainerActionResult))]
public sealed class StopContainerCommand : DockerContainerActionCmdlet
{
    /// <summary>Seconds to wait for the container to stop before killing it (docker stop -t). Default: the container's stop timeout (10 s unless set).</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int? Timeout { get; set; }

    /// <summary>Stop without asking for confirmation. -WhatIf and $WhatIfPreference still only report; -Confirm still asks (the rule: OpsCmdlet.ConfirmAsync).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override string ActionName => "Stop";

    protected override async Task<bool> ActAsync(DockerTarget target, ContainerInfo before, CancellationToken ct)
    {
        if (!await ConfirmAsync(Describe(target, before),
                $"Stop ({before.Status}): what it serves is down until it is started again", force: Force).ConfigureAwait(false)) return false;
        var stopped = await DockerLifecycle.StopAsync(target, before.Id, Timeout, ct).ConfigureAwait(false);
        Verbose(stopped ? $"{Describe(target, before)}: stopped." : $"{Describe(target, before)}: already stopped, left as it is.");
        return true;
    }
}
