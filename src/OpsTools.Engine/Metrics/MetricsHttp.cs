using System.Net;
using System.Net.Http.Headers;
using OpsTools.Engine.Health;
using OpsTools.Engine.Security;

namespace OpsTools.Engine.Metrics;

/// <summary>
/// One HTTP exchange of the Metrics area (a /metrics scrape, a Prometheus or Alertmanager API call, an app's JSON
/// figure or action), with the connection rules of Get-AppHealth: the same pooled clients and certificate policy,
/// the same headers and credentials (<see cref="HealthProbeRequest"/>), the same names for failures. A timeout is
/// an <see cref="OpsToolsException"/> of kind Timeout, a failed connection one of kind ConnectionError; only the
/// caller's cancellation (Ctrl+C) is an <see cref="OperationCanceledException"/>. Secrets never reach a message.
/// </summary>
public sealed class MetricsExchange : IDisposable
{
    private readonly CancellationTokenSource _timeout;
    private readonly CancellationToken _caller;

    private MetricsExchange(HealthProbeRequest target, HttpResponseMessage response, CancellationTokenSource timeout, CancellationToken caller)
    {
        Target = target;
        Response = response;
        _timeout = timeout;
        _caller = caller;
    }

    public HealthProbeRequest Target { get; }
    public HttpResponseMessage Response { get; }
    /// <summary>Cancelled at the timeout or by the caller: use it for reading the body.</summary>
    public CancellationToken Token => _timeout.Token;
    /// <summary>When the answer's headers arrived (UTC).</summary>
    public DateTime ArrivedUtc { get; } = DateTime.UtcNow;
    public int StatusCode => (int)Response.StatusCode;
    public string? ContentType => Response.Content.Headers.ContentType?.ToString();

    /// <summary>Sends a request and waits for the answer's headers. Throws <see cref="OpsToolsException"/> when no answer came.</summary>
    public static async Task<MetricsExchange> SendAsync(HealthProbeRequest target, HttpMethod method, string? accept,
        HttpContent? content, CancellationToken cancellationToken, Uri? uri = null)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(target.Timeout);
        var request = uri is null ? target : new HealthProbeRequest
        {
            Uri = uri, Headers = target.Headers, BearerToken = target.BearerToken, SkipCertificateCheck = target.SkipCertificateCheck,
            Timeout = target.Timeout, Name = target.Name, Environment = target.Environment,
        };
        try
        {
            using var message = AppHealthProber.BuildRequest(request, method);
            if (accept is not null)
            {
                message.Headers.Accept.Clear();
                message.Headers.TryAddWithoutValidation("Accept", accept);
            }
            message.Content = content;
            var response = await AppHealthProber.ClientFor(target.SkipCertificateCheck)
                .SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            return new MetricsExchange(request, response, timeout, cancellationToken);
        }
        catch (Exception e)
        {
            timeout.Dispose();
            throw Translate(e, request, cancellationToken, timeout.IsCancellationRequested);
        }
    }

    /// <summary>Turns what an exchange threw into the error a person reads (or the caller's cancellation).</summary>
    public Exception Translate(Exception e) => Translate(e, Target, _caller, _timeout.IsCancellationRequested);

    internal static Exception Translate(Exception e, HealthProbeRequest target, CancellationToken caller, bool timedOut)
    {
        if (e is OpsToolsException) return e;
        if (caller.IsCancellationRequested) return new OperationCanceledException("Cancelled.", e, caller);
        var shown = target.DisplayUri;
        if (e is OperationCanceledException || timedOut)
            return new OpsToolsException("MetricsTimeout", OpsErrorKind.Timeout,
                $"No complete answer from {shown} within {target.Timeout.TotalSeconds:0.###} s.", shown);
        if (e is HttpRequestException or IOException)
        {
            var (_, reason) = AppHealthProber.Describe(e, target.Uri);
            return new OpsToolsException("MetricsConnectionFailed", OpsErrorKind.ConnectionError,
                Redaction.RedactText($"{reason} ({shown}).", target.Secrets()), shown);
        }
        return e;
    }

    /// <summary>Reads the whole body as text (at most <paramref name="maxBytes"/>), under the exchange's timeout.</summary>
    public async Task<(string Text, bool Truncated)> ReadTextAsync(int maxBytes = 16 * 1024 * 1024)
    {
        try
        {
            await using var stream = await Response.Content.ReadAsStreamAsync(Token).ConfigureAwait(false);
            using var ms = new MemoryStream();
            var buffer = new byte[81920];
            var truncated = false;
            while (true)
            {
                var n = await stream.ReadAsync(buffer, Token).ConfigureAwait(false);
                if (n == 0) break;
                var take = (int)Math.Min(n, maxBytes - ms.Length);
                ms.Write(buffer, 0, take);
                if (take < n) { truncated = true; break; }
            }
            var charset = Response.Content.Headers.ContentType?.CharSet;
            System.Text.Encoding encoding;
            try { encoding = charset is null ? System.Text.Encoding.UTF8 : System.Text.Encoding.GetEncoding(charset.Trim('"')); }
            catch (ArgumentException) { encoding = System.Text.Encoding.UTF8; }
            return (encoding.GetString(ms.GetBuffer(), 0, (int)ms.Length), truncated);
        }
        catch (Exception e) { throw Translate(e); }
    }

    /// <summary>A short reason phrase for a status code ("503 Service Unavailable").</summary>
    public string StatusText => $"{StatusCode} {Response.ReasonPhrase}".TrimEnd();

    public void Dispose()
    {
        Response.Dispose();
        _timeout.Dispose();
    }
}

