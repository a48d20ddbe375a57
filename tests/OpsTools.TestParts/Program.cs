// Usage: OpsTools.TestParts <part>...     parts: http, postgres, docker, kube
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
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpsTools.TestKit;

var wanted = args.Select(a => a.ToLowerInvariant()).ToHashSet();
if (wanted.Count == 0 || wanted.Except(["http", "postgres", "docker", "kube"]).Any())
{
    Console.Error.WriteLine("usage: OpsTools.TestParts <http|postgres|docker|kube>...");
    return 2;
}

var disposables = new Stack<IDisposable>();
var info = new JsonObject();
PgCluster? pg = null;
KubeCluster? kube = null;
DockerEngine? docker = null;
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
