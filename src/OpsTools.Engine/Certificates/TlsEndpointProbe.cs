using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using OpsTools.Certificates;

namespace OpsTools.Engine.Certificates;

/// <summary>How to get to the TLS handshake.</summary>
public enum StartTlsMode { None, Postgres, Smtp }

/// <summary>One endpoint to read the certificate chain of.</summary>
public sealed class TlsEndpointRequest
{
    public string Host { get; init; } = "";
    public int Port { get; init; } = 443;
    /// <summary>The SNI name and the name the certificate must carry (default: the host).</summary>
    public string? ServerName { get; init; }
    public StartTlsMode StartTls { get; init; }
    /// <summary>Trusted roots instead of the system store (from -CaFile); null: the system store.</summary>
    public X509Certificate2Collection? TrustedRoots { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
    public string? Label { get; init; }
    public CertificateThresholds Thresholds { get; init; } = CertificateThresholds.Default;
    public string? Environment { get; init; }
    /// <summary>A name for reports (default host:port).</summary>
    public string? Name { get; init; }

    public string Display => Name ?? (Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}");

    /// <summary>
    /// Parses "host", "host:port", "[v6]:port" or a URL: https:// (443), postgres:// / postgresql:// (5432, STARTTLS Postgres),
    /// smtp:// (25, STARTTLS SMTP), submission:// (587, STARTTLS SMTP), smtps:// (465), ldaps:// (636), imaps:// (993).
    /// </summary>
    public static (string Host, int Port, StartTlsMode Mode)? Parse(string text, out string? problem)
    {
        problem = null;
        text = text.Trim();
        if (text.Length == 0) { problem = "an empty endpoint"; return null; }
        if (text.Contains("://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
            { problem = $"'{text}' is not a valid URL"; return null; }
            var (defaultPort, mode) = uri.Scheme.ToLowerInvariant() switch
            {
                "https" or "wss" => (443, StartTlsMode.None),
                "postgres" or "postgresql" => (5432, StartTlsMode.Postgres),
                "smtp" => (25, StartTlsMode.Smtp),
                "submission" => (587, StartTlsMode.Smtp),
                "smtps" => (465, StartTlsMode.None),
                "ldaps" => (636, StartTlsMode.None),
                "imaps" => (993, StartTlsMode.None),
                "tls" or "tcp" => (443, StartTlsMode.None),
                _ => (-1, StartTlsMode.None),
            };
            if (defaultPort < 0) { problem = $"'{text}': scheme '{uri.Scheme}' is not one of https, postgres, smtp, submission, smtps, ldaps, imaps"; return null; }
            var port = uri.IsDefaultPort || uri.Port <= 0 ? defaultPort : uri.Port;
            return (uri.Host.Trim('[', ']'), port, mode);
        }
        string host; var portText = "";
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0) { problem = $"'{text}': missing ']'"; return null; }
            host = text[1..close];
            if (close + 1 < text.Length)
            {
                if (text[close + 1] != ':') { problem = $"'{text}' is not [address]:port"; return null; }
                portText = text[(close + 2)..];
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon >= 0 && text.IndexOf(':') != colon) // a bare IPv6 address, or something else with colons
            {
                if (!System.Net.IPAddress.TryParse(text, out _))
                {
                    problem = text.IndexOfAny(new[] { ',', ' ', ';' }) >= 0
                        ? $"'{text}' looks like a list of endpoints in one string: give each as its own item (-Endpoint a:443, b:443, or split it: ($text -split ','))"
                        : $"'{text}' is neither host:port nor an IPv6 address (write [address]:port)";
                    return null;
                }
                host = text;
            }
            else if (colon >= 0) { host = text[..colon]; portText = text[(colon + 1)..]; }
            else host = text;
        }
        var p = 443;
        if (portText.Length > 0 && (!int.TryParse(portText, out p) || p is < 1 or > 65535)) { problem = $"'{text}': '{portText}' is not a TCP port"; return null; }
        if (host.Length == 0) { problem = $"'{text}' names no host"; return null; }
        if (host.IndexOfAny(new[] { ',', ' ', ';', '/' }) >= 0) { problem = $"'{text}': '{host}' is not a host name (a list of endpoints in one string? give each as its own item)"; return null; }
        var m = p == 5432 ? StartTlsMode.Postgres : p is 25 or 587 ? StartTlsMode.Smtp : StartTlsMode.None;
        return (host, p, m);
    }
}

