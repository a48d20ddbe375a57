using System.Diagnostics;
using System.Management.Automation;

namespace OpsTools.Commands.Infrastructure;

/// <summary>
/// The progress line of every wait (rollouts, Compose replicas, containers' health): one activity, the latest status, and
/// how long it has waited of its timeout; completed when disposed, however the wait ended (done, timed out, Ctrl+C).
/// </summary>
internal sealed class WaitProgress : IDisposable
{
    private readonly Action<ProgressRecord> _write;
    private readonly string _activity;
    private readonly double _timeoutSec;
    private readonly int _id;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private string _last = "";

    public WaitProgress(Action<ProgressRecord> write, string activity, double timeoutSec, int id = 1)
    {
        _write = write; _activity = activity; _timeoutSec = timeoutSec; _id = id;
    }

    /// <summary>Writes the status; <paramref name="operation"/> replaces the "N of T s" line, <paramref name="percent"/> the bar.</summary>
    public void Report(string status, int percent = -1, string? operation = null)
    {
        _last = status;
        _write(new ProgressRecord(_id, _activity, status)
        {
            PercentComplete = percent,
            CurrentOperation = operation ?? $"{_watch.Elapsed.TotalSeconds:0} of {_timeoutSec:0} s",
        });
    }

    public void Dispose() => _write(new ProgressRecord(_id, _activity, _last.Length > 0 ? _last : "Done") { RecordType = ProgressRecordType.Completed });
}
