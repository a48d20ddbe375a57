using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security;
using OpsTools.Configuration;
using OpsTools.Engine.Database;
using OpsTools.Engine.Security;
using OpsTools.PgBouncer;

namespace OpsTools.Engine.PgBouncer;

/// <summary>What a command was told about a PgBouncer admin console.</summary>
public sealed class PgBouncerTargetSpec
{
    public string? Host { get; init; }
    public int? Port { get; init; }
    public string? User { get; init; }
    public SecureString? Password { get; init; }
    public PgBouncerSettings? Settings { get; init; }
    public double TimeoutSec { get; init; } = 10;
}

/// <summary>A resolved PgBouncer admin console (database 'pgbouncer'); the password stays inside.</summary>
public sealed class PgBouncerTarget
{
    private readonly string? _password;

    internal PgBouncerTarget(string host, int port, string user, string? password, string passwordSource, double timeoutSec)
    {
        Host = host; Port = port; User = user; _password = password; PasswordSource = passwordSource; TimeoutSec = timeoutSec;
    }

    public string Host { get; }
    public int Port { get; }
    public string User { get; }
    public string PasswordSource { get; }
    public double TimeoutSec { get; }
    /// <summary>host:port (or the socket directory and port).</summary>
    public string Server => Host.StartsWith('/') ? $"{Host}/.s.PGSQL.{Port}" : $"{Host}:{Port}";
    /// <summary>user@host:port/pgbouncer, as psql would be told.</summary>
    public string Address => $"{User}@{Server}/pgbouncer";
    public override string ToString() => Address;

    /// <summary>Runs one admin-console statement; failures become <see cref="OpsToolsException"/>s that name the console and no secret.</summary>
    public async Task<PgTextResult> QueryAsync(string sql, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(TimeoutSec));
        PgSimpleQueryClient client;
        try { client = await PgSimpleQueryClient.ConnectAsync(Host, Port, User, "pgbouncer", _password, timeout.Token).ConfigureAwait(false); }
        catch (Exception e) when (!ct.IsCancellationRequested) { throw Error(e, "connecting"); }
        await using (client.ConfigureAwait(false))
        {
            try { return await client.QueryAsync(sql, timeout.Token).ConfigureAwait(false); }
            catch (Exception e) when (!ct.IsCancellationRequested) { throw Error(e, sql); }
        }
    }

    private OpsToolsException Error(Exception e, string what)
    {
        string Clean(string s) => Redaction.ScrubText(Redaction.RedactText(s, new[] { _password }));
        return e switch
        {
            OperationCanceledException or TimeoutException => new OpsToolsException("PgBouncerTimeout", OpsErrorKind.Timeout,
                $"PgBouncer at {Address}: no answer to {what} within {TimeoutSec:0.#} s.", Address),
            SocketException or IOException or InvalidDataException when what == "connecting" => new OpsToolsException("PgBouncerUnreachable", OpsErrorKind.ConnectionError,
                $"PgBouncer at {Server} is not reachable ({Clean(e.Message)}).", Address),
            SocketException or IOException or InvalidDataException => new OpsToolsException("PgBouncerUnreachable", OpsErrorKind.ConnectionError,
                $"PgBouncer at {Server}: the connection was lost during {what}.", Address),
            PgServerError p when p.SqlState.StartsWith("28", StringComparison.Ordinal) || p.Message.Contains("not allowed", StringComparison.OrdinalIgnoreCase)
                || p.Message.Contains("password", StringComparison.OrdinalIgnoreCase) || p.Message.Contains("no such user", StringComparison.OrdinalIgnoreCase)
                || p.Message.Contains("authentication failed", StringComparison.OrdinalIgnoreCase)
                => new OpsToolsException("PgBouncerAuthenticationFailed", OpsErrorKind.PermissionDenied,
                    $"PgBouncer at {Server} refused user '{User}' on the admin console (password from {PasswordSource}): {Clean(p.Message)}. The user must be in admin_users (or stats_users for SHOW) and in the auth_file.", Address),
            PgServerError p => new OpsToolsException("PgBouncerCommandFailed", OpsErrorKind.OperationFailed,
                $"PgBouncer at {Server}: {what} failed: {Clean(p.Message)}", Address),
            _ => new OpsToolsException("PgBouncerCommandFailed", OpsErrorKind.OperationFailed, $"PgBouncer at {Server}: {what} failed: {Clean(e.Message)}", Address),
        };
    }
}

