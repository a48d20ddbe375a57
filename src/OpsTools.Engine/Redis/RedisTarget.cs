using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using OpsTools.Configuration;
using OpsTools.Engine.Security;
using StackExchange.Redis;

namespace OpsTools.Engine.Redis;

/// <summary>
/// What a command was told about a Redis server. Precedence, highest first: explicit parameters, -Uri, the environment
/// file's Redis section, redis-cli's conventions (REDISCLI_AUTH for the password), the defaults (127.0.0.1:6379, db 0).
/// </summary>
public sealed class RedisTargetSpec
{
    public string? Uri { get; init; }
    public string? Host { get; init; }
    public int? Port { get; init; }
    public int? Database { get; init; }
    public string? User { get; init; }
    public SecureString? Password { get; init; }
    public bool? Tls { get; init; }
    public bool SkipCertificateCheck { get; init; }
    public string? CaCertificate { get; init; }
    /// <summary>A PEM file with the client certificate (redis-cli --cert), for servers with tls-auth-clients yes.</summary>
    public string? ClientCertificate { get; init; }
    /// <summary>A PEM file with the client certificate's private key (redis-cli --key); default: the certificate file.</summary>
    public string? ClientKey { get; init; }
    public RedisSettings? Settings { get; init; }
    public double TimeoutSec { get; init; } = 10;
}

/// <summary>
/// A resolved Redis server. The password stays inside; <see cref="Address"/>, <see cref="ToString"/> and every message
/// show none. Connections are shared per server, user and password (StackExchange.Redis's advice: one multiplexer, reused).
/// </summary>
public sealed class RedisTarget
{
    private readonly string? _password;
    private static readonly ConcurrentDictionary<string, Lazy<Task<ConnectionMultiplexer>>> Connections = new();
    private static readonly ConcurrentDictionary<string, RedisTarget> Registry = new();

    internal RedisTarget(string host, int port, int database, string? user, string? password, bool tls, bool skipCertificateCheck,
        string? caCertificate, string passwordSource, double timeoutSec, string? clientCertificate = null, string? clientKey = null)
    {
        Host = host; Port = port; Database = database; User = user; _password = password; Tls = tls;
        SkipCertificateCheck = skipCertificateCheck; CaCertificate = caCertificate; PasswordSource = passwordSource; TimeoutSec = timeoutSec;
        ClientCertificate = clientCertificate; ClientKey = clientKey;
        Id = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{Key}|{database}")))[..16].ToLowerInvariant();
        Registry[Id] = this;
    }

    public string Host { get; }
    public int Port { get; }
    public int Database { get; }
    public string? User { get; }
    public bool Tls { get; }
    public bool SkipCertificateCheck { get; }
    public string? CaCertificate { get; }
    /// <summary>The client certificate's PEM file (TLS client authentication), or null. Only the path is ever shown.</summary>
    public string? ClientCertificate { get; }
    /// <summary>The PEM file of the client certificate's private key (the certificate file when it holds the key too). Never read into any output.</summary>
    public string? ClientKey { get; }
    /// <summary>Where the password came from: -Credential, -Password, $env:NAME, REDISCLI_AUTH, the URI, or none.</summary>
    public string PasswordSource { get; }
    public double TimeoutSec { get; }
    /// <summary>Names this target for the next command in a pipeline (no secret).</summary>
    public string Id { get; }
    /// <summary>host:port.</summary>
    public string Server => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
    /// <summary>redis[s]://[user@]host:port/db, never with the password.</summary>
    public string Address => $"{(Tls ? "rediss" : "redis")}://{(User is { Length: > 0 } ? Uri.EscapeDataString(User) + "@" : "")}{Server}/{Database}";
    /// <summary>The password, for <see cref="Redaction.RedactText"/> on text from elsewhere.</summary>
    internal IEnumerable<string?> Secrets => new[] { _password };

    public override string ToString() => Address;

