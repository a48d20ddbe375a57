using System.Runtime.CompilerServices;
using System.Text;
using OpsTools.Logs;

namespace OpsTools.Engine.Logs;

/// <summary>What one analysis looks for.</summary>
public sealed class LogAnalysisOptions
{
    /// <summary>The pattern that makes a line an error (or a search hit).</summary>
    public required LogMatcher Matcher { get; init; }
    /// <summary>Named error classes (database errors, Redis errors ...): each counted over every line in range.</summary>
    public IReadOnlyList<(string Name, LogMatcher Matcher)> Classes { get; init; } = Array.Empty<(string, LogMatcher)>();
    /// <summary>Only lines whose own time is at or after this (UTC).</summary>
    public DateTime? Since { get; init; }
    /// <summary>Only lines whose own time is before this (UTC).</summary>
    public DateTime? Until { get; init; }
    /// <summary>Templates returned.</summary>
    public int Top { get; init; } = 10;
    /// <summary>The bound on distinct templates kept.</summary>
    public int MaxTemplates { get; init; } = 2000;
    /// <summary>A format to use instead of detecting one.</summary>
    public LogFormat? Format { get; init; }
    /// <summary>Build the summary (templates, timeline, classes); off for Search-Log.</summary>
    public bool Summarize { get; init; } = true;
    /// <summary>Search-Log: lines of context before and after each hit.</summary>
    public int ContextBefore { get; init; }
    public int ContextAfter { get; init; }
    /// <summary>"now" for syslog years (tests).</summary>
    public DateTime? Now { get; init; }
}

/// <summary>
/// The one-pass analysis of one log source (one or more inputs: files of a glob, pods of a deployment). Lines are
/// given as UTF-8 bytes; per line it costs a timestamp and level parse of the line head and, only for the matching
/// lines, the message template. Memory is bounded: the template table (MaxTemplates), the hour buckets and the
/// examples; nothing grows with the number of lines.
/// </summary>
public sealed class LogAnalyzer
{
    private const int SniffLines = 32;
    private readonly LogAnalysisOptions _o;
    private readonly LogLineParser _parser;
    private readonly long _since, _until;

    // counts
    private long _read, _matched, _notMatched, _outOfRange, _unparsed, _unparsedMatching, _partial, _untimed, _bytes;
    private long _s401, _s403, _s5xx, _http, _otherTemplates;
    private long _first, _last;
    private readonly long[] _levels = new long[LogLineParser.LevelNames.Length];
    private readonly long[] _classCounts;
    private readonly long[] _classLast;
    private readonly Dictionary<long, long> _hours = new();
    private long _hourKey = long.MinValue, _hourCount;
    private readonly Dictionary<string, TemplateStats> _templates = new(StringComparer.Ordinal);
    private bool _limitReached;
    private readonly List<LogUnparsedLine> _unparsedExamples = new();
    private readonly List<string> _inputs = new();
    private readonly List<string> _formats = new();
    private LogFormat? _firstFormat;

    // the current input
    private string _input = "";
    private LogFormat? _format;
    private readonly List<(byte[] Line, int Hint, long EngineTicks)> _pending = new();
    private long _lineNo, _lastTicks;
    private readonly MemoryStream _cri = new();
    private long _criTicks;

    // search
    private readonly Action<LogMatch>? _onMatch;
    private readonly Queue<string> _before = new();
    private readonly List<(LogMatch Match, List<string> After)> _waiting = new();

    public LogAnalyzer(string source, string kind, LogAnalysisOptions options, Action<LogMatch>? onMatch = null)
    {
        Source = source; Kind = kind; _o = options; _onMatch = onMatch;
        _parser = new LogLineParser(options.Now);
        _since = options.Since?.ToUniversalTime().Ticks ?? long.MinValue;
        _until = options.Until?.ToUniversalTime().Ticks ?? long.MaxValue;
        _classCounts = new long[options.Classes.Count];
        _classLast = new long[options.Classes.Count];
    }

