using System.Diagnostics;
using System.Management.Automation;
using OpsTools.Docker;
using OpsTools.Engine;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Docker;

namespace OpsTools.Commands.Docker;

/// <summary>
/// Base of Start-Container, Stop-Container and Restart-Container: containers by name or from the pipeline
/// (Get-Container objects bring their engine), -Timeout (graceful stop time, docker stop -t), and one way to
/// wait (-Wait, -TimeoutSec) and report: the result object, plus a non-terminating DockerHealthTimedOut error
/// when the container never became ready, so $? is false and -ErrorAction Stop stops.
/// </summary>
public abstract class DockerContainerActionCmdlet : DockerCmdlet
{
    /// <summary>Container names or ids (from the pipeline: Get-Container objects).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>"container 'shop_api_1' (engine unix:///var/run/docker.sock)": ShouldProcess targets and messages.</summary>
    protected static string Describe(DockerTarget target, ContainerInfo c) =>
        $"container '{c.Name}'{(c.ComposeProject is null ? "" : $" (compose {c.ComposeProject}/{c.ComposeService})")} on {target.Describe()}";

    /// <summary>The action for one container; returns false when it was skipped (ShouldProcess said no).</summary>
    protected abstract Task<bool> ActAsync(DockerTarget target, ContainerInfo before, CancellationToken ct);

    /// <summary>Start, Stop or Restart.</summary>
    protected abstract string ActionName { get; }

    /// <summary>True when the command waits (-Wait) until the container is ready.</summary>
    protected virtual bool ShouldWait => false;

    /// <summary>Seconds -Wait waits.</summary>
    protected virtual double WaitTimeoutSec => 120;

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        foreach (var name in Name)
        {
            var watch = Stopwatch.StartNew();
            ContainerInfo before;
            try { before = await DockerContainers.InspectAsync(target, name, ct).ConfigureAwait(false); }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, name); continue; }
            try
            {
                if (!await ActAsync(target, before, ct).ConfigureAwait(false)) continue;
                var after = await DockerContainers.InspectAsync(target, before.Id, ct).ConfigureAwait(false);
                var timedOut = false;
                if (ShouldWait)
                    (after, timedOut) = await WaitAsync(target, after, ct).ConfigureAwait(false);
                var result = Result(before, after, watch.Elapsed, timedOut);
                Output(result);
                if (timedOut)
                    Error(ToErrorRecord(new OpsToolsException("DockerHealthTimedOut", OpsErrorKind.Timeout,
                        $"{Describe(target, after)} was {Past(ActionName)} but did not become {(after.Health == "none" ? "running" : "healthy")} in {WaitTimeoutSec:0} s (state {after.State}, health {after.Health}{(after.LastHealthOutput is { Length: > 0 } o ? $", last health check: {Trim(o)}" : "")}). See Get-ContainerHealth {after.Name} and Get-ContainerLog {after.Name}.",
                        after.Name), "DockerHealthTimedOut", ErrorCategory.OperationTimeout, result));
            }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, name); }
        }
    }

    private async Task<(ContainerInfo, bool)> WaitAsync(DockerTarget target, ContainerInfo c, CancellationToken ct)
    {
        using var progress = new WaitProgress(Progress, $"Waiting for {Describe(target, c)} to become {(c.Health == "none" ? "running" : "healthy")}", WaitTimeoutSec);
        progress.Report($"{c.State}, health {c.Health}");
        var (last, ready) = await DockerLifecycle.WaitReadyAsync(target, c.Id, new WaitPolicy(TimeSpan.FromSeconds(WaitTimeoutSec)),
            x => progress.Report($"{x.State}, health {x.Health}{(x.LastHealthOutput is { Length: > 0 } o ? $": {Trim(o)}" : "")}"), ct).ConfigureAwait(false);
        return (last, !ready);
    }

    private ContainerActionResult Result(ContainerInfo before, ContainerInfo after, TimeSpan elapsed, bool timedOut) => new()
    {
        DockerHost = after.DockerHost, Id = after.Id, Name = after.Name, ComposeProject = after.ComposeProject, ComposeService = after.ComposeService,
        Action = ActionName, StateBefore = before.State, HealthBefore = before.Health, StartedAtBefore = before.StartedAt,
        State = after.State, Health = after.Health, StartedAt = after.StartedAt, RestartCount = after.RestartCount, ExitCode = after.ExitCode,
        LastHealthOutput = after.LastHealthOutput, Waited = ShouldWait, TimedOut = timedOut, Elapsed = elapsed, Container = after, DockerId = after.DockerId,
    };

    private static string Past(string action) => action switch { "Stop" => "stopped", "Start" => "started", _ => "restarted" };

    private static string Trim(string text)
    {
        var one = text.ReplaceLineEndings(" ").Trim();
        return one.Length > 200 ? one[..200] + "..." : one;
    }
}

/// <summary>Base of Start-Container and Restart-Container: -Wait and -TimeoutSec.</summary>
public abstract class DockerContainerWaitCmdlet : DockerContainerActionCmdlet
{
    /// <summary>Wait until the container is healthy again (when it has a health check; else until it runs), at most -TimeoutSec. A container that does not get there comes back with TimedOut and a non-terminating error DockerHealthTimedOut.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Seconds -Wait waits. Default 120.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public double TimeoutSec { get; set; } = 120;

    protected override bool ShouldWait => Wait;
    protected override double WaitTimeoutSec => TimeoutSec;
}