    /// <summary>The target a piped object came from, when this session resolved it.</summary>
    public static RedisTarget? Find(string? id) => id is { Length: > 0 } && Registry.TryGetValue(id, out var t) ? t : null;

    /// <summary>The same server and credentials, another database.</summary>
    public RedisTarget WithDatabase(int database) => database == Database ? this
        : new RedisTarget(Host, Port, database, User, _password, Tls, SkipCertificateCheck, CaCertificate, PasswordSource, TimeoutSec, ClientCertificate, ClientKey);

    // What makes a connection different (the database is chosen per command, not per connection).
    private string Key => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(
        $"{Host}|{Port}|{User}|{_password}|{Tls}|{SkipCertificateCheck}|{CaCertificate}|{ClientCertificate}|{ClientKey}|{TimeoutSec}")));

    /// <summary>Connects (or reuses this process's connection to the same server), turning every failure into one clear <see cref="OpsToolsException"/>.</summary>
    public async Task<IDatabase> ConnectAsync(CancellationToken ct)
    {
        var key = Key;
        var lazy = Connections.GetOrAdd(key, _ => new Lazy<Task<ConnectionMultiplexer>>(() => ConnectionMultiplexer.ConnectAsync(Options())));
        ConnectionMultiplexer mux;
        try
        {
            mux = await lazy.Value.WaitAsync(TimeSpan.FromSeconds(TimeoutSec + 5), ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            Connections.TryRemove(new KeyValuePair<string, Lazy<Task<ConnectionMultiplexer>>>(key, lazy));
            if (e is OpsToolsException) throw;
            throw RedisErrors.Connect(this, e);
        }
        if (!mux.IsConnected && !await WaitConnectedAsync(mux, ct).ConfigureAwait(false))
            throw new OpsToolsException("RedisUnreachable", OpsErrorKind.ConnectionError,
                $"Redis at {Address} is not reachable (the connection dropped and did not come back within {TimeoutSec:0.#} s).", Address);
        return mux.GetDatabase(Database);
    }

    private async Task<bool> WaitConnectedAsync(ConnectionMultiplexer mux, CancellationToken ct)
    {
        var until = DateTime.UtcNow.AddSeconds(Math.Min(TimeoutSec, 5));
        while (DateTime.UtcNow < until)
        {
            await Task.Delay(100, ct).ConfigureAwait(false);
            if (mux.IsConnected) return true;
        }
        return false;
    }

    /// <summary>Forgets the shared connection (after the server went away), so the next command connects anew.</summary>
    public void Reset()
    {
        if (Connections.TryRemove(Key, out var lazy) && lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            _ = lazy.Value.Result.CloseAsync(allowCommandsToComplete: false);
    }

    private ConfigurationOptions Options()
    {
        var ms = (int)Math.Clamp(TimeoutSec * 1000, 1000, int.MaxValue);
        var o = new ConfigurationOptions
        {
            AbortOnConnectFail = true,
            ConnectRetry = 1,
            ConnectTimeout = ms,
            SyncTimeout = ms,
            AsyncTimeout = ms,
            AllowAdmin = true, // INFO, FLUSHDB, CONFIG GET: this is an operations tool
            ClientName = "OpsTools",
            Ssl = Tls,
            User = User is { Length: > 0 } ? User : null,
            Password = _password,
            DefaultDatabase = Database,
            KeepAlive = 30,
            TieBreaker = "",           // no GET __Booksleeve_TieBreak on connect: it would count as a miss in the hit rate we report
            ConfigurationChannel = "", // no pub/sub subscription: a single server, nothing to follow
            IncludeDetailInExceptions = false,
        };
        o.EndPoints.Add(Host, Port);
        if (Tls)
        {
            o.SslHost = Host;
            o.CertificateValidation += ValidateServerCertificate;
            if (ClientCertificate is not null)
            {
                var client = LoadClientCertificate(ClientCertificate, ClientKey, Address);
                o.CertificateSelection += (_, _, _, _, _) => client;
            }
        }
        return o;
    }

    /// <summary>
    /// The client certificate with its private key (redis-cli --cert/--key, Npgsql's sslcert/sslkey), loaded once per
    /// connection. Failures name the files, never their content: a key that does not match, an encrypted key, no key.
    /// </summary>
    public static X509Certificate2 LoadClientCertificate(string certificateFile, string? keyFile, string address)
    {
        try
        {
            using var pem = X509Certificate2.CreateFromPemFile(certificateFile, keyFile ?? certificateFile);
            // Re-imported so the key is usable by SslStream on every platform (a PEM-loaded key is ephemeral).
            return new X509Certificate2(pem.Export(X509ContentType.Pkcs12), (string?)null, X509KeyStorageFlags.Exportable);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            var why = e switch
            {
                UnauthorizedAccessException => "cannot be read (permissions)",
                IOException => "cannot be read",
                _ when e.Message.Contains("encrypted", StringComparison.OrdinalIgnoreCase) => "the key is encrypted (give an unencrypted PEM key, as redis-cli --key needs)",
                _ when e.Message.Contains("match", StringComparison.OrdinalIgnoreCase) => "the key does not belong to the certificate",
                _ => "no certificate with a matching unencrypted private key (PEM: CERTIFICATE, PRIVATE KEY / RSA PRIVATE KEY / EC PRIVATE KEY) was found",
            };
            throw new OpsToolsException("RedisClientCertificateInvalid", OpsErrorKind.InvalidArgument,
                $"Redis at {address}: the client certificate '{certificateFile}'{(keyFile is null ? "" : $" with the key '{keyFile}'")}: {why}.", certificateFile);
        }
    }

    private bool ValidateServerCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (SkipCertificateCheck) return true;
        if (errors == SslPolicyErrors.None) return true;
        if (CaCertificate is null || certificate is null) return false;
        // redis-cli --cacert: the server's chain must end at this CA (and the name must match).
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
        var cas = new X509Certificate2Collection();
        cas.ImportFromPemFile(CaCertificate); // one CA or a bundle
        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(cas);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return custom.Build(new X509Certificate2(certificate));
    }
}

