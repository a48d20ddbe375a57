namespace OpsTools.Engine;

/// <summary>
/// The one retry loop of OpsTools. It runs an attempt, asks the caller's rule whether (and after how long) to try
/// again, and otherwise hands back the attempt's result or rethrows its exception. The Kubernetes read-change-write
/// loop (409 Conflict) and the notification deliveries (429 Retry-After, 5xx, no answer) both go through it, each
/// with its own rule; <see cref="Backoff"/> is the one jittered exponential backoff they share.
/// </summary>
public static class Retry
{
    /// <summary>What one attempt gave: its number (from 1), its result, or the exception it threw.</summary>
    public readonly record struct Outcome<T>(int Attempt, T? Result, Exception? Exception);

    /// <summary>
    /// The wait before attempt <paramref name="next"/>: none for the first <paramref name="immediate"/> retries, then
    /// <paramref name="baseMs"/>·2^(retry) ms, at most <paramref name="capMs"/>, times a jitter of 0.5-1.5 (so two
    /// clients do not retry in step).
    /// </summary>
    public static TimeSpan Backoff(int next, int immediate, double baseMs, double capMs)
    {
        var retry = next - 1; // retries so far, this one included
        if (retry <= immediate) return TimeSpan.Zero;
        var ms = Math.Min(capMs, baseMs * Math.Pow(2, Math.Min(retry - immediate - 1, 20)));
        return TimeSpan.FromMilliseconds(ms * (0.5 + Random.Shared.NextDouble()));
    }

    /// <summary>
    /// Runs <paramref name="attempt"/> (given its number, from 1) at most <paramref name="maxAttempts"/> times.
    /// After each attempt <paramref name="again"/> says how long to wait before the next one, or null to stop there
    /// (the result is returned, the exception rethrown). A cancellation by <paramref name="ct"/> is never retried.
    /// <paramref name="onRetry"/> hears of each retry: the next attempt's number and the wait.
    /// </summary>
    public static async Task<T> RunAsync<T>(Func<int, Task<T>> attempt, Func<Outcome<T>, TimeSpan?> again, int maxAttempts,
        Action<int, TimeSpan>? onRetry, CancellationToken ct)
    {
        for (var n = 1; ; n++)
        {
            T? result = default;
            Exception? failure = null;
            try { result = await attempt(n).ConfigureAwait(false); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { throw; }
            catch (Exception e) { failure = e; }
            var wait = n < maxAttempts ? again(new Outcome<T>(n, result, failure)) : null;
            if (wait is null)
            {
                if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
                return result!;
            }
            onRetry?.Invoke(n + 1, wait.Value);
            if (wait.Value > TimeSpan.Zero) await Task.Delay(wait.Value, ct).ConfigureAwait(false);
        }
    }
}