    public string Source { get; }
    public string Kind { get; }
    public LogMatcher Matcher => _o.Matcher;
    /// <summary>Matching lines so far (parsed and unparsed): what grep -c counts.</summary>
    public long Hits => _matched + _unparsedMatching;

    /// <summary>Starts the next input (a file, a pod's container); its format is detected from its first lines.</summary>
    public void BeginInput(string name, LogFormat? format = null)
    {
        _input = name;
        _inputs.Add(name);
        _format = format ?? _o.Format;
        _lineNo = 0; _lastTicks = 0; _cri.SetLength(0); _criTicks = 0;
        _pending.Clear(); _before.Clear();
        if (_format is { } f) NoteFormat(f);
    }

    public void AddBytes(long n) => _bytes += n;

    /// <summary>
    /// One line (UTF-8, without its '\n'). <paramref name="hint"/>: 1 or 0 when the caller already knows whether the
    /// raw line matches (the buffer-level prefilter), -1 when not. <paramref name="engineTicks"/>: the time the engine
    /// or API stamped on the line (Docker, Kubernetes), 0 when none.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Line(ReadOnlySpan<byte> line, int hint = -1, long engineTicks = 0)
    {
        if (_format is null)
        {
            _pending.Add((line.ToArray(), hint, engineTicks));
            if (_pending.Count >= SniffLines) Detect();
            return;
        }
        Process(line, hint, engineTicks);
    }

    /// <summary>The current input's format, null while it is still being sniffed.</summary>
    public LogFormat? CurrentFormat => _format;

    /// <summary>Ends the current input (flushes a CRI entry left without its F line, and the search context).</summary>
    public void EndInput()
    {
        if (_format is null) Detect();
        if (_cri.Length > 0)
        {
            // P lines without their F line: the entry ends here (as the runtime would when the container stops).
            var msg = _cri.ToArray();
            _cri.SetLength(0);
            _partial--; // the last partial line stands for the entry
            Entry(msg, msg, new LineFacts { Ok = true, Level = LogLineParser.FindLevel(msg, 0, out _), Ticks = _criTicks }, -1, 0, plain: true);
        }
        FlushWaiting();
    }

    private void Detect()
    {
        var format = _parser.Detect(_pending.Select(p => p.Line));
        _format = format;
        NoteFormat(format);
        foreach (var (l, h, t) in _pending) Process(l, h, t);
        _pending.Clear();
    }

