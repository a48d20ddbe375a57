namespace OpsTools.Configuration;

/// <summary>One PostgreSQL database named by an environment file's <c>Databases</c> section.</summary>
public sealed class DatabaseEndpoint
{
    /// <summary>The entry's name, chosen with <c>-Instance</c> (defaults to the database name).</summary>
    public string Name { get; set; } = "";
    /// <summary>Host name, IP address, or a Unix socket directory (starts with '/').</summary>
    public string? Server { get; set; }
    /// <summary>TCP port (default 5432).</summary>
    public int? Port { get; set; }
    /// <summary>Database name.</summary>
    public string? Database { get; set; }
    /// <summary>Role to connect as.</summary>
    public string? User { get; set; }
    /// <summary>Name of an environment variable that holds the password (never the password itself).</summary>
    public string? PasswordVariable { get; set; }
    /// <summary>Name of an environment variable that holds a whole connection string.</summary>
    public string? ConnectionStringVariable { get; set; }
    /// <summary>libpq sslmode: disable, allow, prefer, require, verify-ca, verify-full.</summary>
    public string? SslMode { get; set; }

    public override string ToString() => $"{Name} ({User ?? "?"}@{Server ?? "?"}:{Port?.ToString() ?? "5432"}/{Database ?? "?"})";
}
