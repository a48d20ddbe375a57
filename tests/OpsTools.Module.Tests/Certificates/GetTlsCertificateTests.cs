using System.Diagnostics;
using System.Management.Automation;
using System.Net;
using System.Net.Sockets;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Certificates;

/// <summary>Get-TlsCertificate through the real PowerShell engine against real TLS endpoints (Kestrel) and files.</summary>
public sealed class GetTlsCertificateTests : IClassFixture<CertificateTestSites>
{
    private readonly CertificateTestSites _sites;
    public GetTlsCertificateTests(CertificateTestSites sites) => _sites = sites;

    private ModuleSession Session()
    {
        var s = new ModuleSession();
        s.Set("ca", _sites.CaFile);
        foreach (var name in _sites.Server.Ports.Keys) s.Set(name, _sites.Endpoint(name));
        return s;
    }

    private PSObject One(string site, string extra = "")
    {
        using var s = Session();
        var r = s.Run($"Get-TlsCertificate ${site} -CaFile $ca {extra}");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        return Assert.Single(r.Output);
    }

    [Fact]
    public void A_valid_certificate_under_the_given_CA_is_healthy_with_its_chain_as_served_and_times_in_UTC()
    {
        var o = One("valid");
        Assert.Equal("Healthy", o.S("Status"));
        Assert.Equal("None", o.S("Problem"));
        Assert.Equal(true, o.P("Trusted"));
        Assert.Equal(true, o.P("HostnameMatch"));
        Assert.Equal(90, o.P("DaysLeft"));
        Assert.Equal("CN=localhost", o.S("Subject"));
        Assert.Contains("Intermediate CA", o.S("Issuer"));
        Assert.Equal(new[] { "localhost", "127.0.0.1" }, ((IEnumerable<string>)o.P("DnsNames")!).ToArray());
        Assert.Equal("RSA", o.S("KeyAlgorithm"));
        Assert.Equal(2048, o.P("KeySize"));
        Assert.Equal("sha256ECDSA", o.S("SignatureAlgorithm")); // an RSA key signed by the EC intermediate
        var notAfter = (DateTime)o.P("NotAfter")!;
        Assert.Equal(DateTimeKind.Utc, notAfter.Kind);
        // The same moment openssl s_client | openssl x509 -enddate shows.
        Assert.Equal(CertificateTestSites.OpensslNotAfter(_sites.Endpoint("valid")), notAfter.AddTicks(-(notAfter.Ticks % TimeSpan.TicksPerSecond)));
        Assert.Equal(_sites.Leaves["valid"].NotAfter.ToUniversalTime(), notAfter);
        var chain = ((System.Collections.IEnumerable)o.P("Chain")!).Cast<object>().ToList();
        Assert.Equal(2, chain.Count);
        Assert.Equal("warn < 30 days; critical < 7 days", o.S("Threshold"));
        Assert.Equal("Certificate", o.S("Check"));
        Assert.Equal("Certificates", o.S("Area"));
    }

    [Fact]
    public void A_certificate_that_expires_in_5_days_is_critical_and_says_so()
    {
        var o = One("expiring");
        Assert.Equal("Critical", o.S("Status"));
        Assert.Equal(5, o.P("DaysLeft"));
        Assert.Equal("None", o.S("Problem"));
        Assert.Equal("expires in 5 days", o.S("Reason"));
        Assert.Contains("Renew it", o.S("Message"));
    }

    [Fact]
    public void An_expired_certificate_is_read_and_is_critical_as_expired()
    {
        var o = One("expired");
        Assert.Equal("Critical", o.S("Status"));
        Assert.Equal("Expired", o.S("Problem"));
        Assert.Equal(-3, o.P("DaysLeft"));
        Assert.StartsWith("expired 2 days ago", o.S("Reason"));
    }

    [Fact]
    public void A_certificate_for_another_host_is_wrong_host_with_the_names_it_has()
    {
        var o = One("wronghost");
        Assert.Equal("Critical", o.S("Status"));
        Assert.Equal("WrongHost", o.S("Problem"));
        Assert.Equal(false, o.P("HostnameMatch"));
        Assert.Equal(true, o.P("Trusted"));
        Assert.StartsWith("issued for api.example.test, not 127.0.0.1", o.S("Reason"));
        // With the right SNI name it is fine.
        var ok = One("wronghost", "-ServerName api.example.test");
        Assert.Equal("Healthy", ok.S("Status"));
        Assert.Equal("api.example.test", ok.S("ServerName"));
    }

