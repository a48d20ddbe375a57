using System.Management.Automation;
using OpsTools.Commands.Docker;
using OpsTools.Docker;
using OpsTools.Engine;
using OpsTools.Engine.Docker;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Scales Deployments and StatefulSets (kubectl scale / oc scale) or a Docker Compose service (docker compose up -d --scale), optionally waiting; returns the replica count before and after.</para>
/// <para type="description">Writes spec.replicas through the scale subresource, by name or from the pipeline (Get-Deployment objects, or its own results to scale back). A change made meanwhile by another client (409 Conflict) is read again and retried. Scaling to 0 asks for confirmation unless -Force. -Wait waits for the rollout by kubectl rollout status rules (-TimeoutSec, default 300); a rollout that fails or times out returns its result and writes a non-terminating error. Warns when a HorizontalPodAutoscaler will override the manual count. With -ComposeProject and -Service (parameter set Compose) it scales a Compose service on a Docker engine the way 'docker compose up -d --scale' does, without the compose file: up by copying the highest-numbered running container (image, command, environment, labels with the next container number, ports, restart policy, health check, mounts, networks and aliases), down by stopping and removing the highest-numbered containers; the result has the same shape (Platform Docker, Kind ComposeService).</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "ReplicaCount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = KubernetesSet, HelpUri = HelpLinks.Base + "Set-ReplicaCount.md")]
[OutputType(typeof(ScaleResult))]
public sealed class SetReplicaCountCommand : KubeRolloutCmdlet
{
    private const string KubernetesSet = "Kubernetes";
    private const string ComposeSet = "Compose";

    // ---- Kubernetes set: the connection parameters of KubeCmdlet belong to it alone, so that the binder refuses them
    // with -ComposeProject/-Service (the Compose set has its own: -DockerHost, -DockerContext).

    /// <summary>Names of the Deployments (or StatefulSets with -Kind StatefulSet); bound by property name from Get-Deployment and Set-ReplicaCount objects.</summary>
    [Parameter(ParameterSetName = KubernetesSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeWorkloadNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Deployment (default) or StatefulSet; bound by property name from piped objects.</summary>
    [Parameter(ParameterSetName = KubernetesSet, ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Deployment", "StatefulSet")]
    public string Kind { get; set; } = "Deployment";

    /// <summary>Kubeconfig file(s). Default: KUBECONFIG, else ~/.kube/config, else the in-cluster service account.</summary>
    [Parameter(ParameterSetName = KubernetesSet)]
    [ValidateNotNullOrEmpty]
    public new string[]? Kubeconfig { get => base.Kubeconfig; set => base.Kubeconfig = value; }

    /// <summary>The kubeconfig context. Default: the environment's, else the kubeconfig's current context.</summary>
    [Parameter(ParameterSetName = KubernetesSet)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeContextCompleter))]
    public new string? Context { get => base.Context; set => base.Context = value; }

    /// <summary>The namespace (OpenShift: project). Default: the environment's, else the context's, else 'default'.</summary>
    [Parameter(ParameterSetName = KubernetesSet, ValueFromPipelineByPropertyName = true)]
    [Alias("ns", "Project")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeNamespaceCompleter))]
    public new string? Namespace { get => base.Namespace; set => base.Namespace = value; }

    /// <summary>Set by pipeline input from another OpsTools Kubernetes command; carries no secret.</summary>
    [Parameter(ParameterSetName = KubernetesSet, ValueFromPipelineByPropertyName = true, DontShow = true)]
    public new string? ClusterId { get => base.ClusterId; set => base.ClusterId = value; }

    // ---- both sets

    /// <summary>
    /// The replica count to set (0 or more). Scaling to 0 asks for confirmation unless -Force. From piped Set-ReplicaCount
    /// results it binds their PreviousReplicas, so <c>$before | Set-ReplicaCount</c> scales each one back.
    /// </summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 100000)]
    [Alias("PreviousReplicas")]
    public int Replicas { get; set; }

    /// <summary>Wait until the rollout is complete (kubectl rollout status rules; Compose: every replica healthy, or running when it has no health check), at most -TimeoutSec.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Scale to 0 without asking (and no ConfirmImpact prompt). -WhatIf and $WhatIfPreference still only report; -Confirm still asks.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    // ---- Compose set

    /// <summary>The Compose project (com.docker.compose.project label; docker compose -p). Default: the environment file's Docker.ComposeProject.</summary>
    [Parameter(ParameterSetName = ComposeSet)]
    [ValidateNotNullOrEmpty]
    public string? ComposeProject { get; set; }

