using System.Management.Automation;
using OpsTools.Commands.Docker;
using OpsTools.Docker;
using OpsTools.Engine.Docker;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Scales Deployments and StatefulSets (kubectl scale / oc scale) or a Docker Compose service (docker compose up -d --scale), optionally waiting; returns the replica count before and after.</para>
/// <para type="description">Writes spec.replicas through the scale subresource, by name or from the pipeline (Get-Deployment objects, or its own results to scale back). A change made meanwhile by another client (409 Conflict) is read again and retried. Scaling to 0 asks for confirmation unless -Force. -Wait waits for the rollout by kubectl rollout status rules (-TimeoutSec, default 300); a rollout that fails or times out returns its result and writes a non-terminating error. Warns when a HorizontalPodAutoscaler will override the manual count. With -ComposeProject and -Service (parameter set Compose) it scales a Compose service on a Docker engine the way 'docker compose up -d --scale' does, without the compose file: up by copying the highest-numbered running container (image, command, environment, labels with the next container number, ports, restart policy, health check, mounts, networks and aliases), down by stopping and removing the highest-numbered containers; the result has the same shape (Platform Docker, Kind ComposeService).</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "ReplicaCount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = "Kubernetes")]
[OutputType(typeof(ScaleResult))]
public sealed class SetReplicaCountCommand : KubeRolloutCmdlet
{
    /// <summary>Names of the Deployments (or StatefulSets with -Kind StatefulSet); bound by property name from Get-Deployment and Set-ReplicaCount objects.</summary>
    [Parameter(ParameterSetName = "Kubernetes", Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KubeWorkloadNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>
    /// The replica count to set (0 or more). Scaling to 0 asks for confirmation unless -Force. From piped Set-ReplicaCount
    /// results it binds their PreviousReplicas, so <c>$before | Set-ReplicaCount</c> scales each one back.
    /// </summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, 100000)]
    [Alias("PreviousReplicas")]
    public int Replicas { get; set; }

    /// <summary>Deployment (default) or StatefulSet; bound by property name from piped objects.</summary>
    [Parameter(ParameterSetName = "Kubernetes", ValueFromPipelineByPropertyName = true)]
    [ValidateSet("Deployment", "StatefulSet")]
    public string Kind { get; set; } = "Deployment";

    /// <summary>The Compose project (com.docker.compose.project label; docker compose -p). Default: the environment file's Docker.ComposeProject.</summary>
    [Parameter(ParameterSetName = "Compose")]
    [ValidateNotNullOrEmpty]
    public string? ComposeProject { get; set; }

    /// <summary>The Compose service to scale (com.docker.compose.service label), e.g. api.</summary>
    [Parameter(ParameterSetName = "Compose", Mandatory = true)]
    [ValidateNotNullOrEmpty]
    [Alias("ComposeService")]
    public string Service { get; set; } = "";

    /// <summary>Compose set: the Docker engine (unix:///var/run/docker.sock, tcp://host:2376). Default: the environment file's Docker section, DOCKER_HOST, the current Docker context, the platform's socket.</summary>
    [Parameter(ParameterSetName = "Compose")]
    [ValidateNotNullOrEmpty]
    public string? DockerHost { get; set; }

    /// <summary>Compose set: a Docker context (docker context ls) to use instead of -DockerHost.</summary>
    [Parameter(ParameterSetName = "Compose")]
    [ValidateNotNullOrEmpty]
    public string? DockerContext { get; set; }

    /// <summary>Compose set: seconds a removed replica gets to stop after SIGTERM before it is killed (docker stop -t). Default 10.</summary>
    [Parameter(ParameterSetName = "Compose")]
    [ValidateRange(0, 3600)]
    public int Timeout { get; set; } = 10;

    /// <summary>
    /// Compose set: when the service publishes a fixed host port (ports: "80:8080"), publish that container port on an ephemeral
    /// host port on the new replicas. Without it, scaling such a service up is refused (a second container cannot bind the same
    /// host port; docker compose fails the same way).
    /// </summary>
    [Parameter(ParameterSetName = "Compose")]
    public SwitchParameter EphemeralHostPort { get; set; }

    /// <summary>Wait until the rollout is complete (kubectl rollout status rules; Compose: every replica healthy, or running when it has no health check), at most -TimeoutSec.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Scale to 0 without asking (and no ConfirmImpact prompt). -WhatIf and $WhatIfPreference still only report; -Confirm still asks.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>How many workloads are read and written at once (a pipeline of many deployments).</summary>
    private const int Parallelism = 16;

    /// <summary>One workload to scale, as it came down the pipeline, and what became of it.</summary>
    private sealed class Item(KubeTarget target, string ns, string kind, string name, int replicas)
    {
        public KubeTarget Target { get; } = target;
        public string Namespace { get; } = ns;
        public string Kind { get; } = kind;
        public string Name { get; } = name;
        public int Replicas { get; } = replicas;
        public WorkloadReplicas? Current { get; set; }
        public bool Approved { get; set; }
        public (string Name, int? Min, int Max)? Autoscaler { get; set; }
        public ScaleResult? Result { get; set; }
        public OpsToolsException? Error { get; set; }
    }

    private readonly List<Item> _items = new();
    private readonly Dictionary<string, IReadOnlyList<(string Name, string Kind, string Target, int? Min, int Max)>?> _autoscalers = new();

    protected override Task ProcessRecordAsync(CancellationToken ct)
    {
        if (ParameterSetName == "Compose") return ComposeAsync(ct);
        // Collect: the reads and writes of every piped workload run together at the end (kubectl scale takes a
        // label selector the same way: one command, every match), and the confirmations come in pipeline order.
        var target = ResolveTarget();
        foreach (var name in Name)
            _items.Add(new Item(target, target.Namespace, Kind, name, Replicas));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken ct)
    {
        if (ParameterSetName == "Compose") return;
        // 1. Read every workload (and each namespace's autoscalers once), several at a time.
        await ForEachAsync(_items, async item =>
        {
            try { item.Current = await KubeScale.ReadAsync(item.Target, item.Namespace, item.Kind, item.Name, ct).ConfigureAwait(false); }
            catch (OpsToolsException e) { item.Error = e; }
        }, ct).ConfigureAwait(false);
        foreach (var group in _items.Where(i => i.Current is not null && i.Current.Replicas != i.Replicas).GroupBy(i => i.Target.Id + "|" + i.Namespace))
        {
            var first = group.First();
            _autoscalers[group.Key] = await KubeScale.AutoscalersAsync(first.Target, first.Namespace, ct).ConfigureAwait(false);
            if (_autoscalers[group.Key] is null)
                Verbose($"Could not list the autoscalers of namespace '{first.Namespace}' (not allowed?): no check for an autoscaler overriding the count.");
        }

        // 2. Decide, in pipeline order, on the pipeline thread: -WhatIf/-Confirm, and the extra question for 0.
        foreach (var item in _items.Where(i => i.Current is not null))
            item.Approved = await ApproveAsync(item).ConfigureAwait(false);

        // 3. Write, several at a time (each retried on 409 Conflict by re-reading).
        await ForEachAsync(_items.Where(i => i.Approved).ToList(), async item =>
        {
            try
            {
                var (replaced, attempts, written) = await KubeScale.ApplyAsync(item.Target, item.Namespace, item.Current!, item.Replicas, ct).ConfigureAwait(false);
                item.Result = new ScaleResult
                {
                    Platform = "Kubernetes", Context = item.Target.Context, Namespace = item.Namespace, Kind = replaced.Kind, Name = replaced.Name,
                    PreviousReplicas = replaced.Replicas, DesiredReplicas = item.Replicas,
                    ReadyReplicas = replaced.ReadyReplicas, AvailableReplicas = replaced.AvailableReplicas,
                    Changed = written, Attempts = attempts, Autoscaler = item.Autoscaler?.Name,
                    Timestamp = DateTime.UtcNow, ClusterId = item.Target.WithNamespace(item.Namespace).Id,
                };
            }
            catch (OpsToolsException e) { item.Error = e; }
        }, ct).ConfigureAwait(false);

        foreach (var item in _items.Where(i => i.Result is not null))
        {
            var r = item.Result!;
            if (r.Attempts > 1)
                Verbose($"{r.Kind.ToLowerInvariant()}/{r.Name}: changed by another client while scaling (409 Conflict); read again and retried, {r.Attempts} writes.");
            if (r.Changed)
                Verbose($"{r.Kind.ToLowerInvariant()}/{r.Name}: spec.replicas {r.PreviousReplicas} -> {r.DesiredReplicas} in {item.Target.Describe(item.Namespace)}.");
        }

        // 4. Without -Wait: the results (and errors) in pipeline order. With -Wait: every rollout at once, then the same.
        if (!Wait)
        {
            foreach (var item in _items) Report(item, null);
            return;
        }
        var waiting = _items.Where(i => i.Result is not null).ToList();
        var outcomes = await WaitAllAsync(waiting.Select(i => new PendingWait(i.Target, i.Namespace, i.Result!.Kind, i.Result.Name)).ToList(), ct).ConfigureAwait(false);
        var byItem = waiting.Zip(outcomes).ToDictionary(x => x.First, x => x.Second);
        foreach (var item in _items) Report(item, byItem.GetValueOrDefault(item));
    }

    private async Task<bool> ApproveAsync(Item item)
    {
        var current = item.Current!;
        var kindText = current.Kind.ToLowerInvariant();
        if (current.Replicas == item.Replicas)
        {
            Verbose($"{kindText}/{item.Name} already has {item.Replicas} replicas: nothing to change.");
            return true;
        }
        var what = $"{kindText}/{item.Name} in {item.Target.Describe(item.Namespace)}";
        var answer = await ConfirmOutcomeAsync(what, $"Scale from {current.Replicas} to {item.Replicas} replicas",
            item.Replicas == 0 ? $"Scale {what} from {current.Replicas} to 0 replicas? Every pod is stopped: it serves nothing until scaled up again." : null,
            "Scale to zero", Force).ConfigureAwait(false);
        if (answer == Confirmation.DangerNo) Verbose($"{kindText}/{item.Name}: not scaled to 0 (not confirmed).");
        if (answer != Confirmation.Yes) return false;
        item.Autoscaler = Autoscaler(item.Target, item.Namespace, current.Kind, item.Name);
        if (item.Autoscaler is { } h)
        {
            if (item.Replicas > 0)
                Warning($"{kindText}/{item.Name} in namespace '{item.Namespace}' is scaled by HorizontalPodAutoscaler '{h.Name}' (min {h.Min ?? 1}, max {h.Max}): it will change the replica count back within seconds. " +
                        $"To scale by hand, change the autoscaler instead (its minReplicas/maxReplicas: the runbooks' \"oc patch hpa {h.Name} -p '{{\"spec\":{{\"minReplicas\":{item.Replicas}}}}}'\") or delete it.");
            else
                Verbose($"{kindText}/{item.Name} has the autoscaler '{h.Name}': it leaves a workload at 0 replicas alone and takes over again once it is scaled up.");
        }
        return true;
    }

    /// <summary>Writes one workload's outcome: its error, or its result (and, after -Wait, how the rollout ended).</summary>
    private void Report(Item item, WaitOutcome? outcome)
    {
        if (item.Error is { } error) { ObjectError(error, error.ErrorId, item.Name); return; }
        if (item.Result is not { } result) return; // declined, or -WhatIf
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

    private static async Task ForEachAsync(IReadOnlyList<Item> items, Func<Item, Task> work, CancellationToken ct)
    {
        if (items.Count == 1) { await work(items[0]).ConfigureAwait(false); return; }
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = ct },
            async (item, _) => await work(item).ConfigureAwait(false)).ConfigureAwait(false);
    }

    private (string Name, int? Min, int Max)? Autoscaler(KubeTarget target, string ns, string kind, string name)
    {
        var list = _autoscalers.GetValueOrDefault(target.Id + "|" + ns);
        var hit = list?.FirstOrDefault(h => h.Target == name && h.Kind.Equals(kind, StringComparison.OrdinalIgnoreCase));
        return hit is { Name: not null } x ? (x.Name, x.Min, x.Max) : null;
    }

    // ---- Compose -------------------------------------------------------------------------------------------------
    // The command stays a KubeRolloutCmdlet (the Kubernetes set is unchanged); the Compose set adds its own Docker
    // connection parameters and shares -Replicas, -Wait, -Force, -TimeoutSec, -RequestTimeoutSec and -Environment.
    // The Kubernetes connection parameters mean nothing to the Compose set: given with it, they are an error.

    private DockerTarget? _docker;

    private DockerTarget ResolveDocker()
    {
        foreach (var k in new[] { "Kubeconfig", "Context", "Namespace" })
            if (MyInvocation.BoundParameters.ContainsKey(k))
                Fail(new OpsToolsException("ComposeKubernetesParameter", OpsErrorKind.InvalidArgument,
                    $"-{k} is a Kubernetes parameter; with -ComposeProject/-Service the engine is chosen by -DockerHost, -DockerContext or -Environment.", k),
                    "ComposeKubernetesParameter", ErrorCategory.InvalidArgument, k);
        return _docker ??= DockerCmdlet.Resolve(DockerHost, DockerContext, Environment, RequestTimeoutSec,
            e => Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, e.Target), Verbose);
    }