/// <summary>Resolves a <see cref="RedisTargetSpec"/> the way redis-cli does (-h, -p, -n, --user, -a/REDISCLI_AUTH, -u URI, --tls).</summary>
public static class RedisTargetResolver
{
    public static RedisTarget Resolve(RedisTargetSpec spec, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var s = spec.Settings;
        string? uriHost = null, uriUser = null, uriPassword = null; int? uriPort = null, uriDb = null; bool? uriTls = null;
        var uriText = spec.Uri ?? s?.Uri;
        if (uriText is not null)
        {
            if (!System.Uri.TryCreate(uriText.Trim(), UriKind.Absolute, out var uri) || (uri.Scheme != "redis" && uri.Scheme != "rediss"))
                throw new OpsToolsException("RedisUriInvalid", OpsErrorKind.InvalidArgument,
                    $"'{Redaction.RedactUri(System.Uri.TryCreate(uriText, UriKind.Absolute, out var u2) ? u2 : null)}' is not a redis:// or rediss:// URI (redis://[user[:password]@]host[:port][/db]).", null);
            uriTls = uri.Scheme == "rediss";
            uriHost = uri.Host.Trim('[', ']');
            if (uri.Port > 0) uriPort = uri.Port;
            var path = uri.AbsolutePath.Trim('/');
            if (path.Length > 0)
            {
                if (!int.TryParse(path, out var db) || db < 0)
                    throw new OpsToolsException("RedisUriInvalid", OpsErrorKind.InvalidArgument, $"the URI's database '/{path}' is not a number.", null);
                uriDb = db;
            }
            if (uri.UserInfo.Length > 0)
            {
                var parts = uri.UserInfo.Split(':', 2);
                if (parts.Length == 2) { uriUser = Unescape(parts[0]); uriPassword = Unescape(parts[1]); }
                else uriUser = Unescape(parts[0]); // redis-cli: redis://user@host; "redis://:pass@host" gives an empty user
            }
        }
        var host = spec.Host ?? NullIfEmpty(uriHost) ?? s?.Host ?? "127.0.0.1";
        var tls = spec.Tls ?? uriTls ?? s?.Tls ?? false;
        var port = spec.Port ?? uriPort ?? s?.Port ?? 6379;
        var database = spec.Database ?? uriDb ?? s?.Database ?? 0;
        var user = spec.User ?? NullIfEmpty(uriUser) ?? s?.User;
        string? password; string source;
        if (spec.Password is not null) { password = new NetworkCredential("", spec.Password).Password; source = spec.User is not null ? "-Credential" : "-Password"; }
        else if (!string.IsNullOrEmpty(uriPassword)) { password = uriPassword; source = "the URI"; }
        else if (s?.PasswordVariable is { Length: > 0 } pv)
        {
            password = environment(pv);
            if (string.IsNullOrEmpty(password))
                throw new OpsToolsException("RedisPasswordVariableNotSet", OpsErrorKind.InvalidArgument,
                    $"Redis: the environment variable '{pv}' named by PasswordVariable is not set or empty.", pv);
            source = "$env:" + pv;
        }
        else if (NullIfEmpty(environment("REDISCLI_AUTH")) is { } auth) { password = auth; source = "REDISCLI_AUTH"; }
        else { password = null; source = "none"; }
        var ca = spec.CaCertificate ?? s?.CaCertificate;
        if (ca is not null)
        {
            if (ca.StartsWith('~')) ca = Path.Combine(environment("HOME") ?? "", ca.TrimStart('~', '/'));
            if (!File.Exists(ca))
                throw new OpsToolsException("RedisCaCertificateNotFound", OpsErrorKind.NotFound, $"Redis: the CA certificate file '{ca}' does not exist.", ca);
            tls = true;
        }
        var clientCert = Expand(spec.ClientCertificate ?? s?.ClientCertificate, environment);
        var clientKey = Expand(spec.ClientKey ?? (spec.ClientCertificate is null ? s?.ClientKey : null), environment);
        if (clientKey is not null && clientCert is null)
            throw new OpsToolsException("RedisClientCertificateMissing", OpsErrorKind.InvalidArgument,
                "Redis: a client key was given without its certificate: give -ClientCertificate (redis-cli --cert) too.", null);
        foreach (var f in new[] { clientCert, clientKey })
            if (f is not null && !File.Exists(f))
                throw new OpsToolsException("RedisClientCertificateNotFound", OpsErrorKind.NotFound, $"Redis: the client certificate or key file '{f}' does not exist.", f);
        if (clientCert is not null)
        {
            tls = true;
            // Checked now, so a wrong key is one clear error before any connection (and names the files, never their content).
            using var _ = RedisTarget.LoadClientCertificate(clientCert, clientKey, $"{host}:{port}");
        }
        return new RedisTarget(host, port, database, user, password, tls, spec.SkipCertificateCheck || (s?.SkipCertificateCheck ?? false), ca, source, spec.TimeoutSec,
            clientCert, clientKey);
    }

