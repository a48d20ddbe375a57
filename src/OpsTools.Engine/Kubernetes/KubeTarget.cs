using System.Collections.Concurrent;
using k8s;

namespace OpsTools.Engine.Kubernetes;

/// <summary>What a command was told about the cluster to talk to.</summary>
public sealed class KubeTargetSpec
{
    /// <summary>Kubeconfig files given with -Kubeconfig (null: the environment file's, KUBECONFIG, ~/.kube/config).</summary>
    public IReadOnlyList<string>? Kubeconfig { get; init; }
    public string? Context { get; init; }
    public string? Namespace { get; init; }
    /// <summary>The environment file's Kubernetes section, used where the parameters say nothing.</summary>
    public OpsTools.Configuration.KubernetesSettings? Settings { get; init; }
    /// <summary>Seconds one API request may take (default 30).</summary>
    public double TimeoutSec { get; init; } = 30;
}

/// <summary>
/// One cluster + context + namespace, with a ready client. Carries no secret in its properties: the
/// credentials stay inside the client (and the kubeconfig or exec plugin they came from).
/// </summary>
public sealed class KubeTarget
{
    internal KubeTarget(IKubernetes client, string context, string @namespace, string server, string? user, string source)
    {
        Client = client; Context = context; Namespace = @namespace; Server = server; User = user; Source = source;
    }

    /// <summary>The client (shared by every target of the same kubeconfig and context in this session).</summary>
    public IKubernetes Client { get; }
    /// <summary>The kubeconfig context name ("in-cluster" for a pod's service account).</summary>
    public string Context { get; }
    /// <summary>The namespace commands work in unless told otherwise.</summary>
    public string Namespace { get; }
    /// <summary>The API server URL.</summary>
    public string Server { get; }
    /// <summary>The kubeconfig user entry's name (never its credentials).</summary>
    public string? User { get; }
    /// <summary>Where the configuration came from: the kubeconfig file(s), or "in-cluster service account".</summary>
    public string Source { get; }
    /// <summary>The id results carry (ClusterId) so that the next command in a pipeline reuses this target.</summary>
    public string Id { get; internal set; } = "";

    /// <summary>The same cluster and credentials, another namespace.</summary>
    public KubeTarget WithNamespace(string @namespace) =>
        @namespace == Namespace ? this : KubeTargetRegistry.Adopt(new KubeTarget(Client, Context, @namespace, Server, User, Source));

    /// <summary>The names of the namespaces the user may list, sorted (for tab completion).</summary>
    public async Task<IReadOnlyList<string>> NamespaceNamesAsync(CancellationToken ct)
    {
        var list = await KubeErrors.CallAsync(this, "list namespaces", null, null,
            () => Client.CoreV1.ListNamespaceAsync(cancellationToken: ct), ct).ConfigureAwait(false);
        return list.Items.Select(n => n.Metadata.Name).OrderBy(n => n, StringComparer.Ordinal).ToList();
    }

    /// <summary>"context 'prod' (https://api.prod:6443), namespace 'shop'": for messages.</summary>
    public string Describe(string? @namespace = null) => $"context '{Context}' ({Server}), namespace '{@namespace ?? Namespace}'";

    public override string ToString() => $"{Context}/{Namespace}";
}

/// <summary>
/// Targets known to this process, by id, so that objects piped from one command to the next keep
/// their cluster, context and credentials without repeating -Kubeconfig/-Context. Clients are shared
/// per kubeconfig + context (one connection pool, one exec-plugin token cache).
/// </summary>
public static class KubeTargetRegistry
{
    private static readonly ConcurrentDictionary<string, KubeTarget> Targets = new();
    private static readonly ConcurrentDictionary<string, IKubernetes> Clients = new();

    internal static IKubernetes ClientFor(string key, Func<IKubernetes> create) => Clients.GetOrAdd(key, _ => create());

    /// <summary>Registers a target (or finds the same one) and returns it with its id set.</summary>
    public static KubeTarget Adopt(KubeTarget target)
    {
        var id = $"{target.Source}|{target.Context}|{target.Namespace}|{target.Server}";
        var known = Targets.GetOrAdd(id, _ => { target.Id = id; return target; });
        return known;
    }

    public static KubeTarget? Find(string? id) => id is not null && Targets.TryGetValue(id, out var t) ? t : null;

    /// <summary>Forgets cached clients (tests that rewrite a kubeconfig file between calls).</summary>
    public static void Reset()
    {
        Targets.Clear();
        Clients.Clear();
    }
}
