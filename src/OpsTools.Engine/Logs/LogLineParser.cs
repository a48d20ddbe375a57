using System.Runtime.CompilerServices;
using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using OpsTools.Logs;

namespace OpsTools.Engine.Logs;

/// <summary>What the head of one line says: whether it fits the format, its time, level and HTTP status.</summary>
public struct LineFacts
{
    /// <summary>The line fits the source's format (false: unparsed).</summary>
    public bool Ok;
    /// <summary>The line's own time in UTC ticks, 0 when it has none (a continuation line).</summary>
    public long Ticks;
    /// <summary>Index into <see cref="LogLineParser.LevelNames"/>, -1 when the line states none.</summary>
    public int Level;
    /// <summary>The HTTP status, 0 when none.</summary>
    public int Status;
    /// <summary>CRI: 'P' for a partial line, 'F' for the full (last) one; Docker json-file: 'P' for an entry without its final newline; 0 otherwise.</summary>
    public byte CriTag;
    /// <summary>Where the message starts in the line (text formats, CRI).</summary>
    public int MessageStart;
}

/// <summary>
/// Byte-level parsers for the log formats: format sniffing, timestamps (ISO 8601 / RFC 3339 with up to nine
/// fractional digits, syslog, access-log), levels under their common spellings, HTTP status codes, and the message a
/// template is made of. Nothing here allocates for a line unless its message is asked for.
/// </summary>
public sealed class LogLineParser
{
    /// <summary>Normalised level names, in order of severity.</summary>
    public static readonly string[] LevelNames = { "TRACE", "DEBUG", "INFO", "NOTICE", "WARN", "ERROR", "CRITICAL", "ALERT", "EMERG", "FATAL" };
    private const int Trace = 0, Debug = 1, Info = 2, Notice = 3, Warn = 4, Error = 5, Critical = 6, Alert = 7, Emerg = 8, Fatal = 9;

    private static readonly (string Word, int Level)[] LevelWords =
    {
        ("TRACE", Trace), ("DEBUG", Debug), ("DBG", Debug), ("INFO", Info), ("INF", Info), ("NOTICE", Notice),
        ("WARN", Warn), ("WARNING", Warn), ("WRN", Warn), ("ERROR", Error), ("ERR", Error), ("SEVERE", Error),
        ("CRITICAL", Critical), ("CRIT", Critical), ("ALERT", Alert), ("EMERG", Emerg), ("EMERGENCY", Emerg),
        ("FATAL", Fatal), ("PANIC", Fatal), ("LOG", Info), ("STATEMENT", Info), ("DETAIL", Info), ("HINT", Info),
    };

    private static readonly byte[][] Months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".Split(' ').Select(Encoding.ASCII.GetBytes).ToArray();

    private readonly int _currentYear;
    private readonly long _yearCut;
    private long _cachedDayKey = -1, _cachedDayTicks;

    public LogLineParser(DateTime? now = null)
    {
        var n = now ?? DateTime.UtcNow;
        _currentYear = n.Year;
        _yearCut = n.AddDays(2).Ticks;
    }

    // ---------------------------------------------------------------- sniffing

    /// <summary>The format one line looks like (Plain when nothing more specific fits).</summary>
    public LogFormat Classify(ReadOnlySpan<byte> line)
    {
        line = TrimEnd(line);
        if (line.IsEmpty) return LogFormat.Plain;
        if (line[0] == (byte)'{')
        {
            if (line.IndexOf("\"__REALTIME_TIMESTAMP\""u8) >= 0) return LogFormat.Journal;
            if (line.StartsWith("{\"log\":"u8) && line.IndexOf("\"time\":"u8) >= 0) return LogFormat.DockerJson;
            return LogFormat.Json;
        }
        if (TryIso(line, out _, out var n))
        {
            var rest = line[n..];
            if (rest.Length >= 10 && (rest.StartsWith(" stdout "u8) || rest.StartsWith(" stderr "u8)) && (rest[8] == (byte)'P' || rest[8] == (byte)'F')
                && (rest.Length == 9 || rest[9] == (byte)' '))
                return LogFormat.Cri;
            return LogFormat.Iso8601;
        }
        if (TrySyslog(line, out _, out _)) return LogFormat.Syslog;
        var a = default(LineFacts);
        if (TryAccess(line, ref a)) return LogFormat.Access;
        if (LooksLogfmt(line)) return LogFormat.Logfmt;
        return LogFormat.Plain;
    }

