using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>
/// Connecting through the module, every way a kubeconfig allows, and every way it goes wrong: one clear
/// error naming the context (and namespace), never a secret in any stream, never a changed kubeconfig.
/// These tests pass -Kubeconfig or -Environment explicitly; KUBECONFIG and HOME are in <see cref="KubeDefaultKubeconfigTests"/>.
/// </summary>
[Collection("Kubernetes")]
public sealed class KubeConnectionTests : IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;
    private readonly string _dir;

    public KubeConnectionTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("conn");
        _dir = Directory.CreateDirectory(Path.Combine(_k.WorkDirectory, "conn-" + Guid.NewGuid().ToString("N")[..6])).FullName;
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("web", 1));
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    /// <summary>The error that ended the command: a cmdlet's terminating error ends its statement, and the script records it.</summary>
    internal static ErrorRecord StoppedBy(RunResult r) =>
        r.Terminating is IContainsErrorRecord t ? t.ErrorRecord
        : r.Errors.Count > 0 ? r.Errors[^1]
        : throw new Xunit.Sdk.XunitException("no error was written");

    private string Write(string name, string text)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Everything a user could see of a run, as one text: output properties, errors, warnings, verbose, the host.</summary>
    private static string Everything(RunResult r, ModuleSession s) => string.Join("\n",
        r.Output.SelectMany(o => o.Properties.Select(p => $"{p.Name}={SafeValue(p)}"))
            .Concat(r.Errors.Select(e => e.ToString() + " " + e.Exception + " " + e.TargetObject + " " + e.ErrorDetails?.Message))
            .Concat(r.Warnings).Concat(r.Verbose).Append(r.Terminating?.ToString() ?? "").Append(s.Host.Text));

    private static string SafeValue(PSPropertyInfo p)
    {
        try { return p.Value is System.Collections.IEnumerable e and not string ? string.Join(",", e.Cast<object>()) : p.Value?.ToString() ?? ""; }
        catch (GetValueInvocationException) { return ""; }
    }

    [Fact]
    public void A_context_that_does_not_exist_is_one_error_listing_the_contexts_there()
    {
        using var s = new ModuleSession();
        var r = s.Run($"Get-Deployment -Kubeconfig '{_k.KubeconfigPath}' -Context nope -Namespace {_ns}");
        Assert.Empty(r.Output);
        var e = StoppedBy(r);
        Assert.StartsWith("KubeContextNotFound,", e.FullyQualifiedErrorId);
        Assert.Contains("'nope'", e.Exception.Message);
        Assert.Contains(_k.Context, e.Exception.Message); // the contexts that do exist
    }

    [Fact]
    public void A_malformed_kubeconfig_is_KubeconfigInvalid_naming_the_file()
    {
        var bad = Write("broken.kubeconfig", "apiVersion: v1\nkind: Config\nclusters:\n- name: x\n  cluster: [server: {\n");
        using var s = new ModuleSession();
        var r = s.Run($"Set-ReplicaCount -Kubeconfig '{bad}' -Namespace {_ns} web 2");
        Assert.Empty(r.Output);
        var e = StoppedBy(r);
        Assert.StartsWith("KubeconfigInvalid,", e.FullyQualifiedErrorId);
        Assert.Contains(bad, e.Exception.Message);
        Assert.Equal(1, (int)_k.GetDeployment(_ns, "web")["spec"]!["replicas"]!);
    }

    [Fact]
    public void A_token_the_server_rejects_is_KubeUnauthorized_naming_the_context_and_never_shows_the_token()
    {
        if (_k.External) return; // the test cluster's token file decides which tokens are valid
        var revoked = "revoked-" + Guid.NewGuid().ToString("N");
        var path = Write("revoked.kubeconfig", _k.Kubeconfig("revoked-ctx", $"token: {revoked}", _ns));
        using var s = new ModuleSession();
        var r = s.Run($"Set-ReplicaCount -Kubeconfig '{path}' web 2 -Verbose; Get-Deployment -Kubeconfig '{path}' -Verbose");
        Assert.Empty(r.Output);
        Assert.Equal(2, r.Errors.Count + (r.Terminating is null ? 0 : 1));
        Assert.All(r.Errors, x => Assert.StartsWith("KubeUnauthorized,", x.FullyQualifiedErrorId));
        var e = r.Errors.Count > 0 ? r.Errors[0] : StoppedBy(r);
        Assert.StartsWith("KubeUnauthorized,", e.FullyQualifiedErrorId);
        Assert.Contains("'revoked-ctx'", e.Exception.Message);
        Assert.Contains("401", e.Exception.Message);
        Assert.DoesNotContain(revoked, Everything(r, s));
        Assert.DoesNotContain(revoked[8..], Everything(r, s));
    }

    [Fact]
    public void A_forbidden_verb_is_KubeForbidden_naming_the_namespace_and_nothing_changes()
    {
        if (_k.External) return; // needs the test cluster's read-only user
        var path = Write("viewer.kubeconfig", _k.Kubeconfig("viewer-ctx", $"token: {_k.ViewerToken}", _ns));
        using var s = new ModuleSession();
        var read = s.Run($"Get-Deployment -Kubeconfig '{path}' web");
        Assert.Empty(read.Errors);
        Assert.Single(read.Output);

        var r = s.Run($"Set-ReplicaCount -Kubeconfig '{path}' web 3 -Verbose");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeForbidden,OpsTools.Commands.Kubernetes.SetReplicaCountCommand", e.FullyQualifiedErrorId);
        Assert.Equal(ErrorCategory.PermissionDenied, e.CategoryInfo.Category);
        Assert.Contains($"namespace '{_ns}'", e.Exception.Message);
        Assert.Contains("'viewer-ctx'", e.Exception.Message);
        Assert.DoesNotContain(_k.ViewerToken, Everything(r, s));
        Assert.Equal(1, (int)_k.GetDeployment(_ns, "web")["spec"]!["replicas"]!);

        var restart = s.Run($"Restart-Deployment -Kubeconfig '{path}' web");
        Assert.Equal("KubeForbidden,OpsTools.Commands.Kubernetes.RestartDeploymentCommand", Assert.Single(restart.Errors).FullyQualifiedErrorId);
    }

    [Fact]
    public void A_client_certificate_user_can_scale()
    {
        if (_k.External) return;
        var path = Write("cert.kubeconfig", _k.Kubeconfig("cert-ctx", $"client-certificate: {_k.ClientCertFile}\n    client-key: {_k.ClientKeyFile}", _ns));
        using var s = new ModuleSession();
        var r = s.Run($"Set-ReplicaCount -Kubeconfig '{path}' web 2");
        Assert.Empty(r.Errors);
        Assert.Equal("cert-ctx", P(Assert.Single(r.Output), "Context"));
        Assert.Equal(2, (int)_k.GetDeployment(_ns, "web")["spec"]!["replicas"]!);
    }

    [Theory]
    [InlineData("client.authentication.k8s.io/v1beta1")]
    [InlineData("client.authentication.k8s.io/v1")]
    public void An_exec_credential_plugin_gives_the_token_and_it_never_shows(string apiVersion)
    {
        if (_k.External) return;
        var marker = Path.Combine(_dir, "plugin-ran-" + apiVersion.Replace('/', '_'));
        var plugin = Write("plugin-" + apiVersion.Replace('/', '_') + ".sh", $$$"""
            #!/bin/sh
            touch '{{{marker}}}'
            printf '%s' '{"apiVersion":"{{{apiVersion}}}","kind":"ExecCredential","status":{"token":"{{{_k.AdminToken}}}"}}'
            """);
        File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = Write("exec.kubeconfig", _k.Kubeconfig("exec-ctx",
            $"exec:\n      apiVersion: {apiVersion}\n      command: {plugin}\n      interactiveMode: Never", _ns));
        using var s = new ModuleSession();
        var r = s.Run($"Get-Deployment -Kubeconfig '{path}' web -Verbose | Set-ReplicaCount -Replicas 2 -Verbose");
        Assert.Empty(r.Errors);
        Assert.Equal(2, P(Assert.Single(r.Output), "DesiredReplicas"));
        Assert.True(File.Exists(marker), "the plugin was not run");
        Assert.DoesNotContain(_k.AdminToken, Everything(r, s));
    }

    [Fact]
    public void A_failing_exec_plugin_is_KubeAuthPluginFailed_naming_the_context()
    {
        if (_k.External) return;
        var plugin = Write("failing-plugin.sh", "#!/bin/sh\necho 'error: you must be logged in to the server (token expired)' >&2\nexit 1\n");
        File.SetUnixFileMode(plugin, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var path = Write("failing-exec.kubeconfig", _k.Kubeconfig("sso-ctx",
            $"exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: {plugin}\n      interactiveMode: Never", _ns));
        using var s = new ModuleSession();
        var r = s.Run($"Set-ReplicaCount -Kubeconfig '{path}' web 2");
        Assert.Empty(r.Output);
        var e = StoppedBy(r);
        Assert.StartsWith("KubeAuthPluginFailed,", e.FullyQualifiedErrorId);
        Assert.Contains("'sso-ctx'", e.Exception.Message);
        Assert.Equal(1, (int)_k.GetDeployment(_ns, "web")["spec"]!["replicas"]!);
    }

    [Fact]
    public void The_environment_files_Kubernetes_section_picks_kubeconfig_context_and_namespace()
    {
        if (_k.External) return;
        var kubeconfig = Write("env.kubeconfig", _k.Kubeconfig("other-ctx", $"token: {_k.AdminToken}", "default"));
        // A context of the second file (the first file's current context is another): the environment's Context picks it.
        var two = Write("env-two.kubeconfig", _k.Kubeconfig("env-ctx", $"token: {_k.AdminToken}", "default"));
        var env = Write("shop.ops.psd1", $$"""
            @{
                Name = 'shop-test'
                Kubernetes = @{ Kubeconfig = @('{{kubeconfig}}', '{{two}}'); Context = 'env-ctx'; Namespace = '{{_ns}}' }
            }
            """);
        using var s = new ModuleSession();
        var r = s.Run($"Set-ReplicaCount -Environment '{env}' web 2; Get-Deployment -Environment '{env}' web");
        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Output.Count);
        Assert.Equal("env-ctx", P(r.Output[0], "Context"));
        Assert.Equal(_ns, P(r.Output[0], "Namespace"));
        Assert.Equal(2, P(r.Output[1], "DesiredReplicas"));
        // Explicit parameters override the environment.
        var wrong = s.Run($"Set-ReplicaCount -Environment '{env}' -Context nope web 3");
        Assert.StartsWith("KubeContextNotFound,", KubeConnectionTests.StoppedBy(wrong).FullyQualifiedErrorId);
    }

    [Fact]
    public void The_kubeconfig_file_is_never_rewritten()
    {
        var path = Write("untouched.kubeconfig", File.ReadAllText(_k.KubeconfigPath).Replace($"namespace: default", $"namespace: {_ns}"));
        var past = DateTime.UtcNow.AddHours(-3);
        File.SetLastWriteTimeUtc(path, past);
        var bytes = File.ReadAllBytes(path);
        using var s = new ModuleSession();
        var r = s.Run($"""
            Get-Deployment -Kubeconfig '{path}' -Namespace {_ns} | Set-ReplicaCount -Replicas 2 -Wait -TimeoutSec 60 | Wait-Rollout -TimeoutSec 60
            Restart-Deployment -Kubeconfig '{path}' -Namespace {_ns} web -Wait -TimeoutSec 60
            Set-ReplicaCount -Kubeconfig '{path}' -Namespace {_ns} -Context nope web 1
            """);
        Assert.Equal(bytes, File.ReadAllBytes(path));
        Assert.Equal(past, File.GetLastWriteTimeUtc(path));
        Assert.Equal(2, r.Output.Count); // the scale's rollout status and the restart's
        Assert.StartsWith("KubeContextNotFound,", StoppedBy(r).FullyQualifiedErrorId);
    }
}

