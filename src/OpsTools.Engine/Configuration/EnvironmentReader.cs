using System.Collections;
using System.Globalization;
using OpsTools.Configuration;

namespace OpsTools.Engine.Configuration;

/// <summary>
/// Turns the data of an environment file (already read as plain values: dictionaries, lists,
/// strings, numbers, booleans) into an <see cref="OpsEnvironment"/>, with errors that name the file,
/// the key and what is expected.
/// </summary>
public static class EnvironmentReader
{
    private static readonly string[] KnownSections =
    {
        "Name", "Description", "AppHealth", "Metrics", "Host", "Databases", "Kubernetes", "Docker",
        "Logs", "Backup", "Certificates", "Thresholds",
        "Prometheus", "Alertmanager", "AppFigures", "AppActions",
        "Redis", "Queues", "PgBouncer",
        "Incidents",
        "Notifications",
        "Fleet",
    };

    public static OpsEnvironment Read(IDictionary<string, object?> data, string? path)
    {
        var source = path ?? "environment";
        var unknown = data.Keys.Where(k => !KnownSections.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count > 0)
            throw Invalid(source, $"unknown section(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))}. Known sections: {string.Join(", ", KnownSections)}.");

        var env = new OpsEnvironment
        {
            Path = path,
            Name = GetString(data, "Name") ?? NameFromPath(path),
        };

        if (TryGet(data, "AppHealth", out var appHealth) && appHealth is not null)
            env.AppHealth = AsList(appHealth).Select((item, i) => ReadEndpoint(item, $"{source}: AppHealth[{i}]")).ToList();

        if (TryGet(data, "Host", out var host) && host is not null)
        {
            var hostTable = AsTable(host, $"{source}: Host");
            if (TryGet(hostTable, "DiskMounts", out var mounts) && mounts is not null)
                env.DiskMounts = AsList(mounts).Select(m => Convert.ToString(m, CultureInfo.InvariantCulture) ?? "").Where(m => m.Length > 0).ToList();
        }

        if (TryGet(data, "Databases", out var databases) && databases is not null)
            env.Databases = AsList(databases).Select((item, i) => ReadDatabase(item, $"{source}: Databases[{i}]")).ToList();

        if (TryGet(data, "Backup", out var backup) && backup is not null)
            env.Backup = ReadBackup(AsTable(backup, $"{source}: Backup"), $"{source}: Backup");

        if (TryGet(data, "Kubernetes", out var kube) && kube is not null)
            env.Kubernetes = ReadKubernetes(AsTable(kube, $"{source}: Kubernetes"), $"{source}: Kubernetes", path);

        if (TryGet(data, "Docker", out var docker) && docker is not null)
            env.Docker = ReadDocker(AsTable(docker, $"{source}: Docker"), $"{source}: Docker", path);

        MetricsSettingsReader.Read(data, source, env);
        DataStoreSettingsReader.Read(data, env, source, path);
        NotificationSettingsReader.Read(data, env, source, path);
        if (TryGet(data, "Logs", out var logs) && logs is not null)
            env.Logs = ReadLogs(AsTable(logs, $"{source}: Logs"), $"{source}: Logs", path);
        if (TryGet(data, "Certificates", out var certificates) && certificates is not null)
            env.Certificates = CertificateSettingsReader.Read(AsTable(certificates, $"{source}: Certificates"), $"{source}: Certificates", path);
        if (TryGet(data, "Fleet", out var fleet) && fleet is not null)
            env.Fleet = FleetSettingsReader.Read(AsTable(fleet, $"{source}: Fleet"), $"{source}: Fleet", path);
        if (TryGet(data, "Incidents", out var incidents) && incidents is not null)
            env.Incidents = Incidents.IncidentSettingsReader.Read(AsTable(incidents, $"{source}: Incidents"), $"{source}: Incidents", path);

        var thresholds = new ThresholdSet();
        if (TryGet(data, "Thresholds", out var t) && t is not null)
        {
            try { thresholds.Apply(AsTable(t, $"{source}: Thresholds"), $"{source}: Thresholds"); }
            catch (ArgumentException e) { throw Invalid(source, e.Message.Replace(source + ": ", ""), e); }
        }
        env.Thresholds = thresholds;

        env.Sections = new Dictionary<string, object?>(data, StringComparer.OrdinalIgnoreCase);
        return env;
    }

