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

    /// <summary>The wait before attempt <paramref name="next"/> (2 and 3: none; then 5·2^n ms, at most 200 ms, times 0.5-1.5).</summary>
    public static TimeSpan Backoff(int next) =>
        next <= 3 ? TimeSpan.Zero : TimeSpan.FromMilliseconds(Math.Min(200, 5 << Math.Min(next - 1, 10)) * (0.5 + Random.Shared.NextDouble()));

    /// <summary>
    /// Runs <paramref name="attempt"/> (given the attempt number, from 1; from 2 on it must read the object again) until it
    /// returns or throws something other than a 409; <paramref name="onConflict"/> hears of each retry (the next attempt's number).
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<int, Task<T>> attempt, Action<int>? onConflict, CancellationToken ct)
    {
        for (var n = 1; ; n++)
        {
            try
            {
                return await attempt(n).ConfigureAwait(false);
            }
            catch (Exception e) when (KubeErrors.IsConflict(e) && n < MaxAttempts)
            {
                onConflict?.Invoke(n + 1);
                if (Backoff(n + 1) is { } wait && wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
            }
        }
    }
}