    private static string? Expand(string? path, Func<string, string?> environment) =>
        path is not null && path.StartsWith('~') ? Path.Combine(environment("HOME") ?? "", path.TrimStart('~', '/')) : path;

    private static string Unescape(string s) => System.Uri.UnescapeDataString(s);
    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}

/// <summary>Turns StackExchange.Redis failures into <see cref="OpsToolsException"/>s that name the server and never a secret.</summary>
public static class RedisErrors
{
    public static OpsToolsException Connect(RedisTarget target, Exception e)
    {
        var inner = e is AggregateException { InnerException: { } i } ? i : e;
        var text = inner.ToString();
        if (inner is TimeoutException)
            return new OpsToolsException("RedisTimeout", OpsErrorKind.Timeout, $"Redis at {target.Address}: no connection within {target.TimeoutSec:0.#} s.", target.Address);
        var wrongPassword = text.Contains("WRONGPASS", StringComparison.Ordinal) || text.Contains("NOAUTH", StringComparison.Ordinal)
            || text.Contains("invalid password", StringComparison.OrdinalIgnoreCase);
        // StackExchange.Redis files a failed TLS handshake as an AuthenticationFailure too: tell the two apart.
        var tlsFailure = !wrongPassword && (text.Contains("certificate", StringComparison.OrdinalIgnoreCase)
            || text.Contains("AuthenticationException", StringComparison.Ordinal)
            || (target.Tls && inner is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure }));
        if (tlsFailure)
            return new OpsToolsException("RedisTlsFailed", OpsErrorKind.ConnectionError,
                $"Redis at {target.Address}: the TLS connection failed ({(target.Tls ? "is the port a TLS port, and does -CaCertificate name the CA that signed the server's certificate (for this host name)?" + (target.ClientCertificate is null ? " A server with tls-auth-clients yes also needs -ClientCertificate/-ClientKey." : " Does the server trust the CA of the client certificate?") : "the port may expect TLS: use -Tls or rediss://")}).", target.Address);
        if (wrongPassword || inner is RedisConnectionException { FailureType: ConnectionFailureType.AuthenticationFailure })
            return new OpsToolsException("RedisAuthenticationFailed", OpsErrorKind.PermissionDenied,
                $"Redis at {target.Address} refused the login of {(target.User is { Length: > 0 } u ? $"user '{u}'" : "the default user")} (password from {target.PasswordSource}): wrong user name or password, or the user is disabled.", target.Address);
        return new OpsToolsException("RedisUnreachable", OpsErrorKind.ConnectionError,
            $"Redis at {target.Address} is not reachable ({Scrub(target, FirstLine(inner.Message))}).", target.Address);
    }

