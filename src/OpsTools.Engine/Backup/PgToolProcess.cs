using System.Diagnostics;
using System.Text;
using Npgsql;
using OpsTools.Engine.Database;
using OpsTools.Engine.Security;

namespace OpsTools.Engine.Backup;

/// <summary>
/// Starts pg_dump / pg_restore as child processes the safe way: no shell (ArgumentList), connection settings
/// only in the child's environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSSLMODE, PGAPPNAME,
/// PGCONNECT_TIMEOUT), never on the command line where ps would show them; standard input closed so nothing
/// can wait for a password prompt; the whole process tree killed on cancellation.
/// </summary>
public static class PgToolProcess
{
    /// <summary>A start info for <paramref name="tool"/> against <paramref name="target"/> (null: no connection needed).</summary>
    public static ProcessStartInfo StartInfo(PgTool tool, PgTarget? target, IEnumerable<string> arguments, string applicationName)
    {
        var psi = ToolStartInfo(tool.Path, arguments);
        // Inherited settings that would override or redirect the resolved target.
        foreach (var name in new[] { "PGSERVICE", "PGSERVICEFILE", "PGHOSTADDR", "PGREQUIREAUTH", "PGTARGETSESSIONATTRS" })
            psi.Environment.Remove(name);
        if (target is not null)
            foreach (var (key, value) in LibpqEnvironment(target, applicationName))
                psi.Environment[key] = value;
        return psi;
    }

    /// <summary>
    /// A start info for any child program under the same rules (no shell, arguments one by one, every stream redirected,
    /// standard input closed by <see cref="RunAsync"/>, a neutral working folder): pg_dump, pg_restore, certbot.
    /// </summary>
    public static ProcessStartInfo ToolStartInfo(string path, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(path)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>The libpq environment variables that make a PostgreSQL client program connect to <paramref name="target"/>.</summary>
    internal static Dictionary<string, string> LibpqEnvironment(PgTarget target, string applicationName)
    {
        var b = new NpgsqlConnectionStringBuilder(target.ConnectionStringForTools);
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PGHOST"] = target.Host,
            ["PGPORT"] = target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["PGDATABASE"] = target.Database,
            ["PGAPPNAME"] = applicationName,
            ["PGCONNECT_TIMEOUT"] = Math.Max(2, b.Timeout).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (!string.IsNullOrEmpty(target.User)) env["PGUSER"] = target.User;
        if (!string.IsNullOrEmpty(b.Password)) env["PGPASSWORD"] = b.Password;
        env["PGSSLMODE"] = b.SslMode switch
        {
            SslMode.Disable => "disable",
            SslMode.Allow => "allow",
            SslMode.Require => "require",
            SslMode.VerifyCA => "verify-ca",
            SslMode.VerifyFull => "verify-full",
            _ => "prefer",
        };
        if (!string.IsNullOrEmpty(b.RootCertificate)) env["PGSSLROOTCERT"] = b.RootCertificate;
        if (!string.IsNullOrEmpty(b.SslCertificate)) env["PGSSLCERT"] = b.SslCertificate;
        if (!string.IsNullOrEmpty(b.SslKey)) env["PGSSLKEY"] = b.SslKey;
        return env;
    }

    /// <summary>The password a target's child processes get, so their messages can be scrubbed of it.</summary>
    internal static string? PasswordOf(PgTarget target) => new NpgsqlConnectionStringBuilder(target.ConnectionStringForTools).Password;

    /// <summary>Text a child wrote, safe to show: known secrets and secret-looking assignments masked, at most the last 4000 characters.</summary>
    public static string Shown(string text, PgTarget? target)
    {
        var s = Redaction.ScrubText(target is null ? text : Redaction.RedactText(text, new[] { PasswordOf(target) }));
        s = s.Trim();
        return s.Length > 4000 ? "..." + s[^4000..] : s;
    }

    /// <summary>Kills the process and everything it started; never throws.</summary>
    public static void KillTree(Process process)
    {
        try { if (!process.HasExited) process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
        catch (NotSupportedException) { }
    }

    /// <summary>Keeps the tail of a child's standard error (all of it up to a limit).</summary>
    public sealed class OutputTail
    {
        private readonly StringBuilder _text = new();
        private readonly int _limit;
        public OutputTail(int limit = 64 * 1024) => _limit = limit;
        public void Add(string? line)
        {
            if (line is null) return;
            lock (_text)
            {
                _text.Append(line).Append('\n');
                if (_text.Length > _limit) _text.Remove(0, _text.Length - _limit);
            }
        }
        public override string ToString() { lock (_text) return _text.ToString(); }
    }

    /// <summary>Result of a short tool run: exit code, standard output and standard error.</summary>
    public sealed record Result(int ExitCode, string Output, string Error);

    /// <summary>Runs a tool to its end, capturing its output; killed (whole tree) on cancellation.</summary>
    public static async Task<Result> RunAsync(ProcessStartInfo psi, CancellationToken cancellationToken)
    {
        using var p = new Process { StartInfo = psi };
        p.Start();
        p.StandardInput.Close();
        using var kill = cancellationToken.Register(() => KillTree(p));
        var stdout = p.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = p.StandardError.ReadToEndAsync(CancellationToken.None);
        await p.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        var result = new Result(p.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false));
        cancellationToken.ThrowIfCancellationRequested();
        return result;
    }
}
