using System.Diagnostics;
using System.Text;
using Npgsql;
using OpsTools.Engine.Database;
using OpsTools.Engine.Security;

namespace OpsTools.Engine.Backup;

/// <summary>
/// The one way OpsTools starts pg_dump / pg_restore (Backup-Database, Test-Backup, Restore-Backup): no shell (ArgumentList),
/// connection settings only in the child's environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, PGSSLMODE,
/// PGSSLROOTCERT, PGSSLCERT, PGSSLKEY, PGAPPNAME, PGCONNECT_TIMEOUT), never on the command line where ps would show them;
/// standard input closed so nothing can wait for a password prompt; the whole process tree killed on cancellation.
/// On Linux the child also dies with the host: it is started through util-linux's <c>setpriv --pdeathsig KILL</c> (when
/// present) from one long-lived thread (the parent-death signal fires when the thread that started the child ends), so a
/// kill -9 of pwsh never leaves a pg_restore or pg_dump running on its own.
/// </summary>
public static class PgToolProcess
{
    /// <summary>Inherited settings that would override or redirect the resolved target: always removed from the child's environment.</summary>
    private static readonly string[] Cleared = { "PGSERVICE", "PGSERVICEFILE", "PGHOSTADDR", "PGREQUIREAUTH", "PGTARGETSESSIONATTRS", "PGOPTIONS" };

