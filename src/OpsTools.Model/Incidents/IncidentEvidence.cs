namespace OpsTools.Incidents;

/// <summary>How one evidence collector ended.</summary>
public enum EvidenceOutcome
{
    /// <summary>Everything it reads was read.</summary>
    Collected = 0,
    /// <summary>Some of it was read; the message says what was not.</summary>
    Partial = 1,
    /// <summary>The environment names nothing for it (no Kubernetes section, no databases ...).</summary>
    Skipped = 2,
    /// <summary>It failed (a target down, a permission missing); the message says why.</summary>
    Failed = 3,
    /// <summary>It did not finish within -TimeoutSec and was abandoned; the other collectors went on.</summary>
    TimedOut = 4,
}

/// <summary>One evidence collector's run: what it read, how it ended and the files it wrote.</summary>
public sealed class EvidenceCollectorResult
{
    public string IncidentId { get; set; } = "";
    /// <summary>AppHealth, Metrics, Alerts, Pods, Rollouts, Containers, Database, LogErrors.</summary>
    public string Collector { get; set; } = "";
    public EvidenceOutcome Outcome { get; set; }
    /// <summary>How many items it read (endpoints, pods, containers, sessions ...).</summary>
    public int Items { get; set; }
    /// <summary>What it found, or why it failed.</summary>
    public string Message { get; set; } = "";
    public DateTime Started { get; set; }
    public TimeSpan Duration { get; set; }
    /// <summary>The files it wrote, relative to the collection folder.</summary>
    public IReadOnlyList<string> Files { get => _files; set => _files = TextList.From(value); }
    private IReadOnlyList<string> _files = new TextList<string>();

    public override string ToString() => $"{Collector}: {Outcome} {Message}";
}

/// <summary>One file of an evidence collection with its SHA-256 (as in the manifest and SHA256SUMS).</summary>
public sealed class EvidenceFile
{
    /// <summary>Path relative to the collection folder.</summary>
    public string Path { get; set; } = "";
    /// <summary>Lowercase hex, what sha256sum prints.</summary>
    public string Sha256 { get; set; } = "";
    public long SizeBytes { get; set; }

    public override string ToString() => $"{Sha256}  {Path}";
}

/// <summary>A moment of an evidence collection worth a line in the incident's timeline (an alert firing, a rollout, a warning event ...).</summary>
public sealed class EvidenceMoment
{
    public DateTime Time { get; set; }
    /// <summary>Alert, Deployment, Event, Container, Evidence.</summary>
    public string Kind { get; set; } = "";
    public string Text { get; set; } = "";

    public override string ToString() => $"{Time:yyyy-MM-dd HH:mm:ss}Z {Kind}: {Text}";
}

/// <summary>An evidence collection saved into an incident's folder by Save-IncidentEvidence.</summary>
public sealed class IncidentEvidence
{
    public string IncidentId { get; set; } = "";
    public string? Environment { get; set; }
    /// <summary>The collection's folder (evidence/&lt;UTC time&gt; inside the incident's folder).</summary>
    public string Path { get; set; } = "";
    /// <summary>manifest.json in the folder: collectors, files with SHA-256, timeline moments.</summary>
    public string ManifestPath { get; set; } = "";
    public DateTime Started { get; set; }
    public DateTime Finished { get; set; }
    /// <summary>The folder's checksum over its evidence files, defined as for directory backups (sha256sum lines of every file, hashed).</summary>
    public string Sha256 { get; set; } = "";
    /// <summary>Each collector's run.</summary>
    public IReadOnlyList<EvidenceCollectorResult> Collectors { get => _collectors; set => _collectors = TextList.From(value); }
    private IReadOnlyList<EvidenceCollectorResult> _collectors = new TextList<EvidenceCollectorResult>();
    /// <summary>Every file with its SHA-256.</summary>
    public IReadOnlyList<EvidenceFile> Files { get => _files; set => _files = TextList.From(value); }
    private IReadOnlyList<EvidenceFile> _files = new TextList<EvidenceFile>();
    /// <summary>Moments found in the evidence, for the report's timeline.</summary>
    public IReadOnlyList<EvidenceMoment> Moments { get => _moments; set => _moments = TextList.From(value); }
    private IReadOnlyList<EvidenceMoment> _moments = new TextList<EvidenceMoment>();
    /// <summary>The tar.gz of the folder (with -Bundle), else null.</summary>
    public string? BundlePath { get; set; }
    /// <summary>The bundle's SHA-256 (its .manifest.json has it too).</summary>
    public string? BundleSha256 { get; set; }
    /// <summary>Collectors that ended Collected or Partial.</summary>
    public int Collected => _collectors.Count(c => c.Outcome is EvidenceOutcome.Collected or EvidenceOutcome.Partial);
    /// <summary>Collectors that ended Failed or TimedOut.</summary>
    public int Failed => _collectors.Count(c => c.Outcome is EvidenceOutcome.Failed or EvidenceOutcome.TimedOut);
    /// <summary>The failed collectors and why, in one line.</summary>
    public string Failures => string.Join("; ", _collectors.Where(c => c.Outcome is EvidenceOutcome.Failed or EvidenceOutcome.TimedOut).Select(c => $"{c.Collector}: {c.Message}"));

    public override string ToString() => $"{IncidentId} evidence {Started:yyyy-MM-dd HH:mm:ss}Z: {Collected} collected, {Failed} failed";
}
