using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace OpsTools.TestKit;

/// <summary>
/// A PowerShell remoting "host" on loopback: Debian's OpenSSH sshd on 127.0.0.1 at a free port, with its own config, host
/// key and authorized_keys in a temp folder (owner-only), key authentication only, and the real pwsh 7.6.10 as its
/// <c>powershell</c> subsystem (<c>Subsystem powershell dotnet pwsh.dll -sshs -NoLogo -NoProfile</c>), exactly as the
/// PowerShell-over-SSH set-up documents it. Each host has its own user module folder (<c>XDG_DATA_HOME</c> is set for the
/// subsystem, so pwsh's CurrentUser module path is <see cref="ModulePath"/>): a host "with OpsTools" has the module there,
/// one "without" has nothing. Stopped by PID when disposed.
/// </summary>
public sealed class SshHost : IDisposable
{
    private static readonly Lazy<(string Key, string PublicKey)> ClientKeyPair = new(MakeClientKey);
    private Process? _process;

    private SshHost(string dir, int port) { Directory = dir; Port = port; }

    /// <summary>The host's folder: config, host key, authorized_keys, and home/ (see <see cref="UserHome"/>).</summary>
    public string Directory { get; }
    public int Port { get; }
    public int Pid => _process?.Id ?? 0;
    public static string HostName => "127.0.0.1";
    /// <summary>The user the tests log in as: the account running them (root in CI).</summary>
    public static string UserName => Environment.UserName;
    /// <summary>The client's private key (ed25519, no passphrase), authorized on every host made here.</summary>
    public static string ClientKeyFile => ClientKeyPair.Value.Key;
    /// <summary>
    /// The host's own home folder for PowerShell's user data: the subsystem's XDG_DATA_HOME is UserHome/.local/share, so
    /// pwsh's CurrentUser module path is UserHome/.local/share/powershell/Modules. Install-PSResource -Scope CurrentUser run
    /// with HOME=UserHome installs there too (it follows HOME, not XDG_DATA_HOME).
    /// </summary>
    public string UserHome => Path.Combine(Directory, "home");
    /// <summary>pwsh's CurrentUser module path on this host.</summary>
    public string ModulePath => Path.Combine(UserHome, ".local", "share", "powershell", "Modules");

    public static string Sshd => File.Exists("/usr/sbin/sshd") ? "/usr/sbin/sshd" : "sshd";

    /// <summary>A port on loopback that nothing listens on: a host that is down (connection refused).</summary>
    public static int DownPort() => HealthServer.FreePort();

