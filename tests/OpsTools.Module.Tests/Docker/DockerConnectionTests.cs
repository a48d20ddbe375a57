using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Docker;

/// <summary>
/// How the engine is found and what a bad connection looks like: DOCKER_HOST, a Docker context (DOCKER_CONFIG), an engine
/// that does not support the API version. These set process-wide environment variables, so they run alone
/// (ProcessEnvironment collection) with their own handle on the shared engine (DockerEngine.Start finds the running one).
/// A socket without permission cannot be produced as root (root ignores the socket's mode): that translation is unit-tested
/// in OpsTools.Engine.Tests (ContainerDiagnosisTests.A_socket_without_permission_is_DockerPermissionDenied). The engine going
/// away mid-command is in ContainerLifecycleTests (Restart-Container -Wait through a DockerSocketProxy that is cut).
/// </summary>
[Collection("ProcessEnvironment")]
public sealed class DockerConnectionTests : IDisposable
{
    private static readonly string[] Vars = { "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH" };
    private readonly Dictionary<string, string?> _saved = Vars.ToDictionary(v => v, System.Environment.GetEnvironmentVariable);
    private readonly DockerEngine _d = DockerEngine.Start();
    private readonly string _project;
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-dconn-").FullName;

    public DockerConnectionTests()
    {
        foreach (var v in Vars) System.Environment.SetEnvironmentVariable(v, null);
        _project = _d.NewProject("conn");
        _d.RunComposeContainer(_project, "api", 1, DockerEngine.BaseImage, command: new[] { "sleep", "3600" });
    }

    public void Dispose()
    {
        foreach (var (v, value) in _saved) System.Environment.SetEnvironmentVariable(v, value);
        _d.RemoveTestContainers(_project);
        _d.Dispose();
        Directory.Delete(_dir, true);
    }

    [Fact]
    public void DOCKER_HOST_names_the_engine()
    {
        using var proxy = new DockerSocketProxy();
        System.Environment.SetEnvironmentVariable("DOCKER_HOST", proxy.Host);
        using var s = new ModuleSession();
        var r = s.Run($"Get-Container -ComposeProject {_project} -Verbose");
        Assert.Empty(r.Errors);
        Assert.Equal($"{_project}_api_1", (string)RunResult.Prop(Assert.Single(r.Output), "Name")!);
        Assert.Equal(proxy.Host, RunResult.Prop(r.Output[0], "DockerHost")?.ToString()?.TrimEnd('/'));
        Assert.True(proxy.Connections > 0);
        Assert.Contains(r.Verbose, v => v.Contains("DOCKER_HOST") && v.Contains(proxy.Host));
    }

    [Fact]
    public void The_current_Docker_context_and_DockerContext_name_the_engine()
    {
        using var proxy = new DockerSocketProxy();
        var config = Path.Combine(_dir, "dockercfg");
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("opsctx"))).ToLowerInvariant();
        var meta = Path.Combine(config, "contexts", "meta", hash);
        Directory.CreateDirectory(meta);
        File.WriteAllText(Path.Combine(meta, "meta.json"),
            """{"Name":"opsctx","Metadata":{"Description":"test"},"Endpoints":{"docker":{"Host":"HOST","SkipTLSVerify":false}}}""".Replace("HOST", proxy.Host));
        File.WriteAllText(Path.Combine(config, "config.json"), """{"auths":{},"currentContext":"opsctx"}""");
        System.Environment.SetEnvironmentVariable("DOCKER_CONFIG", config);
        using var s = new ModuleSession();

        var current = s.Run($"Get-Container -ComposeProject {_project} -Verbose");
        Assert.Empty(current.Errors);
        Assert.Single(current.Output);
        Assert.True(proxy.Connections > 0);
        Assert.Contains(current.Verbose, v => v.Contains("Docker context 'opsctx'"));

        File.WriteAllText(Path.Combine(config, "config.json"), """{"auths":{}}""");
        var before = proxy.Connections;
        var named = s.Run($"Get-Container -DockerContext opsctx -ComposeProject {_project} -RequestTimeoutSec 29");
        Assert.Empty(named.Errors);
        Assert.Single(named.Output);
        Assert.True(proxy.Connections > before);

        var missing = s.Run("Get-Container -DockerContext no-such-ctx");
        var e = missing.Terminating is System.Management.Automation.IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(missing.Errors);
        Assert.StartsWith("DockerContextNotFound,", e.FullyQualifiedErrorId);
        Assert.Contains("no-such-ctx", e.Exception.Message);
    }

    [Fact]
    public void An_engine_that_does_not_support_the_API_version_is_one_clear_error()
    {
        using var fake = new TooOldEngine(Path.Combine(_dir, "old.sock"));
        using var s = new ModuleSession();
        var r = s.Run($"Get-Container -DockerHost unix://{fake.Path}");
        var e = r.Terminating is System.Management.Automation.IContainsErrorRecord t ? t.ErrorRecord : Assert.Single(r.Errors);
        Assert.StartsWith("DockerApiVersion,", e.FullyQualifiedErrorId);
        Assert.Contains("client version 1.41 is too new", e.Exception.Message);
        Assert.Contains(fake.Path, e.Exception.Message);

        var restart = s.Run($"Restart-Container -DockerHost unix://{fake.Path} some-container");
        Assert.StartsWith("DockerApiVersion,", Assert.Single(restart.Errors).FullyQualifiedErrorId);
    }

    /// <summary>An engine older than API 1.41 on a unix socket: answers every request as Docker 19.03 does.</summary>
    private sealed class TooOldEngine : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        private readonly CancellationTokenSource _stop = new();
        public string Path { get; }

        public TooOldEngine(string path)
        {
            Path = path;
            _listener.Bind(new UnixDomainSocketEndPoint(path));
            _listener.Listen(16);
            _ = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    Socket c;
                    try { c = await _listener.AcceptAsync(_stop.Token); }
                    catch (Exception) { return; }
                    _ = Task.Run(() => Answer(c));
                }
            });
        }

        private static async Task Answer(Socket c)
        {
            using (c)
            {
                var buffer = new byte[8192];
                var request = new StringBuilder();
                try
                {
                    while (!request.ToString().Contains("\r\n\r\n"))
                    {
                        var n = await c.ReceiveAsync(buffer, SocketFlags.None);
                        if (n == 0) return;
                        request.Append(Encoding.ASCII.GetString(buffer, 0, n));
                    }
                    var body = """{"message":"client version 1.41 is too new. Maximum supported API version is 1.40"}""" + "\n";
                    var response = $"HTTP/1.1 400 Bad Request\r\nApi-Version: 1.40\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\nConnection: close\r\n\r\n{body}";
                    await c.SendAsync(Encoding.UTF8.GetBytes(response), SocketFlags.None);
                    c.Shutdown(SocketShutdown.Both);
                }
                catch (SocketException) { }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
            try { File.Delete(Path); } catch (IOException) { }
        }
    }
}
