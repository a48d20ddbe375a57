using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>What Update-Secret was asked to do. Values are bytes; they never leave this object except to the API server.</summary>
public sealed class SecretRotationRequest
{
    public string Name { get; init; } = "";
    /// <summary>New values by key.</summary>
    public IReadOnlyDictionary<string, byte[]> Data { get; init; } = new Dictionary<string, byte[]>();
    /// <summary>True: the secret holds exactly <see cref="Data"/> afterwards (other keys removed). False (default): other keys are kept.</summary>
    public bool Replace { get; init; }
    /// <summary>Change the secret only; restart nothing.</summary>
    public bool NoRestart { get; init; }
    /// <summary>Restart only these workloads (names) among those that use the secret; a name that does not use it is an error before any change.</summary>
    public IReadOnlyList<string>? Restart { get; init; }
    /// <summary>How long to wait for each rollout (and again for each rollback).</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);
}

/// <summary>A Deployment or StatefulSet that references a secret, and how.</summary>
public sealed class SecretUser
{
    public string Kind { get; init; } = "Deployment";
    public string Name { get; init; } = "";
    public IReadOnlyList<string> UsedBy { get; init; } = Array.Empty<string>();
    public override string ToString() => $"{Kind.ToLowerInvariant()}/{Name}";
}

/// <summary>What a rotation will change, worked out before anything is changed (what -WhatIf shows).</summary>
public sealed class SecretRotationPlan
{
    internal V1Secret Secret { get; set; } = null!;
    internal Dictionary<string, byte[]> OldData { get; set; } = new();
    internal Dictionary<string, byte[]> NewData { get; set; } = new();
    public string Name { get; init; } = "";
    public string Namespace { get; init; } = "";
    public IReadOnlyList<string> ChangedKeys { get; internal set; } = Array.Empty<string>();
    public IReadOnlyList<string> AddedKeys { get; internal set; } = Array.Empty<string>();
    public IReadOnlyList<string> RemovedKeys { get; internal set; } = Array.Empty<string>();
    public IReadOnlyList<string> UnchangedKeys { get; internal set; } = Array.Empty<string>();
    /// <summary>Workloads to restart (after -Restart / -NoRestart).</summary>
    public IReadOnlyList<SecretUser> Restart { get; internal set; } = Array.Empty<SecretUser>();
    /// <summary>Every workload of the namespace that uses the secret.</summary>
    public IReadOnlyList<SecretUser> Users { get; internal set; } = Array.Empty<SecretUser>();
    public string? ResourceVersion => Secret.Metadata.ResourceVersion;

    /// <summary>One line for ShouldProcess: key names and workloads, never values.</summary>
    public string Describe(TimeSpan timeout)
    {
        var keys = ChangedKeys.Count == 0 ? "change no key (the values given are the current ones)" : "change key(s) " + Quote(ChangedKeys)
            + (AddedKeys.Count > 0 ? $" (new: {Quote(AddedKeys)})" : "") + (RemovedKeys.Count > 0 ? $" (removed: {Quote(RemovedKeys)})" : "");
        var restart = Restart.Count == 0 ? "restart nothing" :
            $"restart {string.Join(", ", Restart)} and wait up to {timeout.TotalSeconds:0} s for the rollout(s); on failure put the old data back and undo the restarts";
        return $"{keys}; {restart}";
    }

    internal static string Quote(IEnumerable<string> names) => string.Join(", ", names.Select(n => $"'{n}'"));
}

/// <summary>
/// Secret rotation as one transaction (Update-Secret): write the new data (resourceVersion-checked), restart the
/// workloads that use the secret (<see cref="KubeRollout.RestartAsync"/>), wait for their rollouts
/// (<see cref="KubeRollout.WaitAsync"/>); when any of it fails, put the old data back byte for byte (only if nobody
/// else changed the secret since), undo the restarts (the previous restartedAt annotation back, so the previous
/// ReplicaSet takes over again) and wait for that. Values never appear in any message.
/// </summary>
public static class SecretRotation
{
    private static readonly Regex KeyPattern = new("^[-._a-zA-Z0-9]+$", RegexOptions.CultureInvariant);

