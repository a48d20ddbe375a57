namespace OpsTools;

/// <summary>What kind of failure an <see cref="OpsToolsException"/> is; mapped to PowerShell's ErrorCategory.</summary>
public enum OpsErrorKind
{
    InvalidArgument,
    InvalidData,
    NotFound,
    ConnectionError,
    Timeout,
    PermissionDenied,
    NotSupported,
    OperationFailed,
}

/// <summary>
/// A failure the engine knows how to explain. The message names the target and the cause and,
/// where there is one, what to do. It never contains a secret.
/// </summary>
public class OpsToolsException : Exception
{
    public OpsToolsException(string errorId, OpsErrorKind kind, string message, object? target = null, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
        Target = target;
    }

    /// <summary>A stable identifier for scripts (e.g. <c>EnvironmentFileInvalid</c>).</summary>
    public string ErrorId { get; }
    /// <summary>The kind of failure.</summary>
    public OpsErrorKind Kind { get; }
    /// <summary>What the failure is about (a path, a URL, a name).</summary>
    public object? Target { get; }
}
