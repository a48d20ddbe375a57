using System.Security.Cryptography;
using System.Text;
using OpsTools.Configuration;
using OpsTools.Engine.Docker;

namespace OpsTools.Engine.Tests.Docker;

/// <summary>
/// Finding the engine the way the docker CLI does, from settings and files only (no engine is called).
/// These tests set DOCKER_HOST/DOCKER_CONTEXT/DOCKER_CONFIG, so they run one at a time and restore them.
/// </summary>
[CollectionDefinition("DockerEnvironment", DisableParallelization = true)]
public sealed class DockerEnvironmentCollection { }

[Collection("DockerEnvironment")]
public sealed class DockerTargetResolverTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-dcfg-").FullName;
    private readonly Dictionary<string, string?> _saved = new();

    public DockerTargetResolverTests()
    {
        foreach (var v in new[] { "DOCKER_HOST", "DOCKER_CONTEXT", "DOCKER_CONFIG", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH" })
        {
            _saved[v] = Environment.GetEnvironmentVariable(v);
            Environment.SetEnvironmentVariable(v, null);
        }
        Environment.SetEnvironmentVariable("DOCKER_CONFIG", _dir);
    }

    public void Dispose()
    {
        foreach (var (k, v) in _saved) Environment.SetEnvironmentVariable(k, v);
        Directory.Delete(_dir, true);
    }

    private void Context(string name, string host, bool current = false)
    {
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name))).ToLowerInvariant();
        var meta = Directory.CreateDirectory(Path.Combine(_dir, "contexts", "meta", hash)).FullName;
        File.WriteAllText(Path.Combine(meta, "meta.json"), "{\"Name\":\"" + name + "\",\"Metadata\":{},\"Endpoints\":{\"docker\":{\"Host\":\"" + host + "\",\"SkipTLSVerify\":false}}}");
        if (current) File.WriteAllText(Path.Combine(_dir, "config.json"), $$"""{"auths":{},"currentContext":"{{name}}"}""");
    }

    private static DockerTarget Resolve(string? host = null, string? context = null, DockerSettings? settings = null) =>
        DockerTargetResolver.Resolve(new DockerTargetSpec { Host = host, Context = context, Settings = settings });

    [Fact]
    public void The_default_is_the_platform_socket()
    {
        var t = Resolve();
        Assert.Equal("unix:///var/run/docker.sock", t.Endpoint.ToString());
        Assert.Equal("default", t.Source);
    }

    [Fact]
    public void Parameter_then_environment_file_then_DOCKER_HOST_then_context()
    {
        Context("remote", "tcp://10.0.0.9:2375", current: true);
        Assert.Equal("tcp://10.0.0.9:2375/", Resolve().Endpoint.ToString());
        Environment.SetEnvironmentVariable("DOCKER_HOST", "unix:///run/from-env.sock");
        Assert.Equal("unix:///run/from-env.sock", Resolve().Endpoint.ToString());
        Assert.Equal("unix:///run/from-file.sock", Resolve(settings: new DockerSettings { Host = "unix:///run/from-file.sock" }).Endpoint.ToString());
        Assert.Equal("unix:///run/from-param.sock", Resolve(host: "unix:///run/from-param.sock", settings: new DockerSettings { Host = "unix:///run/from-file.sock" }).Endpoint.ToString());
        Assert.Equal("tcp://10.0.0.9:2375/", Resolve(context: "remote").Endpoint.ToString());
    }

    [Fact]
    public void DOCKER_CONTEXT_picks_a_context_and_an_unknown_one_is_a_clear_error()
    {
        Context("staging", "unix:///run/staging.sock");
        Environment.SetEnvironmentVariable("DOCKER_CONTEXT", "staging");
        Assert.Equal("unix:///run/staging.sock", Resolve().Endpoint.ToString());
        var e = Assert.Throws<OpsToolsException>(() => Resolve(context: "nope"));
        Assert.Equal("DockerContextNotFound", e.ErrorId);
        Assert.Contains("'nope'", e.Message);
        Assert.Contains("docker context ls", e.Message);
    }

    [Theory]
    [InlineData("ssh://admin@docker1", "DockerHostNotSupported", "ssh -L")]
    [InlineData("docker1:2375", "DockerHostInvalid", "tcp://host:2376")]
    public void Hosts_that_cannot_be_used_say_what_to_do(string host, string errorId, string advice)
    {
        var e = Assert.Throws<OpsToolsException>(() => Resolve(host: host));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Contains(advice, e.Message);
    }

    [Fact]
    public void TLS_without_the_certificate_files_names_the_folder()
    {
        Environment.SetEnvironmentVariable("DOCKER_TLS_VERIFY", "1");
        Environment.SetEnvironmentVariable("DOCKER_CERT_PATH", Path.Combine(_dir, "certs"));
        var e = Assert.Throws<OpsToolsException>(() => Resolve(host: "tcp://docker1:2376"));
        Assert.Equal("DockerTlsFilesMissing", e.ErrorId);
        Assert.Contains(Path.Combine(_dir, "certs"), e.Message);
    }
}
