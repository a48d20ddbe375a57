using System.Management.Automation;
using OpsTools.Certificates;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Certificates;

namespace OpsTools.Commands.Certificates;

/// <summary>
/// <para type="synopsis">Renews one certbot certificate (certbot renew --cert-name NAME) and reports the certificate before and after.</para>
/// <para type="description">The runbooks' "certbot renew --quiet" / "--force-renewal", for one certificate name, as a child process under the same rules as pg_dump: no shell, standard input closed (no prompt can hang it), --non-interactive, the whole process tree stopped on Ctrl+C or after -TimeoutSec. The certificate in live/NAME/cert.pem under -ConfigDirectory is read before and after: Renewed says whether a new one is in place.</para>
/// </summary>
[Cmdlet(VerbsData.Update, "CertbotCertificate", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "Update-CertbotCertificate.md")]
[OutputType(typeof(CertificateRenewalResult))]
public sealed class UpdateCertbotCertificateCommand : OpsCmdlet
{
    /// <summary>certbot's certificate name (certbot certificates lists them; the folder name under live/).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Name")]
    [ValidateNotNullOrEmpty]
    public string[] CertName { get; set; } = Array.Empty<string>();

    /// <summary>certbot --force-renewal: renew even when not due.</summary>
    [Parameter]
    public SwitchParameter ForceRenewal { get; set; }

    /// <summary>The certbot program. Default: certbot on PATH.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string CertbotPath { get; set; } = "certbot";

    /// <summary>certbot's configuration folder (--config-dir). Default /etc/letsencrypt.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string ConfigDirectory { get; set; } = "/etc/letsencrypt";

    /// <summary>Seconds certbot may run before it is stopped. Default 300.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public double TimeoutSec { get; set; } = 300;

    /// <summary>An environment file: its name goes on the results.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var certbot = CertbotPath.Contains('/') ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(CertbotPath) : CertbotPath;
        var config = SessionState.Path.GetUnresolvedProviderPathFromPSPath(ConfigDirectory);
        foreach (var name in CertName)
        {
            var request = new CertbotRequest
            {
                CertName = name, CertbotPath = certbot, ConfigDirectory = config, ForceRenewal = ForceRenewal.IsPresent,
                Timeout = TimeSpan.FromSeconds(TimeoutSec), Environment = Environment?.Name,
            };
            var command = $"certbot {string.Join(' ', CertbotRenewal.Arguments(request))}";
            if (!await ShouldProcessAsync($"certbot certificate '{name}' ({CertbotRenewal.CertificatePath(request)})", $"Run '{command}'").ConfigureAwait(false)) continue;
            Verbose($"Running {command} ({certbot}), at most {TimeoutSec} s.");
            try
            {
                var result = await CertbotRenewal.RenewAsync(request, ct).ConfigureAwait(false);
                Output(result);
                if (result.ExitCode is not (null or 0) || result.Reason.Contains("was stopped", StringComparison.Ordinal))
                    Error(new ErrorRecord(new OpsToolsException("CertbotRenewalFailed", OpsErrorKind.OperationFailed, result.Message, name),
                        "CertbotRenewalFailed", ErrorCategory.OperationStopped, name));
            }
            catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.NotSpecified, name)); }
        }
    }
}
