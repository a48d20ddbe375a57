using System.Management.Automation;
using OpsTools.Docker;
using OpsTools.Engine.Docker;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Docker;

/// <summary>
/// <para type="synopsis">Restarts containers (docker restart), optionally waiting until they are healthy again.</para>
/// <para type="description">Stops each container gracefully (its stop signal, then SIGKILL after -Timeout seconds, as docker restart -t) and starts it again. By name or from the pipeline (Get-Container objects). -Wait waits until it is healthy again when it has a health check, else until it runs, at most -TimeoutSec (default 120); one that does not get there is returned with TimedOut and writes a non-terminating error DockerHealthTimedOut. Returns a ContainerActionResult with the state and health before and after. Ctrl+C ends the wait (the restart itself has happened).</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Restart, "Container", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "Restart-Container.md")]
[OutputType(typeof(ContainerActionResult))]
public sealed class RestartContainerCommand : DockerContainerWaitCmdlet
{
    /// <summary>Seconds to wait for the container to stop before killing it (docker restart -t). Default: the container's stop timeout (10 s unless set).</summary>
    [Parameter]
    [ValidateRange(0, 3600)]
    public int? Timeout { get; set; }

    protected override string ActionName => "Restart";

    protected override async Task<bool> ActAsync(DockerTarget target, ContainerInfo before, CancellationToken ct)
    {
        if (!await ShouldProcessAsync(Describe(target, before), $"Restart ({before.Status}; graceful stop time {(Timeout is null ? "the container's default" : $"{Timeout} s")})").ConfigureAwait(false)) return false;
        await DockerLifecycle.RestartAsync(target, before.Id, Timeout, ct).ConfigureAwait(false);
        Verbose($"{Describe(target, before)}: restarted.");
        return true;
    }
}
