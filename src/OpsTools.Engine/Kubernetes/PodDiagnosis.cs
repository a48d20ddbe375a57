using k8s.Models;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>
/// The diagnosis rules of Get-PodHealth: from a pod (and the warning events about it) to a
/// <see cref="PodHealthResult"/> with a Status and a Diagnosis an admin can act on. Pure: no API calls.
/// <list type="bullet">
/// <item>Critical: a container in CrashLoopBackOff; an image that cannot be pulled; Unschedulable; phase Failed;
/// a container that cannot be created (CreateContainerConfigError ...).</item>
/// <item>Warning: running but not ready (after <see cref="StartupGrace"/>); OOMKilled last time (now running);
/// restarted since -Since (or, without -Since, in the last hour); Pending longer than <see cref="StartupGrace"/>.</item>
/// <item>Healthy: everything else (Running and Ready, Succeeded).</item>
/// </list>
/// </summary>
public static class PodDiagnosis
{
    /// <summary>How long a new pod may be pending or not ready before it is a Warning.</summary>
    public static readonly TimeSpan StartupGrace = TimeSpan.FromMinutes(2);

    /// <summary>Without -Since, a restart whose termination ended this recently makes a Warning.</summary>
    public static readonly TimeSpan RecentRestart = TimeSpan.FromHours(1);

    public const string Rules = "critical: CrashLoopBackOff, image pull error, unschedulable, failed; warning: not ready, OOMKilled, recent restarts, pending > 2 min";

    private static readonly HashSet<string> ImagePullReasons = new(StringComparer.Ordinal)
        { "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull", "RegistryUnavailable" };

    private static readonly HashSet<string> CannotStartReasons = new(StringComparer.Ordinal)
        { "CreateContainerConfigError", "CreateContainerError", "RunContainerError", "PreStartHookError", "PostStartHookError" };

