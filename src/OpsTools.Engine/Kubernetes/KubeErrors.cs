using System.Net;
using System.Net.Http;
using System.Text.Json;
using k8s.Autorest;
using k8s.Exceptions;
using OpsTools.Engine.Security;

namespace OpsTools.Engine.Kubernetes;

/// <summary>
/// One place that turns what the API server (or the way to it) said into an <see cref="OpsToolsException"/>
/// naming the context, the namespace, the object and the cause, with what to do where there is something.
/// ErrorIds: KubeUnauthorized, KubeForbidden, KubeObjectNotFound, KubeConflict, KubeInvalid, KubeUnreachable,
/// KubeTimeout, KubeAuthPluginFailed, KubeApiError, KubeApiNotServed.
/// </summary>
public static class KubeErrors
{
    /// <summary>
    /// Translates <paramref name="e"/>; <paramref name="action"/> is what was being done ("scale deployment
    /// 'web'"), <paramref name="objectRef"/> what it was about ("deployment 'web'"), used for 404s.
    /// Cancellation by the user is passed through unchanged (returns null).
    /// </summary>
    public static OpsToolsException? Translate(Exception e, KubeTarget target, string action, string? objectRef = null, string? @namespace = null, CancellationToken cancellationToken = default)
    {
        if (e is OpsToolsException ops) return ops;
        if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) return null;
        var where = target.Describe(@namespace);
        switch (e)
        {
            case HttpOperationException http:
            {
                var status = http.Response?.StatusCode ?? 0;
                var reason = StatusMessage(http.Response?.Content) ?? http.Response?.ReasonPhrase ?? http.Message;
                reason = Redaction.ScrubText(reason);
                return status switch
                {
                    HttpStatusCode.Unauthorized => new OpsToolsException("KubeUnauthorized", OpsErrorKind.PermissionDenied,
                        $"Cannot {action}: the API server of {where} rejected the credentials of user '{target.User ?? "?"}' (401 Unauthorized: the token or certificate is expired, revoked or wrong). Log in again (oc login, az aks get-credentials, aws eks update-kubeconfig, gcloud container clusters get-credentials) and retry.",
                        objectRef ?? target.Context, e),
                    HttpStatusCode.Forbidden => new OpsToolsException("KubeForbidden", OpsErrorKind.PermissionDenied,
                        $"Cannot {action} in {where}: forbidden. {reason}. Ask for a role that allows it (check with 'kubectl auth can-i').",
                        objectRef ?? target.Context, e),
                    HttpStatusCode.NotFound => new OpsToolsException("KubeObjectNotFound", OpsErrorKind.NotFound,
                        $"Cannot {action}: {objectRef ?? "the object"} not found in {where}.",
                        objectRef, e),
                    HttpStatusCode.Conflict => new OpsToolsException("KubeConflict", OpsErrorKind.OperationFailed,
                        $"Cannot {action} in {where}: {reason} (another client changed it at the same time; retry).",
                        objectRef, e),
                    HttpStatusCode.UnprocessableEntity or HttpStatusCode.BadRequest => new OpsToolsException("KubeInvalid", OpsErrorKind.InvalidArgument,
                        $"Cannot {action} in {where}: the API server refused the change: {reason}.",
                        objectRef, e),
                    HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => new OpsToolsException("KubeUnreachable", OpsErrorKind.ConnectionError,
                        $"Cannot {action}: the API server of {where} is overloaded or unavailable ({(int)status}: {reason}). Retry later.",
                        target.Server, e),
                    _ => new OpsToolsException("KubeApiError", OpsErrorKind.OperationFailed,
                        $"Cannot {action} in {where}: the API server answered {(int)status} {status}: {reason}.",
                        objectRef, e),
                };
            }
            case KubeConfigException config:
                return new OpsToolsException("KubeAuthPluginFailed", OpsErrorKind.PermissionDenied,
                    $"Cannot {action}: getting credentials for {where} failed: {Redaction.ScrubText(KubeTargetResolver.FirstLine(config))}. Run the kubeconfig's exec plugin or login command by hand to see why.",
                    target.Context, e);
            case TaskCanceledException or TimeoutException or OperationCanceledException:
                return new OpsToolsException("KubeTimeout", OpsErrorKind.Timeout,
                    $"Cannot {action}: the API server of {where} did not answer in time.", target.Server, e);
            case HttpRequestException req:
                return new OpsToolsException("KubeUnreachable", OpsErrorKind.ConnectionError,
                    $"Cannot {action}: the API server of {where} cannot be reached: {Redaction.ScrubText(Innermost(req))}. Check the network/VPN and the server URL in the kubeconfig.",
                    target.Server, e);
            case IOException io:
                return new OpsToolsException("KubeUnreachable", OpsErrorKind.ConnectionError,
                    $"Cannot {action}: the connection to the API server of {where} broke: {Redaction.ScrubText(io.Message)}.", target.Server, e);
            case System.Security.Authentication.AuthenticationException tls:
                return new OpsToolsException("KubeUnreachable", OpsErrorKind.ConnectionError,
                    $"Cannot {action}: TLS with the API server of {where} failed: {tls.Message}. Check certificate-authority in the kubeconfig.", target.Server, e);
            default:
                return null;
        }
    }

    /// <summary>Runs one API call and translates its failure (see <see cref="Translate"/>).</summary>
    public static async Task<T> CallAsync<T>(KubeTarget target, string action, string? objectRef, string? @namespace, Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try { return await call().ConfigureAwait(false); }
        catch (Exception e) when (Translate(e, target, action, objectRef, @namespace, cancellationToken) is { } translated && !ReferenceEquals(translated, e))
        {
            throw translated;
        }
    }

    /// <summary>True for a 409 Conflict (stale resourceVersion): read again and retry.</summary>
    public static bool IsConflict(Exception e) => e is HttpOperationException { Response.StatusCode: HttpStatusCode.Conflict };

    /// <summary>True for a 404 Not Found.</summary>
    public static bool IsNotFound(Exception e) => e is HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound };

    /// <summary>The API server's own message (its Status object's message) of an HTTP failure, redacted; null for other failures.</summary>
    public static string? ServerMessage(Exception e) =>
        e is HttpOperationException http ? Redaction.ScrubText(StatusMessage(http.Response?.Content) ?? http.Response?.ReasonPhrase ?? http.Message) : null;

    /// <summary>True for a 400 Bad Request (e.g. a log that cannot be read: no previous container, container not started).</summary>
    public static bool IsBadRequest(Exception e) => e is HttpOperationException { Response.StatusCode: HttpStatusCode.BadRequest };

    private static string? StatusMessage(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("message", out var m) ? m.GetString() : null;
        }
        catch (JsonException) { return body.Length > 300 ? body[..300] : body; }
    }

    private static string Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e.Message;
    }
}
