namespace OpsTools.Database;

/// <summary>
/// The identity every database result carries: the instance, server, port and database it is about, and the
/// <see cref="ConnectionId"/> that lets the next OpsTools database command reuse the connection settings (no secret
/// inside). The engine fills it in one place (<c>PgTarget.Identify</c>), so it cannot drift between result types.
/// </summary>
public interface IDbIdentity
{
    /// <summary>The environment entry's name, or host:port/database.</summary>
    string Instance { get; set; }
    /// <summary>Host name, IP address or socket directory.</summary>
    string Server { get; set; }
    /// <summary>TCP port.</summary>
    int Port { get; set; }
    /// <summary>The database the result is about.</summary>
    string Database { get; set; }
    /// <summary>Lets the next OpsTools database command reuse the connection settings (no secret inside).</summary>
    string? ConnectionId { get; set; }
}
