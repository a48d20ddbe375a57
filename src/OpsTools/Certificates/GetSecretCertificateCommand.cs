using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Certificates;
using OpsTools.Commands.Kubernetes;
using OpsTools.Engine.Certificates;

namespace OpsTools.Commands.Certificates;

/// <summary>
/// <para type="synopsis">Reads the certificates stored in Kubernetes secrets (TLS secrets' tls.crt and ca.crt, PEM certificates in other secrets) and, with -Ingress, the certificates the Ingress (and OpenShift Route) TLS hosts serve; checks them against the expiry thresholds.</para>
/// <para type="description">One namespace (-Namespace, the environment's, the context's) or all (-AllNamespaces). Private keys (tls.key and key-looking values) are never read. Secrets written by cert-manager get the label 'cert-manager', so the environment's Certificates.Labels can give them their own thresholds. Results come sorted by days left.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "SecretCertificate", HelpUri = HelpLinks.Base + "Get-SecretCertificate.md")]
[OutputType(typeof(CertificateResult))]
public sealed class GetSecretCertificateCommand : KubeCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Secret names (wildcards allowed). Default: every secret.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Every namespace the user may list (kubectl -A).</summary>
    [Parameter]
    [Alias("A")]
    public SwitchParameter AllNamespaces { get; set; }

    /// <summary>Also connect to every Ingress TLS host, and on OpenShift every Route with TLS (port 443, SNI = the host), and check the certificate it serves.</summary>
    [Parameter]
    public SwitchParameter Ingress { get; set; }

    /// <summary>Connect to this address (host:port) for the Ingress hosts instead of resolving them (curl --resolve): the ingress controller's address.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? IngressAddress { get; set; }

    /// <summary>A PEM file of CA certificates to trust for the Ingress hosts instead of the system store.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CaFile { get; set; }

    /// <summary>Seconds one Ingress host may take. Default 10.</summary>
    [Parameter]
    [ValidateRange(0.05, 3600.0)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>How many Ingress and Route hosts are read at once. Default 32.</summary>
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

    private readonly List<CertificateResult> _results = new();

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        string? ns = AllNamespaces ? null : target.Namespace;
        var thresholds = CertificateCmdletSupport.Thresholds(Environment, this, WarningDays, CriticalDays);
        try
        {
            _results.AddRange(await KubeCertificates.SecretCertificatesAsync(target, ns, CertificateCmdletSupport.NameFilter(Name), thresholds, Environment?.Name, ct).ConfigureAwait(false));
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.NotSpecified, target.Context); }

        if (!Ingress) return;
        IReadOnlyList<(string Ingress, string Host, string? Secret)> hosts;
        try { hosts = await KubeCertificates.IngressTlsHostsAsync(target, ns, ct).ConfigureAwait(false); }
        catch (OpsToolsException e) { ObjectError(e, e.ErrorId, target.Context); return; }
        System.Security.Cryptography.X509Certificates.X509Certificate2Collection? roots = null;
        if (CaFile is not null)
        {
            try { roots = TlsEndpointProbe.ReadCaFile(SessionState.Path.GetUnresolvedProviderPathFromPSPath(CaFile)); }
            catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, CaFile); }
        }
        (string Host, int Port, StartTlsMode Mode)? address = null;
        if (IngressAddress is not null)
        {
            address = TlsEndpointRequest.Parse(IngressAddress, out var problem);
            if (address is null) Fail(new ArgumentException($"-IngressAddress: {problem}."), "InvalidEndpoint", ErrorCategory.InvalidArgument, IngressAddress);
        }
        var requests = hosts.Where(h => !h.Host.StartsWith("*.", StringComparison.Ordinal)).Select(h => new TlsEndpointRequest
        {
            Host = address?.Host ?? h.Host, Port = address?.Port ?? 443, ServerName = h.Host, TrustedRoots = roots,
            Timeout = TimeSpan.FromSeconds(TimeoutSec), Name = $"{h.Ingress} {h.Host}", Environment = Environment?.Name,
            Thresholds = thresholds(null),
        }).ToList();
        Verbose($"Ingress: {requests.Count} TLS host(s){(address is null ? "" : $" via {IngressAddress}")}.");
        await foreach (var r in TlsEndpointProbe.ProbeAllAsync(requests, ThrottleLimit, ct).ConfigureAwait(false))
            _results.Add(r);
    }

    protected override Task EndProcessingAsync(CancellationToken ct)
    {
        foreach (var r in CertificateRules.ByDaysLeft(_results, r => r.DaysLeft, r => r.Name)) Output(r);
        return Task.CompletedTask;
    }
}