/// <summary>
/// Reads the certificate chain an endpoint serves (the way openssl s_client -showcerts does) and judges it: expiry,
/// host name, and trust against the system store or given roots, with the reason when it fails. The certificate is
/// read even when it is not trusted (the handshake accepts anything; the judgement is separate). STARTTLS for
/// PostgreSQL (SSLRequest) and SMTP. Many endpoints at once, each with its own timeout; an unreachable endpoint is
/// an Unknown result, never an exception; only the caller's cancellation throws.
/// </summary>
public static class TlsEndpointProbe
{
    public const int DefaultThrottleLimit = 32;
    public const int MaxThrottleLimit = 1024;

    public static async IAsyncEnumerable<CertificateResult> ProbeAllAsync(IEnumerable<TlsEndpointRequest> requests, int throttleLimit,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = requests.ToList();
        if (list.Count == 0) yield break;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateUnbounded<CertificateResult>(new UnboundedChannelOptions { SingleReader = true });
        using var gate = new SemaphoreSlim(throttleLimit, throttleLimit);
        async Task One(TlsEndpointRequest r)
        {
            await gate.WaitAsync(stop.Token).ConfigureAwait(false);
            try { channel.Writer.TryWrite(await ProbeAsync(r, stop.Token).ConfigureAwait(false)); }
            finally { gate.Release(); }
        }
        var all = Task.WhenAll(list.Select(r => Task.Run(() => One(r), stop.Token)));
        _ = all.ContinueWith(t => channel.Writer.TryComplete(t.Exception?.InnerException), TaskScheduler.Default);
        try
        {
            await foreach (var result in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return result;
        }
        finally
        {
            stop.Cancel();
            try { await all.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
        cancellationToken.ThrowIfCancellationRequested();
    }

    public static async Task<CertificateResult> ProbeAsync(TlsEndpointRequest request, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        var serverName = string.IsNullOrEmpty(request.ServerName) ? request.Host : request.ServerName!;
        var result = new CertificateResult
        {
            Check = "Certificate", Area = "Certificates", Source = CertificateSource.Endpoint,
            Target = request.Display, Name = request.Display, Host = request.Host, Port = request.Port, ServerName = serverName,
            StartTls = request.StartTls.ToString(), Label = request.Label, Environment = request.Environment,
        };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(request.Timeout);
        X509Certificate2? leaf = null;
        var served = new List<X509Certificate2>();
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(new DnsEndPoint(request.Host, request.Port), timeout.Token).ConfigureAwait(false);
            await using var network = new NetworkStream(socket, ownsSocket: false);
            switch (request.StartTls)
            {
                case StartTlsMode.Postgres: await PostgresSslRequestAsync(network, timeout.Token).ConfigureAwait(false); break;
                case StartTlsMode.Smtp: await SmtpStartTlsAsync(network, timeout.Token).ConfigureAwait(false); break;
            }
            await using var tls = new SslStream(network, leaveInnerStreamOpen: true);
            var options = new SslClientAuthenticationOptions
            {
                // SNI is only sent for names, never for IP addresses (RFC 6066).
                TargetHost = serverName,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                RemoteCertificateValidationCallback = (_, cert, chain, _) =>
                {
                    // Read it whatever it is: the judgement comes after, with the reason.
                    if (cert is not null) leaf = new X509Certificate2(cert.GetRawCertData());
                    if (chain is not null)
                        foreach (var extra in chain.ChainPolicy.ExtraStore)
                            served.Add(new X509Certificate2(extra.RawData));
                    return true;
                },
            };
            await tls.AuthenticateAsClientAsync(options, timeout.Token).ConfigureAwait(false);
            result.Protocol = tls.SslProtocol.ToString();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested) { throw; }
        catch (OperationCanceledException) when (leaf is null)
        {
            result.Reason = $"no TLS answer within {request.Timeout.TotalSeconds:0.###} s";
        }
        catch (SocketException e) when (leaf is null)
        {
            result.Reason = e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => $"connection refused: nothing listens on {request.Display}",
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => $"the host name '{request.Host}' does not resolve",
                SocketError.TimedOut => $"no answer from {request.Display} (connection timed out)",
                _ => $"cannot connect to {request.Display}: {e.Message}",
            };
        }
        catch (Exception e) when (leaf is null && e is IOException or AuthenticationException or StartTlsException)
        {
            result.Reason = e is StartTlsException ? e.Message : $"the TLS handshake failed: {Innermost(e)} (is it a TLS port{(request.StartTls == StartTlsMode.None ? "; or does it need STARTTLS" : "")}?)";
        }
        catch (Exception e) when (leaf is not null && e is IOException or AuthenticationException or OperationCanceledException)
        {
            // The certificate arrived; what failed after it (e.g. the server wants a client certificate) does not matter here.
        }

        var now = DateTime.UtcNow;
        if (leaf is not null)
        {
            using var _ = leaf;
            var chainCerts = new List<X509Certificate2> { leaf };
            chainCerts.AddRange(served.Where(c => c.Thumbprint != leaf.Thumbprint).GroupBy(c => c.Thumbprint).Select(g => g.First()));
            result.Chain = chainCerts.Select(c => CertificateFacts.Describe(c, now)).ToList();
            CertificateRules.Fill(result, result.Chain[0]);
            Judge(result, leaf, chainCerts.Skip(1).ToList(), serverName, request.TrustedRoots);
        }
        foreach (var c in served) c.Dispose();
        CertificateRules.Apply(result, request.Thresholds, now);
        result.Duration = sw.Elapsed;
        result.Timestamp = DateTime.UtcNow;
        return result;
    }

    /// <summary>Host name and chain trust: sets Trusted, HostnameMatch, Problem and Reason (first problem wins, all are named).</summary>
    internal static void Judge(CertificateResult result, X509Certificate2 leaf, IReadOnlyList<X509Certificate2> intermediates, string serverName, X509Certificate2Collection? roots)
    {
        var problems = new List<(CertificateProblem, string)>();
        result.HostnameMatch = CertificateFacts.MatchesHost(leaf, serverName);
        if (result.HostnameMatch == false)
        {
            var names = result.DnsNames.Count > 0 ? string.Join(", ", result.DnsNames) : result.Certificate?.CommonName ?? "(no names)";
            problems.Add((CertificateProblem.WrongHost, $"issued for {names}, not {serverName}"));
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true; // as served: a missing intermediate is not fetched
        chain.ChainPolicy.VerificationTime = DateTime.Now;
        foreach (var c in intermediates) chain.ChainPolicy.ExtraStore.Add(c);
        if (roots is not null)
        {
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        }
        bool built;
        try { built = chain.Build(leaf); }
        catch (CryptographicException e) { built = false; problems.Add((CertificateProblem.InvalidChain, e.Message)); }
        var flags = chain.ChainStatus.Aggregate(X509ChainStatusFlags.NoError, (a, s) => a | s.Status);
        // Time validity is judged from the dates (below, by the rules), so it does not make the chain untrusted twice over.
        var trustFlags = flags & ~(X509ChainStatusFlags.NotTimeValid | X509ChainStatusFlags.NotTimeNested);
        result.Trusted = built || trustFlags == X509ChainStatusFlags.NoError;
        var elements = chain.ChainElements.Cast<X509ChainElement>().Select(e => e.Certificate).ToList();
        if (!result.Trusted.Value)
        {
            var selfSigned = CertificateFacts.IsSelfSigned(leaf);
            if (selfSigned)
                problems.Add((CertificateProblem.SelfSigned, "self-signed: its own issuer, not a trusted root"));
            else if ((flags & X509ChainStatusFlags.PartialChain) != 0 && elements.Count > 1 && elements.Last().Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority))
                // The served intermediates lead to a CA whose issuer (the root) is nowhere: the root is not trusted here.
                problems.Add((CertificateProblem.UntrustedRoot, $"untrusted root '{elements.Last().Issuer}'{(roots is null ? " (not in the system store)" : " (not in the CA file)")}"));
            else if ((flags & X509ChainStatusFlags.PartialChain) != 0)
                problems.Add((CertificateProblem.IncompleteChain, $"incomplete chain: the issuer '{elements.Last().Issuer}' was not served (intermediate missing)"));
            else if ((flags & X509ChainStatusFlags.UntrustedRoot) != 0)
                problems.Add((CertificateProblem.UntrustedRoot, $"untrusted root '{elements.Last().Subject}'{(roots is null ? " (not in the system store)" : " (not in the CA file)")}"));
            else
                problems.Add((CertificateProblem.InvalidChain, "invalid chain: " + string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct())));
        }
        // An intermediate of the chain that expired before the leaf.
        for (var i = 1; i < elements.Count; i++)
        {
            var notAfter = elements[i].NotAfter.ToUniversalTime();
            if (notAfter < DateTime.UtcNow)
                problems.Add((CertificateProblem.InvalidChain, $"the chain's '{elements[i].Subject}' expired {notAfter:yyyy-MM-dd} UTC"));
        }
        if (problems.Count > 0)
        {
            result.Problem = problems[0].Item1;
            result.Reason = string.Join("; ", problems.Select(p => p.Item2));
        }
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message.TrimEnd('.');
    }

