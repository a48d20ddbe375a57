using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Docker;

namespace OpsTools.Commands.Docker;

/// <summary>
/// Base of the Docker commands: one way to say which engine, everywhere, as the docker CLI finds it:
/// -DockerHost, else -DockerContext, else the environment file's Docker section, else DOCKER_HOST (with
/// DOCKER_TLS_VERIFY / DOCKER_CERT_PATH for tcp), else DOCKER_CONTEXT, else the current Docker context, else the
/// platform's socket. Objects piped in from another Docker command bring their own engine (DockerId).
/// Cmdlets never name Docker.DotNet types: that assembly lives in OpsTools' isolated load context.
/// </summary>
public abstract class DockerCmdlet : OpsCmdlet
{
    /// <summary>The engine: unix:///var/run/docker.sock, tcp://host:2376, npipe:////./pipe/docker_engine. Default: DOCKER_HOST, the current Docker context, the platform's socket.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DockerHost { get; set; }

    /// <summary>A Docker context (docker context ls) to use instead of -DockerHost.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DockerContext { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its Docker section (Host, Context, ComposeProject).</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Seconds one engine request may take. Default 30.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public double RequestTimeoutSec { get; set; } = 30;

    /// <summary>Set by pipeline input from another OpsTools Docker command; carries no secret.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? DockerId { get; set; }

    private DockerTarget? _target;

    /// <summary>The engine this invocation (or this piped object) is about; bad input ends the command with one clear error.</summary>
    protected DockerTarget ResolveTarget()
    {
        if (DockerHost is null && DockerContext is null && DockerTargetRegistry.Find(DockerId) is { } known) return known;
        return _target ??= Resolve(DockerHost, DockerContext, Environment, RequestTimeoutSec, e => Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, e.Target), Verbose);
    }

    /// <summary>
    /// The engine the Docker connection parameters name; also used by commands that take them without being a DockerCmdlet
    /// (Set-ReplicaCount's Compose set). <paramref name="fail"/> ends the command (it does not return).
    /// </summary>
    internal static DockerTarget Resolve(string? host, string? context, OpsEnvironment? environment, double timeoutSec,
        Action<OpsToolsException> fail, Action<string> verbose)
    {
        DockerTarget target;
        try
        {
            target = DockerTargetResolver.Resolve(new DockerTargetSpec
            {
                Host = host, Context = context, Settings = environment?.Docker, TimeoutSec = timeoutSec,
            });
        }
        catch (OpsToolsException e)
        {
            fail(e);
            throw; // not reached
        }
        verbose($"Docker: {target.Describe()} (from {target.Source}).");
        return target;
    }

    /// <summary>The Compose project: the parameter, else the environment file's Docker.ComposeProject.</summary>
    protected string? ComposeProjectOr(string? given) => given is { Length: > 0 } ? given : Environment?.Docker?.ComposeProject;

    /// <summary>Writes a non-terminating error for one object (the pipeline goes on with the next).</summary>
    protected void ObjectError(Exception e, string fallbackErrorId, object? target) =>
        Error(ToErrorRecord(e, fallbackErrorId, ErrorCategory.NotSpecified, target));
}

/// <summary>Completes container names from the engine the typed -DockerHost/-DockerContext/-Environment point at.</summary>
public sealed class ContainerNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        try
        {
            var env = CompleterSupport.BoundEnvironment(fakeBoundParameters);
            var target = DockerTargetResolver.Resolve(new DockerTargetSpec
            {
                Host = fakeBoundParameters.Contains("DockerHost") ? fakeBoundParameters["DockerHost"]?.ToString() : null,
                Context = fakeBoundParameters.Contains("DockerContext") ? fakeBoundParameters["DockerContext"]?.ToString() : null,
                Settings = env?.Docker, TimeoutSec = 5,
            });
            var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var project = fakeBoundParameters.Contains("ComposeProject") ? fakeBoundParameters["ComposeProject"]?.ToString() : env?.Docker?.ComposeProject;
            var list = DockerContainers.ListAsync(target, new ContainerQuery { All = true, ComposeProject = project }, cts.Token).GetAwaiter().GetResult();
            return list.Where(c => pattern.IsMatch(c.Name))
                .Select(c => new CompletionResult(c.Name, c.Name, CompletionResultType.ParameterValue, $"{c.Name} {c.Image} {c.Status}")).ToList();
        }
        catch (Exception) { return Array.Empty<CompletionResult>(); } // completion never throws at the user
    }
}
