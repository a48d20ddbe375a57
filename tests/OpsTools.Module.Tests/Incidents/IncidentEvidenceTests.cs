using System.Diagnostics;
using System.Text.Json;
using OpsTools.TestKit;
using static OpsTools.Module.Tests.Incidents.IncidentTestSupport;

namespace OpsTools.Module.Tests.Incidents;

/// <summary>The real parts evidence is collected from: PostgreSQL, the Docker engine and the Kubernetes API server, together.</summary>
public sealed class IncidentPartsFixture : IDisposable
{
    public PgCluster Pg { get; } = PgCluster.Start();
    public DockerEngine Docker { get; } = DockerEngine.Start();
    public KubeCluster Kube { get; } = KubeCluster.Start();

    public void Dispose()
    {
        Kube.Dispose();
        Docker.Dispose();
        Pg.Dispose();
    }
}

[CollectionDefinition("Incidents")]
public sealed class IncidentsCollection : ICollectionFixture<IncidentPartsFixture> { }

/// <summary>
/// Save-IncidentEvidence and Export-IncidentReport against the real PostgreSQL, Docker engine and kube-apiserver of the
/// TestKit, with a dead target among them; the files are checked with sha256sum and stat, the report by its text.
/// </summary>
[Collection("Incidents")]
public sealed class IncidentEvidenceTests(IncidentPartsFixture parts) : IDisposable
{
    private const string LoggedSecret = "hunter2-in-the-log";
    private readonly string _root = Directory.CreateTempSubdirectory("opstools-evidence-").FullName;
    private readonly string _project = parts.Docker.NewProject("inc");
    private readonly string _passwordVariable = "OPSTOOLS_TEST_INC_PW_" + Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private string? _ns;
    private string? _db;

