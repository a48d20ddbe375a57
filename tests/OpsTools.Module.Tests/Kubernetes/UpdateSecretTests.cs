using System.Management.Automation;
using System.Security;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Kubernetes;

/// <summary>
/// Update-Secret against the test API server: the rotation changes the secret, restarts exactly the workloads that use
/// it and waits for them; a rollout that never completes puts the old data back byte for byte and undoes the restarts;
/// the value never shows in any stream.
/// </summary>
[Collection("Kubernetes")]
public sealed class UpdateSecretTests : IDisposable
{
    private const string Restarted = "kubectl.kubernetes.io/restartedAt";
    private readonly KubeCluster _k;
    private readonly string _ns;

    public UpdateSecretTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("secret");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    private static SecureString Secure(string s)
    {
        var secure = new SecureString();
        foreach (var c in s) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }

    private void CreateSecret(string name, IDictionary<string, string> data) =>
        _k.Api.Post($"/api/v1/namespaces/{_ns}/secrets", new
        {
            metadata = new { name, labels = new Dictionary<string, string> { ["app"] = "shop" } },
            type = "Opaque",
            data = data.ToDictionary(kv => kv.Key, kv => B64(kv.Value)),
        });

    private JsonObject SecretData(string name) => _k.Api.Get($"/api/v1/namespaces/{_ns}/secrets/{name}")["data"]!.AsObject();

