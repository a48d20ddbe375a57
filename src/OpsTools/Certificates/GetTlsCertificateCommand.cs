using System.Management.Automation;
using System.Net;
using System.Security;
using OpsTools.Certificates;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Certificates;

namespace OpsTools.Commands.Certificates;

/// <summary>
/// <para type="synopsis">Reads TLS certificates from endpoints (the chain as served, STARTTLS for PostgreSQL and SMTP) and from files and folders (PEM bundles, DER, PFX), and checks expiry, host name and trust.</para>
/// <para type="description">
/// The runbooks' "openssl s_client -servername d -connect d:443 | openssl x509 -noout -dates" and
/// "openssl x509 -in api.crt -noout -enddate", for many endpoints and files at once. Every result is a check result
/// (warn under 30 days, critical under 7 days, per environment and per label); results come sorted by days left.
/// </para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "TlsCertificate", DefaultParameterSetName = EndpointSet, HelpUri = HelpLinks.Base + "Get-TlsCertificate.md")]
[OutputType(typeof(CertificateResult))]
public sealed class GetTlsCertificateCommand : OpsCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    private const string EndpointSet = "Endpoint";
    private const string PathSet = "Path";
    private const string EnvironmentSet = "Environment";

    /// <summary>Endpoints: host:port, host (port 443) or a URL (https://, postgres://, smtp://, submission://, smtps://, ldaps://).</summary>
    [Parameter(ParameterSetName = EndpointSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("ComputerName", "Uri")]
    [ValidateNotNullOrEmpty]
    public string[] Endpoint { get; set; } = Array.Empty<string>();

    /// <summary>Certificate files or folders (PEM, DER, PFX/PKCS#12).</summary>
    [Parameter(ParameterSetName = PathSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Folders: look in sub-folders too.</summary>
    [Parameter(ParameterSetName = PathSet)]
    public SwitchParameter Recurse { get; set; }

    /// <summary>The password of PFX/PKCS#12 files.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [ValidateNotNull]
    public SecureString? Password { get; set; }

    /// <summary>The name of an environment variable that holds the PFX/PKCS#12 password.</summary>
    [Parameter(ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string? PasswordVariable { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its Certificates.Endpoints and Certificates.Paths.</summary>
    [Parameter(ParameterSetName = EnvironmentSet, Mandatory = true)]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    [ValidateNotNull]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>The SNI name sent and matched against the certificate (default: the host).</summary>
    [Parameter(ParameterSetName = EndpointSet)]
    [ValidateNotNullOrEmpty]
    public string? ServerName { get; set; }

    /// <summary>STARTTLS before the handshake: None, Postgres (SSLRequest) or Smtp. Default: from the URL scheme or the port (5432: Postgres; 25, 587: Smtp).</summary>
    [Parameter(ParameterSetName = EndpointSet)]
    [ValidateSet("None", "Postgres", "Smtp")]
    public string? StartTls { get; set; }

    /// <summary>A PEM file of CA certificates to trust instead of the system store (a private CA).</summary>
    [Parameter(ParameterSetName = EndpointSet)]
    [Parameter(ParameterSetName = EnvironmentSet)]
    [ValidateNotNullOrEmpty]
    public string? CaFile { get; set; }

    /// <summary>Seconds one endpoint may take (connect, STARTTLS, handshake). Default 10.</summary>
    [Parameter]
    [ValidateRange(0.05, 3600.0)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>How many endpoints are read at once. Default 32.</summary>
    [Parameter]
    [ValidateRange(1, TlsEndpointProbe.MaxThrottleLimit)]
    public int ThrottleLimit { get; set; } = TlsEndpointProbe.DefaultThrottleLimit;

    /// <summary>Days left under which a certificate is a warning (default: the label's, the environment's, else 30).</summary>
    [Parameter]
    [ValidateRange(0.0, 36500.0)]
    public double WarningDays { get; set; }

    /// <summary>Days left under which a certificate is critical (default: the label's, the environment's, else 7).</summary>
    [Parameter]
    [ValidateRange(0.0, 36500.0)]
    public double CriticalDays { get; set; }

    /// <summary>A label for the results; with an environment, its Certificates.Labels entry chooses the thresholds.</summary>
    [Parameter(ParameterSetName = EndpointSet)]
    [Parameter(ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string? Label { get; set; }

    private readonly List<TlsEndpointRequest> _endpoints = new();
    private readonly List<CertificateFileRequest> _files = new();
    private readonly HashSet<string> _seen = new(StringComparer.OrdinalIgnoreCase);

    private bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

    private CertificateThresholds Thresholds(string? label, OpsEnvironment? env) =>
        CertificateThresholds.For(label, env?.Thresholds, env?.Certificates,
            Bound(nameof(WarningDays)) ? WarningDays : null, Bound(nameof(CriticalDays)) ? CriticalDays : null);

    private System.Security.Cryptography.X509Certificates.X509Certificate2Collection? _roots;
    private bool _rootsRead;

    private System.Security.Cryptography.X509Certificates.X509Certificate2Collection? Roots()
    {
        if (_rootsRead) return _roots;
        _rootsRead = true;
        var file = CaFile ?? Environment?.Certificates?.CaFile;
        if (file is null) return null;
        var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(file);
        try { _roots = TlsEndpointProbe.ReadCaFile(full); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, full); }
        return _roots;
    }

    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        if (Password is not null && PasswordVariable is not null)
            Fail(new ArgumentException("Use -Password or -PasswordVariable, not both."), "PasswordConflict", ErrorCategory.InvalidArgument, null);
        if (Bound(nameof(WarningDays)) && Bound(nameof(CriticalDays)) && WarningDays < CriticalDays)
            Fail(new ArgumentException($"-WarningDays ({WarningDays}) must not be below -CriticalDays ({CriticalDays})."), "InvalidThresholds", ErrorCategory.InvalidArgument, null);
        if (ParameterSetName == EnvironmentSet)
        {
            var certs = Environment!.Certificates;
            if (certs is null || certs.Endpoints.Count + certs.Paths.Count == 0)
                Warning($"The environment '{Environment.Name}' names no certificate endpoints or paths (Certificates.Endpoints, Certificates.Paths); nothing to check.");
            foreach (var e in certs?.Endpoints ?? Array.Empty<CertificateEndpoint>())
                AddEndpoint(e.Endpoint, e.ServerName, e.StartTls, e.Label, Environment);
            foreach (var p in certs?.Paths ?? Array.Empty<CertificatePath>())
            {
                string? password = null;
                if (p.PasswordVariable is { Length: > 0 } v)
                {
                    password = System.Environment.GetEnvironmentVariable(v);
                    if (string.IsNullOrEmpty(password))
                        Warning($"{p.Path}: the environment variable '{v}' named by PasswordVariable is not set; PFX files there cannot be opened.");
                }
                _files.Add(new CertificateFileRequest
                {
                    Path = ExpandHome(p.Path), Recurse = p.Recurse, Password = password, Label = p.Label,
                    Thresholds = Thresholds(p.Label, Environment), Environment = Environment.Name,
                });
            }
        }
        return Task.CompletedTask;
    }

    private static string ExpandHome(string p) =>
        p.StartsWith("~/", StringComparison.Ordinal) ? System.IO.Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), p[2..]) : p;

    private void AddEndpoint(string text, string? serverName, string? startTls, string? label, OpsEnvironment? env)
    {
        var parsed = TlsEndpointRequest.Parse(text, out var problem);
        if (parsed is null)
        {
            Error(new ErrorRecord(new ArgumentException($"Cannot read the endpoint: {problem}. Give host:port or a URL such as https://api.example or postgres://db1:5432."),
                "InvalidEndpoint", ErrorCategory.InvalidArgument, text));
            return;
        }
        var (host, port, mode) = parsed.Value;
        if (startTls is not null) mode = Enum.Parse<StartTlsMode>(startTls, ignoreCase: true);
        var key = $"{host}|{port}|{serverName}|{mode}";
        if (!_seen.Add(key)) return;
        _endpoints.Add(new TlsEndpointRequest
        {
            Host = host, Port = port, ServerName = serverName, StartTls = mode, TrustedRoots = Roots(),
            Timeout = TimeSpan.FromSeconds(TimeoutSec), Label = label, Thresholds = Thresholds(label, env), Environment = env?.Name,
        });
    }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == EndpointSet)
        {
            foreach (var e in Endpoint)
                if (!string.IsNullOrWhiteSpace(e)) AddEndpoint(e, ServerName, StartTls, Label, null);
        }
        else if (ParameterSetName == PathSet)
        {
            string? password = null;
            if (Password is not null) password = new NetworkCredential("", Password).Password;
            else if (PasswordVariable is not null)
            {
                password = System.Environment.GetEnvironmentVariable(PasswordVariable);
                if (string.IsNullOrEmpty(password))
                    Fail(new ArgumentException($"The environment variable '{PasswordVariable}' named by -PasswordVariable is not set or empty."),
                        "PasswordVariableNotSet", ErrorCategory.InvalidArgument, PasswordVariable);
            }
            foreach (var p in Path)
            {
                if (string.IsNullOrWhiteSpace(p)) continue;
                var resolved = new List<string>();
                try
                {
                    if (WildcardPattern.ContainsWildcardCharacters(p)) resolved.AddRange(GetResolvedProviderPathFromPSPath(p, out _));
                    else resolved.Add(SessionState.Path.GetUnresolvedProviderPathFromPSPath(p));
                }
                catch (ItemNotFoundException e) { Error(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, p)); continue; }
                foreach (var full in resolved)
                    if (_seen.Add(full))
                        _files.Add(new CertificateFileRequest { Path = full, Recurse = Recurse.IsPresent, Password = password, Label = Label, Thresholds = Thresholds(Label, null) });
            }
        }
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var results = new List<CertificateResult>();
        var now = DateTime.UtcNow;
        foreach (var f in _files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Verbose($"Reading {f.Path}{(f.Recurse ? " (recursively)" : "")}{(f.Password is null ? "" : "; PFX password given")}.");
            results.AddRange(CertificateFiles.Read(f, now));
        }
        if (_endpoints.Count > 0)
        {
            var total = _endpoints.Count;
            var activity = total == 1 ? "Reading 1 certificate chain" : $"Reading {total} certificate chains";
            Verbose($"{activity}, at most {Math.Min(ThrottleLimit, total)} at a time, {TimeoutSec} s each{(Roots() is null ? "; trust: the system store" : $"; trust: {Roots()!.Count} CA certificate(s) from the CA file")}.");
            var done = 0;
            var since = System.Diagnostics.Stopwatch.StartNew();
            await foreach (var r in TlsEndpointProbe.ProbeAllAsync(_endpoints, ThrottleLimit, cancellationToken).ConfigureAwait(false))
            {
                results.Add(r);
                done++;
                Verbose($"{r.Name} (SNI {r.ServerName}{(r.StartTls is "None" ? "" : ", STARTTLS " + r.StartTls)}): {r.Status}, {r.Reason}");
                if (done == total || since.ElapsedMilliseconds >= 100)
                {
                    since.Restart();
                    Progress(new ProgressRecord(1, "Get-TlsCertificate", activity) { CurrentOperation = $"{done} of {total} done", PercentComplete = (int)(done * 100L / total) });
                }
            }
            Progress(new ProgressRecord(1, "Get-TlsCertificate", activity) { RecordType = ProgressRecordType.Completed });
        }
        foreach (var r in CertificateRules.ByDaysLeft(results, r => r.DaysLeft, r => r.Name))
            Output(r);
    }
}
