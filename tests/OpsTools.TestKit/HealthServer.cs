using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OpsTools.TestKit;

/// <summary>
/// A real HTTP (and optionally HTTPS, with a self-signed certificate made here) server on
/// 127.0.0.1 with a free port, whose routes the test defines. Stops when disposed.
/// </summary>
public sealed class HealthServer : IAsyncDisposable, IDisposable
{
    private readonly WebApplication _app;

    /// <summary>http://127.0.0.1:port</summary>
    public Uri HttpBase { get; }
    /// <summary>https://127.0.0.1:port when started with TLS.</summary>
    public Uri? HttpsBase { get; }
    /// <summary>The server's self-signed certificate, when started with TLS.</summary>
    public X509Certificate2? Certificate { get; }
    /// <summary>Requests served, per path.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, int> Hits { get; } = new();
    /// <summary>The headers of the last request, per path.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, IHeaderDictionary> LastHeaders { get; } = new();

    private HealthServer(WebApplication app, Uri http, Uri? https, X509Certificate2? cert)
    {
        _app = app; HttpBase = http; HttpsBase = https; Certificate = cert;
    }

    public Uri Http(string path) => new(HttpBase, path);
    public Uri Https(string path) => new(HttpsBase ?? throw new InvalidOperationException("started without TLS"), path);

    /// <summary>Starts a server; <paramref name="routes"/> maps endpoints on the app.</summary>
    public static HealthServer Start(Action<WebApplication> routes, bool tls = false, int? httpPort = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var port = httpPort ?? FreePort();
        var tlsPort = tls ? FreePort() : 0;
        X509Certificate2? cert = tls ? SelfSigned("localhost") : null;
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxConcurrentConnections = null;
            k.Listen(IPAddress.Loopback, port);
            if (cert is not null) k.Listen(IPAddress.Loopback, tlsPort, l => l.UseHttps(cert));
        });
        var app = builder.Build();
        HealthServer? self = null;
        app.Use(async (ctx, next) =>
        {
            self!.Hits.AddOrUpdate(ctx.Request.Path.Value ?? "/", 1, (_, n) => n + 1);
            self.LastHeaders[ctx.Request.Path.Value ?? "/"] = new HeaderDictionary(ctx.Request.Headers.ToDictionary(h => h.Key, h => h.Value));
            await next();
        });
        routes(app);
        self = new HealthServer(app, new Uri($"http://127.0.0.1:{port}"), tls ? new Uri($"https://127.0.0.1:{tlsPort}") : null, cert);
        app.StartAsync().GetAwaiter().GetResult();
        return self;
    }

    /// <summary>A port nothing listens on (bound, then released).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <summary>A self-signed server certificate for <paramref name="dnsName"/> and 127.0.0.1.</summary>
    public static X509Certificate2 SelfSigned(string dnsName, DateTimeOffset? notAfter = null)
    {
        using var key = RSA.Create(2048);
        var req = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        san.AddIpAddress(IPAddress.Loopback);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new("1.3.6.1.5.5.7.3.1") }, false));
        using var cert = req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), notAfter ?? DateTimeOffset.UtcNow.AddDays(90));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Certificate?.Dispose();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}
