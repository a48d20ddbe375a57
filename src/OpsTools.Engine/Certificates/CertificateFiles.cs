using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using OpsTools.Certificates;

namespace OpsTools.Engine.Certificates;

/// <summary>One file or folder to read, with its label and, for PFX/PKCS#12, its password.</summary>
public sealed class CertificateFileRequest
{
    public string Path { get; init; } = "";
    public bool Recurse { get; init; }
    /// <summary>The PFX password (from a SecureString or an environment variable); never shown.</summary>
    public string? Password { get; init; }
    public string? Label { get; init; }
    public CertificateThresholds Thresholds { get; init; } = CertificateThresholds.Default;
    public string? Environment { get; init; }
}

/// <summary>
/// Reads certificates from files: PEM (every CERTIFICATE block of a bundle; private key blocks are skipped unread),
/// DER, and PFX/PKCS#12 (certificates only: the keys are loaded ephemerally by the platform and never kept or shown).
/// Folders are read file by file (recursively on request); files that hold no certificate (keys, CSRs, text) are left out.
/// </summary>
public static class CertificateFiles
{
    private static readonly string[] CertificateExtensions = { ".pem", ".crt", ".cer", ".der", ".pfx", ".p12", ".ca-bundle", ".chain" };
    private const int MaxFileBytes = 16 * 1024 * 1024;

    public static IEnumerable<CertificateResult> Read(CertificateFileRequest request, DateTime nowUtc)
    {
        if (Directory.Exists(request.Path))
        {
            var options = new EnumerationOptions { RecurseSubdirectories = request.Recurse, IgnoreInaccessible = true, AttributesToSkip = 0, ReturnSpecialDirectories = false };
            foreach (var file in Directory.EnumerateFiles(request.Path, "*", options).Order(StringComparer.Ordinal))
            {
                // In a folder, only files that look like certificates (by name or by content) count; keys and other files are skipped.
                var results = ReadFile(file, request, nowUtc, quietWhenNotCertificate: true);
                foreach (var r in results) yield return r;
            }
            yield break;
        }
        foreach (var r in ReadFile(request.Path, request, nowUtc, quietWhenNotCertificate: false)) yield return r;
    }