    /// <summary>Null when <paramref name="key"/> is a valid secret key, else why not.</summary>
    public static string? KeyProblem(string key) =>
        key.Length == 0 || key.Length > 253 || !KeyPattern.IsMatch(key) || key is "." or ".."
            ? $"'{key}' is not a valid secret key (letters, digits, '-', '_', '.'; at most 253 characters)" : null;

    /// <summary>How a pod spec uses the secret: "env <container>", "envFrom <container>", "volume <name>", "projected volume <name>".</summary>
    public static IReadOnlyList<string> Uses(V1PodSpec? spec, string secret)
    {
        var uses = new List<string>();
        if (spec is null) return uses;
        foreach (var c in (spec.InitContainers ?? new List<V1Container>()).Concat(spec.Containers ?? new List<V1Container>()))
        {
            if (c.Env?.Any(e => e.ValueFrom?.SecretKeyRef?.Name == secret) == true) uses.Add($"env ({c.Name})");
            if (c.EnvFrom?.Any(e => e.SecretRef?.Name == secret) == true) uses.Add($"envFrom ({c.Name})");
        }
        foreach (var v in spec.Volumes ?? new List<V1Volume>())
        {
            if (v.Secret?.SecretName == secret) uses.Add($"volume ({v.Name})");
            if (v.Projected?.Sources?.Any(s => s.Secret?.Name == secret) == true) uses.Add($"projected volume ({v.Name})");
        }
        return uses;
    }