    /// <summary>Diagnoses one pod. <paramref name="events"/> are the warning events about it; <paramref name="owner"/>
    /// is "deployment/x" or another controller; <paramref name="since"/> counts restarts from then (UTC).</summary>
    public static PodHealthResult Diagnose(V1Pod pod, IReadOnlyList<ClusterEvent> events, string? owner, string? deployment,
        DateTime? since, DateTime now)
    {
        var spec = pod.Spec;
        var status = pod.Status;
        var result = new PodHealthResult
        {
            Namespace = pod.Metadata.NamespaceProperty ?? "",
            Name = pod.Metadata.Name,
            Target = $"{pod.Metadata.NamespaceProperty}/{pod.Metadata.Name}",
            Phase = status?.Phase ?? "Unknown",
            Node = spec?.NodeName,
            PodIP = status?.PodIP,
            Created = pod.Metadata.CreationTimestamp?.ToUniversalTime(),
            Owner = owner,
            Deployment = deployment,
            Events = events.OrderBy(e => e.Time ?? DateTime.MinValue).ToList(),
            Since = since,
            Timestamp = now,
        };

        var containers = new List<PodContainerHealth>();
        foreach (var c in status?.InitContainerStatuses ?? new List<V1ContainerStatus>())
            containers.Add(Container(c, init: true, pod, since));
        foreach (var c in status?.ContainerStatuses ?? new List<V1ContainerStatus>())
            containers.Add(Container(c, init: false, pod, since));
        // Containers the kubelet has not reported yet (pending pods): waiting, with no reason.
        foreach (var c in spec?.Containers ?? new List<V1Container>())
            if (!containers.Any(x => !x.Init && x.Name == c.Name))
                containers.Add(new PodContainerHealth { Name = c.Name, Image = c.Image, State = "Waiting" });
        result.Containers = containers;

        var main = containers.Where(c => !c.Init).ToList();
        result.TotalContainers = main.Count;
        result.ReadyContainers = main.Count(c => c.Ready);
        result.Restarts = containers.Sum(c => c.Restarts);
        if (since is not null)
        {
            result.RestartsSince = containers.Sum(c => c.RestartsSince ?? 0);
            result.RestartsSinceExact = containers.All(c => c.RestartsSinceExact);
        }
        result.LastTermination = containers.Where(c => c.LastTermination is not null)
            .OrderByDescending(c => c.LastTermination!.FinishedAt ?? DateTime.MinValue).Select(c => c.LastTermination).FirstOrDefault();

        var crashing = containers.Where(c => c.Reason == "CrashLoopBackOff").ToList();
        var pulling = containers.Where(c => c.Reason is not null && ImagePullReasons.Contains(c.Reason)).ToList();
        var cannotStart = containers.Where(c => c.State == "Waiting" && c.Reason is not null && CannotStartReasons.Contains(c.Reason)).ToList();
        var oom = containers.Where(c => c.LastTermination?.Reason == "OOMKilled").ToList();
        result.CrashLoopBackOff = crashing.Count > 0;
        result.ImagePullError = pulling.Count > 0;
        result.OomKilled = oom.Count > 0;

        var scheduled = status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        result.Unschedulable = scheduled is { Status: "False", Reason: "Unschedulable" };
        if (result.Phase == "Pending")
        {
            if (result.Unschedulable) { result.PendingReason = "Unschedulable"; result.PendingMessage = scheduled!.Message; }
            else if (string.IsNullOrEmpty(spec?.NodeName)) { result.PendingReason = "NotScheduled"; result.PendingMessage = scheduled?.Message ?? "waiting for the scheduler"; }
            else if (containers.FirstOrDefault(c => c.State == "Waiting" && c.Reason is not null) is { } w) { result.PendingReason = w.Reason; result.PendingMessage = w.Message; }
            else { result.PendingReason = "ContainerCreating"; }
        }
        result.State = KubectlStatus(pod, containers, result);

        var age = result.Created is null ? TimeSpan.MaxValue : now - result.Created.Value;
        var problems = new List<(CheckStatus Status, string Text)>();
        string Events(string reason) =>
            result.Events.LastOrDefault(e => e.Reason == reason) is { } ev ? $"; event {ev.Reason}: {ev.Message}" : "";

        if (result.Phase == "Failed")
            problems.Add((CheckStatus.Critical, $"pod failed{(status?.Reason is null ? "" : $" ({status.Reason})")}{(status?.Message is null ? "" : $": {status.Message}")}"));
        if (result.Unschedulable)
            problems.Add((CheckStatus.Critical, $"unschedulable: {scheduled!.Message ?? "no node fits"}; check node selectors, taints and resource requests (kubectl describe pod)"));
        foreach (var c in crashing)
        {
            var last = c.LastTermination;
            var exit = last is null ? "" : $": last exit {last.ExitCode} ({last.Reason ?? "?"}){(last.FinishedAt is null ? "" : $" at {last.FinishedAt.Value:u}")}";
            problems.Add((CheckStatus.Critical, $"container {c.Name} crash-looping{exit}, {c.Restarts} restarts" +
                (last?.Reason == "OOMKilled" ? "; out of memory: raise its memory limit or fix the leak" : "") +
                $"; see Get-PodLog -Name {result.Name} -Container {c.Name} -Previous"));
        }
        foreach (var c in pulling)
            problems.Add((CheckStatus.Critical, $"container {c.Name} cannot pull image {c.Image} ({c.Reason}){(c.Message is null ? "" : $": {c.Message}")}" +
                $"{Events("Failed")}; check the image name and tag and the pull secret"));
        foreach (var c in cannotStart)
            problems.Add((CheckStatus.Critical, $"container {c.Name} cannot start ({c.Reason}){(c.Message is null ? "" : $": {c.Message}")}; check its ConfigMaps, Secrets and command"));
        foreach (var c in oom.Where(c => c.Reason != "CrashLoopBackOff"))
        {
            var last = c.LastTermination!;
            problems.Add((CheckStatus.Warning, $"container {c.Name} was OOMKilled (exit {last.ExitCode}){(last.FinishedAt is null ? "" : $" at {last.FinishedAt.Value:u}")}, {c.Restarts} restarts; " +
                "raise its memory limit or fix the leak (Get-PodResourceUsage)"));
        }
        // Not ready: a Warning once the probe has failed (an Unhealthy event) or the pod is past its start-up grace.
        if (result.Phase == "Running" && result.ReadyContainers < result.TotalContainers
            && (age > StartupGrace || result.Events.Any(e => e.Reason == "Unhealthy")))
        {
            foreach (var c in main.Where(c => !c.Ready && c.State == "Running"))
                problems.Add((CheckStatus.Warning, $"container {c.Name} running but not ready{Events("Unhealthy")}; check its readiness probe and Get-PodLog -Name {result.Name}"));
        }
        if (result.Phase == "Pending" && !result.Unschedulable && !result.ImagePullError && cannotStart.Count == 0 && age > StartupGrace)
            problems.Add((CheckStatus.Warning, $"pending for {Format(age)} ({result.PendingReason}{(result.PendingMessage is null ? "" : $": {result.PendingMessage}")})"));
        // Restarts that are not explained above.
        foreach (var c in containers.Where(c => c.Restarts > 0 && c.Reason != "CrashLoopBackOff" && c.LastTermination?.Reason != "OOMKilled"))
        {
            var last = c.LastTermination;
            var recent = since is not null ? (c.RestartsSince ?? 0) > 0 : last?.FinishedAt is { } f && now - f < RecentRestart;
            if (!recent) continue;
            var count = since is not null ? $"{(c.RestartsSinceExact ? "" : "at least ")}{c.RestartsSince} since {since.Value:u}" : $"{c.Restarts} restarts";
            problems.Add((CheckStatus.Warning, $"container {c.Name} restarted ({count}){(last is null ? "" : $": last exit {last.ExitCode} ({last.Reason ?? "?"})")}; see Get-PodLog -Name {result.Name} -Container {c.Name} -Previous"));
        }

        var worst = problems.Count == 0 ? CheckStatus.Healthy : problems.Max(p => p.Status);
        result.Status = worst;
        result.Value = result.Restarts;
        result.Threshold = Rules;
        result.Message = problems.Count > 0 ? string.Join("; ", problems.Select(p => p.Text))
            : pod.Metadata.DeletionTimestamp is not null ? "being deleted (Terminating)"
            : result.Phase == "Succeeded" ? "completed"
            : $"{result.Phase.ToLowerInvariant()}, {result.Ready} ready, {result.Restarts} restarts";
        return result;
    }

