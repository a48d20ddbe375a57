using OpsTools.Engine.Security;

namespace OpsTools.Engine.Health;

/// <summary>One endpoint to probe, with everything the probe needs. Secrets held here are never shown.</summary>
public sealed class HealthProbeRequest
{
    /// <summary>The absolute http:// or https:// URL. User information (user:password@) is sent as Basic authentication, as curl does, and is never shown.</summary>
    public required Uri Uri { get; init; }

    /// <summary>A short name for results; defaults to host[:port]/path.</summary>
    public string? Name { get; init; }

    /// <summary>Status codes that count as an answer; empty means 200-299.</summary>
    public IReadOnlyList<int> ExpectedStatus { get; init; } = Array.Empty<int>();

    /// <summary>Extra request headers. Values are never shown.</summary>
    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>A bearer token sent as <c>Authorization: Bearer ...</c>. Never shown.</summary>
    public string? BearerToken { get; init; }

    /// <summary>Accept any server certificate (curl -k).</summary>
    public bool SkipCertificateCheck { get; init; }

    /// <summary>How long the whole exchange (connect, TLS, headers and body) may take.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Latency above which the endpoint is a warning.</summary>
    public double LatencyWarningMs { get; init; } = 2000;

    /// <summary>Latency above which the endpoint is critical.</summary>
    public double LatencyCriticalMs { get; init; } = 5000;

    /// <summary>The environment the endpoint belongs to, copied to the results.</summary>
    public string? Environment { get; init; }

    /// <summary>Which components (by path) to keep; null keeps all. Left-out components do not count toward the status.</summary>
    public Func<string, bool>? IncludeComponent { get; init; }

    /// <summary>Why the endpoint is not probed (a bad value in the environment file); the result is Unknown with this message.</summary>
    public string? Problem { get; init; }

    /// <summary>The URL as it may be shown.</summary>
    public string DisplayUri => Redaction.RedactUri(Uri);

    /// <summary>Every secret value this request carries, so that no text shown can contain one.</summary>
    public IEnumerable<string> Secrets()
    {
        if (!string.IsNullOrEmpty(BearerToken)) yield return BearerToken;
        foreach (var value in Headers.Values)
            if (!string.IsNullOrEmpty(value)) yield return value;
        if (Uri.IsAbsoluteUri && Uri.UserInfo.Length > 0)
        {
            var info = Uri.UserInfo;
            var colon = info.IndexOf(':');
            var secret = colon >= 0 ? info[(colon + 1)..] : info;
            if (secret.Length > 0)
            {
                yield return secret;
                yield return Uri.UnescapeDataString(secret);
            }
        }
    }

    public override string ToString() => DisplayUri;
}
