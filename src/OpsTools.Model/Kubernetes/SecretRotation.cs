namespace OpsTools.Kubernetes;

/// <summary>How a secret rotation (Update-Secret) ended.</summary>
public enum SecretRotationStatus
{
    /// <summary>The secret holds the new data and every restarted workload rolled out.</summary>
    Completed,
    /// <summary>Something failed after the secret was changed: the old data is back and the restarts were undone.</summary>
    RolledBack,
    /// <summary>Something failed and the rollback was incomplete too: see Message and the workloads' states.</summary>
    Failed,
}

/// <summary>One Deployment or StatefulSet that Update-Secret restarted because it uses the secret.</summary>
public sealed class RotatedWorkload
{
    /// <summary>Deployment or StatefulSet.</summary>
    public string Kind { get; set; } = "Deployment";
    public string Name { get; set; } = "";
    /// <summary>How it uses the secret: env (secretKeyRef), envFrom, volume, projected volume.</summary>
    public IReadOnlyList<string> UsedBy { get => _usedBy; set => _usedBy = TextList.From(value); }
    private IReadOnlyList<string> _usedBy = new TextList<string>();
    /// <summary>The restartedAt stamp written (null when the restart was not made).</summary>
    public DateTime? RestartedAt { get; set; }
    /// <summary>The rollout after the restart (null when not waited for).</summary>
    public RolloutStatus? Rollout { get; set; }
    /// <summary>True when the restart was undone (the previous pod template put back).</summary>
    public bool RolledBack { get; set; }
    /// <summary>The rollout after the undo (null when there was no undo).</summary>
    public RolloutStatus? RollbackRollout { get; set; }
    /// <summary>The state that matters now: the rollback's when rolled back, else the restart's.</summary>
    public RolloutState? State => (RollbackRollout ?? Rollout)?.State;

    public override string ToString() => $"{Kind.ToLowerInvariant()}/{Name}" + (State is null ? "" : $": {State}") + (RolledBack ? " (rolled back)" : "");
}

/// <summary>What Update-Secret did: the keys it changed (names only, never values), the workloads it restarted and how it ended.</summary>
public sealed class SecretRotationResult
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    /// <summary>The secret's name.</summary>
    public string Name { get; set; } = "";
    /// <summary>The secret's name (same as Name).</summary>
    public string Secret => Name;
    /// <summary>Keys whose value changed, was added or was removed (names only).</summary>
    public IReadOnlyList<string> ChangedKeys { get => _changedKeys; set => _changedKeys = TextList.From(value); }
    private IReadOnlyList<string> _changedKeys = new TextList<string>();
    /// <summary>Keys that did not exist before.</summary>
    public IReadOnlyList<string> AddedKeys { get => _addedKeys; set => _addedKeys = TextList.From(value); }
    private IReadOnlyList<string> _addedKeys = new TextList<string>();
    /// <summary>Keys removed (-Replace).</summary>
    public IReadOnlyList<string> RemovedKeys { get => _removedKeys; set => _removedKeys = TextList.From(value); }
    private IReadOnlyList<string> _removedKeys = new TextList<string>();
    /// <summary>Keys kept as they were.</summary>
    public IReadOnlyList<string> UnchangedKeys { get => _unchangedKeys; set => _unchangedKeys = TextList.From(value); }
    private IReadOnlyList<string> _unchangedKeys = new TextList<string>();
    /// <summary>The workloads restarted (and, after a failure, rolled back).</summary>
    public IReadOnlyList<RotatedWorkload> Restarted { get => _restarted; set => _restarted = TextList.From(value); }
    private IReadOnlyList<RotatedWorkload> _restarted = new TextList<RotatedWorkload>();
    public SecretRotationStatus Status { get; set; }
    /// <summary>True when the old secret data was put back after a failure.</summary>
    public bool SecretRestored { get; set; }
    /// <summary>What happened, in a sentence or two (never a value).</summary>
    public string Message { get; set; } = "";
    /// <summary>The secret's resourceVersion before and after the rotation.</summary>
    public string? PreviousResourceVersion { get; set; }
    public string? ResourceVersion { get; set; }
    public TimeSpan Duration { get; set; }
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    public override string ToString() => $"secret/{Name}: {Status} ({ChangedKeys.Count} key(s) changed, {Restarted.Count} workload(s) restarted)";
}

/// <summary>A secret's metadata as Get-Secret returns it: names and sizes of its keys, never their values.</summary>
public sealed class SecretInfo
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary>Opaque, kubernetes.io/tls, kubernetes.io/dockerconfigjson ...</summary>
    public string Type { get; set; } = "Opaque";
    /// <summary>The keys, sorted.</summary>
    public IReadOnlyList<string> Keys { get => _keys; set => _keys = TextList.From(value); }
    private IReadOnlyList<string> _keys = new TextList<string>();
    /// <summary>Each key's value size in bytes.</summary>
    public IReadOnlyDictionary<string, int> Sizes { get; set; } = new Dictionary<string, int>();
    public bool Immutable { get; set; }
    public DateTime? Created { get; set; }
    /// <summary>The latest write recorded in the object's managedFields (its creation when none).</summary>
    public DateTime? LastChanged { get; set; }
    public TimeSpan? Age => Created is null ? null : DateTime.UtcNow - Created.Value.ToUniversalTime();
    public string? ResourceVersion { get; set; }
    public IReadOnlyDictionary<string, string> Labels { get; set; } = new Dictionary<string, string>();
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    public override string ToString() => $"secret/{Name} ({Type}, {Keys.Count} keys)";
}
