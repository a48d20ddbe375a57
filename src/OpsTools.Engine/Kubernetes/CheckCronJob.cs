using System.Text;
using System.Text.Json;
using k8s;
using k8s.Models;
using OpsTools.Configuration;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Kubernetes;

/// <summary>What one checklist CronJob is made of.</summary>
public sealed class CheckCronJobSpec
{
    public required string Name { get; init; }
    public required string Namespace { get; init; }
    /// <summary>Daily, Weekly or Monthly.</summary>
    public required string Checklist { get; init; }
    public required string Schedule { get; init; }
    public required string Image { get; init; }
    /// <summary>The environment file's name and text (it goes into the ConfigMap as it is: it holds no secret).</summary>
    public required string EnvironmentFileName { get; init; }
    public required string EnvironmentFileText { get; init; }
    public required OpsEnvironment Environment { get; init; }
    public IReadOnlyList<string> Skip { get; init; } = Array.Empty<string>();
    public string FailOn { get; init; } = "Critical";
    /// <summary>A Secret whose keys become the job's environment variables (the passwords the environment file names by variable).</summary>
    public string? SecretName { get; init; }
    public long ActiveDeadlineSeconds { get; init; } = 1800;
    public long StartingDeadlineSeconds { get; init; } = 300;
    public int SuccessfulJobsHistoryLimit { get; init; } = 3;
    public int FailedJobsHistoryLimit { get; init; } = 3;
}

/// <summary>
/// Writes what runs a checklist inside Kubernetes on a schedule: a ServiceAccount, a Role and RoleBinding granting the
/// read verbs the chosen checks use (nothing else), a ConfigMap with the environment file, and a CronJob
/// (concurrencyPolicy Forbid, history limits, deadlines) running pwsh with OpsTools from the image the user names. The
/// manifest is written as batch/v1, what every supported cluster serves; applying it chooses the CronJob version by
/// discovery (batch/v1, else batch/v1beta1 on clusters before 1.21).
/// </summary>
public static class CheckCronJob
{
    public const string ConfigPath = "/etc/opstools";
    private static readonly string[] Read = { "get", "list" };

    /// <summary>
    /// The Role's rules for a checklist over an environment: per step that reaches the cluster, the resources its
    /// commands read (list/get only). Steps that do not touch the cluster (HTTP, PostgreSQL, Redis ...) add nothing.
    /// </summary>
    public static IReadOnlyList<CronJobRbacRule> RulesFor(string checklist, OpsEnvironment env, IReadOnlyCollection<string> skip)
    {
        var rules = new List<CronJobRbacRule>();
        bool On(string step) => !skip.Contains(step, StringComparer.OrdinalIgnoreCase);
        if (env.Kubernetes is null) return rules;
        if (checklist == "Daily" && On("Kubernetes"))
        {
            // Get-Deployment (deployments, statefulsets and the replica sets of their rollout), Get-PodHealth (pods and
            // their events), Get-ClusterEvent (warning events).
            rules.Add(new("apps", "deployments", Read, "Get-Deployment"));
            rules.Add(new("apps", "statefulsets", Read, "Get-Deployment"));
            rules.Add(new("apps", "replicasets", Read, "Get-Deployment (rollout state)"));
            rules.Add(new("", "pods", Read, "Get-PodHealth"));
            rules.Add(new("", "events", Read, "Get-PodHealth, Get-ClusterEvent"));
        }
        if (checklist == "Daily" && On("Logs") && env.Logs is { Deployments.Count: > 0 })
        {
            rules.Add(new("", "pods", Read, "Measure-LogError (pod sources)"));
            rules.Add(new("", "pods/log", new[] { "get" }, "Measure-LogError (pod sources)"));
            rules.Add(new("apps", "deployments", Read, "Measure-LogError (pods of a deployment)"));
        }
        if (checklist is "Daily" or "Weekly" && On("Certificates") && env.Certificates is { Kubernetes: true })
        {
            // Certificates are read from TLS secrets: this is the one step that needs secrets, and only when asked for.
            rules.Add(new("", "secrets", Read, "Get-SecretCertificate"));
            rules.Add(new("cert-manager.io", "certificates", Read, "Get-CertManagerCertificate"));
        }
        // One rule per group and resource, verbs merged, the reasons kept.
        return rules.GroupBy(r => (r.ApiGroup, r.Resource))
            .Select(g => new CronJobRbacRule(g.Key.ApiGroup, g.Key.Resource, g.SelectMany(r => r.Verbs).Distinct().OrderBy(v => v, StringComparer.Ordinal).ToArray(),
                string.Join(", ", g.Select(r => r.UsedBy).Distinct())))
            .OrderBy(r => r.ApiGroup, StringComparer.Ordinal).ThenBy(r => r.Resource, StringComparer.Ordinal).ToList();
    }