    /// <summary>The format of a source from its first lines: the most frequent specific format, else Plain.</summary>
    public LogFormat Detect(IEnumerable<byte[]> lines)
    {
        var counts = new int[Enum.GetValues<LogFormat>().Length];
        foreach (var l in lines) counts[(int)Classify(l)]++;
        var best = LogFormat.Plain;
        for (var i = 1; i < counts.Length; i++) if (counts[i] > counts[(int)best] || (best == LogFormat.Plain && counts[i] > 0)) best = (LogFormat)i;
        return best;
    }

    // ---------------------------------------------------------------- parsing

    /// <summary>Parses the head of one line in the given format.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public LineFacts Parse(LogFormat format, ReadOnlySpan<byte> line)
    {
        line = TrimEnd(line);
        var f = new LineFacts { Ok = true, Level = -1 };
        switch (format)
        {
            case LogFormat.Plain:
                f.Level = FindLevel(line, 0, out f.MessageStart);
                break;
            case LogFormat.Iso8601:
                if (TryIso(line, out f.Ticks, out var n)) f.Level = FindLevel(line, n, out f.MessageStart);
                else f.MessageStart = 0;
                break;
            case LogFormat.Syslog:
                if (TrySyslog(line, out f.Ticks, out var sn))
                {
                    // host prog[pid]: message
                    var colon = line[sn..].IndexOf(": "u8);
                    var start = colon >= 0 && colon < 120 ? sn + colon + 2 : sn;
                    f.Level = FindLevel(line, start, out f.MessageStart);
                }
                break;
            case LogFormat.Access:
                f.Ok = TryAccess(line, ref f);
                if (f.Ok && f.Status >= 500) f.Level = Error;
                else if (f.Ok && f.Status >= 400) f.Level = Warn;
                else if (f.Ok) f.Level = Info;
                break;
            case LogFormat.Cri:
                f.Ok = TryIso(line, out f.Ticks, out var cn) && line.Length >= cn + 9 && line[cn] == (byte)' '
                       && (line[(cn + 1)..].StartsWith("stdout "u8) || line[(cn + 1)..].StartsWith("stderr "u8))
                       && (line[cn + 8] == (byte)'P' || line[cn + 8] == (byte)'F') && (line.Length == cn + 9 || line[cn + 9] == (byte)' ');
                if (f.Ok)
                {
                    f.CriTag = line[cn + 8];
                    f.MessageStart = Math.Min(line.Length, cn + 10);
                    f.Level = FindLevel(line, f.MessageStart, out _);
                }
                break;
            case LogFormat.Json:
            case LogFormat.DockerJson:
            case LogFormat.Journal:
                f.Ok = TryJson(format, line, ref f);
                break;
            case LogFormat.Logfmt:
                f.Ok = TryLogfmt(line, ref f);
                break;
        }
        return f;
    }

    /// <summary>The message of a line, for its template: the text after the time and level, the JSON msg, the request of an access log.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public string Message(LogFormat format, ReadOnlySpan<byte> line, in LineFacts facts)
    {
        line = TrimEnd(line);
        switch (format)
        {
            case LogFormat.Json:
            case LogFormat.DockerJson:
            case LogFormat.Journal:
                return JsonMessage(format, line) ?? Encoding.UTF8.GetString(line);
            case LogFormat.Logfmt:
                return LogfmtValue(line, "msg"u8) ?? LogfmtValue(line, "message"u8) ?? Encoding.UTF8.GetString(line);
            case LogFormat.Access:
            {
                var q1 = line.IndexOf((byte)'"');
                var q2 = q1 >= 0 ? line[(q1 + 1)..].IndexOf((byte)'"') : -1;
                return q2 >= 0 ? Encoding.UTF8.GetString(line.Slice(q1, q2 + 2)) + " " + facts.Status : Encoding.UTF8.GetString(line);
            }
            default:
                var m = line[Math.Min(facts.MessageStart, line.Length)..];
                return Encoding.UTF8.GetString(m.Trim(" \t-:|"u8));
        }
    }

    // ---------------------------------------------------------------- timestamps

