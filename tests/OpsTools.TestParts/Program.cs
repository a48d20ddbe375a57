// Usage: OpsTools.TestParts <part>...     parts: http, postgres, docker, kube, metrics, notify
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
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsTools.TestKit;

var wanted = args.Select(a => a.ToLowerInvariant()).ToHashSet();
if (wanted.Count == 0 || wanted.Except(["http", "postgres", "docker", "kube", "metrics", "notify"]).Any())
{
    Console.Error.WriteLine("usage: OpsTools.TestParts <http|postgres|docker|kube|metrics|notify>...");
    return 2;
}

var disposables = new Stack<IDisposable>();
var info = new JsonObject();
PgCluster? pg = null;
KubeCluster? kube = null;
DockerEngine? docker = null;
MetricsApp? metricsApp = null;
NotificationReceiver? notify = null;
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
    if (wanted.Contains("postgres"))
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
        case "notify.requests":
            return new JsonArray(Need(notify).To(words.ElementAtOrDefault(1) ?? "/")
                .Select(r => (JsonNode)new JsonObject { ["Path"] = r.Path, ["Query"] = r.Query, ["Body"] = r.Body }).ToArray()).ToJsonString();
        case "notify.script":
            Need(notify).Script(words[1], new NotificationReceiver.Answer(int.Parse(words[2]), words[2] == "429" ? "rate_limited" : "error",
                words.Length > 3 ? int.Parse(words[3]) : null));
            return "";
        case "notify.violations": return new JsonArray(Need(notify).Violations.Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()).ToJsonString();
        default: throw new ArgumentException($"unknown command '{words[0]}'");
    }
}

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
