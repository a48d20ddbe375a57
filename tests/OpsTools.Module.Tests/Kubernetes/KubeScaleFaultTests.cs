using System.Diagnostics;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>An API server of its own for the fault tests, which stop it and pause its kubelet.</summary>
public sealed class FaultCluster : IDisposable
{
    public KubeCluster Cluster { get; } = KubeCluster.Start();
    public void Dispose() => Cluster.Dispose();
}

/// <summary>
/// Set-ReplicaCount when things go wrong: other clients writing the same deployment (409 Conflict), the API
/// server dying in the middle of -Wait, a kubelet that stops reporting. Their own API server (stopped and
/// paused here), never the shared one.
/// </summary>
[Collection("Kubernetes")]
public sealed class KubeScaleFaultTests : IClassFixture<FaultCluster>, IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;

    public KubeScaleFaultTests(FaultCluster fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("fault");
    }

    public void Dispose()
    {
        if (_k.Kubelet is { } kubelet) kubelet.Paused = false;
        _k.DeleteNamespace(_ns);
    }

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private int SpecReplicas(string name) => (int)_k.GetDeployment(_ns, name)["spec"]!["replicas"]!;

    [Fact]
    public void Concurrent_writes_to_the_deployment_are_retried_after_409_and_every_scale_lands()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("busy", 1));
        using var s = new ModuleSession();
        using var stop = new CancellationTokenSource();
        var writes = 0;
        // Another client (an operator, a CI job) keeps writing the deployment: each write changes its resourceVersion.
        var writer = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                _k.Api.Patch($"/apis/apps/v1/namespaces/{_ns}/deployments/busy",
                    new { metadata = new { annotations = new Dictionary<string, string> { ["opstools.test/writer"] = (++writes).ToString() } } });
                // Often enough to collide with the scale's read-then-write, not so often that a loaded 2-core machine
                // turns every one of its bounded retries into another conflict.
                Thread.Sleep(10);
            }
        });
        var conflicts = 0;
        var runs = 0;
        try
        {
            // Scale in a loop until the 409 path has really been taken a few times (bounded).
            var sw = Stopwatch.StartNew();
            while (conflicts < 3 && sw.Elapsed < TimeSpan.FromSeconds(60))
            {
                var r = s.Run(_k.PowerShellSetup(_ns) + "; 1..20 | ForEach-Object { Set-ReplicaCount @Kube busy (($_ % 4) + 1) -Verbose }");
                runs++;
                Assert.Empty(r.Errors);
                Assert.Equal(20, r.Output.Count);
                // Each result says what it replaced and how many writes it took.
                for (var i = 0; i < 20; i++)
                {
                    Assert.Equal((i + 1) % 4 + 1, P(r.Output[i], "DesiredReplicas"));
                    var attempts = (int)P(r.Output[i], "Attempts")!;
                    if (attempts > 1) conflicts++;
                    if (i > 0) Assert.Equal(P(r.Output[i - 1], "DesiredReplicas"), P(r.Output[i], "PreviousReplicas"));
                }
                Assert.Equal(r.Output.Count(o => (int)P(o, "Attempts")! > 1), r.Verbose.Count(v => v.Contains("409 Conflict")));
            }
        }
        finally
        {
            stop.Cancel();
            writer.Wait();
        }
        Assert.True(conflicts >= 3, $"only {conflicts} conflicts in {runs} runs of 20 scales against {writes} concurrent writes: the retry path was not exercised");
        Assert.Equal(1, SpecReplicas("busy")); // the last scale: (20 % 4) + 1
        Assert.Equal(writes.ToString(), (string?)_k.GetDeployment(_ns, "busy")["metadata"]!["annotations"]!["opstools.test/writer"]); // nothing of the other client's lost
    }

    [Fact]
    public void Several_sessions_scaling_the_same_deployment_at_once_never_fail_and_one_of_their_counts_wins()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("race", 1));
        var setup = _k.PowerShellSetup(_ns);
        var results = Enumerable.Range(2, 4).AsParallel().WithDegreeOfParallelism(4).Select(n =>
        {
            using var s = new ModuleSession();
            return (n, r: s.Run(setup + $"; 1..10 | ForEach-Object {{ Set-ReplicaCount @Kube race {n} }}"));
        }).ToList();
        Assert.All(results, x => Assert.Empty(x.r.Errors));
        Assert.All(results, x => Assert.Equal(10, x.r.Output.Count));
        Assert.Contains(SpecReplicas("race"), new[] { 2, 3, 4, 5 });
    }

    [Fact]
    public void The_API_server_stopped_during_wait_gives_a_clear_outcome_within_the_timeout_and_the_scale_stays_applied()
    {
        if (_k.External) return; // cannot stop a real cluster's API server
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("outage", 1));
        _k.WaitForDeployment(_ns, "outage");
        _k.Kubelet!.Paused = true; // the new pods stay Pending: the rollout is still in progress when the server dies
        using var s = new ModuleSession();
        using var watch = new CancellationTokenSource();
        var stopper = Task.Run(() =>
        {
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(30))
            {
                try { if (s.Host.ProgressRecords.ToList().Any(p => (p.StatusDescription ?? "").Contains("Waiting for deployment"))) break; }
                catch (InvalidOperationException) { }
                Thread.Sleep(50);
            }
            _k.StopApiServer();
        });
        var took = Stopwatch.StartNew();
        RunResult r;
        try
        {
            r = s.Run(_k.PowerShellSetup(_ns) + "; Set-ReplicaCount @Kube outage 3 -Wait -TimeoutSec 8 -RequestTimeoutSec 5");
        }
        finally
        {
            stopper.Wait();
        }
        var elapsed = took.Elapsed;
        try
        {
            Assert.True(elapsed < TimeSpan.FromSeconds(25), $"took {elapsed}");
            // The result still comes back (the scale was applied), and an error says the wait did not end well.
            var o = Assert.Single(r.Output);
            Assert.Equal(1, P(o, "PreviousReplicas"));
            Assert.Equal(3, P(o, "DesiredReplicas"));
            var e = Assert.Single(r.Errors);
            Assert.Contains(e.FullyQualifiedErrorId.Split(',')[0], new[] { "KubeRolloutTimedOut", "KubeUnreachable", "KubeTimeout" });
            Assert.Contains($"'{_k.Context}'", e.Exception.Message);
            // Either the wait's last read failed (KubeUnreachable: "cannot be reached") or it timed out saying the server was unreachable.
            Assert.True(e.Exception.Message.Contains("cannot be reached") || e.Exception.Message.Contains("unreachable"), e.Exception.ToString());
            if (e.FullyQualifiedErrorId.StartsWith("KubeRolloutTimedOut,")) Assert.Equal("TimedOut", P(o, "State"));
            else Assert.Contains("was scaled from 1 to 3, but waiting for its rollout failed", e.Exception.Message);
            Assert.Contains(r.Progress, p => (p.StatusDescription ?? "").Contains("API server unreachable"));
        }
        finally
        {
            _k.StartApiServer();
            _k.Kubelet.Paused = false;
        }
        Assert.Equal(3, SpecReplicas("outage"));
    }

    [Fact]
    public void A_kubelet_that_stops_reporting_gives_TimedOut_within_the_timeout()
    {
        if (_k.External) return;
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("paused", 1));
        _k.WaitForDeployment(_ns, "paused");
        _k.Kubelet!.Paused = true;
        using var s = new ModuleSession();
        var sw = Stopwatch.StartNew();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Restart-Deployment @Kube paused -Wait -TimeoutSec 3");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(12), $"took {sw.Elapsed}");
        var o = Assert.Single(r.Output);
        Assert.Equal("TimedOut", P(o, "State")!.ToString());
        Assert.StartsWith("timed out after 3 s", (string)P(o, "Message")!);
        Assert.Equal("KubeRolloutTimedOut,OpsTools.Commands.Kubernetes.RestartDeploymentCommand", Assert.Single(r.Errors).FullyQualifiedErrorId);
    }
}
