// Usage: OpsTools.TestParts <part>...     parts: http, postgres, docker, kube, metrics, certs, redis, pgbouncer, notify, ssh
//
// Starts the real parts of the test suite (the same TestKit classes the xUnit tests use), prints one line
//   OPSTOOLS-PARTS {json}
// with where they are, then reads setup commands from stdin, one per line, answering each with one line
//   OK <text>   or   ERR <message>
// and stops everything it started when stdin closes (or on "quit"). The Pester suite drives it through
// tests/Pester/TestSupport.psm1 (Start-TestPart / Invoke-TestPart / Stop-TestPart).
//
// Commands:
//   pg.database <prefix>                    creates a database, answers its name
//   pg.exec <database> <sql...>             runs SQL (the rest of the line)
//   pg.scalar <database> <sql...>           runs SQL, answers the first column of the first row
//   kube.namespace <prefix>                 creates a namespace, answers its name
//   kube.deployment <ns> <name> <replicas> [behaviour]   creates a Deployment (Ready, NeverReady, CrashLoop,
//                                           OomKilled, ImagePullError, Unschedulable); waits when Ready
//   kube.replicas <ns> <name>               answers spec.replicas as the API server has it
//   docker.compose <project> <service> <n> [base|web]   runs a Compose-labelled container, answers its id
//   docker.project <prefix>                 answers a fresh Compose project name
//   metrics.drive <count> <code> <ms>       sends requests to the metrics app's /api/work
//   metrics.queue <n>                       sets the app's triage_queue_size gauge
//   notify.requests <path-prefix>           answers the requests the notification receiver got there, as a JSON array
//                                           of { Path, Query, Body } (the body as the exact UTF-8 text received)
//   notify.script <path-prefix> <status> [retry-after]   queues one answer (429 with Retry-After, 5xx) for that path
//   notify.violations                       answers the format problems the receiver found (JSON array)
//   certs.secret <ns> <name> <site>         a kubernetes.io/tls secret holding the site's certificate (and the CA as ca.crt)
//   certs.certmanager <ns> <name> <site>    the cert-manager Certificate CRD (once), a Certificate <name> with secret <name>-tls
//                                           holding the site's certificate, and the status cert-manager's controller would write
//                                           (no cert-manager runs here: this part plays its controller)
//   redis.fill <prefix> <n> [db]            SETs <prefix>1..<prefix>n (values of 100 bytes) in one pipelined redis-cli batch
//   redis.list <key> <n>                    RPUSHes n jobs onto a list (a queue)
//   redis.cli <args...>                     runs redis-cli on the plain port, answers its output with lines joined by '|'
//   pgb.hold <n> <seconds>                  starts n psql clients through PgBouncer that each hold a server for <seconds>
//   pgb.pool                                SHOW POOLS of the pooled database as psql reads it: cl_active=..;cl_waiting=..;...
//   ssh.install <port> [version]            copies the built module (out/OpsTools/<version>) into that host's user module path,
//                                           the manifest saying [version] when given (a host with another OpsTools)
//   ssh.versions <port>                     the OpsTools versions in that host's user module path, joined by ','
//
// Parts: certs (Kestrel TLS sites under a throwaway CA: valid 90 days, expiring in 5, expired, self-signed, wrong host; a
// folder with a PEM bundle, a DER file and a key file), redis (redis-server with a password on a plain port and a TLS port
// that requires client certificates), pgbouncer (pgbouncer 1.18, pool of 2, in front of the postgres part, started with it),
// ssh (PowerShell remoting hosts: sshd instances on loopback with pwsh as the powershell subsystem and key authentication,
// none with OpsTools yet, and a port nothing listens on: a host that is down).
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsTools.TestKit;

var wanted = args.Select(a => a.ToLowerInvariant()).ToHashSet();
if (wanted.Count == 0 || wanted.Except(["http", "postgres", "docker", "kube", "metrics", "certs", "redis", "pgbouncer", "notify", "ssh"]).Any())
{
    Console.Error.WriteLine("usage: OpsTools.TestParts <http|postgres|docker|kube|metrics|certs|redis|pgbouncer|notify|ssh>...");
    return 2;
}

