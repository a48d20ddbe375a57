using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using OpsTools.Certificates;
using OpsTools.Engine.Kubernetes;

namespace OpsTools.Engine.Certificates;

/// <summary>
/// Certificates in Kubernetes: TLS secrets (tls.crt, ca.crt) and PEM values in other secrets except service account
/// tokens (private keys are never read: tls.key and key-looking values are skipped by name, other PEM blocks than CERTIFICATE are skipped unread);
/// cert-manager Certificate resources (cert-manager.io/v1) joined to their secrets, as cmctl status shows them; the
/// manual renewal cmctl renew performs (the Issuing condition, reason ManuallyTriggered, written with UpdateStatus).
/// </summary>
public static class KubeCertificates
{
    public const string Group = "cert-manager.io";
    public const string Version = "v1";
    public const string Plural = "certificates";
    public const string CertManagerLabel = "cert-manager";
    private const string CertificateNameAnnotation = "cert-manager.io/certificate-name";
    private const string ServiceAccountTokenType = "kubernetes.io/service-account-token";

    /// <summary>Thresholds for a label (null: no label).</summary>
    public delegate CertificateThresholds ThresholdsFor(string? label);

    /// <summary>The certificates in the secrets of <paramref name="ns"/> (null: every namespace), optionally only secrets whose name matches.</summary>
    public static async Task<IReadOnlyList<CertificateResult>> SecretCertificatesAsync(KubeTarget target, string? ns, Func<string, bool>? nameFilter,
        ThresholdsFor thresholds, string? environment, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var list = await KubeErrors.CallAsync(target, "list secrets", null, ns,
            () => ns is null ? target.Client.CoreV1.ListSecretForAllNamespacesAsync(cancellationToken: ct)
                             : target.Client.CoreV1.ListNamespacedSecretAsync(ns, cancellationToken: ct), ct).ConfigureAwait(false);
        var now = DateTime.UtcNow;
        var results = new List<CertificateResult>();
        foreach (var s in list.Items)
        {
            if (nameFilter is not null && !nameFilter(s.Metadata.Name)) continue;
            results.AddRange(FromSecret(target, s, thresholds, environment, now));
        }
        foreach (var r in results) r.Duration = sw.Elapsed;
        return results;
    }

    /// <summary>Keys that hold private material: never read.</summary>
    private static bool IsKeyName(string key) =>
        key.EndsWith(".key", StringComparison.OrdinalIgnoreCase) || key.Contains("private", StringComparison.OrdinalIgnoreCase) ||
        key.Equals("key", StringComparison.OrdinalIgnoreCase) || key.EndsWith("-key", StringComparison.OrdinalIgnoreCase) ||
        key.Contains("password", StringComparison.OrdinalIgnoreCase) || key.Contains("token", StringComparison.OrdinalIgnoreCase);

