using System.Net.Sockets;
using System.Security;
using Npgsql;
using OpsTools.Configuration;
using OpsTools.Database;

namespace OpsTools.Engine.Database;

/// <summary>
/// What a command was told about a PostgreSQL database, before libpq conventions fill the gaps.
/// Precedence, highest first: explicit parameters, the connection string, the environment file's
/// entry, the PG* environment variables, libpq's defaults.
/// </summary>
public sealed class PgTargetSpec
{
    public string? ConnectionString { get; init; }
    public string? Server { get; init; }
    public int? Port { get; init; }
    public string? Database { get; init; }
    public string? User { get; init; }
    public SecureString? Password { get; init; }
    public string? SslMode { get; init; }
    public DatabaseEndpoint? Endpoint { get; init; }
    /// <summary>Seconds to wait for a connection (and, by default, for each statement).</summary>
    public double TimeoutSec { get; init; } = 15;
}

/// <summary>
/// A resolved PostgreSQL target. The connection string stays inside; everything shown outside
/// (<see cref="Display"/>, <see cref="ToString"/>, errors) is redacted.
/// </summary>
public sealed class PgTarget
{
    private readonly string _connectionString;

    internal PgTarget(string name, NpgsqlConnectionStringBuilder builder, string passwordSource)
    {
        Name = name;
        Host = builder.Host ?? "localhost";
        Port = builder.Port;
        Database = builder.Database ?? "";
        User = builder.Username ?? "";
        PasswordSource = passwordSource;
        _connectionString = builder.ConnectionString;
        var shown = new NpgsqlConnectionStringBuilder(builder.ConnectionString);
        if (!string.IsNullOrEmpty(shown.Password)) shown.Password = "***";
        Display = shown.ConnectionString;
    }

    /// <summary>The environment entry's name, or host:port/database.</summary>
    public string Name { get; }
    public string Host { get; }
    public int Port { get; }
    public string Database { get; }
    public string User { get; }
    /// <summary>Where the password came from (for verbose output): "-Credential", "PGPASSWORD", "~/.pgpass", "none" ...</summary>
    public string PasswordSource { get; }
    /// <summary>The connection string with the password replaced by ***.</summary>
    public string Display { get; }
    /// <summary>user@host:port/database, for messages and result targets.</summary>
    public string Address => $"{User}@{(Host.StartsWith('/') ? Host : Host.Contains(':') ? $"[{Host}]" : Host)}:{Port}/{Database}";

    public override string ToString() => Address;

    /// <summary>
    /// Fills a result's identity block from this target: Instance, Server, Port, Database (or <paramref name="database"/>
    /// when the result is about another database of the same server) and the ConnectionId that brings the next command
    /// back to this target. The one place every database result gets it.
    /// </summary>
    public T Identify<T>(T result, string? database = null) where T : IDbIdentity
    {
        result.Instance = Name;
        result.Server = Host;
        result.Port = Port;
        result.Database = database ?? Database;
        result.ConnectionId = PgTargetRegistry.Register(this);
        return result;
    }

    /// <summary>The same server and credentials, another database.</summary>
    public PgTarget WithDatabase(string database)
    {
        var b = new NpgsqlConnectionStringBuilder(_connectionString) { Database = database };
        return new PgTarget(Name, b, PasswordSource);
    }

    /// <summary>Opens a connection, turning every failure into one clear <see cref="OpsToolsException"/>.</summary>
    public async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw PgErrors.Connect(this, e);
        }
    }

    internal string ConnectionStringForTools => _connectionString;
}

