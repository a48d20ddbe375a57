using System.Management.Automation;
using OpsTools.Docker;
using OpsTools.Engine.Docker;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Docker;

/// <summary>
/// <para type="synopsis">Gets containers as objects: name, Compose project/service, image, state, health with the last health-check output, restart count, uptime, ports (docker ps, docker inspect).</para>
/// <para type="description">What 'docker ps' and 'docker compose ps' show, with what 'docker inspect' adds (health-check output, restart count, exit code, OOM kill), as objects that pipe into Restart-Container, Get-ContainerLog and the other Docker commands. Running containers by default; -All for stopped ones too (any -State but running implies it).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Container", HelpUri = HelpLinks.Base + "Get-Container.md")]
[OutputType(typeof(ContainerInfo))]
public sealed class GetContainerCommand : DockerCmdlet
{
    /// <summary>Container names or ids (wildcards allowed). Default: all.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(ContainerNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Only containers of this Compose project (com.docker.compose.project). Default: the environment file's Docker.ComposeProject.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ComposeProject { get; set; }

    /// <summary>Only containers of this Compose service (com.docker.compose.service).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ComposeService { get; set; }

    /// <summary>Only containers in this state.</summary>
    [Parameter]
    [ValidateSet("running", "exited", "restarting", "paused", "created", "dead")]
    public string? State { get; set; }

    /// <summary>Only containers with this health.</summary>
    [Parameter]
    [ValidateSet("healthy", "unhealthy", "starting", "none")]
    public string? Health { get; set; }

    /// <summary>Stopped containers too (docker ps -a).</summary>
    [Parameter]
    [Alias("a")]
    public SwitchParameter All { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        IReadOnlyList<ContainerInfo> list;
        try
        {
            list = await DockerContainers.ListAsync(target, new ContainerQuery
            {
                Names = Name, ComposeProject = ComposeProjectOr(ComposeProject), ComposeService = ComposeService,
                State = State, Health = Health, All = All || Name is { Length: > 0 },
            }, ct);
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.ConnectionError, target.Endpoint.ToString()); return; }
        foreach (var c in list) Output(c);
        foreach (var n in (Name ?? Array.Empty<string>()).Where(n => !WildcardPattern.ContainsWildcardCharacters(n)
            && !list.Any(c => c.Name.Equals(n, StringComparison.OrdinalIgnoreCase) || c.Id.StartsWith(n, StringComparison.OrdinalIgnoreCase))))
            ObjectError(new OpsToolsException("DockerObjectNotFound", OpsErrorKind.NotFound,
                $"container '{n}' not found on {target.Describe()}{(ComposeProjectOr(ComposeProject) is { } p ? $" in Compose project '{p}'" : "")}.", n), "DockerObjectNotFound", n);
    }
}
