using OpsTools.Docker;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Docker;

/// <summary>What Set-ReplicaCount's Compose half asks before it changes anything.</summary>
public sealed record ComposeScalePlan(string What, int Previous, int Replicas);

/// <summary>How a Compose scale ended: the result, and the containers it created (the wait watches them).</summary>
public sealed record ComposeScaleOutcome(ScaleResult Result, IReadOnlyList<string> Created);

/// <summary>
/// Set-ReplicaCount's Compose half as one engine call (<see cref="ScaleAsync"/>), and its wait
/// (<see cref="WaitReadyAsync"/>, on the module's one poll loop).
/// </summary>
public static class ComposeScale
{
    /// <summary>Running, and healthy when it has a health check (the rule of every container wait: <see cref="DockerLifecycle.IsReady"/>).</summary>
    public static bool Ready(ContainerInfo c) => DockerLifecycle.IsReady(c);

    /// <summary>
    /// Reads the service, asks <paramref name="approve"/> (not when the count is already right), then scales it the way
    /// docker compose up -d --scale does (<see cref="ComposeScaler"/>) and reads it again. Null when not approved.
    /// Throws ComposeServiceNotFound (no container to copy), ComposeFixedHostPort (a fixed host port without
    /// <paramref name="ephemeralHostPort"/>) or the engine's error, with what was created before it.
    /// </summary>
    public static async Task<ComposeScaleOutcome?> ScaleAsync(DockerTarget target, string project, string service, int replicas, int stopTimeoutSec,
        bool ephemeralHostPort, Func<ComposeScalePlan, Task<bool>> approve, Action<string>? log, CancellationToken ct)
    {
        var what = $"Compose service '{service}' of project '{project}' on {target.Describe()}";
        var state = await ComposeScaler.ReadAsync(target, project, service, ct).ConfigureAwait(false);
        if (state.Containers.Count == 0)
            throw new OpsToolsException("ComposeServiceNotFound", OpsErrorKind.NotFound,
                $"{what} has no container. Creating the first one needs the compose file: run 'docker compose up -d {service}' (with -p {project}) first; Set-ReplicaCount copies an existing container.", service);
        var running = state.Running.OrderBy(c => c.ComposeNumber ?? 0).ToList();
        var previous = running.Count;
        var result = new ScaleResult
        {
            Platform = "Docker", Context = target.Endpoint.ToString(), Namespace = project, Kind = "ComposeService", Name = service,
            PreviousReplicas = previous, DesiredReplicas = replicas, Attempts = 0, ClusterId = target.Id,
            ReadyReplicas = running.Count(Ready), AvailableReplicas = running.Count(Ready),
        };
        if (previous == replicas)
        {
            log?.Invoke($"{what} already has {replicas} running replicas: nothing to change.");
            return new ComposeScaleOutcome(result, Array.Empty<string>());
        }
        if (!await approve(new ComposeScalePlan(what, previous, replicas)).ConfigureAwait(false)) return null;

        IReadOnlyList<string> created = Array.Empty<string>();
        try
        {
            if (replicas > previous)
            {
                var template = state.Template!;
                var fixedPorts = await ComposeScaler.FixedHostPortsAsync(target, template, ct).ConfigureAwait(false);
                if (fixedPorts.Count > 0 && !ephemeralHostPort)
                    throw new OpsToolsException("ComposeFixedHostPort", OpsErrorKind.OperationFailed,
                        $"Cannot scale {what} up: its container '{template.Name}' publishes the fixed host port(s) {string.Join(", ", fixedPorts)}, which a second container cannot bind (docker compose fails the same way). " +
                        "Put a load balancer in front and publish no host port, or use -EphemeralHostPort to publish the new replicas on ports the engine picks.", service);
                result.Attempts = 1;
                created = await ComposeScaler.ScaleUpAsync(target, state, replicas - previous, ephemeralHostPort, m => log?.Invoke($"{service}: {m}"), ct).ConfigureAwait(false);
            }
            else
            {
                result.Attempts = 1;
                foreach (var c in running.OrderByDescending(c => c.ComposeNumber ?? 0).Take(previous - replicas))
                {
                    var removed = await ComposeScaler.RemoveAsync(target, c, stopTimeoutSec, ct).ConfigureAwait(false);
                    log?.Invoke(removed ? $"{service}: stopped and removed {c.Name}." : $"{service}: {c.Name} was already gone.");
                }
            }
        }
        catch (OpsToolsException e) when (e.ErrorId != "ComposeFixedHostPort")
        {
            throw new OpsToolsException(e.ErrorId, e.Kind, $"Scaling {what} from {previous} to {replicas} failed: {e.Message}" +
                (created.Count > 0 ? $" Created before the failure: {string.Join(", ", created)}." : ""), service, e);
        }
        result.Changed = true;
        result.Timestamp = DateTime.UtcNow;
        log?.Invoke($"{what}: {previous} -> {replicas} replicas.");
        try
        {
            var now = (await ComposeScaler.ReadAsync(target, project, service, ct).ConfigureAwait(false)).Running;
            result.ReadyReplicas = now.Count(Ready);
            result.AvailableReplicas = now.Count(Ready);
        }
        catch (OpsToolsException e) { log?.Invoke($"Could not read the service again after scaling: {e.Message}"); }
        return new ComposeScaleOutcome(result, created);
    }

