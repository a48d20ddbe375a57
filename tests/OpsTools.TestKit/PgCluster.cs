using System.Diagnostics;
using System.Text;
using Npgsql;

namespace OpsTools.TestKit;

/// <summary>
/// A throwaway PostgreSQL cluster: initdb into a temp folder, listening on 127.0.0.1 at a free port,
/// pg_stat_statements preloaded, password (scram) authentication for the superuser. Stopped and
/// deleted when disposed. Binaries: $PG_BIN, else the newest /usr/lib/postgresql/*/bin.
/// As root, the server runs as the 'postgres' user (initdb refuses root).
///
/// Set OPSTOOLS_TEST_PG to a superuser connection string to run the same tests against a real
/// server instead; tests then create and drop their own databases there.
/// </summary>
public sealed class PgCluster : IDisposable
{
    private readonly string? _dir;
    private readonly string? _bin;
    private readonly bool _asPostgres;
    private bool _stopped;

    public string Host { get; } = "127.0.0.1";
    public int Port { get; }
    public string User { get; } = "postgres";
    public string Password { get; }
    /// <summary>The server's major version (e.g. 15).</summary>
    public int MajorVersion { get; private set; }
    /// <summary>True when the tests run against a server given by OPSTOOLS_TEST_PG.</summary>
    public bool External { get; }
    /// <summary>Folder of initdb/pg_ctl/pg_dump/vacuumdb of the cluster's version (null when External).</summary>
    public string? BinDirectory => _bin;
    public string? DataDirectory => _dir is null ? null : Path.Combine(_dir, "data");

    private PgCluster(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        Host = b.Host!; Port = b.Port; User = b.Username!; Password = b.Password ?? "";
        External = true;
        MajorVersion = QueryMajor();
    }

    private PgCluster(string dir, string bin, bool asPostgres, int port, string password)
    {
        _dir = dir; _bin = bin; _asPostgres = asPostgres; Port = port; Password = password;
    }

    public static PgCluster Start() => Start(null);