    private static PodContainerHealth Container(V1ContainerStatus c, bool init, V1Pod pod, DateTime? since)
    {
        var h = new PodContainerHealth { Name = c.Name, Image = c.Image, Init = init, Ready = c.Ready, Restarts = c.RestartCount };
        if (c.State?.Running is { } running) { h.State = "Running"; h.StartedAt = running.StartedAt?.ToUniversalTime(); }
        else if (c.State?.Terminated is { } done) { h.State = "Terminated"; h.Reason = done.Reason; h.Message = done.Message; }
        else if (c.State?.Waiting is { } waiting) { h.State = "Waiting"; h.Reason = waiting.Reason; h.Message = waiting.Message; }
        var term = c.LastState?.Terminated ?? c.State?.Terminated;
        if (term is not null)
            h.LastTermination = new ContainerTermination
            {
                Container = c.Name, Reason = term.Reason, ExitCode = term.ExitCode, Signal = term.Signal, Message = term.Message,
                StartedAt = term.StartedAt?.ToUniversalTime(), FinishedAt = term.FinishedAt?.ToUniversalTime(),
            };
        if (since is not null) (h.RestartsSince, h.RestartsSinceExact) = RestartsSince(c.RestartCount, c.LastState?.Terminated?.FinishedAt?.ToUniversalTime(),
            pod.Status?.StartTime?.ToUniversalTime() ?? pod.Metadata.CreationTimestamp?.ToUniversalTime(), since.Value);
        return h;
    }

    /// <summary>
    /// Restarts since <paramref name="since"/>, from what the API keeps: the restart count and when the last
    /// termination finished. Returns (count, exact): no restart or a last termination before -Since: (0, exact);
    /// the pod started after -Since: (all, exact); otherwise at least the last one: (1, not exact).
    /// </summary>
    public static (int Count, bool Exact) RestartsSince(int restartCount, DateTime? lastFinishedAt, DateTime? podStarted, DateTime since)
    {
        if (restartCount == 0) return (0, true);
        if (podStarted is { } started && started >= since) return (restartCount, true);
        if (lastFinishedAt is null) return (0, false); // the kubelet no longer reports when: unknown, nothing to count
        if (lastFinishedAt.Value < since) return (0, true);
        return restartCount == 1 ? (1, true) : (1, false);
    }

    /// <summary>kubectl's STATUS column (the same precedence as 'kubectl get pods').</summary>
    private static string KubectlStatus(V1Pod pod, IReadOnlyList<PodContainerHealth> containers, PodHealthResult r)
    {
        if (pod.Metadata.DeletionTimestamp is not null) return "Terminating";
        var reason = pod.Status?.Reason ?? r.Phase;
        foreach (var c in containers.Where(c => c.Init))
        {
            if (c.State == "Terminated" && c.LastTermination?.ExitCode == 0) continue;
            if (c.State == "Terminated") return "Init:" + (c.LastTermination?.Reason ?? "Error");
            if (c.Reason is { Length: > 0 } && c.Reason != "PodInitializing") return "Init:" + c.Reason;
            return $"Init:{containers.Count(x => x.Init && x.State == "Terminated")}/{containers.Count(x => x.Init)}";
        }
        foreach (var c in containers.Where(c => !c.Init).Reverse())
        {
            if (c.State == "Waiting" && c.Reason is { Length: > 0 }) reason = c.Reason;
            else if (c.State == "Terminated") reason = c.Reason ?? (c.LastTermination?.Signal is { } s and not 0 ? $"Signal:{s}" : $"ExitCode:{c.LastTermination?.ExitCode}");
        }
        if (reason == "Running" && r.OomKilled && containers.Any(c => c.LastTermination?.Reason == "OOMKilled" && c.State != "Running"))
            reason = "OOMKilled";
        return reason;
    }

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? $"{(int)t.TotalHours}h{t.Minutes}m" : t.TotalMinutes >= 1 ? $"{(int)t.TotalMinutes}m{t.Seconds}s" : $"{(int)t.TotalSeconds}s";
}
