using System.Diagnostics;

namespace OpsTools.TestKit;

/// <summary>
/// A real Docker engine for the tests: Debian's docker.io (Engine 20.10, API 1.41). Uses, in this order, the engine
/// OPSTOOLS_TEST_DOCKER_HOST names; an engine already answering on /var/run/docker.sock (left running); else starts
/// dockerd itself on that socket with its data in a temp folder, and stops it (by PID) when the last user disposes it.
/// Only one dockerd may run per machine, so one engine serves every test of the process. Test images are made locally,
/// no registry needed: a busybox-static root file system with tini-static as PID 1 (docker import), and a web image
/// with a HEALTHCHECK on top (docker build, legacy builder): `docker exec c touch /tmp/unhealthy` turns it unhealthy.
/// Setup and checks go through the docker CLI, not the library under test. Every container a test creates carries
/// the label opstools.test=&lt;run&gt; and is removed by <see cref="RemoveTestContainers"/>.
/// </summary>
public sealed class DockerEngine : IDisposable
{
    public const string BaseImage = "opstools-test/base:1";
    public const string WebImage = "opstools-test/web:1";
    public const string TestLabel = "opstools.test";
    private Process? _dockerd;
    private readonly string? _dir;

    /// <summary>The engine address for -DockerHost (unix:///var/run/docker.sock ...).</summary>
    public string Host { get; }
    /// <summary>True when the engine was not started by the tests (OPSTOOLS_TEST_DOCKER_HOST or an engine already running).</summary>
    public bool External { get; }
    /// <summary>A label value unique to this test run.</summary>
    public string RunId { get; } = Guid.NewGuid().ToString("N")[..8];
    /// <summary>The docker CLI used for setup (Debian's /usr/bin/docker when present).</summary>
    public static string Cli => File.Exists("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

    private DockerEngine(string host, bool external, string? dir, Process? dockerd)
    {
        Host = host; External = external; _dir = dir; _dockerd = dockerd;
    }

    private static readonly object SharedGate = new();
    private static DockerEngine? _shared;
    private static int _leases;

    /// <summary>
    /// The engine of this test process: the first call finds or starts it, later calls share it, and only the last
    /// <see cref="Dispose"/> stops a dockerd the tests started. (Collections run in parallel: an engine owned by whichever
    /// fixture came first was stopped under the others when that fixture's collection ended.)
    /// </summary>
    public static DockerEngine Start()
    {
        lock (SharedGate)
        {
            _shared ??= StartNew();
            _leases++;
            return _shared;
        }
    }

    private static DockerEngine StartNew()
    {
        var given = Environment.GetEnvironmentVariable("OPSTOOLS_TEST_DOCKER_HOST");
        DockerEngine engine;
        if (!string.IsNullOrEmpty(given)) engine = new DockerEngine(given, true, null, null);
        else if (Answers("unix:///var/run/docker.sock")) engine = new DockerEngine("unix:///var/run/docker.sock", true, null, null);
        else
        {
            if (!File.Exists("/usr/sbin/dockerd"))
                throw new InvalidOperationException("dockerd not found: install Debian's docker.io package (.ci/run does), or set OPSTOOLS_TEST_DOCKER_HOST.");
            var dir = Directory.CreateTempSubdirectory("opstools-docker-").FullName;
            engine = new DockerEngine("unix:///var/run/docker.sock", false, dir, null);
            engine.StartEngine();
        }
        engine.EnsureImages();
        return engine;
    }

    private static bool Answers(string host)
    {
        try { Run(host, TimeSpan.FromSeconds(10), "version", "--format", "{{.Server.APIVersion}}"); return true; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Builds the test images when the engine does not have them yet.</summary>
    private void EnsureImages()
    {
        if (!HasImage(BaseImage))
        {
            var rootfs = Directory.CreateTempSubdirectory("opstools-rootfs-").FullName;
            try
            {
                foreach (var d in new[] { "bin", "tmp", "www", "etc" }) Directory.CreateDirectory(Path.Combine(rootfs, d));
                var busybox = File.Exists("/bin/busybox") ? "/bin/busybox" : "/usr/bin/busybox";
                File.Copy(busybox, Path.Combine(rootfs, "bin/busybox"));
                File.Copy("/usr/bin/tini-static", Path.Combine(rootfs, "bin/tini"));
                var applets = RunProcess(busybox, TimeSpan.FromSeconds(10), "--list").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                foreach (var applet in applets.Where(a => a != "busybox"))
                    File.CreateSymbolicLink(Path.Combine(rootfs, "bin", applet), "busybox");
                File.WriteAllText(Path.Combine(rootfs, "www/health"), "ok\n");
                File.WriteAllText(Path.Combine(rootfs, "etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
                RunShell($"tar -C '{rootfs}' -c . | {Cli} -H '{Host}' import - {BaseImage}");
            }
            finally { Directory.Delete(rootfs, true); }
        }
        if (!HasImage(WebImage))
        {
            var context = Directory.CreateTempSubdirectory("opstools-build-").FullName;
            try
            {
                File.WriteAllText(Path.Combine(context, "Dockerfile"), $"""
                    FROM {BaseImage}
                    ENTRYPOINT ["/bin/tini", "--"]
                    CMD ["/bin/httpd", "-f", "-p", "8080", "-h", "/www"]
                    EXPOSE 8080
                    HEALTHCHECK --interval=1s --timeout=1s --retries=1 CMD test ! -f /tmp/unhealthy && wget -q -O- http://127.0.0.1:8080/health || exit 1
                    """);
                RunShell($"DOCKER_BUILDKIT=0 {Cli} -H '{Host}' build -q -t {WebImage} '{context}'");
            }
            finally { Directory.Delete(context, true); }
        }
    }

    private bool HasImage(string image)
    {
        try { Docker("image", "inspect", image); return true; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>Runs the docker CLI against this engine; returns stdout (trimmed); throws with stderr on failure.</summary>
    public string Docker(params string[] args) => Run(Host, TimeSpan.FromSeconds(120), args);

    /// <summary>
    /// Starts a container like Compose would: name &lt;project&gt;_&lt;service&gt;_&lt;n&gt;, the com.docker.compose.* labels, the test label.
    /// <paramref name="extra"/> goes before the image (e.g. "--restart", "always", "-p", "127.0.0.1::8080").
    /// Returns the container id.
    /// </summary>
    public string RunComposeContainer(string project, string service, int number, string image = WebImage, IEnumerable<string>? extra = null, IEnumerable<string>? command = null)
    {
        var args = new List<string>
        {
            "run", "-d", "--name", $"{project}_{service}_{number}",
            "--label", $"{TestLabel}={RunId}",
            "--label", $"com.docker.compose.project={project}",
            "--label", $"com.docker.compose.service={service}",
            "--label", $"com.docker.compose.container-number={number}",
            "--label", "com.docker.compose.oneoff=False",
        };
        if (extra is not null) args.AddRange(extra);
        args.Add(image);
        if (command is not null) args.AddRange(command);
        return Docker(args.ToArray());
    }

    /// <summary>docker inspect -f FORMAT NAME.</summary>
    public string Inspect(string container, string format) => Docker("inspect", "-f", format, container);

    /// <summary>Waits until the container's health is <paramref name="status"/> (healthy, unhealthy).</summary>
    public void WaitForHealth(string container, string status, TimeSpan? timeout = null) =>
        KubeCluster.WaitFor(() => Inspect(container, "{{if .State.Health}}{{.State.Health.Status}}{{end}}") == status, timeout ?? TimeSpan.FromSeconds(30), $"{container} to be {status}");

    /// <summary>A Compose project name unique to one test.</summary>
    public string NewProject(string prefix = "t") => $"ops{prefix}{Guid.NewGuid().ToString("N")[..6]}".ToLowerInvariant();

    /// <summary>Removes every container (and network) this run created, or those of one project.</summary>
    public void RemoveTestContainers(string? project = null)
    {
        var filter = project is null ? $"label={TestLabel}={RunId}" : $"label=com.docker.compose.project={project}";
        var ids = Docker("ps", "-aq", "--filter", filter).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (ids.Length > 0) try { Docker(new[] { "rm", "-f" }.Concat(ids).ToArray()); } catch (InvalidOperationException) { }
        var nets = Docker("network", "ls", "-q", "--filter", $"label={TestLabel}={RunId}").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        foreach (var n in nets) try { Docker("network", "rm", n); } catch (InvalidOperationException) { }
    }

    /// <summary>PowerShell text that sets $Docker (a splat table: -DockerHost) for this engine.</summary>
    public string PowerShellSetup() => $"$Docker = @{{ DockerHost = '{Host}' }}";

    /// <summary>Starts (or, after <see cref="StopEngine"/>, restarts) the dockerd the tests own; returns when it answers.</summary>
    public void StartEngine()
    {
        if (External || _dir is null) throw new InvalidOperationException("cannot start an engine the tests do not own");
        var psi = new ProcessStartInfo("/usr/sbin/dockerd") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--host", Host, "--data-root", Path.Combine(_dir, "data"), "--exec-root", Path.Combine(_dir, "exec"),
                     "--pidfile", Path.Combine(_dir, "docker.pid"), "--storage-driver", "overlay2" })
            psi.ArgumentList.Add(a);
        var log = new StreamWriter(Path.Combine(_dir, "dockerd.log"), append: true) { AutoFlush = true };
        var p = new Process { StartInfo = psi };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        p.Start();
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _dockerd = p;
        var sw = Stopwatch.StartNew();
        while (!Answers(Host))
        {
            if (p.HasExited || sw.Elapsed > TimeSpan.FromSeconds(60))
            {
                var tail = string.Join('\n', File.ReadLines(Path.Combine(_dir, "dockerd.log")).TakeLast(20));
                Stop();
                throw new InvalidOperationException($"dockerd did not start:\n{tail}");
            }
            Thread.Sleep(200);
        }
    }

    /// <summary>Stops the engine the tests started (SIGTERM, then kill) — for fault tests; <see cref="StartEngine"/> brings it back.</summary>
    public void StopEngine()
    {
        if (External || _dockerd is null) throw new InvalidOperationException("cannot stop an engine the tests did not start");
        Stop();
    }

    private void Stop()
    {
        var p = _dockerd;
        _dockerd = null;
        if (p is null) return;
        try
        {
            if (!p.HasExited)
            {
                RunProcess("kill", TimeSpan.FromSeconds(5), "-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                if (!p.WaitForExit(20_000)) p.Kill(entireProcessTree: true);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception) { }
        p.Dispose();
    }

    private static string Run(string host, TimeSpan timeout, params string[] args) =>
        RunProcess(Cli, timeout, new[] { "-H", host }.Concat(args).ToArray());

    private static string RunShell(string script) => RunProcess("/bin/sh", TimeSpan.FromSeconds(120), "-c", script);

    private static string RunProcess(string exe, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout)) { try { p.Kill(true); } catch (InvalidOperationException) { } throw new InvalidOperationException($"{exe} {string.Join(' ', args)} timed out"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{exe} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result.Trim();
    }

    public void Dispose()
    {
        lock (SharedGate)
        {
            if (ReferenceEquals(this, _shared))
            {
                if (--_leases > 0) return;
                _shared = null;
            }
        }
        try { RemoveTestContainers(); } catch (InvalidOperationException) { }
        if (!External) Stop();
        if (_dir is not null)
        {
            // dockerd leaves overlay mounts under its data root until it exits; by now it has.
            try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}

/// <summary>One engine shared by the tests of the "Docker" collection (each test uses its own Compose project).</summary>
public sealed class DockerEngineFixture : IDisposable
{
    public DockerEngine Engine { get; } = DockerEngine.Start();
    public void Dispose() => Engine.Dispose();
}
