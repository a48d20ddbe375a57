using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Text;
using System.Text.RegularExpressions;

namespace OpsTools.Engine.Logs;

/// <summary>
/// The -Pattern of the log analysis as grep applies it: a .NET regular expression tested against each line, made fast
/// by a literal prefilter. When the pattern is a literal or an alternation of literals (ERROR, 'error|fatal|critical'),
/// those literals are searched over whole buffers of UTF-8 bytes with the vectorized IndexOf, so a line costs nothing
/// until one of them is found; the regular expression then runs on that candidate line only (or not at all when the
/// literals alone decide). Case-insensitive literals are searched in an ASCII-lowercased copy of the buffer.
/// </summary>
public sealed class LogMatcher
{
    private readonly byte[][] _literals;
    private readonly int[] _next;
    private char[] _chars = new char[4096];
    private byte[] _lowerLine = new byte[4096];

    /// <summary>The pattern as given.</summary>
    public string Pattern { get; }
    public Regex Regex { get; }
    /// <summary>Case-insensitive.</summary>
    public bool IgnoreCase { get; }
    /// <summary>The literals decide alone (no regex needed on candidates).</summary>
    public bool Exact { get; }
    /// <summary>Literals exist to search for (otherwise every line goes to the regular expression).</summary>
    public bool HasPrefilter => _literals.Length > 0;
    /// <summary>Every line matches (the pattern '.*' or empty).</summary>
    public bool MatchesEverything { get; }

    private LogMatcher(string pattern, Regex regex, bool ignoreCase, byte[][] literals, bool exact, bool everything)
    {
        Pattern = pattern; Regex = regex; IgnoreCase = ignoreCase; _literals = literals; Exact = exact; MatchesEverything = everything;
        _next = new int[literals.Length];
    }