    [Fact]
    public void A_self_signed_certificate_is_read_even_though_untrusted()
    {
        var o = One("selfsigned");
        Assert.Equal("SelfSigned", o.S("Problem"));
        Assert.Equal(false, o.P("Trusted"));
        Assert.Equal("Critical", o.S("Status"));
        Assert.Equal(60, o.P("DaysLeft"));
        Assert.Equal(_sites.Leaves["selfsigned"].Thumbprint, o.S("Thumbprint"));
    }

    [Fact]
    public void A_server_that_does_not_send_its_intermediate_has_an_incomplete_chain()
    {
        var o = One("nointermediate");
        Assert.Equal("IncompleteChain", o.S("Problem"));
        Assert.Contains("intermediate missing", o.S("Reason"));
        Assert.Single(((System.Collections.IEnumerable)o.P("Chain")!).Cast<object>());
    }

    [Fact]
    public void A_full_chain_is_listed_leaf_first_and_trusted()
    {
        var o = One("fullchain");
        Assert.Equal("Healthy", o.S("Status"));
        var chain = ((System.Collections.IEnumerable)o.P("Chain")!).Cast<object>().Select(c => PSObject.AsPSObject(c)).ToList();
        // Kestrel (SslStream) leaves the self-signed root out of what it sends, as servers should.
        Assert.Equal(2, chain.Count);
        Assert.Equal("CN=localhost", chain[0].S("Subject"));
        Assert.Contains("Intermediate CA", chain[1].S("Subject"));
        Assert.Equal(true, chain[1].P("IsCertificateAuthority"));
        Assert.Equal(false, chain[0].P("IsCertificateAuthority"));
    }

    [Fact]
    public void Without_the_CA_file_a_private_CA_is_an_untrusted_root()
    {
        using var s = Session();
        var o = Assert.Single(s.Run("Get-TlsCertificate $valid").Output);
        Assert.Equal("UntrustedRoot", o.S("Problem"));
        Assert.Contains("not in the system store", o.S("Reason"));
    }

    [Fact]
    public void Many_endpoints_come_back_sorted_by_days_left_with_the_unreachable_first()
    {
        using var s = Session();
        var closed = HealthServer.FreePort();
        var r = s.Run($"Get-TlsCertificate $valid, $expiring, $expired, $fullchain, $selfsigned, 127.0.0.1:{closed} -CaFile $ca -TimeoutSec 5");
        Assert.Empty(r.Errors);
        Assert.Equal(6, r.Output.Count);
        Assert.Equal("Unknown", r.Output[0].S("Status"));
        Assert.Equal("Unreadable", r.Output[0].S("Problem"));
        Assert.Contains("connection refused", r.Output[0].S("Reason"));
        var days = r.Output.Skip(1).Select(o => (int)o.P("DaysLeft")!).ToList();
        Assert.Equal(days.OrderBy(d => d), days);
        Assert.Equal(new[] { -3, 5, 60, 70, 90 }, days);
    }

    [Fact]
    public void Thresholds_come_from_the_parameters_and_from_the_environment_per_label()
    {
        using var s = Session();
        var warn = Assert.Single(s.Run("Get-TlsCertificate $valid -CaFile $ca -WarningDays 100 -CriticalDays 10").Output);
        Assert.Equal("Warning", warn.S("Status"));
        Assert.Equal("warn < 100 days; critical < 10 days", warn.S("Threshold"));

        var env = Path.Combine(_sites.Folder, "labels.ops.psd1");
        File.WriteAllText(env, $$"""
            @{
                Name = 'certs'
                Thresholds = @{ CertificateWarningDays = 75 }
                Certificates = @{
                    CaFile = 'ca.pem'
                    Endpoints = @( '{{_sites.Endpoint("valid")}}', @{ Endpoint = '{{_sites.Endpoint("fullchain")}}'; Label = 'manual' }, @{ Endpoint = '{{_sites.Endpoint("nointermediate")}}'; Label = 'cert-manager' } )
                    Labels = @{ manual = @{ WarningDays = 100; CriticalDays = 80 }; 'cert-manager' = @{ WarningDays = 20 } }
                }
            }
            """);
        s.Set("env", env);
        var r = s.Run("Get-TlsCertificate -Environment $env");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var byPort = r.Output.ToDictionary(o => o.S("Name"));
        var full = byPort[_sites.Endpoint("fullchain")];
        Assert.Equal("manual", full.S("Label"));
        Assert.Equal("Critical", full.S("Status")); // 70 days < 80
        Assert.Equal("warn < 100 days; critical < 80 days", full.S("Threshold"));
        Assert.Equal("Healthy", byPort[_sites.Endpoint("valid")].S("Status")); // 90 > the environment's 75
        Assert.Equal("warn < 75 days; critical < 7 days", byPort[_sites.Endpoint("valid")].S("Threshold"));
        Assert.Equal("warn < 20 days; critical < 7 days", byPort[_sites.Endpoint("nointermediate")].S("Threshold"));
        Assert.Equal("certs", full.S("Environment"));
        Assert.Equal(new[] { 70, 80, 90 }, r.Output.Select(o => (int)o.P("DaysLeft")!));
    }

