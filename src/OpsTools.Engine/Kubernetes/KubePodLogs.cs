using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>What part of a container's log to read (the options of 'kubectl logs').</summary>
public sealed class PodLogOptions
{
    /// <summary>The last N lines of each container (tailLines, done by the kubelet).</summary>
    public int? Tail { get; init; }
    /// <summary>Lines written at or after this time (UTC); sent as sinceSeconds, then filtered exactly here.</summary>
    public DateTime? SinceTime { get; init; }
    /// <summary>The previous (terminated) container instance.</summary>
    public bool Previous { get; init; }
    /// <summary>Only lines matching this expression (tested against the text, not the timestamp).</summary>
    public Regex? Pattern { get; init; }
}

/// <summary>
/// Reads container logs through the API server's pods/log endpoint as a stream, line by line: a log is never
/// held in memory as a whole, whatever its size (only the current line and the reader's buffer).
/// </summary>
public static class KubePodLogs
{
    /// <summary>The containers whose logs a pod has: the one asked for, or every (non-init) container; with -Previous
    /// and no container named, only those that have a terminated previous instance.</summary>
    public static IReadOnlyList<string> Containers(V1Pod pod, string? container, bool previous)
    {
        if (container is not null) return new[] { container };
        var names = (pod.Spec?.Containers ?? new List<V1Container>()).Select(c => c.Name).ToList();
        if (!previous) return names;
        var restarted = (pod.Status?.ContainerStatuses ?? new List<V1ContainerStatus>())
            .Where(s => s.RestartCount > 0 || s.LastState?.Terminated is not null).Select(s => s.Name).ToHashSet();
        return names.Where(restarted.Contains).ToList();
    }

    /// <summary>Streams one container's log; the lines come as the API sends them.</summary>
    public static async IAsyncEnumerable<PodLogLine> ReadAsync(KubeTarget target, string ns, string pod, string container, PodLogOptions options,
        [EnumeratorCancellation] CancellationToken ct)
    {
        int? sinceSeconds = null;
        if (options.SinceTime is { } sinceTime)
        {
            var seconds = Math.Ceiling((DateTime.UtcNow - sinceTime).TotalSeconds);
            if (seconds <= 0) yield break; // in the future: nothing written yet
            sinceSeconds = (int)Math.Min(int.MaxValue, seconds + 1); // one more: the exact cut is made on the timestamps below
        }
        Stream stream;
        try
        {
            stream = await target.Client.CoreV1.ReadNamespacedPodLogAsync(pod, ns, container: container, previous: options.Previous ? true : null,
                sinceSeconds: sinceSeconds, tailLines: options.Tail, timestamps: true, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (Exception e) when (KubeErrors.IsBadRequest(e))
        {
            var said = KubeErrors.ServerMessage(e);
            throw options.Previous
                ? new OpsToolsException("KubePreviousLogNotFound", OpsErrorKind.NotFound,
                    $"Container '{container}' of pod '{pod}' in {target.Describe(ns)} has no previous (terminated) instance to read ({said}): it has not restarted since the pod started, or the kubelet has already removed it. Run Get-PodLog without -Previous for the current one.",
                    $"{pod}/{container}", e)
                : new OpsToolsException("KubeLogUnavailable", OpsErrorKind.OperationFailed,
                    $"Cannot read the log of container '{container}' of pod '{pod}' in {target.Describe(ns)}: {said}.", $"{pod}/{container}", e);
        }
        catch (Exception e) when (KubeErrors.Translate(e, target, $"read the log of pod '{pod}' container '{container}'", $"pod '{pod}'", ns, ct) is { } translated && !ReferenceEquals(translated, e))
        {
            throw translated;
        }
        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize: 16 * 1024);
            var context = target.Context;
            while (true)
            {
                string? raw;
                try { raw = await reader.ReadLineAsync(ct).ConfigureAwait(false); }
                catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
                {
                    throw KubeErrors.Translate(e, target, $"read the log of pod '{pod}' container '{container}'", $"pod '{pod}'", ns, ct) ?? e;
                }
                if (raw is null) yield break;
                var (time, text) = SplitTimestamp(raw);
                if (options.SinceTime is { } cut && time is { } t && t < cut) continue;
                if (options.Pattern is { } pattern && !pattern.IsMatch(text)) continue;
                yield return new PodLogLine { Context = context, Namespace = ns, Pod = pod, Container = container, Time = time, Line = text, Previous = options.Previous };
            }
        }
    }

    /// <summary>Splits a line read with timestamps=true ("2024-05-01T10:00:00.123456789Z text") into its time (UTC) and text.</summary>
    public static (DateTime? Time, string Text) SplitTimestamp(string line)
    {
        var space = line.IndexOf(' ');
        if (space < 20 || space > 40) return (null, line);
        return TryParseTime(line.AsSpan(0, space), out var time) ? (time, line[(space + 1)..]) : (null, line);
    }

    /// <summary>Parses RFC 3339 with up to nine fractional digits (RFC3339Nano, as the kubelet writes it).</summary>
    public static bool TryParseTime(ReadOnlySpan<char> s, out DateTime time)
    {
        time = default;
        // .NET parses at most seven fractional digits: drop the rest.
        Span<char> buffer = stackalloc char[40];
        var n = 0;
        var dot = s.IndexOf('.');
        if (dot < 0) { if (s.Length > buffer.Length) return false; s.CopyTo(buffer); n = s.Length; }
        else
        {
            var end = dot + 1;
            while (end < s.Length && char.IsAsciiDigit(s[end])) end++;
            var keep = Math.Min(end, dot + 8);
            if (keep + (s.Length - end) > buffer.Length) return false;
            s[..keep].CopyTo(buffer);
            s[end..].CopyTo(buffer[keep..]);
            n = keep + s.Length - end;
        }
        if (!DateTimeOffset.TryParse(buffer[..n], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)) return false;
        time = parsed.UtcDateTime;
        return true;
    }

    /// <summary>A line as -Raw prints it: the text, with the kubelet's timestamp in front when asked for.</summary>
    public static string Raw(PodLogLine line, bool timestamps) =>
        timestamps && line.Time is { } t ? t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture) + " " + line.Line : line.Line;
}