    /// <summary>A deployment whose container reads <paramref name="secret"/> through env (secretKeyRef) or a volume.</summary>
    private void CreateUser(string name, string secret, string how, string? restartedAt = null)
    {
        var d = KubeCluster.NewDeployment(name, 1);
        var template = d["spec"]!["template"]!;
        var container = template["spec"]!["containers"]![0]!;
        if (how == "env")
            container["env"] = new JsonArray(new JsonObject
            {
                ["name"] = "DB_PASSWORD",
                ["valueFrom"] = new JsonObject { ["secretKeyRef"] = new JsonObject { ["name"] = secret, ["key"] = "password" } },
            });
        else if (how == "volume")
        {
            template["spec"]!["volumes"] = new JsonArray(new JsonObject { ["name"] = "creds", ["secret"] = new JsonObject { ["secretName"] = secret } });
            container["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "creds", ["mountPath"] = "/etc/creds", ["readOnly"] = true });
        }
        if (restartedAt is not null) template["metadata"]!["annotations"]![Restarted] = restartedAt;
        _k.CreateDeployment(_ns, d);
    }

    private string? TemplateRestartedAt(string deployment) =>
        (string?)_k.GetDeployment(_ns, deployment)["spec"]!["template"]!["metadata"]!["annotations"]?[Restarted];

    /// <summary>Everything a user could see: objects (as JSON), errors, warnings, verbose, progress and the host's text (WhatIf, prompts).</summary>
    private static string Everything(ModuleSession s, RunResult r) => string.Join("\n",
        r.Output.Select(o => JsonSerializer.Serialize(o.BaseObject, o.BaseObject.GetType())).Concat(r.Output.Select(o => o.BaseObject.ToString()))
            .Concat(r.Errors.Select(e => e.ToString() + " " + e.Exception.Message + " " + e.TargetObject))
            .Concat(r.Warnings).Concat(r.Verbose)
            .Concat(r.Progress.Select(p => $"{p.Activity} {p.StatusDescription} {p.CurrentOperation}"))
            .Append(s.Host.Text).Append(r.Terminating?.Message ?? ""));

    private static void AssertNoSecret(string everything, params string[] values)
    {
        foreach (var v in values)
        {
            Assert.DoesNotContain(v, everything);
            Assert.DoesNotContain(B64(v), everything);
        }
    }

    [Fact]
    public void Rotation_changes_the_key_restarts_the_env_and_volume_users_waits_for_them_and_leaves_others_alone()
    {
        CreateSecret("db", new Dictionary<string, string> { ["password"] = "old-password-1", ["user"] = "app" });
        CreateUser("env-user", "db", "env");
        CreateUser("vol-user", "db", "volume");
        CreateUser("bystander", "other", "env");
        foreach (var d in new[] { "env-user", "vol-user", "bystander" }) _k.WaitForDeployment(_ns, d);
        var bystanderGeneration = (long)_k.GetDeployment(_ns, "bystander")["metadata"]!["generation"]!;
        var value = "Sentinel-" + Guid.NewGuid().ToString("N");

        using var s = new ModuleSession();
        s.Set("pw", Secure(value));
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Update-Secret @Kube -Name db -Data @{ password = $pw } -Force -TimeoutSec 120 -Verbose");

        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var result = Assert.Single(r.Output);
        Assert.Equal("OpsTools.Kubernetes.SecretRotationResult", result.BaseObject.GetType().FullName);
        Assert.Equal("Completed", P(result, "Status")!.ToString());
        Assert.Equal(new[] { "password" }, (IEnumerable<string>)P(result, "ChangedKeys")!);
        Assert.Equal(new[] { "user" }, (IEnumerable<string>)P(result, "UnchangedKeys")!);
        Assert.Equal("db", P(result, "Secret"));
        Assert.Equal(_ns, P(result, "Namespace"));
        var restarted = ((System.Collections.IEnumerable)P(result, "Restarted")!).Cast<object>().Select(o => PSObject.AsPSObject(o)).ToList();
        Assert.Equal(new[] { "env-user", "vol-user" }, restarted.Select(w => (string)P(w, "Name")!));
        Assert.All(restarted, w => Assert.Equal("Complete", P(w, "State")!.ToString()));

        // The cluster's state, read independently.
        var data = SecretData("db");
        Assert.Equal(B64(value), (string?)data["password"]);
        Assert.Equal(B64("app"), (string?)data["user"]);
        Assert.NotNull(TemplateRestartedAt("env-user"));
        Assert.NotNull(TemplateRestartedAt("vol-user"));
        _k.WaitForDeployment(_ns, "env-user", TimeSpan.FromSeconds(5)); // already rolled out: returns at once
        Assert.Null(TemplateRestartedAt("bystander"));
        Assert.Equal(bystanderGeneration, (long)_k.GetDeployment(_ns, "bystander")["metadata"]!["generation"]!);

        Assert.NotEmpty(r.Verbose);
        AssertNoSecret(Everything(s, r), value, "old-password-1");
    }

    [Fact]
    public void A_StatefulSet_that_reads_the_secret_through_a_projected_volume_is_restarted_and_waited_for_too()
    {
        CreateSecret("replication", new Dictionary<string, string> { ["password"] = "r1" });
        var template = System.Text.Json.JsonSerializer.SerializeToNode(
            KubeCluster.PodTemplate(new Dictionary<string, string> { ["app"] = "pg" }, PodBehaviour.Ready, KubeCluster.TestImage, "pg"), KubeApi.Json)!;
        template["spec"]!["volumes"] = new JsonArray(new JsonObject
        {
            ["name"] = "all",
            ["projected"] = new JsonObject { ["sources"] = new JsonArray(new JsonObject { ["secret"] = new JsonObject { ["name"] = "replication" } }) },
        });
        _k.Api.Post($"/apis/apps/v1/namespaces/{_ns}/statefulsets", new JsonObject
        {
            ["apiVersion"] = "apps/v1", ["kind"] = "StatefulSet",
            ["metadata"] = new JsonObject { ["name"] = "pg" },
            ["spec"] = new JsonObject
            {
                ["serviceName"] = "pg", ["replicas"] = 1,
                ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "pg" } },
                ["updateStrategy"] = new JsonObject { ["type"] = "RollingUpdate" },
                ["template"] = template,
            },
        });
        string Path() => $"/apis/apps/v1/namespaces/{_ns}/statefulsets/pg";
        KubeCluster.WaitFor(() => (int?)_k.Api.Get(Path())["status"]?["readyReplicas"] == 1, TimeSpan.FromSeconds(60), "statefulset pg to be ready");

        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Update-Secret @Kube replication -Generate password -Force -TimeoutSec 120");
        Assert.Empty(r.Errors);
        var result = Assert.Single(r.Output);
        Assert.Equal("Completed", P(result, "Status")!.ToString());
        var w = PSObject.AsPSObject(Assert.Single(((System.Collections.IEnumerable)P(result, "Restarted")!).Cast<object>()));
        Assert.Equal("StatefulSet", P(w, "Kind"));
        Assert.Equal(new[] { "projected volume (all)" }, (IEnumerable<string>)P(w, "UsedBy")!);
        Assert.Equal("Complete", P(w, "State")!.ToString());
        var sts = _k.Api.Get(Path());
        Assert.NotNull(sts["spec"]!["template"]!["metadata"]!["annotations"]![Restarted]);
        Assert.Equal((string?)sts["status"]!["updateRevision"], (string?)sts["status"]!["currentRevision"]);
        Assert.NotEqual(B64("r1"), (string?)SecretData("replication")["password"]);
    }

    [Fact]
    public void A_rollout_that_never_completes_puts_the_old_data_back_byte_for_byte_and_undoes_the_restarts()
    {
        // Needs the fake kubelet to stop reporting new pods; a real cluster's kubelets cannot be paused from here.
        if (_k.External) return;
        CreateSecret("api-keys", new Dictionary<string, string> { ["password"] = "old-Pa55\u00e9\n", ["jwt"] = "old-jwt" });
        CreateUser("api", "api-keys", "env", restartedAt: "2020-01-01T00:00:00Z");
        CreateUser("files", "api-keys", "volume");
        _k.WaitForDeployment(_ns, "api");
        _k.WaitForDeployment(_ns, "files");
        var before = SecretData("api-keys").ToJsonString();
        var value = "Sentinel-" + Guid.NewGuid().ToString("N");

        using var s = new ModuleSession();
        s.Set("pw", Secure(value));
        RunResult r;
        _k.Kubelet!.Paused = true;
        try
        {
            r = s.Run(_k.PowerShellSetup(_ns) + "; Update-Secret @Kube -Name api-keys -Data @{ password = $pw } -Generate session -Force -TimeoutSec 4 -Verbose");
        }
        finally { _k.Kubelet.Paused = false; }

        Assert.Null(r.Terminating);
        var result = Assert.Single(r.Output);
        Assert.Equal("RolledBack", P(result, "Status")!.ToString());
        Assert.Equal(true, P(result, "SecretRestored"));
        Assert.Equal(new[] { "password", "session" }, (IEnumerable<string>)P(result, "ChangedKeys")!);
        var error = Assert.Single(r.Errors);
        Assert.Equal("SecretRotationRolledBack,OpsTools.Commands.Kubernetes.UpdateSecretCommand", error.FullyQualifiedErrorId);
        Assert.Contains("TimedOut", error.Exception.Message);
        Assert.Contains("secret data restored", error.Exception.Message);
        Assert.Contains("deployment 'api'", error.Exception.Message);

        Assert.Equal(before, SecretData("api-keys").ToJsonString()); // same keys, same bytes (session removed again)
        Assert.Equal("2020-01-01T00:00:00Z", TemplateRestartedAt("api"));
        Assert.Null(TemplateRestartedAt("files"));
        var restarted = ((System.Collections.IEnumerable)P(result, "Restarted")!).Cast<object>().Select(o => PSObject.AsPSObject(o)).ToList();
        Assert.All(restarted, w =>
        {
            Assert.Equal(true, P(w, "RolledBack"));
            Assert.Equal("Complete", P(w, "State")!.ToString()); // the previous pods serve again
        });
        _k.WaitForDeployment(_ns, "api", TimeSpan.FromSeconds(10));
        AssertNoSecret(Everything(s, r), value, "old-Pa55\u00e9\n", "old-jwt");
    }

    [Fact]
    public void With_ErrorAction_Stop_a_rolled_back_rotation_stops_the_script_after_writing_its_result()
    {
        if (_k.External) return; // needs the paused fake kubelet, as above
        CreateSecret("tok", new Dictionary<string, string> { ["password"] = "x" });
        CreateUser("svc", "tok", "env");
        _k.WaitForDeployment(_ns, "svc");
        using var s = new ModuleSession();
        RunResult r;
        _k.Kubelet!.Paused = true;
        try
        {
            r = s.Run(_k.PowerShellSetup(_ns) + "; $res = $null; try { Update-Secret @Kube tok -Generate password -Force -TimeoutSec 3 -ErrorAction Stop -OutVariable res; 'not reached' } catch { \"stopped: $($_.FullyQualifiedErrorId) $($res[0].Status)\" }");
        }
        finally { _k.Kubelet.Paused = false; }
        Assert.Equal("stopped: SecretRotationRolledBack,OpsTools.Commands.Kubernetes.UpdateSecretCommand RolledBack", r.Output.Last().BaseObject);
        Assert.Equal(B64("x"), (string?)SecretData("tok")["password"]);
    }

    [Fact]
    public void Ctrl_C_while_waiting_for_the_rollout_puts_the_old_data_back_and_undoes_the_restart()
    {
        if (_k.External) return; // needs the paused fake kubelet so that the wait lasts until we press Ctrl+C
        CreateSecret("stopme", new Dictionary<string, string> { ["password"] = "before" });
        CreateUser("waiter", "stopme", "env");
        _k.WaitForDeployment(_ns, "waiter");
        using var s = new ModuleSession();
        using var stop = new CancellationTokenSource();
        RunResult r;
        _k.Kubelet!.Paused = true;
        try
        {
            // Ctrl+C once the restart is really in the cluster (the command is then waiting for the rollout).
            var watcher = Task.Run(() =>
            {
                KubeCluster.WaitFor(() => TemplateRestartedAt("waiter") is not null, TimeSpan.FromSeconds(60), "the restart");
                stop.Cancel();
            });
            r = s.Run(_k.PowerShellSetup(_ns) + "; Update-Secret @Kube stopme -Generate password -Force -TimeoutSec 120", stopAfter: stop.Token);
            watcher.Wait(TimeSpan.FromSeconds(5));
        }
        finally { _k.Kubelet.Paused = false; }
        Assert.True(stop.IsCancellationRequested);
        Assert.Empty(r.Output);
        Assert.Equal(B64("before"), (string?)SecretData("stopme")["password"]);
        Assert.Null(TemplateRestartedAt("waiter"));
        _k.WaitForDeployment(_ns, "waiter", TimeSpan.FromSeconds(30));
    }

    [Fact]
    public void WhatIf_names_the_keys_and_the_workloads_and_changes_nothing()
    {
        CreateSecret("web", new Dictionary<string, string> { ["jwt-secret"] = "a", ["session-secret"] = "b" });
        CreateUser("front", "web", "volume");
        var value = "Sentinel-" + Guid.NewGuid().ToString("N");
        using var s = new ModuleSession();
        s.Set("pw", Secure(value));
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Update-Secret @Kube -Name web -Data @{ 'jwt-secret' = $pw } -Generate session-secret -WhatIf");
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output);
        Assert.Contains("'jwt-secret', 'session-secret'", s.Host.Text);
        Assert.Contains("deployment/front", s.Host.Text);
        Assert.Equal(B64("a"), (string?)SecretData("web")["jwt-secret"]);
        Assert.Null(TemplateRestartedAt("front"));
        AssertNoSecret(Everything(s, r), value);
    }

    [Fact]
    public void Generate_with_Replace_leaves_exactly_the_generated_keys_as_openssl_rand_would_make_them()
    {
        CreateSecret("jwt", new Dictionary<string, string> { ["old-key"] = "gone soon", ["jwt-secret"] = "x" });
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Update-Secret @Kube jwt -Generate jwt-secret, session-secret -GenerateLength 64 -Replace -NoRestart -Force; Get-Secret @Kube jwt");
        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Output.Count);
        Assert.Equal(new[] { "jwt-secret", "old-key", "session-secret" }, (IEnumerable<string>)P(r.Output[0], "ChangedKeys")!);
        Assert.Equal(new[] { "old-key" }, (IEnumerable<string>)P(r.Output[0], "RemovedKeys")!);
        var info = r.Output[1];
        Assert.Equal("OpsTools.Kubernetes.SecretInfo", info.BaseObject.GetType().FullName);
        Assert.Equal(new[] { "jwt-secret", "session-secret" }, (IEnumerable<string>)P(info, "Keys")!);
        var data = SecretData("jwt");
        foreach (var key in new[] { "jwt-secret", "session-secret" })
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String((string)data[key]!));
            Assert.Equal(88, text.Length); // openssl rand -base64 64
            Assert.Equal(64, Convert.FromBase64String(text).Length);
        }
        Assert.NotEqual((string?)data["jwt-secret"], (string?)data["session-secret"]);
        Assert.DoesNotContain((string)data["jwt-secret"]!, JsonSerializer.Serialize(info.BaseObject, info.BaseObject.GetType()));
    }

    [Fact]
    public void A_Restart_name_that_does_not_use_the_secret_is_an_error_before_anything_changes()
    {
        CreateSecret("cache", new Dictionary<string, string> { ["password"] = "p" });
        CreateUser("reader", "cache", "env");
        using var s = new ModuleSession();
        var r = s.Run(_k.PowerShellSetup(_ns) + "; Update-Secret @Kube cache -Generate password -Restart redaer -Force");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("SecretRestartTargetUnknown,OpsTools.Commands.Kubernetes.UpdateSecretCommand", e.FullyQualifiedErrorId);
        Assert.Contains("deployment/reader", e.Exception.Message);
        Assert.Equal(B64("p"), (string?)SecretData("cache")["password"]);
    }

    [Fact]
    public void A_user_who_may_not_touch_secrets_gets_a_forbidden_error_naming_the_namespace_and_nothing_changes()
    {
        if (_k.External) return; // the viewer token exists on the test server only
        CreateSecret("locked", new Dictionary<string, string> { ["password"] = "keep" });
        var kubeconfig = Path.Combine(_k.WorkDirectory, $"viewer-{_ns}.kubeconfig");
        File.WriteAllText(kubeconfig, _k.Kubeconfig("viewer", $"token: {_k.ViewerToken}", _ns));
        using var s = new ModuleSession();
        var r = s.Run($"Update-Secret -Kubeconfig '{kubeconfig}' -Name locked -Generate password -Force");
        Assert.Empty(r.Output);
        var e = Assert.Single(r.Errors);
        Assert.Equal("KubeForbidden,OpsTools.Commands.Kubernetes.UpdateSecretCommand", e.FullyQualifiedErrorId);
        Assert.Contains(_ns, e.Exception.Message);
        Assert.Contains("secret 'locked'", e.Exception.Message);
        Assert.Equal(B64("keep"), (string?)SecretData("locked")["password"]);
    }

    [Fact]
    public void New_RandomSecret_gives_a_SecureString_unless_asked_for_plain_text()
    {
        using var s = new ModuleSession();
        var r = s.Run("New-RandomSecret -Length 64; New-RandomSecret -Length 64 -AsPlainText; New-RandomSecret 16 -Encoding Hex -AsPlainText -Count 2; New-RandomSecret 20 -Encoding Alphanumeric -AsPlainText");
        Assert.Empty(r.Errors);
        Assert.IsType<SecureString>(r.Output[0].BaseObject);
        Assert.Equal(88, ((SecureString)r.Output[0].BaseObject).Length);
        Assert.Equal(64, Convert.FromBase64String((string)r.Output[1].BaseObject).Length);
        Assert.Matches("^[0-9a-f]{32}$", (string)r.Output[2].BaseObject);
        Assert.NotEqual(r.Output[2].BaseObject, r.Output[3].BaseObject);
        Assert.Matches("^[A-Za-z0-9]{20}$", (string)r.Output[4].BaseObject);
    }
}
