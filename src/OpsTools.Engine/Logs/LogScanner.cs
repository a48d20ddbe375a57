using System.IO.Compression;
using System.Runtime.CompilerServices;

namespace OpsTools.Engine.Logs;

/// <summary>
/// Reads a byte stream in large blocks and hands complete lines to an analysis, the way grep does: the literal
/// prefilter runs over the whole block (vectorized IndexOf over the bytes, on a lowercased copy when
/// case-insensitive), so a line that holds none of the pattern's literals costs a newline search and a head parse,
/// and never becomes a string.
/// </summary>
public static class LogScanner
{
    public const int BlockSize = 1 << 20;
    /// <summary>A line longer than this is cut into pieces of this size (memory stays bounded).</summary>
    public const int MaxLine = 64 << 20;

    private delegate void RegionHandler(ReadOnlySpan<byte> region, ReadOnlySpan<byte> haystack);

    /// <summary>Opens a log file for reading: gzip (by its magic bytes, whatever its name) decompressed on the fly.</summary>
    public static Stream Open(string path)
    {
        var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        Span<byte> magic = stackalloc byte[2];
        var n = fs.Read(magic);
        fs.Position = 0;
        if (n == 2 && magic[0] == 0x1f && magic[1] == 0x8b) return new GZipStream(fs, CompressionMode.Decompress);
        return fs;
    }

    /// <summary>Feeds every line of a stream to the analyzer (which must have begun an input), with prefilter hints.</summary>
    public static void Analyze(Stream stream, LogAnalyzer analyzer, CancellationToken ct)
    {
        var m = analyzer.Matcher;
        Blocks(stream, m, ct, analyzer.AddBytes, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (region, hay) =>
        {
            m.Reset();
            var pos = 0;
            var next = m.HasPrefilter && !m.MatchesEverything ? m.NextCandidate(hay, 0) : -1;
            while (pos <= region.Length) // the region holds at least one line (its final '\n' is cut off)
            {
                var nl = region[pos..].IndexOf((byte)'\n');
                var end = nl < 0 ? region.Length : pos + nl;
                var line = region[pos..end];
                int hint;
                if (m.MatchesEverything) hint = 1;
                else if (!m.HasPrefilter) hint = -1;
                else
                {
                    if (next >= 0 && next < pos) next = m.NextCandidate(hay, pos);
                    hint = next >= 0 && next < end ? (m.Verify(line) ? 1 : 0) : 0;
                }
                analyzer.Line(line, hint);
                pos = end + 1;
            }
        });
    }

    /// <summary>grep -c: the lines that match, and the lines read; no per-line work until a literal is found.</summary>
    public static (long Matches, long Lines, long Bytes) Count(Stream stream, LogMatcher m, CancellationToken ct)
    {
        long matches = 0, lines = 0, bytes = 0;
        Blocks(stream, m, ct, n => bytes += n, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (region, hay) =>
        {
            var inRegion = region.Count((byte)'\n') + 1L; // the region's final '\n' is cut off
            lines += inRegion;
            if (m.MatchesEverything) { matches += inRegion; return; }
            if (!m.HasPrefilter)
            {
                var p = 0;
                while (p <= region.Length)
                {
                    var nl = region[p..].IndexOf((byte)'\n');
                    var e = nl < 0 ? region.Length : p + nl;
                    if (m.IsMatch(region[p..e])) matches++;
                    p = e + 1;
                }
                return;
            }
            m.Reset();
            var pos = 0;
            while (pos < region.Length)
            {
                var c = m.NextCandidate(hay, pos);
                if (c < 0) break;
                var start = region[..c].LastIndexOf((byte)'\n') + 1;
                var nl2 = region[c..].IndexOf((byte)'\n');
                var end = nl2 < 0 ? region.Length : c + nl2;
                if (m.Verify(region[start..end])) matches++;
                pos = end + 1;
            }
        });
        return (matches, lines, bytes);
    }

    /// <summary>
    /// The read loop: fills a block, cuts it after its last '\n', hands the complete lines on (with the lowercased copy
    /// the case-insensitive prefilter searches), keeps the rest for the next block. The last line may lack its '\n'.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Blocks(Stream stream, LogMatcher m, CancellationToken ct, Action<long> counted, RegionHandler handle)
    {
        var buffer = new byte[BlockSize];
        var lower = m.IgnoreCase && m.HasPrefilter ? new byte[BlockSize] : null;
        var filled = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (filled == buffer.Length)
            {
                if (buffer.Length >= MaxLine)
                {
                    // One line longer than MaxLine: hand it on in pieces.
                    Handle(buffer.AsSpan(0, filled), lower, handle);
                    filled = 0;
                }
                else
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                    if (lower is not null) lower = new byte[buffer.Length];
                }
            }
            var n = stream.Read(buffer, filled, buffer.Length - filled);
            if (n == 0)
            {
                if (filled > 0) Handle(buffer.AsSpan(0, filled), lower, handle);
                return;
            }
            counted(n);
            filled += n;
            // Fill the block before scanning (gzip and pipes return small reads).
            if (filled < buffer.Length / 2) continue;
            var last = buffer.AsSpan(0, filled).LastIndexOf((byte)'\n');
            if (last < 0) continue;
            Handle(buffer.AsSpan(0, last + 1), lower, handle);
            var rest = filled - (last + 1);
            Buffer.BlockCopy(buffer, last + 1, buffer, 0, rest);
            filled = rest;
        }
    }

    private static void Handle(Span<byte> region, byte[]? lower, RegionHandler handle)
    {
        // The region ends with '\n' (except at the end of input); the handlers see lines without it.
        ReadOnlySpan<byte> r = region;
        if (r.Length > 0 && r[^1] == (byte)'\n') r = r[..^1];
        if (lower is null) { handle(r, r); return; }
        var hay = lower.AsSpan(0, r.Length);
        LogMatcher.AsciiLower(r, hay);
        handle(r, hay);
    }
}
