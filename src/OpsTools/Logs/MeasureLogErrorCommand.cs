using OpsTools.Commands.Infrastructure;
using System.Collections;
using System.Diagnostics;
using System.Management.Automation;
using OpsTools.Engine.Logs;
using OpsTools.Logs;

namespace OpsTools.Commands.Logs;

/// <summary>
/// <para type="synopsis">Analyses logs in one streaming pass: error count per hour, the top error messages as templates, 401/403 counts, named error classes and levels, with counts that add up.</para>
/// <para type="description">The runbooks' 'grep "ERROR" logs/api_$(date +%Y%m%d).log | wc -l', 'grep "401\|403" ... | wc -l', 'docker logs shrimp-postgres 2>&amp;1 | grep ERROR', 'kubectl logs -l app=api | grep -i error' and "review error logs", as one pass over any log source: files and globs (rotated .gz too), containers, every pod of a deployment, the systemd journal. The format of each input is detected from its first lines (ISO 8601, syslog or access-log text, JSON lines, logfmt, CRI with partial lines joined, Docker json-file, journal JSON). A line is an error when it matches -Pattern (a regular expression tested against the whole line, as grep does; default 'error|critical|fatal', case-insensitive). One LogErrorSummary per source: LinesRead = Matched + NotMatched + OutOfRange + Unparsed + PartialLines, exactly; lines that do not fit their format are counted and shown (UnparsedExamples), never dropped. Memory stays flat: the number of distinct templates is bounded (-MaxTemplates), and the summary says when the bound was reached. The summary is also a check result: Matched against LogErrorWarningCount / LogErrorCriticalCount.</para>
/// </summary>
[Cmdlet(VerbsDiagnostic.Measure, "LogError", HelpUri = HelpLinks.Base + "Measure-LogError.md")]
[OutputType(typeof(LogErrorSummary))]
public sealed class MeasureLogErrorCommand : LogSourceCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>How many message templates to return, most frequent first. Default 10.</summary>
    [Parameter]
    [ValidateRange(0, 10000)]
    public int Top { get; set; } = 10;

    /// <summary>Named error classes: @{ Database = 'psycopg2|could not connect'; Redis = 'redis.*(timeout|refused)' }. Default: the environment's Logs.Classes.</summary>
    [Parameter]
    [ValidateNotNull]
    public Hashtable? Class { get; set; }

    /// <summary>The bound on distinct templates (memory). Default 2000.</summary>
    [Parameter]
    [ValidateRange(10, 1_000_000)]
    public int MaxTemplates { get; set; } = 2000;

    /// <summary>Errors at which a source is a warning. Default: the environment's LogErrorWarningCount, else 10.</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double WarningCount { get; set; } = double.NaN;

    /// <summary>Errors at which a source is critical. Default: the environment's LogErrorCriticalCount, else 100.</summary>
    [Parameter]
    [ValidateRange(0, double.MaxValue)]
    public double CriticalCount { get; set; } = double.NaN;

    private List<(string Name, LogMatcher Matcher)> _classes = new();

    protected override async Task BeginProcessingAsync(CancellationToken ct)
    {
        await base.BeginProcessingAsync(ct);
        var caseSensitive = Matcher is { IgnoreCase: false };
        if (Class is not null)
        {
            foreach (DictionaryEntry e in Class)
            {
                var v = e.Value is PSObject p ? p.BaseObject : e.Value;
                _classes.Add((e.Key.ToString() ?? "", Build(v?.ToString() ?? "", caseSensitive)));
            }
        }
        else if (Environment?.Logs?.Classes is { } classes)
            foreach (var (name, rx) in classes) _classes.Add((name, Build(rx, caseSensitive)));
    }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var thresholds = Environment?.Thresholds ?? new OpsTools.Configuration.ThresholdSet();
        var warn = double.IsNaN(WarningCount) ? thresholds.LogErrorWarningCount : WarningCount;
        var crit = double.IsNaN(CriticalCount) ? thresholds.LogErrorCriticalCount : CriticalCount;
        foreach (var source in await SourcesAsync(ct))
        {
            var options = new LogAnalysisOptions
            {
                Matcher = LogMatcher.Create(Matcher.Pattern, !Matcher.IgnoreCase),
                Classes = _classes.Select(c => (c.Name, LogMatcher.Create(c.Matcher.Pattern, !c.Matcher.IgnoreCase))).ToList(),
                Since = SinceUtc, Until = UntilUtc, Top = Top, MaxTemplates = MaxTemplates, Format = Format,
            };
            var analyzer = new LogAnalyzer(source.Name, source.Kind, options);
            var sw = Stopwatch.StartNew();
            Progress(new ProgressRecord(14, "Measure-LogError", $"Reading {source.Name}"));
            try
            {
                await Task.Run(() => LogReader.RunAsync(source, analyzer, SinceUtc, UntilUtc, ct), ct);
            }
            catch (OpsToolsException e) when (e.ErrorId is "LogFileNotFound" or "LogFileUnreadable")
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, source.Name));
                continue;
            }
            catch (OpsToolsException e)
            {
                // An engine, cluster or journal that cannot be read is a result (Unknown, with the reason), not an exception.
                var unknown = analyzer.Finish(sw.Elapsed, warn, crit);
                unknown.Status = CheckStatus.Unknown;
                unknown.Message = $"Could not read {source.Name}: {e.Message}" + (unknown.LinesRead > 0 ? $" ({unknown.LinesRead} line(s) read before that)." : "");
                unknown.Environment = Environment?.Name;
                Output(unknown);
                continue;
            }
            var summary = analyzer.Finish(sw.Elapsed, warn, crit);
            summary.Environment = Environment?.Name;
            Output(summary);
        }
        Progress(new ProgressRecord(14, "Measure-LogError", "Done") { RecordType = ProgressRecordType.Completed });
    }
}
