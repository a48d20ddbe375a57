using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Certificates;
using OpsTools.Commands.Kubernetes;
using OpsTools.Engine.Certificates;

namespace OpsTools.Commands.Certificates;

/// <summary>
/// <para type="synopsis">Renews cert-manager Certificates now, as cmctl renew does, and waits until each is Ready with a later notAfter, or says why not.</para>
/// <para type="description">Sets the Certificate's Issuing condition (reason ManuallyTriggered) through the status subresource, which makes cert-manager issue a new certificate at once. Then waits (-TimeoutSec, default 300) until the Certificate is Ready again with a notAfter later than before; a failed issuance (cert-manager's failedIssuanceAttempts grows, Issuing turns False) or the timeout is reported with cert-manager's reason, as a Critical result and a non-terminating error. -NoWait returns after the trigger.</para>
/// </summary>
[Cmdlet(VerbsData.Update, "CertManagerCertificate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "Update-CertManagerCertificate.md")]
[OutputType(typeof(CertificateRenewalResult))]
public sealed class UpdateCertManagerCertificateCommand : KubeCmdlet
{
    /// <summary>Certificate names (or objects from Get-CertManagerCertificate).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(CertManagerCertificateNameCompleter))]
    public string[] Name { get; set; } = Array.Empty<string>();

    /// <summary>Return after triggering the issuance, without waiting for the new certificate.</summary>
    [Parameter]
    public SwitchParameter NoWait { get; set; }

    /// <summary>Seconds to wait for each Certificate to be Ready with a later notAfter. Default 300.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public double TimeoutSec { get; set; } = 300;

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var ns = target.Namespace;
        foreach (var name in Name)
        {
            var what = $"certificate.cert-manager.io/{name} in {target.Describe(ns)}";
            var result = new CertificateRenewalResult
            {
                Check = "CertificateRenewal", Area = "Certificates", Method = "CertManager", Name = name, Namespace = ns, Target = $"{ns}/{name}",
                ClusterId = target.Id, Environment = Environment?.Name,
            };
            var sw = System.Diagnostics.Stopwatch.StartNew();
            try
            {
                var before = await KubeCertificates.DescribeAsync(target, await KubeCertificates.GetCertificateObjectAsync(target, ns, name, ct).ConfigureAwait(false),
                    _ => CertificateThresholds.Default, null, ct).ConfigureAwait(false);
                result.NotAfterBefore = before.NotAfter;
                result.ThumbprintBefore = before.SecretCertificate?.Thumbprint;
                if (!await ShouldProcessAsync(what, "Renew now (cmctl renew: set the Issuing condition, reason ManuallyTriggered)").ConfigureAwait(false))
                {
                    if (await IsWhatIfAsync().ConfigureAwait(false))
                    {
                        result.WhatIf = true; result.Status = CheckStatus.Healthy; result.NotAfterAfter = before.NotAfter;
                        result.Reason = $"would trigger issuance (now {before.Reason})";
                        result.Message = $"What if: certificate {ns}/{name} would be renewed; {before.Reason}.";
                        Output(result);
                    }
                    continue;
                }
                await KubeCertificates.TriggerIssuanceAsync(target, ns, name, ct).ConfigureAwait(false);
                Verbose($"Certificate {ns}/{name}: Issuing=True (ManuallyTriggered) written to its status in {target.Describe(ns)}.");
                if (NoWait)
                {
                    result.Status = CheckStatus.Healthy;
                    result.Reason = "issuance triggered (not waited for)";
                    result.Message = $"Manually triggered issuance of Certificate {ns}/{name}.";
                    result.Duration = sw.Elapsed;
                    Output(result);
                    continue;
                }
                await WaitAsync(target, ns, name, before, result, ct).ConfigureAwait(false);
                result.Duration = sw.Elapsed;
                Output(result);
                if (!result.Renewed)
                    Error(new ErrorRecord(new OpsToolsException(result.Reason.StartsWith("not renewed within", StringComparison.Ordinal) ? "CertificateRenewalTimedOut" : "CertificateRenewalFailed",
                        OpsErrorKind.OperationFailed, result.Message, result.Target), result.Reason.StartsWith("not renewed within", StringComparison.Ordinal) ? "CertificateRenewalTimedOut" : "CertificateRenewalFailed",
                        ErrorCategory.OperationTimeout, result.Target));
            }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, name); }
        }
    }

    private async Task WaitAsync(Engine.Kubernetes.KubeTarget target, string ns, string name, CertManagerCertificateResult before, CertificateRenewalResult result, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(TimeoutSec);
        var progress = new ProgressRecord(2, "Update-CertManagerCertificate", $"Waiting for {ns}/{name} to be Ready with a new certificate");
        CertManagerCertificateResult now = before;
        var sawIssuing = false;
        while (true)
        {
            now = await KubeCertificates.DescribeAsync(target, await KubeCertificates.GetCertificateObjectAsync(target, ns, name, ct).ConfigureAwait(false),
                _ => CertificateThresholds.Default, null, ct).ConfigureAwait(false);
            sawIssuing |= now.Issuing;
            var later = now.NotAfter is DateTime a && (before.NotAfter is not DateTime b || a > b);
            if (now.Ready == "True" && !now.Issuing && later)
            {
                result.Renewed = true;
                result.Status = CheckStatus.Healthy;
                result.Reason = $"renewed: valid until {now.NotAfter:yyyy-MM-dd HH:mm} UTC (was {before.NotAfter:yyyy-MM-dd HH:mm} UTC)";
                break;
            }
            if (now.FailedIssuanceAttempts > before.FailedIssuanceAttempts || (sawIssuing && !now.Issuing && !later))
            {
                result.Status = CheckStatus.Critical;
                result.Reason = $"issuance failed: {now.IssuingMessage ?? now.ReadyMessage ?? "no reason given"}" +
                                (now.FailedIssuanceAttempts > 0 ? $" ({now.FailedIssuanceAttempts} failed attempt(s))" : "");
                break;
            }
            if (DateTime.UtcNow >= deadline)
            {
                result.Status = CheckStatus.Critical;
                result.Reason = $"not renewed within {TimeoutSec:0.###} s: Ready={now.Ready ?? "?"}{(now.ReadyMessage is { Length: > 0 } m ? $" ({m})" : "")}" +
                                (now.Issuing ? $"; still issuing ({now.IssuingMessage})" : "; cert-manager has not picked it up (is its controller running?)");
                break;
            }
            progress.StatusDescription = now.Issuing ? $"issuing ({now.IssuingMessage})" : $"Ready={now.Ready}";
            Progress(progress);
            await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
        }
        Progress(new ProgressRecord(2, "Update-CertManagerCertificate", "done") { RecordType = ProgressRecordType.Completed });
        result.NotAfterAfter = now.NotAfter;
        result.ThumbprintAfter = now.SecretCertificate?.Thumbprint;
        result.Value = now.DaysLeft;
        result.Message = $"Certificate {ns}/{name}: {result.Reason}.";
    }
}