    [Fact]
    public void A_port_that_speaks_no_TLS_or_never_answers_is_an_unknown_result_with_the_reason()
    {
        using var http = HealthServer.Start(app => { });
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            using var s = Session();
            var sw = Stopwatch.StartNew();
            var r = s.Run($"Get-TlsCertificate 127.0.0.1:{http.HttpBase.Port}, 127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port} -TimeoutSec 2");
            Assert.Empty(r.Errors);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), sw.Elapsed.ToString());
            Assert.All(r.Output, o => Assert.Equal("Unknown", o.S("Status")));
            var reasons = r.Output.Select(o => o.S("Reason")).ToList();
            Assert.Contains(reasons, x => x.Contains("TLS handshake failed"));
            Assert.Contains(reasons, x => x.Contains("no TLS answer within 2 s"));
        }
        finally { silent.Stop(); }
    }

    [Fact]
    public void Without_the_intermediate_and_without_the_CA_file_the_chain_is_still_incomplete()
    {
        using var s = Session();
        var o = Assert.Single(s.Run("Get-TlsCertificate $nointermediate").Output);
        Assert.Equal("IncompleteChain", o.S("Problem"));
    }

    [Fact]
    public void Forty_silent_endpoints_time_out_together_not_one_after_another()
    {
        var listeners = Enumerable.Range(0, 40).Select(_ => { var l = new TcpListener(IPAddress.Loopback, 0); l.Start(); return l; }).ToList();
        try
        {
            using var s = Session();
            s.Set("eps", listeners.Select(l => $"127.0.0.1:{((IPEndPoint)l.LocalEndpoint).Port}").ToArray());
            var sw = Stopwatch.StartNew();
            var r = s.Run("Get-TlsCertificate $eps -TimeoutSec 2 -ThrottleLimit 40");
            Assert.Equal(40, r.Output.Count);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");
            var one = Stopwatch.StartNew();
            var serial = s.Run("Get-TlsCertificate $eps[0..3] -TimeoutSec 2 -ThrottleLimit 1");
            Assert.Equal(4, serial.Output.Count);
            Assert.True(one.Elapsed >= TimeSpan.FromSeconds(7.5), $"throttle 1 over 4 endpoints took only {one.Elapsed}");
        }
        finally { listeners.ForEach(l => l.Stop()); }
    }

    [Fact]
    public void Ctrl_C_stops_a_slow_fan_out_at_once()
    {
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            using var s = Session();
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
            var sw = Stopwatch.StartNew();
            var r = s.Run($"Get-TlsCertificate 127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port} -TimeoutSec 120", stop.Token);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(15), $"took {sw.Elapsed}");
            Assert.Empty(r.Output);
        }
        finally { silent.Stop(); }
    }

    [Fact]
    public void Garbage_endpoints_are_errors_that_name_them_and_the_rest_is_checked()
    {
        using var s = Session();
        var r = s.Run("Get-TlsCertificate 'ftp://x', 'host:99999', \"$valid,$valid\", 'a b:443', $valid -CaFile $ca");
        Assert.Equal(4, r.Errors.Count);
        Assert.Contains(r.Errors, e => e.Exception.Message.Contains("looks like a list of endpoints"));
        Assert.All(r.Errors, e => Assert.Equal("InvalidEndpoint", e.FullyQualifiedErrorId.Split(',')[0]));
        Assert.Single(r.Output);
        var missing = s.Run("Get-TlsCertificate $valid -CaFile /nonexistent/ca.pem");
        Assert.Empty(missing.Output);
        Assert.Equal("CaFileNotFound", Assert.Single(missing.Errors).FullyQualifiedErrorId.Split(',')[0]);
        Assert.Contains("does not exist", missing.Errors[0].Exception.Message);
    }

    // ---- files ----

    private string WriteFiles(string name)
    {
        var dir = Path.Combine(_sites.Folder, name);
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        var leaf = _sites.Leaves["expiring"];
        File.WriteAllText(Path.Combine(dir, "fullchain.pem"), TestPki.Pem(leaf) + TestPki.Pem(_sites.Pki.Intermediate) + TestPki.Pem(_sites.Pki.Root));
        File.WriteAllText(Path.Combine(dir, "privkey.pem"), TestPki.KeyPem(leaf));
        File.WriteAllText(Path.Combine(dir, "combined.pem"), TestPki.KeyPem(_sites.Leaves["valid"]) + TestPki.Pem(_sites.Leaves["valid"]));
        File.WriteAllBytes(Path.Combine(dir, "sub", "api.der"), _sites.Leaves["expired"].RawData);
        File.WriteAllBytes(Path.Combine(dir, "sub", "site.pfx"), _sites.Leaves["fullchain"].Export(X509ContentType.Pkcs12, "pfx-S3cret!"));
        File.WriteAllText(Path.Combine(dir, "README.txt"), "not a certificate");
        return dir;
    }

    [Fact]
    public void A_certificate_not_valid_yet_is_critical_with_the_date_it_starts()
    {
        // A certificate issued by a CA whose clock runs ahead (or installed too early): clients refuse it until NotBefore.
        var dir = Path.Combine(_sites.Folder, "future");
        Directory.CreateDirectory(dir);
        var notBefore = new DateTimeOffset(DateTime.UtcNow.Date.AddDays(3).AddHours(6), TimeSpan.Zero);
        using var leaf = _sites.Pki.Issue(new[] { "future.example.test" }, notBefore.AddDays(90), notBefore);
        File.WriteAllText(Path.Combine(dir, "future.pem"), TestPki.Pem(leaf));
        using var s = Session();
        s.Set("f", Path.Combine(dir, "future.pem"));
        var r = s.Run("Get-TlsCertificate -Path $f");
        Assert.Empty(r.Errors);
        var c = Assert.Single(r.Output);
        Assert.Equal("Critical", c.S("Status"));
        Assert.Equal("NotYetValid", c.S("Problem"));
        Assert.StartsWith($"not valid before {notBefore.UtcDateTime:yyyy-MM-dd HH:mm} UTC", c.S("Reason"));
        Assert.Contains("Check the clock", c.S("Message"));
    }

    [Fact]
    public void Every_certificate_of_a_PEM_bundle_is_read_and_key_blocks_are_skipped_unread()
    {
        var dir = WriteFiles("bundle");
        using var s = Session();
        s.Set("d", dir);
        var r = s.Run("Get-TlsCertificate -Path $d/fullchain.pem, $d/combined.pem");
        Assert.Empty(r.Errors);
        Assert.Equal(4, r.Output.Count);
        Assert.Equal(new[] { 5, 90, 1825, 3652 }.Select(d => d / 10), r.Output.Select(o => (int)o.P("DaysLeft")! / 10));
        Assert.Equal($"{dir}/fullchain.pem#0", r.Output[0].S("Name"));
        Assert.Equal("Pem", r.Output[0].S("Format"));
        Assert.All(r.Output, o => Assert.Null(o.P("Trusted")));
        // No part of a private key in anything the user sees.
        var key = TestPki.KeyPem(_sites.Leaves["valid"]).Split('\n')[2];
        var everything = string.Join("\n", r.Output.Select(o => System.Text.Json.JsonSerializer.Serialize(o.BaseObject, o.BaseObject.GetType())));
        Assert.DoesNotContain(key, everything);
        Assert.DoesNotContain("PRIVATE KEY", everything);
    }

    [Fact]
    public void A_folder_is_read_recursively_DER_and_PFX_included_and_key_and_text_files_left_out()
    {
        var dir = WriteFiles("tree");
        using var s = Session();
        s.Set("d", dir);
        s.Set("pw", Secure("pfx-S3cret!"));
        var flat = s.Run("Get-TlsCertificate -Path $d");
        Assert.Empty(flat.Errors);
        Assert.Equal(4, flat.Output.Count); // fullchain (3) + combined (1)
        var r = s.Run("Get-TlsCertificate -Path $d -Recurse -Password $pw");
        Assert.Empty(r.Errors);
        Assert.Equal(6, r.Output.Count);
        Assert.Equal("Der", r.Output[0].S("Format"));
        Assert.Equal("Expired", r.Output[0].S("Problem"));
        var pfx = r.Output.Single(o => o.S("Format") == "Pkcs12");
        Assert.Equal(_sites.Leaves["fullchain"].Thumbprint, pfx.S("Thumbprint"));
        Assert.DoesNotContain(r.Output, o => o.S("Name").Contains("privkey") || o.S("Name").Contains("README"));
    }

    [Fact]
    public void A_PFX_password_comes_from_a_variable_and_a_wrong_or_missing_one_is_an_unknown_result()
    {
        var dir = WriteFiles("pfx");
        using var s = Session();
        s.Set("pfx", Path.Combine(dir, "sub", "site.pfx"));
        Environment.SetEnvironmentVariable("OPSTOOLS_TEST_PFX_PW", "pfx-S3cret!");
        try
        {
            var ok = Assert.Single(s.Run("Get-TlsCertificate -Path $pfx -PasswordVariable OPSTOOLS_TEST_PFX_PW").Output);
            Assert.Equal("Healthy", ok.S("Status"));
            Assert.Equal(70, ok.P("DaysLeft"));
        }
        finally { Environment.SetEnvironmentVariable("OPSTOOLS_TEST_PFX_PW", null); }
        s.Set("bad", Secure("wrong"));
        var wrong = Assert.Single(s.Run("Get-TlsCertificate -Path $pfx -Password $bad").Output);
        Assert.Equal("Unknown", wrong.S("Status"));
        Assert.Contains("password is wrong", wrong.S("Reason"));
        var none = Assert.Single(s.Run("Get-TlsCertificate -Path $pfx").Output);
        Assert.Contains("needs a password", none.S("Reason"));
        var unset = s.Run("Get-TlsCertificate -Path $pfx -PasswordVariable OPSTOOLS_TEST_NOT_SET");
        Assert.Empty(unset.Output);
        Assert.Equal("PasswordVariableNotSet", Assert.Single(unset.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void A_cut_short_or_garbage_file_is_an_unknown_result_that_says_why()
    {
        var dir = Path.Combine(_sites.Folder, "garbage");
        Directory.CreateDirectory(dir);
        var pem = TestPki.Pem(_sites.Leaves["valid"]);
        File.WriteAllText(Path.Combine(dir, "cut.pem"), pem[..(pem.Length / 2)]);
        File.WriteAllBytes(Path.Combine(dir, "noise.crt"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(300));
        using var s = Session();
        s.Set("d", dir);
        var r = s.Run("Get-TlsCertificate -Path $d/cut.pem, $d/noise.crt, $d/missing.pem");
        Assert.Equal(3, r.Output.Count);
        Assert.All(r.Output, o => Assert.Equal("Unknown", o.S("Status")));
        Assert.Contains(r.Output, o => o.S("Reason").Contains("cut short"));
        Assert.Contains(r.Output, o => o.S("Reason").Contains("no certificate"));
        Assert.Contains(r.Output, o => o.S("Reason").Contains("no such file"));
    }

    [Fact]
    public void The_table_at_80_columns_shows_days_left_and_the_reason()
    {
        using var s = Session();
        s.Host.UI.RawUI.BufferSize = new System.Management.Automation.Host.Size(80, 3000);
        var r = s.Run("Get-TlsCertificate $expiring, $wronghost, $nointermediate -CaFile $ca | Out-Default");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var text = s.Host.Text;
        var lines = text.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0).ToList();
        Assert.Contains("Days", lines[0]);
        Assert.Contains("Reason", lines[0]);
        Assert.All(lines, l => Assert.True(l.Length <= 80, l));
        Assert.Contains(lines, l => l.Contains("    5 ") && l.Contains("expires in 5 days"));
        Assert.Contains(lines, l => l.Contains("issued for api.example"));
        Assert.Contains(lines, l => l.Contains("incomplete chain"));
    }

    private static SecureString Secure(string s)
    {
        var x = new SecureString();
        foreach (var c in s) x.AppendChar(c);
        x.MakeReadOnly();
        return x;
    }
}