    private void NoteFormat(LogFormat f)
    {
        _firstFormat ??= f;
        _formats.Add($"{_input}: {f}");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Process(ReadOnlySpan<byte> line, int hint, long engineTicks)
    {
        _read++;
        _lineNo++;
        var format = _format!.Value;
        var facts = _parser.Parse(format, line);
        if (!facts.Ok)
        {
            _unparsed++;
            var m = hint >= 0 ? hint == 1 : _o.Matcher.IsMatch(line);
            if (_unparsedExamples.Count < 10)
                _unparsedExamples.Add(new LogUnparsedLine { Source = _input, LineNumber = _lineNo, Line = Cut(line, 500) });
            if (m)
            {
                _unparsedMatching++;
                if (_onMatch is not null) Hit(line, 0, "");
            }
            else Context(line);
            return;
        }
        if (format == LogFormat.Cri)
        {
            var trimmed = TrimCr(line);
            var msg = trimmed[Math.Min(facts.MessageStart, trimmed.Length)..];
            if (facts.CriTag == (byte)'P')
            {
                _partial++;
                if (_cri.Length == 0) _criTicks = facts.Ticks;
                _cri.Write(msg);
                return;
            }
            if (_cri.Length > 0)
            {
                _cri.Write(msg);
                var joined = _cri.GetBuffer().AsSpan(0, (int)_cri.Length).ToArray();
                _cri.SetLength(0);
                facts.Ticks = _criTicks != 0 ? _criTicks : facts.Ticks;
                facts.Level = LogLineParser.FindLevel(joined, 0, out _);
                Entry(joined, joined, facts, -1, engineTicks, plain: true);
                return;
            }
            Entry(msg, msg, facts, -1, engineTicks, plain: true);
            return;
        }
        if (format == LogFormat.DockerJson && (facts.CriTag == (byte)'P' || _cri.Length > 0))
        {
            // A long line the json-file driver cut into entries: joined into one entry, like CRI's P/F lines.
            var value = Encoding.UTF8.GetBytes(LogLineParser.DockerLogValue(line) ?? "");
            if (facts.CriTag == (byte)'P')
            {
                _partial++;
                if (_cri.Length == 0) _criTicks = facts.Ticks;
                _cri.Write(value);
                return;
            }
            _cri.Write(value);
            var joined = _cri.ToArray();
            _cri.SetLength(0);
            facts.Ticks = _criTicks != 0 ? _criTicks : facts.Ticks;
            facts.Level = LogLineParser.FindLevel(joined, 0, out _);
            Entry(joined, joined, facts, -1, engineTicks, plain: true);
            return;
        }
        Entry(line, line, facts, hint, engineTicks);
    }

    /// <summary>One parsed entry; <paramref name="text"/> is what the pattern is tested on (the raw line; CRI: the joined message).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Entry(ReadOnlySpan<byte> line, ReadOnlySpan<byte> text, LineFacts facts, int hint, long engineTicks, bool plain = false)
    {
        long ticks;
        if (facts.Ticks != 0) { ticks = facts.Ticks; _lastTicks = ticks; }
        else if (engineTicks != 0) ticks = engineTicks;
        else ticks = _lastTicks;
        if (ticks != 0 && (ticks < _since || ticks >= _until))
        {
            _outOfRange++;
            if (_onMatch is not null) Context(line);
            return;
        }
        if (ticks == 0) _untimed++;
        else
        {
            if (_first == 0 || ticks < _first) _first = ticks;
            if (ticks > _last) _last = ticks;
        }
        if (facts.Level >= 0) _levels[facts.Level]++;
        if (facts.Status != 0)
        {
            _http++;
            if (facts.Status == 401) _s401++;
            else if (facts.Status == 403) _s403++;
            else if (facts.Status >= 500) _s5xx++;
        }
        var matched = hint >= 0 ? hint == 1 : _o.Matcher.IsMatch(text);
        if (_o.Summarize)
        {
            for (var c = 0; c < _classCounts.Length; c++)
                if (_o.Classes[c].Matcher.IsMatch(text)) { _classCounts[c]++; if (ticks > _classLast[c]) _classLast[c] = ticks; }
        }
        if (!matched)
        {
            _notMatched++;
            if (_onMatch is not null) Context(line);
            return;
        }
        _matched++;
        if (_onMatch is not null) { Hit(line, ticks, facts.Level >= 0 ? LogLineParser.LevelNames[facts.Level] : ""); return; }
        if (!_o.Summarize) return;
        if (ticks != 0)
        {
            // Lines come in time order, so nearly every line falls in the hour of the one before: count there and
            // touch the dictionary only when the hour changes.
            var hour = ticks - ticks % TimeSpan.TicksPerHour;
            if (hour != _hourKey) { FlushHour(); _hourKey = hour; }
            _hourCount++;
        }
        var template = plain || _format!.Value == LogFormat.Cri
            ? TemplateMasker.Mask(StripLevelPrefix(Encoding.UTF8.GetString(TrimCr(line))))
            : TemplateMasker.Mask(_parser.Message(_format.Value, line, facts));
        if (_templates.TryGetValue(template, out var st))
        {
            st.Count++;
            if (ticks != 0) { if (st.First == 0 || ticks < st.First) st.First = ticks; if (ticks > st.Last) st.Last = ticks; }
        }
        else if (_templates.Count < _o.MaxTemplates)
        {
            _templates[template] = new TemplateStats { Count = 1, First = ticks, Last = ticks, Example = Cut(line, 2000), Source = _input, LineNumber = _lineNo };
        }
        else
        {
            _limitReached = true;
            _otherTemplates++;
        }
    }

    private static string StripLevelPrefix(string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        LogLineParser.FindLevel(b, 0, out var start);
        return Encoding.UTF8.GetString(b.AsSpan(Math.Min(start, b.Length))).Trim(' ', '-', ':', '|');
    }

    // ---------------------------------------------------------------- search

    private void Hit(ReadOnlySpan<byte> line, long ticks, string level)
    {
        var text = Decode(line);
        foreach (var w in _waiting) if (w.After.Count < _o.ContextAfter) w.After.Add(text);
        var match = new LogMatch
        {
            Source = _input, LineNumber = _lineNo, Time = ticks != 0 ? new DateTime(ticks, DateTimeKind.Utc) : null, Level = level, Line = text,
            PreContext = _before.ToArray(),
        };
        _before.Clear();
        if (_o.ContextAfter > 0) _waiting.Add((match, new List<string>()));
        else _onMatch!(match);
        FlushDone();
        if (_o.ContextBefore > 0) { /* a hit is never its own successor's context in grep -C? it is: keep it */ Push(text); }
    }

    private void Context(ReadOnlySpan<byte> line)
    {
        if (_o.ContextBefore == 0 && _waiting.Count == 0) return;
        var text = Decode(line);
        foreach (var w in _waiting) if (w.After.Count < _o.ContextAfter) w.After.Add(text);
        FlushDone();
        if (_o.ContextBefore > 0) Push(text);
    }

    private void Push(string text)
    {
        _before.Enqueue(text);
        while (_before.Count > _o.ContextBefore) _before.Dequeue();
    }

    private void FlushDone()
    {
        while (_waiting.Count > 0 && _waiting[0].After.Count >= _o.ContextAfter)
        {
            var (m, after) = _waiting[0];
            _waiting.RemoveAt(0);
            m.PostContext = after;
            _onMatch!(m);
        }
    }

    private void FlushWaiting()
    {
        foreach (var (m, after) in _waiting) { m.PostContext = after; _onMatch!(m); }
        _waiting.Clear();
    }

    // ---------------------------------------------------------------- result

    private void FlushHour()
    {
        if (_hourCount == 0) return;
        _hours[_hourKey] = _hours.TryGetValue(_hourKey, out var n) ? n + _hourCount : _hourCount;
        _hourCount = 0;
    }

    /// <summary>The summary as a check result: errors in range against the thresholds.</summary>
    public LogErrorSummary Finish(TimeSpan elapsed, double warningCount, double criticalCount)
    {
        FlushHour();
        var top = _templates.OrderByDescending(kv => kv.Value.Count).ThenBy(kv => kv.Value.First).Take(Math.Max(0, _o.Top)).Select(kv => new LogTemplate
        {
            Template = kv.Key, Count = kv.Value.Count, FirstSeen = T(kv.Value.First), LastSeen = T(kv.Value.Last), Example = kv.Value.Example,
            ExampleSource = kv.Value.Source, ExampleLineNumber = kv.Value.LineNumber,
            Percent = _matched == 0 ? 0 : Math.Round(100.0 * kv.Value.Count / _matched, 1),
        }).ToList();
        var timeline = new List<LogTimelineBucket>();
        if (_hours.Count > 0)
        {
            var from = _hours.Keys.Min();
            var to = _hours.Keys.Max();
            var hours = (to - from) / TimeSpan.TicksPerHour + 1;
            if (hours > 24 * 400) // a year of empty rows helps nobody: only the hours with errors
                foreach (var h in _hours.Keys.OrderBy(k => k)) timeline.Add(new LogTimelineBucket { Hour = new DateTime(h, DateTimeKind.Utc), Errors = _hours[h] });
            else
                for (var h = from; h <= to; h += TimeSpan.TicksPerHour)
                    timeline.Add(new LogTimelineBucket { Hour = new DateTime(h, DateTimeKind.Utc), Errors = _hours.TryGetValue(h, out var n) ? n : 0 });
            var max = timeline.Max(b => b.Errors);
            foreach (var b in timeline) b.Bar = max == 0 ? "" : new string('#', (int)Math.Ceiling(30.0 * b.Errors / max));
        }
        var status = _matched >= criticalCount ? CheckStatus.Critical : _matched >= warningCount ? CheckStatus.Warning : CheckStatus.Healthy;
        var classes = _o.Classes.Select((c, i) => new LogClassCount { Name = c.Name, Pattern = c.Matcher.Pattern, Count = _classCounts[i], LastSeen = T(_classLast[i]) }).ToList();
        var range = _o.Since is null && _o.Until is null ? "" : $" between {(_o.Since is { } s ? s.ToString("u") : "the start")} and {(_o.Until is { } u ? u.ToString("u") : "now")}";
        var message = _read == 0
            ? $"No lines read from {Source}."
            : $"{_matched} error line(s){range} in {_read} line(s) read" +
              (top.Count > 0 ? $"; most frequent: \"{Shorten(top[0].Template, 80)}\" ({top[0].Count})" : "") +
              (_unparsed > 0 ? $"; {_unparsed} line(s) did not fit the {_firstFormat} format (see UnparsedExamples)" : "") +
              (_limitReached ? $"; more than {_o.MaxTemplates} distinct templates: {_otherTemplates} error(s) counted as other" : "") + ".";
        return new LogErrorSummary
        {
            Check = "LogErrors", Area = "Logs", Target = Source, Source = Source, SourceKind = Kind, Status = _read == 0 ? CheckStatus.Unknown : status,
            Value = _matched, Threshold = $"warn >= {warningCount} errors; critical >= {criticalCount}", Message = message,
            Duration = elapsed, Timestamp = DateTime.UtcNow,
            Inputs = _inputs.ToList(), Format = _firstFormat ?? LogFormat.Plain, Formats = _formats.ToList(),
            Pattern = _o.Matcher.Pattern, CaseSensitive = !_o.Matcher.IgnoreCase,
            LinesRead = _read, Matched = _matched, NotMatched = _notMatched, OutOfRange = _outOfRange, Unparsed = _unparsed,
            UnparsedMatching = _unparsedMatching, PartialLines = _partial, Untimed = _untimed, Bytes = _bytes,
            FirstTime = T(_first), LastTime = T(_last), Since = _o.Since, Until = _o.Until,
            Timeline = timeline, Templates = top, DistinctTemplates = _templates.Count, TemplateLimit = _o.MaxTemplates,
            TemplateLimitReached = _limitReached, OtherTemplateCount = _otherTemplates,
            Status401 = _s401, Status403 = _s403, Status5xx = _s5xx, HttpRequests = _http,
            Classes = classes,
            Levels = _levels.Select((n, i) => new LogLevelCount { Level = LogLineParser.LevelNames[i], Count = n }).Where(l => l.Count > 0).ToList(),
            UnparsedExamples = _unparsedExamples.ToList(),
            MBPerSecond = elapsed.TotalSeconds > 0 ? Math.Round(_bytes / 1e6 / elapsed.TotalSeconds, 1) : 0,
        };
    }

    private static string Shorten(string s, int n) => s.Length <= n ? s : s[..(n - 3)] + "...";
    private static DateTime? T(long ticks) => ticks == 0 ? null : new DateTime(ticks, DateTimeKind.Utc);
    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> l) => l.Length > 0 && l[^1] == (byte)'\r' ? l[..^1] : l;
    private static string Decode(ReadOnlySpan<byte> l) => Encoding.UTF8.GetString(TrimCr(l));
    private static string Cut(ReadOnlySpan<byte> l, int max)
    {
        var s = Decode(l);
        return s.Length <= max ? s : s[..max];
    }

    private sealed class TemplateStats
    {
        public long Count, First, Last, LineNumber;
        public string Example = "", Source = "";
    }
}
