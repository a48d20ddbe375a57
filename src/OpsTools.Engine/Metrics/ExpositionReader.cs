using System.Buffers.Text;
using System.Globalization;
using System.Text;
using OpsTools.Metrics;

namespace OpsTools.Engine.Metrics;

/// <summary>The two exposition formats a /metrics endpoint may answer in.</summary>
public enum ExpositionFormat
{
    /// <summary>Prometheus text format 0.0.4 (text/plain; version=0.0.4).</summary>
    Text,
    /// <summary>OpenMetrics 1.0 (application/openmetrics-text; version=1.0.0).</summary>
    OpenMetrics,
}

/// <summary>A /metrics answer that does not follow its format: which line, what is wrong.</summary>
public sealed class ExpositionFormatException : OpsToolsException
{
    public ExpositionFormatException(string message, long line)
        : base("MetricsFormatInvalid", OpsErrorKind.InvalidData, message) => Line = line;

    /// <summary>The line (1-based) where the exposition stopped making sense.</summary>
    public long Line { get; }
}

/// <summary>What one family's metadata lines (# TYPE, # HELP, # UNIT) said.</summary>
public sealed class MetricFamilyInfo
{
    public MetricFamilyInfo(string name) => Name = name;
    public string Name { get; }
    public MetricType Type { get; internal set; }
    public string? Help { get; internal set; }
    public string? Unit { get; internal set; }
}

/// <summary>
/// A streaming reader of the Prometheus text format 0.0.4 and OpenMetrics 1.0: one sample at a time from a
/// stream, in a fixed buffer, so memory does not grow with the size of the exposition. Names and label strings
/// that repeat (the usual case) are shared, not allocated again. Exemplars are skipped; NaN, ±Inf, escapes and
/// timestamps (milliseconds in 0.0.4, seconds in OpenMetrics) are understood; an exposition cut short (no final
/// newline, or no <c># EOF</c> in OpenMetrics) or one that breaks the grammar is an
/// <see cref="ExpositionFormatException"/> that names the line.
/// </summary>
public sealed class ExpositionReader : IDisposable
{
    /// <summary>The longest line accepted (1 MiB): a longer one is garbage, not a sample.</summary>
    public const int MaxLineBytes = 1024 * 1024;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private byte[] _buffer;
    private int _start, _end;
    private bool _eofStream, _sawEof, _finished;
    private readonly StringCache _names = new(4096);
    private readonly StringCache _values = new(16384);
    private readonly Dictionary<string, MetricFamilyInfo> _families = new(StringComparer.Ordinal);
    private MetricFamilyInfo? _current;
    private byte[] _scratch = new byte[256];
    private string[] _labelNames = new string[16];
    private string[] _labelValues = new string[16];

