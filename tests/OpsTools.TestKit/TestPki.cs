using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace OpsTools.TestKit;

/// <summary>
/// A throwaway PKI made with CertificateRequest: a root CA, an intermediate CA under it, and server certificates
/// issued by the intermediate (or self-signed) with any names and validity, for TLS servers and certificate files.
/// </summary>
public sealed class TestPki : IDisposable
{
    public X509Certificate2 Root { get; }
    public X509Certificate2 Intermediate { get; }

    public TestPki(string name = "OpsTools Test")
    {
        Root = NewCa($"CN={name} Root CA, O=OpsTools Tests", null, DateTimeOffset.UtcNow.AddYears(10));
        Intermediate = NewCa($"CN={name} Intermediate CA, O=OpsTools Tests", Root, DateTimeOffset.UtcNow.AddYears(5));
    }

    /// <summary>The root CA as PEM (what -CaFile takes).</summary>
    public string RootPem => Pem(Root);

    public static string Pem(X509Certificate2 cert) => cert.ExportCertificatePem() + "\n";

    private static X509Certificate2 NewCa(string subject, X509Certificate2? issuer, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        req.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(req.PublicKey, false));
        var notBefore = DateTimeOffset.UtcNow.AddDays(-30);
        if (issuer is null)
        {
            using var self = req.CreateSelfSigned(notBefore, notAfter);
            return X509CertificateLoader.LoadPkcs12(self.Export(X509ContentType.Pkcs12), null);
        }
        using var signed = req.Create(issuer, notBefore, notAfter, RandomNumberGenerator.GetBytes(12));
        using var withKey = signed.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>A server certificate (with its private key) for <paramref name="names"/> (DNS names or IP addresses), issued by the intermediate.</summary>
    public X509Certificate2 Issue(string[] names, DateTimeOffset notAfter, DateTimeOffset? notBefore = null, bool rsa = false) =>
        Make(names, notAfter, notBefore, Intermediate, rsa);

    /// <summary>A self-signed server certificate (with its private key).</summary>
    public static X509Certificate2 SelfSigned(string[] names, DateTimeOffset notAfter, bool rsa = false) => Make(names, notAfter, null, null, rsa);

    private static X509Certificate2 Make(string[] names, DateTimeOffset notAfter, DateTimeOffset? notBefore, X509Certificate2? issuer, bool rsa)
    {
        using AsymmetricAlgorithm key = rsa ? RSA.Create(2048) : ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = $"CN={names[0]}";
        var req = key is RSA r ? new CertificateRequest(subject, r, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                               : new CertificateRequest(subject, (ECDsa)key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var n in names)
            if (IPAddress.TryParse(n, out var ip)) san.AddIpAddress(ip); else san.AddDnsName(n);
        req.CertificateExtensions.Add(san.Build());
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(new OidCollection { new("1.3.6.1.5.5.7.3.1") }, false));
        var from = notBefore ?? DateTimeOffset.UtcNow.AddDays(-60);
        if (from > notAfter) from = notAfter.AddDays(-1);
        if (issuer is null)
        {
            using var self = req.CreateSelfSigned(from, notAfter);
            return X509CertificateLoader.LoadPkcs12(self.Export(X509ContentType.Pkcs12), null);
        }
        // The issuer's validity must cover the certificate's: clamp like a CA would refuse to otherwise.
        using var issuerKey = issuer.GetECDsaPrivateKey()!;
        using var signed = req.Create(issuer.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey), from, notAfter, RandomNumberGenerator.GetBytes(12));
        using var withKey = key is RSA rk ? signed.CopyWithPrivateKey(rk) : signed.CopyWithPrivateKey((ECDsa)key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>The private key of <paramref name="cert"/> as PKCS#8 PEM (for servers that read key files, e.g. PostgreSQL).</summary>
    public static string KeyPem(X509Certificate2 cert)
    {
        AsymmetricAlgorithm key = (AsymmetricAlgorithm?)cert.GetECDsaPrivateKey() ?? cert.GetRSAPrivateKey()!;
        return key.ExportPkcs8PrivateKeyPem() + "\n";
    }

    public void Dispose()
    {
        Root.Dispose();
        Intermediate.Dispose();
    }
}