    private static HealthEndpoint ReadEndpoint(object? item, string where)
    {
        switch (item)
        {
            case string s:
                return new HealthEndpoint { Uri = ParseUri(s, where), Name = DefaultName(ParseUri(s, where)) };
            case IDictionary<string, object?> table:
                var uriText = GetString(table, "Uri") ?? GetString(table, "Url")
                    ?? throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{where}: an endpoint needs a Uri, e.g. @{{ Name = 'api'; Uri = 'https://api.example/health' }}.");
                var uri = ParseUri(uriText, where);
                var ep = new HealthEndpoint
                {
                    Uri = uri,
                    Name = GetString(table, "Name") ?? DefaultName(uri),
                    BearerTokenVariable = GetString(table, "BearerTokenVariable"),
                    SkipCertificateCheck = GetBool(table, "SkipCertificateCheck", where),
                };
                // A value outside what the parameter accepts makes this endpoint one bad result, never the whole file.
                var problems = new List<string>();
                void Check(Action read) { try { read(); } catch (OpsToolsException e) { problems.Add(e.Message); } }
                Check(() =>
                {
                    if (TryGet(table, "ExpectedStatus", out var codes) && codes is not null)
                        ep.ExpectedStatus = AsList(codes).Select(c => InRange(ToInt(c, $"{where}.ExpectedStatus"), StatusRange, $"{where}.ExpectedStatus")).ToList();
                });
                Check(() =>
                {
                    if (TryGet(table, "TimeoutSec", out var timeout) && timeout is not null)
                        ep.TimeoutSec = InRange(ToDouble(timeout, $"{where}.TimeoutSec"), TimeoutRange, $"{where}.TimeoutSec");
                });
                if (TryGet(table, "Headers", out var headers) && headers is not null)
                    ep.Headers = AsTable(headers, $"{where}.Headers").ToDictionary(kv => kv.Key, kv => Convert.ToString(kv.Value, CultureInfo.InvariantCulture) ?? "");
                if (problems.Count > 0) ep.Problem = string.Join(" ", problems) + " The endpoint was not probed.";
                return ep;
            default:
                throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData,
                    $"{where}: expected a URL string or a table with a Uri, not {Describe(item)}.");
        }
    }

    private static readonly string[] BackupKeys = { "Path", "RetentionDays", "KeepLast", "MaxAgeHours", "Directories", "FileMode" };

    private static BackupSettings ReadBackup(IDictionary<string, object?> table, string where)
    {
        RejectUnknownKeys(table, BackupKeys, where, "");
        var b = new BackupSettings { Path = GetString(table, "Path") };
        if (TryGet(table, "RetentionDays", out var days) && days is not null) b.RetentionDays = NonNegative(ToInt(days, $"{where}.RetentionDays"), $"{where}.RetentionDays");
        if (TryGet(table, "KeepLast", out var keep) && keep is not null) b.KeepLast = NonNegative(ToInt(keep, $"{where}.KeepLast"), $"{where}.KeepLast");
        if (TryGet(table, "MaxAgeHours", out var age) && age is not null) b.MaxAgeHours = ToDouble(age, $"{where}.MaxAgeHours");
        if (TryGet(table, "Directories", out var dirs) && dirs is not null)
            b.Directories = AsList(dirs).Select(d => Convert.ToString(d, CultureInfo.InvariantCulture) ?? "").Where(d => d.Length > 0).ToList();
        if (GetString(table, "FileMode") is { } mode)
        {
            try { b.FileMode = Security.DataFiles.Format(Security.DataFiles.ParseMode(mode, $"{where}.FileMode")); }
            catch (OpsToolsException e) { throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, e.Message, mode, e); }
        }
        return b;
    }

    private static readonly string[] KubernetesKeys = { "Kubeconfig", "Context", "Namespace", "Deployments" };

    private static KubernetesSettings ReadKubernetes(IDictionary<string, object?> table, string where, string? path)
    {
        RejectUnknownKeys(table, KubernetesKeys, where, " Credentials never go in an environment file: they stay in the kubeconfig (or its exec plugin).");
        var k = new KubernetesSettings
        {
            Context = GetString(table, "Context"),
            Namespace = GetString(table, "Namespace"),
        };
        if (TryGet(table, "Kubeconfig", out var files) && files is not null)
        {
            // Relative kubeconfig paths are relative to the environment file, as a user reading it expects.
            var baseDir = path is null ? null : System.IO.Path.GetDirectoryName(path);
            k.Kubeconfig = AsList(files).Select(f => Convert.ToString(f, CultureInfo.InvariantCulture) ?? "").Where(f => f.Length > 0)
                .Select(f => baseDir is null || System.IO.Path.IsPathRooted(f) || f.StartsWith('~') ? f : System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, f)))
                .ToList();
        }
        if (TryGet(table, "Deployments", out var deployments) && deployments is not null)
            k.Deployments = AsList(deployments).Select(d => Convert.ToString(d, CultureInfo.InvariantCulture) ?? "").Where(d => d.Length > 0).ToList();
        return k;
    }

    private static readonly string[] DockerKeys = { "Host", "Context", "ComposeProject", "CertPath", "TlsVerify" };

    private static DockerSettings ReadDocker(IDictionary<string, object?> table, string where, string? path)
    {
        RejectUnknownKeys(table, DockerKeys, where, "");
        var d = new DockerSettings
        {
            Host = GetString(table, "Host"),
            Context = GetString(table, "Context"),
            ComposeProject = GetString(table, "ComposeProject"),
            CertPath = GetString(table, "CertPath"),
        };
        if (d.Host is not null && !Uri.TryCreate(d.Host, UriKind.Absolute, out _))
            throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData,
                $"{where}.Host: '{d.Host}' is not an engine address such as unix:///var/run/docker.sock or tcp://docker1:2376.");
        if (d.CertPath is not null && path is not null && !System.IO.Path.IsPathRooted(d.CertPath) && !d.CertPath.StartsWith('~'))
            d.CertPath = System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, d.CertPath));
        if (TryGet(table, "TlsVerify", out var verify) && verify is not null)
            d.TlsVerify = verify is bool b ? b : throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{where}.TlsVerify: expected $true or $false.");
        return d;
    }

    private static readonly string[] LogsKeys = { "Paths", "Containers", "Deployments", "JournalUnits", "JournalPriority", "Pattern", "CaseSensitive", "Classes", "Cleanup" };
    private static readonly string[] CleanupKeys = { "Path", "Include", "OlderThanDays", "Recurse" };

    private static LogSettings ReadLogs(IDictionary<string, object?> table, string where, string? path)
    {
        RejectUnknownKeys(table, LogsKeys, where, "");
        IReadOnlyList<string> Strings(string key) => TryGet(table, key, out var v) && v is not null
            ? AsList(v).Select(x => Convert.ToString(x, CultureInfo.InvariantCulture) ?? "").Where(x => x.Length > 0).ToList() : Array.Empty<string>();
        string Rooted(string p) => path is not null && !System.IO.Path.IsPathRooted(p) && !p.StartsWith('~')
            ? System.IO.Path.GetFullPath(System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, p)) : p;
        var s = new LogSettings
        {
            Paths = Strings("Paths").Select(Rooted).ToList(),
            Containers = Strings("Containers"),
            Deployments = Strings("Deployments"),
            JournalUnits = Strings("JournalUnits"),
            JournalPriority = GetString(table, "JournalPriority"),
            Pattern = GetString(table, "Pattern"),
            CaseSensitive = GetBool(table, "CaseSensitive", where),
        };
        foreach (var (key, pattern) in new[] { ("Pattern", s.Pattern) })
            if (pattern is not null) CheckRegex(pattern, $"{where}.{key}");
        if (TryGet(table, "Classes", out var classes) && classes is not null)
        {
            var dict = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var (name, value) in AsTable(classes, $"{where}.Classes"))
            {
                var rx = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
                CheckRegex(rx, $"{where}.Classes.{name}");
                dict[name] = rx;
            }
            s.Classes = dict;
        }
        if (TryGet(table, "Cleanup", out var cleanup) && cleanup is not null)
        {
            var rules = new List<LogCleanupRule>();
            foreach (var (item, i) in AsList(cleanup).Select((x, i) => (x, i)))
            {
                var w = $"{where}.Cleanup[{i}]";
                var t = AsTable(item, w);
                RejectUnknownKeys(t, CleanupKeys, w, "");
                var rule = new LogCleanupRule
                {
                    Path = Rooted(GetString(t, "Path") ?? throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData,
                        $"{w}: a cleanup rule needs a Path, e.g. @{{ Path = '/app/logs'; Include = '*.log'; OlderThanDays = 30 }}.")),
                    Recurse = GetBool(t, "Recurse", w),
                };
                if (TryGet(t, "Include", out var inc) && inc is not null)
                    rule.Include = AsList(inc).Select(x => Convert.ToString(x, CultureInfo.InvariantCulture) ?? "").Where(x => x.Length > 0).ToList();
                if (TryGet(t, "OlderThanDays", out var days) && days is not null)
                {
                    rule.OlderThanDays = ToDouble(days, $"{w}.OlderThanDays");
                    if (rule.OlderThanDays < 1)
                        throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{w}.OlderThanDays: at least 1 day, not {rule.OlderThanDays}.");
                }
                rules.Add(rule);
            }
            s.Cleanup = rules;
        }
        return s;
    }

    private static void CheckRegex(string pattern, string where)
    {
        try { _ = new System.Text.RegularExpressions.Regex(pattern); }
        catch (ArgumentException e)
        {
            throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{where}: '{pattern}' is not a valid regular expression: {e.Message}");
        }
    }

    /// <summary>The ranges the parameters the environment's values stand for accept (Get-AppHealth -TimeoutSec, -ExpectedStatus).</summary>
    public static readonly (double Min, double Max, string Unit) TimeoutRange = (0.05, 3600, "seconds, as for -TimeoutSec");
    public static readonly (double Min, double Max, string Unit) StatusRange = (100, 599, "HTTP status codes, as for -ExpectedStatus");

    private static T InRange<T>(T value, (double Min, double Max, string Unit) range, string where) where T : IConvertible
    {
        var d = value.ToDouble(CultureInfo.InvariantCulture);
        if (double.IsFinite(d) && d >= range.Min && d <= range.Max) return value;
        throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData,
            string.Create(CultureInfo.InvariantCulture, $"{where}: {value} is outside the allowed range {range.Min}-{range.Max} ({range.Unit})."));
    }

    private static int NonNegative(int value, string where) => value >= 0 ? value
        : throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{where}: must be zero or more, not {value}.");

    private static readonly string[] DatabaseKeys =
        { "Name", "Server", "Host", "Port", "Database", "User", "Username", "PasswordVariable", "ConnectionStringVariable", "SslMode" };

    private static DatabaseEndpoint ReadDatabase(object? item, string where)
    {
        var table = AsTable(item, where);
        RejectUnknownKeys(table, DatabaseKeys, where, " Passwords never go in an environment file: name the variable that holds it with PasswordVariable, or use ~/.pgpass.");
        var db = new DatabaseEndpoint
        {
            Server = GetString(table, "Server") ?? GetString(table, "Host"),
            Database = GetString(table, "Database"),
            User = GetString(table, "User") ?? GetString(table, "Username"),
            PasswordVariable = GetString(table, "PasswordVariable"),
            ConnectionStringVariable = GetString(table, "ConnectionStringVariable"),
            SslMode = GetString(table, "SslMode"),
        };
        if (TryGet(table, "Port", out var port) && port is not null)
        {
            var p = ToInt(port, $"{where}.Port");
            if (p is < 1 or > 65535)
                throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{where}.Port: {p} is not a TCP port (1-65535).");
            db.Port = p;
        }
        db.Name = GetString(table, "Name") ?? db.Database
            ?? throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData,
                $"{where}: a database entry needs a Name or a Database, e.g. @{{ Name = 'app'; Server = 'db1'; Database = 'shop'; User = 'ops' }}.");
        return db;
    }

    /// <summary>The name an endpoint gets when none is given: host[:port]/path.</summary>
    public static string DefaultName(Uri uri) => uri.IsDefaultPort ? uri.Host + uri.AbsolutePath : $"{uri.Host}:{uri.Port}{uri.AbsolutePath}";

    internal static Uri ParseUri(string text, string where)
    {
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            return uri;
        throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData,
            $"{where}: '{text}' is not an absolute http:// or https:// URL.");
    }

    private static string NameFromPath(string? path)
    {
        if (path is null) return "default";
        var file = System.IO.Path.GetFileName(path);
        foreach (var suffix in new[] { ".ops.psd1", ".psd1" })
            if (file.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return file[..^suffix.Length];
        return file;
    }

    private static OpsToolsException Invalid(string source, string message, Exception? inner = null) =>
        new("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{source}: {message}", source, inner);

    /// <summary>The words that make an unknown key look like a secret someone tried to write into the file.</summary>
    private static readonly string[] SecretWords = { "password", "passwd", "token", "secret", "auth" };

    /// <summary>
    /// The one check of every section's keys: throws when the table has a key not in <paramref name="keys"/>, naming the
    /// unknown and the known keys. When an unknown key looks like a secret (it holds one of <see cref="SecretWords"/> or
    /// <paramref name="moreSecretWords"/>, and is not a ...Variable key), <paramref name="hint"/> is added: it says where
    /// that section's secrets go instead.
    /// </summary>
    internal static void RejectUnknownKeys(IDictionary<string, object?> table, string[] keys, string where, string hint, params string[] moreSecretWords)
    {
        var unknown = table.Keys.Where(k => !keys.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList();
        if (unknown.Count == 0) return;
        var secretLike = unknown.Any(u => !u.EndsWith("Variable", StringComparison.OrdinalIgnoreCase)
                                          && SecretWords.Concat(moreSecretWords).Any(w => u.Contains(w, StringComparison.OrdinalIgnoreCase)));
        throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData,
            $"{where}: unknown key(s) {string.Join(", ", unknown.Select(u => $"'{u}'"))}. Known keys: {string.Join(", ", keys)}." +
            (secretLike ? hint : ""));
    }

    internal static bool TryGet(IEnumerable<KeyValuePair<string, object?>> table, string key, out object? value)
    {
        foreach (var kv in table)
            if (string.Equals(kv.Key, key, StringComparison.OrdinalIgnoreCase)) { value = kv.Value; return true; }
        value = null;
        return false;
    }

    internal static string? GetString(IEnumerable<KeyValuePair<string, object?>> table, string key) =>
        TryGet(table, key, out var v) && v is not null ? Convert.ToString(v, CultureInfo.InvariantCulture) : null;

    internal static bool GetBool(IEnumerable<KeyValuePair<string, object?>> table, string key, string where) =>
        TryGet(table, key, out var v) && v switch
        {
            null => false,
            bool b => b,
            _ => throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{where}.{key}: expected $true or $false, not {Describe(v)}."),
        };

    internal static IReadOnlyList<object?> AsList(object? value) => value switch
    {
        null => Array.Empty<object?>(),
        string s => new object?[] { s },
        IDictionary => new[] { value },
        IDictionary<string, object?> => new[] { value },
        IEnumerable e => e.Cast<object?>().ToList(),
        _ => new[] { value },
    };

    internal static IDictionary<string, object?> AsTable(object? value, string where) => value as IDictionary<string, object?>
        ?? throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{where}: expected a table @{{ ... }}, not {Describe(value)}.");

    private static int ToInt(object? v, string where)
    {
        try { return Convert.ToInt32(v, CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        { throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{where}: expected a whole number, not {Describe(v)}."); }
    }

    internal static double ToDouble(object? v, string where)
    {
        try { return Convert.ToDouble(v, CultureInfo.InvariantCulture); }
        catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
        { throw new OpsToolsException("EnvironmentFileInvalid", OpsErrorKind.InvalidData, $"{where}: expected a number, not {Describe(v)}."); }
    }

    internal static string Describe(object? v) => v switch
    {
        null => "$null",
        string s => $"'{s}'",
        IDictionary<string, object?> => "a table",
        IEnumerable => "a list",
        _ => $"'{v}' ({v.GetType().Name})",
    };
}
