using System.Diagnostics;

namespace OpsTools.Engine;

/// <summary>
/// The one wait policy of every "wait until it is ready" in the module (rollouts, Compose replicas, containers'
/// health): poll with a backoff (first read at once, then 250 ms growing by half up to 1 s), stop at the timeout,
/// retry transient errors within it, and honour cancellation (Ctrl+C) at every step.
/// </summary>
public sealed class WaitPolicy
{
    public WaitPolicy(TimeSpan timeout) => Timeout = timeout;

    /// <summary>How long to wait in all.</summary>
    public TimeSpan Timeout { get; }
    /// <summary>The pause after the first read.</summary>
    public TimeSpan FirstInterval { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>The longest pause between two reads.</summary>
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How much each pause grows.</summary>
    public double Backoff { get; init; } = 1.5;

    /// <summary>A policy that reads at a fixed interval (tests, and callers that name one).</summary>
    public static WaitPolicy Every(TimeSpan timeout, TimeSpan interval) => new(timeout) { FirstInterval = interval, MaxInterval = interval, Backoff = 1 };

    /// <summary>The pause after <paramref name="current"/>.</summary>
    public TimeSpan Next(TimeSpan current)
    {
        var next = TimeSpan.FromTicks((long)(current.Ticks * Backoff));
        return next > MaxInterval ? MaxInterval : next;
    }

    /// <summary>
    /// A token that also ends a little after the timeout: a request that hangs on a half-dead server cannot hold a wait
    /// past <see cref="Timeout"/> plus <paramref name="grace"/>.
    /// </summary>
    public CancellationTokenSource Bound(CancellationToken ct, TimeSpan grace)
    {
        var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(Timeout + grace);
        return bound;
    }
}

/// <summary>How a poll ended: the last state read (default when none was), whether it was done, and how long it took.</summary>
public sealed record PollOutcome<T>(T Last, bool Read, bool Done, TimeSpan Waited, string? Outage)
{
    public bool TimedOut => !Done;
}

/// <summary>The one poll loop behind every wait (see <see cref="WaitPolicy"/>).</summary>
public static class Poller
{
    /// <summary>
    /// Reads until <paramref name="done"/> says so or the policy's timeout passes. <paramref name="onRead"/> sees every
    /// state read; an error that <paramref name="transient"/> accepts (a server restarting, a network blip) is passed to
    /// <paramref name="onTransient"/> and retried within the timeout; any other error, and cancellation, end the wait.
    /// </summary>
    public static async Task<PollOutcome<T>> UntilAsync<T>(Func<CancellationToken, Task<T>> read, Func<T, bool> done, WaitPolicy policy,
        CancellationToken ct, Action<T>? onRead = null, Func<OpsToolsException, bool>? transient = null, Action<OpsToolsException>? onTransient = null)
    {
        var sw = Stopwatch.StartNew();
        var interval = policy.FirstInterval;
        T last = default!;
        var any = false;
        string? outage = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                last = await read(ct).ConfigureAwait(false);
                any = true;
                outage = null;
                onRead?.Invoke(last);
                if (done(last)) return new PollOutcome<T>(last, true, true, sw.Elapsed, null);
            }
            catch (OpsToolsException e) when (transient?.Invoke(e) == true && sw.Elapsed < policy.Timeout)
            {
                outage = e.Message;
                onTransient?.Invoke(e);
            }
            var left = policy.Timeout - sw.Elapsed;
            if (left <= TimeSpan.Zero) return new PollOutcome<T>(last, any, false, sw.Elapsed, outage);
            await Task.Delay(left < interval ? left : interval, ct).ConfigureAwait(false);
            interval = policy.Next(interval);
        }
    }
}