var disposables = new Stack<IDisposable>();
var info = new JsonObject();
PgCluster? pg = null;
KubeCluster? kube = null;
DockerEngine? docker = null;
MetricsApp? metricsApp = null;
TestPki? pki = null;
var sites = new Dictionary<string, System.Security.Cryptography.X509Certificates.X509Certificate2>();
RedisServer? redis = null;
PgBouncer? bouncer = null;
var clients = new List<System.Diagnostics.Process>();
NotificationReceiver? notify = null;
var sshHosts = new Dictionary<int, SshHost>();
try
{
    if (wanted.Contains("http"))
    {
        var server = HealthServer.Start(MapSampleService, tls: true);
        disposables.Push(server);
        info["http"] = new JsonObject
        {
            ["HttpBase"] = server.HttpBase.ToString().TrimEnd('/'),
            ["HttpsBase"] = server.HttpsBase!.ToString().TrimEnd('/'),
            ["Unused"] = $"http://127.0.0.1:{HealthServer.FreePort()}",
        };
    }
    if (wanted.Contains("postgres") || wanted.Contains("pgbouncer"))
    {
        pg = PgCluster.Start();
        disposables.Push(pg);
        info["postgres"] = new JsonObject
        {
            ["Server"] = pg.Host, ["Port"] = pg.Port, ["User"] = pg.User, ["Password"] = pg.Password,
            ["ConnectionString"] = pg.ConnectionString(), ["BinDirectory"] = pg.BinDirectory,
        };
    }
    if (wanted.Contains("docker"))
    {
        docker = DockerEngine.Start();
        disposables.Push(docker);
        info["docker"] = new JsonObject
        {
            ["DockerHost"] = docker.Host, ["BaseImage"] = DockerEngine.BaseImage, ["WebImage"] = DockerEngine.WebImage,
            ["TestLabel"] = DockerEngine.TestLabel, ["RunId"] = docker.RunId,
        };
    }
    if (wanted.Contains("kube"))
    {
        kube = KubeCluster.Start();
        disposables.Push(kube);
        info["kube"] = new JsonObject
        {
            ["Kubeconfig"] = kube.KubeconfigPath, ["Context"] = kube.Context, ["Server"] = kube.Server,
            ["AdminToken"] = kube.AdminToken, ["CaFile"] = kube.CaFile,
        };
    }

    if (wanted.Contains("metrics"))
    {
        // A prometheus-net app, scraped every second by Debian's Prometheus, which sends ServerErrors (critical) to Alertmanager.
        metricsApp = MetricsApp.Start();
        disposables.Push(metricsApp);
        var stack = PrometheusStack.Start([$"127.0.0.1:{metricsApp.Base.Port}"], PrometheusStack.ServerErrorsRule);
        disposables.Push(stack);
        info["metrics"] = new JsonObject
        {
            ["AppBase"] = metricsApp.Base.ToString().TrimEnd('/'), ["MetricsUri"] = metricsApp.MetricsUri.ToString(),
            ["PrometheusUri"] = stack.PrometheusUri.ToString().TrimEnd('/'), ["AlertmanagerUri"] = stack.AlertmanagerUri.ToString().TrimEnd('/'),
        };
    }

    if (wanted.Contains("certs"))
    {
        pki = new TestPki("OpsTools Pester");
        disposables.Push(pki);
        var names = new[] { "localhost", "127.0.0.1" };
        var now = DateTimeOffset.UtcNow;
        sites["valid"] = pki.Issue(names, now.AddDays(90).AddHours(1), rsa: true);
        sites["expiring"] = pki.Issue(names, now.AddDays(5).AddHours(1));
        sites["expired"] = pki.Issue(names, now.AddDays(-2).AddHours(-1), now.AddDays(-90));
        sites["selfsigned"] = TestPki.SelfSigned(names, now.AddDays(60).AddHours(1));
        sites["wronghost"] = pki.Issue(["api.example.test"], now.AddDays(90).AddHours(1));
        var chain = new[] { pki.Intermediate };
        var tls = TlsTestServer.Start(sites.Select(kv => new TlsSite(kv.Key, kv.Value, kv.Key == "selfsigned" ? null : chain)).ToList());
        disposables.Push(tls);
        var folder = Directory.CreateTempSubdirectory("opstools-parts-certs-").FullName;
        disposables.Push(new FolderCleanup(folder));
        File.WriteAllText(Path.Combine(folder, "ca.pem"), pki.RootPem);
        var bundle = Path.Combine(folder, "bundle");
        Directory.CreateDirectory(Path.Combine(bundle, "live", "api"));
        // A full-chain file (leaf, intermediate), a DER certificate and a key file that must be left unread.
        File.WriteAllText(Path.Combine(bundle, "live", "api", "fullchain.pem"), TestPki.Pem(sites["valid"]) + TestPki.Pem(pki.Intermediate));
        File.WriteAllText(Path.Combine(bundle, "live", "api", "privkey.pem"), TestPki.KeyPem(sites["valid"]));
        File.WriteAllBytes(Path.Combine(bundle, "expiring.der"), sites["expiring"].RawData);
        File.WriteAllText(Path.Combine(bundle, "README.txt"), "not a certificate");
        info["certs"] = new JsonObject
        {
            ["CaFile"] = Path.Combine(folder, "ca.pem"), ["Bundle"] = bundle,
            ["Endpoints"] = new JsonObject(sites.Keys.Select(k => KeyValuePair.Create(k, (JsonNode?)JsonValue.Create(tls.Endpoint(k))))),
            ["NotAfter"] = new JsonObject(sites.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value.NotAfter.ToUniversalTime().ToString("o"))))),
            ["KeyLine"] = TestPki.KeyPem(sites["valid"]).Split('\n')[1],
        };
    }

    if (wanted.Contains("redis"))
    {
        redis = RedisServer.Start(new RedisServerOptions { Tls = true, TlsAuthClients = true, Password = "pw-" + Guid.NewGuid().ToString("N")[..12] });
        disposables.Push(redis);
        info["redis"] = new JsonObject
        {
            ["Server"] = "127.0.0.1", ["Port"] = redis.Port, ["TlsPort"] = redis.TlsPort, ["Password"] = redis.Password,
            ["CaFile"] = redis.CaFile, ["ClientCertificate"] = redis.ClientCertificateFile, ["ClientKey"] = redis.ClientKeyFile,
            ["KeyLine"] = File.ReadAllText(redis.ClientKeyFile!).Split('\n')[1],
        };
    }

    if (wanted.Contains("pgbouncer"))
    {
        bouncer = PgBouncer.Start(pg!, poolSize: 2);
        disposables.Push(bouncer);
        info["pgbouncer"] = new JsonObject
        {
            ["Server"] = "127.0.0.1", ["Port"] = bouncer.Port, ["AdminUser"] = bouncer.AdminUser, ["AdminPassword"] = bouncer.AdminPassword,
            ["StatsUser"] = bouncer.StatsUser, ["PlainUser"] = bouncer.PlainUser, ["Database"] = bouncer.DatabaseAlias,
        };
    }

    if (wanted.Contains("notify"))
    {
        // Stands in for Slack, Teams, PagerDuty, Opsgenie and a webhook (the URLs and keys a real service would give).
        notify = new NotificationReceiver();
        disposables.Push(notify);
        info["notify"] = new JsonObject
        {
            ["SlackWebhook"] = notify.SlackWebhook().ToString(), ["SlackApi"] = notify.SlackApi.ToString(), ["SlackToken"] = notify.SlackToken,
            ["TeamsWebhook"] = notify.TeamsWebhook().ToString(), ["PagerDuty"] = notify.PagerDuty.ToString(), ["RoutingKey"] = notify.RoutingKey,
            ["Opsgenie"] = notify.Opsgenie.ToString(), ["OpsgenieKey"] = notify.OpsgenieKey, ["Webhook"] = notify.Webhook().ToString(),
        };
    }

    if (wanted.Contains("ssh"))
    {
        // Three hosts, started together (each sshd is quick; each session later starts its own pwsh).
        foreach (var h in new[] { 0, 1, 2 }.AsParallel().Select(_ => SshHost.Start()).ToList())
        {
            sshHosts[h.Port] = h;
            disposables.Push(h);
        }
        var (dotnet, dll) = SshHost.Pwsh();
        info["ssh"] = new JsonObject
        {
            ["HostName"] = SshHost.HostName, ["UserName"] = SshHost.UserName, ["KeyFile"] = SshHost.ClientKeyFile,
            ["Ports"] = new JsonArray(sshHosts.Keys.Select(k => (JsonNode)JsonValue.Create(k)!).ToArray()),
            ["ModulePaths"] = new JsonObject(sshHosts.Select(kv => KeyValuePair.Create(kv.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)JsonValue.Create(kv.Value.ModulePath)))),
            ["Homes"] = new JsonObject(sshHosts.Select(kv => KeyValuePair.Create(kv.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)JsonValue.Create(kv.Value.UserHome)))),
            ["DownPort"] = SshHost.DownPort(), ["Subsystem"] = $"{dotnet} {dll} -sshs -NoLogo -NoProfile",
        };
    }

    Console.Out.WriteLine("OPSTOOLS-PARTS " + info.ToJsonString());
    Console.Out.Flush();

    string? line;
    while ((line = Console.In.ReadLine()) is not null)
    {
        line = line.Trim();
        if (line.Length == 0) continue;
        if (line == "quit") break;
        string answer;
        try { answer = "OK " + Handle(line); }
        catch (Exception e) { answer = "ERR " + e.Message.Replace('\n', ' '); }
        Console.Out.WriteLine(answer);
        Console.Out.Flush();
    }
    return 0;
}
catch (Exception e)
{
    // The message (with the part's log tail) reaches the test's failure; stderr gets where it came from.
    Console.Out.WriteLine("OPSTOOLS-PARTS-FAILED " + e.Message.Replace('\n', ' '));
    Console.Error.WriteLine(e.GetType().Name + " " + e.StackTrace);
    return 1;
}
finally
{
    if (docker is not null) { try { docker.RemoveTestContainers(); } catch (Exception) { } }
    foreach (var c in clients) { try { if (!c.HasExited) c.Kill(true); c.Dispose(); } catch (Exception) { } }
    foreach (var c in sites.Values) c.Dispose();
    while (disposables.Count > 0)
    {
        try { disposables.Pop().Dispose(); } catch (Exception e) { Console.Error.WriteLine("stopping a part: " + e.Message); }
    }
}