    private sealed class StartTlsException(string message) : Exception(message);

    private static async Task PostgresSslRequestAsync(Stream s, CancellationToken ct)
    {
        // SSLRequest: length 8, code 80877103 (1234 << 16 | 5679); the server answers one byte, 'S' or 'N'.
        var request = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(request, 8);
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(4), 80877103);
        await s.WriteAsync(request, ct).ConfigureAwait(false);
        var answer = new byte[1];
        var n = await s.ReadAsync(answer, ct).ConfigureAwait(false);
        if (n == 0) throw new StartTlsException("the server closed the connection after the PostgreSQL SSLRequest (not PostgreSQL?)");
        if (answer[0] == (byte)'N') throw new StartTlsException("the PostgreSQL server does not accept TLS (ssl = off)");
        if (answer[0] != (byte)'S') throw new StartTlsException($"unexpected answer to the PostgreSQL SSLRequest (0x{answer[0]:x2}): not PostgreSQL?");
    }

    private static async Task SmtpStartTlsAsync(Stream s, CancellationToken ct)
    {
        var greeting = await ReadSmtpReplyAsync(s, ct).ConfigureAwait(false);
        if (!greeting.StartsWith("220", StringComparison.Ordinal)) throw new StartTlsException($"the SMTP server did not greet with 220: {Short(greeting)}");
        await s.WriteAsync(Encoding.ASCII.GetBytes("EHLO opstools.invalid\r\n"), ct).ConfigureAwait(false);
        var ehlo = await ReadSmtpReplyAsync(s, ct).ConfigureAwait(false);
        if (!ehlo.StartsWith("250", StringComparison.Ordinal)) throw new StartTlsException($"the SMTP server refused EHLO: {Short(ehlo)}");
        if (!ehlo.Contains("STARTTLS", StringComparison.OrdinalIgnoreCase)) throw new StartTlsException("the SMTP server does not offer STARTTLS");
        await s.WriteAsync(Encoding.ASCII.GetBytes("STARTTLS\r\n"), ct).ConfigureAwait(false);
        var go = await ReadSmtpReplyAsync(s, ct).ConfigureAwait(false);
        if (!go.StartsWith("220", StringComparison.Ordinal)) throw new StartTlsException($"the SMTP server refused STARTTLS: {Short(go)}");
    }

    private static string Short(string s) => s.Length > 200 ? s[..200] : s.Trim();

    /// <summary>A whole SMTP reply (continuation lines "250-..." up to the last "250 ..."), read byte by byte so no TLS byte is consumed.</summary>
    private static async Task<string> ReadSmtpReplyAsync(Stream s, CancellationToken ct)
    {
        var all = new StringBuilder();
        var line = new StringBuilder();
        var one = new byte[1];
        while (all.Length < 16384)
        {
            if (await s.ReadAsync(one, ct).ConfigureAwait(false) == 0) throw new StartTlsException("the SMTP server closed the connection");
            if (one[0] == '\n')
            {
                var text = line.ToString().TrimEnd('\r');
                all.Append(text).Append('\n');
                line.Clear();
                if (text.Length < 4 || text[3] == ' ') return all.ToString();
                continue;
            }
            line.Append((char)one[0]);
        }
        throw new StartTlsException("the SMTP reply is too long");
    }

    /// <summary>Reads a PEM file of CA certificates (-CaFile).</summary>
    public static X509Certificate2Collection ReadCaFile(string path)
    {
        if (!File.Exists(path))
            throw new OpsToolsException("CaFileNotFound", OpsErrorKind.NotFound, $"The CA file '{path}' does not exist.", path);
        var bytes = File.ReadAllBytes(path);
        var (certs, _, why) = CertificateFiles.Parse(bytes, System.IO.Path.GetExtension(path).ToLowerInvariant(), null);
        if (certs.Count == 0)
            throw new OpsToolsException("CaFileInvalid", OpsErrorKind.InvalidData, $"The CA file '{path}' holds no certificate{(why is null ? "" : ": " + why)}. Give a PEM file of CA certificates.", path);
        return new X509Certificate2Collection(certs.ToArray());
    }
}