    /// <summary>The objects, in the order they are applied.</summary>
    internal static IReadOnlyList<IKubernetesObject<V1ObjectMeta>> Build(CheckCronJobSpec s, IReadOnlyList<CronJobRbacRule> rules)
    {
        var labels = new Dictionary<string, string>
        {
            ["app.kubernetes.io/name"] = "opstools",
            ["app.kubernetes.io/component"] = s.Checklist.ToLowerInvariant() + "-check",
            ["app.kubernetes.io/instance"] = s.Name,
            ["app.kubernetes.io/managed-by"] = "OpsTools",
        };
        V1ObjectMeta Meta() => new() { Name = s.Name, NamespaceProperty = s.Namespace, Labels = new Dictionary<string, string>(labels) };
        var objects = new List<IKubernetesObject<V1ObjectMeta>>
        {
            new V1ServiceAccount { ApiVersion = "v1", Kind = "ServiceAccount", Metadata = Meta() },
            new V1ConfigMap { ApiVersion = "v1", Kind = "ConfigMap", Metadata = Meta(), Data = new Dictionary<string, string> { [s.EnvironmentFileName] = s.EnvironmentFileText } },
        };
        if (rules.Count > 0)
        {
            objects.Add(new V1Role
            {
                ApiVersion = "rbac.authorization.k8s.io/v1", Kind = "Role", Metadata = Meta(),
                Rules = rules.Select(r => new V1PolicyRule { ApiGroups = new[] { r.ApiGroup }, Resources = new[] { r.Resource }, Verbs = r.Verbs.ToArray() }).ToList(),
            });
            objects.Add(new V1RoleBinding
            {
                ApiVersion = "rbac.authorization.k8s.io/v1", Kind = "RoleBinding", Metadata = Meta(),
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = s.Name },
                Subjects = new[] { new Rbacv1Subject { Kind = "ServiceAccount", Name = s.Name, NamespaceProperty = s.Namespace } },
            });
        }
        var command = $"Import-Module OpsTools; Invoke-{s.Checklist switch { "Daily" => "DailyCheck", "Weekly" => "WeeklyMaintenance", _ => "MonthlyReview" }} " +
                      $"-Environment {ConfigPath}/{s.EnvironmentFileName} -FailOn {s.FailOn}" +
                      (s.Skip.Count > 0 ? " -Skip " + string.Join(",", s.Skip) : "");
        var container = new V1Container
        {
            Name = "checklist",
            Image = s.Image,
            Command = new[] { "pwsh", "-NoLogo", "-NoProfile", "-NonInteractive", "-Command", command },
            Env = new[] { new V1EnvVar { Name = "HOME", Value = "/tmp" }, new V1EnvVar { Name = "POWERSHELL_TELEMETRY_OPTOUT", Value = "1" } },
            EnvFrom = s.SecretName is null ? null : new[] { new V1EnvFromSource { SecretRef = new V1SecretEnvSource { Name = s.SecretName } } },
            VolumeMounts = new[] { new V1VolumeMount { Name = "environment", MountPath = ConfigPath, ReadOnlyProperty = true }, new V1VolumeMount { Name = "tmp", MountPath = "/tmp" } },
            SecurityContext = new V1SecurityContext
            {
                AllowPrivilegeEscalation = false, ReadOnlyRootFilesystem = true, RunAsNonRoot = true,
                Capabilities = new V1Capabilities { Drop = new[] { "ALL" } },
            },
            Resources = new V1ResourceRequirements
            {
                Requests = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("100m"), ["memory"] = new("256Mi") },
                Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = new("512Mi") },
            },
        };
        objects.Add(new V1CronJob
        {
            ApiVersion = "batch/v1", Kind = "CronJob", Metadata = Meta(),
            Spec = new V1CronJobSpec
            {
                Schedule = s.Schedule,
                ConcurrencyPolicy = "Forbid",
                StartingDeadlineSeconds = s.StartingDeadlineSeconds,
                SuccessfulJobsHistoryLimit = s.SuccessfulJobsHistoryLimit,
                FailedJobsHistoryLimit = s.FailedJobsHistoryLimit,
                JobTemplate = new V1JobTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels) },
                    Spec = new V1JobSpec
                    {
                        // A failed check is a finding, not a flake: one run, its exit code kept in the failed job.
                        BackoffLimit = 0,
                        ActiveDeadlineSeconds = s.ActiveDeadlineSeconds,
                        Template = new V1PodTemplateSpec
                        {
                            Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels) },
                            Spec = new V1PodSpec
                            {
                                ServiceAccountName = s.Name,
                                RestartPolicy = "Never",
                                SecurityContext = new V1PodSecurityContext { RunAsNonRoot = true, RunAsUser = 1000, SeccompProfile = new V1SeccompProfile { Type = "RuntimeDefault" } },
                                Containers = new[] { container },
                                Volumes = new[]
                                {
                                    new V1Volume { Name = "environment", ConfigMap = new V1ConfigMapVolumeSource { Name = s.Name } },
                                    new V1Volume { Name = "tmp", EmptyDir = new V1EmptyDirVolumeSource() },
                                },
                            },
                        },
                    },
                },
            },
        });
        return objects;
    }

    /// <summary>The manifest (YAML, batch/v1) and what it does, as the command's result.</summary>
    public static CheckCronJobManifest Describe(CheckCronJobSpec spec, IReadOnlyList<CronJobRbacRule> rules)
    {
        var objects = Build(spec, rules);
        var job = (V1CronJob)objects[^1];
        return new CheckCronJobManifest
        {
            Name = spec.Name, Namespace = spec.Namespace, Checklist = spec.Checklist, Schedule = spec.Schedule, Image = spec.Image,
            EnvironmentFile = $"{ConfigPath}/{spec.EnvironmentFileName}", Rules = rules, Yaml = ToYaml(objects),
            Command = job.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Command.Last(),
        };
    }

    /// <summary>The manifest as kubectl apply -f takes it: the objects as YAML documents.</summary>
    internal static string ToYaml(IReadOnlyList<IKubernetesObject<V1ObjectMeta>> objects)
    {
        var sb = new StringBuilder();
        foreach (var o in objects)
        {
            sb.Append("---\n");
            sb.Append(KubernetesYaml.Serialize(o).TrimEnd('\n')).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Discovery: batch/v1 when it serves cronjobs, else batch/v1beta1 (clusters before 1.21).</summary>
    public static async Task<string> CronJobVersionAsync(KubeTarget target, CancellationToken ct)
    {
        try
        {
            var v1 = await target.Client.BatchV1.GetAPIResourcesAsync(ct).ConfigureAwait(false);
            if (v1.Resources.Any(r => r.Name == "cronjobs")) return "batch/v1";
        }
        catch (k8s.Autorest.HttpOperationException e) when (KubeErrors.IsNotFound(e)) { }
        var group = await KubeErrors.CallAsync(target, "discover the batch API", "API group 'batch'", null,
            () => target.Client.Batch.GetAPIGroupAsync(ct), ct).ConfigureAwait(false);
        if (group.Versions.Any(v => v.GroupVersion == "batch/v1beta1")) return "batch/v1beta1";
        throw new OpsToolsException("KubeApiNotServed", OpsErrorKind.NotSupported,
            $"The API server of {target.Describe()} serves no CronJob (neither batch/v1 nor batch/v1beta1).", target.Server);
    }

    /// <summary>Creates each object, or replaces it when it exists (the same name in the namespace): what kubectl apply does for objects it made.</summary>
    public static async Task<IReadOnlyList<string>> ApplyAsync(KubeTarget target, CheckCronJobSpec spec, IReadOnlyList<CronJobRbacRule> rules, string cronJobVersion, CancellationToken ct)
    {
        var objects = Build(spec, rules);
        var done = new List<string>();
        foreach (var o in objects)
        {
            var ns = o.Metadata.NamespaceProperty;
            var name = o.Metadata.Name;
            var what = $"{o.Kind}/{name}";
            var created = await KubeErrors.CallAsync(target, $"apply {what}", what, ns, async () =>
            {
                switch (o)
                {
                    case V1ServiceAccount sa:
                        return await Upsert(() => target.Client.CoreV1.ReadNamespacedServiceAccountAsync(name, ns, cancellationToken: ct),
                            () => target.Client.CoreV1.CreateNamespacedServiceAccountAsync(sa, ns, cancellationToken: ct),
                            old => { sa.Metadata.ResourceVersion = old.Metadata.ResourceVersion; return target.Client.CoreV1.ReplaceNamespacedServiceAccountAsync(sa, name, ns, cancellationToken: ct); });
                    case V1ConfigMap cm:
                        return await Upsert(() => target.Client.CoreV1.ReadNamespacedConfigMapAsync(name, ns, cancellationToken: ct),
                            () => target.Client.CoreV1.CreateNamespacedConfigMapAsync(cm, ns, cancellationToken: ct),
                            old => { cm.Metadata.ResourceVersion = old.Metadata.ResourceVersion; return target.Client.CoreV1.ReplaceNamespacedConfigMapAsync(cm, name, ns, cancellationToken: ct); });
                    case V1Role role:
                        return await Upsert(() => target.Client.RbacAuthorizationV1.ReadNamespacedRoleAsync(name, ns, cancellationToken: ct),
                            () => target.Client.RbacAuthorizationV1.CreateNamespacedRoleAsync(role, ns, cancellationToken: ct),
                            old => { role.Metadata.ResourceVersion = old.Metadata.ResourceVersion; return target.Client.RbacAuthorizationV1.ReplaceNamespacedRoleAsync(role, name, ns, cancellationToken: ct); });
                    case V1RoleBinding rb:
                        return await Upsert(() => target.Client.RbacAuthorizationV1.ReadNamespacedRoleBindingAsync(name, ns, cancellationToken: ct),
                            () => target.Client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(rb, ns, cancellationToken: ct),
                            old => { rb.Metadata.ResourceVersion = old.Metadata.ResourceVersion; return target.Client.RbacAuthorizationV1.ReplaceNamespacedRoleBindingAsync(rb, name, ns, cancellationToken: ct); });
                    case V1CronJob cj:
                        return await ApplyCronJobAsync(target, cj, cronJobVersion, ct);
                    default:
                        throw new ArgumentException($"Unexpected object {o.Kind}.");
                }
            }, ct).ConfigureAwait(false);
            done.Add($"{what} {(created ? "created" : "configured")}");
        }
        return done;
    }

    private static async Task<bool> Upsert<T>(Func<Task<T>> read, Func<Task<T>> create, Func<T, Task<T>> replace)
    {
        T old;
        try { old = await read().ConfigureAwait(false); }
        catch (k8s.Autorest.HttpOperationException e) when (KubeErrors.IsNotFound(e))
        {
            await create().ConfigureAwait(false);
            return true;
        }
        await replace(old).ConfigureAwait(false);
        return false;
    }

    /// <summary>The CronJob through the generic object API, so the same body goes to batch/v1 or batch/v1beta1 (their spec is the same for every field written here).</summary>
    private static async Task<bool> ApplyCronJobAsync(KubeTarget target, V1CronJob cj, string version, CancellationToken ct)
    {
        var v = version.Split('/')[1];
        var ns = cj.Metadata.NamespaceProperty;
        var name = cj.Metadata.Name;
        // The typed object, with the version the server serves (the spec is the same for both).
        System.Text.Json.Nodes.JsonNode Body()
        {
            var body = System.Text.Json.Nodes.JsonNode.Parse(KubernetesJson.Serialize(cj))!;
            body["apiVersion"] = version;
            return body;
        }
        JsonElement old;
        try
        {
            old = (JsonElement)await target.Client.CustomObjects.GetNamespacedCustomObjectAsync("batch", v, ns, "cronjobs", name, ct).ConfigureAwait(false);
        }
        catch (k8s.Autorest.HttpOperationException e) when (KubeErrors.IsNotFound(e))
        {
            await target.Client.CustomObjects.CreateNamespacedCustomObjectAsync(Body(), "batch", v, ns, "cronjobs", cancellationToken: ct).ConfigureAwait(false);
            return true;
        }
        cj.Metadata.ResourceVersion = old.GetProperty("metadata").GetProperty("resourceVersion").GetString();
        await target.Client.CustomObjects.ReplaceNamespacedCustomObjectAsync(Body(), "batch", v, ns, "cronjobs", name, cancellationToken: ct).ConfigureAwait(false);
        return false;
    }
}
