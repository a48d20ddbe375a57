using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using OpsTools.Configuration;
using OpsTools.Engine.Database;
using OpsTools.Engine.Docker;
using OpsTools.Engine.Health;
using OpsTools.Engine.Kubernetes;
using OpsTools.Engine.Logs;
using OpsTools.Engine.Metrics;
using OpsTools.Engine.Security;
using OpsTools.Incidents;
using OpsTools.Metrics;

namespace OpsTools.Engine.Incidents;

/// <summary>What Save-IncidentEvidence asked for.</summary>
public sealed class EvidenceOptions
{
    /// <summary>How long each collector may take; past it the collector is abandoned and recorded as TimedOut.</summary>
    public TimeSpan CollectorTimeout { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Log lines kept per problem pod and per container.</summary>
    public int LogTail { get; init; } = 50;
    /// <summary>The window of the error-log summary and of the events and rollouts put on the timeline.</summary>
    public TimeSpan Since { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Only these collectors (names of <see cref="EvidenceCollector.Names"/>); null: all.</summary>
    public IReadOnlyCollection<string>? Only { get; init; }
    /// <summary>The directory relative log paths are resolved against.</summary>
    public string? CurrentDirectory { get; init; }
}

/// <summary>What one collector read: the data (written as JSON), the same as readable text, timeline moments.</summary>
internal sealed class CollectedData
{
    public Dictionary<string, object?> Data { get; } = new(StringComparer.Ordinal);
    public StringBuilder Text { get; } = new();
    public List<EvidenceMoment> Moments { get; } = new();
    public List<string> Problems { get; } = new();
    public List<string> Secrets { get; } = new();
    public int Items { get; set; }
    public string? Summary { get; set; }
    public string? SkipReason { get; set; }
}

/// <summary>
/// Collects, for one environment, what an on-call engineer runs by hand during an incident — app health, metrics and
/// active alerts, pod health with events and the last log lines of problem pods, rollout history, container states and
/// logs, database connections and slow queries, the recent error-log summary — by calling the engine pieces the
/// commands use. Collectors run at once, each bounded by <see cref="EvidenceOptions.CollectorTimeout"/> (a hard bound:
/// a collector stuck on a dead target is abandoned, recorded as TimedOut, and the others go on). A failing collector is
/// a recorded outcome, never an exception. The files (JSON + text per collector, summary.txt) are redacted
/// (<see cref="Redaction"/>), hashed with <see cref="Backup.BackupHashing"/> into manifest.json and SHA256SUMS.
/// </summary>
public static class EvidenceCollector
{
    /// <summary>The collectors, in the order they are listed.</summary>
    public static readonly string[] Names = { "AppHealth", "Metrics", "Alerts", "Pods", "Rollouts", "Containers", "Database", "LogErrors" };

    public const string ManifestFile = "manifest.json";
    public const string SumsFile = "SHA256SUMS";
    public const string SummaryFile = "summary.txt";

    private static readonly JsonSerializerOptions DataJson = new()
    {
        WriteIndented = true,
        ReferenceHandler = ReferenceHandler.IgnoreCycles,
        Converters = { new JsonStringEnumConverter() },
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Collects into a new folder evidence/&lt;UTC time&gt; of the incident and writes its manifest last.</summary>
    public static async Task<IncidentEvidence> CollectAsync(Incident incident, OpsEnvironment environment, EvidenceOptions options,
        Action<string, int, int>? progress, Action<string>? verbose, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        var name = started.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var evidenceRoot = Path.Combine(incident.Path, IncidentStore.EvidenceFolder);
        DataFiles.CreateDirectory(evidenceRoot);
        var folder = Path.Combine(evidenceRoot, name);
        for (var n = 2; Directory.Exists(folder); n++) folder = Path.Combine(evidenceRoot, $"{name}-{n}");
        DataFiles.CreateDirectory(folder);

        var selected = Names.Where(n => options.Only is null || options.Only.Contains(n, StringComparer.OrdinalIgnoreCase)).ToList();
        var done = 0;
        progress?.Invoke("Starting " + string.Join(", ", selected), 0, selected.Count);
        var runs = selected.Select(async c =>
        {
            var r = await RunBoundedAsync(c, environment, options, verbose, ct).ConfigureAwait(false);
            var d = Interlocked.Increment(ref done);
            progress?.Invoke($"{c}: {r.Result.Outcome}", d, selected.Count);
            return r;
        }).ToList();
        var results = await Task.WhenAll(runs).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();

        // Write: per collector JSON + text, redacted; then summary.txt; then hashes, SHA256SUMS and manifest.json (last).
        var secrets = KnownSecrets(environment).Concat(results.SelectMany(r => r.Data?.Secrets ?? new List<string>())).Distinct().ToList();
        var moments = new List<EvidenceMoment>();
        var collectors = new List<EvidenceCollectorResult>();
        foreach (var (result, data) in results)
        {
            result.IncidentId = incident.Id;
            var files = new List<string>();
            if (data is not null && result.Outcome is not EvidenceOutcome.Skipped)
            {
                var stem = Stem(result.Collector);
                string json;
                try { json = JsonSerializer.Serialize(data.Data, DataJson); }
                catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException)
                {
                    json = JsonSerializer.Serialize(new { error = "the data could not be written as JSON: " + e.Message, text = data.Text.ToString() }, DataJson);
                }
                Write(Path.Combine(folder, stem + ".json"), Redact(json, secrets));
                Write(Path.Combine(folder, stem + ".txt"), Redact(Header(result) + data.Text, secrets));
                files.Add(stem + ".json");
                files.Add(stem + ".txt");
                moments.AddRange(data.Moments.Select(m => new EvidenceMoment { Time = m.Time, Kind = m.Kind, Text = Redact(m.Text, secrets) }));
            }
            result.Files = files;
            result.Message = Redact(result.Message, secrets);
            collectors.Add(result);
        }
        var finished = DateTime.UtcNow;
        moments.Add(new EvidenceMoment { Time = started, Kind = "Evidence", Text = $"Evidence collection {Path.GetFileName(folder)} started ({collectors.Count(c => c.Outcome is EvidenceOutcome.Collected or EvidenceOutcome.Partial)} of {collectors.Count(c => c.Outcome != EvidenceOutcome.Skipped)} collectors read)" });
        foreach (var c in collectors.Where(c => c.Outcome is EvidenceOutcome.Failed or EvidenceOutcome.TimedOut))
            moments.Add(new EvidenceMoment { Time = c.Started + c.Duration, Kind = "Evidence", Text = $"{c.Collector} evidence {c.Outcome}: {c.Message}" });

        var summary = new StringBuilder();
        summary.Append("Evidence for ").Append(incident.Id).Append(" (").Append(incident.Title).Append(")\n")
            .Append("Environment: ").Append(environment.Name).Append(environment.Path is null ? "" : $" ({environment.Path})").Append('\n')
            .Append("Collected:   ").Append(Utc(started)).Append(" - ").Append(Utc(finished)).Append('\n')
            .Append("Timeout:     ").Append(options.CollectorTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)).Append(" s per collector\n\n");
        foreach (var c in collectors)
            summary.Append(c.Collector.PadRight(12)).Append(c.Outcome.ToString().PadRight(10))
                .Append(((int)c.Duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture).PadLeft(7)).Append(" ms  ").Append(c.Message).Append('\n');
        Write(Path.Combine(folder, SummaryFile), Redact(summary.ToString(), secrets));

        var evidenceFiles = Backup.BackupHashing.FilesInHashOrder(folder);
        var hashed = new List<EvidenceFile>();
        foreach (var f in evidenceFiles)
        {
            var digest = await Backup.BackupHashing.HashFileAsync(Path.Combine(folder, f), null, ct).ConfigureAwait(false);
            hashed.Add(new EvidenceFile { Path = f, Sha256 = digest.Sha256, SizeBytes = digest.SizeBytes });
        }
        var tree = await Backup.BackupHashing.HashDirectoryAsync(folder, null, ct).ConfigureAwait(false);
        Write(Path.Combine(folder, SumsFile), string.Concat(hashed.Select(h => $"{h.Sha256}  {h.Path}\n")));

        var evidence = new IncidentEvidence
        {
            IncidentId = incident.Id, Environment = environment.Name, Path = folder, ManifestPath = Path.Combine(folder, ManifestFile),
            Started = started, Finished = finished, Sha256 = tree.Sha256,
            Collectors = collectors, Files = hashed, Moments = moments.OrderBy(m => m.Time).ToList(),
        };
        WriteManifest(evidence);
        return evidence;
    }

    /// <summary>Writes manifest.json (temp file and rename, owner-only).</summary>
    public static void WriteManifest(IncidentEvidence evidence)
    {
        var temp = evidence.ManifestPath + "." + Guid.NewGuid().ToString("N")[..8] + ".partial";
        using (var fs = DataFiles.Create(temp, FileMode.CreateNew))
        {
            JsonSerializer.Serialize(fs, evidence, IncidentStore.Json);
            fs.Flush(flushToDisk: true);
        }
        File.Move(temp, evidence.ManifestPath, overwrite: true);
    }

    /// <summary>Reads a collection's manifest.json (for reports and Get-Incident).</summary>
    public static IncidentEvidence ReadManifest(string manifestPath)
    {
        try
        {
            var e = JsonSerializer.Deserialize<IncidentEvidence>(File.ReadAllBytes(manifestPath), IncidentStore.Json) ?? throw new JsonException("empty document");
            e.ManifestPath = manifestPath;
            e.Path = Path.GetDirectoryName(manifestPath)!;
            return e;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new OpsToolsException("IncidentEvidenceInvalid", OpsErrorKind.InvalidData, $"The evidence manifest '{manifestPath}' cannot be read: {e.Message}", manifestPath, e);
        }
    }

    /// <summary>Every evidence collection of an incident that has a manifest, oldest first.</summary>
    public static List<IncidentEvidence> ReadAll(Incident incident, Action<OpsToolsException>? onError = null)
    {
        var root = Path.Combine(incident.Path, IncidentStore.EvidenceFolder);
        var list = new List<IncidentEvidence>();
        if (!Directory.Exists(root)) return list;
        foreach (var dir in Directory.EnumerateDirectories(root).OrderBy(d => d, StringComparer.Ordinal))
        {
            var m = Path.Combine(dir, ManifestFile);
            if (!File.Exists(m)) continue;
            try { list.Add(ReadManifest(m)); }
            catch (OpsToolsException e) { onError?.Invoke(e); }
        }
        return list;
    }

    private static string Stem(string collector) => collector switch
    {
        "AppHealth" => "app-health", "LogErrors" => "log-errors", _ => collector.ToLowerInvariant(),
    };

    private static string Utc(DateTime t) => t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z";

    private static string Header(EvidenceCollectorResult r) =>
        $"# {r.Collector}: {r.Outcome} ({Utc(r.Started)}, {(int)r.Duration.TotalMilliseconds} ms)\n# {r.Message}\n\n";

    private static void Write(string path, string text) => DataFiles.WriteAllText(path, text, new UTF8Encoding(false));

    private static string Redact(string text, IReadOnlyList<string> secrets) => Redaction.ScrubText(Redaction.RedactText(text, secrets));

    /// <summary>Secret values the environment names (passwords and tokens in the variables it points at), masked wherever they appear.</summary>
    private static IEnumerable<string> KnownSecrets(OpsEnvironment env)
    {
        IEnumerable<string?> Variables()
        {
            foreach (var d in env.Databases) { yield return d.PasswordVariable; yield return d.ConnectionStringVariable; }
            foreach (var h in env.AppHealth) yield return h.BearerTokenVariable;
            foreach (var m in env.Metrics) yield return m.BearerTokenVariable;
            yield return env.Prometheus?.BearerTokenVariable;
            yield return env.Alertmanager?.BearerTokenVariable;
        }
        foreach (var v in Variables())
            if (v is { Length: > 0 } && System.Environment.GetEnvironmentVariable(v) is { Length: > 0 } value) yield return value;
        if (System.Environment.GetEnvironmentVariable("PGPASSWORD") is { Length: > 0 } pg) yield return pg;
        foreach (var h in env.AppHealth) foreach (var v in h.Headers.Values) if (v.Length > 0) yield return v;
    }

    // ------------------------------------------------------------------ running one collector, bounded

    private static async Task<(EvidenceCollectorResult Result, CollectedData? Data)> RunBoundedAsync(string collector, OpsEnvironment env,
        EvidenceOptions options, Action<string>? verbose, CancellationToken ct)
    {
        var result = new EvidenceCollectorResult { Collector = collector, Started = DateTime.UtcNow };
        var sw = Stopwatch.StartNew();
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(options.CollectorTimeout);
        var data = new CollectedData();
        var work = Task.Run(() => CollectAsync(collector, env, options, data, bound.Token), bound.Token);
        // The hard bound: a collector that ignores its token (a call stuck in a library) is abandoned, not awaited.
        var grace = Task.Delay(options.CollectorTimeout + TimeSpan.FromSeconds(2), ct);
        var first = await Task.WhenAny(work, grace).ConfigureAwait(false);
        result.Duration = sw.Elapsed;
        if (first != work)
        {
            ct.ThrowIfCancellationRequested();
            _ = work.ContinueWith(t => _ = t.Exception, TaskScheduler.Default); // observed, never rethrown
            result.Outcome = EvidenceOutcome.TimedOut;
            result.Message = $"did not finish within {options.CollectorTimeout.TotalSeconds:0.###} s and was abandoned{TimeoutDetail(data)}.";
            verbose?.Invoke($"{collector}: {result.Message}");
            return (result, null);
        }
        try
        {
            await work.ConfigureAwait(false);
            result.Items = data.Items;
            if (data.SkipReason is not null)
            {
                result.Outcome = EvidenceOutcome.Skipped;
                result.Message = data.SkipReason;
                return (result, data);
            }
            result.Outcome = data.Problems.Count == 0 ? EvidenceOutcome.Collected : EvidenceOutcome.Partial;
            result.Message = (data.Summary ?? $"{data.Items} item(s)") + (data.Problems.Count == 0 ? "" : "; not read: " + string.Join("; ", data.Problems));
            return (result, data);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && bound.IsCancellationRequested)
        {
            result.Outcome = EvidenceOutcome.TimedOut;
            result.Message = $"did not finish within {options.CollectorTimeout.TotalSeconds:0.###} s{TimeoutDetail(data)}.";
            return (result, null);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            result.Outcome = EvidenceOutcome.Failed;
            result.Message = Redaction.ScrubText(e is OpsToolsException ? e.Message : $"{e.GetType().Name}: {e.Message}");
            verbose?.Invoke($"{collector}: failed: {result.Message}");
            return (result, null);
        }
    }

    private static string TimeoutDetail(CollectedData data)
    {
        string? summary;
        lock (data) summary = data.Summary;
        return summary is null ? "" : $" (it was at: {summary})";
    }

    private static Task CollectAsync(string collector, OpsEnvironment env, EvidenceOptions o, CollectedData d, CancellationToken ct) => collector switch
    {
        "AppHealth" => AppHealthAsync(env, d, ct),
        "Metrics" => MetricsAsync(env, d, ct),
        "Alerts" => AlertsAsync(env, d, ct),
        "Pods" => PodsAsync(env, o, d, ct),
        "Rollouts" => RolloutsAsync(env, o, d, ct),
        "Containers" => ContainersAsync(env, o, d, ct),
        "Database" => DatabaseAsync(env, d, ct),
        "LogErrors" => LogErrorsAsync(env, o, d, ct),
        _ => throw new OpsToolsException("IncidentCollectorUnknown", OpsErrorKind.InvalidArgument, $"unknown collector '{collector}'.", collector),
    };

    private static void At(CollectedData d, string where) { lock (d) d.Summary = where; }

    // ------------------------------------------------------------------ the collectors

    private static HealthProbeRequest Request(Uri uri, string? name, IReadOnlyDictionary<string, string> headers, string? tokenVariable,
        bool skipCert, double? timeoutSec, string env)
    {
        string? token = null;
        if (tokenVariable is { Length: > 0 })
        {
            token = System.Environment.GetEnvironmentVariable(tokenVariable);
            if (string.IsNullOrEmpty(token))
                throw new OpsToolsException("BearerTokenVariableNotSet", OpsErrorKind.InvalidArgument,
                    $"'{name}' ({Redaction.RedactUri(uri)}): the environment variable '{tokenVariable}' named by its BearerTokenVariable is not set or empty.", name);
        }
        return new HealthProbeRequest
        {
            Uri = uri, Name = name, Headers = headers, BearerToken = token, SkipCertificateCheck = skipCert,
            Timeout = TimeSpan.FromSeconds(timeoutSec is > 0 ? timeoutSec.Value : 10), Environment = env,
        };
    }

    private static async Task AppHealthAsync(OpsEnvironment env, CollectedData d, CancellationToken ct)
    {
        if (env.AppHealth.Count == 0) { d.SkipReason = "the environment names no AppHealth endpoints."; return; }
        var requests = new List<HealthProbeRequest>();
        foreach (var e in env.AppHealth)
        {
            try
            {
                var r = Request(e.Uri, e.Name, e.Headers, e.BearerTokenVariable, e.SkipCertificateCheck, e.TimeoutSec, env.Name);
                requests.Add(new HealthProbeRequest
                {
                    Uri = r.Uri, Name = r.Name, Headers = r.Headers, BearerToken = r.BearerToken, SkipCertificateCheck = r.SkipCertificateCheck,
                    Timeout = r.Timeout, Environment = env.Name, ExpectedStatus = e.ExpectedStatus, Problem = e.Problem,
                    LatencyWarningMs = env.Thresholds.LatencyWarningMs, LatencyCriticalMs = env.Thresholds.LatencyCriticalMs,
                });
                d.Secrets.AddRange(requests[^1].Secrets());
            }
            catch (OpsToolsException x) { d.Problems.Add(x.Message); }
        }
        At(d, $"probing {requests.Count} endpoint(s)");
        var results = new List<CheckResult>();
        await foreach (var r in new AppHealthProber().ProbeAllAsync(requests, 32, ct).ConfigureAwait(false)) results.Add(r);
        d.Data["results"] = results;
        d.Items = results.Count;
        RenderList(d.Text, results, "Status", "Check", "Target", "Message", "Value", "Threshold", "DurationMs", "Timestamp");
        d.Summary = Count(results, "endpoint result");
    }

    private static async Task MetricsAsync(OpsEnvironment env, CollectedData d, CancellationToken ct)
    {
        if (env.Metrics.Count == 0) { d.SkipReason = "the environment names no Metrics endpoints."; return; }
        var results = new List<MetricCheckResult>();
        foreach (var e in env.Metrics)
        {
            ct.ThrowIfCancellationRequested();
            At(d, $"reading {Redaction.RedactUri(e.Uri)}");
            try
            {
                var target = Request(e.Uri, e.Name, e.Headers, e.BearerTokenVariable, e.SkipCertificateCheck, e.TimeoutSec, env.Name);
                d.Secrets.AddRange(target.Secrets());
                var names = FigureNames.From(e);
                var snap = await MetricsScraper.SnapshotAsync(target, names.Wants, ct).ConfigureAwait(false);
                results.AddRange(MetricFigures.Compute(null, snap, names, env.Thresholds, e.Name, env.Name));
            }
            catch (OpsToolsException x) { d.Problems.Add($"{e.Name}: {x.Message}"); }
        }
        if (results.Count == 0 && d.Problems.Count > 0) throw new OpsToolsException("IncidentEvidenceFailed", OpsErrorKind.ConnectionError, string.Join("; ", d.Problems));
        d.Data["results"] = results;
        d.Items = results.Count;
        RenderList(d.Text, results, "Status", "Endpoint", "Figure", "Message", "Value", "Threshold", "Timestamp");
        d.Summary = Count(results, "figure");
    }

    private static async Task AlertsAsync(OpsEnvironment env, CollectedData d, CancellationToken ct)
    {
        IReadOnlyList<AlertResult> alerts;
        string from;
        if (env.Alertmanager is { } am)
        {
            var target = Request(am.Uri, am.Name, am.Headers, am.BearerTokenVariable, am.SkipCertificateCheck, am.TimeoutSec, env.Name);
            d.Secrets.AddRange(target.Secrets());
            from = target.DisplayUri;
            At(d, "asking " + from);
            alerts = await PrometheusApi.AlertmanagerAlertsAsync(target, ct).ConfigureAwait(false);
        }
        else if (env.Prometheus is { } prom)
        {
            var target = Request(prom.Uri, prom.Name, prom.Headers, prom.BearerTokenVariable, prom.SkipCertificateCheck, prom.TimeoutSec, env.Name);
            d.Secrets.AddRange(target.Secrets());
            from = target.DisplayUri;
            At(d, "asking " + from);
            alerts = await new PrometheusApi(target).AlertsAsync(ct).ConfigureAwait(false);
        }
        else { d.SkipReason = "the environment names neither an Alertmanager nor a Prometheus."; return; }
        foreach (var a in alerts) a.Environment = env.Name;
        d.Data["source"] = from;
        d.Data["alerts"] = alerts;
        d.Items = alerts.Count;
        RenderList(d.Text, alerts, "Status", "AlertName", "Severity", "State", "Since", "Summary", "Message", "Target");
        foreach (var a in alerts.Where(a => a.Since is not null))
            d.Moments.Add(new EvidenceMoment { Time = a.Since!.Value.ToUniversalTime(), Kind = "Alert", Text = $"Alert {a.AlertName} ({a.Severity ?? "no severity"}) {a.State}: {a.Summary ?? a.Message}" });
        d.Summary = $"{alerts.Count} alert(s) from {from}";
    }

    private static KubeTarget Kube(OpsEnvironment env, out string ns)
    {
        var target = KubeTargetResolver.Resolve(new KubeTargetSpec { Settings = env.Kubernetes, TimeoutSec = 30 });
        ns = env.Kubernetes?.Namespace is { Length: > 0 } n ? n : target.Namespace;
        return target.WithNamespace(ns);
    }

    private static async Task PodsAsync(OpsEnvironment env, EvidenceOptions o, CollectedData d, CancellationToken ct)
    {
        if (env.Kubernetes is null) { d.SkipReason = "the environment has no Kubernetes section."; return; }
        var target = Kube(env, out var ns);
        At(d, $"listing pods in {target.Describe()}");
        var pods = await KubePods.SelectAsync(target, ns, null, ct).ConfigureAwait(false);
        var health = await pods.HealthAsync(DateTime.UtcNow - o.Since, ct).ConfigureAwait(false);
        At(d, $"reading events in {target.Describe()}");
        var events = await KubeEvents.ListAsync(target, new KubeEvents.Query { Namespace = ns, Since = DateTime.UtcNow - o.Since }, ct).ConfigureAwait(false);
        d.Data["context"] = target.Context;
        d.Data["namespace"] = ns;
        d.Data["pods"] = health;
        d.Data["events"] = events;
        d.Items = health.Count;
        d.Text.Append("## Pods (").Append(target.Describe()).Append(")\n\n");
        RenderList(d.Text, health, "Status", "Name", "Phase", "Ready", "State", "Restarts", "Deployment", "Node", "Diagnosis");
        d.Text.Append("## Events (since ").Append(Utc(DateTime.UtcNow - o.Since)).Append(")\n\n");
        foreach (var e in events.OrderBy(e => e.Time))
            d.Text.Append(e.Time is { } t ? Utc(t) : "(no time)").Append("  ").Append(e.Type).Append(' ').Append(e.Reason).Append(' ').Append(e.Object)
                .Append(": ").Append(e.Message).Append(e.Count > 1 ? $" (x{e.Count})" : "").Append('\n');
        foreach (var e in events.Where(e => e.Type == "Warning" && e.Time is not null))
            d.Moments.Add(new EvidenceMoment { Time = e.Time!.Value.ToUniversalTime(), Kind = "Event", Text = $"{e.Reason} {e.Object}: {e.Message}" + (e.Count > 1 ? $" (x{e.Count})" : "") });

        // The last log lines of every problem pod (each pod's failure is noted, the others go on).
        var logs = new Dictionary<string, object?>(StringComparer.Ordinal);
        var problems = health.Where(h => h.Status != CheckStatus.Healthy).ToList();
        d.Text.Append("\n## Last ").Append(o.LogTail).Append(" log lines of the ").Append(problems.Count).Append(" problem pod(s)\n");
        foreach (var p in problems)
        {
            foreach (var container in pods.LogContainers(p.Name, null, false))
            {
                ct.ThrowIfCancellationRequested();
                At(d, $"reading the log of pod {p.Name} container {container}");
                var key = $"{p.Name}/{container}";
                d.Text.Append("\n### ").Append(key).Append('\n');
                try
                {
                    var lines = new List<PodLogLineText>();
                    await foreach (var l in KubePodLogs.ReadAsync(target, ns, p.Name, container, new PodLogOptions { Tail = o.LogTail }, ct).ConfigureAwait(false))
                        lines.Add(new PodLogLineText(l.Time, l.Line));
                    logs[key] = lines;
                    foreach (var l in lines) d.Text.Append(l.Time is { } t ? Utc(t) + " " : "").Append(l.Line).Append('\n');
                    if (lines.Count == 0) d.Text.Append("(no lines)\n");
                }
                catch (OpsToolsException e)
                {
                    logs[key] = new { error = e.Message };
                    d.Text.Append("(the log could not be read: ").Append(e.Message).Append(")\n");
                    d.Problems.Add($"log of {key}: {e.ErrorId}");
                }
            }
        }
        d.Data["problemPodLogs"] = logs;
        d.Summary = $"{health.Count} pod(s), {problems.Count} with a problem, {events.Count} event(s)";
    }

    private sealed record PodLogLineText(DateTime? Time, string Line);

    private static async Task RolloutsAsync(OpsEnvironment env, EvidenceOptions o, CollectedData d, CancellationToken ct)
    {
        if (env.Kubernetes is null) { d.SkipReason = "the environment has no Kubernetes section."; return; }
        var target = Kube(env, out var ns);
        IReadOnlyList<string> names = env.Kubernetes.Deployments;
        if (names.Count == 0)
        {
            At(d, $"listing deployments in {target.Describe()}");
            names = (await KubeWorkloads.ListAsync(target, ns, false, true, false, null, ct).ConfigureAwait(false)).Select(w => w.Name).ToList();
        }
        var history = new Dictionary<string, object?>(StringComparer.Ordinal);
        var since = DateTime.UtcNow - o.Since;
        foreach (var name in names)
        {
            ct.ThrowIfCancellationRequested();
            At(d, $"reading the rollout history of deployment {name}");
            try
            {
                var workload = await KubeRollout.ReadWorkloadAsync(target, ns, "Deployment", name, ct).ConfigureAwait(false);
                var revisions = (await KubeRolloutHistory.ReadAsync(target, workload, ct).ConfigureAwait(false)).Select(h => h.Revision).ToList();
                history[name] = revisions;
                d.Items += revisions.Count;
                d.Text.Append("## deployment/").Append(name).Append('\n');
                foreach (var r in revisions)
                {
                    d.Text.Append("  revision ").Append(r.Revision).Append(r.IsCurrent ? " (current)" : "").Append("  ")
                        .Append(r.Created is { } c ? Utc(c) : "?").Append("  ").Append(string.Join(",", r.Images))
                        .Append("  ").Append(r.ChangeCause ?? "<none>").Append('\n');
                    if (r.Created is { } created)
                        d.Moments.Add(new EvidenceMoment
                        {
                            Time = created.ToUniversalTime(), Kind = "Deployment",
                            Text = $"deployment/{name} revision {r.Revision} rolled out ({string.Join(",", r.Images)}){(r.ChangeCause is { Length: > 0 } cc ? ": " + cc : "")}{(r.IsCurrent ? " - current" : "")}",
                        });
                }
                d.Text.Append('\n');
            }
            catch (OpsToolsException e)
            {
                history[name] = new { error = e.Message };
                d.Problems.Add($"deployment {name}: {e.Message}");
            }
        }
        if (names.Count > 0 && d.Problems.Count == names.Count) throw new OpsToolsException("IncidentEvidenceFailed", OpsErrorKind.OperationFailed, string.Join("; ", d.Problems));
        d.Data["context"] = target.Context;
        d.Data["namespace"] = ns;
        d.Data["deployments"] = history;
        d.Summary = $"{names.Count} deployment(s), {d.Items} revision(s)";
    }

    private static async Task ContainersAsync(OpsEnvironment env, EvidenceOptions o, CollectedData d, CancellationToken ct)
    {
        if (env.Docker is null) { d.SkipReason = "the environment has no Docker section."; return; }
        var target = DockerTargetResolver.Resolve(new DockerTargetSpec { Settings = env.Docker, TimeoutSec = 30 });
        At(d, $"listing containers on {target.Describe()}");
        var list = await DockerContainers.ListAsync(target, new ContainerQuery { ComposeProject = env.Docker.ComposeProject, All = true }, ct).ConfigureAwait(false);
        d.Data["engine"] = target.Describe();
        d.Data["composeProject"] = env.Docker.ComposeProject;
        d.Data["containers"] = list;
        d.Items = list.Count;
        d.Text.Append("## Containers (").Append(target.Describe()).Append(env.Docker.ComposeProject is { } p ? $", Compose project {p}" : "").Append(")\n\n");
        RenderList(d.Text, list, "Name", "Image", "State", "Status", "Health", "LastHealthOutput", "RestartCount", "ExitCode", "OomKilled", "StartedAt", "FinishedAt");
        foreach (var c in list)
        {
            if (c.FinishedAt is { } f && c.State != "running" && f > DateTime.UtcNow - o.Since)
                d.Moments.Add(new EvidenceMoment { Time = f.ToUniversalTime(), Kind = "Container", Text = $"container {c.Name} stopped (exit code {c.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "?"}{(c.OomKilled ? ", OOM killed" : "")})" });
            if (c.StartedAt is { } s && s > DateTime.UtcNow - o.Since && c.State == "running")
                d.Moments.Add(new EvidenceMoment { Time = s.ToUniversalTime(), Kind = "Container", Text = $"container {c.Name} started (restarts: {c.RestartCount})" });
        }
        var logs = new Dictionary<string, object?>(StringComparer.Ordinal);
        d.Text.Append("\n## Last ").Append(o.LogTail).Append(" log lines of each container\n");
        foreach (var c in list)
        {
            ct.ThrowIfCancellationRequested();
            At(d, $"reading the log of container {c.Name}");
            d.Text.Append("\n### ").Append(c.Name).Append('\n');
            try
            {
                var lines = new List<ContainerLogText>();
                await foreach (var l in DockerLogs.ReadAsync(target, c, new ContainerLogOptions { Tail = o.LogTail }, ct).ConfigureAwait(false))
                    lines.Add(new ContainerLogText(l.Time, l.Stream, l.Line));
                logs[c.Name] = lines;
                foreach (var l in lines) d.Text.Append(l.Time is { } t ? Utc(t) + " " : "").Append(l.Stream == "stderr" ? "[stderr] " : "").Append(l.Line).Append('\n');
                if (lines.Count == 0) d.Text.Append("(no lines)\n");
            }
            catch (OpsToolsException e)
            {
                logs[c.Name] = new { error = e.Message };
                d.Text.Append("(the log could not be read: ").Append(e.Message).Append(")\n");
                d.Problems.Add($"log of {c.Name}: {e.ErrorId}");
            }
        }
        d.Data["logs"] = logs;
        d.Summary = $"{list.Count} container(s), {list.Count(c => c.State != "running")} not running, {list.Count(c => c.Health == "unhealthy")} unhealthy";
    }

    private sealed record ContainerLogText(DateTime? Time, string Stream, string Line);

    private static async Task DatabaseAsync(OpsEnvironment env, CollectedData d, CancellationToken ct)
    {
        if (env.Databases.Count == 0) { d.SkipReason = "the environment names no databases."; return; }
        var all = new Dictionary<string, object?>(StringComparer.Ordinal);
        var read = 0;
        foreach (var e in env.Databases)
        {
            ct.ThrowIfCancellationRequested();
            var entry = new Dictionary<string, object?>(StringComparer.Ordinal);
            all[e.Name] = entry;
            PgTarget target;
            try { target = PgTargetResolver.Resolve(new PgTargetSpec { Endpoint = e, TimeoutSec = 15 }); }
            catch (OpsToolsException x) { entry["error"] = x.Message; d.Problems.Add($"{e.Name}: {x.Message}"); continue; }
            entry["target"] = target.Address;
            d.Text.Append("## ").Append(e.Name).Append(" (").Append(target.Address).Append(")\n\n");
            try
            {
                At(d, $"reading pg_stat_activity on {target.Address}");
                await using (var session = await DbActivitySession.OpenAsync(target, ct).ConfigureAwait(false))
                {
                    var sessions = await session.ListAsync(false, ct).ConfigureAwait(false);
                    var summary = DbActivitySession.Summarize(sessions);
                    entry["connectionSummary"] = summary;
                    entry["connections"] = sessions;
                    d.Items += sessions.Count;
                    d.Text.Append("### Connections by state\n");
                    foreach (var s in summary) d.Text.Append("  ").Append(s.ToString()).Append('\n');
                    d.Text.Append("\n### Sessions\n");
                    RenderList(d.Text, sessions, "Pid", "User", "Database", "Application", "ClientAddress", "State", "Duration", "WaitEvent", "Query");
                }
                read++;
            }
            catch (OpsToolsException x) { entry["connectionsError"] = x.Message; d.Problems.Add($"{e.Name} connections: {x.Message}"); continue; }
            try
            {
                At(d, $"reading pg_stat_statements on {target.Address}");
                var slow = await PgInsight.GetSlowQueriesAsync(target,
                    new SlowQueryOptions { Top = 10, WarningMs = env.Thresholds.DbSlowQueryWarningMs }, env.Name, ct).ConfigureAwait(false);
                entry["slowQueries"] = slow;
                d.Text.Append("### Slow queries (pg_stat_statements, top 10 by mean time)\n");
                RenderList(d.Text, slow, "Status", "MeanTime", "Calls", "TotalTime", "Message", "Query");
            }
            catch (OpsToolsException x)
            {
                entry["slowQueriesError"] = x.Message;
                d.Text.Append("### Slow queries: not read: ").Append(x.Message).Append("\n\n");
                d.Problems.Add($"{e.Name} slow queries: {x.Message}");
            }
        }
        if (read == 0) throw new OpsToolsException("IncidentEvidenceFailed", OpsErrorKind.ConnectionError, string.Join("; ", d.Problems));
        d.Data["databases"] = all;
        d.Summary = $"{env.Databases.Count} database(s), {d.Items} session(s)";
    }

    private static async Task LogErrorsAsync(OpsEnvironment env, EvidenceOptions o, CollectedData d, CancellationToken ct)
    {
        var logs = env.Logs;
        if (logs is null || (logs.Paths.Count == 0 && logs.Containers.Count == 0 && logs.Deployments.Count == 0 && logs.JournalUnits.Count == 0))
        { d.SkipReason = "the environment's Logs section names no logs."; return; }
        var sources = new List<LogSource>();
        foreach (var p in logs.Paths) sources.Add(new FileLogSource(p, o.CurrentDirectory));
        if (logs.Containers.Count > 0)
        {
            try
            {
                var docker = DockerTargetResolver.Resolve(new DockerTargetSpec { Settings = env.Docker, TimeoutSec = 30 });
                foreach (var c in logs.Containers)
                {
                    try { sources.Add(new ContainerLogSource(docker, await DockerContainers.InspectAsync(docker, c, ct).ConfigureAwait(false))); }
                    catch (OpsToolsException x) { d.Problems.Add($"container {c}: {x.Message}"); }
                }
            }
            catch (OpsToolsException x) { d.Problems.Add($"containers: {x.Message}"); }
        }
        if (logs.Deployments.Count > 0)
        {
            try
            {
                var kube = Kube(env, out var ns);
                foreach (var dep in logs.Deployments) sources.Add(new PodLogSource(kube, ns, dep, null, null, false));
            }
            catch (OpsToolsException x) { d.Problems.Add($"deployments: {x.Message}"); }
        }
        if (logs.JournalUnits.Count > 0) sources.Add(new JournalLogSource { Units = logs.JournalUnits, Priority = logs.JournalPriority });
        var since = DateTime.UtcNow - o.Since;
        var caseSensitive = logs.Pattern is not null && logs.CaseSensitive;
        var summaries = new List<OpsTools.Logs.LogErrorSummary>();
        foreach (var source in sources)
        {
            ct.ThrowIfCancellationRequested();
            At(d, $"reading {source.Name}");
            var analyzer = new LogAnalyzer(source.Name, source.Kind, new LogAnalysisOptions
            {
                Matcher = LogMatcher.Create(logs.Pattern ?? "error|critical|fatal", caseSensitive),
                Classes = logs.Classes.Select(c => (c.Key, LogMatcher.Create(c.Value, caseSensitive))).ToList(),
                Since = since, Top = 10,
            });
            var sw = Stopwatch.StartNew();
            try
            {
                await LogReader.RunAsync(source, analyzer, since, null, ct).ConfigureAwait(false);
                var s = analyzer.Finish(sw.Elapsed, env.Thresholds.LogErrorWarningCount, env.Thresholds.LogErrorCriticalCount);
                s.Environment = env.Name;
                summaries.Add(s);
            }
            catch (OpsToolsException x) { d.Problems.Add($"{source.Name}: {x.Message}"); }
        }
        if (summaries.Count == 0 && d.Problems.Count > 0) throw new OpsToolsException("IncidentEvidenceFailed", OpsErrorKind.OperationFailed, string.Join("; ", d.Problems));
        d.Data["since"] = since;
        d.Data["summaries"] = summaries;
        d.Items = summaries.Count;
        foreach (var s in summaries)
        {
            d.Text.Append("## ").Append(s.Source).Append(": ").Append(s.Status).Append(" - ").Append(s.Message).Append('\n');
            d.Text.Append("   lines read ").Append(s.LinesRead).Append(", matching ").Append(s.Matched).Append(", first ").Append(s.FirstTime is { } f ? Utc(f) : "-")
                .Append(", last ").Append(s.LastTime is { } l ? Utc(l) : "-").Append('\n');
            foreach (var t in s.Templates) d.Text.Append("   ").Append(t.ToString()).Append('\n');
            d.Text.Append('\n');
        }
        d.Summary = $"{summaries.Count} source(s), {summaries.Sum(s => s.Matched)} matching line(s) since {Utc(since)}";
    }

    // ------------------------------------------------------------------ readable text

    private static string Count<T>(IReadOnlyCollection<T> results, string what) where T : CheckResult =>
        $"{results.Count} {what}(s): " + string.Join(", ", results.GroupBy(r => r.Status).OrderByDescending(g => g.Key).Select(g => $"{g.Count()} {g.Key}"));

    /// <summary>Each item as "Name : value" lines (the properties named, those that exist), a blank line between items.</summary>
    internal static void RenderList<T>(StringBuilder sb, IEnumerable<T> items, params string[] properties)
    {
        var any = false;
        foreach (var item in items)
        {
            if (item is null) continue;
            any = true;
            var type = item.GetType();
            var props = properties.Select(p => type.GetProperty(p, BindingFlags.Public | BindingFlags.Instance)).Where(p => p is not null).ToList();
            var width = props.Max(p => p!.Name.Length);
            foreach (var p in props)
            {
                object? value;
                try { value = p!.GetValue(item); } catch (TargetInvocationException) { continue; }
                sb.Append(p!.Name.PadRight(width)).Append(" : ").Append(Show(value).Replace("\n", "\n" + new string(' ', width + 3))).Append('\n');
            }
            sb.Append('\n');
        }
        if (!any) sb.Append("(none)\n\n");
    }

    private static string Show(object? value) => value switch
    {
        null => "",
        string s => s,
        DateTime t => Utc(t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : t),
        DateTimeOffset o => Utc(o.UtcDateTime),
        TimeSpan t => t.ToString(t.TotalDays >= 1 ? @"d\.hh\:mm\:ss" : @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture),
        double d => d.ToString("0.###", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable e when value.GetType().GetMethod("ToString", Type.EmptyTypes)?.DeclaringType == typeof(object) || value is Array
            => string.Join("; ", e.Cast<object?>().Select(Show)),
        _ => value.ToString() ?? "",
    };
}
