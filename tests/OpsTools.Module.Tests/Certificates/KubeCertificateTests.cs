using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Certificates;

/// <summary>
/// Certificates in Kubernetes against the test API server: TLS and other secrets, Ingress TLS hosts, cert-manager
/// Certificates (CRD registered by the test, status written the way cert-manager's controller writes it) and their
/// renewal as cmctl renew does it, with the test playing the controller.
/// </summary>
[Collection("Kubernetes")]
public sealed class KubeCertificateTests : IClassFixture<CertificateTestSites>, IDisposable
{
    private readonly KubeCluster _k;
    private readonly CertificateTestSites _sites;
    private readonly string _ns;

    public KubeCertificateTests(KubeClusterFixture fixture, CertificateTestSites sites)
    {
        _k = fixture.Cluster;
        _sites = sites;
        _ns = _k.CreateNamespace("certs");
        CertManagerTestSupport.EnsureCrd(_k);
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    private ModuleSession Session()
    {
        var s = new ModuleSession();
        s.Invoke(_k.PowerShellSetup(_ns));
        s.Set("ca", _sites.CaFile);
        return s;
    }

    private X509Certificate2 Issue(int days) => _sites.Pki.Issue(new[] { "web.example.test" }, DateTimeOffset.UtcNow.AddDays(days).AddHours(1));

    [Fact]
    public void Certificates_in_TLS_and_other_secrets_are_read_sorted_by_days_left_and_keys_never_shown()
    {
        using var leaf = Issue(5);
        CertManagerTestSupport.WriteTlsSecret(_k, _ns, "web-tls", leaf, _sites.Pki.Root, "web");
        using var other = Issue(200);
        _k.Api.Post($"/api/v1/namespaces/{_ns}/secrets", new
        {
            metadata = new { name = "app-config" },
            type = "Opaque",
            data = new Dictionary<string, string>
            {
                ["bundle.pem"] = CertificateTestSites_B64(TestPki.Pem(other) + TestPki.Pem(_sites.Pki.Intermediate)),
                ["db-password"] = CertificateTestSites_B64("-----BEGIN CERTIFICATE----- not really"),
                ["settings.json"] = CertificateTestSites_B64("{\"a\":1}"),
            },
        });
        using var s = Session();
        var r = s.Run("Get-SecretCertificate @Kube");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { $"{_ns}/web-tls/tls.crt", $"{_ns}/app-config/bundle.pem#0", $"{_ns}/app-config/bundle.pem#1", $"{_ns}/web-tls/ca.crt" },
            r.Output.Select(o => o.S("Name")));
        var tls = r.Output[0];
        Assert.Equal("Critical", tls.S("Status"));
        Assert.Equal(5, tls.P("DaysLeft"));
        Assert.Equal("cert-manager", tls.S("Label"));
        Assert.Equal("Secret", tls.S("Source"));
        Assert.Equal("web-tls", tls.S("SecretName"));
        Assert.Equal("tls.crt", tls.S("SecretKey"));
        Assert.Equal(leaf.Thumbprint, tls.S("Thumbprint"));
        Assert.Equal("Healthy", r.Output[1].S("Status"));
        Assert.Empty(r.Output[1].S("Label"));
        var everything = string.Join("\n", r.Output.Select(o => System.Text.Json.JsonSerializer.Serialize(o.BaseObject, o.BaseObject.GetType())));
        Assert.DoesNotContain(TestPki.KeyPem(leaf).Split('\n')[2], everything);
        Assert.DoesNotContain("tls.key", everything);

        var one = s.Run("Get-SecretCertificate @Kube web-*");
        Assert.Equal(2, one.Output.Count);
    }

    [Fact]
    public void All_namespaces_are_read_with_AllNamespaces()
    {
        var other = _k.CreateNamespace("certs2");
        try
        {
            using var a = Issue(40);
            using var b = Issue(50);
            CertManagerTestSupport.WriteTlsSecret(_k, _ns, "a-tls", a, null, null);
            CertManagerTestSupport.WriteTlsSecret(_k, other, "b-tls", b, null, null);
            using var s = Session();
            var r = s.Run("Get-SecretCertificate -Kubeconfig $Kube.Kubeconfig -Context $Kube.Context -AllNamespaces");
            Assert.Empty(r.Errors);
            var mine = r.Output.Where(o => o.S("Namespace") == _ns || o.S("Namespace") == other).Select(o => o.S("Name")).ToList();
            Assert.Equal(new[] { $"{_ns}/a-tls/tls.crt", $"{other}/b-tls/tls.crt" }, mine);
        }
        finally { _k.DeleteNamespace(other); }
    }

