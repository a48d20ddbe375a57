using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Configuration;
using OpsTools.Engine.Redis;
using OpsTools.Redis;

namespace OpsTools.Commands.Redis;

/// <summary>
/// <para type="synopsis">Reads the size of named queues in Redis (lists, streams with consumer groups, sorted sets, BullMQ, RQ, Celery) in one round trip, as check results, with their growth since a previous reading.</para>
/// <para type="description">Every queue is read in one pipelined batch (plus one TYPE/EXISTS batch for queues whose kind is Auto), not one round trip per queue. The backlog (what waits to be processed) is compared with QueueBacklogWarning/Critical; with -Interval the queues are read twice and the growth per minute is compared with QueueGrowthWarningPerMinute/CriticalPerMinute; a previous reading piped in (or -Previous) gives the growth since then.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "QueueStatus", HelpUri = HelpLinks.Base + "Get-QueueStatus.md")]
[OutputType(typeof(QueueStatusResult))]
public sealed class GetQueueStatusCommand : RedisCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Queue names: the key of a list, stream or sorted set, or the queue name of BullMQ, RQ or Celery. Default: the environment's Queues section.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(QueueNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Auto (found from the keys), List, Stream, SortedSet, BullMQ, RQ or Celery. Default: the environment's entry, else Auto.</summary>
    [Parameter]
    [ValidateSet("Auto", "List", "Stream", "SortedSet", "BullMQ", "RQ", "Celery", IgnoreCase = true)]
    public string? Kind { get; set; }

    /// <summary>BullMQ's key prefix. Default 'bull'.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Prefix { get; set; }

    /// <summary>Earlier readings (Get-QueueStatus objects, also from the pipeline): growth is measured since them.</summary>
    [Parameter(ValueFromPipeline = true)]
    public QueueStatusResult[]? Previous { get; set; }

    /// <summary>Read twice, this long apart (a TimeSpan, or 30s, 5m, a number of seconds), and report the growth between the readings.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan? Interval { get; set; }

    /// <summary>Backlog at or above which a queue is a warning. Default: QueueBacklogWarning, else 1000.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double BacklogWarning { get; set; }

    /// <summary>Backlog at or above which a queue is critical. Default: QueueBacklogCritical, else 10000.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double BacklogCritical { get; set; }

    /// <summary>Growth per minute above which a queue is a warning. Default: QueueGrowthWarningPerMinute, else 60.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double GrowthWarningPerMinute { get; set; }

    /// <summary>Growth per minute above which a queue is critical. Default: QueueGrowthCriticalPerMinute, else 600.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double GrowthCriticalPerMinute { get; set; }

    private readonly List<string> _names = new();
    private readonly List<QueueStatusResult> _previous = new();

    protected override Task ProcessRecordAsync(CancellationToken ct)
    {
        // Everything is read at the end, in one batch: piped names and readings are only collected here.
        // A piped reading binds to -Previous and, as its text, to -Name too (both take pipeline input): that text is no queue name.
        var names = Name;
        if (names is not null && Previous is { Length: > 0 } piped && names.All(n => piped.Any(p => p is not null && p.ToString() == n))) names = null;
        if (names is not null) _names.AddRange(names.Where(n => !_names.Contains(n)));
        if (Previous is not null)
            foreach (var p in Previous.Where(p => p is not null))
            {
                _previous.Add(p);
                if (!_names.Contains(p.Name)) _names.Add(p.Name);
            }
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken ct)
    {
        var entries = Entries();
        if (entries.Count == 0)
        {
            Fail(new OpsToolsException("QueueNoneNamed", OpsErrorKind.InvalidArgument,
                "No queue to read: give -Name, pipe readings in, or name queues in the environment file's Queues section.", null),
                "QueueNoneNamed", ErrorCategory.InvalidArgument, null);
            return;
        }
        var target = ResolveTarget();
        var t = Thresholds;
        var th = new QueueThresholds
        {
            BacklogWarning = Pick(nameof(BacklogWarning), BacklogWarning, t.QueueBacklogWarning),
            BacklogCritical = Pick(nameof(BacklogCritical), BacklogCritical, t.QueueBacklogCritical),
            GrowthWarningPerMinute = Pick(nameof(GrowthWarningPerMinute), GrowthWarningPerMinute, t.QueueGrowthWarningPerMinute),
            GrowthCriticalPerMinute = Pick(nameof(GrowthCriticalPerMinute), GrowthCriticalPerMinute, t.QueueGrowthCriticalPerMinute),
        };
        try
        {
            var readings = await QueueReader.ReadAsync(target, entries, Verbose, ct).ConfigureAwait(false);
            Dictionary<string, QueueStatusResult> before = _previous.GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.OrderBy(p => p.Timestamp).Last());
            if (Interval is TimeSpan wait && wait > TimeSpan.Zero)
            {
                Verbose($"First reading done; reading again in {wait}.");
                var activity = $"Reading {entries.Count} queue(s) again after {wait}";
                var until = DateTime.UtcNow + wait;
                while (DateTime.UtcNow < until)
                {
                    var left = until - DateTime.UtcNow;
                    Progress(new ProgressRecord(1, activity, "waiting") { SecondsRemaining = (int)Math.Ceiling(left.TotalSeconds) });
                    await Task.Delay(left < TimeSpan.FromSeconds(1) ? left : TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                }
                Progress(new ProgressRecord(1, activity, "done") { RecordType = ProgressRecordType.Completed });
                before = readings.ToDictionary(r => r.Name, r => r);
                readings = await QueueReader.ReadAsync(target, entries, Verbose, ct).ConfigureAwait(false);
            }
            for (var i = 0; i < readings.Count; i++)
            {
                var r = readings[i];
                r.Environment = Environment?.Name;
                QueueReader.Judge(r, entries[i], th, before.GetValueOrDefault(r.Name));
                Output(r);
            }
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.ConnectionError, target.Address); }
    }

    private List<QueueEntry> Entries()
    {
        var configured = Environment?.Queues ?? Array.Empty<QueueEntry>();
        var names = _names.Count > 0 ? _names : configured.Select(q => q.Name).ToList();
        return names.Select(n =>
        {
            var known = configured.FirstOrDefault(q => q.Name == n);
            var prev = _previous.LastOrDefault(p => p.Name == n);
            return new QueueEntry
            {
                Name = n,
                Kind = Kind is not null ? QueueReader.Kinds.First(k => k.Equals(Kind, StringComparison.OrdinalIgnoreCase))
                    : known?.Kind is { } k2 && k2 != "Auto" ? k2 : prev is not null && prev.Kind != "Unknown" ? prev.Kind : "Auto",
                Prefix = Prefix ?? known?.Prefix,
                BacklogWarning = Bound(nameof(BacklogWarning)) ? null : known?.BacklogWarning,
                BacklogCritical = Bound(nameof(BacklogCritical)) ? null : known?.BacklogCritical,
            };
        }).ToList();
    }
}
