using System.Text.Json.Nodes;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>Sets up deployments whose pods behave a given way and waits until the (fake or real) kubelet has said so.</summary>
internal static class PodTestSupport
{
    /// <summary>Creates a deployment and waits until its pods show <paramref name="behaviour"/> (and its warning events exist); returns the pods.</summary>
    public static JsonArray CreateAndWait(KubeCluster k, string ns, string name, PodBehaviour behaviour, int replicas = 1, TimeSpan? timeout = null)
    {
        k.CreateDeployment(ns, KubeCluster.NewDeployment(name, replicas, behaviour));
        var wait = timeout ?? TimeSpan.FromSeconds(k.External ? 300 : 60);
        if (behaviour == PodBehaviour.Ready)
        {
            k.WaitForDeployment(ns, name, wait);
            return k.ListPods(ns, "app=" + name);
        }
        KubeCluster.WaitFor(() =>
        {
            var pods = k.ListPods(ns, "app=" + name);
            return pods.Count == replicas && pods.All(p => Shows(p!, behaviour)) && pods.All(p => HasWarning(k, ns, (string)p!["metadata"]!["name"]!));
        }, wait, $"pods of {ns}/{name} to show {behaviour} with warning events");
        return k.ListPods(ns, "app=" + name);
    }

    private static bool Shows(JsonNode pod, PodBehaviour behaviour)
    {
        var status = pod["status"];
        var container = status?["containerStatuses"]?.AsArray().FirstOrDefault();
        return behaviour switch
        {
            PodBehaviour.Unschedulable => status?["conditions"]?.AsArray().Any(c => (string?)c?["reason"] == "Unschedulable") == true,
            PodBehaviour.CrashLoop => (string?)container?["state"]?["waiting"]?["reason"] == "CrashLoopBackOff",
            PodBehaviour.OomKilled => (string?)container?["lastState"]?["terminated"]?["reason"] == "OOMKilled",
            PodBehaviour.ImagePullError => (string?)container?["state"]?["waiting"]?["reason"] is "ImagePullBackOff" or "ErrImagePull",
            PodBehaviour.NeverReady => (string?)status?["phase"] == "Running" && container?["state"]?["running"] is not null,
            _ => true,
        };
    }

    private static bool HasWarning(KubeCluster k, string ns, string pod) =>
        k.Api.Get($"/api/v1/namespaces/{ns}/events?fieldSelector=" + Uri.EscapeDataString($"involvedObject.name={pod},type=Warning"))["items"]!.AsArray().Count > 0;

    public static string Name(JsonNode pod) => (string)pod["metadata"]!["name"]!;
}