    /// <summary>A failed command: the server went away, a timeout, or an error reply.</summary>
    public static OpsToolsException Command(RedisTarget target, string what, Exception e)
    {
        var inner = e is AggregateException { InnerException: { } i } ? i : e;
        return inner switch
        {
            RedisTimeoutException or TimeoutException => new OpsToolsException("RedisTimeout", OpsErrorKind.Timeout,
                $"Redis at {target.Address}: {what} got no answer within {target.TimeoutSec:0.#} s.", target.Address),
            RedisConnectionException => new OpsToolsException("RedisUnreachable", OpsErrorKind.ConnectionError,
                $"Redis at {target.Address}: the connection was lost during {what}.", target.Address),
            RedisServerException s when s.Message.StartsWith("NOPERM", StringComparison.Ordinal) => new OpsToolsException("RedisPermissionDenied", OpsErrorKind.PermissionDenied,
                $"Redis at {target.Address}: {what} was refused: {Scrub(target, FirstLine(s.Message))}", target.Address),
            _ => new OpsToolsException("RedisCommandFailed", OpsErrorKind.OperationFailed,
                $"Redis at {target.Address}: {what} failed: {Scrub(target, FirstLine(inner.Message))}", target.Address),
        };
    }

    public static bool IsRedisFailure(Exception e) => e is RedisException or TimeoutException or ObjectDisposedException
        || e is AggregateException { InnerException: RedisException or TimeoutException };

    private static string FirstLine(string s) => s.Split('\n')[0].Trim();
    // StackExchange.Redis's messages carry no configuration (IncludeDetailInExceptions is off); the one secret it could
    // know is ours, so the known password is masked (and the text kept short).
    private static string Scrub(RedisTarget t, string s) => Redaction.RedactText(s.Length > 240 ? s[..240] + "…" : s, t.Secrets);
}
