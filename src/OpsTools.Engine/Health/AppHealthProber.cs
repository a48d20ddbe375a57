using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Text;
using System.Threading.Channels;
using OpsTools.Engine.Configuration;
using OpsTools.Engine.Security;
using OpsTools.Health;

namespace OpsTools.Engine.Health;

/// <summary>
/// Probes HTTP(S) health endpoints, many at once, and turns every answer (or the lack of one) into an
/// <see cref="AppHealthResult"/> with one <see cref="ComponentHealthResult"/> per component the body lists.
/// <para>
/// An unhealthy, slow or unreachable endpoint is a result, never an exception. Only cancellation of
/// the caller's token (Ctrl+C) ends a probe with <see cref="OperationCanceledException"/>; a
/// per-request timeout is a <see cref="ProbeFailure.Timeout"/> result.
/// </para>
/// <para>
/// All probes share one pooled <see cref="HttpClient"/> per certificate policy (strict, or
/// "accept any" for <c>-SkipCertificateCheck</c>) for the life of the process, so connections are
/// reused across endpoints on one server and across calls.
/// </para>
/// </summary>
public sealed class AppHealthProber
{
    /// <summary>How many probes run at once unless told otherwise.</summary>
    public const int DefaultThrottleLimit = 32;

    /// <summary>The most probes that may run at once (also the connection limit per server).</summary>
    public const int MaxThrottleLimit = 1024;

    /// <summary>How much of a body is read: 1 MiB. Health bodies are small; a bigger one is cut there.</summary>
    public const int DefaultMaxBodyBytes = 1024 * 1024;

    private static readonly Lazy<HttpClient> StrictClient = new(() => CreateClient(skipCertificateCheck: false));
    private static readonly Lazy<HttpClient> LenientClient = new(() => CreateClient(skipCertificateCheck: true));

    private static readonly string UserAgent =
        $"OpsTools/{typeof(AppHealthProber).Assembly.GetName().Version?.ToString(3) ?? "0"} (Get-AppHealth)";

    private readonly int _maxBodyBytes;

    public AppHealthProber(int maxBodyBytes = DefaultMaxBodyBytes)
    {
        if (maxBodyBytes < 1) throw new ArgumentOutOfRangeException(nameof(maxBodyBytes));
        _maxBodyBytes = maxBodyBytes;
    }

    private static HttpClient CreateClient(bool skipCertificateCheck)
    {
        var handler = new SocketsHttpHandler
        {
            // The throttle bounds concurrency; the pool must not be the bottleneck of a fan-out.
            MaxConnectionsPerServer = MaxThrottleLimit,
            // Long enough to reuse connections across a run and the next one, short enough to follow DNS changes.
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            AutomaticDecompression = DecompressionMethods.All,
            UseCookies = false,
            // Redirects are followed here (SendFollowingRedirectsAsync), so that secret headers never reach another origin.
            AllowAutoRedirect = false,
            ResponseDrainTimeout = TimeSpan.FromSeconds(1),
        };
        if (skipCertificateCheck)
            handler.SslOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        var client = new HttpClient(handler, disposeHandler: true)
        {
            // Each request has its own timeout (a linked token), so the client's must never fire first.
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
        client.DefaultRequestHeaders.UserAgent.ParseAdd(UserAgent);
        client.DefaultRequestHeaders.Accept.ParseAdd("application/health+json");
        client.DefaultRequestHeaders.Accept.ParseAdd("application/json;q=0.9");
        client.DefaultRequestHeaders.Accept.ParseAdd("*/*;q=0.5");
        return client;
    }

    /// <summary>The shared client for a certificate policy (also used by the Metrics area's requests).</summary>
    internal static HttpClient ClientFor(bool skipCertificateCheck) =>
        skipCertificateCheck ? LenientClient.Value : StrictClient.Value;

    /// <summary>
    /// Probes every endpoint, at most <paramref name="throttleLimit"/> at a time, and yields each
    /// result as soon as it is complete (fastest first, not in input order). Stopping the enumeration
    /// early cancels the probes still running.
    /// </summary>
    public async IAsyncEnumerable<AppHealthResult> ProbeAllAsync(
        IEnumerable<HealthProbeRequest> requests,
        int throttleLimit = DefaultThrottleLimit,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var (_, result) in ProbeAllWithRequestAsync(requests, throttleLimit, cancellationToken).ConfigureAwait(false))
            yield return result;
    }

