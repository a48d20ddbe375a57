namespace OpsTools.Certificates;

/// <summary>Why a certificate is not trusted or not fit for its use. <c>None</c> when it is.</summary>
public enum CertificateProblem
{
    None = 0,
    /// <summary>Not after is in the past.</summary>
    Expired,
    /// <summary>Not before is in the future.</summary>
    NotYetValid,
    /// <summary>The name that was asked for (SNI / host) is not among the certificate's names.</summary>
    WrongHost,
    /// <summary>The certificate is its own issuer and no trusted root is it.</summary>
    SelfSigned,
    /// <summary>An intermediate is missing: the chain as served does not reach a root.</summary>
    IncompleteChain,
    /// <summary>The chain ends in a root that is not trusted (not in the system store or the CA file).</summary>
    UntrustedRoot,
    /// <summary>Something else in the chain is wrong (signature, usage, constraints); see Reason.</summary>
    InvalidChain,
    /// <summary>No certificate could be read: the endpoint did not answer, refused TLS or the file is not a certificate.</summary>
    Unreadable,
}

/// <summary>Where a certificate was read from.</summary>
public enum CertificateSource
{
    Endpoint,
    File,
    Secret,
    CertManager,
}

/// <summary>One X.509 certificate, as openssl x509 -text shows it (times in UTC).</summary>
public sealed class CertificateInfo
{
    /// <summary>The subject distinguished name.</summary>
    public string Subject { get; set; } = "";
    /// <summary>The subject's common name (CN), when it has one.</summary>
    public string? CommonName { get; set; }
    /// <summary>The issuer distinguished name.</summary>
    public string Issuer { get; set; } = "";
    /// <summary>The DNS names and IP addresses of the subject alternative name extension.</summary>
    public IReadOnlyList<string> DnsNames { get; set; } = Array.Empty<string>();
    /// <summary>Valid from, UTC.</summary>
    public DateTime NotBefore { get; set; }
    /// <summary>Valid until, UTC (.NET's X509Certificate2.NotAfter is local time; this one is not).</summary>
    public DateTime NotAfter { get; set; }
    /// <summary>Whole and fractional days from now to NotAfter (negative: expired).</summary>
    public double DaysLeft { get; set; }
    /// <summary>RSA, ECDSA, Ed25519, DSA ... </summary>
    public string KeyAlgorithm { get; set; } = "";
    /// <summary>Key size in bits (RSA modulus, EC curve size).</summary>
    public int KeySize { get; set; }
    /// <summary>The signature algorithm, e.g. sha256RSA.</summary>
    public string SignatureAlgorithm { get; set; } = "";
    /// <summary>SHA-1 thumbprint (as Windows and openssl -fingerprint show it).</summary>
    public string Thumbprint { get; set; } = "";
    /// <summary>SHA-256 fingerprint, hex.</summary>
    public string Sha256Fingerprint { get; set; } = "";
    /// <summary>The serial number, hex.</summary>
    public string SerialNumber { get; set; } = "";
    /// <summary>Subject and issuer are the same and the signature verifies with its own key.</summary>
    public bool IsSelfSigned { get; set; }
    /// <summary>Basic constraints say CA:TRUE.</summary>
    public bool IsCertificateAuthority { get; set; }

    public override string ToString() => $"{Subject} (until {NotAfter:yyyy-MM-dd HH:mm} UTC)";
}

/// <summary>
/// One certificate checked against the expiry thresholds (and for endpoints the trust and host name):
/// from an endpoint (its leaf, with the chain as served), a file (every certificate of a bundle), a Kubernetes secret.
/// </summary>
public class CertificateResult : CheckResult
{
    /// <summary>Endpoint, File or Secret.</summary>
    public CertificateSource Source { get; set; }
    /// <summary>A short name for reports: host:port, the file path (#n in a bundle), namespace/secret/key.</summary>
    public string Name { get; set; } = "";
    /// <summary>The label that chose the thresholds (environment file's Certificates.Labels), if any.</summary>
    public string? Label { get; set; }
    /// <summary>The subject distinguished name.</summary>
    public string? Subject { get; set; }
    /// <summary>The issuer distinguished name.</summary>
    public string? Issuer { get; set; }
    /// <summary>The subject alternative names (DNS and IP).</summary>
    public IReadOnlyList<string> DnsNames { get; set; } = Array.Empty<string>();
    /// <summary>Valid from, UTC.</summary>
    public DateTime? NotBefore { get; set; }
    /// <summary>Valid until, UTC.</summary>
    public DateTime? NotAfter { get; set; }
    /// <summary>Days until NotAfter, rounded down (negative: expired; null: nothing read).</summary>
    public int? DaysLeft { get; set; }
    /// <summary>RSA, ECDSA ...</summary>
    public string? KeyAlgorithm { get; set; }
    /// <summary>Key size in bits.</summary>
    public int? KeySize { get; set; }
    /// <summary>The signature algorithm.</summary>
    public string? SignatureAlgorithm { get; set; }
    /// <summary>SHA-1 thumbprint.</summary>
    public string? Thumbprint { get; set; }
    /// <summary>The certificate itself (null when nothing could be read).</summary>
    public CertificateInfo? Certificate { get; set; }
    /// <summary>Endpoints: every certificate the server sent, leaf first. Files: empty.</summary>
    public IReadOnlyList<CertificateInfo> Chain { get; set; } = Array.Empty<CertificateInfo>();
    /// <summary>The first problem found (expiry counts only when expired; see Status for the thresholds).</summary>
    public CertificateProblem Problem { get; set; }
    /// <summary>Why, in words: "expires in 5 days", "issued for localhost, not api.example", "intermediate missing".</summary>
    public string Reason { get; set; } = "";
    /// <summary>Endpoints: the chain was checked against the system store (or -CaFile) and is trusted. Null: not checked.</summary>
    public bool? Trusted { get; set; }
    /// <summary>Endpoints: the host name (SNI) is among the certificate's names. Null: not checked.</summary>
    public bool? HostnameMatch { get; set; }

