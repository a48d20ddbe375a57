namespace OpsTools.Logs;

/// <summary>How the lines of a log source are written (detected per source from its first lines).</summary>
public enum LogFormat
{
    /// <summary>Text without a recognised timestamp at the line start.</summary>
    Plain,
    /// <summary>Text lines starting with an ISO 8601 timestamp (2024-05-01T10:00:00Z, 2024-05-01 10:00:00,123); lines without one continue the previous entry (stack traces).</summary>
    Iso8601,
    /// <summary>Syslog / traditional (May  1 10:00:00 host prog[pid]: message).</summary>
    Syslog,
    /// <summary>Apache/nginx access log (common or combined): client, [time], "request", status, size.</summary>
    Access,
    /// <summary>JSON lines: time, level and message under their common names (time/timestamp/ts/@timestamp, level/severity/lvl, msg/message).</summary>
    Json,
    /// <summary>logfmt: key=value pairs (time=, level=, msg=).</summary>
    Logfmt,
    /// <summary>CRI (containerd/CRI-O, /var/log/pods): time, stream, P or F, text; P (partial) lines are joined to the next F line.</summary>
    Cri,
    /// <summary>Docker's json-file driver (/var/lib/docker/containers/*/*-json.log): {"log":..,"stream":..,"time":..}.</summary>
    DockerJson,
    /// <summary>The systemd journal as journalctl -o json writes it (PRIORITY, MESSAGE, __REALTIME_TIMESTAMP).</summary>
    Journal,
}

/// <summary>Errors of one hour: a row of the timeline.</summary>
public sealed class LogTimelineBucket
{
    /// <summary>The start of the hour (UTC).</summary>
    public DateTime Hour { get; set; }
    /// <summary>Matching (error) lines in that hour.</summary>
    public long Errors { get; set; }
    /// <summary>A bar for the console, scaled to the busiest hour of the summary.</summary>
    public string Bar { get; set; } = "";
    public override string ToString() => $"{Hour:yyyy-MM-dd HH}:00 {Errors,8} {Bar}";
}

/// <summary>One message template (numbers, ids, addresses, hex and quoted values masked) of the matching lines.</summary>
public sealed class LogTemplate
{
    /// <summary>The message with its variable parts masked: &lt;NUM&gt;, &lt;UUID&gt;, &lt;IP&gt;, &lt;HEX&gt;, &lt;STR&gt;.</summary>
    public string Template { get; set; } = "";
    public long Count { get; set; }
    /// <summary>The time of the first matching line of this template (UTC), from the line itself.</summary>
    public DateTime? FirstSeen { get; set; }
    /// <summary>The time of the last matching line of this template (UTC).</summary>
    public DateTime? LastSeen { get; set; }
    /// <summary>One full line of this template (the first seen).</summary>
    public string Example { get; set; } = "";
    /// <summary>Where the example is: source and line number.</summary>
    public string ExampleSource { get; set; } = "";
    public long ExampleLineNumber { get; set; }
    /// <summary>Share of all matching lines, in percent.</summary>
    public double Percent { get; set; }
    public override string ToString() => $"{Count} {Template}";
}

/// <summary>A named error class (database errors, Redis errors, any regex) and how many lines it matched.</summary>
public sealed class LogClassCount
{
    public string Name { get; set; } = "";
    public string Pattern { get; set; } = "";
    /// <summary>Lines in range that match the class's pattern (whether or not they match the error pattern).</summary>
    public long Count { get; set; }
    public DateTime? LastSeen { get; set; }
    public override string ToString() => $"{Name}: {Count}";
}

/// <summary>Lines per level, as the lines say it (ERROR, WARN, level=error, "severity":"error", journal PRIORITY).</summary>
public sealed class LogLevelCount
{
    public string Level { get; set; } = "";
    public long Count { get; set; }
    public override string ToString() => $"{Level}: {Count}";
}

