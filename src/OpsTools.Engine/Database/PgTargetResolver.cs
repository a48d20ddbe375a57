using System.Net;
using Npgsql;

namespace OpsTools.Engine.Database;

/// <summary>
/// Resolves a <see cref="PgTargetSpec"/> the way libpq and psql do, so a command finds the same
/// database an admin's psql would: PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE,
/// PGPASSFILE / ~/.pgpass; the Unix socket in /var/run/postgresql when no host is given and it
/// exists; the user name of the session when no role is given.
/// </summary>
public static class PgTargetResolver
{
    public static PgTarget Resolve(PgTargetSpec spec, Func<string, string?>? environment = null, string? homeDirectory = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var ep = spec.Endpoint;
        var where = ep is null ? "the connection" : $"database '{ep.Name}'";

        NpgsqlConnectionStringBuilder b;
        var given = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var fromVariable = ep?.ConnectionStringVariable is { Length: > 0 } v ? environment(v) : null;
        if (ep?.ConnectionStringVariable is { Length: > 0 } && string.IsNullOrEmpty(fromVariable))
            throw new OpsToolsException("DbConnectionStringVariableNotSet", OpsErrorKind.InvalidArgument,
                $"{where}: the environment variable '{ep.ConnectionStringVariable}' named by ConnectionStringVariable is not set or empty.", ep.Name);
        var connectionString = spec.ConnectionString ?? fromVariable;
        try
        {
            var keywordValue = connectionString is null ? null : ToKeywordValue(connectionString);
            b = keywordValue is null ? new NpgsqlConnectionStringBuilder() : new NpgsqlConnectionStringBuilder(keywordValue);
            if (keywordValue is not null)
                foreach (string key in new System.Data.Common.DbConnectionStringBuilder { ConnectionString = keywordValue }.Keys)
                    given.Add(key.Replace(" ", ""));
        }
        catch (ArgumentException e)
        {
            // Npgsql's message can quote the string: never show it.
            throw new OpsToolsException("DbConnectionStringInvalid", OpsErrorKind.InvalidArgument,
                $"{where}: the connection string is not valid ({e.Message.Split('\n')[0].Split('(')[0].Trim()}). Use key=value pairs (Host=db1;Database=app;Username=ops) or a postgresql:// URL.",
                ep?.Name, null);
        }

        string? Pick(string? explicitValue, string? fromString, string? fromEndpoint, string envVar) =>
            explicitValue ?? (string.IsNullOrEmpty(fromString) ? null : fromString) ?? fromEndpoint ?? NullIfEmpty(environment(envVar));

        var host = Pick(spec.Server, b.Host, ep?.Server, "PGHOST") ?? DefaultHost(spec.Port ?? ep?.Port);
        var portText = spec.Port?.ToString() ?? (given.Contains("Port") ? b.Port.ToString() : null)
            ?? ep?.Port?.ToString() ?? NullIfEmpty(environment("PGPORT")) ?? "5432";
        if (!int.TryParse(portText, out var port) || port is < 1 or > 65535)
            throw new OpsToolsException("DbPortInvalid", OpsErrorKind.InvalidArgument, $"{where}: port '{portText}' is not a TCP port (1-65535).", ep?.Name);
        var user = Pick(spec.User, b.Username, ep?.User, "PGUSER") ?? Environment.UserName;
        var database = Pick(spec.Database, b.Database, ep?.Database, "PGDATABASE") ?? user;
        var sslMode = spec.SslMode ?? (given.Contains("SslMode") ? b.SslMode.ToString() : null)
            ?? ep?.SslMode ?? NullIfEmpty(environment("PGSSLMODE"));

        b.Host = host;
        b.Port = port;
        b.Username = user;
        b.Database = database;
        if (sslMode is not null)
        {
            if (!Enum.TryParse<SslMode>(sslMode.Replace("-", ""), ignoreCase: true, out var mode))
                throw new OpsToolsException("DbSslModeInvalid", OpsErrorKind.InvalidArgument,
                    $"{where}: sslmode '{sslMode}' is not one of disable, allow, prefer, require, verify-ca, verify-full.", ep?.Name);
            b.SslMode = mode;
        }
        if (string.IsNullOrEmpty(b.ApplicationName)) b.ApplicationName = "OpsTools";
        var timeout = (int)Math.Clamp(Math.Ceiling(spec.TimeoutSec), 1, 1024);
        if (!given.Contains("Timeout") && !given.Contains("ConnectTimeout")) b.Timeout = timeout;
        if (!given.Contains("CommandTimeout")) b.CommandTimeout = 0; // statements are bounded by the caller's token (Ctrl+C, -TimeoutSec of each command)
        b.Pooling = true;

        // The password, in libpq's order.
        string source;
        if (spec.Password is not null)
        {
            b.Password = new NetworkCredential("", spec.Password).Password;
            source = "-Credential";
        }
        else if (!string.IsNullOrEmpty(b.Password))
            source = "the connection string";
        else if (ep?.PasswordVariable is { Length: > 0 } pv)
        {
            var value = environment(pv);
            if (string.IsNullOrEmpty(value))
                throw new OpsToolsException("DbPasswordVariableNotSet", OpsErrorKind.InvalidArgument,
                    $"{where}: the environment variable '{pv}' named by PasswordVariable is not set or empty.", ep.Name);
            b.Password = value;
            source = "$env:" + pv;
        }
        else if (NullIfEmpty(environment("PGPASSWORD")) is { } pgPassword)
        {
            b.Password = pgPassword;
            source = "PGPASSWORD";
        }
        else
        {
            var passFile = NullIfEmpty(environment("PGPASSFILE")) ?? DefaultPassFile(homeDirectory);
            var fromFile = passFile is null ? null : PgPassFile.Lookup(passFile, host, port, database, user);
            if (fromFile is not null)
            {
                b.Password = fromFile;
                source = passFile!.EndsWith(".pgpass", StringComparison.Ordinal) ? "~/.pgpass" : "PGPASSFILE";
            }
            else source = "none (trust, peer or certificate authentication)";
        }

        var name = ep?.Name ?? $"{host}:{port}/{database}";
        return new PgTarget(name, b, source);
    }

