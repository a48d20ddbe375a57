using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Database;
using OpsTools.Commands.Docker;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Docker;
using OpsTools.Engine.Kubernetes;
using OpsTools.Engine.Logs;
using OpsTools.Logs;

namespace OpsTools.Commands.Logs;

/// <summary>
/// Base of Measure-LogError and Search-Log: one way to name log sources, any mix of them: files and globs (-Path,
/// rotated .gz too), containers (-Container, -ComposeProject: docker logs), Kubernetes pods (-Deployment, -Pod, with
/// -Previous: the whole log, never a tail), the systemd journal (-Unit, -Priority, -JournalFile, -Journal), or the
/// environment file's Logs section when no source is named. The pattern, -Since/-Until (cut on the lines' own
/// timestamps) and the format are shared.
/// </summary>
public abstract class LogSourceCmdlet : OpsCmdlet
{
    public const string DefaultPattern = "error|critical|fatal";

    /// <summary>Log files, folders or globs (/app/logs/api-*.log*); gzip-compressed files are read decompressed. Takes FileInfo objects (Get-ChildItem) from the pipeline.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "LiteralPath")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Path { get; set; }

    /// <summary>Container names (docker logs, stdout and stderr).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[]? Container { get; set; }

    /// <summary>Every container of this Compose project (docker-compose logs).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ComposeProject { get; set; }

    /// <summary>The Docker engine (default: DOCKER_HOST, the current context, the platform's socket, or the environment's Docker section).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DockerHost { get; set; }

    /// <summary>A Docker context instead of -DockerHost.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DockerContext { get; set; }

    /// <summary>Every pod of these deployments (every container, the whole log: no --tail=10 as kubectl logs -l has).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(OpsTools.Commands.Kubernetes.KubeWorkloadNameCompleter))]
    public string[]? Deployment { get; set; }

    /// <summary>Pods by name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(OpsTools.Commands.Kubernetes.KubePodNameCompleter))]
    public string[]? Pod { get; set; }

    /// <summary>With -Deployment/-Pod: only this container of each pod.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PodContainer { get; set; }

    /// <summary>With -Deployment/-Pod: the previous (terminated) container instances (kubectl logs --previous).</summary>
    [Parameter]
    public SwitchParameter Previous { get; set; }

    /// <summary>The namespace of -Deployment/-Pod (default: the environment's, else the context's).</summary>
    [Parameter]
    [Alias("ns")]
    [ValidateNotNullOrEmpty]
    public string? Namespace { get; set; }

    /// <summary>Kubeconfig file(s) for -Deployment/-Pod.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context for -Deployment/-Pod.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Context { get; set; }

    /// <summary>Read the systemd journal (journalctl -o json); with -Unit/-Priority/-JournalFile implied.</summary>
    [Parameter]
    public SwitchParameter Journal { get; set; }

    /// <summary>systemd units (journalctl -u).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Unit { get; set; }

    /// <summary>journalctl -p: emerg, alert, crit, err, warning, notice, info, debug, 0-7, or a range such as err..emerg.</summary>
    [Parameter]
    [ValidatePattern(@"^(emerg|alert|crit|err|warning|notice|info|debug|[0-7])(\.\.(emerg|alert|crit|err|warning|notice|info|debug|[0-7]))?$")]
    public string? Priority { get; set; }

    /// <summary>Journal files to read (journalctl --file) instead of the system journal.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? JournalFile { get; set; }

    /// <summary>The regular expression that makes a line an error, tested against the whole line as grep does. Default: the environment's Logs.Pattern, else 'error|critical|fatal'. Case-insensitive unless -CaseSensitive.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Pattern { get; set; }

    /// <summary>Match -Pattern (and the classes) case-sensitively, as grep without -i.</summary>
    [Parameter]
    public SwitchParameter CaseSensitive { get; set; }

    /// <summary>Only lines whose own time is at or after then: a DateTime, or a span ago (TimeSpan, 10m, 2h, 1d).</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTime? Since { get; set; }

    /// <summary>Only lines whose own time is before then: a DateTime, or a span ago.</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTime? Until { get; set; }