    // Where it came from: endpoint
    /// <summary>The host that was connected to.</summary>
    public string? Host { get; set; }
    /// <summary>The TCP port.</summary>
    public int? Port { get; set; }
    /// <summary>The name sent as SNI and matched against the certificate.</summary>
    public string? ServerName { get; set; }
    /// <summary>None, Postgres or Smtp.</summary>
    public string? StartTls { get; set; }
    /// <summary>The TLS version negotiated.</summary>
    public string? Protocol { get; set; }

    // file
    /// <summary>The file it was read from.</summary>
    public string? Path { get; set; }
    /// <summary>Position in a bundle (0 = first).</summary>
    public int? Index { get; set; }
    /// <summary>Pem, Der or Pkcs12.</summary>
    public string? Format { get; set; }

    // secret
    /// <summary>The secret's namespace.</summary>
    public string? Namespace { get; set; }
    /// <summary>The secret's name.</summary>
    public string? SecretName { get; set; }
    /// <summary>The key in the secret (tls.crt, ca.crt ...).</summary>
    public string? SecretKey { get; set; }
    /// <summary>The kube target id, for the pipeline.</summary>
    public string? ClusterId { get; set; }
}

/// <summary>A cert-manager Certificate resource joined to the secret it writes (cmctl status).</summary>
public class CertManagerCertificateResult : CheckResult
{
    public string Namespace { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary>spec.secretName.</summary>
    public string SecretName { get; set; } = "";
    /// <summary>spec.dnsNames (and commonName).</summary>
    public IReadOnlyList<string> DnsNames { get; set; } = Array.Empty<string>();
    /// <summary>spec.issuerRef as Kind/name.</summary>
    public string Issuer { get; set; } = "";
    /// <summary>The Ready condition: True, False or Unknown (null: none yet).</summary>
    public string? Ready { get; set; }
    /// <summary>The Ready condition's reason and message.</summary>
    public string? ReadyMessage { get; set; }
    /// <summary>An Issuing condition is True: cert-manager is issuing a new certificate now.</summary>
    public bool Issuing { get; set; }
    /// <summary>The Issuing condition's reason and message.</summary>
    public string? IssuingMessage { get; set; }
    /// <summary>status.notBefore, UTC.</summary>
    public DateTime? NotBefore { get; set; }
    /// <summary>status.notAfter, UTC (else the secret's certificate's).</summary>
    public DateTime? NotAfter { get; set; }
    /// <summary>status.renewalTime, UTC: when cert-manager will renew.</summary>
    public DateTime? RenewalTime { get; set; }
    /// <summary>Days until NotAfter, rounded down.</summary>
    public int? DaysLeft { get; set; }
    /// <summary>status.failedIssuanceAttempts.</summary>
    public int FailedIssuanceAttempts { get; set; }
    /// <summary>status.lastFailureTime, UTC.</summary>
    public DateTime? LastFailureTime { get; set; }
    /// <summary>status.revision.</summary>
    public int? Revision { get; set; }
    /// <summary>The certificate in the secret's tls.crt (null: the secret or key is missing).</summary>
    public CertificateInfo? SecretCertificate { get; set; }
    /// <summary>Why, in words.</summary>
    public string Reason { get; set; } = "";
    /// <summary>The label that chose the thresholds (default 'cert-manager').</summary>
    public string? Label { get; set; }
    /// <summary>The kube target id, for the pipeline.</summary>
    public string? ClusterId { get; set; }
}

/// <summary>What a renewal did: the certificate before and after.</summary>
public class CertificateRenewalResult : CheckResult
{
    /// <summary>CertManager or Certbot.</summary>
    public string Method { get; set; } = "";
    /// <summary>The Certificate resource (namespace/name) or certbot's certificate name.</summary>
    public string Name { get; set; } = "";
    public string? Namespace { get; set; }
    /// <summary>NotAfter before the renewal, UTC.</summary>
    public DateTime? NotAfterBefore { get; set; }
    /// <summary>NotAfter after the renewal, UTC.</summary>
    public DateTime? NotAfterAfter { get; set; }
    /// <summary>Thumbprint before.</summary>
    public string? ThumbprintBefore { get; set; }
    /// <summary>Thumbprint after.</summary>
    public string? ThumbprintAfter { get; set; }
    /// <summary>A new certificate is in place (a later NotAfter or another thumbprint).</summary>
    public bool Renewed { get; set; }
    /// <summary>-WhatIf: nothing was done.</summary>
    public bool WhatIf { get; set; }
    /// <summary>Why, in words (cert-manager's failure reason, certbot's error output).</summary>
    public string Reason { get; set; } = "";
    /// <summary>certbot's exit code.</summary>
    public int? ExitCode { get; set; }
    /// <summary>The kube target id.</summary>
    public string? ClusterId { get; set; }
}
