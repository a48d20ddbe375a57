using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace OpsTools.TestKit;

/// <summary>How to start a throwaway redis-server.</summary>
public sealed class RedisServerOptions
{
    /// <summary>maxmemory in bytes (0: none).</summary>
    public long MaxMemory { get; init; }
    public string MaxMemoryPolicy { get; init; } = "noeviction";
    /// <summary>requirepass: the default user's password (null: none).</summary>
    public string? Password { get; init; }
    /// <summary>ACL lines, e.g. "user ops on &gt;secret ~* &amp;* +@all".</summary>
    public IReadOnlyList<string> AclUsers { get; init; } = Array.Empty<string>();
    /// <summary>Also listen with TLS on a second port, with a certificate signed by a CA made here (CertificateRequest).</summary>
    public bool Tls { get; init; }
    /// <summary>With TLS: tls-auth-clients yes (a client must show a certificate signed by the test CA); <see cref="RedisServer.ClientCertificateFile"/>/<see cref="RedisServer.ClientKeyFile"/> hold one.</summary>
    public bool TlsAuthClients { get; init; }
    /// <summary>save "" (no RDB snapshots) when false.</summary>
    public bool Save { get; init; }
}

/// <summary>
/// A throwaway redis-server (Debian's redis-server) on 127.0.0.1 at a free port, with its own config in a temp folder;
/// stopped by PID when disposed. <see cref="Cli"/> runs redis-cli against it: the tests check state with it, not with the
/// library under test.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private Process? _process;
    private readonly string _conf;

    public string Directory { get; }
    public int Port { get; }
    /// <summary>The TLS port (0 without TLS).</summary>
    public int TlsPort { get; }
    public string? Password { get; }
    /// <summary>PEM file of the CA that signed the server's certificate (TLS only).</summary>
    public string? CaFile { get; }
    /// <summary>PEM file of a client certificate signed by the test CA (TLS only), and its key (separate PEM file).</summary>
    public string? ClientCertificateFile => CaFile is null ? null : Path.Combine(Directory, "client.pem");
    public string? ClientKeyFile => CaFile is null ? null : Path.Combine(Directory, "client.key");
    /// <summary>A client certificate from a CA the server does not trust, and its key.</summary>
    public string? StrangerCertificateFile => CaFile is null ? null : Path.Combine(Directory, "stranger.pem");
    public string? StrangerKeyFile => CaFile is null ? null : Path.Combine(Directory, "stranger.key");
    public bool TlsAuthClients { get; private init; }
    public int Pid => _process?.Id ?? 0;

    private RedisServer(string dir, int port, int tlsPort, string? password, string? caFile, string conf)
    {
        Directory = dir; Port = port; TlsPort = tlsPort; Password = password; CaFile = caFile; _conf = conf;
    }

    public static string Executable => File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : "redis-server";

    public static RedisServer Start(RedisServerOptions? options = null)
    {
        options ??= new RedisServerOptions();
        var dir = System.IO.Directory.CreateTempSubdirectory("opstools-redis-").FullName;
        var port = HealthServer.FreePort();
        var tlsPort = options.Tls ? HealthServer.FreePort() : 0;
        var conf = new StringBuilder()
            .AppendLine("bind 127.0.0.1")
            .AppendLine($"port {port}")
            .AppendLine($"dir {dir}")
            .AppendLine("daemonize no")
            .AppendLine("protected-mode no")
            .AppendLine("loglevel warning")
            .AppendLine($"logfile {Path.Combine(dir, "redis.log")}")
            .AppendLine("appendonly no")
            .AppendLine(options.Save ? "save 3600 1" : "save \"\"");
        if (options.MaxMemory > 0) conf.AppendLine($"maxmemory {options.MaxMemory}").AppendLine($"maxmemory-policy {options.MaxMemoryPolicy}");
        if (options.Password is not null) conf.AppendLine($"requirepass {options.Password}");
        foreach (var acl in options.AclUsers) conf.AppendLine(acl);
        string? ca = null;
        if (options.Tls)
        {
            ca = Path.Combine(dir, "ca.pem");
            WriteCertificates(dir);
            conf.AppendLine($"tls-port {tlsPort}")
                .AppendLine($"tls-cert-file {Path.Combine(dir, "server.pem")}")
                .AppendLine($"tls-key-file {Path.Combine(dir, "server.key")}")
                .AppendLine($"tls-ca-cert-file {ca}")
                .AppendLine(options.TlsAuthClients ? "tls-auth-clients yes" : "tls-auth-clients no");
        }
        var confPath = Path.Combine(dir, "redis.conf");
        File.WriteAllText(confPath, conf.ToString());
        var server = new RedisServer(dir, port, tlsPort, options.Password, ca, confPath) { TlsAuthClients = options.TlsAuthClients };
        server.StartProcess();
        return server;
    }

    private void StartProcess()
    {
        var psi = new ProcessStartInfo(Executable) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(_conf);
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var until = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited) throw new InvalidOperationException($"redis-server exited ({_process.ExitCode}): {Log()}");
            try { if (Cli("PING").Trim() == "PONG") return; } catch (InvalidOperationException) { }
            Thread.Sleep(50);
        }
        throw new InvalidOperationException("redis-server did not answer PING within 20 s: " + Log());
    }

    private string Log() { try { return File.ReadAllText(Path.Combine(Directory, "redis.log")); } catch (IOException) { return ""; } }

    /// <summary>Runs redis-cli against the plain port (with the password when one is set) and returns its output.</summary>
    public string Cli(params string[] args) => CliWithInput(null, args);

    /// <summary>redis-cli reading commands from <paramref name="input"/> (one per line), as a pipelined batch.</summary>
    public string CliWithInput(string? input, params string[] args)
    {
        var psi = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
        foreach (var a in new[] { "-h", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        if (Password is not null) psi.Environment["REDISCLI_AUTH"] = Password;
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        if (input is not null) { p.StandardInput.Write(input); p.StandardInput.Close(); }
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(60))) { p.Kill(true); throw new InvalidOperationException("redis-cli timed out"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"redis-cli {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result}{stdout.Result}");
        return stdout.Result;
    }

    /// <summary>Kills the server at once (a crash: nothing saved).</summary>
    public void Kill()
    {
        if (_process is { HasExited: false }) { _process.Kill(); _process.WaitForExit(10000); }
    }

    /// <summary>Starts the server again on the same port after <see cref="Kill"/>.</summary>
    public void Restart() { Kill(); StartProcess(); }

    /// <summary>PowerShell text that sets $Redis, a splat table of connection parameters (password as a SecureString).</summary>
    public string PowerShellSetup(bool tls = false) =>
        "$Redis = @{ Server = '127.0.0.1'; Port = " + (tls ? TlsPort : Port) +
        (Password is null ? "" : $"; Password = [System.Net.NetworkCredential]::new('', '{Password}').SecurePassword") +
        (tls ? $"; CaCertificate = '{CaFile}'" : "") +
        (tls && TlsAuthClients ? $"; ClientCertificate = '{ClientCertificateFile}'; ClientKey = '{ClientKeyFile}'" : "") + "; TimeoutSec = 5 }";

    /// <summary>redis-cli on the TLS port with the CA and the client certificate (--tls --cacert --cert --key): the independent view through TLS.</summary>
    public string TlsCli(params string[] args) =>
        CliWithInput(null, new[] { "-p", TlsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--tls", "--cacert", CaFile!, "--cert", ClientCertificateFile!, "--key", ClientKeyFile! }.Concat(args).ToArray());

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void WriteCertificates(string dir)
    {
        using var caKey = RSA.Create(2048);
        var caReq = new CertificateRequest("CN=OpsTools Test Redis CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        using var key = RSA.Create(2048);
        var req = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        san.AddDnsName("localhost");
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.1") }, false));
        using var cert = req.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(Path.Combine(dir, "ca.pem"), ca.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "server.pem"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, "server.key"), key.ExportPkcs8PrivateKeyPem());
        // A client certificate (clientAuth) from the same CA, and one from a CA the server does not know.
        WriteClient(dir, "client", ca, "CN=ops");
        using var strangerKey = RSA.Create(2048);
        var strangerReq = new CertificateRequest("CN=Stranger CA", strangerKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        strangerReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var stranger = strangerReq.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        WriteClient(dir, "stranger", stranger, "CN=ops");
    }

    private static void WriteClient(string dir, string name, X509Certificate2 issuer, string subject)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new Oid("1.3.6.1.5.5.7.3.2") }, false));
        using var cert = req.Create(issuer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(29), RandomNumberGenerator.GetBytes(8));
        File.WriteAllText(Path.Combine(dir, name + ".pem"), cert.ExportCertificatePem());
        File.WriteAllText(Path.Combine(dir, name + ".key"), key.ExportPkcs8PrivateKeyPem());
    }
}

/// <summary>One redis-server for every test in the "Redis" collection.</summary>
public sealed class RedisServerFixture : IDisposable
{
    public RedisServer Server { get; } = RedisServer.Start();
    public void Dispose() => Server.Dispose();
}