    private async Task ComposeAsync(CancellationToken ct)
    {
        var project = ComposeProject is { Length: > 0 } given ? given : Environment?.Docker?.ComposeProject;
        if (string.IsNullOrEmpty(project))
            Fail(new OpsToolsException("ComposeProjectMissing", OpsErrorKind.InvalidArgument,
                "Say which Compose project: -ComposeProject (docker compose -p), or an -Environment whose Docker section has ComposeProject.", null),
                "ComposeProjectMissing", ErrorCategory.InvalidArgument, null);
        var target = ResolveDocker();
        var what = $"Compose service '{Service}' of project '{project}' on {target.Describe()}";
        ComposeServiceState state;
        try { state = await ComposeScaler.ReadAsync(target, project!, Service, ct).ConfigureAwait(false); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.ConnectionError, target.Endpoint.ToString()); return; }
        if (state.Containers.Count == 0)
        {
            ObjectError(new OpsToolsException("ComposeServiceNotFound", OpsErrorKind.NotFound,
                $"{what} has no container. Creating the first one needs the compose file: run 'docker compose up -d {Service}' (with -p {project}) first; Set-ReplicaCount copies an existing container.", Service),
                "ComposeServiceNotFound", Service);
            return;
        }
        var running = state.Running.OrderBy(c => c.ComposeNumber ?? 0).ToList();
        var previous = running.Count;
        var result = new ScaleResult
        {
            Platform = "Docker", Context = target.Endpoint.ToString(), Namespace = project!, Kind = "ComposeService", Name = Service,
            PreviousReplicas = previous, DesiredReplicas = Replicas, Attempts = 0, ClusterId = target.Id,
            ReadyReplicas = running.Count(Ready), AvailableReplicas = running.Count(Ready),
        };
        if (previous == Replicas)
        {
            Verbose($"{what} already has {Replicas} running replicas: nothing to change.");
            Output(result);
            return;
        }
        var answer = await ConfirmOutcomeAsync(what, $"Scale from {previous} to {Replicas} replicas",
            Replicas == 0 ? $"Scale {what} from {previous} to 0 replicas? Every container of it is stopped and removed: it serves nothing until scaled up again (and scaling up from 0 needs the compose file)." : null,
            "Scale to zero", Force).ConfigureAwait(false);
        if (answer == Confirmation.DangerNo) Verbose($"{what}: not scaled to 0 (not confirmed).");
        if (answer != Confirmation.Yes) return;

