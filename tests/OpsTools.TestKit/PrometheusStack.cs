using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace OpsTools.TestKit;

/// <summary>
/// Debian's prometheus (2.42) and prometheus-alertmanager (0.25), started here on free loopback ports with a
/// configuration and data folders of their own in a temp folder (the packages' services play no part), Prometheus
/// scraping the given targets every second and evaluating the given rules every second, sending to the
/// Alertmanager. Both are stopped by PID and their folder deleted when disposed.
/// </summary>
public sealed class PrometheusStack : IDisposable
{
    private readonly string _dir;
    private Process? _prometheus;
    private Process? _alertmanager;

    public Uri PrometheusUri { get; }
    public Uri AlertmanagerUri { get; }
    public int PrometheusPort { get; }

    /// <summary>One alert rule: ServerErrors (severity critical) fires once the app has answered a 5xx.</summary>
    public const string ServerErrorsRule = """
        groups:
        - name: opstools
          interval: 1s
          rules:
          - alert: ServerErrors
            expr: sum(http_request_duration_seconds_count{code=~"5.."}) > 0
            labels:
              severity: critical
            annotations:
              summary: 5xx answers seen
        """;

    public static string? PrometheusBinary => Which("prometheus");
    public static string? AlertmanagerBinary => Which("prometheus-alertmanager") ?? Which("alertmanager");
    public static string? PromtoolBinary => Which("promtool");

