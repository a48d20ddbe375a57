using System.Diagnostics;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace OpsTools.TestKit;

/// <summary>
/// A real Kubernetes API server for the tests: Debian's etcd, and kube-apiserver with
/// kube-controller-manager built from Debian's 'kubernetes' source package (1.20.2; see
/// tests/kube/build-kube-apiserver.sh), on loopback with a self-signed CA, static tokens and RBAC.
/// Real API objects, real Deployment/ReplicaSet/HPA controllers, real optimistic concurrency. There is
/// no kubelet or scheduler: <see cref="KubeletSim"/> plays the kubelet (binds pods to a fake node, reports
/// them Running/Ready or crash-looping, serves their logs through the API server's log proxy).
///
/// Set OPSTOOLS_TEST_KUBECONFIG (and optionally OPSTOOLS_TEST_KUBECONTEXT) to run the same tests against a
/// real cluster (kind, minikube, OpenShift Local) instead: tests then work in namespaces they create and
/// delete, and real kubelets run the pods (image: OPSTOOLS_TEST_IMAGE, default busybox:1.36).
/// </summary>
public sealed class KubeCluster : IDisposable
{
    public const string Version = "1.20.2";
    /// <summary>The cache folder's name (tests/kube/build-kube-apiserver.sh's key): built with reflect2 1.0.2, so custom resources work under Go 1.19.</summary>
    public const string BuildKey = Version + "-reflect2-1.0.2";
    private readonly string? _dir;
    private readonly string? _bin;
    private Process? _etcd, _apiServer, _controllers;
    private int _etcdPort, _etcdPeerPort;
    private readonly List<string> _namespaces = new();
    private readonly string? _externalAccount;

    /// <summary>True when the tests run against OPSTOOLS_TEST_KUBECONFIG.</summary>
    public bool External { get; }
    /// <summary>A kubeconfig file with an admin user; its current context is <see cref="Context"/>.</summary>
    public string KubeconfigPath { get; }
    public string Context { get; }
    /// <summary>The API server's URL.</summary>
    public string Server { get; private set; } = "";
    public int Port { get; private set; }
    /// <summary>The CA that signed the API server's certificate (PEM file).</summary>
    public string? CaFile { get; }
    /// <summary>A token with cluster-admin rights (system:masters).</summary>
    public string AdminToken { get; } = "admin-" + Guid.NewGuid().ToString("N");
    /// <summary>A token whose user may only read (the 'view' ClusterRole): for forbidden-verb tests.</summary>
    public string ViewerToken { get; } = "viewer-" + Guid.NewGuid().ToString("N");
    /// <summary>A client certificate/key (PEM files) of a user in system:masters: for client-certificate auth tests.</summary>
    public string? ClientCertFile { get; private set; }
    public string? ClientKeyFile { get; private set; }
    /// <summary>An admin REST client for setting up and checking the cluster's state (not the code under test).</summary>
    public KubeApi Api { get; private set; } = null!;
    /// <summary>The fake kubelet (null for an external cluster).</summary>
    public KubeletSim? Kubelet { get; private set; }
    /// <summary>The API server's log file (null for an external cluster).</summary>
    public string? ApiServerLog => _dir is null ? null : Path.Combine(_dir, "kube-apiserver.log");
    /// <summary>A folder that is deleted with the cluster, for kubeconfig files and plugins made by tests.</summary>
    public string WorkDirectory { get; }