string Handle(string line)
{
    var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    string Rest(int from) => string.Join(' ', words.Skip(from));
    switch (words[0])
    {
        case "pg.database": return Need(pg).CreateDatabase(words.ElementAtOrDefault(1) ?? "p");
        case "pg.exec": Need(pg).Exec(Rest(2), words[1]); return "";
        case "pg.scalar": return Convert.ToString(Need(pg).Scalar<object>(Rest(2), words[1]), System.Globalization.CultureInfo.InvariantCulture) ?? "";
        case "kube.namespace": return Need(kube).CreateNamespace(words.ElementAtOrDefault(1) ?? "p");
        case "kube.deployment":
        {
            var behaviour = words.Length > 4 ? Enum.Parse<PodBehaviour>(words[4], ignoreCase: true) : PodBehaviour.Ready;
            Need(kube).CreateDeployment(words[1], KubeCluster.NewDeployment(words[2], int.Parse(words[3]), behaviour));
            if (behaviour == PodBehaviour.Ready) kube!.WaitForDeployment(words[1], words[2]);
            return words[2];
        }
        case "kube.replicas": return ((int?)Need(kube).GetDeployment(words[1], words[2])["spec"]?["replicas"] ?? 0).ToString();
        case "docker.project": return Need(docker).NewProject(words.ElementAtOrDefault(1) ?? "p");
        case "docker.compose":
        {
            var image = words.ElementAtOrDefault(4) == "base" ? DockerEngine.BaseImage : DockerEngine.WebImage;
            IEnumerable<string>? command = image == DockerEngine.BaseImage ? ["sleep", "3600"] : null;
            var id = Need(docker).RunComposeContainer(words[1], words[2], int.Parse(words[3]), image, command: command);
            return id.Trim();
        }
        case "metrics.drive": Need(metricsApp).DriveAsync(int.Parse(words[1]), int.Parse(words[2]), int.Parse(words[3])).GetAwaiter().GetResult(); return "";
        case "metrics.queue": Need(metricsApp).QueueSize.Set(double.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture)); return "";
        case "certs.secret":
            Need(kube);
            CertManagerTestSupport.WriteTlsSecret(kube!, words[1], words[2], sites[words[3]], Need(pki).Root, null);
            return words[2];
        case "certs.certmanager":
        {
            Need(kube);
            CertManagerTestSupport.EnsureCrd(kube!);
            var cert = sites[words[3]];
            CertManagerTestSupport.WriteTlsSecret(kube!, words[1], words[2] + "-tls", cert, null, words[2]);
            CertManagerTestSupport.CreateCertificate(kube!, words[1], words[2], words[2] + "-tls", ["localhost"]);
            CertManagerTestSupport.SetIssued(kube!, words[1], words[2], cert, 1);
            return words[2];
        }
        case "redis.fill":
        {
            var value = new string('v', 100);
            var batch = string.Join("\n", Enumerable.Range(1, int.Parse(words[2])).Select(i => $"SET {words[1]}{i} {value}")) + "\n";
            Need(redis).CliWithInput(batch, words.Length > 3 ? new[] { "-n", words[3] } : Array.Empty<string>());
            return "";
        }
        case "redis.list":
            Need(redis).CliWithInput(string.Join("\n", Enumerable.Range(1, int.Parse(words[2])).Select(i => $"RPUSH {words[1]} job{i}")) + "\n");
            return "";
        case "redis.cli": return string.Join('|', Need(redis).Cli(words.Skip(1).ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()));
        case "pgb.hold":
            for (var i = 0; i < int.Parse(words[1]); i++) clients.Add(Need(bouncer).StartClient($"SELECT pg_sleep({int.Parse(words[2])})"));
            return "";
        case "pgb.pool": return string.Join(';', Need(bouncer).PoolRow().Select(kv => $"{kv.Key}={kv.Value}"));
        case "notify.requests":
            return new JsonArray(Need(notify).To(words.ElementAtOrDefault(1) ?? "/")
                .Select(r => (JsonNode)new JsonObject { ["Path"] = r.Path, ["Query"] = r.Query, ["Body"] = r.Body }).ToArray()).ToJsonString();
        case "notify.script":
            Need(notify).Script(words[1], new NotificationReceiver.Answer(int.Parse(words[2]), words[2] == "429" ? "rate_limited" : "error",
                words.Length > 3 ? int.Parse(words[3]) : null));
            return "";
        case "notify.violations": return new JsonArray(Need(notify).Violations.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()).ToJsonString();
        case "ssh.install": SshHostAt(words[1]).InstallModule(RepoPaths.ModuleDirectory, words.ElementAtOrDefault(2)); return "";
        case "ssh.versions": return string.Join(',', SshHostAt(words[1]).InstalledVersions());
        default: throw new ArgumentException($"unknown command '{words[0]}'");
    }
}

