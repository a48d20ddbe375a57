using System.Collections;
using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Net;
using System.Security;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Health;
using OpsTools.Engine.Security;
using OpsTools.Health;

namespace OpsTools.Commands.Health;

/// <summary>
/// <para type="synopsis">Probes HTTP(S) health endpoints and returns one result per endpoint and per component its body reports.</para>
/// <para type="description">
/// The endpoints are probed concurrently (at most -ThrottleLimit at a time) once all input has been
/// collected. Results are written in the order the endpoints were given (a result waits only for the
/// endpoints before it): each endpoint's AppHealthResult is immediately followed by the
/// ComponentHealthResult objects of the components its body listed, in the order the body listed them.
/// </para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "AppHealth", DefaultParameterSetName = UriSet, HelpUri = HelpLinks.Base + "Get-AppHealth.md")]
[OutputType(typeof(AppHealthResult), typeof(ComponentHealthResult))]
public sealed class GetAppHealthCommand : OpsCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    private const string UriSet = "Uri";
    private const string EnvironmentSet = "Environment";

    /// <summary>The health endpoints to probe: absolute http:// or https:// URLs.</summary>
    [Parameter(ParameterSetName = UriSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Url")]
    [ValidateNotNullOrEmpty]
    public System.Uri[] Uri { get; set; } = Array.Empty<System.Uri>();

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment; its AppHealth endpoints and thresholds are used.</summary>
    [Parameter(ParameterSetName = EnvironmentSet, Mandatory = true)]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    [ValidateNotNull]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Only the environment's endpoints with these names (wildcards allowed).</summary>
    [Parameter(ParameterSetName = EnvironmentSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(AppHealthNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Seconds the whole exchange with one endpoint may take (connect, TLS, answer). Default 10.</summary>
    [Parameter]
    [ValidateRange(0.05, 3600.0)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>Status codes that count as an answer (default 200-299).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateRange(100, 599)]
    public int[]? ExpectedStatus { get; set; }

    /// <summary>Accept any server certificate, as curl -k does (self-signed certificates).</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Extra request headers, e.g. @{ 'X-Api-Key' = $key }. Values (strings or SecureStrings) are never shown.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Header { get; set; }

    /// <summary>A bearer token, sent as "Authorization: Bearer ...".</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? BearerToken { get; set; }

    /// <summary>The name of an environment variable that holds a bearer token.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BearerTokenVariable { get; set; }

    /// <summary>How many endpoints are probed at once. Default 32.</summary>
    [Parameter]
    [ValidateRange(1, AppHealthProber.MaxThrottleLimit)]
    public int ThrottleLimit { get; set; } = AppHealthProber.DefaultThrottleLimit;

    /// <summary>Latency in milliseconds above which an endpoint is a warning (overrides the environment's LatencyWarningMs; default 2000).</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double LatencyWarningMs { get; set; }

    /// <summary>Latency in milliseconds above which an endpoint is critical (overrides the environment's LatencyCriticalMs; default 5000).</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double LatencyCriticalMs { get; set; }

    /// <summary>Components to leave out, by path (wildcards allowed); they are neither written nor counted. Excluding a component excludes its nested components.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNull]
    public string[]? ExcludeComponents { get; set; }

    private sealed record Pending(System.Uri Uri, HealthEndpoint? Endpoint);

    private readonly List<Pending> _pending = new();
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);

    private bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        if (BearerToken is not null && BearerTokenVariable is not null)
            Fail(new ArgumentException("Use -BearerToken or -BearerTokenVariable, not both."),
                "BearerTokenConflict", ErrorCategory.InvalidArgument, null);
        return Task.CompletedTask;
    }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == EnvironmentSet)
        {
            SelectEnvironmentEndpoints();
            return Task.CompletedTask;
        }

        foreach (var uri in Uri)
        {
            if (uri is null) continue;
            if (Validate(uri) is string problem)
            {
                var shown = Redaction.RedactUri(uri);
                Error(new ErrorRecord(new ArgumentException(problem), "InvalidUri", ErrorCategory.InvalidArgument, shown));
                continue;
            }
            // The same URL twice in one call (e.g. results piped back in, components included) is probed once.
            if (_seen.Add(uri.AbsoluteUri)) _pending.Add(new Pending(uri, null));
        }
        return Task.CompletedTask;
    }

    /// <summary>Why a URI cannot be probed, or null when it can.</summary>
    private static string? Validate(System.Uri uri)
    {
        var shown = Redaction.RedactUri(uri);
        if (!uri.IsAbsoluteUri)
            return $"'{shown}' is not an absolute URL. Give the full address, e.g. http://{shown.TrimStart('/')}.";
        if (uri.Scheme != System.Uri.UriSchemeHttp && uri.Scheme != System.Uri.UriSchemeHttps)
        {
            // "localhost:8080/health" parses as scheme "localhost".
            var hint = uri.Scheme.Contains('.') || uri.Scheme == "localhost" || uri.OriginalString.IndexOf("://", StringComparison.Ordinal) < 0
                ? $" Did you mean http://{shown}?"
                : "";
            return $"'{shown}' is not an http:// or https:// URL (scheme '{uri.Scheme}').{hint}";
        }
        if (string.IsNullOrEmpty(uri.Host))
            return $"'{shown}' names no host.";
        return null;
    }

    private void SelectEnvironmentEndpoints()
    {
        var env = Environment!;
        var endpoints = env.AppHealth;
        if (Name is { Length: > 0 })
        {
            var selected = new List<HealthEndpoint>();
            foreach (var name in Name)
            {
                var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                var matches = endpoints.Where(e => pattern.IsMatch(e.Name)).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                {
                    Error(new ErrorRecord(
                        new ItemNotFoundException($"The environment '{env.Name}' has no AppHealth endpoint named '{name}'. Its endpoints: {string.Join(", ", endpoints.Select(e => e.Name))}."),
                        "EndpointNotFound", ErrorCategory.ObjectNotFound, name));
                }
                selected.AddRange(matches.Where(m => !selected.Contains(m)));
            }
            endpoints = selected;
        }
        else if (endpoints.Count == 0)
        {
            Warning($"The environment '{env.Name}' names no AppHealth endpoints; nothing to probe.");
        }
        foreach (var e in endpoints) _pending.Add(new Pending(e.Uri, e));
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0) return;

        var thresholds = (Environment?.Thresholds ?? new ThresholdSet()).Clone();
        if (Bound(nameof(LatencyWarningMs))) thresholds.LatencyWarningMs = LatencyWarningMs;
        if (Bound(nameof(LatencyCriticalMs))) thresholds.LatencyCriticalMs = LatencyCriticalMs;
        if (thresholds.LatencyWarningMs > thresholds.LatencyCriticalMs)
        {
            if (Bound(nameof(LatencyWarningMs)) && Bound(nameof(LatencyCriticalMs)))
                Fail(new ArgumentException($"-LatencyWarningMs ({LatencyWarningMs}) must not be above -LatencyCriticalMs ({LatencyCriticalMs})."),
                    "InvalidThresholds", ErrorCategory.InvalidArgument, null);
            // Only one was given: the other follows it.
            if (Bound(nameof(LatencyCriticalMs))) thresholds.LatencyWarningMs = thresholds.LatencyCriticalMs;
            else thresholds.LatencyCriticalMs = thresholds.LatencyWarningMs;
        }

        string? commandToken = null;
        string tokenSource = "";
        if (BearerToken is not null)
        {
            commandToken = new NetworkCredential("", BearerToken).Password;
            tokenSource = "bearer token from -BearerToken";
        }
        else if (BearerTokenVariable is not null)
        {
            commandToken = System.Environment.GetEnvironmentVariable(BearerTokenVariable);
            if (string.IsNullOrEmpty(commandToken))
                Fail(new ArgumentException($"The environment variable '{BearerTokenVariable}' named by -BearerTokenVariable is not set or empty."),
                    "BearerTokenVariableNotSet", ErrorCategory.InvalidArgument, BearerTokenVariable);
            tokenSource = $"bearer token from $env:{BearerTokenVariable}";
        }

        var commandHeaders = ReadHeaders(Header);
        var exclude = (ExcludeComponents ?? Array.Empty<string>())
            .Select(p => WildcardPattern.Get(p, WildcardOptions.IgnoreCase)).ToList();
        Func<string, bool>? include = exclude.Count == 0 ? null : path => !IsExcluded(path, exclude);

        var requests = new List<HealthProbeRequest>(_pending.Count);
        foreach (var (uri, endpoint) in _pending)
        {
            var token = commandToken;
            var source = tokenSource;
            if (token is null && endpoint?.BearerTokenVariable is { Length: > 0 } variable)
            {
                token = System.Environment.GetEnvironmentVariable(variable);
                source = $"bearer token from $env:{variable}";
                if (string.IsNullOrEmpty(token))
                {
                    Error(new ErrorRecord(
                        new ArgumentException($"Endpoint '{endpoint.Name}' ({Redaction.RedactUri(uri)}): the environment variable '{variable}' named by its BearerTokenVariable is not set or empty; the endpoint was not probed."),
                        "BearerTokenVariableNotSet", ErrorCategory.InvalidArgument, endpoint.Name));
                    continue;
                }
            }

            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (endpoint is not null)
                foreach (var (k, v) in endpoint.Headers) headers[k] = v;
            foreach (var (k, v) in commandHeaders) headers[k] = v;

            var timeout = Bound(nameof(TimeoutSec)) || endpoint?.TimeoutSec is not > 0 || endpoint.Problem is not null ? TimeoutSec : endpoint.TimeoutSec!.Value;
            var request = new HealthProbeRequest
            {
                Uri = uri,
                Name = endpoint?.Name,
                ExpectedStatus = Bound(nameof(ExpectedStatus)) ? ExpectedStatus! : endpoint?.ExpectedStatus ?? Array.Empty<int>(),
                Headers = headers,
                BearerToken = token,
                SkipCertificateCheck = SkipCertificateCheck.IsPresent || endpoint?.SkipCertificateCheck == true,
                Timeout = TimeSpan.FromSeconds(timeout),
                LatencyWarningMs = thresholds.LatencyWarningMs,
                LatencyCriticalMs = thresholds.LatencyCriticalMs,
                Environment = Environment?.Name,
                IncludeComponent = include,
                Problem = endpoint?.Problem,
            };
            requests.Add(request);

            var extras = new List<string>();
            if (headers.Count > 0) extras.Add("headers: " + string.Join(", ", headers.Keys));
            if (token is not null) extras.Add(source);
            if (uri.UserInfo.Length > 0) extras.Add("basic authentication from the URL");
            if (request.SkipCertificateCheck) extras.Add("any certificate accepted");
            Verbose($"GET {request.DisplayUri} (timeout {Format(timeout)} s{(extras.Count > 0 ? "; " + string.Join("; ", extras) : "")})");
        }
        if (requests.Count == 0) return;

        await ProbeAndWriteAsync(requests, cancellationToken).ConfigureAwait(false);
    }

    private async Task ProbeAndWriteAsync(List<HealthProbeRequest> requests, CancellationToken cancellationToken)
    {
        var total = requests.Count;
        var activity = total == 1 ? "Probing 1 endpoint" : $"Probing {total} endpoints";
        Verbose($"{activity}, at most {Math.Min(ThrottleLimit, total)} at a time.");
        var progress = new ProgressRecord(1, "Get-AppHealth", activity) { PercentComplete = 0 };
        Progress(progress);

        var prober = new AppHealthProber();
        var done = 0;
        var sinceProgress = Stopwatch.StartNew();
        // Probed concurrently, written in the order given: a result waits for those before it.
        var order = new Dictionary<HealthProbeRequest, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < requests.Count; i++) order[requests[i]] = i;
        var finished = new AppHealthResult?[requests.Count];
        var next = 0;
        await foreach (var (request, result) in prober.ProbeAllWithRequestAsync(requests, ThrottleLimit, cancellationToken).ConfigureAwait(false))
        {
            done++;
            finished[order[request]] = result;
            for (; next < finished.Length && finished[next] is { } ready; next++)
            {
                Output(ready);
                foreach (var component in ready.Components) Output(component);
                finished[next] = null;
            }
            Verbose($"{result.Target} -> {(result.StatusCode is int code ? "HTTP " + code.ToString(CultureInfo.InvariantCulture) : result.Failure.ToString())}" +
                    $"{(result.LatencyMs is double ms ? $" in {Format(ms)} ms" : "")}: {result.Status}" +
                    $"{(result.Components.Count > 0 ? $", {result.Components.Count} component(s)" : "")}");
            // Progress at most ten times a second: a fan-out over hundreds of endpoints must not flood the host.
            if (done == total || sinceProgress.ElapsedMilliseconds >= 100)
            {
                sinceProgress.Restart();
                Progress(new ProgressRecord(1, "Get-AppHealth", activity)
                {
                    CurrentOperation = $"{done} of {total} done, last: {result.Name}",
                    PercentComplete = (int)(done * 100L / total),
                });
            }
        }
        Progress(new ProgressRecord(1, "Get-AppHealth", activity) { RecordType = ProgressRecordType.Completed, PercentComplete = 100 });
    }

    private static bool IsExcluded(string path, List<WildcardPattern> patterns)
    {
        // A component is left out when a pattern matches it or any component it is nested in.
        for (var prefix = path; ; )
        {
            if (patterns.Any(p => p.IsMatch(prefix))) return true;
            var slash = prefix.LastIndexOf('/');
            if (slash < 0) return false;
            prefix = prefix[..slash];
        }
    }

    internal static Dictionary<string, string> ReadHeaders(IDictionary? table)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (table is null) return headers;
        foreach (DictionaryEntry entry in table)
        {
            var name = (entry.Key is PSObject pk ? pk.BaseObject : entry.Key)?.ToString();
            if (string.IsNullOrWhiteSpace(name)) continue;
            var value = entry.Value is PSObject pv ? pv.BaseObject : entry.Value;
            headers[name] = value switch
            {
                null => "",
                SecureString secure => new NetworkCredential("", secure).Password,
                PSCredential credential => credential.GetNetworkCredential().Password,
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => value.ToString() ?? "",
            };
        }
        return headers;
    }

    private static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