    private KubeCluster(string kubeconfig, string? context, bool external)
    {
        External = external;
        KubeconfigPath = kubeconfig;
        // A real cluster's credentials come from its kubeconfig; the tests' own REST client reads them
        // with kubectl (which every such machine has), so no kubeconfig parser is needed here.
        Context = context ?? Kubectl(kubeconfig, null, "config", "current-context").Trim();
        Server = Kubectl(kubeconfig, Context, "config", "view", "--minify", "-o", "jsonpath={.clusters[0].cluster.server}").Trim();
        // A service account of its own with cluster-admin, removed again in Dispose.
        _externalAccount = "opstools-test-" + Guid.NewGuid().ToString("N")[..6];
        Kubectl(kubeconfig, Context, "create", "serviceaccount", _externalAccount, "-n", "default");
        Kubectl(kubeconfig, Context, "create", "clusterrolebinding", _externalAccount, "--clusterrole=cluster-admin", $"--serviceaccount=default:{_externalAccount}");
        var token = Kubectl(kubeconfig, Context, "create", "token", _externalAccount, "-n", "default", "--duration=2h").Trim();
        Api = new KubeApi(Server, token, null, insecure: true);
        WorkDirectory = Directory.CreateTempSubdirectory("opstools-kube-").FullName;
    }

    private KubeCluster(string dir, string bin)
    {
        _dir = dir; _bin = bin;
        WorkDirectory = dir;
        KubeconfigPath = Path.Combine(dir, "admin.kubeconfig");
        Context = "opstools-test";
        CaFile = Path.Combine(dir, "ca.crt");
    }

    /// <summary>Where the built binaries are cached (see tests/kube/build-kube-apiserver.sh).</summary>
    public static string? FindBinaries()
    {
        var candidates = new List<string>();
        var env = Environment.GetEnvironmentVariable("OPSTOOLS_KUBE_BIN");
        if (!string.IsNullOrEmpty(env)) candidates.Add(env);
        var cache = Environment.GetEnvironmentVariable("OPSTOOLS_KUBE_CACHE");
        if (!string.IsNullOrEmpty(cache)) candidates.Add(Path.Combine(cache, BuildKey, "bin"));
        candidates.Add(Path.Combine("/var/cache/opstools/kube", BuildKey, "bin"));
        var home = Environment.GetEnvironmentVariable("XDG_CACHE_HOME")
            ?? (Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? Path.Combine(h, ".cache") : null);
        if (home is not null) candidates.Add(Path.Combine(home, "opstools/kube", BuildKey, "bin"));
        return candidates.FirstOrDefault(c => File.Exists(Path.Combine(c, "kube-apiserver")) && File.Exists(Path.Combine(c, "kube-controller-manager")));
    }

