using System.Management.Automation;
using OpsTools.Engine;
using OpsTools.Engine.Kubernetes;
using OpsTools.Commands.Infrastructure;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// Base of the commands that wait for rollouts (Set-ReplicaCount -Wait, Restart-Deployment -Wait, Wait-Rollout):
/// -TimeoutSec, waiting for several workloads at once with one progress line, and one way to report how a
/// rollout ended (Failed and TimedOut: the status object AND a non-terminating error, so that $? and
/// -ErrorAction Stop work in scripts and CI).
/// </summary>
public abstract class KubeRolloutCmdlet : KubeCmdlet
{
    /// <summary>Seconds to wait for the rollout (with -Wait). Default 300. When it passes, the result comes back with State TimedOut.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public double TimeoutSec { get; set; } = 300;

    /// <summary>A rollout to wait for: where, and what to do with its outcome.</summary>
    protected sealed record PendingWait(KubeTarget Target, string Namespace, string Kind, string Name, object? State = null);

    /// <summary>How one wait ended: a status (Complete, Failed, TimedOut, Paused) or an error (the API said no, or never answered).</summary>
    protected sealed record WaitOutcome(PendingWait Wait, RolloutStatus? Status, OpsToolsException? Error);

    /// <summary>
    /// Waits for every rollout at once (kubectl rollout status rules, see KubeRollout.WaitAsync), each bounded by
    /// -TimeoutSec, writing one progress line. Ctrl+C ends the wait (the changes already made stay made).
    /// Outcomes come back in the order of <paramref name="waits"/>.
    /// </summary>
    protected async Task<IReadOnlyList<WaitOutcome>> WaitAllAsync(IReadOnlyList<PendingWait> waits, CancellationToken ct)
    {
        if (waits.Count == 0) return Array.Empty<WaitOutcome>();
        var policy = new WaitPolicy(TimeSpan.FromSeconds(TimeoutSec));
        var gate = new object();
        var done = 0;
        var activity = waits.Count == 1
            ? $"Waiting for the rollout of {waits[0].Kind.ToLowerInvariant()}/{waits[0].Name} in {waits[0].Target.Describe(waits[0].Namespace)}"
            : $"Waiting for {waits.Count} rollouts in context '{waits[0].Target.Context}'";
        using var progress = new WaitProgress(Progress, activity, TimeoutSec);
        void Report(string status)
        {
            int finished;
            lock (gate) finished = done;
            progress.Report(status, waits.Count == 1 ? -1 : finished * 100 / waits.Count, $"{finished} of {waits.Count} done; timeout {TimeoutSec:0} s");
        }
        Report("Reading the rollout status...");

        async Task<WaitOutcome> One(PendingWait w)
        {
            // A hard bound over the whole wait, so that one request hanging on a half-dead API server cannot
            // hold the command past -TimeoutSec (plus a little for the last request).
            using var bound = policy.Bound(ct, TimeSpan.FromSeconds(Math.Min(10, RequestTimeoutSec)));
            try
            {
                var status = await KubeRollout.WaitAsync(w.Target, w.Namespace, w.Kind, w.Name, policy,
                    s => Report($"{s.Kind.ToLowerInvariant()}/{s.Name}: {s.Message}"), bound.Token).ConfigureAwait(false);
                return new WaitOutcome(w, status, null);
            }
            catch (OpsToolsException e) { return new WaitOutcome(w, null, e); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return new WaitOutcome(w, null, new OpsToolsException("KubeTimeout", OpsErrorKind.Timeout,
                    $"Waited {TimeoutSec:0} s for the rollout of {w.Kind.ToLowerInvariant()} '{w.Name}' in {w.Target.Describe(w.Namespace)}; the API server did not answer the last request in time.", w.Name));
            }
            finally
            {
                lock (gate) done++;
            }
        }

        return await Task.WhenAll(waits.Select(One)).ConfigureAwait(false);
    }

    /// <summary>
    /// Writes the outcomes of <see cref="WaitAllAsync"/> as Wait-Rollout and Restart-Deployment return them: the status (and
    /// what it means, see <see cref="ReportRollout"/>), or the error that ended the wait, prefixed with what had been done
    /// before waiting (<paramref name="done"/>, e.g. "was restarted"), so the user knows the change itself went through.
    /// </summary>
    protected void WriteOutcomes(IEnumerable<WaitOutcome> outcomes, string? done)
    {
        foreach (var outcome in outcomes)
        {
            if (outcome.Status is { } status)
            {
                Output(status);
                ReportRollout(status, status);
                continue;
            }
            var error = outcome.Error!;
            if (done is not null)
                error = new OpsToolsException(error.ErrorId, error.Kind,
                    $"{outcome.Wait.Kind.ToLowerInvariant()}/{outcome.Wait.Name} {done}, but waiting for its rollout failed: {error.Message}", outcome.Wait.Name, error);
            ObjectError(error, error.ErrorId, outcome.Wait.Name);
        }
    }

    /// <summary>
    /// Writes what a finished rollout means for the caller: nothing for Complete; a warning for Paused; a
    /// non-terminating error KubeRolloutFailed (ProgressDeadlineExceeded) or KubeRolloutTimedOut (-TimeoutSec
    /// passed), after the status object itself has been written.
    /// </summary>
    protected void ReportRollout(RolloutStatus status, object errorTarget)
    {
        var what = $"{status.Kind.ToLowerInvariant()} '{status.Name}' in context '{status.Context}', namespace '{status.Namespace}'";
        switch (status.State)
        {
            case RolloutState.Failed:
                Error(ToErrorRecord(new OpsToolsException("KubeRolloutFailed", OpsErrorKind.OperationFailed,
                    $"The rollout of {what} failed: {status.Message}. See why with Get-PodHealth / Get-ClusterEvent (kubectl describe), then fix the cause or roll back (Undo-Rollout).",
                    status.Name), "KubeRolloutFailed", ErrorCategory.OperationStopped, errorTarget));
                break;
            case RolloutState.TimedOut:
                Error(ToErrorRecord(new OpsToolsException("KubeRolloutTimedOut", OpsErrorKind.Timeout,
                    $"The rollout of {what} did not complete in {TimeoutSec:0} s ({status.AvailableReplicas} of {status.DesiredReplicas} replicas available): {status.Message}. It may still complete: Wait-Rollout to keep waiting, Get-PodHealth to see why pods are not ready.",
                    status.Name), "KubeRolloutTimedOut", ErrorCategory.OperationTimeout, errorTarget));
                break;
            case RolloutState.Paused:
                Warning($"The rollout of {what} is paused: {status.Message}");
                break;
        }
    }
}