    /// <summary>The Deployments and StatefulSets of <paramref name="ns"/> that use <paramref name="secret"/>.</summary>
    public static async Task<IReadOnlyList<SecretUser>> FindUsersAsync(KubeTarget target, string ns, string secret, CancellationToken ct)
    {
        var deployments = await KubeErrors.CallAsync(target, "list deployments", null, ns,
            () => target.Client.AppsV1.ListNamespacedDeploymentAsync(ns, cancellationToken: ct), ct).ConfigureAwait(false);
        var statefulSets = await KubeErrors.CallAsync(target, "list statefulsets", null, ns,
            () => target.Client.AppsV1.ListNamespacedStatefulSetAsync(ns, cancellationToken: ct), ct).ConfigureAwait(false);
        var users = new List<SecretUser>();
        foreach (var d in deployments.Items)
            if (Uses(d.Spec?.Template?.Spec, secret) is { Count: > 0 } u) users.Add(new SecretUser { Kind = "Deployment", Name = d.Metadata.Name, UsedBy = u });
        foreach (var s in statefulSets.Items)
            if (Uses(s.Spec?.Template?.Spec, secret) is { Count: > 0 } u) users.Add(new SecretUser { Kind = "StatefulSet", Name = s.Metadata.Name, UsedBy = u });
        return users.OrderBy(u => u.Kind, StringComparer.Ordinal).ThenBy(u => u.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>Reads the secret and the workloads and works out what will change. Changes nothing.</summary>
    public static async Task<SecretRotationPlan> PlanAsync(KubeTarget target, string ns, SecretRotationRequest request, CancellationToken ct)
    {
        foreach (var key in request.Data.Keys)
            if (KeyProblem(key) is { } problem)
                throw new OpsToolsException("SecretKeyInvalid", OpsErrorKind.InvalidArgument, $"Cannot update secret '{request.Name}': {problem}.", key);
        if (request.Replace && request.Data.Count == 0)
            throw new OpsToolsException("SecretDataMissing", OpsErrorKind.InvalidArgument, $"Cannot update secret '{request.Name}' with -Replace and no data: that would empty it.", request.Name);
        var secret = await ReadSecretAsync(target, ns, request.Name, ct).ConfigureAwait(false);
        if (secret.Immutable == true)
            throw new OpsToolsException("SecretImmutable", OpsErrorKind.InvalidArgument,
                $"Cannot update secret '{request.Name}' in {target.Describe(ns)}: it is immutable. Create a new secret and point the workloads at it.", request.Name);
        var plan = new SecretRotationPlan { Name = request.Name, Namespace = ns };
        Diff(plan, secret, request);

        var users = await FindUsersAsync(target, ns, request.Name, ct).ConfigureAwait(false);
        plan.Users = users;
        if (request.NoRestart) plan.Restart = Array.Empty<SecretUser>();
        else if (request.Restart is { Count: > 0 } names)
        {
            foreach (var n in names.Where(n => !users.Any(u => u.Name.Equals(n, StringComparison.OrdinalIgnoreCase))))
                throw new OpsToolsException("SecretRestartTargetUnknown", OpsErrorKind.InvalidArgument,
                    $"Cannot update secret '{request.Name}': -Restart names '{n}', but no Deployment or StatefulSet of that name in {target.Describe(ns)} uses the secret"
                    + (users.Count == 0 ? " (none does)." : $" (users: {string.Join(", ", users)})."), n);
            plan.Restart = users.Where(u => names.Any(n => u.Name.Equals(n, StringComparison.OrdinalIgnoreCase))).ToList();
        }
        else plan.Restart = users;
        return plan;
    }

    private static void Diff(SecretRotationPlan plan, V1Secret secret, SecretRotationRequest request)
    {
        var old = new Dictionary<string, byte[]>(secret.Data ?? new Dictionary<string, byte[]>(), StringComparer.Ordinal);
        var next = request.Replace ? new Dictionary<string, byte[]>(StringComparer.Ordinal) : new Dictionary<string, byte[]>(old, StringComparer.Ordinal);
        foreach (var (k, v) in request.Data) next[k] = v;
        plan.Secret = secret;
        plan.OldData = old;
        plan.NewData = next;
        plan.AddedKeys = next.Keys.Where(k => !old.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        plan.RemovedKeys = old.Keys.Where(k => !next.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        plan.ChangedKeys = next.Keys.Union(old.Keys)
            .Where(k => !old.TryGetValue(k, out var a) || !next.TryGetValue(k, out var b) || !CryptographicOperations.FixedTimeEquals(a, b))
            .Order(StringComparer.Ordinal).ToList();
        plan.UnchangedKeys = next.Keys.Except(plan.ChangedKeys).Order(StringComparer.Ordinal).ToList();
    }

    private static Task<V1Secret> ReadSecretAsync(KubeTarget target, string ns, string name, CancellationToken ct) =>
        KubeErrors.CallAsync(target, $"read secret '{name}'", $"secret '{name}'", ns,
            () => target.Client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: ct), ct);

    /// <summary>
    /// Carries out <paramref name="plan"/>. Failures before the secret was changed are thrown (nothing changed);
    /// failures after it come back as a result with Status RolledBack or Failed.
    /// </summary>
    public static async Task<SecretRotationResult> ExecuteAsync(KubeTarget target, SecretRotationPlan plan, SecretRotationRequest request,
        Action<string>? verbose, Action<RolloutStatus>? onProgress, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var ns = plan.Namespace;
        var result = new SecretRotationResult
        {
            Context = target.Context, Namespace = ns, Name = plan.Name, PreviousResourceVersion = plan.ResourceVersion,
            ClusterId = target.WithNamespace(ns).Id,
        };
        var written = await WriteNewDataAsync(target, plan, request, verbose, ct).ConfigureAwait(false);
        result.ChangedKeys = plan.ChangedKeys; result.AddedKeys = plan.AddedKeys; result.RemovedKeys = plan.RemovedKeys; result.UnchangedKeys = plan.UnchangedKeys;
        result.ResourceVersion = written.Metadata.ResourceVersion;

        var workloads = plan.Restart.Select(u => new RotatedWorkload { Kind = u.Kind, Name = u.Name, UsedBy = u.UsedBy }).ToList();
        result.Restarted = workloads;
        var previousStamp = new Dictionary<RotatedWorkload, string?>();
        var ourStamp = new Dictionary<RotatedWorkload, string?>();
        string? failure = null;
        try
        {
            foreach (var w in workloads)
            {
                var before = await KubeRollout.ReadWorkloadAsync(target, ns, w.Kind, w.Name, ct).ConfigureAwait(false);
                previousStamp[w] = RestartedAt(before);
                verbose?.Invoke($"Restarting {w.Kind.ToLowerInvariant()} '{w.Name}' (uses the secret: {string.Join(", ", w.UsedBy)}).");
                w.RestartedAt = await KubeRollout.RestartAsync(target, ns, w.Kind, w.Name, ct).ConfigureAwait(false);
                ourStamp[w] = RestartedAt(await KubeRollout.ReadWorkloadAsync(target, ns, w.Kind, w.Name, ct).ConfigureAwait(false));
            }
            var statuses = await Task.WhenAll(workloads.Select(w =>
                KubeRollout.WaitAsync(target, ns, w.Kind, w.Name, request.Timeout, onProgress, ct))).ConfigureAwait(false);
            for (var i = 0; i < workloads.Count; i++) workloads[i].Rollout = statuses[i];
            var bad = workloads.Where(w => w.Rollout!.State != RolloutState.Complete).ToList();
            if (bad.Count > 0)
                failure = string.Join("; ", bad.Select(w => $"{w.Kind.ToLowerInvariant()} '{w.Name}' rollout {w.Rollout!.State}: {w.Rollout.Message.TrimEnd('.')}"));
        }
        catch (OpsToolsException e)
        {
            failure = e.Message;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C mid-rotation aborts the transaction: put things back (without waiting for the rollouts) and stop.
            using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try { await RollBackAsync(target, plan, request, written, workloads, previousStamp, ourStamp, result, verbose, null, wait: false, cleanup.Token).ConfigureAwait(false); }
            catch (Exception) { /* best effort: the user stopped us */ }
            throw;
        }

        if (failure is null)
        {
            result.Status = SecretRotationStatus.Completed;
            result.Message = workloads.Count == 0
                ? $"Secret '{plan.Name}': {plan.ChangedKeys.Count} key(s) changed; no workload restarted."
                : $"Secret '{plan.Name}': {plan.ChangedKeys.Count} key(s) changed; {string.Join(", ", workloads.Select(w => $"{w.Kind.ToLowerInvariant()}/{w.Name}"))} restarted and rolled out.";
        }
        else
        {
            verbose?.Invoke($"Rotation of secret '{plan.Name}' failed ({failure}); rolling back.");
            var undone = await RollBackAsync(target, plan, request, written, workloads, previousStamp, ourStamp, result, verbose, onProgress, wait: true, ct).ConfigureAwait(false);
            result.Status = undone.Complete ? SecretRotationStatus.RolledBack : SecretRotationStatus.Failed;
            result.Message = $"Rotation of secret '{plan.Name}' in {target.Describe(ns)} failed: {failure}. "
                + (undone.Complete ? "Rolled back: " : "Rollback INCOMPLETE: ") + string.Join("; ", undone.Steps) + ".";
        }
        result.Duration = sw.Elapsed;
        return result;
    }

    private static string? RestartedAt(object workload) =>
        (workload switch { V1Deployment d => d.Spec?.Template?.Metadata?.Annotations, V1StatefulSet s => s.Spec?.Template?.Metadata?.Annotations, _ => null })
            is { } a && a.TryGetValue(KubeRollout.RestartedAtAnnotation, out var v) ? v : null;

    /// <summary>PUT the new data with the resourceVersion read; on 409 read again, recompute and retry (bounded).</summary>
    private static async Task<V1Secret> WriteNewDataAsync(KubeTarget target, SecretRotationPlan plan, SecretRotationRequest request, Action<string>? verbose, CancellationToken ct)
    {
        try
        {
            return await KubeReadChangeWrite.RunAsync(async attempt =>
            {
                if (attempt > 1)
                {
                    plan.Secret.Data = plan.OldData; // leave the object as read
                    Diff(plan, await ReadSecretAsync(target, plan.Namespace, plan.Name, ct).ConfigureAwait(false), request);
                }
                var secret = plan.Secret;
                secret.Data = plan.NewData;
                secret.StringData = null;
                secret.Metadata.ManagedFields = null;
                verbose?.Invoke($"Writing secret '{plan.Name}' (resourceVersion {secret.Metadata.ResourceVersion}): key(s) {SecretRotationPlan.Quote(plan.ChangedKeys)}.");
                return await target.Client.CoreV1.ReplaceNamespacedSecretAsync(secret, plan.Name, plan.Namespace, cancellationToken: ct).ConfigureAwait(false);
            }, next => verbose?.Invoke($"Secret '{plan.Name}' was changed meanwhile (409 Conflict): reading it again (attempt {next} of {KubeReadChangeWrite.MaxAttempts})."), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (KubeErrors.Translate(e, target, $"update secret '{plan.Name}'", $"secret '{plan.Name}'", plan.Namespace, ct) is { } translated)
        {
            plan.Secret.Data = plan.OldData;
            throw translated;
        }
    }

    private sealed record Undo(bool Complete, List<string> Steps);

    private static async Task<Undo> RollBackAsync(KubeTarget target, SecretRotationPlan plan, SecretRotationRequest request, V1Secret written,
        List<RotatedWorkload> workloads, Dictionary<RotatedWorkload, string?> previousStamp, Dictionary<RotatedWorkload, string?> ourStamp,
        SecretRotationResult result, Action<string>? verbose, Action<RolloutStatus>? onProgress, bool wait, CancellationToken ct)
    {
        var steps = new List<string>();
        var complete = true;
        var ns = plan.Namespace;
        // 1. The old data, exactly: only over our own write (resourceVersion), never over someone else's.
        try
        {
            written.Data = plan.OldData;
            written.StringData = null;
            written.Metadata.ManagedFields = null;
            var restored = await KubeErrors.CallAsync(target, $"restore secret '{plan.Name}'", $"secret '{plan.Name}'", ns,
                () => target.Client.CoreV1.ReplaceNamespacedSecretAsync(written, plan.Name, ns, cancellationToken: ct), ct).ConfigureAwait(false);
            result.SecretRestored = true;
            result.ResourceVersion = restored.Metadata.ResourceVersion;
            steps.Add($"secret data restored ({plan.OldData.Count} key(s) as before)");
            verbose?.Invoke($"Secret '{plan.Name}': old data restored.");
        }
        catch (OpsToolsException e) when (e.ErrorId == "KubeConflict")
        {
            complete = false;
            steps.Add($"secret NOT restored: someone else changed it after the rotation wrote it (resourceVersion {written.Metadata.ResourceVersion}); check it by hand");
        }
        catch (OpsToolsException e)
        {
            complete = false;
            steps.Add($"secret NOT restored: {e.Message}");
        }
        // 2. Undo our restarts: the previous restartedAt back (the previous ReplicaSet's template), only where ours is still there.
        var undone = new List<RotatedWorkload>();
        foreach (var w in workloads.Where(w => w.RestartedAt is not null))
        {
            var what = $"{w.Kind.ToLowerInvariant()} '{w.Name}'";
            if (!ourStamp.TryGetValue(w, out var stamp) || stamp is null)
            {
                complete = false;
                steps.Add($"{what} restart NOT undone (its restartedAt could not be read back)");
                continue;
            }
            try
            {
                await UndoRestartAsync(target, ns, w.Kind, w.Name, stamp, previousStamp.GetValueOrDefault(w), ct).ConfigureAwait(false);
                w.RolledBack = true;
                undone.Add(w);
                verbose?.Invoke($"{what}: restart undone (pod template annotation {KubeRollout.RestartedAtAnnotation} back to {previousStamp.GetValueOrDefault(w) ?? "absent"}).");
            }
            catch (OpsToolsException e)
            {
                complete = false;
                steps.Add($"{what} restart NOT undone: {e.Message}");
            }
        }
        if (!wait)
        {
            steps.AddRange(undone.Select(w => $"{w.Kind.ToLowerInvariant()} '{w.Name}' restart undone (not waited for)"));
            return new Undo(complete, steps);
        }
        // 3. Wait for the undo rollouts.
        try
        {
            var statuses = await Task.WhenAll(undone.Select(w => KubeRollout.WaitAsync(target, ns, w.Kind, w.Name, request.Timeout, onProgress, ct))).ConfigureAwait(false);
            for (var i = 0; i < undone.Count; i++)
            {
                var w = undone[i];
                w.RollbackRollout = statuses[i];
                if (statuses[i].State != RolloutState.Complete) complete = false;
                steps.Add($"{w.Kind.ToLowerInvariant()} '{w.Name}' restart undone (rollout {statuses[i].State})");
            }
        }
        catch (OpsToolsException e)
        {
            complete = false;
            steps.Add($"waiting for the undone restarts failed: {e.Message}");
        }
        return new Undo(complete, steps);
    }

    /// <summary>
    /// Puts the pod template's restartedAt annotation back to <paramref name="previous"/> (removes it when null), as a JSON
    /// patch that first tests that the value is still <paramref name="ours"/>: a later restart by someone else is left alone.
    /// </summary>
    public static async Task UndoRestartAsync(KubeTarget target, string ns, string kind, string name, string ours, string? previous, CancellationToken ct)
    {
        var patch = new V1Patch(UndoRestartPatch(ours, previous), V1Patch.PatchType.JsonPatch);
        await KubeErrors.CallAsync<object>(target, $"undo the restart of {kind.ToLowerInvariant()} '{name}'", $"{kind.ToLowerInvariant()} '{name}'", ns, async () =>
            KubeRollout.IsStatefulSet(kind)
                ? await target.Client.AppsV1.PatchNamespacedStatefulSetAsync(patch, name, ns, cancellationToken: ct).ConfigureAwait(false)
                : await target.Client.AppsV1.PatchNamespacedDeploymentAsync(patch, name, ns, cancellationToken: ct).ConfigureAwait(false), ct).ConfigureAwait(false);
    }

    /// <summary>The JSON patch of <see cref="UndoRestartAsync"/>.</summary>
    public static string UndoRestartPatch(string ours, string? previous)
    {
        var path = "/spec/template/metadata/annotations/" + KubeRollout.RestartedAtAnnotation.Replace("~", "~0").Replace("/", "~1");
        var test = $"{{\"op\":\"test\",\"path\":\"{path}\",\"value\":{System.Text.Json.JsonSerializer.Serialize(ours)}}}";
        var change = previous is null
            ? $"{{\"op\":\"remove\",\"path\":\"{path}\"}}"
            : $"{{\"op\":\"replace\",\"path\":\"{path}\",\"value\":{System.Text.Json.JsonSerializer.Serialize(previous)}}}";
        return $"[{test},{change}]";
    }
}

/// <summary>Secret metadata for Get-Secret: key names and sizes, never values.</summary>
public static class KubeSecrets
{
    public static async Task<IReadOnlyList<SecretInfo>> ListAsync(KubeTarget target, string ns, CancellationToken ct)
    {
        var list = await KubeErrors.CallAsync(target, "list secrets", null, ns,
            () => target.Client.CoreV1.ListNamespacedSecretAsync(ns, cancellationToken: ct), ct).ConfigureAwait(false);
        return list.Items.Select(s => From(target, s)).OrderBy(s => s.Name, StringComparer.Ordinal).ToList();
    }

    public static async Task<SecretInfo> GetAsync(KubeTarget target, string ns, string name, CancellationToken ct) =>
        From(target, await KubeErrors.CallAsync(target, $"read secret '{name}'", $"secret '{name}'", ns,
            () => target.Client.CoreV1.ReadNamespacedSecretAsync(name, ns, cancellationToken: ct), ct).ConfigureAwait(false));

    public static SecretInfo From(KubeTarget target, V1Secret s)
    {
        var data = s.Data ?? new Dictionary<string, byte[]>();
        var created = s.Metadata.CreationTimestamp;
        var changed = s.Metadata.ManagedFields?.Where(f => f.Time is not null).Select(f => f.Time).Max() ?? created;
        return new SecretInfo
        {
            Context = target.Context, Namespace = s.Metadata.NamespaceProperty, Name = s.Metadata.Name, Type = s.Type ?? "Opaque",
            Keys = data.Keys.Order(StringComparer.Ordinal).ToList(),
            Sizes = data.ToDictionary(kv => kv.Key, kv => kv.Value?.Length ?? 0, StringComparer.Ordinal),
            Immutable = s.Immutable == true, Created = created, LastChanged = changed, ResourceVersion = s.Metadata.ResourceVersion,
            Labels = new Dictionary<string, string>(s.Metadata.Labels ?? new Dictionary<string, string>()),
            ClusterId = target.WithNamespace(s.Metadata.NamespaceProperty).Id,
        };
    }
}