    public static KubeCluster Start()
    {
        var external = Environment.GetEnvironmentVariable("OPSTOOLS_TEST_KUBECONFIG");
        if (!string.IsNullOrEmpty(external))
            return new KubeCluster(external, Environment.GetEnvironmentVariable("OPSTOOLS_TEST_KUBECONTEXT") is { Length: > 0 } c ? c : null, external: true);

        var bin = FindBinaries() ?? throw new InvalidOperationException(
            "kube-apiserver not found: run tests/kube/build-kube-apiserver.sh once (.ci/run does), or set OPSTOOLS_KUBE_BIN, or OPSTOOLS_TEST_KUBECONFIG for a real cluster.");
        if (!File.Exists("/usr/bin/etcd"))
            throw new InvalidOperationException("etcd not found: install Debian's etcd-server package (.ci/run does).");
        var dir = Directory.CreateTempSubdirectory("opstools-kube-").FullName;
        var cluster = new KubeCluster(dir, bin);
        try
        {
            cluster.WriteCredentials();
            cluster.StartEtcd();
            cluster.Port = HealthServer.FreePort();
            cluster.Server = $"https://127.0.0.1:{cluster.Port}";
            cluster.WriteKubeconfigs();
            cluster.Kubelet = new KubeletSim(cluster);
            cluster.StartApiServer();
            cluster.Api = new KubeApi(cluster.Server, cluster.AdminToken, cluster.CaFile);
            cluster.GrantViewer();
            cluster.StartControllers();
            cluster.Kubelet.Start();
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    // ---- credentials -------------------------------------------------------------------------

    private X509Certificate2 _ca = null!;
    private RSA _caKey = null!;

    private void WriteCredentials()
    {
        _caKey = RSA.Create(2048);
        var caReq = new CertificateRequest("CN=opstools-test-ca", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        _ca = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(7));
        File.WriteAllText(Path.Combine(_dir!, "ca.crt"), _ca.ExportCertificatePem());

        IssueCertificate("CN=kube-apiserver", server: true, "apiserver");
        IssueCertificate("CN=opstools-cert-user, O=system:masters", server: false, "client");
        IssueCertificate("CN=kube-apiserver-kubelet-client, O=system:masters", server: false, "kubelet-client");
        IssueCertificate("CN=front-proxy-client", server: false, "proxy-client");
        ClientCertFile = Path.Combine(_dir!, "client.crt");
        ClientKeyFile = Path.Combine(_dir!, "client.key");

        using var sa = RSA.Create(2048);
        File.WriteAllText(Path.Combine(_dir!, "sa.key"), sa.ExportRSAPrivateKeyPem());
        File.WriteAllText(Path.Combine(_dir!, "sa.pub"), sa.ExportSubjectPublicKeyInfoPem());
        File.WriteAllText(Path.Combine(_dir!, "tokens.csv"),
            $"{AdminToken},opstools-admin,uid-admin,\"system:masters\"\n{ViewerToken},opstools-viewer,uid-viewer\n");
    }

    private void IssueCertificate(string subject, bool server, string fileName)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection
            { new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2") }, false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            san.AddDnsName("localhost");
            san.AddDnsName("kubernetes.default.svc");
            req.CertificateExtensions.Add(san.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(12);
        using var cert = req.Create(_ca.SubjectName, X509SignatureGenerator.CreateForRSA(_caKey, RSASignaturePadding.Pkcs1),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(6), serial);
        File.WriteAllText(Path.Combine(_dir!, fileName + ".crt"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(_dir!, fileName + ".key"), key.ExportRSAPrivateKeyPem());
    }

    /// <summary>A TLS server certificate for loopback signed by this cluster's CA (for the fake kubelet and metrics server).</summary>
    public X509Certificate2 LoopbackServerCertificate()
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        using var cert = req.Create(_ca.SubjectName, X509SignatureGenerator.CreateForRSA(_caKey, RSASignaturePadding.Pkcs1),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(6), RandomNumberGenerator.GetBytes(12));
        return X509CertificateLoader.LoadPkcs12(cert.CopyWithPrivateKey(key).Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>
    /// A Kestrel app listening on 127.0.0.1 (a free port) with a certificate from this cluster's CA, for the
    /// servers the API server calls (the fake kubelet, the fake metrics server): <paramref name="map"/> adds
    /// the routes before it starts.
    /// </summary>
    public (WebApplication App, int Port) StartLoopbackHttps(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        var port = HealthServer.FreePort();
        var cert = LoopbackServerCertificate();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l => l.UseHttps(cert)));
        var app = builder.Build();
        map(app);
        app.StartAsync().GetAwaiter().GetResult();
        return (app, port);
    }

    private void WriteKubeconfigs()
    {
        File.WriteAllText(KubeconfigPath, Kubeconfig(Context, $"token: {AdminToken}", "default"));
        File.WriteAllText(Path.Combine(_dir!, "controllers.kubeconfig"), Kubeconfig(Context, $"token: {AdminToken}", "default"));
    }

    /// <summary>
    /// The text of a one-context kubeconfig for this cluster, with <paramref name="userYaml"/> as the user's
    /// fields (e.g. "token: x", or an exec block indented by four spaces after the first line).
    /// </summary>
    public string Kubeconfig(string context, string userYaml, string? @namespace = null, string? server = null)
    {
        if (External) throw new InvalidOperationException("an external cluster has its own kubeconfig");
        var ns = @namespace is null ? "" : $"\n    namespace: {@namespace}";
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: {context}-cluster
              cluster:
                server: {server ?? Server}
                certificate-authority: {CaFile}
            users:
            - name: {context}-user
              user:
                {userYaml}
            contexts:
            - name: {context}
              context:
                cluster: {context}-cluster
                user: {context}-user{ns}
            current-context: {context}

            """;
    }

    // ---- processes -------------------------------------------------------------------------

    private void StartEtcd()
    {
        _etcdPort = HealthServer.FreePort();
        _etcdPeerPort = HealthServer.FreePort();
        _etcd = Spawn("/usr/bin/etcd", "etcd.log",
            "--name", "opstools-test", "--data-dir", Path.Combine(_dir!, "etcd"),
            "--listen-client-urls", $"http://127.0.0.1:{_etcdPort}", "--advertise-client-urls", $"http://127.0.0.1:{_etcdPort}",
            "--listen-peer-urls", $"http://127.0.0.1:{_etcdPeerPort}", "--initial-advertise-peer-urls", $"http://127.0.0.1:{_etcdPeerPort}",
            "--initial-cluster", $"opstools-test=http://127.0.0.1:{_etcdPeerPort}",
            "--unsafe-no-fsync", "--quota-backend-bytes", "2147483648");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        WaitUntil(() =>
        {
            try { return http.GetStringAsync($"http://127.0.0.1:{_etcdPort}/health").Result.Contains("true"); }
            catch (AggregateException) { return false; }
        }, TimeSpan.FromSeconds(30), "etcd", _etcd, "etcd.log");
    }

    /// <summary>Starts (or restarts after <see cref="StopApiServer"/>) the API server on the same port; returns when it is ready.</summary>
    public void StartApiServer()
    {
        if (External) throw new InvalidOperationException("cannot start an external cluster's API server");
        string F(string name) => Path.Combine(_dir!, name);
        _apiServer = Spawn(Path.Combine(_bin!, "kube-apiserver"), "kube-apiserver.log",
            $"--etcd-servers=http://127.0.0.1:{_etcdPort}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", $"--secure-port={Port}", "--insecure-port=0",
            $"--tls-cert-file={F("apiserver.crt")}", $"--tls-private-key-file={F("apiserver.key")}",
            $"--client-ca-file={F("ca.crt")}", $"--token-auth-file={F("tokens.csv")}",
            "--authorization-mode=RBAC",
            $"--service-account-key-file={F("sa.pub")}", $"--service-account-signing-key-file={F("sa.key")}",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-cluster-ip-range=10.96.0.0/24",
            // No kubelet mints service account tokens here; pods need none.
            "--disable-admission-plugins=ServiceAccount",
            $"--kubelet-client-certificate={F("kubelet-client.crt")}", $"--kubelet-client-key={F("kubelet-client.key")}",
            "--kubelet-preferred-address-types=InternalIP",
            $"--requestheader-client-ca-file={F("ca.crt")}", "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            $"--proxy-client-cert-file={F("proxy-client.crt")}", $"--proxy-client-key-file={F("proxy-client.key")}",
            "--profiling=false", "--event-ttl=24h");
        WaitReady(TimeSpan.FromSeconds(60));
    }

    /// <summary>Stops the API server (SIGKILL, as a crash or a network cut would look to a client).</summary>
    public void StopApiServer()
    {
        if (External) throw new InvalidOperationException("cannot stop an external cluster's API server");
        Stop(ref _apiServer);
    }

    private void StartControllers()
    {
        string F(string name) => Path.Combine(_dir!, name);
        _controllers = Spawn(Path.Combine(_bin!, "kube-controller-manager"), "kube-controller-manager.log",
            $"--kubeconfig={F("controllers.kubeconfig")}", "--bind-address=127.0.0.1", "--secure-port=0", "--port=0",
            "--leader-elect=false", $"--service-account-private-key-file={F("sa.key")}", $"--root-ca-file={F("ca.crt")}",
            "--horizontal-pod-autoscaler-sync-period=1s", "--horizontal-pod-autoscaler-downscale-stabilization=0s",
            "--concurrent-deployment-syncs=10", "--concurrent-replicaset-syncs=10",
            "--kube-api-qps=500", "--kube-api-burst=1000",
            "--controllers=*,-nodeipam,-nodelifecycle,-attachdetach,-persistentvolume-binder,-persistentvolume-expander,-pvc-protection,-pv-protection,-ttl,-route,-service,-cloud-node-lifecycle,-csrsigning,-csrapproving,-csrcleaner,-bootstrapsigner,-tokencleaner");
    }

    private void WaitReady(TimeSpan timeout)
    {
        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        WaitUntil(() =>
        {
            try { return http.GetStringAsync(Server + "/readyz").Result.Trim() == "ok"; }
            catch (AggregateException) { return false; }
        }, timeout, "kube-apiserver", _apiServer, "kube-apiserver.log");
    }

    private void GrantViewer()
    {
        Api.Post("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", new
        {
            metadata = new { name = "opstools-viewer" },
            roleRef = new { apiGroup = "rbac.authorization.k8s.io", kind = "ClusterRole", name = "view" },
            subjects = new[] { new { kind = "User", name = "opstools-viewer", apiGroup = "rbac.authorization.k8s.io" } },
        });
    }

    private Process Spawn(string exe, string logName, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _dir! };
        foreach (var a in args) psi.ArgumentList.Add(a);
        var log = new StreamWriter(Path.Combine(_dir!, logName), append: true) { AutoFlush = true };
        var p = new Process { StartInfo = psi, EnableRaisingEvents = true };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        p.Exited += (_, _) => { lock (log) { log.Flush(); } };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private void WaitUntil(Func<bool> ready, TimeSpan timeout, string what, Process? process, string logName)
    {
        var sw = Stopwatch.StartNew();
        while (!ready())
        {
            if (process is { HasExited: true } || sw.Elapsed > timeout)
            {
                var log = Path.Combine(_dir!, logName);
                var tail = File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(30)) : "";
                throw new InvalidOperationException($"{what} did not become ready ({(process is { HasExited: true } ? "exited" : "timed out")}):\n{tail}");
            }
            Thread.Sleep(100);
        }
    }

    private static string Kubectl(string kubeconfig, string? context, params string[] args)
    {
        var psi = new ProcessStartInfo("kubectl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("--kubeconfig=" + kubeconfig);
        if (context is not null) psi.ArgumentList.Add("--context=" + context);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"kubectl {string.Join(' ', args)}: {error}");
        return output;
    }

    private static void Stop(ref Process? p)
    {
        var proc = p;
        p = null;
        if (proc is null) return;
        try { if (!proc.HasExited) { proc.Kill(entireProcessTree: true); proc.WaitForExit(10_000); } }
        catch (InvalidOperationException) { }
        proc.Dispose();
    }

    // ---- namespaces and workloads ----------------------------------------------------------------

    /// <summary>A new namespace for one test class; deleted when the cluster is disposed (or by <see cref="DeleteNamespace"/>).</summary>
    public string CreateNamespace(string prefix = "t")
    {
        var name = $"ops-{prefix}-{Guid.NewGuid().ToString("N")[..8]}".ToLowerInvariant();
        Api.Post("/api/v1/namespaces", new { metadata = new { name, labels = new Dictionary<string, string> { ["opstools.test"] = "true" } } });
        lock (_namespaces) _namespaces.Add(name);
        // The API server refuses objects in a namespace until its default service account exists on some
        // clusters (not with the ServiceAccount admission plugin off, as here): wait for it on real ones.
        if (External)
            WaitFor(() => Api.TryGet($"/api/v1/namespaces/{name}/serviceaccounts/default") is not null, TimeSpan.FromSeconds(30), "the default service account");
        return name;
    }

    public void DeleteNamespace(string name)
    {
        try { Api.Delete($"/api/v1/namespaces/{name}"); } catch (KubeApiException) { } catch (HttpRequestException) { }
        lock (_namespaces) _namespaces.Remove(name);
    }

    /// <summary>The container image tests use (a real cluster pulls it).</summary>
    public static string TestImage => Environment.GetEnvironmentVariable("OPSTOOLS_TEST_IMAGE") is { Length: > 0 } i ? i : "busybox:1.36";

    /// <summary>
    /// A Deployment (apps/v1, as a JSON object to post) whose pods behave as <paramref name="behaviour"/> says
    /// (see <see cref="PodBehaviour"/>): the fake kubelet reads the annotation; on a real cluster the
    /// container's command makes it so.
    /// </summary>
    public static JsonObject NewDeployment(string name, int replicas, PodBehaviour behaviour = PodBehaviour.Ready,
        string? image = null, int progressDeadlineSeconds = 600)
    {
        var deployment = new
        {
            apiVersion = "apps/v1",
            kind = "Deployment",
            metadata = new { name, labels = new Dictionary<string, string> { ["app"] = name } },
            spec = new
            {
                replicas,
                progressDeadlineSeconds,
                revisionHistoryLimit = 10,
                selector = new { matchLabels = new Dictionary<string, string> { ["app"] = name } },
                strategy = new { type = "RollingUpdate", rollingUpdate = new { maxSurge = "25%", maxUnavailable = "25%" } },
                template = PodTemplate(new Dictionary<string, string> { ["app"] = name }, behaviour, image ?? TestImage, name),
            },
        };
        return JsonSerializer.SerializeToNode(deployment, KubeApi.Json)!.AsObject();
    }

    /// <summary>A pod template (as a JSON-serializable object) with one container named <paramref name="container"/>.</summary>
    public static object PodTemplate(IDictionary<string, string> labels, PodBehaviour behaviour, string image, string container)
    {
        var command = behaviour switch
        {
            PodBehaviour.CrashLoop => new[] { "sh", "-c", "echo starting; echo 'fatal: cannot connect to database' >&2; exit 1" },
            PodBehaviour.OomKilled => new[] { "sh", "-c", "echo filling memory; tail /dev/zero" },
            _ => new[] { "sh", "-c", "i=0; while true; do i=$((i+1)); echo \"line $i ok\"; sleep 5; done" },
        };
        return new
        {
            metadata = new
            {
                labels = new Dictionary<string, string>(labels),
                annotations = new Dictionary<string, string> { [KubeletSim.BehaviourAnnotation] = behaviour.ToString() },
            },
            spec = new
            {
                terminationGracePeriodSeconds = 2,
                nodeSelector = behaviour == PodBehaviour.Unschedulable ? new Dictionary<string, string> { ["opstools.test/no-such-node"] = "true" } : null,
                containers = new[]
                {
                    new
                    {
                        name = container,
                        image = behaviour == PodBehaviour.ImagePullError ? "registry.invalid/opstools/does-not-exist:1" : image,
                        command,
                        resources = new
                        {
                            requests = new Dictionary<string, string> { ["cpu"] = "10m", ["memory"] = behaviour == PodBehaviour.OomKilled ? "8Mi" : "16Mi" },
                            limits = new Dictionary<string, string> { ["cpu"] = "100m", ["memory"] = behaviour == PodBehaviour.OomKilled ? "8Mi" : "64Mi" },
                        },
                        readinessProbe = behaviour == PodBehaviour.NeverReady ? new { exec = new { command = new[] { "false" } }, periodSeconds = 2 } : null,
                    },
                },
            },
        };
    }

    /// <summary>Creates a deployment in <paramref name="ns"/> (see <see cref="NewDeployment"/>).</summary>
    public JsonNode CreateDeployment(string ns, JsonObject deployment) => Api.Post($"/apis/apps/v1/namespaces/{ns}/deployments", deployment);

    public JsonNode GetDeployment(string ns, string name) => Api.Get($"/apis/apps/v1/namespaces/{ns}/deployments/{name}");

    public JsonArray ListPods(string ns, string? labelSelector = null) =>
        Api.Get($"/api/v1/namespaces/{ns}/pods" + (labelSelector is null ? "" : "?labelSelector=" + Uri.EscapeDataString(labelSelector)))["items"]!.AsArray();

    /// <summary>Polls until <paramref name="condition"/> holds; throws TimeoutException naming what was awaited.</summary>
    public static void WaitFor(Func<bool> condition, TimeSpan timeout, string? what = null)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            if (condition()) return;
            if (sw.Elapsed > timeout) throw new TimeoutException($"timed out after {timeout.TotalSeconds:0} s waiting for {what ?? "a condition"}");
            Thread.Sleep(100);
        }
    }

    /// <summary>Waits until the deployment's rollout is complete (status caught up, all replicas available).</summary>
    public void WaitForDeployment(string ns, string name, TimeSpan? timeout = null) =>
        WaitFor(() =>
        {
            var d = GetDeployment(ns, name);
            var want = (int?)d["spec"]?["replicas"] ?? 1;
            var st = d["status"];
            return ((long?)st?["observedGeneration"] ?? 0) >= ((long?)d["metadata"]?["generation"] ?? 0)
                && ((int?)st?["updatedReplicas"] ?? 0) == want && ((int?)st?["replicas"] ?? 0) == want && ((int?)st?["availableReplicas"] ?? 0) == want;
        }, timeout ?? TimeSpan.FromSeconds(60), $"deployment {ns}/{name} to be available");

    /// <summary>PowerShell text that sets $Kube (a splat table: -Kubeconfig, -Context, -Namespace) for this cluster.</summary>
    public string PowerShellSetup(string @namespace) =>
        $"$Kube = @{{ Kubeconfig = '{KubeconfigPath}'; Context = '{Context}'; Namespace = '{@namespace}' }}";

    public void Dispose()
    {
        if (External && Api is not null)
        {
            List<string> left;
            lock (_namespaces) left = _namespaces.ToList();
            foreach (var ns in left) DeleteNamespace(ns);
            if (_externalAccount is not null)
            {
                try { Api.Delete($"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{_externalAccount}"); } catch (KubeApiException) { }
                try { Api.Delete($"/api/v1/namespaces/default/serviceaccounts/{_externalAccount}"); } catch (KubeApiException) { }
            }
        }
        Kubelet?.Dispose();
        Stop(ref _controllers);
        Stop(ref _apiServer);
        Stop(ref _etcd);
        Api?.Dispose();
        try { Directory.Delete(WorkDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>How a test pod behaves (played by <see cref="KubeletSim"/>, or made real by the container command on a real cluster).</summary>
public enum PodBehaviour
{
    /// <summary>Running and Ready.</summary>
    Ready,
    /// <summary>Running, never Ready (failing readiness probe).</summary>
    NeverReady,
    /// <summary>Exits with code 1 over and over: CrashLoopBackOff, restarts growing, BackOff warning events.</summary>
    CrashLoop,
    /// <summary>Killed for memory (exit 137, OOMKilled) and restarted.</summary>
    OomKilled,
    /// <summary>The image cannot be pulled: ErrImagePull / ImagePullBackOff.</summary>
    ImagePullError,
    /// <summary>Stays Pending: no node matches (FailedScheduling).</summary>
    Unschedulable,
}

/// <summary>One API server shared by the tests of the "Kubernetes" collection (each test class works in its own namespace).</summary>
public sealed class KubeClusterFixture : IDisposable
{
    public KubeCluster Cluster { get; } = KubeCluster.Start();
    public void Dispose() => Cluster.Dispose();
}
