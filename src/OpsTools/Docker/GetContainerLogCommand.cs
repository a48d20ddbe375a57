using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;
using OpsTools.Commands.Database;
using OpsTools.Commands.Infrastructure;
using OpsTools.Docker;
using OpsTools.Engine.Docker;

namespace OpsTools.Commands.Docker;

/// <summary>
/// <para type="synopsis">Gets container logs streamed line by line, stdout and stderr apart, with tail, since, until, timestamps and a pattern filter (docker logs).</para>
/// <para type="description">The runbooks' 'docker logs shrimp-api --tail 50' and 'docker logs shrimp-postgres 2>&amp;1 | grep ERROR': the log is read from the engine as a stream and each line is written as soon as it is read, so a log of any size never sits in memory as a whole. Lines are objects (Container, Stream = stdout or stderr, Time, Line) or, with -Raw, strings. Containers come by -Name or from Get-Container in the pipeline; when several containers are read (pipeline input, several names, a wildcard), -Raw lines start with "[container] ".</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "ContainerLog", HelpUri = HelpLinks.Base + "Get-ContainerLog.md")]
[OutputType(typeof(ContainerLogLine), typeof(string))]
public sealed class GetContainerLogCommand : DockerCmdlet
{
    /// <summary>Container names or ids (wildcards allowed); containers from Get-Container in the pipeline.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only the last N lines of each container's log (docker logs --tail).</summary>
    [Parameter]
    [ValidateRange(0, int.MaxValue)]
    public int? Tail { get; set; }

    /// <summary>Only lines written since then: a TimeSpan or 10m, 2h, 1d (that long ago), or a DateTime (docker logs --since).</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTime? Since { get; set; }

    /// <summary>Only lines written before then: a TimeSpan or 10m, 2h, 1d (that long ago), or a DateTime (docker logs --until).</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTime? Until { get; set; }

    /// <summary>With -Raw: put the engine's timestamp in front of each line (objects always carry it in Time).</summary>
    [Parameter]
    [Alias("t")]
    public SwitchParameter Timestamps { get; set; }

    /// <summary>Which stream: stdout, stderr, or all (default).</summary>
    [Parameter]
    [ValidateSet("stdout", "stderr", "all")]
    public string Stream { get; set; } = "all";

    /// <summary>Only lines matching this regular expression ("error|fatal"); case-insensitive unless -CaseSensitive.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Pattern { get; set; }

    /// <summary>Match -Pattern case-sensitively.</summary>
    [Parameter]
    public SwitchParameter CaseSensitive { get; set; }

    /// <summary>Plain strings instead of objects (with a "[container] " prefix when several containers are read).</summary>
    [Parameter]
    public SwitchParameter Raw { get; set; }

    private Regex? _pattern;
    private DateTime? _since, _until;

    protected override Task BeginProcessingAsync(CancellationToken ct)
    {
        _since = Since;
        _until = Until;
        if (_since is { } s && _until is { } u && u <= s)
            Fail(new OpsToolsException("DockerInvalidArgument", OpsErrorKind.InvalidArgument,
                $"-Until ({u:u}) must be later than -Since ({s:u}).", null), "DockerInvalidArgument", ErrorCategory.InvalidArgument, null);
        try { _pattern = LogPattern.Build(Pattern, CaseSensitive); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, Pattern); }
        return Task.CompletedTask;
    }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var containers = new List<ContainerInfo>();
        foreach (var name in Name!)
        {
            try
            {
                if (WildcardPattern.ContainsWildcardCharacters(name))
                {
                    var found = await DockerContainers.ListAsync(target, new ContainerQuery { Names = new[] { name }, All = true }, ct);
                    if (found.Count == 0) Warning($"No container matches '{name}' on {target.Describe()}.");
                    containers.AddRange(found);
                }
                else containers.Add(await DockerContainers.InspectAsync(target, name, ct));
            }
            catch (OpsToolsException e) when (e.ErrorId == "DockerObjectNotFound")
            {
                ObjectError(new OpsToolsException("DockerObjectNotFound", OpsErrorKind.NotFound,
                    $"container '{name}' not found on {target.Describe()}.", name, e), "DockerObjectNotFound", name);
            }
            catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.ConnectionError, target.Endpoint.ToString()); return; }
        }
        // Several containers (or containers from the pipeline, which may be several): label raw lines with their container.
        var prefix = containers.Count > 1 || Name!.Length > 1 || MyInvocation.ExpectingInput;
        var options = new ContainerLogOptions { Tail = Tail, Since = _since, Until = _until, Stream = Stream, Pattern = _pattern };
        foreach (var c in containers)
        {
            try { await StreamAsync(target, c, options, prefix, ct); }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, c.Name); }
        }
    }

    private Task StreamAsync(DockerTarget target, ContainerInfo container, ContainerLogOptions options, bool prefix, CancellationToken ct)
    {
        var label = $"[{container.Name}] ";
        // Each line is written as it is read; OutputStreamAsync waits for the pipeline every 256 lines, so that a fast
        // stream and a slow consumer never pile up lines here.
        return OutputStreamAsync(DockerLogs.ReadAsync(target, container, options, ct),
            line => Raw ? (prefix ? label : "") + DockerLogs.Raw(line, Timestamps) : line, ct);
    }

}