/// <summary>A line that did not fit the source's format (malformed JSON, a cut CRI line ...): counted and shown, never dropped.</summary>
public sealed class LogUnparsedLine
{
    public string Source { get; set; } = "";
    public long LineNumber { get; set; }
    /// <summary>The line (cut at 500 characters).</summary>
    public string Line { get; set; } = "";
    public override string ToString() => $"{Source}:{LineNumber}: {Line}";
}

/// <summary>
/// One log source analysed in one pass (Measure-LogError): counts that reconcile exactly
/// (LinesRead = Matched + NotMatched + OutOfRange + Unparsed + PartialLines), errors per hour, the top message
/// templates, 401/403/5xx counts, named error classes and levels; as a check result (errors in range against the
/// LogErrorWarningCount / LogErrorCriticalCount thresholds).
/// </summary>
public sealed class LogErrorSummary : CheckResult
{
    /// <summary>The source as named: a path or glob, container:NAME, deployment:NS/NAME, pod:NS/NAME, journal[:UNIT].</summary>
    public string Source { get; set; } = "";
    /// <summary>File, Container, Pod, Journal.</summary>
    public string SourceKind { get; set; } = "";
    /// <summary>The files (or pods/containers) read for this source, in order.</summary>
    public IReadOnlyList<string> Inputs { get; set; } = Array.Empty<string>();
    /// <summary>The detected format (of the first input; each input is detected on its own: see Formats).</summary>
    public LogFormat Format { get; set; }
    /// <summary>The format of each input: "path: Format".</summary>
    public IReadOnlyList<string> Formats { get; set; } = Array.Empty<string>();
    /// <summary>The pattern that makes a line an error (matched against the whole line, as grep does; CRI: the joined message).</summary>
    public string Pattern { get; set; } = "";
    public bool CaseSensitive { get; set; }
    /// <summary>Every physical line read.</summary>
    public long LinesRead { get; set; }
    /// <summary>Parsed lines in range that match the pattern: the errors.</summary>
    public long Matched { get; set; }
    /// <summary>Parsed lines in range that do not match.</summary>
    public long NotMatched { get; set; }
    /// <summary>Lines whose own time (or the time of the entry they continue) is outside -Since/-Until.</summary>
    public long OutOfRange { get; set; }
    /// <summary>Lines that do not fit the source's format: counted here, never dropped (see UnparsedMatching, UnparsedExamples).</summary>
    public long Unparsed { get; set; }
    /// <summary>Unparsed lines that match the pattern anyway (grep -c counts them: Matched + UnparsedMatching).</summary>
    public long UnparsedMatching { get; set; }
    /// <summary>CRI partial (P) lines, each joined to the entry its F line ends.</summary>
    public long PartialLines { get; set; }
    /// <summary>LinesRead = Matched + NotMatched + OutOfRange + Unparsed + PartialLines.</summary>
    public bool Reconciled => LinesRead == Matched + NotMatched + OutOfRange + Unparsed + PartialLines;
    /// <summary>Lines in range with no time of their own and none to inherit (they count, but not in the timeline).</summary>
    public long Untimed { get; set; }
    public long Bytes { get; set; }
    /// <summary>The first and last time seen on a line in range.</summary>
    public DateTime? FirstTime { get; set; }
    public DateTime? LastTime { get; set; }
    public DateTime? Since { get; set; }
    public DateTime? Until { get; set; }
    /// <summary>Errors per hour, oldest first, every hour between the first and the last error (empty hours included).</summary>
    public IReadOnlyList<LogTimelineBucket> Timeline { get; set; } = Array.Empty<LogTimelineBucket>();
    /// <summary>The top message templates of the errors, most frequent first.</summary>
    public IReadOnlyList<LogTemplate> Templates { get; set; } = Array.Empty<LogTemplate>();
    /// <summary>Distinct templates seen (at most TemplateLimit).</summary>
    public int DistinctTemplates { get; set; }
    /// <summary>The bound on distinct templates kept (memory stays flat whatever the input).</summary>
    public int TemplateLimit { get; set; }
    /// <summary>The bound was reached: errors of templates first seen after that are counted in OtherTemplateCount.</summary>
    public bool TemplateLimitReached { get; set; }
    public long OtherTemplateCount { get; set; }
    /// <summary>HTTP 401 responses (access logs' status field; JSON status/status_code).</summary>
    public long Status401 { get; set; }
    /// <summary>HTTP 403 responses.</summary>
    public long Status403 { get; set; }
    /// <summary>HTTP 5xx responses.</summary>
    public long Status5xx { get; set; }
    /// <summary>Lines with an HTTP status (access logs, JSON status fields).</summary>
    public long HttpRequests { get; set; }
    /// <summary>401 + 403: the runbooks' authentication failures.</summary>
    public long AuthFailures => Status401 + Status403;
    public IReadOnlyList<LogClassCount> Classes { get; set; } = Array.Empty<LogClassCount>();
    public IReadOnlyList<LogLevelCount> Levels { get; set; } = Array.Empty<LogLevelCount>();
    /// <summary>The first unparsed lines (at most 10).</summary>
    public IReadOnlyList<LogUnparsedLine> UnparsedExamples { get; set; } = Array.Empty<LogUnparsedLine>();
    /// <summary>Megabytes (10^6 bytes) per second of the analysis.</summary>
    public double MBPerSecond { get; set; }
    /// <summary>The top templates as text, for tables.</summary>
    public string TopTemplate => Templates.Count > 0 ? Templates[0].Template : "";
}

