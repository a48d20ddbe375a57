using System.Diagnostics;
using System.Globalization;
using System.Text;
using OpsTools.Docker;
using OpsTools.Engine.Docker;
using OpsTools.Engine.Kubernetes;
using OpsTools.Logs;

namespace OpsTools.Engine.Logs;

/// <summary>A log source: files of a path or glob, a container, the pods of a deployment (or one pod), the journal.</summary>
public abstract class LogSource
{
    /// <summary>How the source is named in results: the path as given, container:NAME, deployment:NS/NAME, pod:NS/NAME, journal[:UNIT].</summary>
    public abstract string Name { get; }
    /// <summary>File, Container, Pod, Journal.</summary>
    public abstract string Kind { get; }
}

/// <summary>Files: a path, a folder (its files) or a glob (/app/logs/api-*.log*); gzip-rotated files are read decompressed.</summary>
public sealed class FileLogSource : LogSource
{
    public FileLogSource(string pattern, string? currentDirectory = null) { Pattern = pattern; CurrentDirectory = currentDirectory ?? Environment.CurrentDirectory; }
    public string Pattern { get; }
    public string CurrentDirectory { get; }
    public override string Name => Pattern;
    public override string Kind => "File";
}

/// <summary>A container's log from the Docker engine (stdout and stderr).</summary>
public sealed class ContainerLogSource : LogSource
{
    public ContainerLogSource(DockerTarget target, ContainerInfo container) { Target = target; Container = container; }
    public DockerTarget Target { get; }
    public ContainerInfo Container { get; }
    public override string Name => "container:" + Container.Name;
    public override string Kind => "Container";
}

/// <summary>The containers of every pod of a deployment (or of one pod), through the API server: the whole log, no tail.</summary>
public sealed class PodLogSource : LogSource
{
    public PodLogSource(KubeTarget target, string ns, string? deployment, string? pod, string? container, bool previous)
    { Target = target; Namespace = ns; Deployment = deployment; Pod = pod; Container = container; Previous = previous; }
    public KubeTarget Target { get; }
    public string Namespace { get; }
    public string? Deployment { get; }
    public string? Pod { get; }
    public string? Container { get; }
    public bool Previous { get; }
    public override string Name => (Deployment is not null ? "deployment:" : "pod:") + Namespace + "/" + (Deployment ?? Pod) + (Previous ? " (previous)" : "");
    public override string Kind => "Pod";
}

/// <summary>The systemd journal through journalctl -o json: units, a priority, or journal files.</summary>
public sealed class JournalLogSource : LogSource
{
    public IReadOnlyList<string> Units { get; init; } = Array.Empty<string>();
    /// <summary>journalctl -p: emerg, alert, crit, err, warning, notice, info, debug, or 0-7, or a range (err..crit).</summary>
    public string? Priority { get; init; }
    /// <summary>journalctl --file: journal files to read instead of the system journal.</summary>
    public IReadOnlyList<string> Files { get; init; } = Array.Empty<string>();
    /// <summary>journalctl --directory.</summary>
    public string? Directory { get; init; }
    public string Journalctl { get; init; } = "journalctl";
    public override string Name => "journal" + (Units.Count > 0 ? ":" + string.Join(",", Units) : "") + (Files.Count > 0 ? ":" + string.Join(",", Files.Select(System.IO.Path.GetFileName)) : "");
    public override string Kind => "Journal";
}

