using System.Globalization;
using OpsTools.Configuration;
using static OpsTools.Engine.Configuration.EnvironmentReader;

namespace OpsTools.Engine.Configuration;

/// <summary>The Redis, Queues and PgBouncer sections of an environment file.</summary>
internal static class DataStoreSettingsReader
{
    private static readonly string[] RedisKeys = { "Uri", "Host", "Port", "Database", "User", "PasswordVariable", "Tls", "CaCertificate", "SkipCertificateCheck", "ClientCertificate", "ClientKey" };
    private static readonly string[] QueueKeys = { "Name", "Kind", "Prefix", "BacklogWarning", "BacklogCritical" };
    private static readonly string[] PgBouncerKeys = { "Host", "Port", "User", "PasswordVariable" };
    public static readonly string[] QueueKinds = { "Auto", "List", "Stream", "SortedSet", "BullMQ", "RQ", "Celery" };

    public static void Read(IDictionary<string, object?> data, OpsEnvironment env, string source, string? path)
    {
        if (TryGet(data, "Redis", out var redis) && redis is not null)
            env.Redis = ReadRedis(AsTable(redis, $"{source}: Redis"), $"{source}: Redis", path);
        if (TryGet(data, "Queues", out var queues) && queues is not null)
            env.Queues = AsList(queues).Select((q, i) => ReadQueue(q, $"{source}: Queues[{i}]")).ToList();
        if (TryGet(data, "PgBouncer", out var bouncer) && bouncer is not null)
            env.PgBouncer = ReadPgBouncer(AsTable(bouncer, $"{source}: PgBouncer"), $"{source}: PgBouncer");
    }

    private static void Known(IDictionary<string, object?> table, string[] keys, string where) =>
        RejectUnknownKeys(table, keys, where, " Passwords never go in an environment file: name the variable that holds it with PasswordVariable.");

    private static RedisSettings ReadRedis(IDictionary<string, object?> table, string where, string? path)
    {
        Known(table, RedisKeys, where);
        var r = new RedisSettings
        {
            Uri = GetString(table, "Uri"),
            Host = GetString(table, "Host"),
            User = GetString(table, "User"),
            PasswordVariable = GetString(table, "PasswordVariable"),
            CaCertificate = GetString(table, "CaCertificate"),
            Port = Int(table, "Port", where, 1, 65535),
            Database = Int(table, "Database", where, 0, 100000),
            Tls = Bool(table, "Tls", where),
            SkipCertificateCheck = Bool(table, "SkipCertificateCheck", where) ?? false,
            ClientCertificate = GetString(table, "ClientCertificate"),
            ClientKey = GetString(table, "ClientKey"),
        };
        if (r.Uri is not null)
        {
            if (!System.Uri.TryCreate(r.Uri, UriKind.Absolute, out var uri) || (uri.Scheme != "redis" && uri.Scheme != "rediss"))
                throw Bad($"{where}.Uri: not a redis:// or rediss:// address.");
            if (uri.UserInfo.Contains(':'))
                throw Bad($"{where}.Uri: a password in the URI is refused (the file is not a secret store): name the variable that holds it with PasswordVariable.");
        }
        if (r.CaCertificate is not null && path is not null && !System.IO.Path.IsPathRooted(r.CaCertificate) && !r.CaCertificate.StartsWith('~'))
            r.CaCertificate = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, r.CaCertificate));
        r.ClientCertificate = Relative(r.ClientCertificate, path);
        r.ClientKey = Relative(r.ClientKey, path);
        if (r.ClientKey is not null && r.ClientCertificate is null)
            throw Bad($"{where}.ClientKey: a key without its certificate: add ClientCertificate (the PEM file of the client certificate).");
        return r;
    }

    private static string? Relative(string? file, string? path) =>
        file is not null && path is not null && !System.IO.Path.IsPathRooted(file) && !file.StartsWith('~')
            ? System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, file)) : file;

    private static QueueEntry ReadQueue(object? item, string where)
    {
        if (item is string s)
            return s.Length > 0 ? new QueueEntry { Name = s } : throw Bad($"{where}: an empty queue name.");
        var table = AsTable(item, where);
        Known(table, QueueKeys, where);
        var q = new QueueEntry
        {
            Name = GetString(table, "Name") ?? throw Bad($"{where}: a queue needs a Name, e.g. @{{ Name = 'email'; Kind = 'BullMQ' }}."),
            Prefix = GetString(table, "Prefix"),
        };
        var kind = GetString(table, "Kind");
        if (kind is not null)
            q.Kind = QueueKinds.FirstOrDefault(k => k.Equals(kind, StringComparison.OrdinalIgnoreCase))
                     ?? throw Bad($"{where}.Kind: '{kind}' is not one of {string.Join(", ", QueueKinds)}.");
        q.BacklogWarning = Number(table, "BacklogWarning", where);
        q.BacklogCritical = Number(table, "BacklogCritical", where);
        return q;
    }

    private static PgBouncerSettings ReadPgBouncer(IDictionary<string, object?> table, string where)
    {
        Known(table, PgBouncerKeys, where);
        return new PgBouncerSettings
        {
            Host = GetString(table, "Host"),
            Port = Int(table, "Port", where, 1, 65535),
            User = GetString(table, "User"),
            PasswordVariable = GetString(table, "PasswordVariable"),
        };
    }

    /// <summary>A whole number between <paramref name="min"/> and <paramref name="max"/>, or null when the key is absent.</summary>
    internal static int? Int(IDictionary<string, object?> table, string key, string where, int min, int max)
    {
        if (!TryGet(table, key, out var v) || v is null) return null;
        int n;
        try { n = Convert.ToInt32(v, CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        { throw Bad($"{where}.{key}: expected a whole number, not '{v}'."); }
        return n >= min && n <= max ? n : throw Bad($"{where}.{key}: {n} is not between {min} and {max}.");
    }

    private static double? Number(IDictionary<string, object?> table, string key, string where)
    {
        if (!TryGet(table, key, out var v) || v is null) return null;
        try
        {
            var d = Convert.ToDouble(v, CultureInfo.InvariantCulture);
            return d >= 0 ? d : throw Bad($"{where}.{key}: must be zero or more.");
        }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        { throw Bad($"{where}.{key}: expected a number, not '{v}'."); }
    }

    private static bool? Bool(IDictionary<string, object?> table, string key, string where) =>
        !TryGet(table, key, out var v) || v is null ? null : v is bool b ? b : throw Bad($"{where}.{key}: expected $true or $false.");

    private static OpsToolsException Bad(string message) => new("EnvironmentFileInvalid", OpsErrorKind.InvalidData, message);
}
