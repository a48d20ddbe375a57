using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;

namespace OpsTools.Engine.Kubernetes;

/// <summary>
/// Finds the cluster the way kubectl does: -Kubeconfig, else the environment file's Kubeconfig, else
/// KUBECONFIG (several files, merged, first one wins), else ~/.kube/config, else the pod's service account
/// (a CronJob running OpsTools in the cluster). -Context/-Namespace override the environment's, which
/// override the kubeconfig's. The kubeconfig is only read, never written.
/// </summary>
public static class KubeTargetResolver
{
    public static KubeTarget Resolve(KubeTargetSpec spec)
    {
        // The same environment file on the admin's machine and inside the cluster (New-CheckCronJob's ConfigMap): in a
        // pod, where the kubeconfig the file names does not exist and no -Kubeconfig/-Context was given, the pod's
        // service account is the cluster's credential.
        if (spec.Kubeconfig is not { Count: > 0 } && spec.Context is null && IsInCluster()
            && (spec.Settings?.Kubeconfig is not { Count: > 0 } named || !named.Select(Expand).Any(File.Exists))
            && string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("KUBECONFIG"))
            && !File.Exists(Path.Combine(HomeDirectory(), ".kube", "config")))
            return InCluster(spec);
        var files = spec.Kubeconfig is { Count: > 0 } given ? given.Select(Expand).ToList()
            : spec.Settings?.Kubeconfig is { Count: > 0 } fromEnv ? fromEnv.Select(Expand).ToList()
            : null;
        var explicitFiles = files is not null;
        if (files is null)
        {
            var variable = Environment.GetEnvironmentVariable("KUBECONFIG");
            files = string.IsNullOrWhiteSpace(variable)
                ? new List<string> { Path.Combine(HomeDirectory(), ".kube", "config") }
                : variable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Expand).ToList();
        }
        var context = spec.Context ?? spec.Settings?.Context;

        var existing = files.Where(File.Exists).ToList();
        if (explicitFiles && existing.Count < files.Count)
            throw new OpsToolsException("KubeconfigNotFound", OpsErrorKind.NotFound,
                $"Kubeconfig file not found: {string.Join(", ", files.Where(f => !File.Exists(f)))}. Give the path of an existing kubeconfig (or leave -Kubeconfig out to use KUBECONFIG or ~/.kube/config).",
                files.First(f => !File.Exists(f)));

        if (existing.Count == 0)
        {
            if (IsInCluster() && context is null)
                return InCluster(spec);
            throw new OpsToolsException("KubeconfigNotFound", OpsErrorKind.NotFound,
                $"No kubeconfig found (looked at {string.Join(", ", files)}) and not running inside a cluster. Log in first (kubectl config / oc login / az aks get-credentials / aws eks update-kubeconfig), set KUBECONFIG, or pass -Kubeconfig.",
                files.FirstOrDefault());
        }

        K8SConfiguration config;
        try
        {
            config = Load(existing);
        }
        catch (Exception e) when (e is KubeConfigException or YamlDotNet.Core.YamlException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new OpsToolsException("KubeconfigInvalid", OpsErrorKind.InvalidData,
                $"The kubeconfig {string.Join(", ", existing)} cannot be read: {FirstLine(e)}. Check it with 'kubectl config view'.", existing[0], e);
        }

        context ??= config.CurrentContext;
        var contexts = config.Contexts?.Select(c => c.Name).ToList() ?? new List<string>();
        if (string.IsNullOrEmpty(context))
            throw new OpsToolsException("KubeContextNotFound", OpsErrorKind.NotFound,
                $"The kubeconfig {string.Join(", ", existing)} has no current context. Pass -Context (one of: {(contexts.Count == 0 ? "(none)" : string.Join(", ", contexts))}).", null);
        if (!contexts.Contains(context))
            throw new OpsToolsException("KubeContextNotFound", OpsErrorKind.NotFound,
                $"Context '{context}' not found in {string.Join(", ", existing)}. Contexts there: {(contexts.Count == 0 ? "(none)" : string.Join(", ", contexts))}.", context);

        KubernetesClientConfiguration clientConfig;
        try
        {
            clientConfig = KubernetesClientConfiguration.BuildConfigFromConfigObject(config, context);
        }
        catch (Exception e) when (ExecPlugin(config, context) is { } plugin && e is KubeConfigException or IOException or System.ComponentModel.Win32Exception)
        {
            // The client runs the user's exec credential plugin (EKS, AKS, GKE, oc ...) while building the
            // configuration: its failure is a login problem, not a broken kubeconfig.
            throw new OpsToolsException("KubeAuthPluginFailed", OpsErrorKind.PermissionDenied,
                $"Cannot get credentials for context '{context}' ({string.Join(", ", existing)}): its exec plugin '{plugin}' failed: {Security.Redaction.ScrubText(FirstLine(e))}. Run the plugin (or its login command) by hand to see why, log in again and retry.",
                context, e);
        }
        catch (Exception e) when (e is KubeConfigException or InvalidOperationException or ArgumentException or FormatException or IOException or System.Security.Cryptography.CryptographicException)
        {
            throw new OpsToolsException("KubeconfigInvalid", OpsErrorKind.InvalidData,
                $"Context '{context}' in {string.Join(", ", existing)} cannot be used: {FirstLine(e)}.", context, e);
        }

        var userName = config.Contexts!.First(c => c.Name == context).ContextDetails?.User;
        var ns = spec.Namespace ?? spec.Settings?.Namespace ?? (string.IsNullOrEmpty(clientConfig.Namespace) ? "default" : clientConfig.Namespace);
        var source = string.Join(Path.PathSeparator, existing);
        var timeout = TimeSpan.FromSeconds(spec.TimeoutSec);
        var stamp = string.Join("|", existing.Select(f => File.GetLastWriteTimeUtc(f).Ticks));
        var client = KubeTargetRegistry.ClientFor($"{source}|{stamp}|{context}|{timeout}", () =>
        {
            clientConfig.HttpClientTimeout = timeout;
            clientConfig.UserAgent = "OpsTools";
            return new k8s.Kubernetes(clientConfig);
        });
        return KubeTargetRegistry.Adopt(new KubeTarget(client, context, ns, clientConfig.Host ?? "?", userName, source));
    }

    /// <summary>The command of the exec credential plugin the context's user runs, or null.</summary>
    private static string? ExecPlugin(K8SConfiguration config, string context)
    {
        var user = config.Contexts?.FirstOrDefault(c => c.Name == context)?.ContextDetails?.User;
        return config.Users?.FirstOrDefault(u => u.Name == user)?.UserCredentials?.ExternalExecution?.Command;
    }

    private static KubeTarget InCluster(KubeTargetSpec spec)
    {
        KubernetesClientConfiguration config;
        try { config = KubernetesClientConfiguration.InClusterConfig(); }
        catch (Exception e) when (e is KubeConfigException or IOException or UnauthorizedAccessException)
        {
            throw new OpsToolsException("KubeconfigInvalid", OpsErrorKind.InvalidData,
                $"Running inside a cluster, but the service account cannot be read: {FirstLine(e)}.", null, e);
        }
        var ns = spec.Namespace ?? spec.Settings?.Namespace ?? config.Namespace ?? "default";
        var timeout = TimeSpan.FromSeconds(spec.TimeoutSec);
        var client = KubeTargetRegistry.ClientFor($"in-cluster|{timeout}", () =>
        {
            config.HttpClientTimeout = timeout;
            config.UserAgent = "OpsTools";
            return new k8s.Kubernetes(config);
        });
        return KubeTargetRegistry.Adopt(new KubeTarget(client, "in-cluster", ns, config.Host ?? "?", "service account", "in-cluster service account"));
    }

    private static bool IsInCluster()
    {
        try { return KubernetesClientConfiguration.IsInCluster(); }
        catch (Exception) { return false; }
    }

    /// <summary>Reads the contexts of the kubeconfig a command would use (for tab completion); empty on any problem.</summary>
    public static IReadOnlyList<(string Name, string? Namespace, string? Cluster)> Contexts(IReadOnlyList<string>? kubeconfig)
    {
        try
        {
            var files = kubeconfig is { Count: > 0 } ? kubeconfig.Select(Expand).ToList()
                : Environment.GetEnvironmentVariable("KUBECONFIG") is { Length: > 0 } v
                    ? v.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(Expand).ToList()
                    : new List<string> { Path.Combine(HomeDirectory(), ".kube", "config") };
            var existing = files.Where(File.Exists).ToList();
            if (existing.Count == 0) return Array.Empty<(string, string?, string?)>();
            var config = Load(existing);
            return config.Contexts?.Select(c => (c.Name, c.ContextDetails?.Namespace, c.ContextDetails?.Cluster)).ToList()
                ?? new List<(string, string?, string?)>();
        }
        catch (Exception) { return Array.Empty<(string, string?, string?)>(); }
    }

    /// <summary>
    /// Reads and merges kubeconfig files the way kubectl does: the first file that names a cluster, user
    /// or context wins, and the first file that sets current-context decides it. Relative certificate
    /// paths stay relative to their own file.
    /// </summary>
    private static K8SConfiguration Load(IReadOnlyList<string> files)
    {
        K8SConfiguration? merged = null;
        foreach (var file in files)
        {
            var one = KubernetesClientConfiguration.LoadKubeConfig(new FileInfo(file), useRelativePaths: false);
            var dir = Path.GetDirectoryName(Path.GetFullPath(file))!;
            string? Abs(string? p) => string.IsNullOrEmpty(p) || Path.IsPathRooted(p) ? p : Path.GetFullPath(Path.Combine(dir, p));
            foreach (var c in one.Clusters ?? Enumerable.Empty<Cluster>())
                if (c.ClusterEndpoint is { } ep) ep.CertificateAuthority = Abs(ep.CertificateAuthority);
            foreach (var u in one.Users ?? Enumerable.Empty<User>())
                if (u.UserCredentials is { } cred) { cred.ClientCertificate = Abs(cred.ClientCertificate); cred.ClientKey = Abs(cred.ClientKey); }
            if (merged is null) { merged = one; continue; }
            if (string.IsNullOrEmpty(merged.CurrentContext)) merged.CurrentContext = one.CurrentContext;
            merged.Clusters = Union(merged.Clusters, one.Clusters, c => c.Name);
            merged.Users = Union(merged.Users, one.Users, u => u.Name);
            merged.Contexts = Union(merged.Contexts, one.Contexts, c => c.Name);
        }
        return merged!;
    }

    private static List<T> Union<T>(IEnumerable<T>? first, IEnumerable<T>? second, Func<T, string> name)
    {
        var result = (first ?? Enumerable.Empty<T>()).ToList();
        var names = new HashSet<string>(result.Select(name));
        result.AddRange((second ?? Enumerable.Empty<T>()).Where(x => names.Add(name(x))));
        return result;
    }

    private static string Expand(string path) =>
        path.StartsWith("~/", StringComparison.Ordinal) || path == "~" ? Path.Combine(HomeDirectory(), path.TrimStart('~').TrimStart('/')) : Path.GetFullPath(path);

    private static string HomeDirectory() =>
        Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h
        : Environment.GetEnvironmentVariable("USERPROFILE") is { Length: > 0 } u ? u
        : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } p ? p : "/";

    internal static string FirstLine(Exception e)
    {
        var m = e.Message;
        var i = m.IndexOf('\n');
        return (i < 0 ? m : m[..i]).TrimEnd('.');
    }
}
