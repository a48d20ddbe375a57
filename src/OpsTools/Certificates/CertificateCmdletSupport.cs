using System.Management.Automation;
using OpsTools.Configuration;
using OpsTools.Engine.Certificates;

namespace OpsTools.Commands.Certificates;

/// <summary>Threshold parameters shared by the certificate commands, resolved per label from the environment.</summary>
internal static class CertificateCmdletSupport
{
    public static KubeCertificates.ThresholdsFor Thresholds(OpsEnvironment? env, PSCmdlet cmdlet, double warning, double critical)
    {
        var bound = cmdlet.MyInvocation.BoundParameters;
        double? w = bound.ContainsKey("WarningDays") ? warning : null;
        double? c = bound.ContainsKey("CriticalDays") ? critical : null;
        return label => CertificateThresholds.For(label, env?.Thresholds, env?.Certificates, w, c);
    }

    public static Func<string, bool>? NameFilter(string[]? names)
    {
        if (names is not { Length: > 0 }) return null;
        var patterns = names.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        return n => patterns.Any(p => p.IsMatch(n));
    }
}