SshHost SshHostAt(string port) =>
    sshHosts.TryGetValue(int.Parse(port, System.Globalization.CultureInfo.InvariantCulture), out var h) ? h
        : throw new InvalidOperationException($"no ssh host on port {port} (start the ssh part)");

static T Need<T>(T? part) where T : class =>
    part ?? throw new InvalidOperationException($"the {typeof(T).Name} part was not started (name it on the command line)");

// The sample service of the README and the demo: a healthy API, a worker with a degraded component,
// an actuator-style ML service, a failing endpoint and a slow one.
static void MapSampleService(WebApplication app)
{
    app.MapGet("/health", () => Results.Json(new
    {
        status = "healthy",
        components = new { database = new { status = "healthy", latency_ms = 3 }, redis = new { status = "healthy" } },
    }));
    app.MapGet("/worker/health", () => Results.Json(new
    {
        status = "Degraded",
        entries = new
        {
            queue = new { status = "Degraded", description = "1840 jobs waiting (warn at 1000)" },
            storage = new { status = "Healthy" },
        },
    }));
    app.MapGet("/ml/actuator/health", () => Results.Json(new { status = "UP", components = new { model = new { status = "UP" } } }));
    app.MapGet("/down", () => Results.Json(new { status = "unhealthy", error = "database connection refused" }, statusCode: 503));
    app.MapGet("/slow", async (HttpContext ctx) =>
    {
        try { await Task.Delay(TimeSpan.FromSeconds(30), ctx.RequestAborted); } catch (OperationCanceledException) { }
        return Results.Json(new { status = "healthy" });
    });
}

sealed class FolderCleanup(string path) : IDisposable
{
    public void Dispose() { try { Directory.Delete(path, true); } catch (IOException) { } }
}