    /// <summary>As <see cref="ProbeAllAsync"/>, each result with the request it answers (completion order), so a caller can restore the order given.</summary>
    public async IAsyncEnumerable<(HealthProbeRequest Request, AppHealthResult Result)> ProbeAllWithRequestAsync(
        IEnumerable<HealthProbeRequest> requests,
        int throttleLimit = DefaultThrottleLimit,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requests);
        if (throttleLimit < 1 || throttleLimit > MaxThrottleLimit)
            throw new ArgumentOutOfRangeException(nameof(throttleLimit), throttleLimit, $"The throttle limit must be between 1 and {MaxThrottleLimit}.");

        var list = requests.ToList();
        if (list.Count == 0) yield break;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateUnbounded<(HealthProbeRequest, AppHealthResult)>(new UnboundedChannelOptions { SingleReader = true });
        using var gate = new SemaphoreSlim(throttleLimit, throttleLimit);

        async Task ProbeOne(HealthProbeRequest request)
        {
            await gate.WaitAsync(stop.Token).ConfigureAwait(false);
            try
            {
                var result = await ProbeAsync(request, stop.Token).ConfigureAwait(false);
                channel.Writer.TryWrite((request, result));
            }
            finally
            {
                gate.Release();
            }
        }

        var all = Task.WhenAll(list.Select(ProbeOne));
        var completion = all.ContinueWith(t =>
        {
            if (t.IsFaulted) channel.Writer.TryComplete(t.Exception!.GetBaseException());
            else if (t.IsCanceled) channel.Writer.TryComplete(new OperationCanceledException(cancellationToken));
            else channel.Writer.TryComplete();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

        try
        {
            await foreach (var result in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return result;
            cancellationToken.ThrowIfCancellationRequested();
        }
        finally
        {
            // Early stop (or Ctrl+C): cancel what is still running and wait for it, so nothing outlives the call.
            stop.Cancel();
            try { await completion.ConfigureAwait(false); } catch { /* observed through the channel */ }
            try { await all.ConfigureAwait(false); } catch { /* cancellation of the remaining probes */ }
        }
    }

    /// <summary>
    /// Probes one endpoint. Never throws for an unhealthy or unreachable endpoint; throws
    /// <see cref="OperationCanceledException"/> only when <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task<AppHealthResult> ProbeAsync(HealthProbeRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var uri = request.Uri;
        var started = Stopwatch.GetTimestamp();
        var result = new AppHealthResult
        {
            Check = "AppHealth",
            Area = "Health",
            Uri = Redaction.RedactedUri(uri),
            Target = request.DisplayUri,
            Name = string.IsNullOrWhiteSpace(request.Name) ? EnvironmentReader.DefaultName(uri) : request.Name!,
            Environment = request.Environment,
            Threshold = ThresholdText(request),
        };

        if (request.Problem is { } problem)
        {
            result.Status = CheckStatus.Unknown;
            result.Message = problem;
            return Finish(result, request, started);
        }

        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            result.Status = CheckStatus.Unknown;
            result.Message = $"'{request.DisplayUri}' is not an absolute http:// or https:// URL.";
            return Finish(result, request, started);
        }

        var reasons = new List<string>();
        var status = CheckStatus.Healthy;
        void Add(CheckStatus s, string reason, ProbeFailure failure = ProbeFailure.None)
        {
            status = HealthStatusWords.Worst(status, s);
            reasons.Add(reason);
            if (result.Failure == ProbeFailure.None && failure != ProbeFailure.None) result.Failure = failure;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(request.Timeout);
        byte[]? body = null;
        var truncated = false;
        string? reasonPhrase = null;
        try
        {
            using var response = await SendFollowingRedirectsAsync(request, timeout.Token).ConfigureAwait(false);
            result.StatusCode = (int)response.StatusCode;
            reasonPhrase = string.IsNullOrWhiteSpace(response.ReasonPhrase) ? DefaultReasonPhrase(response.StatusCode) : response.ReasonPhrase;
            result.ContentType = response.Content.Headers.ContentType?.ToString();
            (body, truncated) = await ReadBodyAsync(response.Content, timeout.Token).ConfigureAwait(false);
            result.LatencyMs = Math.Round(Stopwatch.GetElapsedTime(started).TotalMilliseconds, 1);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: whatever the cancelled exchange threw (OperationCanceledException, or an IOException
            // from the aborted connection), it is the caller's cancellation, not a result.
            throw new OperationCanceledException("The health probe was cancelled.", cancellationToken);
        }
        catch (Exception e) when (e is OperationCanceledException || (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested))
        {
            var partial = result.StatusCode is int code ? $" (HTTP {code} arrived, the body did not complete)" : "";
            Add(CheckStatus.Critical, $"No answer within {Seconds(request.Timeout)}{partial}", ProbeFailure.Timeout);
            result.Status = status;
            result.Message = string.Join("; ", reasons);
            return Finish(result, request, started);
        }
        catch (Exception e)
        {
            var (failure, reason) = Describe(e, uri);
            Add(CheckStatus.Critical, reason, failure);
            result.Status = status;
            result.Message = string.Join("; ", reasons);
            return Finish(result, request, started);
        }

        // An answer came back. The status code first ...
        var statusCode = result.StatusCode!.Value;
        if (!IsExpected(statusCode, request.ExpectedStatus))
            Add(CheckStatus.Critical, $"HTTP {statusCode} {reasonPhrase} (expected {FormatExpected(request.ExpectedStatus)})", ProbeFailure.UnexpectedStatus);

        // ... then what the body says (parsed even for a 503: Spring Boot and ASP.NET Core list the failing components there) ...
        var parsed = HealthBodyParser.Parse(body, result.ContentType, truncated);
        result.ReportedStatus = parsed.ReportedStatus;
        if (parsed.Kind == HealthBodyKind.Text || parsed.Error is not null) result.BodyExcerpt = parsed.Excerpt;
        if (parsed.Error is not null)
            Add(CheckStatus.Warning, parsed.Error, ProbeFailure.MalformedBody);
        else if (parsed.Truncated)
            reasons.Add($"the body was larger than {_maxBodyBytes / 1024} KiB and was read only that far");

        if (parsed.ReportedStatus is not null && parsed.Status is CheckStatus reportedStatus && reportedStatus != CheckStatus.Healthy)
        {
            if (reportedStatus == CheckStatus.Unknown)
                Add(CheckStatus.Unknown, $"reported status '{parsed.ReportedStatus}', which OpsTools does not know");
            else
                Add(reportedStatus, $"reported {parsed.ReportedStatus}", ProbeFailure.ReportedUnhealthy);
        }

        // Degraded, not down: when the service answers as expected and does not call itself down, a
        // component it lists as down makes the service degraded (Warning), not Critical: it chose to keep
        // serving. The component row says what the service reported; its Status counts it as degraded too,
        // so a checklist run with -FailOn Critical does not fail on a service that is up.
        var serviceUp = IsExpected(statusCode, request.ExpectedStatus) && parsed.Status is not CheckStatus.Critical;
        var components = new List<ComponentHealthResult>();
        foreach (var c in parsed.Components)
        {
            if (request.IncludeComponent is not null && !request.IncludeComponent(c.Path)) continue;
            var component = ToComponentResult(c, result, request);
            if (serviceUp && component.Status == CheckStatus.Critical)
            {
                component.Status = CheckStatus.Warning;
                component.Message += $" (the service still answers HTTP {statusCode}: degraded)";
            }
            components.Add(component);
        }
        var bad = components.Where(c => c.Status != CheckStatus.Healthy).ToList();
        if (bad.Count > 0)
        {
            var worst = bad.Max(c => c.Status);
            var list = string.Join(", ", bad.Take(5).Select(c => $"{c.Component} ({c.ReportedStatus ?? c.Status.ToString()})"));
            if (bad.Count > 5) list += $" and {bad.Count - 5} more";
            Add(worst, $"{bad.Count} of {components.Count} component{(components.Count == 1 ? "" : "s")} not healthy: {list}",
                worst >= CheckStatus.Warning ? ProbeFailure.ReportedUnhealthy : ProbeFailure.None);
        }
        result.Components = components;

        // ... and how long it took.
        var latency = result.LatencyMs!.Value;
        if (latency > request.LatencyCriticalMs)
            Add(CheckStatus.Critical, $"latency {Ms(latency)} ms above the critical threshold of {Ms(request.LatencyCriticalMs)} ms");
        else if (latency > request.LatencyWarningMs)
            Add(CheckStatus.Warning, $"latency {Ms(latency)} ms above the warning threshold of {Ms(request.LatencyWarningMs)} ms");

        result.Status = status;
        result.Value = result.LatencyMs;
        var summary = new StringBuilder($"HTTP {statusCode} {reasonPhrase} in {Ms(latency)} ms");
        if (status == CheckStatus.Healthy)
        {
            if (parsed.ReportedStatus is not null) summary.Append($", reported {parsed.ReportedStatus}");
            if (components.Count > 0) summary.Append($", {components.Count} component{(components.Count == 1 ? "" : "s")} healthy");
            if (reasons.Count > 0) summary.Append("; ").Append(string.Join("; ", reasons));
            result.Message = summary.ToString();
        }
        else
        {
            result.Message = string.Join("; ", reasons);
            if (result.Failure != ProbeFailure.UnexpectedStatus) result.Message += $" (HTTP {statusCode} in {Ms(latency)} ms)";
        }
        return Finish(result, request, started);
    }

    /// <summary>How many redirects a probe follows (what the handler did before: 3).</summary>
    public const int MaxRedirects = 3;

    /// <summary>
    /// Sends the GET and follows up to <see cref="MaxRedirects"/> redirects (301, 302, 303, 307, 308) itself. To the same origin
    /// (scheme, host and port) the request goes as asked. To another origin it goes WITHOUT the -Header values, the bearer
    /// token and the URL's user information: a secret meant for one service never reaches another. An https -> http redirect
    /// is not followed (its 3xx is the answer), as the handler did.
    /// </summary>
    private static async Task<HttpResponseMessage> SendFollowingRedirectsAsync(HealthProbeRequest request, CancellationToken cancellationToken)
    {
        var client = ClientFor(request.SkipCertificateCheck);
        var origin = request.Uri;
        var message = BuildRequest(request, withSecrets: true);
        HttpResponseMessage? response = null;
        try
        {
            for (var hop = 0; ; hop++)
            {
                response = await client.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (hop >= MaxRedirects || !IsRedirect(response.StatusCode) || response.Headers.Location is not { } location) return response;
                var current = message.RequestUri!;
                Uri next;
                try { next = location.IsAbsoluteUri ? location : new Uri(current, location); }
                catch (UriFormatException) { return response; }
                if (next.Scheme != Uri.UriSchemeHttp && next.Scheme != Uri.UriSchemeHttps) return response;
                if (current.Scheme == Uri.UriSchemeHttps && next.Scheme == Uri.UriSchemeHttp) return response;
                response.Dispose();
                response = null;
                message.Dispose();
                message = BuildRequest(request, redirectedTo: next, withSecrets: SameOrigin(origin, next));
            }
        }
        catch
        {
            response?.Dispose();
            throw;
        }
        finally
        {
            message.Dispose();
        }
    }

    private static bool IsRedirect(HttpStatusCode code) => (int)code is 301 or 302 or 303 or 307 or 308;

    /// <summary>Same scheme, host and port (RFC 6454).</summary>
    internal static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase) && a.Port == b.Port;

    /// <summary>
    /// A request with the endpoint's headers and credentials (also used by the Metrics area's requests); for a redirect to
    /// another origin (<paramref name="withSecrets"/> false) without any of them.
    /// </summary>
    internal static HttpRequestMessage BuildRequest(HealthProbeRequest request, HttpMethod? method = null, Uri? redirectedTo = null, bool withSecrets = true)
    {
        // The URL sent never has a user part: curl sends user:password@ as Basic authentication, HttpClient would not.
        var uri = WithoutUserInfo(redirectedTo ?? request.Uri);
        if (!withSecrets)
            return new HttpRequestMessage(method ?? HttpMethod.Get, uri) { Version = HttpVersion.Version11 };
        string? basic = null;
        if (request.Uri.UserInfo.Length > 0)
        {
            var info = request.Uri.UserInfo;
            var colon = info.IndexOf(':');
            var user = Uri.UnescapeDataString(colon >= 0 ? info[..colon] : info);
            var password = colon >= 0 ? Uri.UnescapeDataString(info[(colon + 1)..]) : "";
            basic = Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password));
        }

