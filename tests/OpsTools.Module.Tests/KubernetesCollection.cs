using OpsTools.TestKit;

namespace OpsTools.Module.Tests;

/// <summary>
/// Tests that need a Kubernetes API server share one (see KubeCluster: a real kube-apiserver and
/// controller manager with a fake kubelet, or OPSTOOLS_TEST_KUBECONFIG's cluster) and run one class at a time.
/// Fault tests that stop the API server start their own.
/// </summary>
[CollectionDefinition("Kubernetes")]
public sealed class KubernetesCollection : ICollectionFixture<KubeClusterFixture> { }