/// <summary>Turns Npgsql and socket failures into messages that name the target and the cause.</summary>
public static class PgErrors
{
    public static OpsToolsException Connect(PgTarget target, Exception e)
    {
        var where = target.Address;
        var inner = e;
        while (inner.InnerException is not null && inner is not PostgresException && inner is not SocketException && inner is not EndOfStreamException) inner = inner.InnerException;
        switch (inner)
        {
            case PostgresException { SqlState: "28P01" or "28000" } pg:
                return new OpsToolsException("DbAuthenticationFailed", OpsErrorKind.PermissionDenied,
                    $"Cannot connect to {where}: authentication failed for role '{target.User}' (password from {target.PasswordSource}). {pg.MessageText}. Check the password (-Credential, PGPASSWORD, ~/.pgpass) and pg_hba.conf.",
                    target.Name, e);
            case PostgresException { SqlState: "3D000" }:
                return new OpsToolsException("DbDatabaseNotFound", OpsErrorKind.NotFound,
                    $"Cannot connect to {where}: database '{target.Database}' does not exist. List the databases with Get-DbSize, or pass -Database.",
                    target.Name, e);
            case PostgresException { SqlState: "53300" }:
                return new OpsToolsException("DbTooManyConnections", OpsErrorKind.ConnectionError,
                    $"Cannot connect to {where}: the server has no connection slots left (max_connections reached). See Get-DbConnection on a reserved superuser slot.",
                    target.Name, e);
            case PostgresException { SqlState: "57P03" }:
                return new OpsToolsException("DbStarting", OpsErrorKind.ConnectionError,
                    $"Cannot connect to {where}: the server is starting up or shutting down.", target.Name, e);
            case PostgresException pg:
                return new OpsToolsException("DbConnectionFailed", OpsErrorKind.ConnectionError,
                    $"Cannot connect to {where}: {pg.SqlState} {pg.MessageText}", target.Name, e);
            case SocketException { SocketErrorCode: SocketError.ConnectionRefused }:
                return new OpsToolsException("DbConnectionRefused", OpsErrorKind.ConnectionError,
                    $"Cannot connect to {where}: connection refused. Is PostgreSQL running and listening on {target.Host}:{target.Port}?",
                    target.Name, e);
            case SocketException { SocketErrorCode: SocketError.ConnectionReset or SocketError.ConnectionAborted }:
            case EndOfStreamException:
                // The server took the TCP connection and dropped it before the session was up:
                // it is shutting down or restarting. For the caller, it would not accept the connection.
                return new OpsToolsException("DbConnectionRefused", OpsErrorKind.ConnectionError,
                    $"Cannot connect to {where}: the server closed the connection while it was being opened (shutting down or restarting?).",
                    target.Name, e);
            case SocketException { SocketErrorCode: SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain }:
                return new OpsToolsException("DbHostNotFound", OpsErrorKind.ConnectionError,
                    $"Cannot connect to {where}: the host name '{target.Host}' does not resolve.", target.Name, e);
            case SocketException s:
                return new OpsToolsException("DbConnectionFailed", OpsErrorKind.ConnectionError,
                    $"Cannot connect to {where}: {s.Message}", target.Name, e);
            case TimeoutException or NpgsqlException { InnerException: TimeoutException }:
            case OperationCanceledException:
                return new OpsToolsException("DbConnectionTimeout", OpsErrorKind.Timeout,
                    $"Cannot connect to {where}: no answer within the timeout. Check the host, port and firewall, or raise -TimeoutSec.",
                    target.Name, e);
            default:
                var message = e.Message.Contains("Timeout", StringComparison.OrdinalIgnoreCase) || inner is TimeoutException
                    ? $"Cannot connect to {where}: no answer within the timeout. Check the host, port and firewall, or raise -TimeoutSec."
                    : $"Cannot connect to {where}: {Security.Redaction.ScrubText(inner.Message)}";
                return new OpsToolsException(message.Contains("timeout") ? "DbConnectionTimeout" : "DbConnectionFailed",
                    message.Contains("timeout") ? OpsErrorKind.Timeout : OpsErrorKind.ConnectionError, message, target.Name, e);
        }
    }

    /// <summary>A failed statement, with the server's SQLSTATE and message.</summary>
    public static OpsToolsException Statement(PgTarget target, string what, Exception e) => e switch
    {
        PostgresException { SqlState: "42501" } pg => new OpsToolsException("DbPermissionDenied", OpsErrorKind.PermissionDenied,
            $"{what} on {target.Address}: permission denied ({pg.MessageText}). Connect as a role with the needed privilege.", target.Name, e),
        PostgresException { SqlState: "57014" } => new OpsToolsException("DbStatementCancelled", OpsErrorKind.OperationFailed,
            $"{what} on {target.Address}: cancelled (statement_timeout, Ctrl+C or pg_cancel_backend).", target.Name, e),
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" } pg => new OpsToolsException("DbServerShutdown", OpsErrorKind.ConnectionError,
            $"{what} on {target.Address}: the server shut down or terminated the session ({pg.MessageText}).", target.Name, e),
        PostgresException pg => new OpsToolsException("DbStatementFailed", OpsErrorKind.OperationFailed,
            $"{what} on {target.Address}: {pg.SqlState} {pg.MessageText}", target.Name, e),
        NpgsqlException { InnerException: IOException or SocketException or EndOfStreamException } or IOException or EndOfStreamException =>
            new OpsToolsException("DbConnectionLost", OpsErrorKind.ConnectionError,
                $"{what} on {target.Address}: the connection was lost (server stopped or network failure); the statement's outcome is unknown.", target.Name, e),
        _ => new OpsToolsException("DbStatementFailed", OpsErrorKind.OperationFailed,
            $"{what} on {target.Address}: {Security.Redaction.ScrubText(e.Message)}", target.Name, e),
    };
}
