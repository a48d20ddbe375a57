using System.Diagnostics;
using System.Text.RegularExpressions;

namespace OpsTools.Engine.Backup;

/// <summary>A PostgreSQL client program (pg_dump, pg_restore, psql) and its major version.</summary>
public sealed record PgTool(string Path, int Major, string Version)
{
    public override string ToString() => $"{System.IO.Path.GetFileName(Path)} {Version} ({Path})";
}

/// <summary>
/// Finds the pg_dump / pg_restore that fit a server. pg_dump refuses a server newer than itself (the
/// classic backup failure), so the search prefers the same major version, then the newest one that is
/// newer: /usr/lib/postgresql/&lt;major&gt;/bin (Debian, Ubuntu), /usr/pgsql-&lt;major&gt;/bin (RHEL),
/// /usr/local/pgsql/bin, %ProgramFiles%\PostgreSQL\&lt;major&gt;\bin (Windows), then PATH.
/// </summary>
public static class PgTools
{
    private static readonly Regex VersionPattern = new(@"\(PostgreSQL\)\s+(?<v>(?<major>\d+)(\.\d+)*)", RegexOptions.Compiled);

    /// <param name="tool">pg_dump, pg_restore or psql.</param>
    /// <param name="serverMajor">The server's major version; the tool must be this version or newer.</param>
    /// <param name="explicitPath">A path the user gave (-PgDumpPath): used as is, but still checked.</param>
    public static PgTool Find(string tool, int serverMajor, string? explicitPath = null)
    {
        if (explicitPath is not null)
        {
            var given = Probe(explicitPath) ?? throw new OpsToolsException("PgToolNotFound", OpsErrorKind.NotFound,
                $"'{explicitPath}' is not a runnable {tool} (it did not answer --version).", explicitPath);
            if (given.Major < serverMajor)
                throw TooOld(tool, serverMajor, new[] { given });
            return given;
        }
        var candidates = Candidates(tool).Select(Probe).Where(t => t is not null).Select(t => t!)
            .GroupBy(t => t.Path).Select(g => g.First()).ToList();
        var fit = candidates.Where(t => t.Major == serverMajor).FirstOrDefault()
            ?? candidates.Where(t => t.Major > serverMajor).OrderByDescending(t => t.Major).FirstOrDefault();
        if (fit is not null) return fit;
        if (candidates.Count == 0)
            throw new OpsToolsException("PgToolNotFound", OpsErrorKind.NotFound,
                $"No {tool} found. Install the PostgreSQL {serverMajor} client programs (Debian/Ubuntu: postgresql-client-{serverMajor}) or pass the path of {tool}.", tool);
        throw TooOld(tool, serverMajor, candidates);
    }

    private static OpsToolsException TooOld(string tool, int serverMajor, IEnumerable<PgTool> found) =>
        new("PgToolVersionMismatch", OpsErrorKind.NotSupported,
            $"{tool} {serverMajor} or newer is needed for a PostgreSQL {serverMajor} server; found only {string.Join(", ", found)}. " +
            $"Install postgresql-client-{serverMajor} (or the server's version from your distribution), or pass the path of a fitting {tool}.", tool);

    private static IEnumerable<string> Candidates(string tool)
    {
        var exe = OperatingSystem.IsWindows() ? tool + ".exe" : tool;
        foreach (var root in new[] { "/usr/lib/postgresql" })
            if (Directory.Exists(root))
                foreach (var dir in Directory.GetDirectories(root))
                    yield return System.IO.Path.Combine(dir, "bin", exe);
        if (Directory.Exists("/usr"))
            foreach (var dir in Directory.GetDirectories("/usr", "pgsql-*"))
                yield return System.IO.Path.Combine(dir, "bin", exe);
        yield return System.IO.Path.Combine("/usr/local/pgsql/bin", exe);
        var programFiles = Environment.GetFolderPath(Environment.SpecialFolder.ProgramFiles);
        if (!string.IsNullOrEmpty(programFiles) && Directory.Exists(System.IO.Path.Combine(programFiles, "PostgreSQL")))
            foreach (var dir in Directory.GetDirectories(System.IO.Path.Combine(programFiles, "PostgreSQL")))
                yield return System.IO.Path.Combine(dir, "bin", exe);
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            yield return System.IO.Path.Combine(dir, exe);
    }

    /// <summary>Runs &lt;path&gt; --version; null when it is not there or does not answer like a PostgreSQL tool.</summary>
    public static PgTool? Probe(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            var psi = new ProcessStartInfo(path, "--version") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi);
            if (p is null) return null;
            var output = p.StandardOutput.ReadToEnd();
            if (!p.WaitForExit(10_000)) { try { p.Kill(true); } catch (InvalidOperationException) { } return null; }
            var m = VersionPattern.Match(output);
            // Debian's /usr/bin/pg_dump is a wrapper that picks a version itself: resolve it to the real binary.
            var real = System.IO.Path.GetFullPath(new FileInfo(path).LinkTarget is { } target ? System.IO.Path.Combine(System.IO.Path.GetDirectoryName(path)!, target) : path);
            return m.Success ? new PgTool(real, int.Parse(m.Groups["major"].Value), m.Groups["v"].Value) : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