    /// <summary>ISO 8601 / RFC 3339 at the start: 2024-05-01T10:00:00[.fffffffff][Z|+01:00|+0100| UTC]; no zone: UTC.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryIso(ReadOnlySpan<byte> s, out long ticks, out int consumed)
    {
        ticks = 0; consumed = 0;
        if (s.Length < 19 || s[4] != (byte)'-' || s[7] != (byte)'-' || (s[10] != (byte)'T' && s[10] != (byte)' ') || s[13] != (byte)':' || s[16] != (byte)':')
            return false;
        if (!D4(s, 0, out var y) || !D2(s, 5, out var mo) || !D2(s, 8, out var d) || !D2(s, 11, out var h) || !D2(s, 14, out var mi) || !D2(s, 17, out var sec))
            return false;
        if (!Day(y, mo, d, out var dayTicks) || h > 23 || mi > 59 || sec > 60) return false;
        long t = dayTicks + h * TimeSpan.TicksPerHour + mi * TimeSpan.TicksPerMinute + Math.Min(sec, 59) * TimeSpan.TicksPerSecond;
        var i = 19;
        if (i < s.Length && (s[i] == (byte)'.' || s[i] == (byte)','))
        {
            i++;
            long frac = 0; var digits = 0;
            while (i < s.Length && (uint)(s[i] - '0') <= 9) { if (digits < 7) { frac = frac * 10 + (s[i] - '0'); digits++; } i++; }
            if (digits == 0) return false;
            for (var k = digits; k < 7; k++) frac *= 10;
            t += frac;
        }
        if (i < s.Length && s[i] == (byte)'Z') i++;
        else if (i + 3 <= s.Length && (s[i] == (byte)'+' || s[i] == (byte)'-') && D2(s, i + 1, out var oh))
        {
            var j = i + 3;
            if (j < s.Length && s[j] == (byte)':') j++;
            if (D2(s, j, out var om))
            {
                var offset = (oh * 60 + om) * TimeSpan.TicksPerMinute;
                t += s[i] == (byte)'+' ? -offset : offset;
                i = j + 2;
            }
        }
        else if (s[i..].StartsWith(" UTC"u8) || s[i..].StartsWith(" GMT"u8)) i += 4;
        ticks = t; consumed = i;
        return true;
    }

    /// <summary>Syslog: "May  1 10:00:00 " (the year is this year's, or last year's when that would be in the future).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TrySyslog(ReadOnlySpan<byte> s, out long ticks, out int consumed)
    {
        ticks = 0; consumed = 0;
        if (s.Length < 16 || s[3] != (byte)' ' || s[9] != (byte)':' || s[12] != (byte)':' || s[15] != (byte)' ') return false;
        var mo = Month(s[..3]);
        if (mo == 0) return false;
        int d;
        if (s[4] == (byte)' ' && (uint)(s[5] - '0') <= 9) d = s[5] - '0';
        else if (!D2(s, 4, out d)) return false;
        if (s[6] != (byte)' ' || !D2(s, 7, out var h) || !D2(s, 10, out var mi) || !D2(s, 13, out var sec)) return false;
        if (!Day(_currentYear, mo, d, out var dayTicks) || h > 23 || mi > 59 || sec > 60) return false;
        ticks = dayTicks + h * TimeSpan.TicksPerHour + mi * TimeSpan.TicksPerMinute + Math.Min(sec, 59) * TimeSpan.TicksPerSecond;
        if (ticks > _yearCut && Day(_currentYear - 1, mo, d, out var lastYear))
            ticks = lastYear + h * TimeSpan.TicksPerHour + mi * TimeSpan.TicksPerMinute + Math.Min(sec, 59) * TimeSpan.TicksPerSecond;
        consumed = 16;
        return true;
    }

