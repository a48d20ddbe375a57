using System.Diagnostics;
using OpsTools.Certificates;
using OpsTools.Engine.Backup;
using OpsTools.Engine.Security;

namespace OpsTools.Engine.Certificates;

/// <summary>What to renew with certbot.</summary>
public sealed class CertbotRequest
{
    public string CertName { get; init; } = "";
    /// <summary>The certbot program (default: certbot on PATH).</summary>
    public string CertbotPath { get; init; } = "certbot";
    /// <summary>certbot's --config-dir (default /etc/letsencrypt); the certificate is read from live/NAME/cert.pem there.</summary>
    public string ConfigDirectory { get; init; } = "/etc/letsencrypt";
    public bool ForceRenewal { get; init; }
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(5);
    public string? Environment { get; init; }
}

/// <summary>
/// certbot renew --cert-name NAME as a child process under the rules of pg_dump (PgToolProcess: no shell, stdin closed,
/// the whole tree killed on Ctrl+C or timeout), with the certificate in live/NAME/ read before and after.
/// </summary>
public static class CertbotRenewal
{
    public static string CertificatePath(CertbotRequest r) => Path.Combine(r.ConfigDirectory, "live", r.CertName, "cert.pem");

    public static IReadOnlyList<string> Arguments(CertbotRequest r)
    {
        var args = new List<string> { "renew", "--cert-name", r.CertName, "--non-interactive" };
        if (r.ForceRenewal) args.Add("--force-renewal");
        if (r.ConfigDirectory != "/etc/letsencrypt") { args.Add("--config-dir"); args.Add(r.ConfigDirectory); }
        return args;
    }

    public static string? ResolveProgram(string path)
    {
        if (path.Contains('/') || path.Contains('\\')) return File.Exists(path) ? Path.GetFullPath(path) : null;
        foreach (var dir in (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, path);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    private static CertificateInfo? Read(string path)
    {
        if (!File.Exists(path)) return null;
        var certs = CertificateFiles.ReadPemCertificates(File.ReadAllText(path), out _);
        try { return certs.Count == 0 ? null : CertificateFacts.Describe(certs[0], DateTime.UtcNow); }
        finally { foreach (var c in certs) c.Dispose(); }
    }

    public static async Task<CertificateRenewalResult> RenewAsync(CertbotRequest request, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var result = new CertificateRenewalResult
        {
            Check = "CertificateRenewal", Area = "Certificates", Method = "Certbot", Name = request.CertName, Target = request.CertName,
            Environment = request.Environment,
        };
        var program = ResolveProgram(request.CertbotPath) ?? throw new OpsToolsException("CertbotNotFound", OpsErrorKind.NotFound,
            $"certbot not found ('{request.CertbotPath}'). Install it (Debian: apt-get install certbot) or pass -CertbotPath.", request.CertbotPath);
        var certPath = CertificatePath(request);
        var before = Read(certPath);
        result.NotAfterBefore = before?.NotAfter;
        result.ThumbprintBefore = before?.Thumbprint;

        PgToolProcess.Outcome run;
        try
        {
            run = await PgToolProcess.RunAsync(PgToolProcess.ToolStartInfo(program, Arguments(request)), null, request.Timeout, ct).ConfigureAwait(false);
        }
        catch (OpsToolsException e) when (e.ErrorId == "PgToolTimeout" && !ct.IsCancellationRequested)
        {
            result.Status = CheckStatus.Critical;
            result.Reason = $"certbot did not finish within {request.Timeout.TotalSeconds:0} s and was stopped";
            result.Message = $"certbot renew --cert-name {request.CertName}: {result.Reason}.";
            result.Duration = sw.Elapsed;
            return result;
        }
        catch (OpsToolsException e) when (e.ErrorId == "PgToolFailed" && e.InnerException is System.ComponentModel.Win32Exception w)
        {
            throw new OpsToolsException("CertbotNotFound", OpsErrorKind.NotFound, $"certbot '{program}' cannot be started: {w.Message}.", program, e);
        }
        result.ExitCode = run.ExitCode;
        var after = Read(certPath);
        result.NotAfterAfter = after?.NotAfter;
        result.ThumbprintAfter = after?.Thumbprint;
        result.Renewed = after is not null && (before is null || after.Thumbprint != before.Thumbprint);
        result.Value = after is null ? null : CertificateFacts.WholeDaysLeft(after.NotAfter, DateTime.UtcNow);
        var said = LastLines(PgToolProcess.Shown(run.Error.Length > 0 ? run.Error : string.Join('\n', run.StdoutLines), null), 3);
        if (run.ExitCode != 0)
        {
            result.Status = CheckStatus.Critical;
            result.Reason = $"certbot failed (exit code {run.ExitCode}): {said}";
        }
        else if (result.Renewed)
        {
            result.Status = CheckStatus.Healthy;
            result.Reason = $"renewed: valid until {after!.NotAfter:yyyy-MM-dd HH:mm} UTC (was {(before is null ? "none" : before.NotAfter.ToString("yyyy-MM-dd HH:mm"))} UTC)";
        }
        else
        {
            var days = after is null ? (int?)null : CertificateFacts.WholeDaysLeft(after.NotAfter, DateTime.UtcNow);
            result.Status = after is null ? CheckStatus.Critical : days < 7 ? CheckStatus.Critical : days < 30 ? CheckStatus.Warning : CheckStatus.Healthy;
            result.Reason = after is null ? $"certbot succeeded but {certPath} holds no certificate" : $"not renewed (not due: {days} days left){(said.Length > 0 ? "; certbot: " + said : "")}";
        }
        result.Message = $"certbot renew --cert-name {request.CertName}: {result.Reason}.";
        result.Duration = sw.Elapsed;
        return result;
    }

    private static string LastLines(string text, int n) =>
        string.Join(" ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(l => !l.StartsWith("- - -", StringComparison.Ordinal)).TakeLast(n));
}
