using System.Globalization;
using OpsTools.Certificates;
using OpsTools.Configuration;

namespace OpsTools.Engine.Certificates;

/// <summary>Expiry thresholds in days (runbooks: warn 30 days, critical 7 days), per label.</summary>
public sealed record CertificateThresholds(double WarningDays, double CriticalDays)
{
    public static readonly CertificateThresholds Default = new(30, 7);

    public string Describe() => $"warn < {WarningDays.ToString(CultureInfo.InvariantCulture)} days; critical < {CriticalDays.ToString(CultureInfo.InvariantCulture)} days";

    /// <summary>The thresholds for <paramref name="label"/>: the environment's label entry over the environment's thresholds; explicit values (a command's parameters) over both.</summary>
    public static CertificateThresholds For(string? label, ThresholdSet? set, CertificateSettings? settings, double? warningOverride = null, double? criticalOverride = null)
    {
        double warn = set?.CertificateWarningDays ?? Default.WarningDays, crit = set?.CertificateCriticalDays ?? Default.CriticalDays;
        if (label is not null && settings?.Labels is { } labels && labels.TryGetValue(label, out var l))
        {
            warn = l.WarningDays ?? warn;
            crit = l.CriticalDays ?? crit;
        }
        if (warningOverride is double w) warn = w;
        if (criticalOverride is double c) crit = c;
        if (warn < crit) { if (warningOverride is null) warn = crit; else crit = warn; }
        return new CertificateThresholds(warn, crit);
    }
}

/// <summary>Turns certificates into results: status from days left and problems, the reason in words.</summary>
public static class CertificateRules
{
    /// <summary>Status and message for a certificate with <paramref name="problem"/> (endpoint trust problems are critical: clients refuse them).</summary>
    public static void Apply(CertificateResult r, CertificateThresholds t, DateTime nowUtc)
    {
        r.Threshold = t.Describe();
        if (r.Certificate is null)
        {
            r.Status = CheckStatus.Unknown;
            r.Problem = CertificateProblem.Unreadable;
            r.Message = $"{r.Name}: {r.Reason}";
            return;
        }
        var c = r.Certificate;
        var daysExact = (c.NotAfter - nowUtc).TotalDays;
        r.DaysLeft = CertificateFacts.WholeDaysLeft(c.NotAfter, nowUtc);
        r.Value = r.DaysLeft;
        var expiry = daysExact < 0
            ? $"expired {Ago(-daysExact)} ago ({c.NotAfter:yyyy-MM-dd HH:mm} UTC)"
            : $"expires in {In(daysExact)} ({c.NotAfter:yyyy-MM-dd HH:mm} UTC)";

        if (daysExact < 0)
        {
            r.Problem = CertificateProblem.Expired;
            r.Status = CheckStatus.Critical;
        }
        else if (c.NotBefore > nowUtc)
        {
            r.Problem = CertificateProblem.NotYetValid;
            r.Status = CheckStatus.Critical;
        }
        else if (r.Problem is not CertificateProblem.None)
        {
            r.Status = CheckStatus.Critical;
        }
        else if (daysExact < t.CriticalDays) r.Status = CheckStatus.Critical;
        else if (daysExact < t.WarningDays) r.Status = CheckStatus.Warning;
        else r.Status = CheckStatus.Healthy;

        var shortExpiry = daysExact < 0 ? $"expired {Ago(-daysExact)} ago" : $"expires in {In(daysExact)}";
        var reasons = new List<string>();
        if (!string.IsNullOrEmpty(r.Reason)) reasons.Add(r.Reason);
        if (r.Problem == CertificateProblem.NotYetValid) reasons.Insert(0, $"not valid before {c.NotBefore:yyyy-MM-dd HH:mm} UTC");
        if (daysExact < 0) reasons.Insert(0, shortExpiry); else reasons.Add(shortExpiry);
        r.Reason = string.Join("; ", reasons.Distinct());
        var what = c.CommonName ?? c.Subject;
        r.Message = r.Status switch
        {
            CheckStatus.Healthy => $"{r.Name}: {what} {expiry}.",
            _ when r.Problem is not (CertificateProblem.None or CertificateProblem.Expired) => $"{r.Name}: {what}: {r.Reason}. {Advice(r.Problem)}",
            _ => $"{r.Name}: {what} {expiry}. Renew it{(r.Source == CertificateSource.Secret ? " (or check its cert-manager Certificate)" : "")}.",
        };
    }

    private static string Advice(CertificateProblem p) => p switch
    {
        CertificateProblem.WrongHost => "Serve a certificate that names this host, or check the SNI name.",
        CertificateProblem.SelfSigned => "Clients will refuse it unless they trust it explicitly; use a CA-issued certificate or pass the CA with -CaFile.",
        CertificateProblem.IncompleteChain => "Serve the intermediate certificate(s) too (the full chain, e.g. fullchain.pem).",
        CertificateProblem.UntrustedRoot => "The root is not trusted here; pass the CA with -CaFile if it is a private CA.",
        CertificateProblem.NotYetValid => "Check the clock of the issuer and of this host.",
        _ => "",
    };

    private static string In(double days) => days >= 2 ? $"{Math.Floor(days):0} days" : days >= 1 ? "1 day" : $"{Math.Max(0, days * 24):0} hours";
    private static string Ago(double days) => days >= 2 ? $"{Math.Floor(days):0} days" : days >= 1 ? "1 day" : $"{days * 24:0} hours";

    /// <summary>Sorts results the way an admin reads them: fewest days left first, unreadable ones first of all.</summary>
    public static IEnumerable<T> ByDaysLeft<T>(IEnumerable<T> results, Func<T, int?> daysLeft, Func<T, string> name) =>
        results.OrderBy(r => daysLeft(r) ?? int.MinValue).ThenBy(name, StringComparer.OrdinalIgnoreCase);

    /// <summary>Fills the facts of <paramref name="c"/> into the result.</summary>
    public static void Fill(CertificateResult r, CertificateInfo c)
    {
        r.Certificate = c;
        r.Subject = c.Subject; r.Issuer = c.Issuer; r.DnsNames = c.DnsNames;
        r.NotBefore = c.NotBefore; r.NotAfter = c.NotAfter;
        r.KeyAlgorithm = c.KeyAlgorithm; r.KeySize = c.KeySize; r.SignatureAlgorithm = c.SignatureAlgorithm; r.Thumbprint = c.Thumbprint;
    }
}