/// <summary>
/// The kubeconfig found the way kubectl finds it: KUBECONFIG (several files) and ~/.kube/config. These change
/// process-wide environment variables, so they run alone (ProcessEnvironment collection) with their own API server.
/// </summary>
[Collection("ProcessEnvironment")]
public sealed class KubeDefaultKubeconfigTests : IClassFixture<KubeClusterFixture>, IDisposable
{
    private readonly KubeCluster _k;
    private readonly string _ns;
    private readonly string? _kubeconfig = System.Environment.GetEnvironmentVariable("KUBECONFIG");
    private readonly string? _home = System.Environment.GetEnvironmentVariable("HOME");

    public KubeDefaultKubeconfigTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("defcfg");
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("web", 1));
    }

    public void Dispose()
    {
        System.Environment.SetEnvironmentVariable("KUBECONFIG", _kubeconfig);
        System.Environment.SetEnvironmentVariable("HOME", _home);
        _k.DeleteNamespace(_ns);
    }

    [Fact]
    public void KUBECONFIG_with_two_files_finds_a_context_of_the_second_and_the_current_context_of_the_first()
    {
        if (_k.External) return;
        var dir = Directory.CreateTempSubdirectory("opstools-kubecfg-").FullName;
        try
        {
            // The first file sets current-context to a context of the second (kubectl merges them).
            var first = Path.Combine(dir, "first");
            File.WriteAllText(first, _k.Kubeconfig("first-ctx", "token: not-used-" + Guid.NewGuid().ToString("N"), "default")
                .Replace("current-context: first-ctx", "current-context: second-ctx"));
            var second = Path.Combine(dir, "second");
            File.WriteAllText(second, _k.Kubeconfig("second-ctx", $"token: {_k.AdminToken}", _ns));
            System.Environment.SetEnvironmentVariable("KUBECONFIG", first + Path.PathSeparator + second);
            using var s = new ModuleSession();
            var r = s.Run("Set-ReplicaCount web 2");
            Assert.Empty(r.Errors);
            Assert.Null(r.Terminating);
            var o = Assert.Single(r.Output);
            Assert.Equal("second-ctx", RunResult.Prop(o, "Context"));
            Assert.Equal(_ns, RunResult.Prop(o, "Namespace")); // the context's namespace
            Assert.Equal(2, (int)_k.GetDeployment(_ns, "web")["spec"]!["replicas"]!);

            var explicitContext = s.Run($"Get-Deployment -Context first-ctx -Namespace {_ns}");
            Assert.StartsWith("KubeUnauthorized,", KubeConnectionTests.StoppedBy(explicitContext).FullyQualifiedErrorId);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Without_KUBECONFIG_the_kubeconfig_in_HOME_is_used()
    {
        if (_k.External) return;
        var home = Directory.CreateTempSubdirectory("opstools-home-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(home, ".kube"));
            File.WriteAllText(Path.Combine(home, ".kube", "config"), _k.Kubeconfig("home-ctx", $"token: {_k.AdminToken}", _ns));
            System.Environment.SetEnvironmentVariable("KUBECONFIG", null);
            System.Environment.SetEnvironmentVariable("HOME", home);
            using var s = new ModuleSession();
            var r = s.Run("Get-Deployment web | Set-ReplicaCount -Replicas 3");
            Assert.Empty(r.Errors);
            Assert.Equal("home-ctx", RunResult.Prop(Assert.Single(r.Output), "Context"));
            Assert.Equal(3, (int)_k.GetDeployment(_ns, "web")["spec"]!["replicas"]!);

            File.Delete(Path.Combine(home, ".kube", "config"));
            var none = s.Run("Get-Deployment");
            var e = KubeConnectionTests.StoppedBy(none);
            Assert.StartsWith("KubeconfigNotFound,", e.FullyQualifiedErrorId);
            Assert.Contains(Path.Combine(home, ".kube", "config"), e.Exception.Message);
        }
        finally { Directory.Delete(home, true); }
    }
}
