using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Certificates;

/// <summary>
/// STARTTLS: a real PostgreSQL 15 with ssl = on and a certificate from the test CA (SSLRequest), the shared cluster with
/// ssl off, and an SMTP dialogue (220 / EHLO / STARTTLS) served here; openssl s_client -starttls is the other client.
/// </summary>
[Collection("PostgreSQL")]
public sealed class StartTlsTests : IClassFixture<CertificateTestSites>
{
    private readonly CertificateTestSites _sites;
    private readonly PgCluster _plain;

    public StartTlsTests(CertificateTestSites sites, PgClusterFixture pg) => (_sites, _plain) = (sites, pg.Cluster);

    [Fact]
    public void The_certificate_of_a_PostgreSQL_server_with_ssl_on_is_read_after_the_SSLRequest()
    {
        using var leaf = _sites.Pki.Issue(new[] { "localhost", "127.0.0.1" }, DateTimeOffset.UtcNow.AddDays(20).AddHours(1));
        using var pg = PgCluster.Start(new PgClusterOptions
        {
            SslCertificatePem = TestPki.Pem(leaf) + TestPki.Pem(_sites.Pki.Intermediate),
            SslKeyPem = TestPki.KeyPem(leaf),
        });
        Assert.Equal("on", pg.Scalar<string>("SHOW ssl"));
        using var s = new ModuleSession();
        s.Set("ca", _sites.CaFile);
        var r = s.Run($"Get-TlsCertificate postgres://127.0.0.1:{pg.Port}, 127.0.0.1:{pg.Port} -CaFile $ca");
        Assert.Empty(r.Errors);
        Assert.Equal(2, r.Output.Count);
        var url = r.Output.Single(o => o.S("StartTls") == "Postgres");
        Assert.Equal("Warning", url.S("Status")); // 20 days: under the 30-day warning
        Assert.Equal(20, url.P("DaysLeft"));
        Assert.Equal(true, url.P("Trusted"));
        Assert.Equal(leaf.Thumbprint, url.S("Thumbprint"));
        Assert.Equal(2, ((System.Collections.IEnumerable)url.P("Chain")!).Cast<object>().Count());
        var notAfter = (DateTime)url.P("NotAfter")!;
        Assert.Equal(CertificateTestSites.OpensslNotAfter($"127.0.0.1:{pg.Port}", "postgres"), notAfter.AddTicks(-(notAfter.Ticks % TimeSpan.TicksPerSecond)));
        // Without STARTTLS the same port is no TLS port: the reason says to use it.
        var plain = r.Output.Single(o => o.S("StartTls") == "None");
        Assert.Equal("Unknown", plain.S("Status"));
        Assert.Contains("STARTTLS", plain.S("Reason"));
    }

    [Fact]
    public void A_PostgreSQL_server_with_ssl_off_says_so()
    {
        using var s = new ModuleSession();
        var o = Assert.Single(s.Run($"Get-TlsCertificate {_plain.Host}:{_plain.Port} -StartTls Postgres").Output);
        Assert.Equal("Unknown", o.S("Status"));
        Assert.Contains("does not accept TLS (ssl = off)", o.S("Reason"));
    }

    [Fact]
    public void An_SMTP_server_certificate_is_read_after_EHLO_and_STARTTLS()
    {
        using var leaf = _sites.Pki.Issue(new[] { "mail.example.test" }, DateTimeOffset.UtcNow.AddDays(45).AddHours(1));
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var stop = new CancellationTokenSource();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await listener.AcceptTcpClientAsync(stop.Token); } catch (OperationCanceledException) { return; } catch (SocketException) { return; }
                _ = Task.Run(async () =>
                {
                    using var c = client;
                    var net = c.GetStream();
                    async Task Send(string line) => await net.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
                    async Task<string> Line()
                    {
                        var sb = new StringBuilder(); var b = new byte[1];
                        while (await net.ReadAsync(b) == 1 && b[0] != '\n') sb.Append((char)b[0]);
                        return sb.ToString().TrimEnd('\r');
                    }
                    try
                    {
                        await Send("220 mail.example.test ESMTP test");
                        if (!(await Line()).StartsWith("EHLO", StringComparison.OrdinalIgnoreCase)) return;
                        await Send("250-mail.example.test"); await Send("250-PIPELINING"); await Send("250 STARTTLS");
                        if (!(await Line()).StartsWith("STARTTLS", StringComparison.OrdinalIgnoreCase)) return;
                        await Send("220 2.0.0 Ready to start TLS");
                        using var tls = new SslStream(net);
                        await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                        {
                            ServerCertificateContext = SslStreamCertificateContext.Create(leaf, new System.Security.Cryptography.X509Certificates.X509Certificate2Collection(_sites.Pki.Intermediate), offline: true),
                        });
                        await tls.ReadAsync(new byte[1]);
                    }
                    catch (Exception) { }
                });
            }
        });
        try
        {
            using var s = new ModuleSession();
            s.Set("ca", _sites.CaFile);
            var r = s.Run($"Get-TlsCertificate smtp://127.0.0.1:{port}, 127.0.0.1:{port} -StartTls Smtp -ServerName mail.example.test -CaFile $ca");
            Assert.Empty(r.Errors);
            var o = Assert.Single(r.Output); // the same endpoint twice is read once
            Assert.Equal("Healthy", o.S("Status"));
            Assert.Equal("Smtp", o.S("StartTls"));
            Assert.Equal(45, o.P("DaysLeft"));
            Assert.Equal(leaf.Thumbprint, o.S("Thumbprint"));
            var notAfter = (DateTime)o.P("NotAfter")!;
            Assert.Equal(CertificateTestSites.OpensslNotAfter($"127.0.0.1:{port}", "smtp"), notAfter.AddTicks(-(notAfter.Ticks % TimeSpan.TicksPerSecond)));
        }
        finally
        {
            stop.Cancel();
            listener.Stop();
            await_(server);
        }
        static void await_(Task t) { try { t.Wait(5000); } catch (AggregateException) { } }
    }
}
