using System.Management.Automation;
using OpsTools.Docker;
using OpsTools.Engine.Docker;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Docker;

/// <summary>
/// <para type="synopsis">Starts stopped containers (docker start), optionally waiting until they are healthy.</para>
/// <para type="description">By name or from the pipeline (Get-Container -All -State exited objects). A container that is already running is left as it is (a verbose message says so). -Wait waits until it is healthy when it has a health check, else until it runs, at most -TimeoutSec (default 120); one that does not get there is returned with TimedOut and writes a non-terminating error DockerHealthTimedOut. Returns a ContainerActionResult with the state and health before and after.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Base + "Start-Container.md")]
[OutputType(typeof(ContainerActionResult))]
public sealed class StartContainerCommand : DockerContainerWaitCmdlet
{
    protected override string ActionName => "Start";

    protected override async Task<bool> ActAsync(DockerTarget target, ContainerInfo before, CancellationToken ct)
    {
        if (!await ShouldProcessAsync(Describe(target, before), $"Start ({before.Status})").ConfigureAwait(false)) return false;
        var started = await DockerLifecycle.StartAsync(target, before.Id, ct).ConfigureAwait(false);
        Verbose(started ? $"{Describe(target, before)}: started." : $"{Describe(target, before)}: already running, left as it is.");
        return true;
    }
}