    private static List<CertificateResult> ReadFile(string path, CertificateFileRequest request, DateTime nowUtc, bool quietWhenNotCertificate)
    {
        var sw = Stopwatch.StartNew();
        var results = new List<CertificateResult>();
        CertificateResult Fail(string reason) => new()
        {
            Check = "Certificate", Area = "Certificates", Source = CertificateSource.File, Target = path, Name = path, Path = path,
            Label = request.Label, Environment = request.Environment, Reason = reason,
        };
        var ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        try
        {
            if (!File.Exists(path))
            {
                var r = Fail($"no such file or folder '{path}'");
                CertificateRules.Apply(r, request.Thresholds, nowUtc);
                return new() { r };
            }
            var length = new FileInfo(path).Length;
            if (length > MaxFileBytes)
            {
                if (quietWhenNotCertificate) return results;
                var r = Fail($"the file is {length} bytes: too big for a certificate");
                CertificateRules.Apply(r, request.Thresholds, nowUtc);
                return new() { r };
            }
            var bytes = File.ReadAllBytes(path);
            var (certs, format, why) = Parse(bytes, ext, request.Password);
            if (certs.Count == 0)
            {
                if (quietWhenNotCertificate && why is null && !CertificateExtensions.Contains(ext)) return results;
                if (quietWhenNotCertificate && why is null) return results;
                var r = Fail(why ?? "no certificate in the file (not PEM, DER or PKCS#12)");
                CertificateRules.Apply(r, request.Thresholds, nowUtc);
                return new() { r };
            }
            for (var i = 0; i < certs.Count; i++)
            {
                using var cert = certs[i];
                var name = certs.Count == 1 ? path : $"{path}#{i}";
                var r = new CertificateResult
                {
                    Check = "Certificate", Area = "Certificates", Source = CertificateSource.File, Target = name, Name = name, Path = path,
                    Index = i, Format = format, Label = request.Label, Environment = request.Environment,
                };
                CertificateRules.Fill(r, CertificateFacts.Describe(cert, nowUtc));
                CertificateRules.Apply(r, request.Thresholds, nowUtc);
                r.Duration = sw.Elapsed;
                results.Add(r);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var r = Fail($"cannot read '{path}': {e.Message}");
            CertificateRules.Apply(r, request.Thresholds, nowUtc);
            results.Add(r);
        }
        return results;
    }

    /// <summary>The certificates in <paramref name="bytes"/>: PEM blocks, else PKCS#12 (.pfx/.p12 or when DER fails), else one DER certificate.</summary>
    public static (List<X509Certificate2> Certificates, string? Format, string? Why) Parse(byte[] bytes, string extension, string? password)
    {
        var text = LooksLikeText(bytes) ? Encoding.ASCII.GetString(bytes) : null;
        if (text is not null && text.Contains("-----BEGIN ", StringComparison.Ordinal))
        {
            var pem = ReadPemCertificates(text, out var bad);
            if (pem.Count > 0 || bad is not null) return (pem, "Pem", bad);
            return (pem, null, null); // a key or CSR only: not a certificate file
        }
        if (extension is ".pfx" or ".p12")
            return ReadPkcs12(bytes, password);
        try
        {
#pragma warning disable SYSLIB0057
            var der = new X509Certificate2(bytes);
#pragma warning restore SYSLIB0057
            if (X509Certificate2.GetCertContentType(bytes) == X509ContentType.Pkcs12)
            {
                der.Dispose();
                return ReadPkcs12(bytes, password);
            }
            return (new List<X509Certificate2> { der }, "Der", null);
        }
        catch (CryptographicException)
        {
            if (LooksLikePkcs12(bytes)) return ReadPkcs12(bytes, password);
            return (new(), null, null);
        }
    }

    private static (List<X509Certificate2>, string?, string?) ReadPkcs12(byte[] bytes, string? password)
    {
        try
        {
            var collection = new X509Certificate2Collection();
#pragma warning disable SYSLIB0057
            // EphemeralKeySet: the key is never persisted anywhere; it is disposed with the certificates, unread.
            collection.Import(bytes, password, X509KeyStorageFlags.EphemeralKeySet);
#pragma warning restore SYSLIB0057
            var list = collection.Cast<X509Certificate2>().Select(c =>
            {
                // Keep only the public certificate: a copy without the key.
                var pub = new X509Certificate2(c.RawData);
                c.Dispose();
                return pub;
            }).ToList();
            return (list, "Pkcs12", list.Count == 0 ? "the PKCS#12 file holds no certificate" : null);
        }
        catch (CryptographicException)
        {
            return (new(), "Pkcs12", password is null
                ? "a PKCS#12 (PFX) file that needs a password: pass -Password (a SecureString) or -PasswordVariable"
                : "the PKCS#12 (PFX) password is wrong or the file is damaged");
        }
    }

    /// <summary>Every "-----BEGIN CERTIFICATE-----" (and TRUSTED CERTIFICATE) block; other blocks (keys!) are skipped without being decoded.</summary>
    public static List<X509Certificate2> ReadPemCertificates(string text, out string? problem)
    {
        problem = null;
        var list = new List<X509Certificate2>();
        var at = 0;
        while (true)
        {
            var begin = text.IndexOf("-----BEGIN ", at, StringComparison.Ordinal);
            if (begin < 0) break;
            var labelEnd = text.IndexOf("-----", begin + 11, StringComparison.Ordinal);
            if (labelEnd < 0) break;
            var label = text[(begin + 11)..labelEnd];
            var endMarker = $"-----END {label}-----";
            var end = text.IndexOf(endMarker, labelEnd, StringComparison.Ordinal);
            if (end < 0) { problem ??= $"a PEM block '{label}' has no END line (the file is cut short)"; break; }
            at = end + endMarker.Length;
            if (label is not ("CERTIFICATE" or "TRUSTED CERTIFICATE" or "X509 CERTIFICATE")) continue;
            var body = text[(labelEnd + 5)..end];
            try
            {
                var der = Convert.FromBase64String(string.Concat(body.Where(ch => !char.IsWhiteSpace(ch))));
#pragma warning disable SYSLIB0057
                list.Add(new X509Certificate2(der));
#pragma warning restore SYSLIB0057
            }
            catch (Exception e) when (e is FormatException or CryptographicException)
            {
                problem ??= $"certificate #{list.Count} of the PEM file cannot be decoded";
            }
        }
        return list;
    }

    private static bool LooksLikeText(byte[] bytes)
    {
        var n = Math.Min(bytes.Length, 4096);
        for (var i = 0; i < n; i++)
            if (bytes[i] == 0 || bytes[i] > 0x7e && bytes[i] != 0xef && bytes[i] != 0xbb && bytes[i] != 0xbf) return false;
        return n > 0;
    }

    private static bool LooksLikePkcs12(byte[] bytes)
    {
        try { return X509Certificate2.GetCertContentType(bytes) == X509ContentType.Pkcs12; }
        catch (CryptographicException) { return false; }
    }
}
