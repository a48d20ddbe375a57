namespace OpsTools.Configuration;

/// <summary>The cluster an environment file names (<c>Kubernetes</c> section).</summary>
public sealed class KubernetesSettings
{
    /// <summary>Kubeconfig file(s) to read instead of KUBECONFIG / ~/.kube/config.</summary>
    public IReadOnlyList<string> Kubeconfig { get; set; } = Array.Empty<string>();
    /// <summary>The kubeconfig context (default: the kubeconfig's current context).</summary>
    public string? Context { get; set; }
    /// <summary>The namespace (OpenShift: project) the deployments live in (default: the context's).</summary>
    public string? Namespace { get; set; }
    /// <summary>The deployments the daily check looks at (empty: every deployment in the namespace).</summary>
    public IReadOnlyList<string> Deployments { get; set; } = Array.Empty<string>();

    public override string ToString() => $"{Context ?? "(current context)"}/{Namespace ?? "(context namespace)"}";
}