    /// <summary>Starts an sshd; <paramref name="installModuleFrom"/> (a module version folder such as out/OpsTools/0.1.0) is copied into its user module path first.</summary>
    public static SshHost Start(string? installModuleFrom = null, string? installAsVersion = null)
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("opstools-ssh-").FullName;
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var host = new SshHost(dir, HealthServer.FreePort());
        try
        {
            System.IO.Directory.CreateDirectory(host.ModulePath);
            if (installModuleFrom is not null) host.InstallModule(installModuleFrom, installAsVersion);
            host.StartProcess();
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Copies a module version folder into this host's user module path as OpsTools/&lt;version&gt;; with
    /// <paramref name="asVersion"/>, the copy's manifest says that version instead (a host with another OpsTools).
    /// </summary>
    public void InstallModule(string moduleVersionFolder, string? asVersion = null)
    {
        var version = asVersion ?? new DirectoryInfo(moduleVersionFolder).Name;
        var target = Path.Combine(ModulePath, "OpsTools", version);
        CopyFolder(moduleVersionFolder, target);
        if (asVersion is not null)
        {
            var manifest = Path.Combine(target, "OpsTools.psd1");
            File.WriteAllText(manifest, Regex.Replace(File.ReadAllText(manifest), @"ModuleVersion\s*=\s*'[^']+'", $"ModuleVersion        = '{asVersion}'"));
        }
    }

    /// <summary>The OpsTools versions installed in this host's user module path (folder names), as another client sees them.</summary>
    public IReadOnlyList<string> InstalledVersions()
    {
        var root = Path.Combine(ModulePath, "OpsTools");
        return System.IO.Directory.Exists(root)
            ? System.IO.Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : [];
    }

    /// <summary>pwsh as the subsystem runs it: the dotnet host and the pwsh.dll of the PowerShell tool this repository pins.</summary>
    public static (string Dotnet, string PwshDll) Pwsh()
    {
        var dll = Environment.GetEnvironmentVariable("OPSTOOLS_PWSH_DLL");
        if (string.IsNullOrEmpty(dll))
        {
            var tools = File.ReadAllText(Path.Combine(RepoPaths.Root, ".config", "dotnet-tools.json"));
            var version = Regex.Match(tools, "\"powershell\"\\s*:\\s*\\{\\s*\"version\"\\s*:\\s*\"([^\"]+)\"").Groups[1].Value;
            var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES");
            if (string.IsNullOrEmpty(packages)) packages = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
            var candidates = System.IO.Directory.Exists(Path.Combine(packages, "powershell", version))
                ? System.IO.Directory.GetFiles(Path.Combine(packages, "powershell", version), "pwsh.dll", SearchOption.AllDirectories)
                : [];
            dll = candidates.FirstOrDefault(f => f.Contains($"{Path.DirectorySeparatorChar}unix{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
                ?? throw new InvalidOperationException($"pwsh.dll of PowerShell {version} not found under {packages}/powershell: run `dotnet tool restore`, or set OPSTOOLS_PWSH_DLL.");
        }
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (string.IsNullOrEmpty(dotnet) || !File.Exists(dotnet))
            dotnet = new[] { "/usr/bin/dotnet", "/usr/share/dotnet/dotnet", "/usr/lib/dotnet/dotnet" }.FirstOrDefault(File.Exists)
                ?? throw new InvalidOperationException("dotnet not found for the powershell subsystem.");
        return (dotnet, dll);
    }

    private void StartProcess()
    {
        var (dotnet, dll) = Pwsh();
        // sshd checks the privilege separation folder exists even when it runs as a normal user.
        if (Environment.UserName == "root") System.IO.Directory.CreateDirectory("/run/sshd");
        var hostKey = Path.Combine(Directory, "ssh_host_ed25519_key");
        TestProcess.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", hostKey);
        var authorized = Path.Combine(Directory, "authorized_keys");
        File.WriteAllText(authorized, ClientKeyPair.Value.PublicKey);
        File.SetUnixFileMode(authorized, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var config = new StringBuilder()
            .AppendLine($"Port {Port}")
            .AppendLine("ListenAddress 127.0.0.1")
            .AppendLine($"HostKey {hostKey}")
            .AppendLine($"PidFile {Path.Combine(Directory, "sshd.pid")}")
            .AppendLine($"AuthorizedKeysFile {authorized}")
            .AppendLine("PubkeyAuthentication yes")
            .AppendLine("PasswordAuthentication no")
            .AppendLine("KbdInteractiveAuthentication no")
            .AppendLine("PermitRootLogin prohibit-password")
            .AppendLine("UsePAM no")
            // The folder is under /tmp, whose mode sshd's StrictModes would refuse for authorized_keys.
            .AppendLine("StrictModes no")
            .AppendLine("MaxStartups 100:30:200")
            .AppendLine("MaxSessions 50")
            .AppendLine($"SetEnv XDG_DATA_HOME={Path.Combine(UserHome, ".local", "share")} DOTNET_CLI_TELEMETRY_OPTOUT=1 POWERSHELL_TELEMETRY_OPTOUT=1 POWERSHELL_UPDATECHECK=Off")
            .AppendLine($"Subsystem powershell {dotnet} {dll} -sshs -NoLogo -NoProfile")
            .ToString();
        var configPath = Path.Combine(Directory, "sshd_config");
        File.WriteAllText(configPath, config);
        var psi = new ProcessStartInfo(Sshd) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        // -D: stay in the foreground (a child of this process, stopped by PID); -e: log to stderr (drained).
        foreach (var a in new[] { "-D", "-e", "-f", configPath }) psi.ArgumentList.Add(a);
        _process = Process.Start(psi)!;
        var log = new StringBuilder();
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var until = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < until)
        {
            if (_process.HasExited) { lock (log) throw new InvalidOperationException($"sshd exited ({_process.ExitCode}): {log}"); }
            try
            {
                using var c = new System.Net.Sockets.TcpClient();
                c.Connect(HostName, Port);
                return;
            }
            catch (System.Net.Sockets.SocketException) { Thread.Sleep(50); }
        }
        throw new InvalidOperationException($"sshd did not listen on {Port} within 20 s");
    }

    private static (string, string) MakeClientKey()
    {
        var dir = System.IO.Directory.CreateTempSubdirectory("opstools-ssh-client-").FullName;
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var key = Path.Combine(dir, "id_ed25519");
        TestProcess.Run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "opstools-tests", "-f", key);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { System.IO.Directory.Delete(dir, true); } catch (IOException) { } };
        return (key, File.ReadAllText(key + ".pub"));
    }

    private static void CopyFolder(string from, string to)
    {
        System.IO.Directory.CreateDirectory(to);
        foreach (var d in System.IO.Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            System.IO.Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, d)));
        foreach (var f in System.IO.Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(f, Path.Combine(to, Path.GetRelativePath(from, f)), true);
    }

    public void Dispose()
    {
        if (_process is { HasExited: false })
        {
            try { _process.Kill(true); _process.WaitForExit(5000); } catch (InvalidOperationException) { }
        }
        _process?.Dispose();
        try { System.IO.Directory.Delete(Directory, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
