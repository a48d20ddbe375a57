namespace OpsTools.Engine.Kubernetes;

/// <summary>
/// The one read-change-write loop of the Kubernetes commands (Set-ReplicaCount, the workload edits, Set-Autoscaler,
/// Update-Secret), with one retry policy for 409 Conflict (someone else wrote the object after it was read): the attempt
/// is run again — it reads the object again, re-applies the change and writes with the new resourceVersion — at most
/// <see cref="MaxAttempts"/> times in all. The first two retries go at once (most conflicts are a controller's status
/// write that changed nothing the change cares about); later ones wait a short, jittered backoff (so two writers do not
/// collide again in step). After the last attempt the 409 goes to the caller, which names it (KubeConflict).
/// </summary>
public static class KubeReadChangeWrite
{
    /// <summary>Attempts before a run of 409 Conflicts is reported.</summary>
    public const int MaxAttempts = 10;

    /// <summary>The wait before attempt <paramref name="next"/> (2 and 3: none; then 5·2^n ms, at most 200 ms, times 0.5-1.5): <see cref="Retry.Backoff"/>.</summary>
    public static TimeSpan Backoff(int next) => Retry.Backoff(next, immediate: 2, baseMs: 40, capMs: 200);

    /// <summary>
    /// Runs <paramref name="attempt"/> (given the attempt number, from 1; from 2 on it must read the object again) until it
    /// returns or throws something other than a 409; <paramref name="onConflict"/> hears of each retry (the next attempt's number).
    /// The loop is the shared <see cref="Retry.RunAsync"/>.
    /// </summary>
    public static Task<T> RunAsync<T>(Func<int, Task<T>> attempt, Action<int>? onConflict, CancellationToken ct) =>
        Retry.RunAsync(attempt, o => o.Exception is { } e && KubeErrors.IsConflict(e) ? Backoff(o.Attempt + 1) : null, MaxAttempts,
            (next, _) => onConflict?.Invoke(next), ct);
}