    /// <summary>A start info for <paramref name="tool"/> against <paramref name="target"/> (null: no connection needed).</summary>
    public static ProcessStartInfo StartInfo(PgTool tool, PgTarget? target, IEnumerable<string> arguments, string applicationName, bool withDatabase = true)
    {
        var psi = ToolStartInfo(tool.Path, arguments);
        foreach (var name in Cleared) psi.Environment.Remove(name);
        if (target is not null)
            foreach (var (key, value) in ChildEnvironment(target, applicationName, withDatabase))
                if (value is null) psi.Environment.Remove(key); else psi.Environment[key] = value;
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
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = Path.GetTempPath(),
        };
        if (ParentDeathWrapper.Value is { } setpriv)
        {
            psi.FileName = setpriv;
            foreach (var a in new[] { "--pdeathsig", "KILL", "--", path }) psi.ArgumentList.Add(a);
        }
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>
    /// The child's environment for <paramref name="target"/>: the libpq variables to set, and (as null) the inherited ones to
    /// remove. Without <paramref name="withDatabase"/> PGDATABASE is removed too (the caller names the database with --dbname).
    /// </summary>
    internal static Dictionary<string, string?> ChildEnvironment(PgTarget target, string applicationName, bool withDatabase = true)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var name in Cleared) env[name] = null;
        foreach (var (k, v) in LibpqEnvironment(target, applicationName)) env[k] = v;
        if (!withDatabase) env["PGDATABASE"] = null;
        return env;
    }

    /// <summary>"/usr/bin/setpriv" when it can set a parent-death signal (Linux, util-linux 2.33 or newer), else null.</summary>
    private static readonly Lazy<string?> ParentDeathWrapper = new(() =>
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("OPSTOOLS_NO_PDEATHSIG") is { Length: > 0 }) return null;
        foreach (var path in new[] { "/usr/bin/setpriv", "/bin/setpriv" })
        {
            if (!File.Exists(path)) continue;
            try
            {
                using var p = Process.Start(new ProcessStartInfo(path, "--help") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
                if (p is null) continue;
                var help = p.StandardOutput.ReadToEnd();
                p.WaitForExit(5000);
                if (help.Contains("--pdeathsig", StringComparison.Ordinal)) return path;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException) { }
        }
        return null;
    });

    /// <summary>True when children are started with a parent-death signal (what the tests check).</summary>
    public static bool DiesWithHost => ParentDeathWrapper.Value is not null;

    private static readonly System.Collections.Concurrent.BlockingCollection<Action> Launches = new();
    private static readonly Lazy<Thread> Launcher = new(() =>
    {
        var t = new Thread(() => { foreach (var launch in Launches.GetConsumingEnumerable()) launch(); })
        {
            IsBackground = true,
            Name = "OpsTools child process launcher",
        };
        t.Start();
        return t;
    });

    /// <summary>
    /// Starts the process. With a parent-death signal, from the launcher thread that lives as long as the process: the signal
    /// is tied to the thread that forked the child, and a thread-pool thread may retire while a long pg_restore still runs.
    /// </summary>
    public static void Start(Process process)
    {
        if (!DiesWithHost)
        {
            process.Start();
            return;
        }
        _ = Launcher.Value;
        using var done = new ManualResetEventSlim();
        Exception? error = null;
        Launches.Add(() =>
        {
            try { process.Start(); }
            catch (Exception e) { error = e; }
            finally { done.Set(); }
        });
        done.Wait();
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
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

    /// <summary>
    /// Kills the process and everything it started; never throws. On Linux the tree is read from /proc/&lt;pid&gt;/task/*/children
    /// (only this process's own descendants): Process.Kill(entireProcessTree: true) reads every process of the machine first, which
    /// took 0.4-0.65 s of a cancelled restore's second on a busy host. Elsewhere, or when that file is missing, .NET's tree kill.
    /// </summary>
    public static void KillTree(Process process)
    {
        try
        {
            if (process.HasExited) return;
            if (OperatingSystem.IsLinux() && Descendants(process.Id) is { } descendants)
            {
                process.Kill(); // the root first (SIGKILL): it starts nothing more
                foreach (var pid in descendants)
                {
                    try { using var child = Process.GetProcessById(pid); child.Kill(); }
                    catch (ArgumentException) { } // gone already
                    catch (InvalidOperationException) { }
                    catch (System.ComponentModel.Win32Exception) { }
                }
                return;
            }
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
        catch (NotSupportedException) { }
    }

    /// <summary>Every descendant of <paramref name="root"/> from /proc/&lt;pid&gt;/task/&lt;tid&gt;/children; null when the kernel has no such file.</summary>
    internal static List<int>? Descendants(int root)
    {
        if (!File.Exists($"/proc/{root}/task/{root}/children")) return null;
        var result = new List<int>();
        var pending = new Stack<int>();
        pending.Push(root);
        while (pending.Count > 0 && result.Count < 10_000)
        {
            var pid = pending.Pop();
            string[] tasks;
            try { tasks = Directory.GetDirectories($"/proc/{pid}/task"); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            foreach (var task in tasks)
            {
                string text;
                try { text = File.ReadAllText(Path.Combine(task, "children")); }
                catch (IOException) { continue; }
                catch (UnauthorizedAccessException) { continue; }
                foreach (var part in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                    if (int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var child))
                    {
                        result.Add(child);
                        pending.Push(child);
                    }
            }
        }
        return result;
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

    /// <summary>What a tool run ended with: its exit code and its output, line by line.</summary>
    public sealed record Outcome(int ExitCode, List<string> StdoutLines, List<string> StderrLines)
    {
        /// <summary>All of standard error as one text.</summary>
        public string Error => string.Join('\n', StderrLines);

        /// <summary>What went wrong, from stderr (errors first), scrubbed of secrets and kept short.</summary>
        public string ErrorSummary
        {
            get
            {
                var errors = StderrLines.Where(l => l.Contains("error", StringComparison.OrdinalIgnoreCase) || l.Contains("FATAL", StringComparison.Ordinal)
                    || l.Contains("could not", StringComparison.OrdinalIgnoreCase) || l.Contains("Command was", StringComparison.Ordinal) || l.Contains("DETAIL", StringComparison.Ordinal)).ToList();
                if (errors.Count == 0) errors = StderrLines.TakeLast(5).ToList();
                var text = string.Join(" ", errors.Select(l => l.Trim())).Trim();
                if (text.Length == 0) text = $"exit code {ExitCode}, nothing on stderr";
                if (text.Length > 2000) text = text[..2000] + " ...";
                return Redaction.ScrubText(text);
            }
        }
    }

    /// <summary>
    /// Runs a tool to its end, capturing its output (each stderr line also to <paramref name="onStderrLine"/>); the whole tree is
    /// killed on cancellation (OperationCanceledException) or when <paramref name="timeout"/> passes (PgToolTimeout).
    /// </summary>
    public static async Task<Outcome> RunAsync(ProcessStartInfo psi, Action<string>? onStderrLine, TimeSpan? timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var name = Path.GetFileName(psi.ArgumentList.Count > 3 && psi.ArgumentList[0] == "--pdeathsig" ? psi.ArgumentList[3] : psi.FileName);
        using var p = new Process { StartInfo = psi };
        try { Start(p); }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new OpsToolsException("PgToolFailed", OpsErrorKind.OperationFailed, $"{name} did not start: {e.Message}", name, e);
        }
        p.StandardInput.Close();
        var stdout = new List<string>();
        var stderr = new List<string>();
        var readOut = Task.Run(async () => { while (await p.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } l) stdout.Add(l); }, CancellationToken.None);
        var readErr = Task.Run(async () =>
        {
            while (await p.StandardError.ReadLineAsync().ConfigureAwait(false) is { } l)
            {
                lock (stderr) stderr.Add(l);
                onStderrLine?.Invoke(l);
            }
        }, CancellationToken.None);
        using var limit = timeout is { } t ? new CancellationTokenSource(t) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            await p.WaitForExitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillTree(p);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try { await p.WaitForExitAsync(grace.Token).ConfigureAwait(false); } catch (OperationCanceledException) { }
            cancellationToken.ThrowIfCancellationRequested();
            throw new OpsToolsException("PgToolTimeout", OpsErrorKind.Timeout,
                $"{name} did not finish within {timeout!.Value.TotalMinutes:0} minutes and was stopped.", name);
        }
        await Task.WhenAll(readOut, readErr).ConfigureAwait(false);
        return new Outcome(p.ExitCode, stdout, stderr);
    }
}
