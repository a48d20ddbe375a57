using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Net;
using System.Security;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Health;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Health;
using OpsTools.Engine.Security;

namespace OpsTools.Commands.Metrics;

/// <summary>
/// Base of the Metrics commands: the connection options Get-AppHealth has (-TimeoutSec, -SkipCertificateCheck,
/// -Header, -BearerToken, -BearerTokenVariable), read the same way (Get-AppHealth's header reader), and -Environment.
/// A command-line option overrides the environment entry's; the entry's overrides the default.
/// </summary>
public abstract class MetricsCmdlet : OpsCmdlet
{
    /// <summary>The environment the command was given (each command declares its own -Environment parameter, in its own parameter sets).</summary>
    protected abstract OpsEnvironment? Env { get; }

    /// <summary>Seconds one exchange may take (connect, TLS, the whole answer). Default 10.</summary>
    [Parameter]
    [ValidateRange(0.05, 3600.0)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>Accept any server certificate, as curl -k does (self-signed certificates).</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>Extra request headers, e.g. @{ 'X-Api-Key' = $key }. Values (strings or SecureStrings) are never shown.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Header { get; set; }

    /// <summary>A bearer token, sent as "Authorization: Bearer ..." (an OpenShift token: (oc whoami -t | ConvertTo-SecureString -AsPlainText)).</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? BearerToken { get; set; }

    /// <summary>The name of an environment variable that holds a bearer token.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? BearerTokenVariable { get; set; }

    protected bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

    protected string? EnvironmentName => Env?.Name;

    /// <summary>
    /// The connection for <paramref name="uri"/>, with the entry's settings under the command's. A token variable
    /// that is not set is a terminating error for the command's own option and an <see cref="OpsToolsException"/> for an entry's.
    /// </summary>
    protected HealthProbeRequest Connection(Uri uri, HttpTargetSettings? entry)
    {
        string? token = null;
        var source = "";
        if (BearerToken is not null && BearerTokenVariable is not null)
            Fail(new ArgumentException("Use -BearerToken or -BearerTokenVariable, not both."), "BearerTokenConflict", ErrorCategory.InvalidArgument, null);
        if (BearerToken is not null) { token = new NetworkCredential("", BearerToken).Password; source = "bearer token from -BearerToken"; }
        else if (BearerTokenVariable is not null)
        {
            token = System.Environment.GetEnvironmentVariable(BearerTokenVariable);
            if (string.IsNullOrEmpty(token))
                Fail(new ArgumentException($"The environment variable '{BearerTokenVariable}' named by -BearerTokenVariable is not set or empty."),
                    "BearerTokenVariableNotSet", ErrorCategory.InvalidArgument, BearerTokenVariable);
            source = $"bearer token from $env:{BearerTokenVariable}";
        }
        else if (entry?.BearerTokenVariable is { Length: > 0 } variable)
        {
            token = System.Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(token))
                throw new OpsToolsException("BearerTokenVariableNotSet", OpsErrorKind.InvalidArgument,
                    $"'{entry.Name}' ({Redaction.RedactUri(uri)}): the environment variable '{variable}' named by its BearerTokenVariable is not set or empty.", entry.Name);
            source = $"bearer token from $env:{variable}";
        }
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (entry is not null) foreach (var (k, v) in entry.Headers) headers[k] = v;
        foreach (var (k, v) in GetAppHealthCommand.ReadHeaders(Header)) headers[k] = v;
        var timeout = Bound(nameof(TimeoutSec)) || entry?.TimeoutSec is not > 0 ? TimeoutSec : entry.TimeoutSec!.Value;
        var request = new HealthProbeRequest
        {
            Uri = uri,
            Name = entry?.Name,
            Headers = headers,
            BearerToken = token,
            SkipCertificateCheck = SkipCertificateCheck.IsPresent || entry?.SkipCertificateCheck == true,
            Timeout = TimeSpan.FromSeconds(timeout),
            Environment = EnvironmentName,
        };
        var extras = new List<string>();
        if (headers.Count > 0) extras.Add("headers: " + string.Join(", ", headers.Keys));
        if (token is not null) extras.Add(source);
        if (uri.UserInfo.Length > 0) extras.Add("basic authentication from the URL");
        if (request.SkipCertificateCheck) extras.Add("any certificate accepted");
        Verbose($"{request.DisplayUri} (timeout {timeout.ToString("0.###", CultureInfo.InvariantCulture)} s{(extras.Count > 0 ? "; " + string.Join("; ", extras) : "")})");
        return request;
    }

    /// <summary>The entries of an environment list whose Name matches one of <paramref name="names"/> (wildcards); an exact name that matches nothing is an error.</summary>
    protected List<T> Select<T>(IReadOnlyList<T> entries, string[]? names, string section) where T : class
    {
        string NameOf(T e) => e switch { HttpTargetSettings h => h.Name, PromCheckSettings c => c.Name, _ => e.ToString() ?? "" };
        if (names is not { Length: > 0 }) return entries.ToList();
        var selected = new List<T>();
        foreach (var name in names)
        {
            var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
            var matches = entries.Where(e => pattern.IsMatch(NameOf(e))).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                Error(new ErrorRecord(new ItemNotFoundException(
                    $"The environment '{Env?.Name}' has no {section} entry named '{name}'. Its entries: {(entries.Count == 0 ? "none" : string.Join(", ", entries.Select(NameOf)))}."),
                    section + "EntryNotFound", ErrorCategory.ObjectNotFound, name));
            selected.AddRange(matches.Where(m => !selected.Contains(m)));
        }
        return selected;
    }

    /// <summary>Validates a URL given on the command line.</summary>
    protected static void RequireHttp(Uri uri, string parameter)
    {
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(uri.Host))
            throw new OpsToolsException("InvalidUri", OpsErrorKind.InvalidArgument,
                $"{parameter}: '{Redaction.RedactUri(uri)}' is not an absolute http:// or https:// URL.", Redaction.RedactUri(uri));
    }

    /// <summary>A non-terminating error for one target that failed, from any thread.</summary>
    protected void ErrorFor(Exception e, string fallbackId, object? target) =>
        Error(ToErrorRecord(e, fallbackId, ErrorCategory.NotSpecified, target));
}
