using System.Formats.Asn1;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpsTools.Certificates;

namespace OpsTools.Engine.Certificates;

/// <summary>What a certificate says, in UTC (X509Certificate2.NotBefore/NotAfter are local time: never shown as they are).</summary>
public static class CertificateFacts
{
    public static CertificateInfo Describe(X509Certificate2 cert, DateTime nowUtc)
    {
        var notAfter = cert.NotAfter.ToUniversalTime();
        var info = new CertificateInfo
        {
            Subject = cert.Subject,
            CommonName = NullIfEmpty(cert.GetNameInfo(X509NameType.SimpleName, false)),
            Issuer = cert.Issuer,
            DnsNames = SubjectAlternativeNames(cert),
            NotBefore = DateTime.SpecifyKind(cert.NotBefore.ToUniversalTime(), DateTimeKind.Utc),
            NotAfter = DateTime.SpecifyKind(notAfter, DateTimeKind.Utc),
            DaysLeft = Math.Round((notAfter - nowUtc).TotalDays, 3),
            SignatureAlgorithm = cert.SignatureAlgorithm.FriendlyName ?? cert.SignatureAlgorithm.Value ?? "",
            Thumbprint = cert.Thumbprint,
            Sha256Fingerprint = Convert.ToHexString(cert.GetCertHash(HashAlgorithmName.SHA256)),
            SerialNumber = cert.SerialNumber,
            IsSelfSigned = IsSelfSigned(cert),
            IsCertificateAuthority = cert.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority),
        };
        (info.KeyAlgorithm, info.KeySize) = Key(cert);
        return info;
    }

    /// <summary>Whole days left, rounded down (a certificate that expires in 6.9 days has 6 days left; expired: negative).</summary>
    public static int WholeDaysLeft(DateTime notAfterUtc, DateTime nowUtc) => (int)Math.Floor((notAfterUtc - nowUtc).TotalDays);

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    public static IReadOnlyList<string> SubjectAlternativeNames(X509Certificate2 cert)
    {
        var names = new List<string>();
        foreach (var ext in cert.Extensions)
        {
            if (ext.Oid?.Value != "2.5.29.17") continue;
            try
            {
                var san = ext as X509SubjectAlternativeNameExtension ?? new X509SubjectAlternativeNameExtension(ext.RawData, ext.Critical);
                names.AddRange(san.EnumerateDnsNames());
                names.AddRange(san.EnumerateIPAddresses().Select(a => a.ToString()));
            }
            catch (CryptographicException) { }
            catch (AsnContentException) { }
        }
        return names;
    }

    public static bool IsSelfSigned(X509Certificate2 cert)
    {
        if (!cert.SubjectName.RawData.AsSpan().SequenceEqual(cert.IssuerName.RawData)) return false;
        try
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            chain.ChainPolicy.DisableCertificateDownloads = true;
            chain.ChainPolicy.VerificationFlags = X509VerificationFlags.AllFlags;
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(cert);
            chain.Build(cert);
            return chain.ChainElements.Count == 1 &&
                   !chain.ChainStatus.Any(s => s.Status is X509ChainStatusFlags.NotSignatureValid);
        }
        catch (CryptographicException) { return true; }
    }

    private static (string, int) Key(X509Certificate2 cert)
    {
        try
        {
            using (var rsa = cert.GetRSAPublicKey()) if (rsa is not null) return ("RSA", rsa.KeySize);
            using (var ec = cert.GetECDsaPublicKey()) if (ec is not null) return ("ECDSA", ec.KeySize);
            using (var dsa = cert.GetDSAPublicKey()) if (dsa is not null) return ("DSA", dsa.KeySize);
        }
        catch (CryptographicException) { }
        return cert.PublicKey.Oid.Value switch
        {
            "1.3.101.112" => ("Ed25519", 256),
            "1.3.101.113" => ("Ed448", 456),
            _ => (cert.PublicKey.Oid.FriendlyName ?? cert.PublicKey.Oid.Value ?? "unknown", 0),
        };
    }

    /// <summary>Whether <paramref name="name"/> (a DNS name or an IP address) is among the certificate's names (RFC 6125: one leftmost wildcard label; the CN only when there is no SAN).</summary>
    public static bool MatchesHost(X509Certificate2 cert, string name)
    {
        name = name.TrimEnd('.');
        var sans = new List<string>();
        var ips = new List<IPAddress>();
        var hasSan = false;
        foreach (var ext in cert.Extensions)
        {
            if (ext.Oid?.Value != "2.5.29.17") continue;
            hasSan = true;
            try
            {
                var san = ext as X509SubjectAlternativeNameExtension ?? new X509SubjectAlternativeNameExtension(ext.RawData, ext.Critical);
                sans.AddRange(san.EnumerateDnsNames());
                ips.AddRange(san.EnumerateIPAddresses());
            }
            catch (CryptographicException) { }
            catch (AsnContentException) { }
        }
        if (IPAddress.TryParse(name.Trim('[', ']'), out var ip))
            return ips.Any(a => a.Equals(ip));
        if (!hasSan && cert.GetNameInfo(X509NameType.SimpleName, false) is { Length: > 0 } cn) sans.Add(cn);
        return sans.Any(pattern => DnsMatch(pattern, name));
    }

    internal static bool DnsMatch(string pattern, string name)
    {
        pattern = pattern.TrimEnd('.');
        if (string.Equals(pattern, name, StringComparison.OrdinalIgnoreCase)) return true;
        if (!pattern.StartsWith("*.", StringComparison.Ordinal)) return false;
        var dot = name.IndexOf('.');
        if (dot <= 0) return false;
        var rest = name[(dot + 1)..];
        return rest.Contains('.') && string.Equals(pattern[2..], rest, StringComparison.OrdinalIgnoreCase);
    }

    public static string Days(double days) => days.ToString("0", CultureInfo.InvariantCulture);
}