    [Fact]
    public void Ingress_TLS_hosts_are_checked_as_endpoints_through_the_given_address()
    {
        _k.Api.Post($"/apis/networking.k8s.io/v1/namespaces/{_ns}/ingresses", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = "web" },
            ["spec"] = new JsonObject
            {
                ["tls"] = new JsonArray(new JsonObject { ["hosts"] = new JsonArray("localhost"), ["secretName"] = "web-tls" }),
                ["rules"] = new JsonArray(new JsonObject { ["host"] = "localhost" }),
            },
        });
        using var s = Session();
        s.Set("addr", _sites.Endpoint("expiring"));
        var r = s.Run("Get-SecretCertificate @Kube -Ingress -IngressAddress $addr -CaFile $ca");
        Assert.Empty(r.Errors);
        var ep = Assert.Single(r.Output, o => o.S("Source") == "Endpoint");
        Assert.Equal($"{_ns}/web localhost", ep.S("Name"));
        Assert.Equal("localhost", ep.S("ServerName"));
        Assert.Equal(5, ep.P("DaysLeft"));
        Assert.Equal(true, ep.P("Trusted"));
    }

    [Fact]
    public void OpenShift_Route_TLS_hosts_are_checked_too_where_the_cluster_serves_Routes()
    {
        // The test API server is plain Kubernetes: route.openshift.io/v1 is served here by a CustomResourceDefinition of
        // the same group, version and names as OpenShift's, which is how the command finds Routes (by the API, not the product).
        const string crdName = "routes.route.openshift.io";
        _k.Api.Post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", new JsonObject
        {
            ["apiVersion"] = "apiextensions.k8s.io/v1", ["kind"] = "CustomResourceDefinition",
            ["metadata"] = new JsonObject { ["name"] = crdName },
            ["spec"] = new JsonObject
            {
                ["group"] = "route.openshift.io", ["scope"] = "Namespaced",
                ["names"] = new JsonObject { ["kind"] = "Route", ["listKind"] = "RouteList", ["plural"] = "routes", ["singular"] = "route" },
                ["versions"] = new JsonArray(new JsonObject
                {
                    ["name"] = "v1", ["served"] = true, ["storage"] = true,
                    ["schema"] = new JsonObject { ["openAPIV3Schema"] = new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true } },
                }),
            },
        });
        try
        {
            KubeCluster.WaitFor(() => _k.Api.TryGet("/apis/route.openshift.io/v1") is not null, TimeSpan.FromSeconds(60), "the Route API to be served");
            JsonObject Route(string name, JsonNode? tls) => new()
            {
                ["apiVersion"] = "route.openshift.io/v1", ["kind"] = "Route", ["metadata"] = new JsonObject { ["name"] = name },
                ["spec"] = new JsonObject { ["host"] = "localhost", ["to"] = new JsonObject { ["kind"] = "Service", ["name"] = "web" }, ["tls"] = tls },
            };
            KubeCluster.WaitFor(() =>
            {
                try { _k.Api.Post($"/apis/route.openshift.io/v1/namespaces/{_ns}/routes", Route("web", new JsonObject { ["termination"] = "edge" })); return true; }
                catch (KubeApiException) { return false; }
            }, TimeSpan.FromSeconds(30), "the first Route to be accepted");
            _k.Api.Post($"/apis/route.openshift.io/v1/namespaces/{_ns}/routes", Route("plain", null));

            using var s = Session();
            s.Set("addr", _sites.Endpoint("expiring"));
            var r = s.Run("Get-SecretCertificate @Kube -Ingress -IngressAddress $addr -CaFile $ca -ThrottleLimit 2");
            Assert.Empty(r.Errors);
            // The Route with TLS is read as an endpoint; the one without TLS is not.
            var ep = Assert.Single(r.Output, o => o.S("Source") == "Endpoint");
            Assert.Equal($"{_ns}/web localhost", ep.S("Name"));
            Assert.Equal(5, ep.P("DaysLeft"));
        }
        finally
        {
            _k.Api.Delete($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crdName}");
            KubeCluster.WaitFor(() => _k.Api.TryGet("/apis/route.openshift.io/v1") is null, TimeSpan.FromSeconds(60), "the Route API to be gone");
        }
    }

    [Fact]
    public void CertManager_certificates_are_joined_to_their_secrets_with_conditions_and_failures()
    {
        using var web = Issue(20);
        CertManagerTestSupport.WriteTlsSecret(_k, _ns, "web-tls", web, null, "web");
        CertManagerTestSupport.CreateCertificate(_k, _ns, "web", "web-tls", new[] { "web.example.test" });
        CertManagerTestSupport.SetIssued(_k, _ns, "web", web, 3);
        CertManagerTestSupport.CreateCertificate(_k, _ns, "api", "api-tls", new[] { "api.example.test" });
        CertManagerTestSupport.SetFailed(_k, _ns, "api", "Issuing certificate as Secret does not exist");
        using var s = Session();
        var r = s.Run("Get-CertManagerCertificate @Kube");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "api", "web" }, r.Output.Select(o => o.S("Name"))); // no certificate yet first, then by days left
        var api = r.Output[0];
        Assert.Equal("Critical", api.S("Status"));
        Assert.Equal("False", api.S("Ready"));
        Assert.Equal(1, api.P("FailedIssuanceAttempts"));
        Assert.Contains("Secret does not exist", api.S("Reason"));
        Assert.Contains("secret 'api-tls' does not exist", api.S("Reason"));
        var w = r.Output[1];
        Assert.Equal("Warning", w.S("Status"));
        Assert.Equal(20, w.P("DaysLeft"));
        Assert.Equal("True", w.S("Ready"));
        Assert.Equal(3, w.P("Revision"));
        Assert.Equal("ClusterIssuer/test-ca", w.S("Issuer"));
        Assert.Equal(web.NotAfter.ToUniversalTime().ToString("s"), ((DateTime)w.P("NotAfter")!).ToString("s"));
        Assert.NotNull(w.P("RenewalTime"));
        Assert.Equal(web.Thumbprint, PSObject.AsPSObject(w.P("SecretCertificate")!).S("Thumbprint"));
        Assert.Equal("cert-manager", w.S("Label"));
    }

    [Fact]
    public void Renewal_sets_the_Issuing_condition_as_cmctl_does_and_waits_for_a_later_notAfter()
    {
        using var old = Issue(10);
        CertManagerTestSupport.WriteTlsSecret(_k, _ns, "web-tls", old, null, "web");
        CertManagerTestSupport.CreateCertificate(_k, _ns, "web", "web-tls", new[] { "web.example.test" });
        CertManagerTestSupport.SetIssued(_k, _ns, "web", old, 1);
        X509Certificate2? issued = null;
        using (var controller = new CertManagerTestSupport.ControllerSim(_k, _ns, _ => { issued = Issue(90); return X509CertificateLoader.LoadPkcs12(issued.Export(X509ContentType.Pkcs12), null); }, new HashSet<string>()))
        {
            using var s = Session();
            var r = s.Run("Get-CertManagerCertificate @Kube web | Update-CertManagerCertificate -Confirm:$false -TimeoutSec 60");
            Assert.Null(r.Terminating);
            Assert.Empty(r.Errors);
            var o = Assert.Single(r.Output);
            Assert.Equal(true, o.P("Renewed"));
            Assert.Equal("Healthy", o.S("Status"));
            Assert.Equal(old.NotAfter.ToUniversalTime().ToString("s"), ((DateTime)o.P("NotAfterBefore")!).ToString("s"));
            Assert.True((DateTime)o.P("NotAfterAfter")! > ((DateTime)o.P("NotAfterBefore")!).AddDays(70));
            var seen = Assert.Single(controller.SeenIssuing);
            Assert.Equal("ManuallyTriggered", (string?)seen["reason"]);
            Assert.Equal("Certificate re-issuance manually triggered", (string?)seen["message"]);
            Assert.Equal(1, (int?)seen["observedGeneration"]);
        }
        // The secret holds the new certificate (read through the API, not through OpsTools).
        var crt = _k.Api.Get($"/api/v1/namespaces/{_ns}/secrets/web-tls")["data"]!["tls.crt"]!.ToString();
        Assert.Contains(issued!.ExportCertificatePem().Split('\n')[1], Encoding.ASCII.GetString(Convert.FromBase64String(crt)));
        issued.Dispose();
    }

    [Fact]
    public void A_failed_or_ignored_renewal_says_why_and_WhatIf_changes_nothing()
    {
        using var old = Issue(10);
        foreach (var n in new[] { "broken", "stuck", "quiet" })
        {
            CertManagerTestSupport.WriteTlsSecret(_k, _ns, n + "-tls", old, null, n);
            CertManagerTestSupport.CreateCertificate(_k, _ns, n, n + "-tls", new[] { "web.example.test" });
            CertManagerTestSupport.SetIssued(_k, _ns, n, old, 1);
        }
        using var controller = new CertManagerTestSupport.ControllerSim(_k, _ns, _ => Issue(90), new HashSet<string> { "broken" }, new HashSet<string> { "stuck" });
        using var s = Session();
        var r = s.Run("Update-CertManagerCertificate @Kube broken, stuck -Confirm:$false -TimeoutSec 4");
        Assert.Equal(2, r.Output.Count);
        var broken = r.Output.Single(o => o.S("Name") == "broken");
        Assert.Equal("Critical", broken.S("Status"));
        Assert.Equal(false, broken.P("Renewed"));
        Assert.Contains("ACME server said no", broken.S("Reason"));
        var stuck = r.Output.Single(o => o.S("Name") == "stuck");
        Assert.StartsWith("not renewed within 4 s", stuck.S("Reason"));
        Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("CertificateRenewalFailed"));
        Assert.Contains(r.Errors, e => e.FullyQualifiedErrorId.StartsWith("CertificateRenewalTimedOut"));

        var whatIf = s.Run("Update-CertManagerCertificate @Kube quiet -WhatIf");
        Assert.Empty(whatIf.Errors);
        Assert.Equal(true, Assert.Single(whatIf.Output).P("WhatIf"));
        var conditions = _k.Api.Get($"/apis/cert-manager.io/v1/namespaces/{_ns}/certificates/quiet")["status"]!["conditions"]!.AsArray();
        Assert.DoesNotContain(conditions, c => (string?)c!["type"] == "Issuing");
    }

    [Fact]
    public void A_missing_certificate_is_an_error_that_names_it()
    {
        using var s = Session();
        var r = s.Run("Get-CertManagerCertificate @Kube nope");
        Assert.Empty(r.Output);
        Assert.Equal("KubeObjectNotFound", Assert.Single(r.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Without_cert_manager_every_command_says_it_is_not_installed_and_completion_offers_nothing()
    {
        CertManagerTestSupport.CreateCertificate(_k, _ns, "web", "web-tls", new[] { "web.example.test" });
        using var s = Session();
        var line = $"Update-CertManagerCertificate -Kubeconfig '{_k.KubeconfigPath}' -Context '{_k.Context}' -Namespace {_ns} -Name w";
        var complete = $"(TabExpansion2 -inputScript \"{line}\" -cursorColumn {line.Length}).CompletionMatches | ForEach-Object CompletionText";
        Assert.Equal(new[] { "web" }, s.Invoke(complete).Select(o => o.ToString()));
        CertManagerTestSupport.DeleteCrd(_k);
        try
        {
            foreach (var script in new[] { "Get-CertManagerCertificate @Kube", "Get-CertManagerCertificate @Kube web", "Get-CertManagerCertificate @Kube -AllNamespaces",
                                           "Update-CertManagerCertificate @Kube web -Confirm:$false -TimeoutSec 5" })
            {
                var r = s.Run(script);
                Assert.Empty(r.Output.Where(o => o.P("Renewed") is true || o.P("DaysLeft") is not null));
                var error = r.Terminating is ActionPreferenceStopException or null ? Assert.Single(r.Errors) : ((IContainsErrorRecord)r.Terminating).ErrorRecord;
                Assert.Equal("CertManagerNotInstalled", error.FullyQualifiedErrorId.Split(',')[0]);
                Assert.Contains("is cert-manager installed", error.Exception.Message);
                Assert.Equal(ErrorCategory.ObjectNotFound, error.CategoryInfo.Category);
            }
            Assert.Empty(s.Invoke(complete));
        }
        finally
        {
            CertManagerTestSupport.EnsureCrd(_k);
        }
    }

    private static string CertificateTestSites_B64(string s) => Convert.ToBase64String(Encoding.ASCII.GetBytes(s));
}