/// <summary>Reads /metrics endpoints: content negotiation (OpenMetrics first, as Prometheus asks), gzip, the stream parsed as it arrives.</summary>
public static class MetricsScraper
{
    /// <summary>What Prometheus 2.x sends as Accept when it scrapes.</summary>
    public const string Accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    /// <summary>The format a Content-Type names (anything but OpenMetrics is read as the text format, as Prometheus does).</summary>
    public static ExpositionFormat FormatOf(string? contentType) =>
        contentType is not null && contentType.StartsWith("application/openmetrics-text", StringComparison.OrdinalIgnoreCase)
            ? ExpositionFormat.OpenMetrics : ExpositionFormat.Text;

    /// <summary>
    /// Reads one endpoint and hands every sample that <paramref name="keep"/> accepts (by name, before its labels are
    /// turned into objects) to <paramref name="onSample"/>, as it is parsed. Returns the snapshot's header (target,
    /// time, format; Samples filled only when <paramref name="collect"/>).
    /// </summary>
    public static async Task<MetricSnapshotHeader> ScrapeAsync(HealthProbeRequest target, Func<string, bool>? keep,
        Action<OpsTools.Metrics.MetricSample>? onSample, CancellationToken cancellationToken)
    {
        using var exchange = await MetricsExchange.SendAsync(target, HttpMethod.Get, Accept, null, cancellationToken).ConfigureAwait(false);
        if (exchange.StatusCode is < 200 or > 299)
        {
            var (text, _) = await exchange.ReadTextAsync(2048).ConfigureAwait(false);
            throw new OpsToolsException("MetricsEndpointError", OpsErrorKind.OperationFailed,
                $"{target.DisplayUri} answered HTTP {exchange.StatusText}{(string.IsNullOrWhiteSpace(text) ? "" : ": " + Redaction.RedactText(Redaction.ScrubText(text.Length > 200 ? text[..200] + "..." : text), target.Secrets()).Trim())}",
                target.DisplayUri);
        }
        var format = FormatOf(exchange.ContentType);
        var shown = target.DisplayUri;
        var header = new MetricSnapshotHeader(shown, exchange.ArrivedUtc,
            format == ExpositionFormat.OpenMetrics ? "application/openmetrics-text; version=1.0.0" : "text/plain; version=0.0.4");
        try
        {
            await using var stream = await exchange.Response.Content.ReadAsStreamAsync(exchange.Token).ConfigureAwait(false);
            using var reader = new ExpositionReader(stream, format, leaveOpen: true);
            while (await reader.ReadAsync(exchange.Token).ConfigureAwait(false))
            {
                if (keep is not null && !keep(reader.Name)) continue;
                header.Count++;
                onSample?.Invoke(reader.ToSample(shown));
            }
            header.Lines = reader.LineNumber;
        }
        catch (ExpositionFormatException e)
        {
            throw new ExpositionFormatException($"{shown}: {e.Message}", e.Line);
        }
        catch (Exception e) { throw exchange.Translate(e); }
        return header;
    }

    /// <summary>Reads one endpoint into a snapshot holding the samples <paramref name="keep"/> accepts.</summary>
    public static async Task<OpsTools.Metrics.MetricSnapshot> SnapshotAsync(HealthProbeRequest target, Func<string, bool>? keep, CancellationToken cancellationToken)
    {
        var samples = new List<OpsTools.Metrics.MetricSample>();
        var header = await ScrapeAsync(target, keep, samples.Add, cancellationToken).ConfigureAwait(false);
        return new OpsTools.Metrics.MetricSnapshot
        {
            Target = header.Target, Name = target.Name, Timestamp = header.Timestamp, Format = header.Format, Samples = samples,
        };
    }
}

/// <summary>What a scrape was: where, when, in which format, how many samples were kept.</summary>
public sealed class MetricSnapshotHeader
{
    public MetricSnapshotHeader(string target, DateTime timestamp, string format) => (Target, Timestamp, Format) = (target, timestamp, format);
    public string Target { get; }
    public DateTime Timestamp { get; }
    public string Format { get; }
    public int Count { get; set; }
    public long Lines { get; set; }
}
