using System.Management.Automation;
using System.Text.Json.Nodes;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>Get-RolloutHistory and Undo-Rollout against the test API server: revisions, images, change causes, rollback like kubectl's.</summary>
[Collection("Kubernetes")]
public sealed class RolloutHistoryTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;

    public RolloutHistoryTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("history");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    private const string ImageB = "busybox:1.35";
    private const string ImageC = "busybox:1.34";

    /// <summary>A deployment with three revisions: the test image, then ImageB, then ImageC (each rolled out).</summary>
    private void ThreeRevisions(ModuleSession s, string name)
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment(name, 1));
        _k.WaitForDeployment(_ns, name);
        var r = s.Run(_k.PowerShellSetup(_ns) + $"; Set-DeploymentImage @Kube {name} {ImageB} -Wait; Set-DeploymentImage @Kube {name} -Image @{{ {name} = '{ImageC}' }} -Wait");
        Assert.Empty(r.Errors);
        Assert.All(r.Output, o => Assert.Equal("Complete", P(o, "RolloutState")!.ToString()));
    }

    private string TemplateImage(string name) => (string)_k.GetDeployment(_ns, name)["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!;
    private string? RevisionAnnotation(string name) => (string?)_k.GetDeployment(_ns, name)["metadata"]!["annotations"]?["deployment.kubernetes.io/revision"];

    [Fact]
    public void History_after_two_image_changes_has_three_revisions_with_images_and_change_causes()
    {
        using var s = new ModuleSession();
        ThreeRevisions(s, "web");
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Get-RolloutHistory @Kube web");
        Assert.Empty(r.Errors);
        Assert.Equal(new long[] { 1, 2, 3 }, r.Output.Select(o => (long)P(o, "Revision")!));
        Assert.Equal(new[] { KubeCluster.TestImage, ImageB, ImageC }, r.Output.Select(o => Assert.Single((IEnumerable<string>)P(o, "Images")!)));
        Assert.Null(P(r.Output[0], "ChangeCause"));
        Assert.Equal($"Set-DeploymentImage web={ImageB}", P(r.Output[1], "ChangeCause"));
        Assert.Equal($"Set-DeploymentImage web={ImageC}", P(r.Output[2], "ChangeCause"));
        Assert.Equal(new[] { false, false, true }, r.Output.Select(o => (bool)P(o, "IsCurrent")!));
        Assert.Equal(new[] { 0, 0, 1 }, r.Output.Select(o => (int)P(o, "Replicas")!));
        Assert.Equal("OpsTools.Kubernetes.RolloutRevision", r.Output[0].BaseObject.GetType().FullName);

        // The console view has kubectl's columns.
        s.Host.ClearText();
        Assert.Empty(s.Run(_k.PowerShellSetup(_ns) + "; Get-RolloutHistory @Kube web | Out-Default").Errors);
        Assert.Contains("REVISION", s.Host.Text);
        Assert.Contains("CHANGE-CAUSE", s.Host.Text);
        Assert.Contains("<none>", s.Host.Text);
        Assert.Contains(ImageC, s.Host.Text);
        Assert.Contains($"deployment/web (namespace {_ns})", s.Host.Text);

        var one = s.Run(_k.PowerShellSetup(_ns) + "; Get-Deployment @Kube web | Get-RolloutHistory -Revision 2");
        Assert.Empty(one.Errors);
        Assert.Equal(ImageB, Assert.Single((IEnumerable<string>)P(Assert.Single(one.Output), "Images")!));

        var missing = s.Run(_k.PowerShellSetup(_ns) + "; Get-RolloutHistory @Kube web -Revision 9");
        var e = Assert.Single(missing.Errors);
        Assert.Equal("KubeRevisionNotFound,OpsTools.Commands.Kubernetes.GetRolloutHistoryCommand", e.FullyQualifiedErrorId);
        Assert.Contains("1, 2, 3", e.Exception.Message);
    }

    [Fact]
    public void Undo_goes_back_to_the_previous_template_which_becomes_a_new_revision_like_kubectl()
    {
        using var s = new ModuleSession();
        ThreeRevisions(s, "api");
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Undo-Rollout @Kube api -Force -Wait");
        Assert.Empty(r.Errors);
        var u = Assert.Single(r.Output);
        Assert.Equal(3L, P(u, "FromRevision"));
        Assert.Equal(2L, P(u, "ToRevision"));
        Assert.Equal(ImageC, Assert.Single((IEnumerable<string>)P(u, "FromImages")!));
        Assert.Equal(ImageB, Assert.Single((IEnumerable<string>)P(u, "ToImages")!));
        Assert.True((bool)P(u, "Changed")!);
        Assert.Equal("Complete", P(u, "RolloutState")!.ToString());
        Assert.Equal(ImageB, TemplateImage("api"));
        // The template has no pod-template-hash label (kubectl strips it), and revision 2's ReplicaSet is now revision 4.
        Assert.Null(_k.GetDeployment(_ns, "api")["spec"]!["template"]!["metadata"]!["labels"]!["pod-template-hash"]);
        KubeCluster.WaitFor(() => RevisionAnnotation("api") == "4", TimeSpan.FromSeconds(30), "revision 4");
        Assert.Equal("4", P(PSObject.AsPSObject(P(u, "Rollout")!), "Revision"));

        var h = s.Run(_k.PowerShellSetup(_ns) + "; Get-RolloutHistory @Kube api");
        Assert.Equal(new long[] { 1, 3, 4 }, h.Output.Select(o => (long)P(o, "Revision")!));
        var current = Assert.Single(h.Output, o => (bool)P(o, "IsCurrent")!);
        Assert.Equal(4L, P(current, "Revision"));
        Assert.Equal($"Set-DeploymentImage api={ImageB}", P(current, "ChangeCause"));
        // The deployment's change cause came back with the revision (kubectl copies the ReplicaSet's annotations).
        Assert.Equal($"Set-DeploymentImage api={ImageB}", (string?)_k.GetDeployment(_ns, "api")["metadata"]!["annotations"]!["kubernetes.io/change-cause"]);

        var to1 = s.Run(_k.PowerShellSetup(_ns) + "; Undo-Rollout @Kube api -ToRevision 1 -Force -Wait");
        Assert.Empty(to1.Errors);
        Assert.Equal(4L, P(Assert.Single(to1.Output), "FromRevision"));
        Assert.Equal(KubeCluster.TestImage, TemplateImage("api"));
        KubeCluster.WaitFor(() => RevisionAnnotation("api") == "5", TimeSpan.FromSeconds(30), "revision 5");
    }

    [Fact]
    public void Undo_to_a_revision_that_does_not_exist_is_an_error_listing_the_revisions_and_changes_nothing()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("one", 1));
        _k.WaitForDeployment(_ns, "one");
        using var s = new ModuleSession();
        var first = s.Run(_k.PowerShellSetup(_ns) + "; Undo-Rollout @Kube one -Force");
        var none = Assert.Single(first.Errors);
        Assert.Equal("KubeRevisionNotFound,OpsTools.Commands.Kubernetes.UndoRolloutCommand", none.FullyQualifiedErrorId);
        Assert.Contains("no previous revision", none.Exception.Message);

        var r = s.Run(_k.PowerShellSetup(_ns) + $"; Set-DeploymentImage @Kube one {ImageB} -Wait; Undo-Rollout @Kube one -ToRevision 7 -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeRevisionNotFound,OpsTools.Commands.Kubernetes.UndoRolloutCommand", e.FullyQualifiedErrorId);
        Assert.Contains("no revision 7", e.Exception.Message);
        Assert.Contains("1, 2 (current)", e.Exception.Message);
        Assert.Contains(_ns, e.Exception.Message);
        Assert.Equal(ImageB, TemplateImage("one"));
        Assert.Equal("2", RevisionAnnotation("one"));

        // Back to the revision it runs: skipped with a warning, as kubectl does.
        var same = s.Run(_k.PowerShellSetup(_ns) + "; Undo-Rollout @Kube one -ToRevision 2 -Force");
        Assert.Empty(same.Errors);
        Assert.False((bool)P(Assert.Single(same.Output), "Changed")!);
        Assert.Contains(same.Warnings, w => w.Contains("skipped rollback"));
        Assert.Equal("2", RevisionAnnotation("one"));
    }

    [Fact]
    public void Undo_WhatIf_and_a_declined_confirmation_change_nothing()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("safe", 1));
        _k.WaitForDeployment(_ns, "safe");
        using var s = new ModuleSession();
        Assert.Empty(s.Run(_k.PowerShellSetup(_ns) + $"; Set-DeploymentImage @Kube safe {ImageB} -Wait").Errors);
        var generation = (long)_k.GetDeployment(_ns, "safe")["metadata"]!["generation"]!;

        var r = s.Run(_k.PowerShellSetup(_ns) + "; Undo-Rollout @Kube safe -WhatIf");
        Assert.Empty(r.Errors);
        var u = Assert.Single(r.Output);
        Assert.False((bool)P(u, "Changed")!);
        Assert.Equal(1L, P(u, "ToRevision"));
        Assert.Contains("revision 2", s.Host.Text);
        Assert.Contains("to revision 1", s.Host.Text);

        s.Host.ChoiceAnswer = 2; // "No" at the ConfirmImpact High prompt
        var declined = s.Run(_k.PowerShellSetup(_ns) + "; Undo-Rollout @Kube safe");
        Assert.Empty(declined.Errors);
        Assert.NotEmpty(s.Host.Prompts);

        Assert.Equal(ImageB, TemplateImage("safe"));
        Assert.Equal(generation, (long)_k.GetDeployment(_ns, "safe")["metadata"]!["generation"]!);
    }

    [Fact]
    public void Undo_of_a_paused_deployment_asks_to_resume_first()
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("held", 1));
        _k.WaitForDeployment(_ns, "held");
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + $"; Set-DeploymentImage @Kube held {ImageB} -Wait; Suspend-Rollout @Kube held; Undo-Rollout @Kube held -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeRolloutPaused,OpsTools.Commands.Kubernetes.UndoRolloutCommand", e.FullyQualifiedErrorId);
        Assert.Contains("Resume-Rollout", e.Exception.Message);
        Assert.Equal(ImageB, TemplateImage("held"));
    }
}
