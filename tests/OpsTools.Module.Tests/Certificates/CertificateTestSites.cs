using System.Diagnostics;
using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Certificates;

/// <summary>
/// The certificates the tests check, made with CertificateRequest under a throwaway CA (root + intermediate), served by
/// one Kestrel on loopback, one port per case: valid (leaf + intermediate), expiring in 5 days, expired, wrong host,
/// self-signed, intermediate missing (leaf only), full chain (leaf + intermediate + root). The root is in CaFile.
/// </summary>
public sealed class CertificateTestSites : IDisposable
{
    public TestPki Pki { get; } = new();
    public TlsTestServer Server { get; }
    public string Folder { get; } = Directory.CreateTempSubdirectory("opstools-certs-").FullName;
    public string CaFile { get; }
    public Dictionary<string, X509Certificate2> Leaves { get; } = new();

    public CertificateTestSites()
    {
        CaFile = Path.Combine(Folder, "ca.pem");
        File.WriteAllText(CaFile, Pki.RootPem);
        var names = new[] { "localhost", "127.0.0.1" };
        var now = DateTimeOffset.UtcNow;
        Leaves["valid"] = Pki.Issue(names, now.AddDays(90).AddHours(1), rsa: true);
        Leaves["expiring"] = Pki.Issue(names, now.AddDays(5).AddHours(1));
        Leaves["expired"] = Pki.Issue(names, now.AddDays(-2).AddHours(-1), now.AddDays(-90));
        Leaves["wronghost"] = Pki.Issue(new[] { "api.example.test" }, now.AddDays(90).AddHours(1));
        Leaves["selfsigned"] = TestPki.SelfSigned(names, now.AddDays(60).AddHours(1));
        Leaves["nointermediate"] = Pki.Issue(names, now.AddDays(80).AddHours(1));
        Leaves["fullchain"] = Pki.Issue(names, now.AddDays(70).AddHours(1));
        var withIntermediate = new[] { Pki.Intermediate };
        Server = TlsTestServer.Start(new[]
        {
            new TlsSite("valid", Leaves["valid"], withIntermediate),
            new TlsSite("expiring", Leaves["expiring"], withIntermediate),
            new TlsSite("expired", Leaves["expired"], withIntermediate),
            new TlsSite("wronghost", Leaves["wronghost"], withIntermediate),
            new TlsSite("selfsigned", Leaves["selfsigned"]),
            new TlsSite("nointermediate", Leaves["nointermediate"]),
            new TlsSite("fullchain", Leaves["fullchain"], new[] { Pki.Intermediate, Pki.Root }),
        });
    }

    public string Endpoint(string site) => Server.Endpoint(site);

    /// <summary>What openssl says the served certificate's notAfter is (the admin's other tool), as UTC.</summary>
    public static DateTime OpensslNotAfter(string endpoint, string? starttls = null, string? serverName = null)
    {
        var args = $"s_client -connect {endpoint}{(starttls is null ? "" : " -starttls " + starttls)}{(serverName is null ? "" : " -servername " + serverName)} </dev/null 2>/dev/null | openssl x509 -noout -enddate";
        var psi = new ProcessStartInfo("bash", new[] { "-c", "openssl " + args }) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit(30_000);
        // notAfter=Dec 11 21:50:25 2026 GMT
        var text = output.Replace("notAfter=", "").Replace(" GMT", "");
        text = System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");
        return DateTime.SpecifyKind(DateTime.ParseExact(text, "MMM d HH:mm:ss yyyy", System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);
    }

    public void Dispose()
    {
        Server.Dispose();
        foreach (var c in Leaves.Values) c.Dispose();
        Pki.Dispose();
        try { Directory.Delete(Folder, true); } catch (IOException) { }
    }
}

internal static class CertResultExtensions
{
    public static object? P(this PSObject o, string name) => RunResult.Prop(o, name);
    public static string S(this PSObject o, string name) => RunResult.Prop(o, name)?.ToString() ?? "";
}