    /// <summary>postgresql://user:pass@host:port/db?sslmode=require becomes key=value pairs; key=value passes through.</summary>
    public static string ToKeywordValue(string connectionString)
    {
        var s = connectionString.Trim();
        if (!s.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) && !s.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase))
            return s;
        if (!Uri.TryCreate(s, UriKind.Absolute, out var uri))
            throw new ArgumentException("not a valid postgresql:// URL");
        var b = new NpgsqlConnectionStringBuilder();
        if (uri.Host.Length > 0) b.Host = uri.Host.Trim('[', ']');
        if (uri.Port > 0) b.Port = uri.Port;
        var db = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (db.Length > 0) b.Database = db;
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            b.Username = Uri.UnescapeDataString(parts[0]);
            if (parts.Length > 1) b.Password = Uri.UnescapeDataString(parts[1]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = pair.Split('=', 2);
            var key = Uri.UnescapeDataString(kv[0]);
            var value = kv.Length > 1 ? Uri.UnescapeDataString(kv[1]) : "";
            switch (key.ToLowerInvariant())
            {
                case "sslmode": b.SslMode = Enum.Parse<SslMode>(value.Replace("-", ""), true); break;
                case "application_name": b.ApplicationName = value; break;
                case "connect_timeout": b.Timeout = int.Parse(value); break;
                case "host": b.Host = value; break;
                case "port": b.Port = int.Parse(value); break;
                case "user": b.Username = value; break;
                case "dbname": b.Database = value; break;
                case "password": b.Password = value; break;
                default: throw new ArgumentException($"the URL parameter '{key}' is not supported");
            }
        }
        return b.ConnectionString;
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;

    private static string DefaultHost(int? port)
    {
        // libpq's default on Debian/Ubuntu/RHEL: the Unix socket, when a server has one there.
        const string socketDir = "/var/run/postgresql";
        if (!OperatingSystem.IsWindows() && File.Exists(Path.Combine(socketDir, $".s.PGSQL.{port ?? 5432}")))
            return socketDir;
        return "localhost";
    }

    private static string? DefaultPassFile(string? home)
    {
        if (OperatingSystem.IsWindows())
        {
            var appData = Environment.GetFolderPath(Environment.SpecialFolder.ApplicationData);
            return string.IsNullOrEmpty(appData) ? null : Path.Combine(appData, "postgresql", "pgpass.conf");
        }
        home ??= Environment.GetEnvironmentVariable("HOME");
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".pgpass");
    }
}

/// <summary>~/.pgpass: hostname:port:database:username:password, '*' matches anything, '\' escapes ':' and '\'.</summary>
public static class PgPassFile
{
    public static string? Lookup(string path, string host, int port, string database, string user)
    {
        if (!File.Exists(path)) return null;
        // libpq ignores a password file that group or others can read; so do we.
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
                         UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute)) != 0)
                return null;
        }
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
        var hostForMatch = host.StartsWith('/') ? "localhost" : host;
        foreach (var line in lines)
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var fields = Split(line);
            if (fields.Count < 5) continue;
            if (Matches(fields[0], hostForMatch) && Matches(fields[1], port.ToString()) && Matches(fields[2], database) && Matches(fields[3], user))
                return fields[4];
        }
        return null;
    }

    private static bool Matches(string pattern, string value) => pattern == "*" || pattern == value;

    private static List<string> Split(string line)
    {
        var fields = new List<string>();
        var current = new System.Text.StringBuilder();
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (c == '\\' && i + 1 < line.Length) { current.Append(line[++i]); continue; }
            if (c == ':' && fields.Count < 4) { fields.Add(current.ToString()); current.Clear(); continue; }
            current.Append(c);
        }
        fields.Add(current.ToString());
        return fields;
    }
}
