namespace OpsTools.Kubernetes;

/// <summary>One rule of the checklist job's Role: the verbs on one resource, and the commands that use them.</summary>
public sealed record CronJobRbacRule(string ApiGroup, string Resource, IReadOnlyList<string> Verbs, string UsedBy)
{
    /// <summary>The rule as kubectl describe role prints it: resource.group [verbs].</summary>
    public override string ToString() => $"{(ApiGroup.Length == 0 ? Resource : Resource + "." + ApiGroup)} [{string.Join(" ", Verbs)}]";
}

/// <summary>What New-CheckCronJob wrote or applied: the CronJob that runs a checklist inside the cluster.</summary>
public sealed class CheckCronJobManifest
{
    /// <summary>The name of every object (ServiceAccount, ConfigMap, Role, RoleBinding, CronJob).</summary>
    public string Name { get; set; } = "";
    public string Namespace { get; set; } = "";
    /// <summary>Daily, Weekly or Monthly.</summary>
    public string Checklist { get; set; } = "";
    /// <summary>The cron schedule (the cluster's time zone: UTC on most clusters).</summary>
    public string Schedule { get; set; } = "";
    public string Image { get; set; } = "";
    /// <summary>The environment file the job reads (in the ConfigMap, mounted at /etc/opstools).</summary>
    public string EnvironmentFile { get; set; } = "";
    /// <summary>The Role's rules: read verbs only, for the steps that reach the cluster.</summary>
    public IReadOnlyList<CronJobRbacRule> Rules { get; set; } = Array.Empty<CronJobRbacRule>();
    /// <summary>The pwsh command the job runs.</summary>
    public string Command { get; set; } = "";
    /// <summary>The manifest (batch/v1), as kubectl apply -f takes it.</summary>
    public string Yaml { get; set; } = "";
    /// <summary>The file the manifest was written to (-Path), or null.</summary>
    public string? Path { get; set; }
    /// <summary>Whether -Apply created or replaced the objects in the cluster.</summary>
    public bool Applied { get; set; }
    /// <summary>With -Apply: the CronJob API version the server was given (batch/v1, or batch/v1beta1 before Kubernetes 1.21).</summary>
    public string? AppliedApiVersion { get; set; }
    /// <summary>With -Apply: each object and what happened to it (created, configured).</summary>
    public IReadOnlyList<string> Objects { get; set; } = Array.Empty<string>();
    public string? ClusterId { get; set; }
}