/// <summary>Resolves the console psql's way: host, port 6432, user 'pgbouncer', password from -Credential, PasswordVariable, PGPASSWORD, ~/.pgpass.</summary>
public static class PgBouncerTargetResolver
{
    public static PgBouncerTarget Resolve(PgBouncerTargetSpec spec, Func<string, string?>? environment = null)
    {
        environment ??= Environment.GetEnvironmentVariable;
        var s = spec.Settings;
        var port = spec.Port ?? s?.Port ?? 6432;
        var host = spec.Host ?? s?.Host
            ?? (!OperatingSystem.IsWindows() && File.Exists($"/var/run/postgresql/.s.PGSQL.{port}") ? "/var/run/postgresql" : "127.0.0.1");
        var user = spec.User ?? s?.User ?? "pgbouncer";
        string? password; string source;
        if (spec.Password is not null) { password = new NetworkCredential("", spec.Password).Password; source = "-Credential"; }
        else if (s?.PasswordVariable is { Length: > 0 } pv)
        {
            password = environment(pv);
            if (string.IsNullOrEmpty(password))
                throw new OpsToolsException("PgBouncerPasswordVariableNotSet", OpsErrorKind.InvalidArgument,
                    $"PgBouncer: the environment variable '{pv}' named by PasswordVariable is not set or empty.", pv);
            source = "$env:" + pv;
        }
        else if (environment("PGPASSWORD") is { Length: > 0 } pg) { password = pg; source = "PGPASSWORD"; }
        else
        {
            var file = environment("PGPASSFILE") is { Length: > 0 } f ? f : environment("HOME") is { Length: > 0 } home ? Path.Combine(home, ".pgpass") : null;
            password = file is null ? null : PgPassFile.Lookup(file, host, port, "pgbouncer", user);
            source = password is null ? "none" : "~/.pgpass";
        }
        return new PgBouncerTarget(host, port, user, password, source, spec.TimeoutSec);
    }
}

/// <summary>Options of the pool check.</summary>
public sealed class PgBouncerPoolOptions
{
    public double MaxWaitWarningSeconds { get; init; } = 1;
    public double MaxWaitCriticalSeconds { get; init; } = 5;
    public double PoolUsedWarningPercent { get; init; } = 80;
    public string? Environment { get; init; }
}

/// <summary>SHOW commands as rows, the pool check, and the RECONNECT/RELOAD/PAUSE/RESUME commands.</summary>
public static class PgBouncerAdmin
{
    public static readonly string[] ShowTopics = { "Pools", "Clients", "Servers", "Stats", "Config", "Databases", "Users", "Lists", "Mem", "Totals", "Sockets", "Dns_Hosts", "Dns_Zones", "Version" };
    public static readonly string[] Commands = { "Reconnect", "Reload", "Pause", "Resume", "Disable", "Enable", "Kill", "Wait_Close" };

    /// <summary>A SHOW as rows of column = value; int4/int8/numeric columns become numbers.</summary>
    public static async Task<List<IReadOnlyList<KeyValuePair<string, object?>>>> ShowAsync(PgBouncerTarget target, string topic, CancellationToken ct)
    {
        var t = ShowTopics.FirstOrDefault(x => x.Equals(topic, StringComparison.OrdinalIgnoreCase))
                ?? throw new OpsToolsException("PgBouncerShowUnknown", OpsErrorKind.InvalidArgument, $"SHOW {topic} is not one of {string.Join(", ", ShowTopics)}.", topic);
        var result = await target.QueryAsync("SHOW " + t.ToUpperInvariant(), ct).ConfigureAwait(false);
        return result.Rows.Select(row => (IReadOnlyList<KeyValuePair<string, object?>>)result.Columns.Select((c, i) =>
            new KeyValuePair<string, object?>(c.Name, Typed(row[i], c.TypeOid))).ToList()).ToList();
    }

