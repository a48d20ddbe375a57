using k8s.Models;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Engine.Tests.Kubernetes;

/// <summary>The rollout rules are kubectl's (rollout_status.go): the same states for the same status fields.</summary>
public sealed class RolloutRulesTests
{
    private static V1Deployment Deployment(int desired, long generation, long observed, int updated, int total, int available,
        string? progressingReason = null, bool paused = false) => new()
    {
        Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "shop", Generation = generation },
        Spec = new V1DeploymentSpec { Replicas = desired, Paused = paused },
        Status = new V1DeploymentStatus
        {
            ObservedGeneration = observed, UpdatedReplicas = updated, Replicas = total, AvailableReplicas = available,
            Conditions = progressingReason is null ? null : new List<V1DeploymentCondition> { new() { Type = "Progressing", Status = "False", Reason = progressingReason } },
        },
    };

    [Theory]
    // generation not observed yet
    [InlineData(3, 2, 1, 3, 3, 3, null, RolloutState.Progressing, "Waiting for deployment spec update to be observed...")]
    // not all replicas updated
    [InlineData(3, 2, 2, 1, 3, 3, null, RolloutState.Progressing, "Waiting for deployment \"web\" rollout to finish: 1 out of 3 new replicas have been updated...")]
    // old replicas still there
    [InlineData(3, 2, 2, 3, 4, 3, null, RolloutState.Progressing, "Waiting for deployment \"web\" rollout to finish: 1 old replicas are pending termination...")]
    // updated but not available
    [InlineData(3, 2, 2, 3, 3, 2, null, RolloutState.Progressing, "Waiting for deployment \"web\" rollout to finish: 2 of 3 updated replicas are available...")]
    // done
    [InlineData(3, 2, 2, 3, 3, 3, null, RolloutState.Complete, "deployment \"web\" successfully rolled out")]
    // scaled to zero and done
    [InlineData(0, 5, 5, 0, 0, 0, null, RolloutState.Complete, "deployment \"web\" successfully rolled out")]
    // scaled to zero, controller has observed it, but the replicas are still there (kubectl would say done here)
    [InlineData(0, 5, 5, 0, 2, 0, null, RolloutState.Progressing, "Waiting for deployment \"web\" rollout to finish: 2 old replicas are pending termination...")]
    [InlineData(0, 5, 5, 2, 2, 2, null, RolloutState.Progressing, "Waiting for deployment \"web\" scale-down to finish: 2 extra replicas are pending termination...")]
    [InlineData(1, 5, 5, 3, 3, 3, null, RolloutState.Progressing, "Waiting for deployment \"web\" scale-down to finish: 2 extra replicas are pending termination...")]
    // the controller gave up
    [InlineData(3, 2, 2, 1, 3, 2, "ProgressDeadlineExceeded", RolloutState.Failed, "deployment \"web\" exceeded its progress deadline")]
    public void Deployment_states_follow_kubectl(int desired, long generation, long observed, int updated, int total, int available,
        string? reason, RolloutState state, string message)
    {
        var (s, m) = KubeRollout.Evaluate(Deployment(desired, generation, observed, updated, total, available, reason));
        Assert.Equal(state, s);
        Assert.Equal(message, m);
    }

    [Fact]
    public void A_paused_deployment_that_has_not_finished_is_Paused_not_Progressing()
    {
        var (s, m) = KubeRollout.Evaluate(Deployment(3, 2, 2, 1, 3, 3, paused: true));
        Assert.Equal(RolloutState.Paused, s);
        Assert.Contains("Resume-Rollout", m);
        Assert.Equal(RolloutState.Complete, KubeRollout.Evaluate(Deployment(3, 2, 2, 3, 3, 3, paused: true)).State);
    }

    private static V1StatefulSet StatefulSet(int desired, long generation, long observed, int ready, int updated, string current, string update,
        int? partition = null, string strategy = "RollingUpdate") => new()
    {
        Metadata = new V1ObjectMeta { Name = "db", NamespaceProperty = "shop", Generation = generation },
        Spec = new V1StatefulSetSpec
        {
            Replicas = desired,
            UpdateStrategy = new V1StatefulSetUpdateStrategy
            {
                Type = strategy,
                RollingUpdate = partition is null ? null : new V1RollingUpdateStatefulSetStrategy { Partition = partition },
            },
        },
        Status = new V1StatefulSetStatus { ObservedGeneration = observed, ReadyReplicas = ready, UpdatedReplicas = updated, CurrentReplicas = ready, CurrentRevision = current, UpdateRevision = update },
    };

    [Fact]
    public void StatefulSet_states_follow_kubectl()
    {
        Assert.Equal((RolloutState.Progressing, "Waiting for statefulset spec update to be observed..."), KubeRollout.Evaluate(StatefulSet(3, 2, 1, 3, 3, "r1", "r1")));
        Assert.Equal((RolloutState.Progressing, "Waiting for 1 pods to be ready..."), KubeRollout.Evaluate(StatefulSet(3, 2, 2, 2, 2, "r1", "r2")));
        Assert.Equal((RolloutState.Progressing, "waiting for statefulset rolling update to complete 2 pods at revision r2..."), KubeRollout.Evaluate(StatefulSet(3, 2, 2, 3, 2, "r1", "r2")));
        Assert.Equal((RolloutState.Complete, "statefulset rolling update complete 3 pods at revision r2..."), KubeRollout.Evaluate(StatefulSet(3, 2, 2, 3, 3, "r2", "r2")));
        Assert.Equal(RolloutState.Progressing, KubeRollout.Evaluate(StatefulSet(3, 2, 2, 3, 0, "r1", "r2", partition: 2)).State);
        Assert.Equal(RolloutState.Complete, KubeRollout.Evaluate(StatefulSet(3, 2, 2, 3, 1, "r1", "r2", partition: 2)).State);
        Assert.Equal(RolloutState.Failed, KubeRollout.Evaluate(StatefulSet(3, 2, 2, 3, 3, "r1", "r1", strategy: "OnDelete")).State);
        // Scaled down to 1: done only when the extra pods are gone.
        var shrinking = StatefulSet(1, 3, 3, 3, 3, "r2", "r2");
        shrinking.Status.Replicas = 3;
        Assert.Equal((RolloutState.Progressing, "Waiting for statefulset scale-down to finish: 2 extra pods are pending termination..."), KubeRollout.Evaluate(shrinking));
        shrinking.Status.Replicas = 1;
        Assert.Equal(RolloutState.Complete, KubeRollout.Evaluate(shrinking).State);
    }
}
