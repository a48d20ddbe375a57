using System.Collections.Concurrent;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Docker.DotNet;
using Docker.DotNet.X509;
using OpsTools.Configuration;

namespace OpsTools.Engine.Docker;

/// <summary>What a command was told about the Docker engine to talk to.</summary>
public sealed class DockerTargetSpec
{
    /// <summary>-DockerHost: unix:///var/run/docker.sock, tcp://host:2376, npipe:////./pipe/docker_engine.</summary>
    public string? Host { get; init; }
    /// <summary>-DockerContext: a context from `docker context ls`.</summary>
    public string? Context { get; init; }
    /// <summary>The environment file's Docker section.</summary>
    public DockerSettings? Settings { get; init; }
    /// <summary>Seconds one API request may take (default 30).</summary>
    public double TimeoutSec { get; init; } = 30;
}

/// <summary>One Docker engine with a ready client. Carries no secret (TLS keys stay inside the client).</summary>
public sealed class DockerTarget
{
    internal DockerTarget(DockerClient client, Uri endpoint, string source)
    {
        Client = client; Endpoint = endpoint; Source = source;
    }

    public DockerClient Client { get; }
    /// <summary>The engine address as given (unix:///var/run/docker.sock ...).</summary>
    public Uri Endpoint { get; }
    /// <summary>Where the address came from: -DockerHost, the environment file, DOCKER_HOST, a Docker context, the default.</summary>
    public string Source { get; }
    /// <summary>The id results carry (DockerId) so the next command in a pipeline reuses this engine.</summary>
    public string Id { get; internal set; } = "";
    /// <summary>"engine unix:///var/run/docker.sock": for messages.</summary>
    public string Describe() => $"engine {Endpoint}";
    public override string ToString() => Endpoint.ToString();
}

/// <summary>Engines known to this process, by id, for pipelines; one client per endpoint.</summary>
public static class DockerTargetRegistry
{
    private static readonly ConcurrentDictionary<string, DockerTarget> Targets = new();

    internal static DockerTarget GetOrAdd(string id, Func<DockerTarget> create) =>
        Targets.GetOrAdd(id, _ => { var t = create(); t.Id = id; return t; });

    public static DockerTarget? Find(string? id) => id is not null && Targets.TryGetValue(id, out var t) ? t : null;
}

/// <summary>
/// Finds the engine the way the docker CLI does: -DockerHost, else -DockerContext, else the environment file's
/// Docker.Host / Docker.Context, else DOCKER_HOST, else DOCKER_CONTEXT, else the current context of
/// ~/.docker/config.json (DOCKER_CONFIG), else the platform's socket. tcp:// uses TLS when DOCKER_TLS_VERIFY is set
/// or a certificate folder is given (DOCKER_CERT_PATH, else ~/.docker): cert.pem/key.pem as the client certificate
/// and ca.pem to verify the engine. The API version is pinned to 1.41 at most (Docker 20.10), negotiated down.
/// </summary>
public static class DockerTargetResolver
{
    /// <summary>The highest API version OpsTools asks for (Docker Engine 20.10); older engines are asked for theirs.</summary>
    public static readonly Version MaxApiVersion = new(1, 41);

    public static DockerTarget Resolve(DockerTargetSpec spec)
    {
        var settings = spec.Settings;
        Uri endpoint;
        string source;
        if (spec.Host is { Length: > 0 } host) { endpoint = ParseHost(host, "-DockerHost"); source = "-DockerHost"; }
        else if (spec.Context is { Length: > 0 } ctx) { endpoint = FromContext(ctx, "-DockerContext"); source = $"Docker context '{ctx}'"; }
        else if (settings?.Host is { Length: > 0 } envHost) { endpoint = ParseHost(envHost, "the environment file's Docker.Host"); source = "environment file"; }
        else if (settings?.Context is { Length: > 0 } envCtx) { endpoint = FromContext(envCtx, "the environment file's Docker.Context"); source = $"Docker context '{envCtx}'"; }
        else if (Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 } dh) { endpoint = ParseHost(dh, "DOCKER_HOST"); source = "DOCKER_HOST"; }
        else if (Environment.GetEnvironmentVariable("DOCKER_CONTEXT") is { Length: > 0 } dc && dc != "default") { endpoint = FromContext(dc, "DOCKER_CONTEXT"); source = $"Docker context '{dc}'"; }
        else if (CurrentContext() is { } current && current != "default") { endpoint = FromContext(current, "the current Docker context"); source = $"Docker context '{current}'"; }
        else
        {
            endpoint = OperatingSystem.IsWindows() ? new Uri("npipe://./pipe/docker_engine") : new Uri("unix:///var/run/docker.sock");
            source = "default";
        }