    private static object? Typed(string? text, int oid) => text is null ? null : oid switch
    {
        20 or 21 or 23 or 1700 when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) => l, // PgBouncer's counters are numeric
        1700 or 700 or 701 when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        _ => text,
    };

    /// <summary>SHOW POOLS with pool sizes from SHOW DATABASES, as check results (the admin database 'pgbouncer' left out).</summary>
    public static async Task<List<PgBouncerPoolResult>> PoolsAsync(PgBouncerTarget target, PgBouncerPoolOptions o, CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var pools = await ShowAsync(target, "Pools", ct).ConfigureAwait(false);
        var databases = await ShowAsync(target, "Databases", ct).ConfigureAwait(false);
        var configured = databases.Select(d => d.ToDictionary(kv => kv.Key, kv => kv.Value))
            .Where(d => d.GetValueOrDefault("name") is string).ToList();
        var sizes = configured.GroupBy(d => (string)d["name"]!).ToDictionary(g => g.Key, g => g.First().GetValueOrDefault("pool_size") as long?);
        // A database no client has used yet has no pool in SHOW POOLS: it is still a pool to report (empty, Healthy).
        var pooled = new HashSet<string>(pools.Select(p => p.FirstOrDefault(kv => kv.Key == "database").Value as string ?? ""), StringComparer.Ordinal);
        foreach (var d in configured.Where(d => !pooled.Contains((string)d["name"]!)))
            pools.Add(new List<KeyValuePair<string, object?>>
            {
                new("database", d["name"]), new("user", d.GetValueOrDefault("force_user") as string ?? ""), new("pool_mode", d.GetValueOrDefault("pool_mode") as string ?? ""),
            });
        var elapsed = watch.Elapsed;
        var results = new List<PgBouncerPoolResult>();
        foreach (var row in pools.Select(p => p.ToDictionary(kv => kv.Key, kv => kv.Value)))
        {
            long N(string k) => row.GetValueOrDefault(k) is long l ? l : 0;
            var db = row.GetValueOrDefault("database") as string ?? "";
            if (db == "pgbouncer") continue; // the admin console itself
            var r = new PgBouncerPoolResult
            {
                Server = target.Server, Database = db, User = row.GetValueOrDefault("user") as string ?? "",
                ClientsActive = N("cl_active"), ClientsWaiting = N("cl_waiting"), ServersActive = N("sv_active"), ServersIdle = N("sv_idle"),
                ServersUsed = N("sv_used"), ServersTested = N("sv_tested"), ServersLogin = N("sv_login"),
                MaxWait = TimeSpan.FromSeconds(N("maxwait")) + TimeSpan.FromMicroseconds(N("maxwait_us")),
                PoolMode = row.GetValueOrDefault("pool_mode") as string ?? "", PoolSize = sizes.GetValueOrDefault(db),
                Environment = o.Environment, Duration = elapsed, Timestamp = DateTime.UtcNow,
            };
            r.Target = $"{target.Server} {r.Database}/{r.User}";
            Judge(r, o);
            results.Add(r);
        }
        return results;
    }

    public static void Judge(PgBouncerPoolResult r, PgBouncerPoolOptions o)
    {
        var wait = r.MaxWait.TotalSeconds;
        var used = r.PoolUsedPercent;
        r.Value = r.ClientsWaiting;
        r.Threshold = $"waiting clients: warn > 0 or maxwait > {o.MaxWaitWarningSeconds} s, critical maxwait > {o.MaxWaitCriticalSeconds} s; pool used warn >= {o.PoolUsedWarningPercent}%";
        var size = r.PoolSize is long s ? $"{r.ServersOpen} of pool_size {s} server connections open" : $"{r.ServersOpen} server connections open";
        var head = $"{r.ClientsActive} active, {r.ClientsWaiting} waiting clients (longest {wait.ToString("0.###", CultureInfo.InvariantCulture)} s); {size}";
        if (r.ClientsWaiting > 0 && wait > o.MaxWaitCriticalSeconds)
        {
            r.Status = CheckStatus.Critical;
            r.Message = head + ": pool exhausted (runbook: Database Connection Pool Exhausted; find long transactions, raise pool_size, or RECONNECT).";
        }
        else if (r.ClientsWaiting > 0 || wait > o.MaxWaitWarningSeconds)
        {
            r.Status = CheckStatus.Warning;
            r.Message = head + ": clients are queueing for a server connection.";
        }
        else if (used >= o.PoolUsedWarningPercent)
        {
            r.Status = CheckStatus.Warning;
            r.Message = head + $": the pool is {used?.ToString(CultureInfo.InvariantCulture)}% used, near its size.";
        }
        else
        {
            r.Status = CheckStatus.Healthy;
            r.Message = head + ".";
        }
    }

    /// <summary>RECONNECT/RELOAD/PAUSE/RESUME [db]: the console's answer (its command tag).</summary>
    public static async Task<PgBouncerCommandResult> RunAsync(PgBouncerTarget target, string command, string? database, CancellationToken ct)
    {
        var c = Commands.FirstOrDefault(x => x.Equals(command, StringComparison.OrdinalIgnoreCase))
                ?? throw new OpsToolsException("PgBouncerCommandUnknown", OpsErrorKind.InvalidArgument, $"'{command}' is not one of {string.Join(", ", Commands)}.", command);
        var text = c.ToUpperInvariant() + (database is { Length: > 0 } ? " " + QuoteIdent(database) : "");
        var watch = Stopwatch.StartNew();
        var result = await target.QueryAsync(text, ct).ConfigureAwait(false);
        return new PgBouncerCommandResult
        {
            Server = target.Server, Command = text, Database = database, Answer = result.CommandTag, Duration = watch.Elapsed, Timestamp = DateTime.UtcNow,
        };
    }

    /// <summary>The text of the statement <see cref="RunAsync"/> sends (for -WhatIf and prompts).</summary>
    public static string Statement(string command, string? database) =>
        command.ToUpperInvariant() + (database is { Length: > 0 } ? " " + QuoteIdent(database) : "");

    private static string QuoteIdent(string name) =>
        name.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_') ? name : "\"" + name.Replace("\"", "\"\"") + "\"";
}