        IReadOnlyList<string> created = Array.Empty<string>();
        try
        {
            if (Replicas > previous)
            {
                var template = state.Template!;
                var fixedPorts = await ComposeScaler.FixedHostPortsAsync(target, template, ct).ConfigureAwait(false);
                if (fixedPorts.Count > 0 && !EphemeralHostPort)
                {
                    ObjectError(new OpsToolsException("ComposeFixedHostPort", OpsErrorKind.OperationFailed,
                        $"Cannot scale {what} up: its container '{template.Name}' publishes the fixed host port(s) {string.Join(", ", fixedPorts)}, which a second container cannot bind (docker compose fails the same way). " +
                        "Put a load balancer in front and publish no host port, or use -EphemeralHostPort to publish the new replicas on ports the engine picks.", Service),
                        "ComposeFixedHostPort", Service);
                    return;
                }
                result.Attempts = 1;
                created = await ComposeScaler.ScaleUpAsync(target, state, Replicas - previous, EphemeralHostPort, m => Verbose($"{Service}: {m}"), ct).ConfigureAwait(false);
            }
            else
            {
                result.Attempts = 1;
                foreach (var c in running.OrderByDescending(c => c.ComposeNumber ?? 0).Take(previous - Replicas))
                {
                    var removed = await ComposeScaler.RemoveAsync(target, c, Timeout, ct).ConfigureAwait(false);
                    Verbose(removed ? $"{Service}: stopped and removed {c.Name}." : $"{Service}: {c.Name} was already gone.");
                }
            }
        }
        catch (OpsToolsException e)
        {
            ObjectError(new OpsToolsException(e.ErrorId, e.Kind, $"Scaling {what} from {previous} to {Replicas} failed: {e.Message}" +
                (created.Count > 0 ? $" Created before the failure: {string.Join(", ", created)}." : ""), Service, e), e.ErrorId, Service);
            return;
        }
        result.Changed = true;
        result.Timestamp = DateTime.UtcNow;
        Verbose($"{what}: {previous} -> {Replicas} replicas.");

