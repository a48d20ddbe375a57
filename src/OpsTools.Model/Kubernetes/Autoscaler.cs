namespace OpsTools.Kubernetes;

/// <summary>One metric of a HorizontalPodAutoscaler: what it aims at and, when reported, where it stands.</summary>
public sealed class AutoscalerMetric
{
    /// <summary>Resource, ContainerResource, Pods, Object or External.</summary>
    public string Type { get; set; } = "Resource";
    /// <summary>The metric: cpu, memory, or a custom/external metric's name.</summary>
    public string Name { get; set; } = "";
    /// <summary>ContainerResource metrics: the container.</summary>
    public string? Container { get; set; }
    /// <summary>Utilization (percent of requests), AverageValue or Value.</summary>
    public string TargetType { get; set; } = "Utilization";
    /// <summary>The target as kubectl prints it: "80%", "500m", "1k".</summary>
    public string Target { get; set; } = "";
    /// <summary>The current value as kubectl prints it, or null when not reported (kubectl: &lt;unknown&gt;).</summary>
    public string? Current { get; set; }
    /// <summary>Utilization targets: the percentage.</summary>
    public int? TargetUtilization { get; set; }
    public int? CurrentUtilization { get; set; }

    public override string ToString() => $"{(Current ?? "<unknown>")}/{Target}" + (Name is "cpu" && Type is "Resource" ? "" : $" ({Name})");
}

/// <summary>A HorizontalPodAutoscaler as Get-Autoscaler returns it (what 'kubectl get hpa' and 'kubectl describe hpa' show).</summary>
public sealed class AutoscalerInfo
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary>The API version it was read through: autoscaling/v2 where the server serves it, else autoscaling/v1.</summary>
    public string ApiVersion { get; set; } = "autoscaling/v1";
    /// <summary>The scaled object's kind (Deployment, StatefulSet, DeploymentConfig ...).</summary>
    public string TargetKind { get; set; } = "Deployment";
    public string TargetName { get; set; } = "";
    /// <summary>"Deployment/web", as kubectl's REFERENCE column.</summary>
    public string Reference => $"{TargetKind}/{TargetName}";
    public int MinReplicas { get; set; } = 1;
    public int MaxReplicas { get; set; }
    public int CurrentReplicas { get; set; }
    public int DesiredReplicas { get; set; }
    /// <summary>The metrics it scales on, with current values when the metrics pipeline reports them.</summary>
    public IReadOnlyList<AutoscalerMetric> Metrics { get => _metrics; set => _metrics = TextList.From(value); }
    private IReadOnlyList<AutoscalerMetric> _metrics = new TextList<AutoscalerMetric>();
    /// <summary>kubectl's TARGETS column: "45%/80%", "&lt;unknown&gt;/80%", several joined by ", ".</summary>
    public string Targets => Metrics.Count == 0 ? "<none>" : string.Join(", ", Metrics.Select(m => $"{m.Current ?? "<unknown>"}/{m.Target}"));
    /// <summary>The CPU utilization target in percent (null when it has none).</summary>
    public int? TargetCpu => Metrics.FirstOrDefault(m => m.Type == "Resource" && m.Name == "cpu" && m.TargetType == "Utilization")?.TargetUtilization;
    /// <summary>The CPU utilization in percent, when reported.</summary>
    public int? CurrentCpu => Metrics.FirstOrDefault(m => m.Type == "Resource" && m.Name == "cpu" && m.TargetType == "Utilization")?.CurrentUtilization;
    /// <summary>AbleToScale, ScalingActive, ScalingLimited with their reasons and messages.</summary>
    public IReadOnlyList<WorkloadCondition> Conditions { get => _conditions; set => _conditions = TextList.From(value); }
    private IReadOnlyList<WorkloadCondition> _conditions = new TextList<WorkloadCondition>();
    /// <summary>True when the ScalingLimited condition is True (desired replicas clamped to min or max).</summary>
    public bool ScalingLimited => Conditions.Any(c => c.Type == "ScalingLimited" && c.Status == "True");
    /// <summary>False when ScalingActive is False (e.g. metrics cannot be read: FailedGetResourceMetric).</summary>
    public bool? ScalingActive => Conditions.FirstOrDefault(c => c.Type == "ScalingActive") is { } c ? c.Status == "True" : null;
    public DateTime? LastScaleTime { get; set; }
    public DateTime? Created { get; set; }
    public TimeSpan? Age => Created is null ? null : DateTime.UtcNow - Created.Value.ToUniversalTime();
    /// <summary>Notes on what the API version read cannot show (autoscaling/v1 hides non-CPU metric details).</summary>
    public string? Note { get; set; }
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    public override string ToString() => $"hpa/{Name} -> {Reference} {MinReplicas}-{MaxReplicas} ({CurrentReplicas} now) {Targets}";
}

/// <summary>What Set-Autoscaler changed: the autoscaler before and after, and the changes in words.</summary>
public sealed class AutoscalerChangeResult
{
    public string Context { get; set; } = "";
    public string Namespace { get; set; } = "";
    public string Name { get; set; } = "";
    public string ApiVersion { get; set; } = "";
    /// <summary>"minReplicas 1 -> 3", "cpu target 80% -> 60%"; empty when nothing had to change.</summary>
    public IReadOnlyList<string> Changes { get => _changes; set => _changes = TextList.From(value); }
    private IReadOnlyList<string> _changes = new TextList<string>();
    public AutoscalerInfo Before { get; set; } = new();
    public AutoscalerInfo After { get; set; } = new();
    /// <summary>Carries the cluster to the next command in a pipeline (no secret).</summary>
    public string ClusterId { get; set; } = "";

    public override string ToString() => $"hpa/{Name}: " + (Changes.Count == 0 ? "unchanged" : string.Join("; ", Changes));
}
