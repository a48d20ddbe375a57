using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Certificates;
using OpsTools.Commands.Kubernetes;
using OpsTools.Engine.Certificates;

namespace OpsTools.Commands.Certificates;

/// <summary>
/// <para type="synopsis">Gets cert-manager Certificate resources joined to their secrets, as cmctl status certificate shows them: Ready and Issuing conditions, notBefore/notAfter, renewalTime, failed issuance attempts, the certificate in the secret; checked against the expiry thresholds.</para>
/// <para type="description">The runbooks' "kubectl get certificate -n ns" with the reasons. One namespace or all (-AllNamespaces). Results come sorted by days left. The label 'cert-manager' chooses the thresholds from the environment's Certificates.Labels (a Certificate's opstools.io/certificate-label label overrides it).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "CertManagerCertificate", HelpUri = HelpLinks.Base + "Get-CertManagerCertificate.md")]
[OutputType(typeof(CertManagerCertificateResult))]
public sealed class GetCertManagerCertificateCommand : KubeCmdlet
{
    /// <summary>End the script (exit code 1 under pwsh -File/-Command) after all results are written, when any is at least this bad: Warning (or Unknown) or Critical; errors count as Critical.</summary>
    [Parameter]
    public FailLevel FailOn { get => FailOnLevel; set => FailOnLevel = value; }

    /// <summary>Certificate names (wildcards allowed). Default: all.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(CertManagerCertificateNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Every namespace (kubectl -A).</summary>
    [Parameter]
    [Alias("A")]
    public SwitchParameter AllNamespaces { get; set; }

    /// <summary>Days left under which a certificate is a warning (default: the label's, the environment's, else 30).</summary>
    [Parameter]
    [ValidateRange(0.0, 36500.0)]
    public double WarningDays { get; set; }

    /// <summary>Days left under which a certificate is critical (default: the label's, the environment's, else 7).</summary>
    [Parameter]
    [ValidateRange(0.0, 36500.0)]
    public double CriticalDays { get; set; }

    private readonly List<CertManagerCertificateResult> _results = new();

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        string? ns = AllNamespaces ? null : target.Namespace;
        var thresholds = CertificateCmdletSupport.Thresholds(Environment, this, WarningDays, CriticalDays);
        var names = Name ?? Array.Empty<string>();
        try
        {
            var objects = new List<System.Text.Json.Nodes.JsonObject>();
            if (ns is not null && names.Length > 0 && names.All(n => !WildcardPattern.ContainsWildcardCharacters(n)))
            {
                foreach (var n in names)
                {
                    try { objects.Add(await KubeCertificates.GetCertificateObjectAsync(target, ns, n, ct).ConfigureAwait(false)); }
                    catch (OpsToolsException e) when (e.ErrorId == "KubeObjectNotFound") { ObjectError(e, e.ErrorId, n); }
                }
            }
            else
            {
                var filter = CertificateCmdletSupport.NameFilter(names);
                objects.AddRange((await KubeCertificates.ListCertificateObjectsAsync(target, ns, ct).ConfigureAwait(false))
                    .Where(o => filter is null || filter((string?)o["metadata"]?["name"] ?? "")));
            }
            foreach (var o in objects)
                _results.Add(await KubeCertificates.DescribeAsync(target, o, thresholds, Environment?.Name, ct).ConfigureAwait(false));
        }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.NotSpecified, target.Context); }
    }

    protected override Task EndProcessingAsync(CancellationToken ct)
    {
        foreach (var r in CertificateRules.ByDaysLeft(_results, r => r.DaysLeft, r => r.Namespace + "/" + r.Name)) Output(r);
        return Task.CompletedTask;
    }
}

/// <summary>Completes cert-manager Certificate names from the cluster the typed parameters point at (nothing when it cannot be asked, or cert-manager is not there).</summary>
public sealed class CertManagerCertificateNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        var target = KubeCompleterSupport.Target(fakeBoundParameters);
        if (target is null) return Array.Empty<CompletionResult>();
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            var list = KubeCertificates.ListCertificateObjectsAsync(target, target.Namespace, cts.Token).GetAwaiter().GetResult();
            return list.Select(o => (Name: (string?)o["metadata"]?["name"] ?? "", Secret: (string?)o["spec"]?["secretName"] ?? ""))
                .Where(c => c.Name.Length > 0 && pattern.IsMatch(c.Name))
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .Select(c => new CompletionResult(KubeCompleterSupport.Quote(c.Name), c.Name, CompletionResultType.ParameterValue, $"certificate/{c.Name} -> secret/{c.Secret}"))
                .ToList();
        }
        catch (Exception) { return Array.Empty<CompletionResult>(); }
    }
}
