using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace OpsTools.TestKit;

/// <summary>
/// A throwaway pgbouncer (Debian's pgbouncer 1.18) on 127.0.0.1 at a free port, in front of a <see cref="PgCluster"/>,
/// with its own ini and auth_file in a temp folder; stopped by PID when disposed. pgbouncer refuses to run as root: as
/// root it runs as 'postgres' (setpriv, which execs, so the PID is pgbouncer's own).
/// Users: <see cref="AdminUser"/> (admin_users), <see cref="StatsUser"/> (stats_users), <see cref="PlainUser"/> (neither),
/// and the cluster's superuser for the pooled database <see cref="DatabaseAlias"/>.
/// </summary>
public sealed class PgBouncer : IDisposable
{
    private readonly Process _process;

    public string Directory { get; }
    public int Port { get; }
    public string AdminUser => "opsadmin";
    public string AdminPassword { get; }
    public string StatsUser => "opsstats";
    public string PlainUser => "appuser";
    public string DatabaseAlias => "appdb";
    public PgCluster Cluster { get; }
    public int Pid => _process.Id;

    private PgBouncer(string dir, int port, string adminPassword, PgCluster cluster, Process process)
    {
        Directory = dir; Port = port; AdminPassword = adminPassword; Cluster = cluster; _process = process;
    }

    public static PgBouncer Start(PgCluster cluster, string database = "postgres", int poolSize = 2, string authType = "scram-sha-256")
    {
        var asRoot = Environment.UserName == "root";
        var dir = Path.Combine(asRoot ? "/tmp" : Path.GetTempPath(), "opstools-pgb-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(dir);
        var port = HealthServer.FreePort();
        var adminPassword = "adm-" + Guid.NewGuid().ToString("N")[..12];
        File.WriteAllText(Path.Combine(dir, "userlist.txt"),
            $"\"opsadmin\" \"{adminPassword}\"\n\"opsstats\" \"{adminPassword}\"\n\"appuser\" \"{adminPassword}\"\n\"{cluster.User}\" \"{cluster.Password}\"\n");
        var ini = new StringBuilder()
            .AppendLine("[databases]")
            .AppendLine($"appdb = host={cluster.Host} port={cluster.Port} dbname={database} user={cluster.User} password={cluster.Password} pool_size={poolSize}")
            .AppendLine("[pgbouncer]")
            .AppendLine("listen_addr = 127.0.0.1")
            .AppendLine($"listen_port = {port}")
            .AppendLine("unix_socket_dir =")
            .AppendLine($"auth_type = {authType}")
            .AppendLine($"auth_file = {Path.Combine(dir, "userlist.txt")}")
            .AppendLine("admin_users = opsadmin")
            .AppendLine("stats_users = opsstats")
            .AppendLine("pool_mode = session")
            .AppendLine($"default_pool_size = {poolSize}")
            .AppendLine("max_client_conn = 100")
            .AppendLine($"logfile = {Path.Combine(dir, "pgbouncer.log")}")
            .AppendLine($"pidfile = {Path.Combine(dir, "pgbouncer.pid")}");
        var iniPath = Path.Combine(dir, "pgbouncer.ini");
        File.WriteAllText(iniPath, ini.ToString());
        if (asRoot) Run("chown", "-R", "postgres:postgres", dir);
        var exe = File.Exists("/usr/sbin/pgbouncer") ? "/usr/sbin/pgbouncer" : "pgbouncer";
        var psi = asRoot ? new ProcessStartInfo("setpriv") : new ProcessStartInfo(exe);
        if (asRoot) foreach (var a in new[] { "--reuid=postgres", "--regid=postgres", "--init-groups", exe }) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(iniPath);
        psi.UseShellExecute = false; psi.RedirectStandardOutput = true; psi.RedirectStandardError = true;
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine(); process.BeginErrorReadLine();
        var b = new PgBouncer(dir, port, adminPassword, cluster, process);
        var until = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < until)
        {
            if (process.HasExited) throw new InvalidOperationException($"pgbouncer exited ({process.ExitCode}): {b.Log()}");
            try { b.Psql("SHOW VERSION"); return b; } catch (InvalidOperationException) { Thread.Sleep(100); }
        }
        b.Dispose();
        throw new InvalidOperationException("pgbouncer did not answer within 20 s: " + b.Log());
    }

    public string Log() { try { return File.ReadAllText(Path.Combine(Directory, "pgbouncer.log")); } catch (IOException) { return ""; } }

    /// <summary>psql -At against the admin console (as <see cref="AdminUser"/>): the independent view of the state.</summary>
    public string Psql(string sql) => RunPsql(AdminUser, AdminPassword, "pgbouncer", sql, TimeSpan.FromSeconds(30));

    /// <summary>Starts a psql client through PgBouncer to <see cref="DatabaseAlias"/> that runs <paramref name="sql"/>; the caller waits or kills it.</summary>
    public Process StartClient(string sql)
    {
        var psi = PsqlStart(Cluster.User, Cluster.Password, DatabaseAlias, sql);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, _) => { };
        p.ErrorDataReceived += (_, _) => { };
        p.BeginOutputReadLine(); p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Rows of SHOW POOLS for the pooled database, as psql reads them: cl_active, cl_waiting, sv_active ...</summary>
    public Dictionary<string, string> PoolRow()
    {
        var text = RunPsql(AdminUser, AdminPassword, "pgbouncer", "SHOW POOLS", TimeSpan.FromSeconds(30), csv: true);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var head = lines[0].Split(',');
        var row = lines.Skip(1).Select(l => l.Split(',')).First(r => r[0] == DatabaseAlias);
        return head.Select((h, i) => (h, row[i])).ToDictionary(x => x.h, x => x.Item2);
    }

    private ProcessStartInfo PsqlStart(string user, string password, string db, string sql, bool csv = false)
    {
        var psi = new ProcessStartInfo("psql") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", user, "-d", db, "-X", "-v", "ON_ERROR_STOP=1", csv ? "--csv" : "-At", "-c", sql })
            psi.ArgumentList.Add(a);
        psi.Environment["PGPASSWORD"] = password;
        psi.Environment["PGCONNECT_TIMEOUT"] = "10";
        return psi;
    }

    private string RunPsql(string user, string password, string db, string sql, TimeSpan timeout, bool csv = false)
    {
        using var p = Process.Start(PsqlStart(user, password, db, sql, csv))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout)) { p.Kill(true); throw new InvalidOperationException("psql timed out"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"psql failed ({p.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) { _process.Kill(); _process.WaitForExit(10000); } } catch (InvalidOperationException) { }
        _process.Dispose();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void Run(string exe, params string[] args)
    {
        var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
    }
}