        if (!Wait)
        {
            await RefreshAsync(target, result, ct).ConfigureAwait(false);
            Output(result);
            return;
        }
        var status = await WaitComposeAsync(target, result, created, ct).ConfigureAwait(false);
        result.Rollout = status;
        result.ReadyReplicas = status.ReadyReplicas;
        result.AvailableReplicas = status.AvailableReplicas;
        Output(result);
        if (status.State != RolloutState.Complete)
            ObjectError(new OpsToolsException(status.State == RolloutState.TimedOut ? "ComposeScaleTimedOut" : "ComposeScaleFailed",
                status.State == RolloutState.TimedOut ? OpsErrorKind.Timeout : OpsErrorKind.OperationFailed,
                $"{what} was scaled from {previous} to {Replicas}, but {status.Message}", Service), "ComposeScaleTimedOut", result);
    }

    private static bool Ready(ContainerInfo c) => c.State == "running" && (c.Health is "healthy" or "none");

    private async Task RefreshAsync(DockerTarget target, ScaleResult result, CancellationToken ct)
    {
        try
        {
            var now = (await ComposeScaler.ReadAsync(target, result.Namespace, result.Name, ct).ConfigureAwait(false)).Running;
            result.ReadyReplicas = now.Count(Ready);
            result.AvailableReplicas = now.Count(Ready);
        }
        catch (OpsToolsException e) { Verbose($"Could not read the service again after scaling: {e.Message}"); }
    }

    /// <summary>Waits until every replica runs and is healthy (running, without a health check), at most -TimeoutSec; Ctrl+C ends the wait (the containers stay).</summary>
    private async Task<RolloutStatus> WaitComposeAsync(DockerTarget target, ScaleResult result, IReadOnlyList<string> created, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        var activity = $"Waiting for Compose service '{result.Name}' of project '{result.Namespace}' ({result.DesiredReplicas} replicas)";
        var status = new RolloutStatus
        {
            Context = result.Context, Namespace = result.Namespace, Kind = "ComposeService", Name = result.Name,
            DesiredReplicas = result.DesiredReplicas, ClusterId = result.ClusterId,
        };
        try
        {
            while (true)
            {
                IReadOnlyList<ContainerInfo> running;
                try { running = (await ComposeScaler.ReadAsync(target, result.Namespace, result.Name, ct).ConfigureAwait(false)).Running; }
                catch (OpsToolsException e) when (e.ErrorId != "DockerUnreachable") { Verbose(e.Message); running = Array.Empty<ContainerInfo>(); }
                var ready = running.Count(Ready);
                status.ReadyReplicas = ready;
                status.AvailableReplicas = ready;
                status.CurrentReplicas = running.Count;
                status.UpdatedReplicas = running.Count;
                status.Waited = DateTime.UtcNow - started;
                var notReady = running.Where(c => !Ready(c)).ToList();
                var exited = created.Where(n => !running.Any(c => c.Name == n)).ToList();
                if (ready == result.DesiredReplicas && running.Count == result.DesiredReplicas)
                {
                    status.State = RolloutState.Complete;
                    status.Message = $"{ready} of {result.DesiredReplicas} replicas running and healthy";
                    return status;
                }
                var waitingFor = string.Join(", ", notReady.Select(c => $"{c.Name} ({c.Status})").Concat(exited.Select(n => $"{n} (not running)")));
                if (status.Waited.TotalSeconds >= TimeoutSec)
                {
                    status.State = RolloutState.TimedOut;
                    status.Message = $"after {TimeoutSec:0} s only {ready} of {result.DesiredReplicas} replicas are running and healthy; not ready: {(waitingFor.Length > 0 ? waitingFor : "(replicas missing)")}.";
                    return status;
                }
                Progress(new ProgressRecord(1, activity, $"{ready} of {result.DesiredReplicas} ready{(waitingFor.Length > 0 ? "; waiting for " + waitingFor : "")}")
                {
                    CurrentOperation = $"timeout {TimeoutSec:0} s",
                });
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false);
            }
        }
        finally
        {
            Progress(new ProgressRecord(1, activity, "Done") { RecordType = ProgressRecordType.Completed });
        }
    }
}
