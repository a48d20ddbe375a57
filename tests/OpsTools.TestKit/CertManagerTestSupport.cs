using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace OpsTools.TestKit;

/// <summary>
/// cert-manager's Certificate CustomResourceDefinition (cert-manager.io/v1, as cert-manager publishes it: the fields
/// OpsTools reads and writes, status subresource, printer columns), registered on the test API server, and a stand-in
/// for cert-manager's controller: when a Certificate's Issuing condition turns True it writes a new secret and sets
/// the status as cert-manager does (Ready True, notBefore/notAfter/renewalTime, revision, Issuing removed), or, for
/// Certificates marked to fail, Issuing False with reason Failed and failedIssuanceAttempts/lastFailureTime.
/// </summary>
public static class CertManagerTestSupport
{
    public const string CrdName = "certificates.cert-manager.io";

    public static void EnsureCrd(KubeCluster k)
    {
        if (k.Api.TryGet($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CrdName}") is null)
        {
            var condition = new JsonObject
            {
                ["type"] = "object",
                ["required"] = new JsonArray("status", "type"),
                ["properties"] = new JsonObject
                {
                    ["type"] = new JsonObject { ["type"] = "string" },
                    ["status"] = new JsonObject { ["type"] = "string", ["enum"] = new JsonArray("True", "False", "Unknown") },
                    ["reason"] = new JsonObject { ["type"] = "string" },
                    ["message"] = new JsonObject { ["type"] = "string" },
                    ["lastTransitionTime"] = new JsonObject { ["type"] = "string", ["format"] = "date-time" },
                    ["observedGeneration"] = new JsonObject { ["type"] = "integer", ["format"] = "int64" },
                },
            };
            JsonObject Str() => new() { ["type"] = "string" };
            JsonObject Time() => new() { ["type"] = "string", ["format"] = "date-time" };
            var crd = new JsonObject
            {
                ["apiVersion"] = "apiextensions.k8s.io/v1",
                ["kind"] = "CustomResourceDefinition",
                ["metadata"] = new JsonObject { ["name"] = CrdName, ["labels"] = new JsonObject { ["app.kubernetes.io/name"] = "cert-manager" } },
                ["spec"] = new JsonObject
                {
                    ["group"] = "cert-manager.io",
                    ["scope"] = "Namespaced",
                    ["names"] = new JsonObject
                    {
                        ["kind"] = "Certificate", ["listKind"] = "CertificateList", ["plural"] = "certificates", ["singular"] = "certificate",
                        ["shortNames"] = new JsonArray("cert", "certs"), ["categories"] = new JsonArray("cert-manager"),
                    },
                    ["versions"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "v1", ["served"] = true, ["storage"] = true,
                        ["subresources"] = new JsonObject { ["status"] = new JsonObject() },
                        ["additionalPrinterColumns"] = new JsonArray(
                            new JsonObject { ["name"] = "Ready", ["type"] = "string", ["jsonPath"] = ".status.conditions[?(@.type==\"Ready\")].status" },
                            new JsonObject { ["name"] = "Secret", ["type"] = "string", ["jsonPath"] = ".spec.secretName" },
                            new JsonObject { ["name"] = "Issuer", ["type"] = "string", ["jsonPath"] = ".spec.issuerRef.name", ["priority"] = 1 },
                            new JsonObject { ["name"] = "Age", ["type"] = "date", ["jsonPath"] = ".metadata.creationTimestamp" }),
                        ["schema"] = new JsonObject
                        {
                            ["openAPIV3Schema"] = new JsonObject
                            {
                                ["type"] = "object",
                                ["required"] = new JsonArray("spec"),
                                ["properties"] = new JsonObject
                                {
                                    ["apiVersion"] = Str(), ["kind"] = Str(), ["metadata"] = new JsonObject { ["type"] = "object" },
                                    ["spec"] = new JsonObject
                                    {
                                        ["type"] = "object",
                                        ["required"] = new JsonArray("issuerRef", "secretName"),
                                        ["properties"] = new JsonObject
                                        {
                                            ["secretName"] = Str(), ["commonName"] = Str(), ["duration"] = Str(), ["renewBefore"] = Str(),
                                            ["dnsNames"] = new JsonObject { ["type"] = "array", ["items"] = Str() },
                                            ["ipAddresses"] = new JsonObject { ["type"] = "array", ["items"] = Str() },
                                            ["isCA"] = new JsonObject { ["type"] = "boolean" },
                                            ["issuerRef"] = new JsonObject
                                            {
                                                ["type"] = "object", ["required"] = new JsonArray("name"),
                                                ["properties"] = new JsonObject { ["name"] = Str(), ["kind"] = Str(), ["group"] = Str() },
                                            },
                                            ["privateKey"] = new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true },
                                        },
                                    },
                                    ["status"] = new JsonObject
                                    {
                                        ["type"] = "object",
                                        ["properties"] = new JsonObject
                                        {
                                            ["conditions"] = new JsonObject
                                            {
                                                ["type"] = "array", ["items"] = condition,
                                                ["x-kubernetes-list-map-keys"] = new JsonArray("type"), ["x-kubernetes-list-type"] = "map",
                                            },
                                            ["notBefore"] = Time(), ["notAfter"] = Time(), ["renewalTime"] = Time(), ["lastFailureTime"] = Time(),
                                            ["revision"] = new JsonObject { ["type"] = "integer" },
                                            ["failedIssuanceAttempts"] = new JsonObject { ["type"] = "integer" },
                                            ["nextPrivateKeySecretName"] = Str(),
                                        },
                                    },
                                },
                            },
                        },
                    }),
                },
            };
            try { k.Api.Post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd); }
            catch (KubeApiException e) when (e.Status == System.Net.HttpStatusCode.Conflict) { }
        }
        KubeCluster.WaitFor(() =>
        {
            var c = k.Api.TryGet($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CrdName}");
            var established = (c?["status"]?["conditions"] as JsonArray)?.Any(x => (string?)x?["type"] == "Established" && (string?)x?["status"] == "True") == true;
            return established && k.Api.TryGet("/apis/cert-manager.io/v1") is not null;
        }, TimeSpan.FromSeconds(60), "the Certificate CRD to be established");
    }

    /// <summary>Removes the Certificate CRD (a cluster without cert-manager) and waits until the API server no longer serves cert-manager.io/v1; EnsureCrd puts it back.</summary>
    public static void DeleteCrd(KubeCluster k)
    {
        if (k.Api.TryGet($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CrdName}") is not null)
            k.Api.Delete($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CrdName}");
        KubeCluster.WaitFor(() => k.Api.TryGet($"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{CrdName}") is null && k.Api.TryGet("/apis/cert-manager.io/v1") is null,
            TimeSpan.FromSeconds(60), "the Certificate CRD to be gone");
    }

    public static string Base64(string s) => Convert.ToBase64String(Encoding.ASCII.GetBytes(s));

    public static void WriteTlsSecret(KubeCluster k, string ns, string name, X509Certificate2 leaf, X509Certificate2? ca, string? certificateName)
    {
        var body = new JsonObject
        {
            ["apiVersion"] = "v1", ["kind"] = "Secret", ["type"] = "kubernetes.io/tls",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["data"] = new JsonObject
            {
                ["tls.crt"] = Base64(TestPki.Pem(leaf)),
                ["tls.key"] = Base64(TestPki.KeyPem(leaf)),
            },
        };
        if (ca is not null) body["data"]!["ca.crt"] = Base64(TestPki.Pem(ca));
        if (certificateName is not null)
            body["metadata"]!["annotations"] = new JsonObject { ["cert-manager.io/certificate-name"] = certificateName, ["cert-manager.io/issuer-name"] = "test-ca" };
        if (k.Api.TryGet($"/api/v1/namespaces/{ns}/secrets/{name}") is null) k.Api.Post($"/api/v1/namespaces/{ns}/secrets", body);
        else k.Api.Put($"/api/v1/namespaces/{ns}/secrets/{name}", body);
    }

    public static void CreateCertificate(KubeCluster k, string ns, string name, string secret, string[] dnsNames) =>
        k.Api.Post($"/apis/cert-manager.io/v1/namespaces/{ns}/certificates", new JsonObject
        {
            ["apiVersion"] = "cert-manager.io/v1", ["kind"] = "Certificate",
            ["metadata"] = new JsonObject { ["name"] = name },
            ["spec"] = new JsonObject
            {
                ["secretName"] = secret,
                ["dnsNames"] = new JsonArray(dnsNames.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()),
                ["issuerRef"] = new JsonObject { ["name"] = "test-ca", ["kind"] = "ClusterIssuer", ["group"] = "cert-manager.io" },
            },
        });

    private static string T(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'");

    /// <summary>What cert-manager's controller writes once a certificate is issued: Ready True and the dates of the certificate in the secret.</summary>
    public static void SetIssued(KubeCluster k, string ns, string name, X509Certificate2 cert, int revision, int failed = 0)
    {
        var notAfter = new DateTimeOffset(cert.NotAfter.ToUniversalTime());
        var notBefore = new DateTimeOffset(cert.NotBefore.ToUniversalTime());
        var status = new JsonObject
        {
            ["conditions"] = new JsonArray(new JsonObject
            {
                ["type"] = "Ready", ["status"] = "True", ["reason"] = "Ready", ["message"] = "Certificate is up to date and has not expired",
                ["lastTransitionTime"] = T(DateTimeOffset.UtcNow), ["observedGeneration"] = 1,
            }),
            ["notBefore"] = T(notBefore), ["notAfter"] = T(notAfter),
            ["renewalTime"] = T(notAfter - (notAfter - notBefore) / 3), ["revision"] = revision,
        };
        if (failed > 0) status["failedIssuanceAttempts"] = failed;
        var crt = k.Api.Get($"/apis/cert-manager.io/v1/namespaces/{ns}/certificates/{name}").AsObject();
        crt["status"] = status;
        k.Api.Put($"/apis/cert-manager.io/v1/namespaces/{ns}/certificates/{name}/status", crt);
    }

    /// <summary>What cert-manager writes when an issuance fails: Issuing False (Failed), Ready False, failedIssuanceAttempts + 1, lastFailureTime.</summary>
    public static void SetFailed(KubeCluster k, string ns, string name, string message)
    {
        var crt = k.Api.Get($"/apis/cert-manager.io/v1/namespaces/{ns}/certificates/{name}").AsObject();
        var status = crt["status"]?.AsObject() ?? new JsonObject();
        var now = T(DateTimeOffset.UtcNow);
        status["conditions"] = new JsonArray(
            new JsonObject { ["type"] = "Ready", ["status"] = "False", ["reason"] = "Failed", ["message"] = message, ["lastTransitionTime"] = now, ["observedGeneration"] = 1 },
            new JsonObject { ["type"] = "Issuing", ["status"] = "False", ["reason"] = "Failed", ["message"] = message, ["lastTransitionTime"] = now, ["observedGeneration"] = 1 });
        status["failedIssuanceAttempts"] = ((int?)status["failedIssuanceAttempts"] ?? 0) + 1;
        status["lastFailureTime"] = now;
        crt["status"] = status;
        k.Api.Put($"/apis/cert-manager.io/v1/namespaces/{ns}/certificates/{name}/status", crt);
    }

    /// <summary>
    /// Plays cert-manager's controller for one namespace until disposed: Issuing True on a Certificate is answered with
    /// a new certificate (from <paramref name="issue"/>) in its secret and Ready status, or with a failure for names in <paramref name="failing"/>.
    /// Records the Issuing condition it saw (what the command wrote).
    /// </summary>
    public sealed class ControllerSim : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        public List<JsonObject> SeenIssuing { get; } = new();

        public ControllerSim(KubeCluster k, string ns, Func<string, X509Certificate2> issue, ISet<string> failing, ISet<string>? ignored = null)
        {
            _loop = Task.Run(async () =>
            {
                while (!_stop.IsCancellationRequested)
                {
                    try
                    {
                        var list = k.Api.Get($"/apis/cert-manager.io/v1/namespaces/{ns}/certificates")["items"]!.AsArray();
                        foreach (var crt in list.OfType<JsonObject>())
                        {
                            var name = (string)crt["metadata"]!["name"]!;
                            var issuing = (crt["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>()
                                .FirstOrDefault(c => (string?)c["type"] == "Issuing" && (string?)c["status"] == "True");
                            if (issuing is null || ignored?.Contains(name) == true) continue;
                            lock (SeenIssuing) SeenIssuing.Add((JsonObject)issuing.DeepClone());
                            if (failing.Contains(name)) { SetFailed(k, ns, name, "The certificate request has failed to complete and will be retried: ACME server said no"); continue; }
                            using var cert = issue(name);
                            WriteTlsSecret(k, ns, (string)crt["spec"]!["secretName"]!, cert, null, name);
                            SetIssued(k, ns, name, cert, ((int?)crt["status"]?["revision"] ?? 0) + 1);
                        }
                    }
                    catch (Exception) { /* a conflict with the command's write: next round */ }
                    try { await Task.Delay(300, _stop.Token); } catch (OperationCanceledException) { }
                }
            });
        }

        public void Dispose()
        {
            _stop.Cancel();
            try { _loop.Wait(5000); } catch (AggregateException) { }
        }
    }
}