    /// <summary>Access log (common/combined): HOST IDENT USER [01/May/2024:10:00:00 +0000] "REQUEST" STATUS SIZE ...</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryAccess(ReadOnlySpan<byte> s, ref LineFacts f)
    {
        var open = s.IndexOf(" ["u8);
        if (open < 1 || open > 200 || s.Length < open + 30) return false;
        var t = s[(open + 2)..];
        // 01/May/2024:10:00:00 +0000]
        if (t.Length < 28 || t[2] != (byte)'/' || t[6] != (byte)'/' || t[11] != (byte)':' || t[14] != (byte)':' || t[17] != (byte)':' || t[20] != (byte)' ' || t[26] != (byte)']')
            return false;
        if (!D2(t, 0, out var d) || !D4(t, 7, out var y) || !D2(t, 12, out var h) || !D2(t, 15, out var mi) || !D2(t, 18, out var sec)) return false;
        var mo = Month(t.Slice(3, 3));
        if (mo == 0 || !Day(y, mo, d, out var dayTicks) || h > 23 || mi > 59 || sec > 60) return false;
        if ((t[21] != (byte)'+' && t[21] != (byte)'-') || !D2(t, 22, out var oh) || !D2(t, 24, out var om)) return false;
        var ticks = dayTicks + h * TimeSpan.TicksPerHour + mi * TimeSpan.TicksPerMinute + Math.Min(sec, 59) * TimeSpan.TicksPerSecond;
        var offset = (oh * 60 + om) * TimeSpan.TicksPerMinute;
        ticks += t[21] == (byte)'+' ? -offset : offset;
        var r = t[27..];
        if (r.Length < 2 || r[0] != (byte)' ' || r[1] != (byte)'"') return false;
        // The request ends at the quote followed by " DDD ".
        var q = 2;
        while (true)
        {
            var k = r[q..].IndexOf((byte)'"');
            if (k < 0) return false;
            q += k;
            if (r.Length >= q + 5 && r[q + 1] == (byte)' ' && D3(r, q + 2, out var status) && (r.Length == q + 5 || r[q + 5] == (byte)' '))
            {
                f.Status = status;
                f.Ticks = ticks;
                f.MessageStart = open + 2 + 27 + 1;
                return true;
            }
            q++;
        }
    }

    /// <summary>A JSON time value: RFC 3339 text, or Unix seconds / milliseconds / microseconds / nanoseconds.</summary>
    private long JsonTime(ref Utf8JsonReader r)
    {
        if (r.TokenType == JsonTokenType.String)
        {
            var span = r.HasValueSequence ? System.Buffers.BuffersExtensions.ToArray(r.ValueSequence) : r.ValueSpan;
            if (span.IndexOf((byte)'\\') < 0 && TryIso(span, out var t, out _)) return t;
            if (Utf8Parser.TryParse(span, out double num, out var used) && used == span.Length) return Epoch(num);
            return 0;
        }
        if (r.TokenType == JsonTokenType.Number && r.TryGetDouble(out var v)) return Epoch(v);
        return 0;
    }