    /// <summary>A matcher for a .NET regular expression; a bad expression is an InvalidPattern error naming it.</summary>
    public static LogMatcher Create(string pattern, bool caseSensitive)
    {
        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant | (caseSensitive ? RegexOptions.None : RegexOptions.IgnoreCase), TimeSpan.FromSeconds(5));
        }
        catch (ArgumentException e)
        {
            throw new OpsToolsException("InvalidPattern", OpsErrorKind.InvalidArgument, $"-Pattern '{pattern}' is not a valid regular expression: {e.Message}", pattern, e);
        }
        var everything = pattern.Length == 0 || pattern is "." or ".*" or "^" or "$";
        var (literals, exact) = everything ? (new List<string>(), false) : ExtractLiterals(pattern);
        if (!caseSensitive && literals.Any(l => l.Any(c => c > 127))) { literals.Clear(); exact = false; }
        if (literals.Any(l => l.Length == 0)) { literals.Clear(); exact = false; }
        var bytes = literals.Select(l => Encoding.UTF8.GetBytes(caseSensitive ? l : l.ToLowerInvariant())).ToArray();
        return new LogMatcher(pattern, regex, !caseSensitive, bytes, exact && literals.Count > 0, everything);
    }

    /// <summary>
    /// The literals a pattern requires: an alternation (top level, or in one group around the whole pattern) of plain
    /// text, with \b word anchors allowed around it (then the regex still decides). Exact: the literals alone decide.
    /// Anything else: no prefilter.
    /// </summary>
    internal static (List<string> Literals, bool Exact) ExtractLiterals(string pattern)
    {
        var p = pattern;
        var exact = true;
        while (true)
        {
            if (p.StartsWith(@"\b", StringComparison.Ordinal)) { p = p[2..]; exact = false; continue; }
            if (p.EndsWith(@"\b", StringComparison.Ordinal) && !p.EndsWith(@"\\b", StringComparison.Ordinal)) { p = p[..^2]; exact = false; continue; }
            if (p.StartsWith("(?:", StringComparison.Ordinal) && p.EndsWith(')') && GroupSpansAll(p, 3)) { p = p[3..^1]; continue; }
            if (p.StartsWith('(') && !p.StartsWith("(?", StringComparison.Ordinal) && p.EndsWith(')') && GroupSpansAll(p, 1)) { p = p[1..^1]; continue; }
            break;
        }
        var result = new List<string>();
        var current = new StringBuilder();
        for (var i = 0; i < p.Length; i++)
        {
            var c = p[i];
            if (c == '\\')
            {
                if (i + 1 >= p.Length) return (new(), false);
                var n = p[i + 1];
                if (char.IsLetterOrDigit(n)) return (new(), false); // \d, \s, \w, \b inside ...: not a literal
                current.Append(n); i++;
                continue;
            }
            if (c == '|') { result.Add(current.ToString()); current.Clear(); continue; }
            if ("^$.?*+()[]{}".IndexOf(c) >= 0) return (new(), false);
            current.Append(c);
        }
        result.Add(current.ToString());
        return (result, exact);
    }

    private static bool GroupSpansAll(string p, int open)
    {
        var depth = 1;
        for (var i = open; i < p.Length; i++)
        {
            if (p[i] == '\\') { i++; continue; }
            if (p[i] == '(') depth++;
            else if (p[i] == ')') { depth--; if (depth == 0) return i == p.Length - 1; }
        }
        return false;
    }

    /// <summary>Starts a new buffer: forget where the literals were found.</summary>
    public void Reset() => Array.Fill(_next, -1);

    /// <summary>
    /// The offset of the next literal hit at or after <paramref name="from"/> in <paramref name="haystack"/> (the
    /// lowercased buffer when case-insensitive), or -1. Every literal is searched once per buffer region, whatever
    /// the number of lines.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int NextCandidate(ReadOnlySpan<byte> haystack, int from)
    {
        var best = -1;
        for (var i = 0; i < _literals.Length; i++)
        {
            var n = _next[i];
            if (n == int.MaxValue) continue;
            if (n < from)
            {
                var found = from >= haystack.Length ? -1 : haystack[from..].IndexOf(_literals[i]);
                n = _next[i] = found < 0 ? int.MaxValue : from + found;
                if (n == int.MaxValue) continue;
            }
            if (best < 0 || n < best) best = n;
        }
        return best;
    }

    /// <summary>Whether the line (UTF-8, without its line end) matches, for lines that were found as candidates or have no prefilter.</summary>
    public bool Verify(ReadOnlySpan<byte> line) => Exact || RegexMatches(line);

    /// <summary>Whether one line (UTF-8, without its line end) matches: literals first, then the regex where needed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool IsMatch(ReadOnlySpan<byte> line)
    {
        if (MatchesEverything) return true;
        if (_literals.Length > 0)
        {
            var hay = line;
            if (IgnoreCase)
            {
                if (_lowerLine.Length < line.Length) _lowerLine = new byte[Math.Max(line.Length, _lowerLine.Length * 2)];
                AsciiLower(line, _lowerLine);
                hay = _lowerLine.AsSpan(0, line.Length);
            }
            var any = false;
            foreach (var l in _literals) if (hay.IndexOf(l) >= 0) { any = true; break; }
            if (!any) return false;
            if (Exact) return true;
        }
        return RegexMatches(line);
    }

    private bool RegexMatches(ReadOnlySpan<byte> line)
    {
        var max = Encoding.UTF8.GetMaxCharCount(line.Length);
        if (_chars.Length < max) _chars = new char[Math.Max(max, _chars.Length * 2)];
        var n = Encoding.UTF8.GetChars(line, _chars);
        return Regex.IsMatch(_chars.AsSpan(0, n));
    }

    /// <summary>Lowercases ASCII letters (bytes A-Z; every other byte, UTF-8 sequences included, is copied as is), vectorized.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AsciiLower(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var i = 0;
        if (Vector256.IsHardwareAccelerated && source.Length >= 32)
        {
            var a = Vector256.Create((byte)('A' - 1));
            var z = Vector256.Create((byte)('Z' + 1));
            var bit = Vector256.Create((byte)0x20);
            ref var s = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref var d = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
            for (; i <= source.Length - 32; i += 32)
            {
                var v = Vector256.LoadUnsafe(ref s, (nuint)i);
                // Unsigned compares: bytes >= 0x80 are never in 'A'..'Z'.
                var upper = Vector256.GreaterThan(v, a) & Vector256.LessThan(v, z);
                (v | (upper & bit)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        else if (Vector128.IsHardwareAccelerated && source.Length >= 16)
        {
            var a = Vector128.Create((byte)('A' - 1));
            var z = Vector128.Create((byte)('Z' + 1));
            var bit = Vector128.Create((byte)0x20);
            ref var s = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
            ref var d = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
            for (; i <= source.Length - 16; i += 16)
            {
                var v = Vector128.LoadUnsafe(ref s, (nuint)i);
                var upper = Vector128.GreaterThan(v, a) & Vector128.LessThan(v, z);
                (v | (upper & bit)).StoreUnsafe(ref d, (nuint)i);
            }
        }
        for (; i < source.Length; i++)
        {
            var b = source[i];
            destination[i] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
        }
    }
}