    /// <summary>The Compose service to scale (com.docker.compose.service label), e.g. api.</summary>
    [Parameter(ParameterSetName = ComposeSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [Alias("ComposeService")]
    public string Service { get; set; } = "";

    /// <summary>Compose set: the Docker engine (unix:///var/run/docker.sock, tcp://host:2376). Default: the environment file's Docker section, DOCKER_HOST, the current Docker context, the platform's socket.</summary>
    [Parameter(ParameterSetName = ComposeSet)]
    [ValidateNotNullOrEmpty]
    public string? DockerHost { get; set; }

    /// <summary>Compose set: a Docker context (docker context ls) to use instead of -DockerHost.</summary>
    [Parameter(ParameterSetName = ComposeSet)]
    [ValidateNotNullOrEmpty]
    public string? DockerContext { get; set; }

    /// <summary>Compose set: seconds a removed replica gets to stop after SIGTERM before it is killed (docker stop -t). Default 10.</summary>
    [Parameter(ParameterSetName = ComposeSet)]
    [ValidateRange(0, 3600)]
    public int Timeout { get; set; } = 10;

    /// <summary>
    /// Compose set: when the service publishes a fixed host port (ports: "80:8080"), publish that container port on an ephemeral
    /// host port on the new replicas. Without it, scaling such a service up is refused (a second container cannot bind the same
    /// host port; docker compose fails the same way).
    /// </summary>
    [Parameter(ParameterSetName = ComposeSet)]
    public SwitchParameter EphemeralHostPort { get; set; }

    private readonly List<ScaleRequest> _requests = new();

    protected override Task ProcessRecordAsync(CancellationToken ct)
    {
        if (ParameterSetName == ComposeSet) return ComposeAsync(ct);
        // Collected: every piped workload is read, confirmed in pipeline order and written at the end, in one engine call.
        var target = ResolveTarget();
        foreach (var name in Name)
            _requests.Add(new ScaleRequest(target, target.Namespace, Kind, name, Replicas));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken ct)
    {
        if (ParameterSetName == ComposeSet) return;
        await KubeScaleBatch.ScaleAsync(_requests, ApproveAsync, Verbose, ct).ConfigureAwait(false);
        foreach (var r in _requests.Where(r => r.Result is not null))
        {
            var result = r.Result!;
            if (result.Attempts > 1)
                Verbose($"{result.Kind.ToLowerInvariant()}/{result.Name}: changed by another client while scaling (409 Conflict); read again and retried, {result.Attempts} writes.");
            if (result.Changed)
                Verbose($"{result.Kind.ToLowerInvariant()}/{result.Name}: spec.replicas {result.PreviousReplicas} -> {result.DesiredReplicas} in {r.Target.Describe(r.Namespace)}.");
        }

        // Without -Wait: the results (and errors) in pipeline order. With -Wait: every rollout at once, then the same.
        if (!Wait)
        {
            foreach (var r in _requests) Report(r, null);
            return;
        }
        var waiting = _requests.Where(r => r.Result is not null).ToList();
        var outcomes = await WaitAllAsync(waiting.Select(r => new PendingWait(r.Target, r.Namespace, r.Result!.Kind, r.Result.Name)).ToList(), ct).ConfigureAwait(false);
        var byRequest = waiting.Zip(outcomes).ToDictionary(x => x.First, x => x.Second);
        foreach (var r in _requests) Report(r, byRequest.GetValueOrDefault(r));
    }

    private async Task<bool> ApproveAsync(ScaleRequest r)
    {
        var current = r.Current!;
        var kindText = current.Kind.ToLowerInvariant();
        if (r.Unchanged)
        {
            Verbose($"{kindText}/{r.Name} already has {r.Replicas} replicas: nothing to change.");
            return true;
        }
        var what = $"{kindText}/{r.Name} in {r.Target.Describe(r.Namespace)}";
        var answer = await ConfirmOutcomeAsync(what, $"Scale from {current.Replicas} to {r.Replicas} replicas",
            r.Replicas == 0 ? $"Scale {what} from {current.Replicas} to 0 replicas? Every pod is stopped: it serves nothing until scaled up again." : null,
            "Scale to zero", Force).ConfigureAwait(false);
        if (answer == Confirmation.DangerNo) Verbose($"{kindText}/{r.Name}: not scaled to 0 (not confirmed).");
        if (answer != Confirmation.Yes) return false;
        if (r.Autoscaler is { } h)
        {
            if (r.Replicas > 0)
                Warning($"{kindText}/{r.Name} in namespace '{r.Namespace}' is scaled by HorizontalPodAutoscaler '{h.Name}' (min {h.Min ?? 1}, max {h.Max}): it will change the replica count back within seconds. " +
                        $"To scale by hand, change the autoscaler instead (its minReplicas/maxReplicas: the runbooks' \"oc patch hpa {h.Name} -p '{{\"spec\":{{\"minReplicas\":{r.Replicas}}}}}'\") or delete it.");
            else
                Verbose($"{kindText}/{r.Name} has the autoscaler '{h.Name}': it leaves a workload at 0 replicas alone and takes over again once it is scaled up.");
        }
        return true;
    }

    /// <summary>Writes one workload's outcome: its error, or its result (and, after -Wait, how the rollout ended).</summary>
    private void Report(ScaleRequest r, WaitOutcome? outcome)
    {
        if (r.Error is { } error) { ObjectError(error, error.ErrorId, r.Name); return; }
        if (r.Result is not { } result) return; // declined, or -WhatIf
        if (outcome is null) { Output(result); return; }
        if (outcome.Status is { } status)
        {
            result.Rollout = status;
            result.ReadyReplicas = status.ReadyReplicas;
            result.AvailableReplicas = status.AvailableReplicas;
            Output(result);
            ReportRollout(status, result);
            return;
        }
        // Scaled, but the wait could not tell how it ended (API gone, object deleted): say both.
        Output(result);
        ObjectError(new OpsToolsException(outcome.Error!.ErrorId, outcome.Error.Kind,
            $"{result.Kind.ToLowerInvariant()}/{result.Name} was scaled from {result.PreviousReplicas} to {result.DesiredReplicas}, but waiting for its rollout failed: {outcome.Error.Message}",
            result.Name, outcome.Error), outcome.Error.ErrorId, result);
    }

    // ---- Compose: the Docker engine from -DockerHost/-DockerContext/-Environment; -Replicas, -Wait, -Force, -TimeoutSec,
    // -RequestTimeoutSec and -Environment are shared with the Kubernetes set.

    private async Task ComposeAsync(CancellationToken ct)
    {
        var project = ComposeProject is { Length: > 0 } given ? given : Environment?.Docker?.ComposeProject;
        if (string.IsNullOrEmpty(project))
            Fail(new OpsToolsException("ComposeProjectMissing", OpsErrorKind.InvalidArgument,
                "Say which Compose project: -ComposeProject (docker compose -p), or an -Environment whose Docker section has ComposeProject.", null),
                "ComposeProjectMissing", ErrorCategory.InvalidArgument, null);
        var target = DockerCmdlet.Resolve(DockerHost, DockerContext, Environment, RequestTimeoutSec,
            e => Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, e.Target), Verbose);
        ComposeScaleOutcome? outcome;
        try
        {
            outcome = await ComposeScale.ScaleAsync(target, project!, Service, Replicas, Timeout, EphemeralHostPort, async plan =>
            {
                var answer = await ConfirmOutcomeAsync(plan.What, $"Scale from {plan.Previous} to {plan.Replicas} replicas",
                    plan.Replicas == 0 ? $"Scale {plan.What} from {plan.Previous} to 0 replicas? Every container of it is stopped and removed: it serves nothing until scaled up again (and scaling up from 0 needs the compose file)." : null,
                    "Scale to zero", Force).ConfigureAwait(false);
                if (answer == Confirmation.DangerNo) Verbose($"{plan.What}: not scaled to 0 (not confirmed).");
                return answer == Confirmation.Yes;
            }, Verbose, ct).ConfigureAwait(false);
        }
        catch (OpsToolsException e) when (e.ErrorId is "ComposeServiceNotFound" or "ComposeFixedHostPort" || e.InnerException is OpsToolsException)
        {
            ObjectError(e, e.ErrorId, Service);
            return;
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.ConnectionError, target.Endpoint.ToString()); return; }
        if (outcome is null) return;
        var result = outcome.Result;
        if (!Wait || !result.Changed) { Output(result); return; }

        using var progress = new WaitProgress(Progress, $"Waiting for Compose service '{result.Name}' of project '{result.Namespace}' ({result.DesiredReplicas} replicas)", TimeoutSec);
        var status = await ComposeScale.WaitReadyAsync(target, result, outcome.Created, new WaitPolicy(TimeSpan.FromSeconds(TimeoutSec)),
            (s, waitingFor) => progress.Report($"{s.ReadyReplicas} of {result.DesiredReplicas} ready{(waitingFor.Length > 0 ? "; waiting for " + waitingFor : "")}"),
            Verbose, ct).ConfigureAwait(false);
        result.Rollout = status;
        result.ReadyReplicas = status.ReadyReplicas;
        result.AvailableReplicas = status.AvailableReplicas;
        Output(result);
        if (status.State != RolloutState.Complete)
            ObjectError(new OpsToolsException(status.State == RolloutState.TimedOut ? "ComposeScaleTimedOut" : "ComposeScaleFailed",
                status.State == RolloutState.TimedOut ? OpsErrorKind.Timeout : OpsErrorKind.OperationFailed,
                $"Compose service '{result.Name}' of project '{result.Namespace}' on {target.Describe()} was scaled from {result.PreviousReplicas} to {result.DesiredReplicas}, but {status.Message}", Service), "ComposeScaleTimedOut", result);
    }
}
