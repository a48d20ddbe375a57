using System.IO.Compression;
using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Database;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Backup;
using OpsTools.Engine.Incidents;
using OpsTools.Incidents;

namespace OpsTools.Commands.Incidents;

/// <summary>
/// <para type="synopsis">Saves the evidence of an incident: app health, metrics and alerts, pods with events and problem pods' logs, rollout history, containers and their logs, database connections and slow queries, the error-log summary; redacted, hashed, each collector bounded in time.</para>
/// <para type="description">What on-call runs by hand in the first minutes, for the incident's environment, into the incident folder as JSON and readable text, with manifest.json and SHA256SUMS (SHA-256 per file) written last. Each collector has -TimeoutSec: one that does not finish (a target that never answers) is recorded as TimedOut, one that fails as Failed with the reason, and the others are kept. -Bundle adds a verified tar.gz of the collection.</para>
/// </summary>
[Cmdlet(VerbsData.Save, "IncidentEvidence", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, HelpUri = HelpLinks.Base + "Save-IncidentEvidence.md")]
[OutputType(typeof(IncidentEvidence))]
public sealed class SaveIncidentEvidenceCommand : IncidentItemCmdlet
{
    /// <summary>Bound from piped incidents: the environment file the incident was opened with. Not meant to be typed.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? EnvironmentPath { get; set; }

    /// <summary>Seconds each collector may take. Default: the environment's Incidents.EvidenceTimeoutSec, else 30.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public double TimeoutSec { get; set; } = 30;

    /// <summary>Only these collectors. Default: all.</summary>
    [Parameter]
    [ValidateSet("AppHealth", "Metrics", "Alerts", "Pods", "Rollouts", "Containers", "Database", "LogErrors", IgnoreCase = true)]
    public string[]? Collector { get; set; }

    /// <summary>How far back the error-log summary reads, and the window of events and rollouts put on the timeline. Default 1 hour.</summary>
    [Parameter]
    [DurationTransformation]
    public TimeSpan Since { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Log lines kept per problem pod container and per container. Default: the environment's Incidents.LogTail, else 50.</summary>
    [Parameter]
    [ValidateRange(0, 100000)]
    public int LogTail { get; set; } = 50;

    /// <summary>Also write a tar.gz of the collection (verified, with its own manifest) under bundles/ in the incident folder.</summary>
    [Parameter]
    public SwitchParameter Bundle { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var store = await StoreAsync();
        if (ReadIncident(store) is not { } incident) return;

        var env = Environment;
        if (env is null && (EnvironmentPath ?? incident.EnvironmentPath) is { Length: > 0 } file)
        {
            try { env = EnvironmentFile.Load(file); }
            catch (Exception e) when (e is OpsToolsException or IOException or UnauthorizedAccessException)
            {
                IncidentError(new OpsToolsException("IncidentEnvironmentUnreadable", OpsErrorKind.InvalidArgument,
                    $"{incident.Id} was opened with the environment file '{file}', which cannot be read now: {e.Message} Pass -Environment.", file, e), Id);
                return;
            }
        }
        if (env is null)
        {
            IncidentError(new OpsToolsException("IncidentEnvironmentMissing", OpsErrorKind.InvalidArgument,
                $"{incident.Id} names no environment file: pass -Environment with the targets to collect from.", Id), Id);
            return;
        }
        var bound = MyInvocation.BoundParameters;
        var options = new EvidenceOptions
        {
            CollectorTimeout = TimeSpan.FromSeconds(bound.ContainsKey(nameof(TimeoutSec)) ? TimeoutSec : env.Incidents?.EvidenceTimeoutSec ?? TimeoutSec),
            LogTail = bound.ContainsKey(nameof(LogTail)) ? LogTail : env.Incidents?.LogTail ?? LogTail,
            Since = Since,
            Only = Collector,
            CurrentDirectory = await InvokeOnPipelineAsync(() => SessionState.Path.CurrentFileSystemLocation.ProviderPath),
        };
        if (!await ShouldProcessAsync(incident.Id, $"Collect evidence of environment '{env.Name}' into '{System.IO.Path.Combine(incident.Path, IncidentStore.EvidenceFolder)}'{(Bundle ? " and bundle it as tar.gz" : "")}")) return;

        var activity = $"Collecting evidence for {incident.Id} ({env.Name})";
        Progress(new ProgressRecord(17, activity, "Starting") { PercentComplete = 0 });
        IncidentEvidence evidence;
        try
        {
            evidence = await EvidenceCollector.CollectAsync(incident, env, options,
                (status, done, total) => Progress(new ProgressRecord(17, activity, status)
                {
                    PercentComplete = total == 0 ? 100 : done * 100 / total,
                    CurrentOperation = $"{done} of {total} collectors done; at most {options.CollectorTimeout.TotalSeconds:0} s each",
                }), Verbose, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            IncidentError(new OpsToolsException("IncidentWriteFailed", OpsErrorKind.OperationFailed, $"The evidence could not be written into '{incident.Path}': {e.Message}", incident.Path, e), Id);
            return;
        }
        foreach (var c in evidence.Collectors.Where(c => c.Outcome is EvidenceOutcome.Failed or EvidenceOutcome.TimedOut))
            Warning($"{incident.Id}: the {c.Collector} evidence {(c.Outcome == EvidenceOutcome.TimedOut ? "timed out" : "failed")}: {c.Message}");

        if (Bundle)
        {
            Progress(new ProgressRecord(17, activity, "Writing the tar.gz bundle") { PercentComplete = 100 });
            try
            {
                var bundles = new BackupStore(System.IO.Path.Combine(incident.Path, IncidentStore.BundleFolder));
                var result = await Task.Run(() => DirectoryBackup.Backup(evidence.Path, bundles, incident.Id, CompressionLevel.Optimal, null, ct), ct);
                evidence.BundlePath = result.Info.Path;
                evidence.BundleSha256 = result.Info.Sha256;
                Verbose($"Bundle: {result.Info.Path} (SHA-256 {result.Info.Sha256}).");
            }
            catch (OpsToolsException e) { IncidentError(e, Id); }
        }
        try { store.AddEvidence(incident.Id, System.IO.Path.GetFileName(evidence.Path)); }
        catch (OpsToolsException e) { IncidentError(e, Id); }
        Progress(new ProgressRecord(17, activity, "Done") { RecordType = ProgressRecordType.Completed });
        Output(evidence);
    }
}
