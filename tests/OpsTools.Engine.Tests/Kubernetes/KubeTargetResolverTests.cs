using OpsTools.Configuration;
using OpsTools.Engine.Kubernetes;

namespace OpsTools.Engine.Tests.Kubernetes;

/// <summary>Finding the cluster the way kubectl does, from files only (no API server needed: nothing is called).</summary>
public sealed class KubeTargetResolverTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-kcfg-").FullName;

    public void Dispose()
    {
        KubeTargetRegistry.Reset();
        Directory.Delete(_dir, true);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Config(string context, string server, string? ns = null, string? current = null, string token = "t0ken-value") => $"""
        apiVersion: v1
        kind: Config
        clusters:
        - name: {context}-cluster
          cluster:
            server: {server}
            insecure-skip-tls-verify: true
        users:
        - name: {context}-user
          user:
            token: {token}
        contexts:
        - name: {context}
          context:
            cluster: {context}-cluster
            user: {context}-user{(ns is null ? "" : $"\n    namespace: {ns}")}
        {(current is null ? "" : $"current-context: {current}")}
        """;

    [Fact]
    public void Several_files_merge_and_the_first_current_context_wins()
    {
        var a = Write("a", Config("dev", "https://dev.example:6443", current: "dev"));
        var b = Write("b", Config("prod", "https://prod.example:6443", ns: "shop", current: "prod"));
        var t = KubeTargetResolver.Resolve(new KubeTargetSpec { Kubeconfig = new[] { a, b } });
        Assert.Equal("dev", t.Context);
        Assert.Equal("default", t.Namespace);
        var p = KubeTargetResolver.Resolve(new KubeTargetSpec { Kubeconfig = new[] { a, b }, Context = "prod" });
        Assert.Equal("prod", p.Context);
        Assert.Equal("shop", p.Namespace);
        Assert.StartsWith("https://prod.example:6443", p.Server);
    }

    [Fact]
    public void Parameters_override_the_environment_which_overrides_the_kubeconfig()
    {
        var a = Write("a", Config("dev", "https://dev.example:6443", ns: "from-context") + "\n" );
        var settings = new KubernetesSettings { Kubeconfig = new[] { a }, Namespace = "from-env" };
        Assert.Equal("from-env", KubeTargetResolver.Resolve(new KubeTargetSpec { Settings = settings, Context = "dev" }).Namespace);
        Assert.Equal("from-param", KubeTargetResolver.Resolve(new KubeTargetSpec { Settings = settings, Context = "dev", Namespace = "from-param" }).Namespace);
        Assert.Equal("from-context", KubeTargetResolver.Resolve(new KubeTargetSpec { Kubeconfig = new[] { a }, Context = "dev" }).Namespace);
    }

    [Fact]
    public void An_unknown_context_names_the_ones_there_are()
    {
        var a = Write("a", Config("dev", "https://dev.example:6443", current: "dev"));
        var e = Assert.Throws<OpsToolsException>(() => KubeTargetResolver.Resolve(new KubeTargetSpec { Kubeconfig = new[] { a }, Context = "prod" }));
        Assert.Equal("KubeContextNotFound", e.ErrorId);
        Assert.Contains("'prod'", e.Message);
        Assert.Contains("dev", e.Message);
    }

    [Fact]
    public void A_malformed_file_is_KubeconfigInvalid_naming_it_and_never_showing_its_token()
    {
        var a = Write("broken", "apiVersion: v1\nclusters: [ {name: x, cluster: {server: 'https://x'} \nusers:\n- name: u\n  user: {token: s3cr3t-t0ken}\n");
        var e = Assert.Throws<OpsToolsException>(() => KubeTargetResolver.Resolve(new KubeTargetSpec { Kubeconfig = new[] { a } }));
        Assert.Equal("KubeconfigInvalid", e.ErrorId);
        Assert.Contains(a, e.Message);
        Assert.DoesNotContain("s3cr3t-t0ken", e.Message);
    }

    [Fact]
    public void A_missing_file_given_explicitly_is_an_error_naming_it()
    {
        var missing = Path.Combine(_dir, "nope.yaml");
        var e = Assert.Throws<OpsToolsException>(() => KubeTargetResolver.Resolve(new KubeTargetSpec { Kubeconfig = new[] { missing } }));
        Assert.Equal("KubeconfigNotFound", e.ErrorId);
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void Targets_carry_no_credentials_and_the_file_is_left_as_it_was()
    {
        var a = Write("a", Config("dev", "https://dev.example:6443", current: "dev", token: "very-secret-token"));
        var before = File.ReadAllBytes(a);
        var stamp = File.GetLastWriteTimeUtc(a);
        var t = KubeTargetResolver.Resolve(new KubeTargetSpec { Kubeconfig = new[] { a } });
        foreach (var text in new[] { t.Id, t.Describe(), t.Source, t.ToString(), t.User ?? "" })
            Assert.DoesNotContain("very-secret-token", text);
        Assert.Equal(before, File.ReadAllBytes(a));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(a));
    }

    [Fact]
    public void Relative_certificate_paths_resolve_against_their_own_file()
    {
        // ca.crt exists next to the first file only; the second file's relative 'ca.crt' means the one next to it.
        File.WriteAllText(Path.Combine(_dir, "ca.crt"), "placeholder");
        var sub = Directory.CreateDirectory(Path.Combine(_dir, "second")).FullName;
        var a = Write("a", Config("dev", "https://dev.example:6443", current: "dev"));
        var b = Path.Combine(sub, "config");
        File.WriteAllText(b, Config("prod", "https://prod.example:6443").Replace("insecure-skip-tls-verify: true", "certificate-authority: ca.crt"));
        var e = Assert.Throws<OpsToolsException>(() => KubeTargetResolver.Resolve(new KubeTargetSpec { Kubeconfig = new[] { a, b }, Context = "prod" }));
        Assert.Equal("KubeconfigInvalid", e.ErrorId);
        Assert.Contains(Path.Combine(sub, "ca.crt"), e.Message);
    }
}