    public void Dispose()
    {
        parts.Docker.RemoveTestContainers(_project);
        if (_ns is not null) parts.Kube.DeleteNamespace(_ns);
        if (_db is not null) parts.Pg.DropDatabase(_db);
        Environment.SetEnvironmentVariable(_passwordVariable, null);
        try { Directory.Delete(_root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static object? P(System.Management.Automation.PSObject o, string name) => RunResult.Prop(o, name);

    private string EnvironmentFile(string dockerHost, string? metricsUrl, string? healthUrl)
    {
        var k = parts.Kube;
        var file = Path.Combine(_root, "prod.ops.psd1");
        File.WriteAllText(file, $$"""
            @{
                Name = 'prod'
                {{(healthUrl is null ? "" : $"AppHealth = @(@{{ Name = 'api'; Uri = '{healthUrl}'; TimeoutSec = 2 }})")}}
                {{(metricsUrl is null ? "" : $"Metrics = @(@{{ Name = 'api'; Uri = '{metricsUrl}'; TimeoutSec = 600 }})")}}
                Databases = @(@{ Name = 'main'; Server = '{{parts.Pg.Host}}'; Port = {{parts.Pg.Port}}; Database = '{{_db}}'; User = '{{parts.Pg.User}}'; PasswordVariable = '{{_passwordVariable}}' })
                Kubernetes = @{ Kubeconfig = '{{k.KubeconfigPath}}'; Context = '{{k.Context}}'; Namespace = '{{_ns}}'; Deployments = @('api') }
                Docker = @{ Host = '{{dockerHost}}'; ComposeProject = '{{_project}}' }
                Incidents = @{ Path = './incidents'; Commander = 'alice' }
            }
            """);
        return file;
    }

    private void StartParts()
    {
        _db = parts.Pg.CreateDatabase("inc");
        Environment.SetEnvironmentVariable(_passwordVariable, parts.Pg.Password);
        _ns = parts.Kube.CreateNamespace("inc");
        parts.Kube.CreateDeployment(_ns, KubeCluster.NewDeployment("api", 1));
        parts.Kube.WaitForDeployment(_ns, "api");
        parts.Docker.RunComposeContainer(_project, "api", 1, DockerEngine.BaseImage,
            command: new[] { "sh", "-c", $"echo 'connecting with password={LoggedSecret}'; echo 'ERROR upstream timed out'; sleep 3600" });
    }

    [Fact]
    public void Evidence_is_collected_from_every_live_target_while_a_target_that_never_answers_is_recorded_as_timed_out()
    {
        StartParts();
        using var silent = new SilentEndpoint();
        var env = EnvironmentFile(parts.Docker.Host, silent.Url("/metrics"), silent.Url("/health"));
        using var s = new ModuleSession();
        s.Invoke($"Set-Location {Q(_root)}");
        var sw = Stopwatch.StartNew();
        var r = s.Run($"$i = New-Incident 'API errors' P1 -Environment {Q(env)}; $i | Save-IncidentEvidence -TimeoutSec 8 -Bundle");
        sw.Stop();
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors.Select(e => e.ToString()));
        var evidence = Assert.Single(r.Output);
        // Bounded: the dead metrics endpoint (timeout 600 s in the file) held its collector only for -TimeoutSec.
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"took {sw.Elapsed}");
        var collectors = ((System.Collections.IEnumerable)P(evidence, "Collectors")!).Cast<object>()
            .Select(o => System.Management.Automation.PSObject.AsPSObject(o))
            .ToDictionary(c => (string)P(c, "Collector")!, c => c);
        string Outcome(string name) => P(collectors[name], "Outcome")!.ToString()!;
        Assert.Equal("TimedOut", Outcome("Metrics"));
        Assert.Contains(r.Warnings, w => w.Contains("Metrics") && w.Contains("timed out"));
        Assert.Equal("Collected", Outcome("AppHealth"));  // the probe's own timeout: a Critical result, collected
        Assert.Equal("Collected", Outcome("Containers"));
        Assert.Equal("Collected", Outcome("Rollouts"));
        Assert.Contains(Outcome("Pods"), new[] { "Collected", "Partial" });     // the fake kubelet serves no logs
        Assert.Contains(Outcome("Database"), new[] { "Collected", "Partial" }); // pg_stat_statements may not be loaded
        Assert.Equal("Skipped", Outcome("Alerts"));

        var folder = (string)P(evidence, "Path")!;
        // sha256sum agrees with SHA256SUMS and with the manifest, file by file.
        var check = Tool("sha256sum", folder, "-c", "SHA256SUMS");
        Assert.True(check.Code == 0, check.Output);
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "manifest.json")));
        var files = manifest.RootElement.GetProperty("files").EnumerateArray().ToList();
        Assert.Contains(files, f => f.GetProperty("path").GetString() == "containers.json");
        foreach (var f in files)
        {
            var path = f.GetProperty("path").GetString()!;
            var sum = Tool("sha256sum", folder, path).Output.Split(' ')[0];
            Assert.Equal(sum, f.GetProperty("sha256").GetString());
        }
        // Owner-only: every folder 0700, every file 0600, the bundle too.
        var incidentFolder = Path.GetDirectoryName(Path.GetDirectoryName(folder))!;
        foreach (var d in Directory.GetDirectories(incidentFolder, "*", SearchOption.AllDirectories).Append(incidentFolder))
            Assert.Equal("700", Mode(d));
        foreach (var f in Directory.GetFiles(incidentFolder, "*", SearchOption.AllDirectories))
            Assert.True(Mode(f) == "600", $"{f}: {Mode(f)}");
        var bundle = (string)P(evidence, "BundlePath")!;
        Assert.EndsWith(".tar.gz", bundle);
        Assert.Equal(P(evidence, "BundleSha256"), Tool("sha256sum", "/", bundle).Output.Split(' ')[0]);
        Assert.Contains("containers.txt", Tool("tar", "/", "-tzf", bundle).Output);

        // What was read, and nothing secret.
        var containersText = File.ReadAllText(Path.Combine(folder, "containers.txt"));
        Assert.Contains($"{_project}_api_1", containersText);
        Assert.Contains("ERROR upstream timed out", containersText);
        Assert.Contains("password=***", containersText);
        foreach (var f in Directory.GetFiles(incidentFolder, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".tar.gz")))
        {
            var text = File.ReadAllText(f);
            Assert.DoesNotContain(LoggedSecret, text);
            Assert.DoesNotContain(parts.Pg.Password, text);
        }
        Assert.Contains("revision 1", File.ReadAllText(Path.Combine(folder, "rollouts.txt")));
        Assert.Contains("api-", File.ReadAllText(Path.Combine(folder, "pods.txt")));

        // The report's timeline carries the deployment history and the timed-out collector.
        var id = (string)P(evidence, "IncidentId")!;
        var report = (string)s.Invoke($"Set-IncidentStatus {id} Resolved 'Restarted api' -Environment {Q(env)} | Out-Null; Export-IncidentReport {id} -Environment {Q(env)}")[0].BaseObject;
        Assert.Contains("deployment/api revision 1 rolled out", report);
        Assert.Contains("Metrics evidence TimedOut", report);
        Assert.Contains("## Action Items", report);
    }

    [Fact]
    public void A_stopped_container_host_is_a_failed_collector_and_the_other_evidence_is_kept()
    {
        StartParts();
        var env = EnvironmentFile($"unix:///tmp/opstools-no-engine-{Guid.NewGuid():N}.sock", null, null);
        using var s = new ModuleSession();
        s.Invoke($"Set-Location {Q(_root)}");
        var r = s.Run($"New-Incident 'Containers gone' P0 -Environment {Q(env)} | Save-IncidentEvidence -Collector Containers, Database, Rollouts -TimeoutSec 20");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var evidence = Assert.Single(r.Output);
        Assert.Equal(1, P(evidence, "Failed"));
        Assert.Equal(2, P(evidence, "Collected"));
        Assert.Contains("Containers:", (string)P(evidence, "Failures")!);
        Assert.Contains("not answering", (string)P(evidence, "Failures")!);
        var folder = (string)P(evidence, "Path")!;
        Assert.False(File.Exists(Path.Combine(folder, "containers.json")));
        Assert.True(File.Exists(Path.Combine(folder, "database.json")));
        Assert.Contains("Failed", File.ReadAllText(Path.Combine(folder, "summary.txt")));
        var check = Tool("sha256sum", folder, "-c", "SHA256SUMS");
        Assert.True(check.Code == 0, check.Output);
    }
}
