using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using OpsTools.Docker;
using OpsTools.Engine.Kubernetes;
using DockerModels = global::Docker.DotNet.Models;
using MultiplexedStream = global::Docker.DotNet.MultiplexedStream;

namespace OpsTools.Engine.Docker;

/// <summary>What part of a container's log to read (the options of 'docker logs').</summary>
public sealed class ContainerLogOptions
{
    /// <summary>The last N lines (--tail, done by the engine).</summary>
    public int? Tail { get; init; }
    /// <summary>Lines written at or after this time (UTC): --since; also cut exactly here on the timestamps.</summary>
    public DateTime? Since { get; init; }
    /// <summary>Lines written before this time (UTC): --until.</summary>
    public DateTime? Until { get; init; }
    /// <summary>stdout, stderr or all.</summary>
    public string Stream { get; init; } = "all";
    /// <summary>Only lines matching this expression (tested against the text, not the timestamp).</summary>
    public Regex? Pattern { get; init; }
}

/// <summary>
/// Reads a container's log from the engine as a stream (the multiplexed stdout/stderr frames of a non-TTY container,
/// or the raw stream of a TTY container), line by line: only the current line and one read buffer are held, whatever
/// the log's size.
/// </summary>
public static class DockerLogs
{
    private const int BufferSize = 16 * 1024;

    /// <summary>Streams one container's log; lines come as the engine sends them.</summary>
    public static async IAsyncEnumerable<ContainerLogLine> ReadAsync(DockerTarget target, ContainerInfo container, ContainerLogOptions options,
        [EnumeratorCancellation] CancellationToken ct)
    {
        if (options.Since is { } s && options.Until is { } u && u <= s) yield break;
        var parameters = new DockerModels.ContainerLogsParameters
        {
            ShowStdout = options.Stream is "all" or "stdout",
            ShowStderr = options.Stream is "all" or "stderr",
            Timestamps = true, // always: Time on every line, and the exact since/until cut below
            Follow = false,
            Tail = options.Tail is { } tail ? tail.ToString(CultureInfo.InvariantCulture) : "all",
            Since = options.Since is { } since ? UnixSeconds(since) : null,
            Until = options.Until is { } until ? UnixSeconds(until) : null,
        };
        var what = $"read the log of container '{container.Name}'";
        var stream = await DockerErrors.CallAsync(target, what, $"container '{container.Name}'",
            () => target.Client.Containers.GetContainerLogsAsync(container.Id, parameters, ct), ct).ConfigureAwait(false);
        using (stream)
        {
            var splitter = new LogLineSplitter();
            var buffer = new byte[BufferSize];
            var pending = new List<(bool Stderr, string Text)>();
            while (true)
            {
                global::Docker.DotNet.MultiplexedStream.ReadResult read;
                try { read = await stream.ReadOutputAsync(buffer, 0, buffer.Length, ct).ConfigureAwait(false); }
                catch (Exception e) when (!ct.IsCancellationRequested && DockerErrors.Translate(e, target, what, $"container '{container.Name}'", ct) is { } translated && !ReferenceEquals(translated, e))
                {
                    throw translated;
                }
                pending.Clear();
                if (read.EOF || read.Count == 0) splitter.Flush(pending);
                else splitter.Add(read.Target == global::Docker.DotNet.MultiplexedStream.TargetStream.StandardError, buffer.AsSpan(0, read.Count), pending);
                foreach (var (stderr, raw) in pending)
                {
                    if (LineFor(target, container, options, stderr, raw) is { } line) yield return line;
                }
                if (read.EOF || read.Count == 0) yield break;
            }
        }
    }

    private static ContainerLogLine? LineFor(DockerTarget target, ContainerInfo container, ContainerLogOptions options, bool stderr, string raw)
    {
        var (time, text) = KubePodLogs.SplitTimestamp(raw);
        if (options.Since is { } since && time is { } t1 && t1 < since) return null;
        if (options.Until is { } until && time is { } t2 && t2 >= until) return null;
        if (options.Pattern is { } pattern && !pattern.IsMatch(text)) return null;
        return new ContainerLogLine
        {
            DockerHost = target.Endpoint.ToString(), DockerId = target.Id, Container = container.Name, ContainerId = container.Id,
            Stream = stderr ? "stderr" : "stdout", Time = time, Line = text,
        };
    }

    /// <summary>The engine's since/until: Unix seconds with nanoseconds ("1700000000.123456789").</summary>
    public static string UnixSeconds(DateTime utc)
    {
        var ticks = utc.ToUniversalTime().Ticks - DateTime.UnixEpoch.Ticks;
        var seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out var rest);
        if (rest < 0) { seconds--; rest += TimeSpan.TicksPerSecond; }
        return seconds.ToString(CultureInfo.InvariantCulture) + "." + (rest * 100).ToString("000000000", CultureInfo.InvariantCulture);
    }

    /// <summary>A line as -Raw prints it: the text, with the engine's timestamp in front when asked for.</summary>
    public static string Raw(ContainerLogLine line, bool timestamps) =>
        timestamps && line.Time is { } t ? t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture) + " " + line.Line : line.Line;
}

/// <summary>
/// Cuts the bytes of stdout and stderr (each its own partial line: a frame may end mid-line, and frames of the two
/// streams interleave) into complete lines, decoded as UTF-8, without the line end (\n or \r\n).
/// </summary>
public sealed class LogLineSplitter
{
    private readonly MemoryStream _out = new();
    private readonly MemoryStream _err = new();

    /// <summary>Adds bytes of one stream; complete lines go to <paramref name="lines"/>.</summary>
    public void Add(bool stderr, ReadOnlySpan<byte> bytes, List<(bool Stderr, string Text)> lines)
    {
        var partial = stderr ? _err : _out;
        while (!bytes.IsEmpty)
        {
            var nl = bytes.IndexOf((byte)'\n');
            if (nl < 0) { partial.Write(bytes); return; }
            string text;
            if (partial.Length == 0) text = Decode(bytes[..nl]);
            else
            {
                partial.Write(bytes[..nl]);
                text = Decode(partial.GetBuffer().AsSpan(0, (int)partial.Length));
                partial.SetLength(0);
            }
            lines.Add((stderr, text));
            bytes = bytes[(nl + 1)..];
        }
    }

    /// <summary>The last, unterminated line of each stream.</summary>
    public void Flush(List<(bool Stderr, string Text)> lines)
    {
        if (_out.Length > 0) { lines.Add((false, Decode(_out.GetBuffer().AsSpan(0, (int)_out.Length)))); _out.SetLength(0); }
        if (_err.Length > 0) { lines.Add((true, Decode(_err.GetBuffer().AsSpan(0, (int)_err.Length)))); _err.SetLength(0); }
    }

    private static string Decode(ReadOnlySpan<byte> line)
    {
        if (!line.IsEmpty && line[^1] == (byte)'\r') line = line[..^1];
        return Encoding.UTF8.GetString(line);
    }
}