    public ExpositionReader(Stream stream, ExpositionFormat format, bool leaveOpen = false, int bufferSize = 64 * 1024)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        Format = format;
        _leaveOpen = leaveOpen;
        _buffer = new byte[Math.Max(1024, bufferSize)];
    }

    /// <summary>The format being read.</summary>
    public ExpositionFormat Format { get; }
    /// <summary>The line of the current sample (1-based).</summary>
    public long LineNumber { get; private set; }
    /// <summary>The current sample's name.</summary>
    public string Name { get; private set; } = "";
    /// <summary>The current sample's value.</summary>
    public double Value { get; private set; }
    /// <summary>The current sample's timestamp in milliseconds since the epoch, when it has one.</summary>
    public long? TimestampMs { get; private set; }
    /// <summary>How many labels the current sample has.</summary>
    public int LabelCount { get; private set; }
    /// <summary>The family the current sample belongs to.</summary>
    public MetricFamilyInfo Family { get; private set; } = new("");
    /// <summary>Samples read so far.</summary>
    public long SampleCount { get; private set; }

    public string LabelName(int i) => _labelNames[i];
    public string LabelValue(int i) => _labelValues[i];

    /// <summary>The value of the current sample's label <paramref name="name"/>, or null.</summary>
    public string? Label(string name)
    {
        for (var i = 0; i < LabelCount; i++)
            if (string.Equals(_labelNames[i], name, StringComparison.Ordinal)) return _labelValues[i];
        return null;
    }

    /// <summary>The current sample as an object.</summary>
    public MetricSample ToSample(string target)
    {
        IReadOnlyDictionary<string, string> labels;
        if (LabelCount == 0) labels = MetricSampleLabels.Empty;
        else
        {
            var d = new OrderedLabels(LabelCount);
            for (var i = 0; i < LabelCount; i++) d.Add(_labelNames[i], _labelValues[i]);
            labels = d;
        }
        return new MetricSample
        {
            Name = Name,
            Family = Family.Name,
            Labels = labels,
            Value = Value,
            Timestamp = TimestampMs is long ms ? DateTime.UnixEpoch.AddMilliseconds(ms) : null,
            Type = Family.Type,
            Help = Family.Help,
            Unit = Family.Unit,
            Target = target,
        };
    }

    /// <summary>Moves to the next sample; false at the end. Reads the stream synchronously.</summary>
    public bool Read()
    {
        while (true)
        {
            var r = TryNext();
            if (r is bool b) return b;
            Fill(_stream.Read(RoomForMore()));
        }
    }

    /// <summary>Moves to the next sample; false at the end.</summary>
    public async ValueTask<bool> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var r = TryNext();
            if (r is bool b) return b;
            var room = RoomForMore();
            var n = await _stream.ReadAsync(_buffer.AsMemory(_end, room.Length), cancellationToken).ConfigureAwait(false);
            Fill(n);
        }
    }

    private Span<byte> RoomForMore()
    {
        if (_start > 0 && (_start == _end || _end == _buffer.Length))
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            if (_buffer.Length >= MaxLineBytes)
                throw new ExpositionFormatException($"line {LineNumber + 1} is longer than {MaxLineBytes / 1024} KiB: this is not a metrics exposition.", LineNumber + 1);
            Array.Resize(ref _buffer, Math.Min(_buffer.Length * 2, MaxLineBytes));
        }
        return _buffer.AsSpan(_end);
    }

    private void Fill(int n)
    {
        if (n == 0) _eofStream = true;
        _end += n;
    }

    /// <summary>True/false when decided from the buffer; null when more input is needed.</summary>
    private bool? TryNext()
    {
        if (_finished) return false;
        while (true)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            var nl = pending.IndexOf((byte)'\n');
            if (nl < 0)
            {
                if (!_eofStream) return null;
                // End of input.
                if (pending.Length > 0)
                {
                    LineNumber++;
                    throw new ExpositionFormatException(
                        $"the exposition ends in the middle of line {LineNumber} ('{Excerpt(pending)}'): it was cut short (every line, the last one too, ends with a newline).", LineNumber);
                }
                if (Format == ExpositionFormat.OpenMetrics && !_sawEof)
                    throw new ExpositionFormatException($"the OpenMetrics exposition ends after line {LineNumber} without '# EOF': it was cut short.", LineNumber);
                _finished = true;
                return false;
            }
            var line = pending[..nl];
            _start += nl + 1;
            LineNumber++;
            if (_sawEof)
            {
                if (line.Length == 0 && _start == _end) continue;
                throw new ExpositionFormatException($"line {LineNumber}: text after '# EOF'.", LineNumber);
            }
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            if (ParseLine(line)) { SampleCount++; return true; }
        }
    }

    /// <summary>Parses one line; true when it was a sample.</summary>
    private bool ParseLine(ReadOnlySpan<byte> line)
    {
        var i = 0;
        if (Format == ExpositionFormat.Text) i = SkipBlanks(line, 0);
        if (i == line.Length)
        {
            if (Format == ExpositionFormat.OpenMetrics) Fail("an empty line (OpenMetrics allows none)");
            return false;
        }
        if (line[i] == (byte)'#') { ParseComment(line[(i + 1)..]); return false; }
        ParseSample(line, i);
        return true;
    }

    private void ParseComment(ReadOnlySpan<byte> rest)
    {
        if (rest.Length == 0) return; // "#" alone: a comment
        if (rest[0] != (byte)' ' && rest[0] != (byte)'\t')
        {
            if (Format == ExpositionFormat.OpenMetrics) Fail("a '#' line that is not '# HELP', '# TYPE', '# UNIT' or '# EOF'");
            return;
        }
        var i = SkipBlanks(rest, 0);
        var kwStart = i;
        while (i < rest.Length && rest[i] != (byte)' ' && rest[i] != (byte)'\t') i++;
        var keyword = rest[kwStart..i];
        if (keyword.SequenceEqual("EOF"u8) && i == rest.Length)
        {
            if (Format == ExpositionFormat.OpenMetrics) _sawEof = true;
            return;
        }
        var isHelp = keyword.SequenceEqual("HELP"u8);
        var isType = keyword.SequenceEqual("TYPE"u8);
        var isUnit = keyword.SequenceEqual("UNIT"u8);
        if (!isHelp && !isType && !isUnit)
        {
            if (Format == ExpositionFormat.OpenMetrics) Fail("a '#' line that is not '# HELP', '# TYPE', '# UNIT' or '# EOF'");
            return; // an ordinary comment in the text format
        }
        i = SkipBlanks(rest, i);
        var nameStart = i;
        if (i >= rest.Length || !IsNameStart(rest[i])) Fail($"'# {Encoding.ASCII.GetString(keyword)}' without a metric name");
        while (i < rest.Length && IsNameChar(rest[i])) i++;
        var name = _names.Get(rest[nameStart..i]);
        if (i < rest.Length && rest[i] != (byte)' ' && rest[i] != (byte)'\t') Fail($"an invalid metric name in '# {Encoding.ASCII.GetString(keyword)}'");
        // One space separates the name from the text; the text keeps its own spaces.
        if (i < rest.Length) i++;
        var text = rest[i..];
        if (!_families.TryGetValue(name, out var family))
        {
            family = new MetricFamilyInfo(name);
            _families[name] = family;
        }
        _current = family;
        if (isHelp) family.Help = UnescapeHelp(text);
        else if (isUnit) family.Unit = Encoding.UTF8.GetString(text.Trim((byte)' '));
        else family.Type = ParseType(text.Trim((byte)' '));
    }

    private MetricType ParseType(ReadOnlySpan<byte> t)
    {
        if (t.SequenceEqual("counter"u8)) return MetricType.Counter;
        if (t.SequenceEqual("gauge"u8)) return MetricType.Gauge;
        if (t.SequenceEqual("histogram"u8)) return MetricType.Histogram;
        if (t.SequenceEqual("summary"u8)) return MetricType.Summary;
        if (t.SequenceEqual("untyped"u8) || t.SequenceEqual("unknown"u8)) return MetricType.Unknown;
        if (t.SequenceEqual("gaugehistogram"u8)) return MetricType.GaugeHistogram;
        if (t.SequenceEqual("info"u8)) return MetricType.Info;
        if (t.SequenceEqual("stateset"u8)) return MetricType.StateSet;
        Fail($"unknown metric type '{Excerpt(t)}'");
        return default;
    }

    private string UnescapeHelp(ReadOnlySpan<byte> text)
    {
        if (text.IndexOf((byte)'\\') < 0) return Encoding.UTF8.GetString(text);
        var sb = new List<byte>(text.Length);
        for (var k = 0; k < text.Length; k++)
        {
            var c = text[k];
            if (c == (byte)'\\' && k + 1 < text.Length)
            {
                var n = text[++k];
                if (n == (byte)'n') sb.Add((byte)'\n');
                else if (n == (byte)'\\') sb.Add((byte)'\\');
                else if (n == (byte)'"' && Format == ExpositionFormat.OpenMetrics) sb.Add((byte)'"');
                else { sb.Add((byte)'\\'); sb.Add(n); }
            }
            else sb.Add(c);
        }
        return Encoding.UTF8.GetString(sb.ToArray());
    }

    private void ParseSample(ReadOnlySpan<byte> line, int i)
    {
        var nameStart = i;
        if (!IsNameStart(line[i])) Fail("a line that is neither a sample nor a comment");
        while (i < line.Length && IsNameChar(line[i])) i++;
        var nameBytes = line[nameStart..i];
        Name = _names.Get(nameBytes);
        LabelCount = 0;
        // The text format allows blanks between the name and '{' (name {a="b"} 1); OpenMetrics does not.
        var brace = Format == ExpositionFormat.Text ? SkipBlanks(line, i) : i;
        if (brace < line.Length && line[brace] == (byte)'{') i = ParseLabels(line, brace + 1);
        // value
        if (i >= line.Length || (line[i] != (byte)' ' && line[i] != (byte)'\t'))
            Fail(i >= line.Length ? $"sample '{Name}' has no value" : $"unexpected '{(char)line[i]}' after the name of '{Name}'");
        i = SkipBlanks(line, i);
        var vStart = i;
        while (i < line.Length && line[i] != (byte)' ' && line[i] != (byte)'\t') i++;
        Value = ParseFloat(line[vStart..i], "value");
        TimestampMs = null;
        i = SkipBlanks(line, i);
        if (i < line.Length && line[i] != (byte)'#')
        {
            var tStart = i;
            while (i < line.Length && line[i] != (byte)' ' && line[i] != (byte)'\t') i++;
            TimestampMs = ParseTimestamp(line[tStart..i]);
            i = SkipBlanks(line, i);
        }
        if (i < line.Length)
        {
            // An exemplar (" # {trace_id="..."} 0.5 1.6e9"): allowed in OpenMetrics, skipped here. Anything else is garbage.
            if (line[i] != (byte)'#') Fail($"unexpected text after the value of '{Name}'");
            var rest = line[(i + 1)..];
            var j = SkipBlanks(rest, 0);
            if (j >= rest.Length || rest[j] != (byte)'{') Fail($"a malformed exemplar after '{Name}'");
        }
        Family = FamilyOf(Name);
    }

    private int ParseLabels(ReadOnlySpan<byte> line, int i)
    {
        while (true)
        {
            i = SkipBlanks(line, i);
            if (i >= line.Length) Fail($"the labels of '{Name}' are not closed with '}}'");
            if (line[i] == (byte)'}') return i + 1;
            var ns = i;
            if (!IsLabelStart(line[i])) Fail($"an invalid label name in '{Name}'");
            while (i < line.Length && IsLabelChar(line[i])) i++;
            var labelName = _names.Get(line[ns..i]);
            i = SkipBlanks(line, i);
            if (i >= line.Length || line[i] != (byte)'=') Fail($"label '{labelName}' of '{Name}' has no '='");
            i = SkipBlanks(line, i + 1);
            if (i >= line.Length || line[i] != (byte)'"') Fail($"the value of label '{labelName}' of '{Name}' is not quoted");
            i++;
            var vs = i;
            var escaped = false;
            while (true)
            {
                if (i >= line.Length) Fail($"the value of label '{labelName}' of '{Name}' is not closed with '\"'");
                var c = line[i];
                if (c == (byte)'\\') { escaped = true; i += 2; continue; }
                if (c == (byte)'"') break;
                i++;
            }
            if (i > line.Length) Fail($"the value of label '{labelName}' of '{Name}' is not closed with '\"'");
            var raw = line[vs..i];
            string value;
            try { value = escaped ? _values.Get(Unescape(raw)) : _values.Get(raw); }
            catch (DecoderFallbackException) { Fail($"the value of label '{labelName}' of '{Name}' is not valid UTF-8"); throw; }
            i++;
            for (var k = 0; k < LabelCount; k++)
                if (ReferenceEquals(_labelNames[k], labelName) || _labelNames[k] == labelName)
                    Fail($"label '{labelName}' appears twice in '{Name}'");
            if (LabelCount == _labelNames.Length)
            {
                Array.Resize(ref _labelNames, LabelCount * 2);
                Array.Resize(ref _labelValues, LabelCount * 2);
            }
            _labelNames[LabelCount] = labelName;
            _labelValues[LabelCount] = value;
            LabelCount++;
            i = SkipBlanks(line, i);
            if (i < line.Length && line[i] == (byte)',') { i++; continue; }
            if (i < line.Length && line[i] == (byte)'}') return i + 1;
            // Prometheus's own text parser takes labels separated by blanks only ({a="1" b="2"}); so does this one, in the text format.
            if (Format == ExpositionFormat.Text && i < line.Length && IsLabelStart(line[i]) && (line[i - 1] == (byte)' ' || line[i - 1] == (byte)'\t')) continue;
            Fail($"expected ',' or '}}' after label '{labelName}' of '{Name}'");
        }
    }

    private ReadOnlySpan<byte> Unescape(ReadOnlySpan<byte> raw)
    {
        if (_scratch.Length < raw.Length) _scratch = new byte[raw.Length * 2];
        var n = 0;
        for (var k = 0; k < raw.Length; k++)
        {
            var c = raw[k];
            if (c == (byte)'\\' && k + 1 < raw.Length)
            {
                var e = raw[++k];
                _scratch[n++] = e switch { (byte)'n' => (byte)'\n', (byte)'\\' => (byte)'\\', (byte)'"' => (byte)'"', _ => (byte)'\\' };
                if (e is not ((byte)'n' or (byte)'\\' or (byte)'"')) _scratch[n++] = e;
            }
            else _scratch[n++] = c;
        }
        return _scratch.AsSpan(0, n);
    }

    private MetricFamilyInfo FamilyOf(string name)
    {
        var cur = _current;
        if (cur is not null && Belongs(name, cur)) return cur;
        if (_families.TryGetValue(name, out var exact)) return _current = exact;
        // A sample of another family that had metadata earlier (rare), or one without any.
        foreach (var suffix in Suffixes)
        {
            if (name.Length > suffix.Length && name.EndsWith(suffix, StringComparison.Ordinal)
                && _families.TryGetValue(name[..^suffix.Length], out var f) && Belongs(name, f))
                return _current = f;
        }
        var untyped = new MetricFamilyInfo(name);
        if (_families.Count < 100_000) _families[name] = untyped;
        return _current = untyped;
    }

    private static readonly string[] Suffixes = { "_total", "_bucket", "_count", "_sum", "_created", "_gcount", "_gsum", "_info" };

    private static bool Belongs(string name, MetricFamilyInfo f)
    {
        if (name.Length == f.Name.Length) return string.Equals(name, f.Name, StringComparison.Ordinal) && f.Type != MetricType.Info;
        if (!name.StartsWith(f.Name, StringComparison.Ordinal)) return false;
        var s = name.AsSpan(f.Name.Length);
        return f.Type switch
        {
            MetricType.Counter => s is "_total" or "_created",
            MetricType.Histogram => s is "_bucket" or "_sum" or "_count" or "_created",
            MetricType.GaugeHistogram => s is "_bucket" or "_gsum" or "_gcount",
            MetricType.Summary => s is "_sum" or "_count" or "_created",
            MetricType.Info => s is "_info",
            _ => false,
        };
    }

    private double ParseFloat(ReadOnlySpan<byte> s, string what)
    {
        if (s.Length == 0) Fail($"sample '{Name}' has no {what}");
        if (Utf8Parser.TryParse(s, out double d, out var used) && used == s.Length) return d;
        // NaN, Inf, +Inf, -Inf (any case, as Go's ParseFloat), and what Utf8Parser does not take (e.g. "1_0" is refused there too).
        Span<char> chars = stackalloc char[Math.Min(s.Length, 64)];
        if (s.Length <= 64)
        {
            for (var k = 0; k < s.Length; k++) chars[k] = (char)s[k];
            var t = chars[..s.Length];
            var sign = 1.0;
            var body = t;
            if (body.Length > 0 && (body[0] == '+' || body[0] == '-')) { if (body[0] == '-') sign = -1; body = body[1..]; }
            if (body.Equals("inf", StringComparison.OrdinalIgnoreCase) || body.Equals("infinity", StringComparison.OrdinalIgnoreCase))
                return sign * double.PositiveInfinity;
            if (t.Equals("nan", StringComparison.OrdinalIgnoreCase)) return double.NaN;
            if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out d)) return d;
        }
        Fail($"'{Excerpt(s)}' is not a number ({what} of '{Name}')");
        return 0;
    }

    private long ParseTimestamp(ReadOnlySpan<byte> s)
    {
        if (Format == ExpositionFormat.Text)
        {
            if (Utf8Parser.TryParse(s, out long ms, out var used) && used == s.Length) return ms;
            Fail($"'{Excerpt(s)}' is not a timestamp in milliseconds (sample '{Name}')");
        }
        var seconds = ParseFloat(s, "timestamp");
        if (double.IsNaN(seconds) || double.IsInfinity(seconds)) Fail($"'{Excerpt(s)}' is not a timestamp (sample '{Name}')");
        return (long)Math.Round(seconds * 1000.0);
    }

    private static int SkipBlanks(ReadOnlySpan<byte> s, int i)
    {
        while (i < s.Length && (s[i] == (byte)' ' || s[i] == (byte)'\t')) i++;
        return i;
    }

    private static bool IsNameStart(byte c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    private static bool IsNameChar(byte c) => IsNameStart(c) || (c >= '0' && c <= '9');
    private static bool IsLabelStart(byte c) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    private static bool IsLabelChar(byte c) => IsLabelStart(c) || (c >= '0' && c <= '9');

    private void Fail(string what) =>
        throw new ExpositionFormatException($"line {LineNumber}: {what}.", LineNumber);

    private static string Excerpt(ReadOnlySpan<byte> s)
    {
        var text = Encoding.UTF8.GetString(s.Length > 60 ? s[..60] : s);
        var clean = new StringBuilder(text.Length);
        foreach (var c in text) clean.Append(char.IsControl(c) ? '?' : c);
        return s.Length > 60 ? clean + "..." : clean.ToString();
    }

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }

    /// <summary>Shares the strings of repeated byte sequences (names, label values) instead of allocating each again.</summary>
    private sealed class StringCache
    {
        private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        private readonly byte[]?[] _keys;
        private readonly string?[] _strings;
        private readonly int _mask;

        public StringCache(int size)
        {
            _keys = new byte[size][];
            _strings = new string[size];
            _mask = size - 1;
        }

        public string Get(ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length == 0) return "";
            if (bytes.Length > 128) return Strict.GetString(bytes);
            var h = new HashCode();
            h.AddBytes(bytes);
            var slot = h.ToHashCode() & _mask;
            var key = _keys[slot];
            if (key is not null && bytes.SequenceEqual(key)) return _strings[slot]!;
            var s = Strict.GetString(bytes);
            _keys[slot] = bytes.ToArray();
            _strings[slot] = s;
            return s;
        }
    }
}

/// <summary>Labels in the order exposed, readable as a dictionary.</summary>
internal sealed class OrderedLabels : Dictionary<string, string>
{
    public OrderedLabels(int capacity) : base(capacity, StringComparer.Ordinal) { }
}

internal static class MetricSampleLabels
{
    public static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();
}
