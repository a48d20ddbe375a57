using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using System.Threading.Channels;
using OpsTools.Engine.Logs;
using OpsTools.Logs;

namespace OpsTools.Commands.Logs;

/// <summary>
/// <para type="synopsis">Finds the log lines that match a pattern, like grep -n -C, as objects with their source, line number, time and level; -Count counts like grep -c.</para>
/// <para type="description">The runbooks' 'grep "ERROR\|CRITICAL" logs/api_$(date +%Y%m%d).log | tail -20' and 'grep "rate limit exceeded" ...' over files and globs (rotated .gz too), containers, pods of a deployment and the journal. Files are read in large blocks and searched with a literal prefilter, so only candidate lines are decoded; each hit is written as soon as it is found (LogMatch: Source, LineNumber, Time from the line itself or the entry it continues, Level, Line, PreContext, PostContext). -Count returns the number of matching lines per file (grep -c) or per source.</para>
/// </summary>
[Cmdlet(VerbsCommon.Search, "Log", HelpUri = HelpLinks.Base + "Search-Log.md")]
[OutputType(typeof(LogMatch), typeof(LogMatchCount), typeof(string))]
public sealed class SearchLogCommand : LogSourceCmdlet
{
    /// <summary>Lines of context: one number for before and after (grep -C), or two (before, after: -B, -A), as Select-String -Context.</summary>
    [Parameter]
    [ValidateCount(1, 2)]
    [ValidateRange(0, 1000)]
    public int[]? ContextLines { get; set; }

    /// <summary>Only the number of matching lines: per file for files (grep -c), per source otherwise.</summary>
    [Parameter]
    public SwitchParameter Count { get; set; }

    /// <summary>grep -n style strings: "source:line:text".</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    /// <summary>Stop after this many hits per source (grep -m).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MaxCount { get; set; } = long.MaxValue;

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        foreach (var source in await SourcesAsync(ct))
        {
            try
            {
                if (Count) await CountAsync(source, ct);
                else await SearchAsync(source, ct);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ReadError, source.Name));
            }
        }
    }

    private async Task CountAsync(LogSource source, CancellationToken ct)
    {
        if (source is FileLogSource f && SinceUtc is null && UntilUtc is null)
        {
            // grep -c: the fast path, no line is parsed.
            foreach (var path in LogReader.ExpandFiles(f.Pattern, f.CurrentDirectory))
            {
                var matcher = LogMatcher.Create(Matcher.Pattern, !Matcher.IgnoreCase);
                Output(await Task.Run(() => LogReader.CountFile(path, matcher, ct), ct));
            }
            return;
        }
        var analyzer = new LogAnalyzer(source.Name, source.Kind, Options(), null);
        await Task.Run(() => LogReader.RunAsync(source, analyzer, SinceUtc, UntilUtc, ct), ct);
        var s = analyzer.Finish(TimeSpan.Zero, double.MaxValue, double.MaxValue);
        Output(new LogMatchCount { Source = source.Name, Count = s.Matched + s.UnparsedMatching, LinesRead = s.LinesRead, Bytes = s.Bytes });
    }

    private LogAnalysisOptions Options() => new()
    {
        Matcher = LogMatcher.Create(Matcher.Pattern, !Matcher.IgnoreCase), Since = SinceUtc, Until = UntilUtc, Format = Format, Summarize = false,
        ContextBefore = ContextLines is { Length: > 0 } c ? c[0] : 0,
        ContextAfter = ContextLines is { Length: > 1 } c2 ? c2[1] : ContextLines is { Length: 1 } c1 ? c1[0] : 0,
    };

    private async Task SearchAsync(LogSource source, CancellationToken ct)
    {
        var channel = Channel.CreateBounded<LogMatch>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long hits = 0;
        var analyzer = new LogAnalyzer(source.Name, source.Kind, Options(), m =>
        {
            if (hits >= MaxCount) { done.Cancel(); return; }
            hits++;
            while (!channel.Writer.TryWrite(m)) channel.Writer.WaitToWriteAsync(done.Token).AsTask().GetAwaiter().GetResult();
        });
        var producer = Task.Run(async () =>
        {
            try { await LogReader.RunAsync(source, analyzer, SinceUtc, UntilUtc, done.Token); channel.Writer.TryComplete(); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { channel.Writer.TryComplete(); } // -MaxCount reached
            catch (Exception e) { channel.Writer.TryComplete(e); }
        });
        try
        {
            await OutputStreamAsync(channel.Reader.ReadAllAsync(ct), m => Raw ? $"{m.Source}:{m.LineNumber}:{m.Line}" : m, ct);
        }
        finally
        {
            done.Cancel();
            try { await producer; } catch (OperationCanceledException) { }
        }
        if (channel.Reader.Completion.IsFaulted && channel.Reader.Completion.Exception?.InnerException is OpsToolsException e) throw e;
    }
}