    private static long Epoch(double v)
    {
        double seconds = v < 1e11 ? v : v < 1e14 ? v / 1e3 : v < 1e17 ? v / 1e6 : v / 1e9;
        if (seconds <= 0 || seconds > 32503680000) return 0;
        return DateTime.UnixEpoch.Ticks + (long)(seconds * TimeSpan.TicksPerSecond);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryJson(LogFormat format, ReadOnlySpan<byte> line, ref LineFacts f)
    {
        if (line.IsEmpty || line[0] != (byte)'{') return false;
        try
        {
            var r = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return false;
            var sawLog = false;
            while (r.Read())
            {
                if (r.TokenType == JsonTokenType.EndObject && r.CurrentDepth == 0) break;
                if (r.TokenType != JsonTokenType.PropertyName || r.CurrentDepth != 1) continue;
                var name = r.ValueSpan;
                var escaped = r.ValueIsEscaped;
                if (!r.Read()) return false;
                if (!escaped)
                {
                    if (format == LogFormat.Journal)
                    {
                        if (name.SequenceEqual("__REALTIME_TIMESTAMP"u8) && r.TokenType == JsonTokenType.String
                            && Utf8Parser.TryParse(r.ValueSpan, out long micro, out _))
                            f.Ticks = DateTime.UnixEpoch.Ticks + micro * 10;
                        else if (name.SequenceEqual("PRIORITY"u8) && r.TokenType == JsonTokenType.String && r.ValueSpan.Length == 1)
                            f.Level = (r.ValueSpan[0] - '0') switch { 0 => Emerg, 1 => Alert, 2 => Critical, 3 => Error, 4 => Warn, 5 => Notice, 6 => Info, 7 => Debug, _ => -1 };
                    }
                    else if (format == LogFormat.DockerJson)
                    {
                        if (name.SequenceEqual("time"u8)) f.Ticks = JsonTime(ref r);
                        else if (name.SequenceEqual("log"u8))
                        {
                            sawLog = r.TokenType == JsonTokenType.String;
                            // The json-file driver cuts a line longer than 16 KiB into entries whose "log" lacks the
                            // final "\n" (escaped in the file): those are partial, like CRI's P lines.
                            if (sawLog && !EndsWithEscapedNewline(r.ValueSpan)) f.CriTag = (byte)'P';
                        }
                    }
                    else if (IsTimeName(name)) { if (f.Ticks == 0) f.Ticks = JsonTime(ref r); }
                    else if (IsLevelName(name))
                    {
                        if (r.TokenType == JsonTokenType.String) f.Level = LevelOfWord(r.ValueSpan);
                        else if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out var pino))
                            f.Level = pino switch { >= 60 => Fatal, >= 50 => Error, >= 40 => Warn, >= 30 => Info, >= 20 => Debug, _ => Trace };
                    }
                    else if (IsStatusName(name))
                    {
                        if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out var st) && st is >= 100 and <= 599) f.Status = st;
                        else if (r.TokenType == JsonTokenType.String && r.ValueSpan.Length == 3 && D3(r.ValueSpan, 0, out var st2) && st2 >= 100) f.Status = st2;
                    }
                }
                if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) r.Skip();
            }
            if (!r.IsFinalBlock || r.BytesConsumed != line.Length)
            {
                // trailing content after the object
                var rest = line[(int)r.BytesConsumed..].Trim(" \t"u8);
                if (!rest.IsEmpty) return false;
            }
            if (format == LogFormat.DockerJson)
            {
                if (!sawLog) return false;
                if (f.Level < 0) f.Level = -1;
            }
            return true;
        }
        catch (JsonException) { return false; }
    }

    /// <summary>Whether a raw JSON string ends with the escape \n (an odd run of backslashes before the n).</summary>
    private static bool EndsWithEscapedNewline(ReadOnlySpan<byte> raw)
    {
        if (raw.Length < 2 || raw[^1] != (byte)'n') return false;
        var slashes = 0;
        for (var i = raw.Length - 2; i >= 0 && raw[i] == (byte)'\\'; i--) slashes++;
        return slashes % 2 == 1;
    }

    private static bool IsTimeName(ReadOnlySpan<byte> n) =>
        n.SequenceEqual("time"u8) || n.SequenceEqual("timestamp"u8) || n.SequenceEqual("ts"u8) || n.SequenceEqual("@timestamp"u8)
        || n.SequenceEqual("t"u8) || n.SequenceEqual("datetime"u8) || n.SequenceEqual("asctime"u8) || n.SequenceEqual("@t"u8) || n.SequenceEqual("date"u8);

    private static bool IsLevelName(ReadOnlySpan<byte> n) =>
        n.SequenceEqual("level"u8) || n.SequenceEqual("lvl"u8) || n.SequenceEqual("severity"u8) || n.SequenceEqual("levelname"u8)
        || n.SequenceEqual("loglevel"u8) || n.SequenceEqual("log.level"u8) || n.SequenceEqual("@l"u8) || n.SequenceEqual("Level"u8) || n.SequenceEqual("severity_text"u8);

    private static bool IsStatusName(ReadOnlySpan<byte> n) =>
        n.SequenceEqual("status"u8) || n.SequenceEqual("status_code"u8) || n.SequenceEqual("statusCode"u8) || n.SequenceEqual("http.status_code"u8)
        || n.SequenceEqual("response_status"u8);

    private static bool IsMessageName(ReadOnlySpan<byte> n) =>
        n.SequenceEqual("msg"u8) || n.SequenceEqual("message"u8) || n.SequenceEqual("@m"u8) || n.SequenceEqual("@mt"u8) || n.SequenceEqual("MESSAGE"u8)
        || n.SequenceEqual("log"u8) || n.SequenceEqual("Message"u8) || n.SequenceEqual("error"u8) || n.SequenceEqual("err"u8);

    /// <summary>The decoded "log" value of a Docker json-file entry (its final newline kept off), null when it has none.</summary>
    public static string? DockerLogValue(ReadOnlySpan<byte> line) => JsonMessage(LogFormat.DockerJson, line);

    private static string? JsonMessage(LogFormat format, ReadOnlySpan<byte> line)
    {
        try
        {
            var r = new Utf8JsonReader(line);
            if (!r.Read() || r.TokenType != JsonTokenType.StartObject) return null;
            string? fallback = null;
            while (r.Read())
            {
                if (r.TokenType != JsonTokenType.PropertyName || r.CurrentDepth != 1) continue;
                var name = r.GetString() ?? "";
                if (!r.Read()) return null;
                if (IsMessageName(Encoding.UTF8.GetBytes(name)))
                {
                    string? value = r.TokenType switch
                    {
                        JsonTokenType.String => r.GetString(),
                        JsonTokenType.StartArray => JournalBytes(ref r),
                        _ => null,
                    };
                    if (value is null) { if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) r.Skip(); continue; }
                    value = value.TrimEnd('\n', '\r');
                    if (name is "error" or "err") { fallback ??= value; continue; }
                    return value;
                }
                if (r.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) r.Skip();
            }
            return fallback;
        }
        catch (JsonException) { return null; }
    }

    /// <summary>journalctl -o json writes a MESSAGE that is not valid UTF-8 as an array of byte values.</summary>
    private static string? JournalBytes(ref Utf8JsonReader r)
    {
        var bytes = new List<byte>();
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
            if (r.TokenType == JsonTokenType.Number && r.TryGetByte(out var b)) bytes.Add(b);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    // ---------------------------------------------------------------- logfmt

    private static bool LooksLogfmt(ReadOnlySpan<byte> line)
    {
        var pairs = 0;
        var known = false;
        var i = 0;
        while (i < line.Length && pairs < 8)
        {
            while (i < line.Length && line[i] == (byte)' ') i++;
            var start = i;
            while (i < line.Length && IsKeyByte(line[i])) i++;
            if (i == start || i >= line.Length || line[i] != (byte)'=') return pairs >= 2 && known;
            var key = line[start..i];
            if (key.SequenceEqual("level"u8) || key.SequenceEqual("lvl"u8) || key.SequenceEqual("msg"u8) || key.SequenceEqual("time"u8) || key.SequenceEqual("ts"u8)) known = true;
            pairs++;
            i++;
            i = SkipValue(line, i);
        }
        return pairs >= 2 && known;
    }

    private static bool IsKeyByte(byte b) => b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'_' or (byte)'.' or (byte)'-' or (byte)'@';

    private static int SkipValue(ReadOnlySpan<byte> line, int i)
    {
        if (i < line.Length && line[i] == (byte)'"')
        {
            i++;
            while (i < line.Length && line[i] != (byte)'"') { if (line[i] == (byte)'\\') i++; i++; }
            return Math.Min(line.Length, i + 1);
        }
        while (i < line.Length && line[i] != (byte)' ') i++;
        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool TryLogfmt(ReadOnlySpan<byte> line, ref LineFacts f)
    {
        var pairs = 0;
        var i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] == (byte)' ') i++;
            if (i >= line.Length) break;
            var start = i;
            while (i < line.Length && IsKeyByte(line[i])) i++;
            if (i == start || i >= line.Length || line[i] != (byte)'=') return false;
            var key = line[start..i];
            i++;
            var vs = i;
            i = SkipValue(line, i);
            var value = line[vs..i];
            if (value.Length >= 2 && value[0] == (byte)'"') value = value[1..^1];
            pairs++;
            if (key.SequenceEqual("level"u8) || key.SequenceEqual("lvl"u8) || key.SequenceEqual("severity"u8)) f.Level = LevelOfWord(value);
            else if ((key.SequenceEqual("time"u8) || key.SequenceEqual("ts"u8) || key.SequenceEqual("timestamp"u8)) && f.Ticks == 0 && TryIso(value, out var t, out _)) f.Ticks = t;
            else if ((key.SequenceEqual("status"u8) || key.SequenceEqual("status_code"u8)) && value.Length == 3 && D3(value, 0, out var st) && st >= 100) f.Status = st;
        }
        return pairs > 0;
    }

    private static string? LogfmtValue(ReadOnlySpan<byte> line, ReadOnlySpan<byte> wanted)
    {
        var i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] == (byte)' ') i++;
            var start = i;
            while (i < line.Length && IsKeyByte(line[i])) i++;
            if (i == start || i >= line.Length || line[i] != (byte)'=') return null;
            var key = line[start..i];
            i++;
            var vs = i;
            i = SkipValue(line, i);
            if (key.SequenceEqual(wanted))
            {
                var v = line[vs..i];
                if (v.Length >= 2 && v[0] == (byte)'"') return Encoding.UTF8.GetString(v[1..^1]).Replace("\\\"", "\"");
                return Encoding.UTF8.GetString(v);
            }
        }
        return null;
    }

    // ---------------------------------------------------------------- levels

    /// <summary>A level word in upper case (ERROR, [WARN], &lt;error&gt; is not one) near the start of the text; -1 when none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int FindLevel(ReadOnlySpan<byte> line, int from, out int messageStart)
    {
        messageStart = from;
        var end = Math.Min(line.Length, from + 80);
        var i = from;
        var tokens = 0;
        while (i < end && tokens < 8)
        {
            while (i < end && !IsUpper(line[i]) && !IsLower(line[i])) i++;
            var s = i;
            while (i < line.Length && (IsUpper(line[i]) || IsLower(line[i]))) i++;
            if (i == s) break;
            tokens++;
            var word = line[s..i];
            if (word.Length >= 3 && word.Length <= 9 && IsAllUpper(word))
            {
                foreach (var (w, level) in LevelWords)
                {
                    if (word.Length == w.Length && Ascii(word, w))
                    {
                        // "LOG", "DETAIL" ... count only when followed by ':' (PostgreSQL's "LOG:  ").
                        if (w is "LOG" or "STATEMENT" or "DETAIL" or "HINT" && (i >= line.Length || line[i] != (byte)':')) break;
                        messageStart = i;
                        while (messageStart < line.Length && line[messageStart] is (byte)']' or (byte)':' or (byte)' ' or (byte)'-' or (byte)'|' or (byte)')') messageStart++;
                        return level;
                    }
                }
            }
        }
        return -1;
    }

    /// <summary>The level a word names, any case (error, Error, ERR, warning ...); -1 when none.</summary>
    public static int LevelOfWord(ReadOnlySpan<byte> word)
    {
        if (word.Length is < 3 or > 9) return -1;
        Span<byte> up = stackalloc byte[word.Length];
        for (var i = 0; i < word.Length; i++) up[i] = IsLower(word[i]) ? (byte)(word[i] - 32) : word[i];
        foreach (var (w, level) in LevelWords) if (up.Length == w.Length && Ascii(up, w)) return level;
        return -1;
    }

    private static bool Ascii(ReadOnlySpan<byte> a, string b)
    {
        for (var i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
        return true;
    }

    private static bool IsUpper(byte b) => (uint)(b - 'A') <= 25;
    private static bool IsLower(byte b) => (uint)(b - 'a') <= 25;
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsAllUpper(ReadOnlySpan<byte> w) { foreach (var b in w) if (!IsUpper(b)) return false; return true; }

    // ---------------------------------------------------------------- helpers

    private static ReadOnlySpan<byte> TrimEnd(ReadOnlySpan<byte> line) => line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    private static int Month(ReadOnlySpan<byte> m)
    {
        for (var i = 0; i < 12; i++) if (m.SequenceEqual(Months[i])) return i + 1;
        return 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Day(int y, int mo, int d, out long ticks)
    {
        ticks = 0;
        if (y < 1970 || y > 9998 || mo < 1 || mo > 12 || d < 1 || d > DateTime.DaysInMonth(y, mo)) return false;
        var key = y * 10000L + mo * 100 + d;
        if (key != _cachedDayKey) { _cachedDayKey = key; _cachedDayTicks = new DateTime(y, mo, d, 0, 0, 0, DateTimeKind.Utc).Ticks; }
        ticks = _cachedDayTicks;
        return true;
    }

    private static bool D2(ReadOnlySpan<byte> s, int i, out int v)
    {
        v = 0;
        if (i + 2 > s.Length) return false;
        uint a = (uint)(s[i] - '0'), b = (uint)(s[i + 1] - '0');
        if (a > 9 || b > 9) return false;
        v = (int)(a * 10 + b);
        return true;
    }

    private static bool D3(ReadOnlySpan<byte> s, int i, out int v)
    {
        v = 0;
        if (i + 3 > s.Length) return false;
        uint a = (uint)(s[i] - '0'), b = (uint)(s[i + 1] - '0'), c = (uint)(s[i + 2] - '0');
        if (a > 9 || b > 9 || c > 9) return false;
        v = (int)(a * 100 + b * 10 + c);
        return true;
    }

    private static bool D4(ReadOnlySpan<byte> s, int i, out int v)
    {
        v = 0;
        if (!D2(s, i, out var hi) || !D2(s, i + 2, out var lo)) return false;
        v = hi * 100 + lo;
        return true;
    }
}
