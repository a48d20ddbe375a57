using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OpsTools.TestKit;

/// <summary>One TLS site: a certificate (with key) and the extra certificates served with it (intermediates).</summary>
public sealed record TlsSite(string Name, X509Certificate2 Certificate, X509Certificate2[]? Chain = null);

/// <summary>
/// One Kestrel process on 127.0.0.1 that serves many TLS sites, each on its own free port with its own certificate and
/// chain as served (ServerCertificateChain). Stops when disposed.
/// </summary>
public sealed class TlsTestServer : IDisposable
{
    private readonly WebApplication _app;
    /// <summary>Port per site name.</summary>
    public IReadOnlyDictionary<string, int> Ports { get; }

    private TlsTestServer(WebApplication app, Dictionary<string, int> ports) { _app = app; Ports = ports; }

    /// <summary>"127.0.0.1:port" of a site.</summary>
    public string Endpoint(string site) => $"127.0.0.1:{Ports[site]}";

    public static TlsTestServer Start(IEnumerable<TlsSite> sites)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        var ports = new Dictionary<string, int>();
        var list = sites.ToList();
        // Distinct free ports: all held at once, then released (one at a time, a released port could come back twice).
        var held = list.Select(_ => { var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0); l.Start(); return l; }).ToList();
        var free = new Queue<int>(held.Select(l => ((IPEndPoint)l.LocalEndpoint).Port));
        held.ForEach(l => l.Stop());
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxConcurrentConnections = null;
            foreach (var site in list)
            {
                var port = free.Dequeue();
                ports[site.Name] = port;
                k.Listen(IPAddress.Loopback, port, l => l.UseHttps(o =>
                {
                    o.ServerCertificate = site.Certificate;
                    if (site.Chain is { Length: > 0 }) o.ServerCertificateChain = new X509Certificate2Collection(site.Chain);
                    o.HandshakeTimeout = TimeSpan.FromSeconds(30);
                }));
            }
        });
        var app = builder.Build();
        app.MapGet("/", () => Results.Text("ok"));
        app.StartAsync().GetAwaiter().GetResult();
        return new TlsTestServer(app, ports);
    }

    public void Dispose()
    {
        _app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
    }
}