/// <summary>One line found by Search-Log, with its place and context (what grep -n -C prints, as an object).</summary>
public sealed class LogMatch
{
    /// <summary>The file path, container:NAME, pod:NS/POD/CONTAINER or journal.</summary>
    public string Source { get; set; } = "";
    public long LineNumber { get; set; }
    /// <summary>The line's own time (UTC), else the time of the entry it continues, else the engine's time.</summary>
    public DateTime? Time { get; set; }
    /// <summary>The level the line states (ERROR, WARN ...), or empty.</summary>
    public string Level { get; set; } = "";
    public string Line { get; set; } = "";
    /// <summary>The lines before (-Context), oldest first.</summary>
    public IReadOnlyList<string> PreContext { get; set; } = Array.Empty<string>();
    /// <summary>The lines after (-Context).</summary>
    public IReadOnlyList<string> PostContext { get; set; } = Array.Empty<string>();
    public override string ToString() => $"{Source}:{LineNumber}:{Line}";
}

/// <summary>The number of matching lines of one source (Search-Log -Count: grep -c).</summary>
public sealed class LogMatchCount
{
    public string Source { get; set; } = "";
    public long Count { get; set; }
    public long LinesRead { get; set; }
    public long Bytes { get; set; }
    public override string ToString() => $"{Source}:{Count}";
}

/// <summary>Space a log folder or file takes (what du -sh shows).</summary>
public sealed class LogSizeInfo
{
    public string Path { get; set; } = "";
    /// <summary>Folder or File.</summary>
    public string Kind { get; set; } = "";
    /// <summary>The files' lengths added up (what du -sb / du --apparent-size shows; du -sh counts whole blocks, a little more).</summary>
    public long Bytes { get; set; }
    public long Files { get; set; }
    /// <summary>The newest file's last write (UTC).</summary>
    public DateTime? LastWriteTime { get; set; }
    /// <summary>The oldest file's last write (UTC).</summary>
    public DateTime? OldestWriteTime { get; set; }
    /// <summary>du -h style: 4.0K, 12M, 1.5G.</summary>
    public string Size => ByteSize.Format(Bytes, ByteFormat.Du);
    public override string ToString() => $"{Size}\t{Path}";
}

/// <summary>One old log file Remove-OldLog removed (or, with -WhatIf, would remove).</summary>
public sealed class LogRemoval
{
    public string Path { get; set; } = "";
    public long Bytes { get; set; }
    public DateTime LastWriteTime { get; set; }
    public TimeSpan Age { get; set; }
    /// <summary>Removed, WhatIf (would be removed), Declined (not confirmed), Failed.</summary>
    public string Action { get; set; } = "";
    public string? Reason { get; set; }
    public string Size => ByteSize.Format(Bytes, ByteFormat.Du);
    public override string ToString() => $"{Action} {Path} ({Size})";
}