    /// <summary>The format of every source instead of detecting it from each input's first lines.</summary>
    [Parameter]
    public LogFormat? Format { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its Logs section names the sources when no source parameter does; its Docker and Kubernetes sections say where containers and deployments are.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Seconds one Docker or Kubernetes request may take. Default 30.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public double RequestTimeoutSec { get; set; } = 30;

    protected DateTime? SinceUtc { get; private set; }
    protected DateTime? UntilUtc { get; private set; }
    protected LogMatcher Matcher { get; private set; } = null!;

    protected override Task BeginProcessingAsync(CancellationToken ct)
    {
        SinceUtc = Since;
        UntilUtc = Until;
        if (SinceUtc is { } s && UntilUtc is { } u && u <= s)
            Fail(new OpsToolsException("LogInvalidArgument", OpsErrorKind.InvalidArgument, $"-Until ({u:u}) must be later than -Since ({s:u}).", null),
                "LogInvalidArgument", ErrorCategory.InvalidArgument, null);
        Matcher = Build(Pattern ?? Environment?.Logs?.Pattern ?? DefaultPattern, CaseSensitive || (Pattern is null && Environment?.Logs?.CaseSensitive == true));
        return Task.CompletedTask;
    }

    protected LogMatcher Build(string pattern, bool caseSensitive)
    {
        try { return LogMatcher.Create(pattern, caseSensitive); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, pattern); throw; }
    }

    /// <summary>True when this invocation names any source itself (otherwise the environment's Logs section does).</summary>
    private bool NamesSources => Path is not null || Container is not null || ComposeProject is not null || Deployment is not null || Pod is not null
                                 || Journal || Unit is not null || JournalFile is not null || Priority is not null;

    /// <summary>The sources of this invocation (or of this pipeline record). Sources that cannot be resolved are written as errors.</summary>
    protected async Task<List<LogSource>> SourcesAsync(CancellationToken ct)
    {
        var sources = new List<LogSource>();
        var cwd = SessionState.Path.CurrentFileSystemLocation.ProviderPath;
        var logs = Environment?.Logs;
        var fromEnv = !NamesSources;
        if (fromEnv && logs is null)
        {
            Fail(new OpsToolsException("LogNoSource", OpsErrorKind.InvalidArgument,
                "Name the logs to read: -Path (files, globs), -Container/-ComposeProject, -Deployment/-Pod, -Unit/-Journal/-JournalFile, or -Environment with a Logs section.", null),
                "LogNoSource", ErrorCategory.InvalidArgument, null);
        }
        foreach (var p in fromEnv ? logs!.Paths : Path ?? Array.Empty<string>())
            sources.Add(new FileLogSource(p, cwd));

        var containers = fromEnv ? logs!.Containers : Container ?? (IReadOnlyList<string>)Array.Empty<string>();
        var project = fromEnv ? null : ComposeProject;
        if (containers.Count > 0 || project is not null)
        {
            DockerTarget target;
            try
            {
                target = DockerCmdlet.Resolve(DockerHost, DockerContext, Environment, RequestTimeoutSec, e => throw e, Verbose);
            }
            catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, DockerHost)); target = null!; }
            if (target is not null)
            {
                try
                {
                    if (project is not null)
                    {
                        var list = await DockerContainers.ListAsync(target, new ContainerQuery { ComposeProject = project, All = true }, ct);
                        if (list.Count == 0) Warning($"No container of Compose project '{project}' on {target.Describe()}.");
                        sources.AddRange(list.Select(c => new ContainerLogSource(target, c)));
                    }
                    foreach (var name in containers)
                    {
                        try { sources.Add(new ContainerLogSource(target, await DockerContainers.InspectAsync(target, name, ct))); }
                        catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ObjectNotFound, name)); }
                    }
                }
                catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, target.Endpoint.ToString())); }
            }
        }

        var deployments = fromEnv ? logs!.Deployments : Deployment ?? (IReadOnlyList<string>)Array.Empty<string>();
        var pods = fromEnv ? Array.Empty<string>() : Pod ?? Array.Empty<string>();
        if (deployments.Count > 0 || pods.Length > 0)
        {
            try
            {
                var target = KubeTargetResolver.Resolve(new KubeTargetSpec
                {
                    Kubeconfig = Kubeconfig, Context = Context, Settings = Environment?.Kubernetes, TimeoutSec = RequestTimeoutSec,
                });
                var ns = Namespace ?? Environment?.Kubernetes?.Namespace ?? target.Namespace;
                target = target.WithNamespace(ns);
                foreach (var d in deployments) sources.Add(new PodLogSource(target, ns, d, null, PodContainer, Previous));
                foreach (var p in pods) sources.Add(new PodLogSource(target, ns, null, p, PodContainer, Previous));
            }
            catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.InvalidArgument, e.Target)); }
        }

        var units = fromEnv ? logs!.JournalUnits : Unit ?? (IReadOnlyList<string>)Array.Empty<string>();
        if (units.Count > 0 || (!fromEnv && (Journal || JournalFile is not null || Priority is not null)))
        {
            sources.Add(new JournalLogSource
            {
                Units = units, Priority = fromEnv ? logs!.JournalPriority : Priority,
                Files = (JournalFile ?? Array.Empty<string>()).Select(f => System.IO.Path.GetFullPath(System.IO.Path.Combine(cwd, f))).ToList(),
            });
        }
        return sources;
    }

}