/// <summary>Reads sources into an analysis.</summary>
public static class LogReader
{
    /// <summary>Runs one source through the analyzer (every input of it: files, containers, pods).</summary>
    public static async Task RunAsync(LogSource source, LogAnalyzer analyzer, DateTime? since, DateTime? until, CancellationToken ct)
    {
        switch (source)
        {
            case FileLogSource f:
                foreach (var path in ExpandFiles(f.Pattern, f.CurrentDirectory))
                {
                    ct.ThrowIfCancellationRequested();
                    analyzer.BeginInput(path);
                    using (var stream = OpenOrThrow(path)) LogScanner.Analyze(stream, analyzer, ct);
                    analyzer.EndInput();
                }
                break;
            case ContainerLogSource c:
            {
                analyzer.BeginInput(c.Container.Name);
                var options = new ContainerLogOptions { Since = since, Until = until };
                await foreach (var line in DockerLogs.ReadAsync(c.Target, c.Container, options, ct).ConfigureAwait(false))
                {
                    var bytes = Encoding.UTF8.GetBytes(line.Line);
                    analyzer.AddBytes(bytes.Length + 1);
                    analyzer.Line(bytes, -1, line.Time?.Ticks ?? 0);
                }
                analyzer.EndInput();
                break;
            }
            case PodLogSource p:
            {
                var pods = p.Deployment is not null
                    ? await KubePods.SelectDeploymentAsync(p.Target, p.Namespace, p.Deployment, ct).ConfigureAwait(false)
                    : await KubePods.SelectOneAsync(p.Target, p.Namespace, p.Pod!, ct).ConfigureAwait(false);
                foreach (var pod in pods.Names)
                {
                    foreach (var container in pods.LogContainers(pod, p.Container, p.Previous))
                    {
                        analyzer.BeginInput($"{pod}/{container}");
                        var options = new PodLogOptions { SinceTime = since, Previous = p.Previous };
                        await foreach (var line in KubePodLogs.ReadAsync(p.Target, p.Namespace, pod, container, options, ct).ConfigureAwait(false))
                        {
                            var bytes = Encoding.UTF8.GetBytes(line.Line);
                            analyzer.AddBytes(bytes.Length + 1);
                            analyzer.Line(bytes, -1, line.Time?.Ticks ?? 0);
                        }
                        analyzer.EndInput();
                    }
                }
                break;
            }
            case JournalLogSource j:
                await RunJournalAsync(j, analyzer, since, until, ct).ConfigureAwait(false);
                break;
            default:
                throw new ArgumentException($"Unknown log source {source.GetType().Name}.");
        }
    }

    /// <summary>grep -c over one file: the count path that never parses a line (no -Since/-Until).</summary>
    public static LogMatchCount CountFile(string path, LogMatcher matcher, CancellationToken ct)
    {
        using var stream = OpenOrThrow(path);
        var (matches, lines, bytes) = LogScanner.Count(stream, matcher, ct);
        return new LogMatchCount { Source = path, Count = matches, LinesRead = lines, Bytes = bytes };
    }

