using System.Diagnostics;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Certificates;

/// <summary>
/// Update-CertbotCertificate with a stand-in for certbot (Debian's certbot has no ACME server to talk to here): a script
/// that records its arguments and, like certbot, writes a new certificate into live/NAME/, fails with certbot's kind of
/// message, or hangs (with a child process) so the timeout and Ctrl+C must stop the whole tree. The process handling is
/// what is tested: arguments, no shell, stdin closed, exit codes, timeout, cancellation, the certificate before and after.
/// </summary>
public sealed class CertbotTests : IClassFixture<CertificateTestSites>
{
    private readonly CertificateTestSites _sites;
    public CertbotTests(CertificateTestSites sites) => _sites = sites;

    private (string Dir, string Certbot, string Args) StandIn(string mode)
    {
        var dir = Directory.CreateTempSubdirectory("opstools-certbot-").FullName;
        var live = Path.Combine(dir, "config", "live", "api.example.test");
        Directory.CreateDirectory(live);
        using var old = _sites.Pki.Issue(new[] { "api.example.test" }, DateTimeOffset.UtcNow.AddDays(12).AddHours(1));
        File.WriteAllText(Path.Combine(live, "cert.pem"), TestPki.Pem(old));
        using var fresh = _sites.Pki.Issue(new[] { "api.example.test" }, DateTimeOffset.UtcNow.AddDays(90).AddHours(1));
        File.WriteAllText(Path.Combine(dir, "new.pem"), TestPki.Pem(fresh));
        var args = Path.Combine(dir, "args.txt");
        var script = Path.Combine(dir, "certbot");
        File.WriteAllText(script, $$"""
            #!/bin/bash
            printf '%s\n' "$@" > '{{args}}'
            # stdin must be closed: a read would otherwise wait for a prompt answer
            if read -t 1 line; then echo "stdin was open" >&2; exit 9; fi
            case '{{mode}}' in
              renew) cp '{{dir}}/new.pem' '{{live}}/cert.pem'; echo "Congratulations, all renewals succeeded:"; echo "  {{live}}/fullchain.pem (success)";;
              notdue) echo "Certificate not yet due for renewal"; echo "No renewals were attempted.";;
              fail) echo "Failed to renew certificate api.example.test with error: Some challenges have failed." >&2; exit 1;;
              hang) sleep 300 & echo $! > '{{dir}}/child.pid'; wait;;
            esac
            """.Replace("\r", ""));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return (dir, script, args);
    }

    private static ModuleSession Session(string dir, string certbot)
    {
        var s = new ModuleSession();
        s.Set("certbot", certbot);
        s.Set("config", Path.Combine(dir, "config"));
        return s;
    }

    [Fact]
    public void A_renewal_runs_certbot_renew_for_one_name_and_reports_the_certificate_before_and_after()
    {
        var (dir, certbot, args) = StandIn("renew");
        using var s = Session(dir, certbot);
        var r = s.Run("Update-CertbotCertificate api.example.test -CertbotPath $certbot -ConfigDirectory $config -ForceRenewal -Confirm:$false");
        Assert.Empty(r.Errors);
        var o = Assert.Single(r.Output);
        Assert.Equal(new[] { "renew", "--cert-name", "api.example.test", "--non-interactive", "--force-renewal", "--config-dir", Path.Combine(dir, "config") },
            File.ReadAllLines(args));
        Assert.Equal(true, o.P("Renewed"));
        Assert.Equal("Healthy", o.S("Status"));
        Assert.Equal(0, o.P("ExitCode"));
        Assert.Equal("Certbot", o.S("Method"));
        Assert.Equal(12, (int)Math.Floor(((DateTime)o.P("NotAfterBefore")! - DateTime.UtcNow).TotalDays));
        Assert.Equal(90, (int)Math.Floor(((DateTime)o.P("NotAfterAfter")! - DateTime.UtcNow).TotalDays));
        Assert.NotEqual(o.S("ThumbprintBefore"), o.S("ThumbprintAfter"));
        Directory.Delete(dir, true);
    }

    [Fact]
    public void Not_due_failed_and_WhatIf_runs_say_what_happened()
    {
        var (dir, certbot, args) = StandIn("notdue");
        using var s = Session(dir, certbot);
        var notDue = Assert.Single(s.Run("Update-CertbotCertificate api.example.test -CertbotPath $certbot -ConfigDirectory $config -Confirm:$false").Output);
        Assert.Equal(false, notDue.P("Renewed"));
        Assert.Equal("Warning", notDue.S("Status")); // 12 days left
        Assert.Contains("not due: 12 days left", notDue.S("Reason"));
        Assert.DoesNotContain("--force-renewal", File.ReadAllLines(args));

        File.Delete(args);
        var whatIf = s.Run("Update-CertbotCertificate api.example.test -CertbotPath $certbot -ConfigDirectory $config -WhatIf");
        Assert.Empty(whatIf.Output);
        Assert.False(File.Exists(args), "certbot ran under -WhatIf");

        var (dir2, certbot2, _) = StandIn("fail");
        using var s2 = Session(dir2, certbot2);
        var r = s2.Run("Update-CertbotCertificate api.example.test -CertbotPath $certbot -ConfigDirectory $config -Confirm:$false");
        var failed = Assert.Single(r.Output);
        Assert.Equal("Critical", failed.S("Status"));
        Assert.Equal(1, failed.P("ExitCode"));
        Assert.Contains("Some challenges have failed", failed.S("Reason"));
        Assert.Equal("CertbotRenewalFailed", Assert.Single(r.Errors).FullyQualifiedErrorId.Split(',')[0]);

        var missing = s2.Run("Update-CertbotCertificate api.example.test -CertbotPath /nonexistent/certbot -Confirm:$false");
        Assert.Equal("CertbotNotFound", Assert.Single(missing.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Directory.Delete(dir, true);
        Directory.Delete(dir2, true);
    }

    [Fact]
    public void A_hanging_certbot_is_stopped_with_its_children_at_the_timeout_and_on_Ctrl_C()
    {
        var (dir, certbot, _) = StandIn("hang");
        using var s = Session(dir, certbot);
        var sw = Stopwatch.StartNew();
        var r = s.Run("Update-CertbotCertificate api.example.test -CertbotPath $certbot -ConfigDirectory $config -TimeoutSec 2 -Confirm:$false");
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), sw.Elapsed.ToString());
        var o = Assert.Single(r.Output);
        Assert.Contains("did not finish within 2 s", o.S("Reason"));
        Assert.Equal("CertbotRenewalFailed", Assert.Single(r.Errors).FullyQualifiedErrorId.Split(',')[0]);
        AssertGone(dir);

        File.Delete(Path.Combine(dir, "child.pid"));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        sw.Restart();
        var cancelled = s.Run("Update-CertbotCertificate api.example.test -CertbotPath $certbot -ConfigDirectory $config -Confirm:$false", stop.Token);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), sw.Elapsed.ToString());
        Assert.Empty(cancelled.Output);
        AssertGone(dir);
        Directory.Delete(dir, true);
    }

    private static void AssertGone(string dir)
    {
        var pidFile = Path.Combine(dir, "child.pid");
        KubeCluster.WaitFor(() => File.Exists(pidFile), TimeSpan.FromSeconds(10), "the stand-in's child pid");
        var pid = int.Parse(File.ReadAllText(pidFile).Trim());
        KubeCluster.WaitFor(() => !Directory.Exists($"/proc/{pid}") || File.ReadAllText($"/proc/{pid}/stat").Contains(") Z "), TimeSpan.FromSeconds(10), $"the stand-in's child {pid} to be gone");
    }
}