    private static string? Which(string name) =>
        (System.Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin").Split(':')
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private PrometheusStack(string dir, int promPort, int amPort)
    {
        _dir = dir;
        PrometheusPort = promPort;
        PrometheusUri = new Uri($"http://127.0.0.1:{promPort}");
        AlertmanagerUri = new Uri($"http://127.0.0.1:{amPort}");
    }

    /// <summary>Starts both. <paramref name="targets"/> are host:port of /metrics endpoints (job "app").</summary>
    public static PrometheusStack Start(IEnumerable<string> targets, string rules, string scrapeInterval = "1s")
    {
        var prom = PrometheusBinary ?? throw new InvalidOperationException("prometheus is not installed (apt-get install prometheus; .ci/run does it).");
        var am = AlertmanagerBinary ?? throw new InvalidOperationException("prometheus-alertmanager is not installed (apt-get install prometheus-alertmanager).");
        var dir = Directory.CreateTempSubdirectory("opstools-prom-").FullName;
        var stack = new PrometheusStack(dir, HealthServer.FreePort(), HealthServer.FreePort());
        try
        {
            File.WriteAllText(Path.Combine(dir, "am.yml"), "route:\n  receiver: blackhole\n  group_wait: 1s\n  group_interval: 1s\nreceivers:\n- name: blackhole\n");
            File.WriteAllText(Path.Combine(dir, "rules.yml"), rules);
            var targetList = string.Join(", ", targets.Select(t => $"'{t}'"));
            File.WriteAllText(Path.Combine(dir, "prometheus.yml"), $"""
                global:
                  scrape_interval: {scrapeInterval}
                  scrape_timeout: {scrapeInterval}
                  evaluation_interval: 1s
                rule_files: ['{Path.Combine(dir, "rules.yml")}']
                alerting:
                  alertmanagers:
                  - static_configs:
                    - targets: ['127.0.0.1:{stack.AlertmanagerUri.Port}']
                scrape_configs:
                - job_name: app
                  static_configs:
                  - targets: [{targetList}]
                """);
            stack._alertmanager = Launch(am, $"--config.file={dir}/am.yml --storage.path={dir}/am-data --web.listen-address=127.0.0.1:{stack.AlertmanagerUri.Port} --cluster.listen-address= --log.level=warn", dir, "alertmanager.log");
            stack._prometheus = Launch(prom, $"--config.file={dir}/prometheus.yml --storage.tsdb.path={dir}/prom-data --web.listen-address=127.0.0.1:{stack.PrometheusPort} --log.level=warn", dir, "prometheus.log");
            stack.WaitReady(stack.AlertmanagerUri, "alertmanager.log");
            stack.WaitReady(stack.PrometheusUri, "prometheus.log");
            return stack;
        }
        catch
        {
            stack.Dispose();
            throw;
        }
    }

    private static Process Launch(string file, string args, string dir, string log)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = dir };
        var p = Process.Start(psi)!;
        var writer = new StreamWriter(Path.Combine(dir, log)) { AutoFlush = true };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private void WaitReady(Uri baseUri, string log)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var until = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < until)
        {
            try
            {
                using var r = client.GetAsync(new Uri(baseUri, "/-/ready")).GetAwaiter().GetResult();
                if (r.IsSuccessStatusCode) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            Thread.Sleep(200);
        }
        throw new InvalidOperationException($"{baseUri} did not become ready in 60 s: {File.ReadAllText(Path.Combine(_dir, log))}");
    }

    /// <summary>An instant query through Prometheus's API with a plain HttpClient (not OpsTools): the value of each series.</summary>
    public async Task<JsonElement> QueryAsync(string query, double? time = null)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var args = new Dictionary<string, string> { ["query"] = query };
        if (time is double t) args["time"] = t.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        using var r = await client.PostAsync(new Uri(PrometheusUri, "/api/v1/query"), new FormUrlEncodedContent(args));
        var doc = await r.Content.ReadFromJsonAsync<JsonElement>();
        if (doc.GetProperty("status").GetString() != "success") throw new InvalidOperationException(doc.ToString());
        return doc.GetProperty("data").GetProperty("result");
    }

    /// <summary>Waits until <paramref name="query"/> returns at least one series.</summary>
    public async Task<JsonElement> WaitForAsync(string query, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var r = await QueryAsync(query);
            if (r.GetArrayLength() > 0) return r;
            if (DateTime.UtcNow > until) throw new TimeoutException($"'{query}' returned nothing within {timeout.TotalSeconds} s.");
            await Task.Delay(250);
        }
    }

    /// <summary>Sets a silence through Alertmanager's API (with a plain HttpClient); returns its id.</summary>
    public async Task<string> SilenceAsync(string alertname, string comment = "OpsTools test")
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var body = new
        {
            matchers = new[] { new { name = "alertname", value = alertname, isRegex = false, isEqual = true } },
            startsAt = DateTime.UtcNow.AddSeconds(-5).ToString("o"), endsAt = DateTime.UtcNow.AddHours(1).ToString("o"),
            createdBy = "opstools-tests", comment,
        };
        using var r = await client.PostAsJsonAsync(new Uri(AlertmanagerUri, "/api/v2/silences"), body);
        r.EnsureSuccessStatusCode();
        return (await r.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("silenceID").GetString()!;
    }

    /// <summary>Alertmanager's alerts as its API gives them (plain HttpClient).</summary>
    public async Task<JsonElement> AlertmanagerAlertsAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        return await client.GetFromJsonAsync<JsonElement>(new Uri(AlertmanagerUri, "/api/v2/alerts"));
    }

    /// <summary>Stops Prometheus (kill by PID), to test a server that went away.</summary>
    public void StopPrometheus() => Stop(ref _prometheus);

    private static void Stop(ref Process? p)
    {
        if (p is null) return;
        try { if (!p.HasExited) { p.Kill(entireProcessTree: true); p.WaitForExit(10_000); } } catch (InvalidOperationException) { }
        p.Dispose();
        p = null;
    }

    public string Logs => string.Join("\n", new[] { "prometheus.log", "alertmanager.log" }.Select(f => Path.Combine(_dir, f)).Where(File.Exists).Select(f => { try { using var s = new FileStream(f, FileMode.Open, FileAccess.Read, FileShare.ReadWrite); return new StreamReader(s).ReadToEnd(); } catch (IOException) { return ""; } }));

    public void Dispose()
    {
        Stop(ref _prometheus);
        Stop(ref _alertmanager);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