        var message = new HttpRequestMessage(method ?? HttpMethod.Get, uri) { Version = HttpVersion.Version11 };
        foreach (var (name, value) in request.Headers)
        {
            if (string.IsNullOrWhiteSpace(name)) continue;
            message.Headers.Remove(name);
            message.Headers.TryAddWithoutValidation(name, value);
        }
        if (!string.IsNullOrEmpty(request.BearerToken))
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", request.BearerToken);
        else if (basic is not null && message.Headers.Authorization is null)
            message.Headers.Authorization = new AuthenticationHeaderValue("Basic", basic);
        return message;
    }

    private static Uri WithoutUserInfo(Uri uri) => uri.UserInfo.Length == 0 ? uri : new UriBuilder(uri) { UserName = "", Password = "" }.Uri;

    private async Task<(byte[] Body, bool Truncated)> ReadBodyAsync(HttpContent content, CancellationToken cancellationToken)
    {
        await using var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var declared = content.Headers.ContentLength;
        var buffer = new byte[(int)Math.Min(declared is > 0 ? declared.Value + 1 : 16 * 1024, _maxBodyBytes + 1L)];
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                if (buffer.Length > _maxBodyBytes) break;
                Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, _maxBodyBytes + 1L));
            }
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0) break;
            length += read;
        }
        var truncated = length > _maxBodyBytes;
        if (truncated) length = _maxBodyBytes;
        return (length == buffer.Length ? buffer : buffer[..length], truncated);
    }

    private static ComponentHealthResult ToComponentResult(HealthComponent c, AppHealthResult endpoint, HealthProbeRequest request)
    {
        string message;
        if (c.ReportedStatus is null && c.Status == CheckStatus.Unknown)
            message = $"{c.Path}: no status reported";
        else if (c.Status == CheckStatus.Healthy)
            message = $"{c.Path} reports {c.ReportedStatus ?? "healthy"}";
        else
            message = $"{c.Path} reports {c.ReportedStatus ?? c.Status.ToString()}";
        if (c.Description is not null && c.Status != CheckStatus.Healthy) message += ": " + c.Description;

        return new ComponentHealthResult
        {
            Check = "AppHealth.Component",
            Area = "Health",
            Uri = endpoint.Uri,
            Endpoint = endpoint.Name,
            Name = endpoint.Name,
            Target = endpoint.Target + "#" + c.Path,
            Component = c.Path,
            ReportedStatus = c.ReportedStatus,
            Status = c.Status,
            Value = c.ReportedStatus,
            Message = Redaction.RedactText(Redaction.ScrubText(message), request.Secrets()),
            Details = c.Details.ToDictionary(kv => kv.Key, kv => Redaction.RedactText(kv.Value, request.Secrets()), StringComparer.OrdinalIgnoreCase),
            Environment = request.Environment,
        };
    }

    private static AppHealthResult Finish(AppHealthResult result, HealthProbeRequest request, long started)
    {
        result.Duration = Stopwatch.GetElapsedTime(started);
        result.Timestamp = DateTime.UtcNow;
        result.Value = result.LatencyMs;
        // Belt and braces: no secret the request carries may appear in anything shown.
        var secrets = request.Secrets().ToList();
        if (secrets.Count > 0)
        {
            result.Message = Redaction.RedactText(result.Message, secrets);
            result.BodyExcerpt = result.BodyExcerpt is null ? null : Redaction.RedactText(result.BodyExcerpt, secrets);
            result.ReportedStatus = result.ReportedStatus is null ? null : Redaction.RedactText(result.ReportedStatus, secrets);
        }
        foreach (var c in result.Components)
        {
            c.Duration = result.Duration;
            c.Timestamp = result.Timestamp;
        }
        return result;
    }

    /// <summary>Names the cause of a failed exchange the way a person would look for it.</summary>
    internal static (ProbeFailure Failure, string Reason) Describe(Exception e, Uri uri)
    {
        var at = $"{uri.Host}:{uri.Port}";
        var socket = Find<SocketException>(e);
        var auth = Find<AuthenticationException>(e);
        var error = (e as HttpRequestException)?.HttpRequestError ?? HttpRequestError.Unknown;

        if (error == HttpRequestError.NameResolutionError
            || socket?.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain)
            return (ProbeFailure.NameResolution, $"Host name '{uri.Host}' could not be resolved");
        if (socket?.SocketErrorCode == SocketError.ConnectionRefused)
            return (ProbeFailure.ConnectionRefused, $"Connection refused at {at}");
        if (auth is not null || error == HttpRequestError.SecureConnectionError)
            return (ProbeFailure.Tls, $"TLS handshake failed: {DescribeTls(auth?.Message ?? e.Message)}");
        if (socket is not null)
            return (ProbeFailure.Connection, $"Connection to {at} failed: {Redaction.ScrubText(socket.Message)}");
        var detail = Redaction.ScrubText(Innermost(e).Message);
        return error switch
        {
            HttpRequestError.ResponseEnded => (ProbeFailure.Connection, $"The server at {at} closed the connection before a complete answer"),
            HttpRequestError.InvalidResponse => (ProbeFailure.Connection, $"The server at {at} sent an answer that is not valid HTTP: {detail}"),
            HttpRequestError.ProxyTunnelError => (ProbeFailure.Connection, $"The proxy refused the tunnel to {at}: {detail}"),
            HttpRequestError.ConnectionError => (ProbeFailure.Connection, $"Connection to {at} failed: {detail}"),
            _ => (ProbeFailure.Connection, $"Request to {at} failed: {detail}"),
        };
    }

    private static string DescribeTls(string message)
    {
        const string hint = " (use -SkipCertificateCheck for self-signed certificates, like curl -k)";
        if (message.Contains("UntrustedRoot", StringComparison.OrdinalIgnoreCase) || message.Contains("PartialChain", StringComparison.OrdinalIgnoreCase))
            return "the certificate is not trusted" + hint;
        if (message.Contains("NotTimeValid", StringComparison.OrdinalIgnoreCase) || message.Contains("expired", StringComparison.OrdinalIgnoreCase))
            return "the certificate has expired or is not yet valid" + hint;
        if (message.Contains("NameMismatch", StringComparison.OrdinalIgnoreCase))
            return "the certificate does not match the host name" + hint;
        if (message.Contains("NotAvailable", StringComparison.OrdinalIgnoreCase))
            return "the server sent no certificate";
        if (message.Contains("Revoked", StringComparison.OrdinalIgnoreCase))
            return "the certificate has been revoked";
        if (message.Contains("ChainErrors", StringComparison.OrdinalIgnoreCase) || message.Contains("certificate", StringComparison.OrdinalIgnoreCase))
            return "the certificate is not valid: " + Redaction.ScrubText(message) + hint;
        return Redaction.ScrubText(message);
    }

    private static T? Find<T>(Exception? e) where T : Exception
    {
        for (; e is not null; e = e.InnerException)
            if (e is T t) return t;
        return null;
    }

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }

    private static bool IsExpected(int code, IReadOnlyList<int> expected) =>
        expected.Count == 0 ? code is >= 200 and <= 299 : expected.Contains(code);

    /// <summary>"200-299", or the codes with runs collapsed: "200-204, 301".</summary>
    public static string FormatExpected(IReadOnlyList<int> expected)
    {
        if (expected.Count == 0) return "200-299";
        var codes = expected.Distinct().OrderBy(c => c).ToList();
        var parts = new List<string>();
        for (var i = 0; i < codes.Count;)
        {
            var j = i;
            while (j + 1 < codes.Count && codes[j + 1] == codes[j] + 1) j++;
            parts.Add(j == i ? codes[i].ToString(CultureInfo.InvariantCulture)
                : j == i + 1 ? $"{codes[i]}, {codes[j]}" : $"{codes[i]}-{codes[j]}");
            i = j + 1;
        }
        return string.Join(", ", parts);
    }

    /// <summary>The threshold text results carry, e.g. "expect 200-299; warn > 2000 ms; critical > 5000 ms".</summary>
    public static string ThresholdText(HealthProbeRequest request) =>
        $"expect {FormatExpected(request.ExpectedStatus)}; warn > {Ms(request.LatencyWarningMs)} ms; critical > {Ms(request.LatencyCriticalMs)} ms";

    private static string DefaultReasonPhrase(HttpStatusCode code)
    {
        var name = code.ToString();
        if (int.TryParse(name, out _)) return "";
        var sb = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && sb.Length > 0) sb.Append(' ');
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static string Ms(double ms) => ms.ToString(ms >= 100 ? "0" : "0.#", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
}
