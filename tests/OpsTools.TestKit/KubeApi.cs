using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsTools.TestKit;

/// <summary>
/// A plain REST client for setting up and checking a test cluster: JSON in, JsonNode out. Deliberately
/// not KubernetesClient (the library under test): the tests check OpsTools' results against what the
/// API server itself says, and the test process keeps its own YamlDotNet.
/// </summary>
public sealed class KubeApi : IDisposable
{
    private readonly HttpClient _http;
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    public KubeApi(string server, string? token, string? caFile, string? clientCert = null, string? clientKey = null, bool insecure = false)
    {
        var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1), MaxConnectionsPerServer = 32 };
        X509Certificate2? ca = caFile is null ? null : X509CertificateLoader.LoadCertificateFromFile(caFile);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, chain, errors) =>
        {
            if (insecure || errors == SslPolicyErrors.None) return true;
            if (ca is null || cert is null) return false;
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.Add(ca);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return custom.Build(new X509Certificate2(cert));
        };
        if (clientCert is not null && clientKey is not null)
            handler.SslOptions.ClientCertificates = new X509CertificateCollection { X509Certificate2.CreateFromPemFile(clientCert, clientKey) };
        _http = new HttpClient(handler) { BaseAddress = new Uri(server.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public JsonNode Get(string path) => Send(HttpMethod.Get, path, null, null)!;

    /// <summary>GET that returns null for 404.</summary>
    public JsonNode? TryGet(string path)
    {
        try { return Get(path); }
        catch (KubeApiException e) when (e.Status == HttpStatusCode.NotFound) { return null; }
    }

    public string GetText(string path)
    {
        using var resp = _http.GetAsync(path.TrimStart('/')).GetAwaiter().GetResult();
        var body = resp.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!resp.IsSuccessStatusCode) throw new KubeApiException(resp.StatusCode, $"GET {path}: {(int)resp.StatusCode} {body}");
        return body;
    }

    public JsonNode Post(string path, object body) => Send(HttpMethod.Post, path, body, "application/json")!;
    public JsonNode Put(string path, object body) => Send(HttpMethod.Put, path, body, "application/json")!;
    /// <summary>A merge patch (RFC 7386), e.g. new { spec = new { replicas = 3 } }.</summary>
    public JsonNode Patch(string path, object body, string type = "application/merge-patch+json") => Send(HttpMethod.Patch, path, body, type)!;
    public JsonNode StrategicPatch(string path, object body) => Patch(path, body, "application/strategic-merge-patch+json");

    public void Delete(string path, object? body = null)
    {
        try { Send(HttpMethod.Delete, path, body, body is null ? null : "application/json"); }
        catch (KubeApiException e) when (e.Status == HttpStatusCode.NotFound) { }
    }

    private JsonNode? Send(HttpMethod method, string path, object? body, string? contentType)
    {
        using var req = new HttpRequestMessage(method, path.TrimStart('/'));
        if (body is not null)
        {
            var text = body as string ?? (body is JsonNode n ? n.ToJsonString() : JsonSerializer.Serialize(body, Json));
            req.Content = new StringContent(text, Encoding.UTF8);
            req.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType ?? "application/json");
        }
        using var resp = _http.SendAsync(req).GetAwaiter().GetResult();
        var respText = resp.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!resp.IsSuccessStatusCode)
            throw new KubeApiException(resp.StatusCode, $"{method} {path}: {(int)resp.StatusCode} {respText}");
        return respText.Length == 0 ? null : JsonNode.Parse(respText);
    }

    public void Dispose() => _http.Dispose();
}

public sealed class KubeApiException(HttpStatusCode status, string message) : Exception(message)
{
    public HttpStatusCode Status { get; } = status;
}