    private static Stream OpenOrThrow(string path)
    {
        try { return LogScanner.Open(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OpsToolsException("LogFileUnreadable", e is UnauthorizedAccessException ? OpsErrorKind.PermissionDenied : OpsErrorKind.NotFound,
                $"Cannot read log file '{path}': {e.Message}", path, e);
        }
    }

    /// <summary>
    /// The files a path names: a file; a folder's files (not its subfolders); a glob with * and ? in any segment
    /// (/app/logs/api-*.log*, /var/log/*/error.log). Sorted oldest first (rotated files before the live one).
    /// Nothing found: LogFileNotFound.
    /// </summary>
    public static IReadOnlyList<string> ExpandFiles(string pattern, string currentDirectory)
    {
        var p = pattern.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), pattern[2..]) : pattern;
        p = Path.GetFullPath(Path.Combine(currentDirectory, p));
        List<string> files;
        if (p.IndexOfAny(new[] { '*', '?' }) < 0)
        {
            if (File.Exists(p)) return new[] { p };
            if (Directory.Exists(p))
                files = Directory.EnumerateFiles(p, "*", new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0 }).ToList();
            else files = new List<string>();
        }
        else
        {
            var root = Path.GetPathRoot(p)!;
            var segments = p[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
            var current = new List<string> { root };
            for (var i = 0; i < segments.Length; i++)
            {
                var last = i == segments.Length - 1;
                var seg = segments[i];
                var next = new List<string>();
                foreach (var dir in current)
                {
                    if (!Directory.Exists(dir)) continue;
                    var opts = new EnumerationOptions { IgnoreInaccessible = true, MatchType = MatchType.Simple, AttributesToSkip = 0, MatchCasing = MatchCasing.PlatformDefault };
                    if (seg.IndexOfAny(new[] { '*', '?' }) < 0) { next.Add(Path.Combine(dir, seg)); continue; }
                    next.AddRange(last ? Directory.EnumerateFiles(dir, seg, opts) : Directory.EnumerateDirectories(dir, seg, opts));
                }
                current = next;
            }
            files = current.Where(File.Exists).ToList();
        }
        if (files.Count == 0)
            throw new OpsToolsException("LogFileNotFound", OpsErrorKind.NotFound, $"No log file matches '{pattern}'.", pattern);
        return files.Select(f => new FileInfo(f)).OrderBy(f => f.LastWriteTimeUtc).ThenByDescending(f => f.Name, StringComparer.Ordinal)
            .Select(f => f.FullName).ToList();
    }

    /// <summary>The journalctl arguments for a journal source.</summary>
    public static List<string> JournalArguments(JournalLogSource j, DateTime? since, DateTime? until)
    {
        var args = new List<string> { "-o", "json", "--no-pager", "--utc" };
        foreach (var u in j.Units) { args.Add("-u"); args.Add(u); }
        if (j.Priority is { Length: > 0 } p) { args.Add("-p"); args.Add(p); }
        if (since is { } s) { args.Add("--since"); args.Add("@" + Unix(s)); }
        if (until is { } u2) { args.Add("--until"); args.Add("@" + Unix(u2)); }
        foreach (var f in j.Files) args.Add("--file=" + f);
        if (j.Directory is { Length: > 0 } d) args.Add("--directory=" + d);
        return args;
    }

    private static string Unix(DateTime t) => ((t.ToUniversalTime() - DateTime.UnixEpoch).TotalSeconds).ToString("0.######", CultureInfo.InvariantCulture);

    private static async Task RunJournalAsync(JournalLogSource j, LogAnalyzer analyzer, DateTime? since, DateTime? until, CancellationToken ct)
    {
        foreach (var f in j.Files)
            if (!File.Exists(f)) throw new OpsToolsException("LogFileNotFound", OpsErrorKind.NotFound, $"Journal file '{f}' does not exist.", f);
        var psi = new ProcessStartInfo(j.Journalctl) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in JournalArguments(j, since, until)) psi.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(psi) ?? throw new InvalidOperationException("journalctl did not start"); }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new OpsToolsException("LogJournalUnavailable", OpsErrorKind.NotFound,
                $"Cannot run journalctl ({e.Message}): the systemd journal is read with journalctl, which this machine does not have.", j.Name, e);
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var reg = ct.Register(() => { try { process.Kill(true); } catch (InvalidOperationException) { } });
            analyzer.BeginInput(j.Name, LogFormat.Journal);
            await Task.Run(() => LogScanner.Analyze(process.StandardOutput.BaseStream, analyzer, ct), ct).ConfigureAwait(false);
            analyzer.EndInput();
            await process.WaitForExitAsync(ct).ConfigureAwait(false);
            var err = (await stderr.ConfigureAwait(false)).Trim();
            if (process.ExitCode != 0)
                throw new OpsToolsException("LogJournalFailed", OpsErrorKind.OperationFailed, $"journalctl failed (exit {process.ExitCode}): {err}", j.Name);
            if (err.Contains("No journal files were found", StringComparison.OrdinalIgnoreCase))
                throw new OpsToolsException("LogJournalUnavailable", OpsErrorKind.NotFound,
                    $"journalctl found no journal here ({err}): systemd-journald does not run on this machine, or it keeps no journal. Name journal files with -JournalFile.", j.Name);
        }
    }
}