        var tls = TlsSettings(endpoint, settings);
        var timeout = TimeSpan.FromSeconds(spec.TimeoutSec);
        var id = $"docker|{endpoint}|{tls.CertPath}|{timeout.TotalSeconds}";
        return DockerTargetRegistry.GetOrAdd(id, () =>
        {
            var builder = new DockerClientBuilder().WithEndpoint(endpoint).WithApiVersion(MaxApiVersion).WithTimeout(timeout);
            if (tls.CertPath is not null) builder = builder.WithAuthProvider(Credentials(tls.CertPath, tls.Verify, endpoint));
            return new DockerTarget(builder.Build(), endpoint, source);
        });
    }

    private static Uri ParseHost(string host, string where)
    {
        if (Uri.TryCreate(host, UriKind.Absolute, out var uri) && uri.Scheme is "unix" or "tcp" or "npipe" or "http" or "https")
            return uri;
        if (host.StartsWith("ssh://", StringComparison.OrdinalIgnoreCase))
            throw new OpsToolsException("DockerHostNotSupported", OpsErrorKind.NotSupported,
                $"{where} is '{host}': ssh:// engines are not supported. Forward the socket (ssh -L /tmp/docker.sock:/var/run/docker.sock host) and use unix:///tmp/docker.sock, or expose the engine over tcp with TLS.", host);
        throw new OpsToolsException("DockerHostInvalid", OpsErrorKind.InvalidArgument,
            $"{where} is '{host}', which is not an engine address. Use unix:///var/run/docker.sock, tcp://host:2376 or npipe:////./pipe/docker_engine.", host);
    }

    private static string DockerConfigDir() =>
        Environment.GetEnvironmentVariable("DOCKER_CONFIG") is { Length: > 0 } d ? d
        : Path.Combine(Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");

    private static string? CurrentContext()
    {
        try
        {
            var file = Path.Combine(DockerConfigDir(), "config.json");
            if (!File.Exists(file)) return null;
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            return doc.RootElement.TryGetProperty("currentContext", out var c) ? c.GetString() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Text.Json.JsonException) { return null; }
    }

    /// <summary>A context's endpoint from ~/.docker/contexts/meta/&lt;sha256(name)&gt;/meta.json, as the CLI stores it.</summary>
    private static Uri FromContext(string name, string where)
    {
        if (name == "default") return OperatingSystem.IsWindows() ? new Uri("npipe://./pipe/docker_engine") : new Uri("unix:///var/run/docker.sock");
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name))).ToLowerInvariant();
        var meta = Path.Combine(DockerConfigDir(), "contexts", "meta", hash, "meta.json");
        if (!File.Exists(meta))
            throw new OpsToolsException("DockerContextNotFound", OpsErrorKind.NotFound,
                $"Docker context '{name}' ({where}) not found in {Path.Combine(DockerConfigDir(), "contexts")}. List them with 'docker context ls'.", name);
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(meta));
            var host = doc.RootElement.GetProperty("Endpoints").GetProperty("docker").GetProperty("Host").GetString();
            return ParseHost(host ?? "", $"Docker context '{name}'");
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new OpsToolsException("DockerContextInvalid", OpsErrorKind.InvalidData, $"Docker context '{name}' cannot be read ({meta}): {e.Message}", name, e);
        }
    }

    private static (string? CertPath, bool Verify) TlsSettings(Uri endpoint, DockerSettings? settings)
    {
        if (endpoint.Scheme is not ("tcp" or "https")) return (null, false);
        var verifyVar = Environment.GetEnvironmentVariable("DOCKER_TLS_VERIFY");
        var verify = settings?.TlsVerify ?? (!string.IsNullOrEmpty(verifyVar) && verifyVar != "0");
        var path = settings?.CertPath ?? Environment.GetEnvironmentVariable("DOCKER_CERT_PATH");
        if (path is null && !verify && endpoint.Scheme == "tcp") return (null, false);
        path ??= DockerConfigDir();
        return (path, settings?.TlsVerify ?? (verify || settings?.CertPath is not null || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DOCKER_CERT_PATH"))));
    }

    private static CertificateCredentials Credentials(string certPath, bool verify, Uri endpoint)
    {
        string F(string n) => Path.Combine(certPath, n);
        if (!File.Exists(F("cert.pem")) || !File.Exists(F("key.pem")))
            throw new OpsToolsException("DockerTlsFilesMissing", OpsErrorKind.NotFound,
                $"TLS for {endpoint} needs cert.pem and key.pem in {certPath} (DOCKER_CERT_PATH); they are not there.", certPath);
        X509Certificate2 client;
        try { client = X509Certificate2.CreateFromPemFile(F("cert.pem"), F("key.pem")); }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            throw new OpsToolsException("DockerTlsFilesInvalid", OpsErrorKind.InvalidData, $"cert.pem/key.pem in {certPath} cannot be read: {e.Message}", certPath, e);
        }
        var credentials = new CertificateCredentials(client);
        if (!verify)
        {
            credentials.ServerCertificateValidationCallback = (_, _, _, _) => true;
            return credentials;
        }
        if (!File.Exists(F("ca.pem")))
            throw new OpsToolsException("DockerTlsFilesMissing", OpsErrorKind.NotFound, $"DOCKER_TLS_VERIFY is set but {F("ca.pem")} is missing.", certPath);
        var ca = X509Certificate2.CreateFromPemFile(F("ca.pem"));
        credentials.ServerCertificateValidationCallback = (_, cert, _, errors) =>
        {
            if (cert is null) return false;
            if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return chain.Build(new X509Certificate2(cert));
        };
        return credentials;
    }
}
