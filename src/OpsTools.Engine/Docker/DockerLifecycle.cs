using OpsTools.Docker;
using DockerModels = global::Docker.DotNet.Models;

namespace OpsTools.Engine.Docker;

/// <summary>Start, stop and restart containers (docker start/stop/restart), and wait until one is ready again.</summary>
public static class DockerLifecycle
{
    /// <summary>docker start: returns false when it was already running.</summary>
    public static Task<bool> StartAsync(DockerTarget target, string id, CancellationToken ct) =>
        DockerErrors.CallAsync(target, $"start container '{id}'", $"container '{id}'",
            () => target.Client.Containers.StartContainerAsync(id, new DockerModels.ContainerStartParameters(), ct), ct);

    /// <summary>docker stop -t: SIGTERM (the image's stop signal), then SIGKILL after <paramref name="timeoutSec"/> (null: the container's own stop timeout, 10 s by default).</summary>
    public static Task<bool> StopAsync(DockerTarget target, string id, int? timeoutSec, CancellationToken ct) =>
        DockerErrors.CallAsync(target, $"stop container '{id}'", $"container '{id}'",
            () => target.Client.Containers.StopContainerAsync(id, new DockerModels.ContainerStopParameters
            {
                WaitBeforeKillSeconds = timeoutSec is null ? null : (uint)timeoutSec.Value,
            }, ct), ct);

    /// <summary>docker restart -t.</summary>
    public static Task RestartAsync(DockerTarget target, string id, int? timeoutSec, CancellationToken ct) =>
        DockerErrors.CallAsync(target, $"restart container '{id}'", $"container '{id}'",
            () => target.Client.Containers.RestartContainerAsync(id, new DockerModels.ContainerRestartParameters
            {
                WaitBeforeKillSeconds = timeoutSec is null ? null : (uint)timeoutSec.Value,
            }, ct), ct);

    /// <summary>Ready means running, and healthy when the container has a health check.</summary>
    public static bool IsReady(ContainerInfo c) =>
        c.State == "running" && (c.Health is "none" or "" || c.Health == "healthy");

    /// <summary>
    /// Polls (docker inspect, every <paramref name="interval"/>) until the container is ready (<see cref="IsReady"/>) or
    /// <paramref name="timeout"/> passes. Returns the last state seen and whether it became ready. An engine that goes
    /// away ends the wait with its error (DockerUnreachable); cancellation (Ctrl+C) ends it at once.
    /// </summary>
    public static Task<(ContainerInfo Last, bool Ready)> WaitReadyAsync(DockerTarget target, string id, TimeSpan timeout,
        Action<ContainerInfo>? progress, CancellationToken ct, TimeSpan? interval = null) =>
        WaitReadyAsync(target, id, interval is { } every ? WaitPolicy.Every(timeout, every) : new WaitPolicy(timeout), progress, ct);

    /// <summary>The same, under a <see cref="WaitPolicy"/> (the module's one poll loop: <see cref="Poller"/>).</summary>
    public static async Task<(ContainerInfo Last, bool Ready)> WaitReadyAsync(DockerTarget target, string id, WaitPolicy policy,
        Action<ContainerInfo>? progress, CancellationToken ct)
    {
        var outcome = await Poller.UntilAsync(token => DockerContainers.InspectAsync(target, id, token), IsReady, policy, ct, onRead: progress).ConfigureAwait(false);
        return (outcome.Last, outcome.Done);
    }
}

/// <summary>Options for <see cref="ContainerDiagnosis.Diagnose"/>.</summary>
public sealed class ContainerHealthOptions
{
    /// <summary>Restart counts of an earlier snapshot, by container id or name: growth since then is reported.</summary>
    public IReadOnlyDictionary<string, long>? Baseline { get; init; }
    /// <summary>A restart after this time (the container started after it and has restarted before) is reported.</summary>
    public DateTime? Since { get; init; }
    /// <summary>A total restart count (since creation) at or above this is a warning. Default 5; 0 turns it off.</summary>
    public long RestartWarning { get; init; } = 5;
}