    /// <summary>Starts a cluster with <paramref name="options"/> (e.g. TLS with a given certificate); null: as <see cref="Start()"/>.</summary>
    public static PgCluster Start(PgClusterOptions? options)
    {
        var external = Environment.GetEnvironmentVariable("OPSTOOLS_TEST_PG");
        if (!string.IsNullOrEmpty(external) && options is null) return new PgCluster(external);

        var bin = FindBin() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries not found (set PG_BIN, or install Debian's 'postgresql' package: .ci/run does).");
        var asPostgres = Environment.UserName == "root" || IsRoot();
        // As root the server runs as 'postgres', which must reach the folder: /tmp, whatever TMPDIR says.
        var tempRoot = asPostgres && Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath();
        var dir = Path.Combine(tempRoot, "opstools-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        var password = "pw-" + Guid.NewGuid().ToString("N")[..16];
        File.WriteAllText(Path.Combine(dir, "pwfile"), password + "\n");
        Directory.CreateDirectory(Path.Combine(dir, "sock"));
        if (asPostgres) TestProcess.Run("chown", "-R", "postgres:postgres", dir);

        var port = HealthServer.FreePort();
        var cluster = new PgCluster(dir, bin, asPostgres, port, password);
        cluster.Pg("initdb", "-D", Path.Combine(dir, "data"), "-U", "postgres", "--pwfile=" + Path.Combine(dir, "pwfile"),
            "-A", "scram-sha-256", "-E", "UTF8", "--no-locale", "--no-sync");
        var conf = new StringBuilder()
            .AppendLine("listen_addresses = '127.0.0.1'")
            .AppendLine($"port = {port}")
            .AppendLine($"unix_socket_directories = '{Path.Combine(dir, "sock")}'")
            .AppendLine("shared_preload_libraries = 'pg_stat_statements'")
            .AppendLine("pg_stat_statements.track = all")
            .AppendLine("max_connections = 60")
            .AppendLine("fsync = off")
            .AppendLine("synchronous_commit = off")
            .AppendLine("full_page_writes = off")
            .AppendLine("autovacuum = off") // tests make dead tuples and must find them
            .AppendLine("track_io_timing = on")
            .AppendLine("log_min_messages = warning");
        if (options?.SslCertificatePem is { } certPem && options.SslKeyPem is { } keyPem)
        {
            // ssl = on with the test's certificate (server.crt/server.key in the data folder, key owner-only as PostgreSQL demands).
            var data = Path.Combine(dir, "data");
            File.WriteAllText(Path.Combine(data, "server.crt"), certPem);
            File.WriteAllText(Path.Combine(data, "server.key"), keyPem);
            File.SetUnixFileMode(Path.Combine(data, "server.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            if (asPostgres) TestProcess.Run("chown", "postgres:postgres", Path.Combine(data, "server.crt"), Path.Combine(data, "server.key"));
            conf.AppendLine("ssl = on").AppendLine("ssl_cert_file = 'server.crt'").AppendLine("ssl_key_file = 'server.key'");
        }
        var confPath = Path.Combine(dir, "data", "postgresql.conf");
        File.AppendAllText(confPath, conf.ToString());
        cluster.StartServer();
        cluster.MajorVersion = cluster.QueryMajor();
        return cluster;
    }

    /// <summary>Starts the server again after <see cref="StopServer"/>.</summary>
    public void StartServer()
    {
        Pg("pg_ctl", "-D", DataDirectory!, "-l", Path.Combine(_dir!, "server.log"), "-w", "-t", "60", "start");
        _stopped = false;
    }

    /// <summary>Stops the server at once (fast shutdown: sessions are terminated), as in a crash drill.</summary>
    public void StopServer(string mode = "fast")
    {
        if (External) throw new InvalidOperationException("cannot stop an external server");
        Pg("pg_ctl", "-D", DataDirectory!, "-m", mode, "-w", "-t", "60", "stop");
        _stopped = true;
    }

    public string ConnectionString(string database = "postgres") => new NpgsqlConnectionStringBuilder
    {
        Host = Host, Port = Port, Username = User, Password = Password, Database = database,
        Pooling = false, Timeout = 15, CommandTimeout = 120,
    }.ConnectionString;

    public NpgsqlConnection Open(string database = "postgres")
    {
        var c = new NpgsqlConnection(ConnectionString(database));
        c.Open();
        return c;
    }

    public void Exec(string sql, string database = "postgres")
    {
        using var c = Open(database);
        using var cmd = new NpgsqlCommand(sql, c);
        cmd.ExecuteNonQuery();
    }

    public T? Scalar<T>(string sql, string database = "postgres")
    {
        using var c = Open(database);
        using var cmd = new NpgsqlCommand(sql, c);
        var v = cmd.ExecuteScalar();
        if (v is null or DBNull) return default;
        var type = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
        return (T)Convert.ChangeType(v, type);
    }

    /// <summary>A new empty database for one test; dropped (with its sessions) by <see cref="DropDatabase"/>.</summary>
    public string CreateDatabase(string prefix = "t")
    {
        var name = $"{prefix}_{Guid.NewGuid().ToString("N")[..10]}";
        Exec($"CREATE DATABASE \"{name}\"");
        return name;
    }

    public void DropDatabase(string name)
    {
        try { Exec($"DROP DATABASE IF EXISTS \"{name.Replace("\"", "\"\"")}\" WITH (FORCE)"); }
        catch (NpgsqlException) { /* server stopped by a fault test: the folder goes anyway */ }
    }

    /// <summary>PowerShell text that sets $Cred (a PSCredential) and $Pg (common connection parameters as a splat table).</summary>
    public string PowerShellSetup(string database) =>
        $"$ss = [System.Security.SecureString]::new(); foreach ($ch in '{Password}'.ToCharArray()) {{ $ss.AppendChar($ch) }}; " +
        $"$Cred = [System.Management.Automation.PSCredential]::new('{User}', $ss); " +
        $"$Pg = @{{ Server = '{Host}'; Port = {Port}; Database = '{database}'; Credential = $Cred }}";

    private int QueryMajor() => Scalar<int>("SELECT current_setting('server_version_num')::int / 10000");

    public void Dispose()
    {
        if (External || _dir is null) return;
        try
        {
            if (!_stopped) Pg("pg_ctl", "-D", DataDirectory!, "-m", "immediate", "-w", "-t", "30", "stop");
        }
        catch (InvalidOperationException)
        {
            KillByPidFile();
        }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private void KillByPidFile()
    {
        var pidFile = Path.Combine(DataDirectory!, "postmaster.pid");
        if (!File.Exists(pidFile)) return;
        if (int.TryParse(File.ReadLines(pidFile).FirstOrDefault(), out var pid))
            try { Process.GetProcessById(pid).Kill(entireProcessTree: true); } catch (ArgumentException) { } catch (InvalidOperationException) { }
    }

    private void Pg(string tool, params string[] args)
    {
        var exe = Path.Combine(_bin!, tool);
        if (_asPostgres) TestProcess.Run("runuser", new[] { "-u", "postgres", "--", exe }.Concat(args).ToArray());
        else TestProcess.Run(exe, args);
    }

    private static string? FindBin()
    {
        var env = Environment.GetEnvironmentVariable("PG_BIN");
        if (!string.IsNullOrEmpty(env) && File.Exists(Path.Combine(env, "initdb"))) return env;
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root)
            .Select(d => (dir: Path.Combine(d, "bin"), ver: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
            .Where(x => File.Exists(Path.Combine(x.dir, "initdb")))
            .OrderByDescending(x => x.ver).Select(x => x.dir).FirstOrDefault();
    }

    private static bool IsRoot()
    {
        try { return File.ReadAllText("/proc/self/status").Split('\n').First(l => l.StartsWith("Uid:")).Split('\t', ' ', StringSplitOptions.RemoveEmptyEntries)[1] == "0"; }
        catch (Exception) { return false; }
    }
}

/// <summary>What a test cluster differs in from the default one.</summary>
public sealed class PgClusterOptions
{
    /// <summary>With <see cref="SslKeyPem"/>: ssl = on, serving this certificate (PEM, may include the chain).</summary>
    public string? SslCertificatePem { get; init; }
    /// <summary>The certificate's private key (PEM).</summary>
    public string? SslKeyPem { get; init; }
}

/// <summary>One cluster for every test in the "PostgreSQL" collection.</summary>
public sealed class PgClusterFixture : IDisposable
{
    public PgCluster Cluster { get; } = PgCluster.Start();
    public void Dispose() => Cluster.Dispose();
}