    /// <summary>
    /// Waits until every replica runs and is healthy (running, without a health check), within the policy's timeout;
    /// <paramref name="onProgress"/> gets the status and what is not ready yet. Ctrl+C ends the wait (the containers stay).
    /// </summary>
    public static async Task<RolloutStatus> WaitReadyAsync(DockerTarget target, ScaleResult result, IReadOnlyList<string> created, WaitPolicy policy,
        Action<RolloutStatus, string>? onProgress, Action<string>? log, CancellationToken ct)
    {
        var status = new RolloutStatus
        {
            Context = result.Context, Namespace = result.Namespace, Kind = "ComposeService", Name = result.Name,
            DesiredReplicas = result.DesiredReplicas, ClusterId = result.ClusterId,
        };
        var waitingFor = "";
        var outcome = await Poller.UntilAsync(async token =>
            {
                try { return (await ComposeScaler.ReadAsync(target, result.Namespace, result.Name, token).ConfigureAwait(false)).Running; }
                catch (OpsToolsException e) when (e.ErrorId != "DockerUnreachable") { log?.Invoke(e.Message); return (IReadOnlyList<ContainerInfo>)Array.Empty<ContainerInfo>(); }
            },
            running => running.Count(Ready) == result.DesiredReplicas && running.Count == result.DesiredReplicas,
            policy, ct,
            onRead: running =>
            {
                var ready = running.Count(Ready);
                status.ReadyReplicas = ready;
                status.AvailableReplicas = ready;
                status.CurrentReplicas = running.Count;
                status.UpdatedReplicas = running.Count;
                waitingFor = string.Join(", ", running.Where(c => !Ready(c)).Select(c => $"{c.Name} ({c.Status})")
                    .Concat(created.Where(n => !running.Any(c => c.Name == n)).Select(n => $"{n} (not running)")));
                onProgress?.Invoke(status, waitingFor);
            }).ConfigureAwait(false);
        status.Waited = outcome.Waited;
        if (outcome.Done)
        {
            status.State = RolloutState.Complete;
            status.Message = $"{status.ReadyReplicas} of {result.DesiredReplicas} replicas running and healthy";
        }
        else
        {
            status.State = RolloutState.TimedOut;
            status.Message = $"after {policy.Timeout.TotalSeconds:0} s only {status.ReadyReplicas} of {result.DesiredReplicas} replicas are running and healthy; not ready: {(waitingFor.Length > 0 ? waitingFor : "(replicas missing)")}.";
        }
        return status;
    }
}