/// <summary>Decides a container's Status and Diagnosis from one snapshot (Get-ContainerHealth).</summary>
public static class ContainerDiagnosis
{
    public static ContainerHealthResult Diagnose(ContainerInfo c, ContainerHealthOptions options)
    {
        var r = new ContainerHealthResult
        {
            DockerHost = c.DockerHost, Id = c.Id, Name = c.Name, ComposeProject = c.ComposeProject, ComposeService = c.ComposeService,
            Image = c.Image, State = c.State, ContainerStatus = c.Status, Health = c.Health, LastHealthOutput = c.LastHealthOutput,
            HealthFailingStreak = c.HealthFailingStreak, RestartCount = c.RestartCount, ExitCode = c.ExitCode, OomKilled = c.OomKilled,
            StartedAt = c.StartedAt, FinishedAt = c.FinishedAt, Uptime = c.Uptime, RestartPolicy = c.RestartPolicy, DockerId = c.DockerId,
            Target = c.ComposeProject is null ? c.Name : $"{c.Name} (compose {c.ComposeProject}/{c.ComposeService})",
            Value = c.RestartCount,
        };
        long? previous = null;
        if (options.Baseline is { } b && (b.TryGetValue(c.Id, out var p1) || b.TryGetValue(c.Name, out p1))) previous = p1;
        r.PreviousRestartCount = previous;
        r.RestartsSinceBaseline = previous is null ? null : Math.Max(0, c.RestartCount - previous.Value);
        r.RestartedSince = options.Since is { } since && c.RestartCount > 0 && c.StartedAt is { } st && st > since.ToUniversalTime();
        r.Threshold = "running, healthy (or no health check), not OOM killed, restart count not growing"
            + (options.RestartWarning > 0 && previous is null && options.Since is null ? $"; warn at {options.RestartWarning} restarts since created" : "");

        var output = string.IsNullOrWhiteSpace(c.LastHealthOutput) ? "no output" : Shorten(c.LastHealthOutput!);
        var logs = $"See Get-ContainerLog {c.Name} (docker logs {c.Name}).";
        (CheckStatus Status, string Message) verdict;
        if (c.OomKilled)
            verdict = (CheckStatus.Critical, $"'{c.Name}' was OOM killed (out of memory, exit {c.ExitCode ?? 137}){(c.State == "running" ? "" : $" and is {c.State}")}. Raise its memory limit or find the leak; Get-ContainerStat shows its use.");
        else if (c.State == "restarting")
            verdict = (CheckStatus.Critical, $"'{c.Name}' is restarting (restart policy {c.RestartPolicy ?? "?"}, {c.RestartCount} restarts, last exit {c.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}): it keeps failing. {logs}");
        else if (c.State == "dead")
            verdict = (CheckStatus.Critical, $"'{c.Name}' is dead (the engine could not stop or remove it cleanly). Remove and recreate it.");
        else if (c.State == "exited" && c.ExitCode is { } code && code != 0)
            verdict = (CheckStatus.Critical, $"'{c.Name}' exited with code {code}{(code == 137 ? " (killed: SIGKILL or out of memory)" : code == 143 ? " (SIGTERM)" : "")}. {logs} Start it with Start-Container {c.Name}.");
        else if (c.State is "exited" or "created")
            verdict = (CheckStatus.Warning, $"'{c.Name}' is not running ({c.Status}). Start it with Start-Container {c.Name} if it should run.");
        else if (c.State == "paused")
            verdict = (CheckStatus.Warning, $"'{c.Name}' is paused (docker unpause {c.Name}).");
        else if (c.Health == "unhealthy")
            verdict = (CheckStatus.Critical, $"'{c.Name}' is unhealthy ({c.HealthFailingStreak} failed health checks in a row); last check: {output}. {logs} Restart-Container {c.Name} -Wait if it does not recover.");
        else if (r.RestartsSinceBaseline is > 0)
            verdict = (CheckStatus.Warning, $"'{c.Name}' restarted {r.RestartsSinceBaseline} times since the baseline ({previous} -> {c.RestartCount}). {logs}");
        else if (r.RestartedSince)
            verdict = (CheckStatus.Warning, $"'{c.Name}' restarted at least once since {options.Since!.Value.ToUniversalTime():u} (started {c.StartedAt:u}, {c.RestartCount} restarts since created; the engine keeps only the count, not when each happened). {logs}");
        else if (previous is null && options.Since is null && options.RestartWarning > 0 && c.RestartCount >= options.RestartWarning)
            verdict = (CheckStatus.Warning, $"'{c.Name}' has restarted {c.RestartCount} times since it was created (one snapshot cannot tell when; compare with -Baseline or -Since). {logs}");
        else if (c.Health == "starting")
            verdict = (CheckStatus.Warning, $"'{c.Name}' is running, its health check has not passed yet (health: starting).");
        else
            verdict = (CheckStatus.Healthy, $"'{c.Name}' is {(c.Health == "healthy" ? "running and healthy" : "running (no health check)")}, {c.RestartCount} restarts.");
        r.Status = verdict.Status;
        r.Message = verdict.Message;
        return r;
    }

    private static string Shorten(string text)
    {
        var one = string.Join(" ", text.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return one.Length > 300 ? one[..300] + "..." : one;
    }
}
