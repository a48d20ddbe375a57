using System.Collections;
using System.Globalization;
using System.Management.Automation;
using OpsTools.Docker;
using OpsTools.Engine.Docker;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Docker;

/// <summary>
/// <para type="synopsis">Checks containers for reports: unhealthy (with the last health-check output), restarting, exited with a non-zero code, OOM killed, restart count growing.</para>
/// <para type="description">Each container becomes a ContainerHealthResult (an OpsTools.CheckResult, so it joins Invoke-DailyCheck and Export-OpsReport): Critical for OOM killed, restarting (a restart loop), dead, exited with a non-zero code, unhealthy; Warning for stopped with exit 0, created, paused, health check still starting, and restarts (see below); Healthy for running and healthy, or running without a health check. Stopped containers are included (docker ps -a). The engine keeps only a restart count per container, not when each restart happened: one snapshot cannot tell whether the restarts are recent. -Baseline (objects from an earlier Get-Container or Get-ContainerHealth) or -PreviousRestartCount reports growth since then exactly; -Since reports a container that restarted after that time (at least once: it started after -Since and has restarted before); without either, a total of -RestartWarning restarts or more since the container was created is a Warning.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ContainerHealth", HelpUri = HelpLinks.Base + "Get-ContainerHealth.md")]
[OutputType(typeof(ContainerHealthResult))]
public sealed class GetContainerHealthCommand : DockerCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Container names or ids (wildcards allowed), or Get-Container objects from the pipeline. Default: all.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only containers of this Compose project. Default: the environment file's Docker.ComposeProject.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ComposeProject { get; set; }

    /// <summary>Only containers of this Compose service.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ComposeService { get; set; }

    /// <summary>Only the containers that are not Healthy.</summary>
    [Parameter]
    public SwitchParameter Problem { get; set; }

    /// <summary>An earlier snapshot (Get-Container or Get-ContainerHealth objects): restarts since then are a Warning.</summary>
    [Parameter]
    public PSObject[]? Baseline { get; set; }

    /// <summary>Earlier restart counts by container name or id (@{ 'shop_api_1' = 2 }): restarts since then are a Warning.</summary>
    [Parameter]
    public Hashtable? PreviousRestartCount { get; set; }

    /// <summary>Report containers that restarted after this time (a DateTime, or a span back from now such as '10m', '2h', '1d').</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTime? Since { get; set; }

    /// <summary>Without -Baseline, -PreviousRestartCount and -Since: a restart count since creation at or above this is a Warning. Default 5; 0 turns it off.</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int RestartWarning { get; set; } = 5;

    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        // Piped objects: collect the names per engine and check them as they come.
        var target = ResolveTarget();
        var since = Since;
        IReadOnlyList<ContainerInfo> list;
        try
        {
            list = await DockerContainers.ListAsync(target, new ContainerQuery
            {
                Names = Name, ComposeProject = Name is { Length: > 0 } ? ComposeProject : ComposeProjectOr(ComposeProject),
                ComposeService = ComposeService, All = true,
            }, ct).ConfigureAwait(false);
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.ConnectionError, target.Endpoint.ToString()); return; }
        var options = new ContainerHealthOptions { Baseline = BaselineCounts(), Since = since, RestartWarning = RestartWarning };
        foreach (var c in list)
        {
            if (!_seen.Add(c.Id)) continue;
            var r = ContainerDiagnosis.Diagnose(c, options);
            r.Environment = Environment?.Name;
            if (!Problem || r.Status != CheckStatus.Healthy) Output(r);
        }
        foreach (var n in (Name ?? Array.Empty<string>()).Where(n => !WildcardPattern.ContainsWildcardCharacters(n)
            && !list.Any(c => c.Name.Equals(n, StringComparison.OrdinalIgnoreCase) || c.Id.StartsWith(n, StringComparison.OrdinalIgnoreCase))))
            ObjectError(new OpsToolsException("DockerObjectNotFound", OpsErrorKind.NotFound,
                $"container '{n}' not found on {target.Describe()}.", n), "DockerObjectNotFound", n);
    }

    private Dictionary<string, long>? BaselineCounts()
    {
        if (Baseline is null && PreviousRestartCount is null) return null;
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var o in Baseline ?? Array.Empty<PSObject>())
        {
            if (o is null) continue;
            var count = o.Properties["RestartCount"]?.Value;
            if (count is null) continue;
            var value = Convert.ToInt64(count is PSObject p ? p.BaseObject : count, CultureInfo.InvariantCulture);
            if (o.Properties["Id"]?.Value?.ToString() is { Length: > 0 } id) counts[id] = value;
            if (o.Properties["Name"]?.Value?.ToString() is { Length: > 0 } name) counts[name] = value;
        }
        foreach (DictionaryEntry e in PreviousRestartCount ?? new Hashtable())
            counts[e.Key.ToString()!] = Convert.ToInt64(e.Value is PSObject p ? p.BaseObject : e.Value, CultureInfo.InvariantCulture);
        return counts;
    }
}
