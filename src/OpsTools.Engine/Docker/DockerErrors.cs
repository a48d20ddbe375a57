using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using Docker.DotNet;
using OpsTools.Engine.Security;

namespace OpsTools.Engine.Docker;

/// <summary>
/// One place that turns what the engine (or the way to it) said into an <see cref="OpsToolsException"/> naming the
/// engine, the object and the cause. ErrorIds: DockerUnreachable, DockerPermissionDenied, DockerApiVersion,
/// DockerObjectNotFound, DockerConflict, DockerTimeout, DockerApiError.
/// </summary>
public static class DockerErrors
{
    public static OpsToolsException? Translate(Exception e, DockerTarget target, string action, string? objectRef = null, CancellationToken cancellationToken = default)
    {
        if (e is OpsToolsException ops) return ops;
        if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) return null;
        if (e is AggregateException { InnerExceptions.Count: 1 } agg) e = agg.InnerExceptions[0];
        var where = target.Describe();
        switch (e)
        {
            case DockerApiException api:
            {
                var message = Redaction.ScrubText(Message(api.ResponseBody) ?? api.Message);
                if (api.StatusCode == HttpStatusCode.BadRequest && message.Contains("API version", StringComparison.OrdinalIgnoreCase))
                    return new OpsToolsException("DockerApiVersion", OpsErrorKind.NotSupported,
                        $"Cannot {action}: the {where} does not support the API version OpsTools asks for ({message}). OpsTools needs Docker Engine 17.06 (API 1.30) or newer.", target.Endpoint.ToString(), e);
                return api.StatusCode switch
                {
                    HttpStatusCode.NotFound => new OpsToolsException("DockerObjectNotFound", OpsErrorKind.NotFound,
                        $"Cannot {action}: {objectRef ?? "the object"} not found on {where} ({message}).", objectRef, e),
                    HttpStatusCode.Conflict => new OpsToolsException("DockerConflict", OpsErrorKind.OperationFailed,
                        $"Cannot {action} on {where}: {message}.", objectRef, e),
                    HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized => new OpsToolsException("DockerPermissionDenied", OpsErrorKind.PermissionDenied,
                        $"Cannot {action}: the {where} refused it ({message}).", objectRef, e),
                    _ => new OpsToolsException("DockerApiError", OpsErrorKind.OperationFailed,
                        $"Cannot {action} on {where}: the engine answered {(int)api.StatusCode} {api.StatusCode}: {message}.", objectRef, e),
                };
            }
            case DockerConfigurationException config:
                return new OpsToolsException("DockerContextInvalid", OpsErrorKind.InvalidData, $"Cannot {action}: the Docker configuration cannot be read: {config.Message}", null, e);
            case TimeoutException or TaskCanceledException or OperationCanceledException:
                return new OpsToolsException("DockerTimeout", OpsErrorKind.Timeout, $"Cannot {action}: the {where} did not answer in time.", target.Endpoint.ToString(), e);
        }
        var socket = Find<SocketException>(e);
        var unauthorized = Find<UnauthorizedAccessException>(e);
        if (unauthorized is not null || socket?.SocketErrorCode == SocketError.AccessDenied)
            return new OpsToolsException("DockerPermissionDenied", OpsErrorKind.PermissionDenied,
                $"Cannot {action}: permission denied on {where}. Run as a member of the 'docker' group (sudo usermod -aG docker $USER, then log in again) or as root.", target.Endpoint.ToString(), e);
        if (socket is not null || e is HttpRequestException or IOException)
            return new OpsToolsException("DockerUnreachable", OpsErrorKind.ConnectionError,
                $"Cannot {action}: the {where} is not answering ({Redaction.ScrubText(socket?.Message ?? e.Message)}). Is the Docker daemon running (systemctl status docker), and is DOCKER_HOST right?", target.Endpoint.ToString(), e);
        return null;
    }

    /// <summary>Runs one API call and translates its failure.</summary>
    public static async Task<T> CallAsync<T>(DockerTarget target, string action, string? objectRef, Func<Task<T>> call, CancellationToken ct)
    {
        try { return await call().ConfigureAwait(false); }
        catch (Exception e) when (Translate(e, target, action, objectRef, ct) is { } translated && !ReferenceEquals(translated, e))
        {
            throw translated;
        }
    }

    public static async Task CallAsync(DockerTarget target, string action, string? objectRef, Func<Task> call, CancellationToken ct) =>
        await CallAsync<bool>(target, action, objectRef, async () => { await call().ConfigureAwait(false); return true; }, ct).ConfigureAwait(false);

    public static bool IsNotFound(Exception e) => e is DockerApiException { StatusCode: HttpStatusCode.NotFound } || e is OpsToolsException { ErrorId: "DockerObjectNotFound" };

    private static T? Find<T>(Exception e) where T : Exception
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is T t) return t;
            if (x is AggregateException a)
                foreach (var inner in a.InnerExceptions) if (Find<T>(inner) is { } found) return found;
        }
        return null;
    }

    private static string? Message(string? body)
    {
        if (string.IsNullOrWhiteSpace(body)) return null;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("message", out var m) ? m.GetString() : body.Trim();
        }
        catch (System.Text.Json.JsonException) { return body.Trim(); }
    }
}