    internal static IEnumerable<CertificateResult> FromSecret(KubeTarget target, V1Secret s, ThresholdsFor thresholds, string? environment, DateTime now)
    {
        // Service account token secrets hold a bearer token and a copy of the cluster's API CA (ca.crt), one per service
        // account in every namespace: not a certificate anyone deployed, and a secret not to read at all.
        if (s.Type == ServiceAccountTokenType) yield break;
        var data = s.Data ?? new Dictionary<string, byte[]>();
        var isTls = s.Type == "kubernetes.io/tls";
        var label = s.Metadata.Annotations?.ContainsKey(CertificateNameAnnotation) == true ? CertManagerLabel : null;
        var ns = s.Metadata.NamespaceProperty;
        var clusterId = target.WithNamespace(ns).Id;
        foreach (var (key, value) in data.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (value is null || value.Length == 0 || IsKeyName(key)) continue;
            var wanted = isTls ? key is "tls.crt" or "ca.crt" : false;
            string? text = null;
            if (!wanted)
            {
                // Other secrets: only values that are PEM certificates (checked on the text, no decoding of anything else).
                if (value.Length > 1024 * 1024) continue;
                text = Encoding.ASCII.GetString(value);
                if (!text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)) continue;
            }
            text ??= Encoding.ASCII.GetString(value);
            var certs = CertificateFiles.ReadPemCertificates(text, out var problem);
            var baseName = $"{ns}/{s.Metadata.Name}/{key}";
            if (certs.Count == 0)
            {
                var bad = new CertificateResult
                {
                    Check = "Certificate", Area = "Certificates", Source = CertificateSource.Secret, Target = baseName, Name = baseName,
                    Namespace = ns, SecretName = s.Metadata.Name, SecretKey = key, Label = label, Environment = environment, ClusterId = clusterId,
                    Reason = problem ?? $"'{key}' holds no PEM certificate",
                };
                CertificateRules.Apply(bad, thresholds(label), now);
                yield return bad;
                continue;
            }
            for (var i = 0; i < certs.Count; i++)
            {
                using var cert = certs[i];
                var name = certs.Count == 1 ? baseName : $"{baseName}#{i}";
                var r = new CertificateResult
                {
                    Check = "Certificate", Area = "Certificates", Source = CertificateSource.Secret, Target = name, Name = name,
                    Namespace = ns, SecretName = s.Metadata.Name, SecretKey = key, Index = i, Format = "Pem", Label = label,
                    Environment = environment, ClusterId = clusterId,
                };
                CertificateRules.Fill(r, CertificateFacts.Describe(cert, now));
                CertificateRules.Apply(r, thresholds(label), now);
                yield return r;
            }
        }
    }

    /// <summary>
    /// The TLS hosts of <paramref name="ns"/> (null: all): every Ingress TLS host, and on OpenShift (where the cluster serves
    /// route.openshift.io/v1) every Route with TLS: (namespace/ingress or namespace/route, host, secretName or null).
    /// </summary>
    public static async Task<IReadOnlyList<(string Ingress, string Host, string? Secret)>> IngressTlsHostsAsync(KubeTarget target, string? ns, CancellationToken ct)
    {
        var list = await KubeErrors.CallAsync(target, "list ingresses", null, ns,
            () => ns is null ? target.Client.NetworkingV1.ListIngressForAllNamespacesAsync(cancellationToken: ct)
                             : target.Client.NetworkingV1.ListNamespacedIngressAsync(ns, cancellationToken: ct), ct).ConfigureAwait(false);
        var hosts = new List<(string, string, string?)>();
        foreach (var ing in list.Items)
            foreach (var tls in ing.Spec?.Tls ?? new List<V1IngressTLS>())
                foreach (var h in tls.Hosts ?? new List<string>())
                    hosts.Add(($"{ing.Metadata.NamespaceProperty}/{ing.Metadata.Name}", h, tls.SecretName));
        hosts.AddRange(await RouteTlsHostsAsync(target, ns, ct).ConfigureAwait(false));
        return hosts;
    }

    /// <summary>OpenShift Routes with TLS (spec.tls set, any termination) and their spec.host; none where the cluster serves no Routes.</summary>
    private static async Task<IReadOnlyList<(string, string, string?)>> RouteTlsHostsAsync(KubeTarget target, string? ns, CancellationToken ct)
    {
        var routes = await ListCustomObjectsAsync(target, "route.openshift.io", "v1", "routes", ns, "list routes", _ => Array.Empty<JsonObject>(), ct).ConfigureAwait(false);
        var hosts = new List<(string, string, string?)>();
        foreach (var route in routes)
        {
            if (route["spec"]?["tls"] is not JsonObject || (string?)route["spec"]?["host"] is not { Length: > 0 } host) continue;
            hosts.Add(($"{(string?)route["metadata"]?["namespace"]}/{(string?)route["metadata"]?["name"]}", host, null));
        }
        return hosts;
    }

    // ---------------- cert-manager ----------------

    private static OpsToolsException NotServed(KubeTarget target, Exception inner) => new("CertManagerNotInstalled", OpsErrorKind.NotFound,
        $"The cluster of {target.Describe()} does not serve cert-manager's Certificate API ({Group}/{Version}): is cert-manager installed (kubectl get crd certificates.cert-manager.io)?",
        target.Context, inner);

    private static async Task<bool> CertificateApiServedAsync(KubeTarget target, string ns, CancellationToken ct)
    {
        try
        {
            await target.Client.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>(Group, Version, ns, Plural, limit: 1, cancellationToken: ct).ConfigureAwait(false);
            return true;
        }
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound) { return false; }
        catch (Exception e) when (e is not OperationCanceledException) { return true; } // another failure: let the object's own 404 speak
    }

    /// <summary>cert-manager Certificates of <paramref name="ns"/> (null: every namespace) as JSON.</summary>
    public static Task<IReadOnlyList<JsonObject>> ListCertificateObjectsAsync(KubeTarget target, string? ns, CancellationToken ct) =>
        ListCustomObjectsAsync(target, Group, Version, Plural, ns, "list cert-manager Certificates", e => throw NotServed(target, e), ct);

    /// <summary>
    /// The objects of a custom resource API in <paramref name="ns"/> (null: every namespace), as JSON; where the cluster does
    /// not serve that API (404 on the list), what <paramref name="notServed"/> says. Other failures are KubeErrors' own.
    /// </summary>
    private static async Task<IReadOnlyList<JsonObject>> ListCustomObjectsAsync(KubeTarget target, string group, string version, string plural,
        string? ns, string action, Func<HttpOperationException, IReadOnlyList<JsonObject>> notServed, CancellationToken ct)
    {
        JsonElement body;
        try
        {
            body = ns is null
                ? await target.Client.CustomObjects.ListClusterCustomObjectAsync<JsonElement>(group, version, plural, cancellationToken: ct).ConfigureAwait(false)
                : await target.Client.CustomObjects.ListNamespacedCustomObjectAsync<JsonElement>(group, version, ns, plural, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound) { return notServed(e); }
        catch (Exception e) when (KubeErrors.Translate(e, target, action, null, ns, ct) is { } t && !ReferenceEquals(t, e)) { throw t; }
        var items = JsonNode.Parse(body.GetRawText())?["items"]?.AsArray() ?? new JsonArray();
        return items.OfType<JsonObject>().ToList();
    }

    public static async Task<JsonObject> GetCertificateObjectAsync(KubeTarget target, string ns, string name, CancellationToken ct)
    {
        HttpOperationException? notFound = null;
        try
        {
            var e = await target.Client.CustomObjects.GetNamespacedCustomObjectAsync<JsonElement>(Group, Version, ns, Plural, name, cancellationToken: ct).ConfigureAwait(false);
            return JsonNode.Parse(e.GetRawText())!.AsObject();
        }
        // A 404 is either "no such Certificate" or "no Certificate API at all" (cert-manager not installed): the list says which.
        catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound) { notFound = e; }
        catch (Exception e) when (KubeErrors.Translate(e, target, $"read certificate '{name}'", $"certificate '{name}'", ns, ct) is { } t && !ReferenceEquals(t, e)) { throw t; }
        if (!await CertificateApiServedAsync(target, ns, ct).ConfigureAwait(false)) throw NotServed(target, notFound!);
        throw (Exception?)KubeErrors.Translate(notFound!, target, $"read certificate '{name}'", $"certificate '{name}'", ns, ct) ?? new OperationCanceledException(ct);
    }

    /// <summary>cmctl status: the Certificate with its conditions and dates, joined to the certificate in its secret.</summary>
    public static async Task<CertManagerCertificateResult> DescribeAsync(KubeTarget target, JsonObject crt, ThresholdsFor thresholds, string? environment, CancellationToken ct)
    {
        var sw = Stopwatch.StartNew();
        var ns = (string?)crt["metadata"]?["namespace"] ?? target.Namespace;
        var name = (string?)crt["metadata"]?["name"] ?? "";
        var spec = crt["spec"] as JsonObject ?? new JsonObject();
        var status = crt["status"] as JsonObject ?? new JsonObject();
        var r = new CertManagerCertificateResult
        {
            Check = "CertManagerCertificate", Area = "Certificates", Namespace = ns, Name = name, Target = $"{ns}/{name}",
            SecretName = (string?)spec["secretName"] ?? "",
            DnsNames = (spec["dnsNames"] as JsonArray)?.Select(n => (string?)n ?? "").Where(n => n.Length > 0).ToList() ?? new List<string>(),
            Issuer = $"{(string?)spec["issuerRef"]?["kind"] ?? "Issuer"}/{(string?)spec["issuerRef"]?["name"] ?? "?"}",
            NotBefore = Time(status["notBefore"]), NotAfter = Time(status["notAfter"]), RenewalTime = Time(status["renewalTime"]),
            FailedIssuanceAttempts = (int?)status["failedIssuanceAttempts"] ?? 0, LastFailureTime = Time(status["lastFailureTime"]),
            Revision = (int?)status["revision"], Environment = environment, ClusterId = target.WithNamespace(ns).Id,
            Label = (string?)crt["metadata"]?["labels"]?["opstools.io/certificate-label"] ?? CertManagerLabel,
        };
        var ready = Condition(crt, "Ready");
        var issuing = Condition(crt, "Issuing");
        r.Ready = (string?)ready?["status"];
        r.ReadyMessage = ready is null ? null : $"{(string?)ready["reason"]}: {(string?)ready["message"]}".Trim(' ', ':');
        r.Issuing = (string?)issuing?["status"] == "True";
        r.IssuingMessage = issuing is null ? null : $"{(string?)issuing["reason"]}: {(string?)issuing["message"]}".Trim(' ', ':');

        var now = DateTime.UtcNow;
        string? secretProblem = null;
        if (r.SecretName.Length > 0)
        {
            try
            {
                var secret = await target.Client.CoreV1.ReadNamespacedSecretAsync(r.SecretName, ns, cancellationToken: ct).ConfigureAwait(false);
                if (secret.Data is { } d && d.TryGetValue("tls.crt", out var crtBytes) && crtBytes is { Length: > 0 })
                {
                    var certs = CertificateFiles.ReadPemCertificates(Encoding.ASCII.GetString(crtBytes), out _);
                    if (certs.Count > 0) r.SecretCertificate = CertificateFacts.Describe(certs[0], now);
                    foreach (var c in certs) c.Dispose();
                    if (certs.Count == 0) secretProblem = $"secret '{r.SecretName}' has no certificate in tls.crt";
                }
                else secretProblem = $"secret '{r.SecretName}' has no tls.crt";
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.NotFound) { secretProblem = $"secret '{r.SecretName}' does not exist"; }
            catch (Exception e) when (KubeErrors.Translate(e, target, $"read secret '{r.SecretName}'", $"secret '{r.SecretName}'", ns, ct) is { } t && !ReferenceEquals(t, e))
            { secretProblem = t.Message; }
        }
        r.NotAfter ??= r.SecretCertificate?.NotAfter;
        r.NotBefore ??= r.SecretCertificate?.NotBefore;
        var th = thresholds(r.Label);
        r.Threshold = th.Describe();
        var reasons = new List<string>();
        var statusValue = CheckStatus.Healthy;
        void Worse(CheckStatus s) { if (s > statusValue) statusValue = s; }
        if (r.NotAfter is DateTime na)
        {
            var days = (na - now).TotalDays;
            r.DaysLeft = CertificateFacts.WholeDaysLeft(na, now);
            r.Value = r.DaysLeft;
            reasons.Add(days < 0 ? $"expired {-r.DaysLeft} days ago" : $"expires in {r.DaysLeft} days");
            if (days < th.CriticalDays) Worse(CheckStatus.Critical); else if (days < th.WarningDays) Worse(CheckStatus.Warning);
            if (r.RenewalTime is DateTime rt && rt < now.AddMinutes(-10) && !r.Issuing)
            {
                reasons.Add($"renewal was due {rt:yyyy-MM-dd HH:mm} UTC");
                Worse(CheckStatus.Warning);
            }
        }
        else { reasons.Add("no certificate issued yet"); Worse(CheckStatus.Warning); }
        if (r.Ready != "True")
        {
            reasons.Insert(0, $"not ready{(r.ReadyMessage is { Length: > 0 } m ? $" ({m})" : "")}");
            Worse(r.NotAfter is DateTime x && x > now ? CheckStatus.Warning : CheckStatus.Critical);
        }
        if (r.Issuing) reasons.Add($"issuing{(r.IssuingMessage is { Length: > 0 } im ? $" ({im})" : "")}");
        if (r.FailedIssuanceAttempts > 0)
        {
            reasons.Add($"{r.FailedIssuanceAttempts} failed issuance attempt(s){(r.LastFailureTime is DateTime lf ? $", last {lf:yyyy-MM-dd HH:mm} UTC" : "")}");
            Worse(CheckStatus.Warning);
        }
        if (secretProblem is not null) { reasons.Add(secretProblem); Worse(CheckStatus.Warning); }
        r.Status = statusValue;
        r.Reason = string.Join("; ", reasons);
        r.Message = $"Certificate {ns}/{name} ({r.Issuer}, secret {r.SecretName}): {r.Reason}." +
                    (statusValue == CheckStatus.Healthy ? "" : r.Ready != "True" || r.FailedIssuanceAttempts > 0 ? " See kubectl describe certificate and its CertificateRequests." : " Renew it (Update-CertManagerCertificate) or check why cert-manager has not.");
        r.Duration = sw.Elapsed;
        return r;
    }

    private static JsonObject? Condition(JsonObject crt, string type) =>
        (crt["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == type);

    private static DateTime? Time(JsonNode? n) =>
        n is null ? null : DateTime.TryParse((string?)n, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : null;

    /// <summary>
    /// What cmctl renew does: sets the Issuing condition (status True, reason ManuallyTriggered, message "Certificate
    /// re-issuance manually triggered", observedGeneration, lastTransitionTime kept when it already was True) on the
    /// Certificate's status and writes it with UpdateStatus (a 409 conflict is read again and retried).
    /// </summary>
    public static async Task TriggerIssuanceAsync(KubeTarget target, string ns, string name, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var crt = await GetCertificateObjectAsync(target, ns, name, ct).ConfigureAwait(false);
            var status = crt["status"] as JsonObject;
            if (status is null) { status = new JsonObject(); crt["status"] = status; }
            var conditions = status["conditions"] as JsonArray;
            if (conditions is null) { conditions = new JsonArray(); status["conditions"] = conditions; }
            var now = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == "Issuing");
            var condition = new JsonObject
            {
                ["type"] = "Issuing",
                ["status"] = "True",
                ["reason"] = "ManuallyTriggered",
                ["message"] = "Certificate re-issuance manually triggered",
                ["lastTransitionTime"] = existing is not null && (string?)existing["status"] == "True" ? (string?)existing["lastTransitionTime"] ?? now : now,
            };
            if (crt["metadata"]?["generation"] is JsonNode gen) condition["observedGeneration"] = gen.DeepClone();
            if (existing is not null) conditions[conditions.IndexOf(existing)] = condition; else conditions.Add(condition);
            try
            {
                await target.Client.CustomObjects.ReplaceNamespacedCustomObjectStatusAsync<JsonElement>(
                    JsonSerializer.Deserialize<JsonElement>(crt.ToJsonString()), Group, Version, ns, Plural, name, cancellationToken: ct).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (KubeErrors.IsConflict(e) && attempt < 5) { }
            catch (Exception e) when (KubeErrors.Translate(e, target, $"trigger issuance of certificate '{name}'", $"certificate '{name}'", ns, ct) is { } t && !ReferenceEquals(t, e)) { throw t; }
        }
    }
}
