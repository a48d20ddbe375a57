using System.Text;

namespace OpsTools.Engine.Security;

/// <summary>
/// The one way OpsTools creates a file or folder that holds data (dumps, manifests, safety backups, tar.gz archives,
/// reports, their hidden <c>.partial</c> files): owner-only on Unix — files 0600, folders 0700 — whatever the umask.
/// The mode is given to open(2)/mkdir(2) when the file or folder is created (never a chmod after the data is written),
/// then set exactly on the still empty file (a umask may only take bits away, and a widened mode must survive a 0077
/// umask too). A backup group may be let in with <see cref="Use"/> (the environment's <c>Backup.FileMode</c>, or
/// <c>$env:OPSTOOLS_FILE_MODE</c>): 0640 or 0660 for files, the folders get the matching execute bits (0750 / 0770).
/// Nothing is ever readable by others. On Windows the files inherit the folder's ACL, as every other program's do.
/// </summary>
public static class DataFiles
{
    /// <summary>rw------- : the default for every data file.</summary>
    public const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    /// <summary>rwx------ : the default for every folder OpsTools creates for data.</summary>
    public const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    /// <summary>The environment variable that may widen the mode for a backup group (e.g. 0640).</summary>
    public const string ModeVariable = "OPSTOOLS_FILE_MODE";

    private const UnixFileMode Allowed = OwnerOnlyFile | UnixFileMode.GroupRead | UnixFileMode.GroupWrite;
    private static readonly AsyncLocal<UnixFileMode?> Scoped = new();

    /// <summary>The mode new data files get here: the scope's (<see cref="Use"/>), else $env:OPSTOOLS_FILE_MODE, else 0600.</summary>
    public static UnixFileMode FileMode
    {
        get
        {
            if (Scoped.Value is { } m) return m;
            var text = Environment.GetEnvironmentVariable(ModeVariable);
            if (string.IsNullOrWhiteSpace(text)) return OwnerOnlyFile;
            try { return ParseMode(text, "$env:" + ModeVariable); }
            catch (OpsToolsException) { return OwnerOnlyFile; } // a bad value never widens anything
        }
    }

    /// <summary>The mode new data folders get: the file mode plus execute wherever it has read.</summary>
    public static UnixFileMode FolderMode => FolderFor(FileMode);

    private static UnixFileMode FolderFor(UnixFileMode file) => file | UnixFileMode.UserExecute
        | ((file & UnixFileMode.GroupRead) != 0 ? UnixFileMode.GroupExecute : 0);

    /// <summary>
    /// Parses a file mode a user may give: "0600" (default), "0640" or "0660" (octal; "600"/"640"/"660" too).
    /// Anything else (others' bits, execute bits, no owner read/write) is refused with a message naming <paramref name="where"/>.
    /// </summary>
    public static UnixFileMode ParseMode(string text, string where)
    {
        var t = text.Trim();
        if (t.StartsWith("0o", StringComparison.OrdinalIgnoreCase)) t = t[2..];
        int value = -1;
        if (t.Length is >= 3 and <= 4 && t.All(c => c is >= '0' and <= '7'))
            value = Convert.ToInt32(t, 8);
        var mode = (UnixFileMode)value;
        if (value < 0 || (mode & ~Allowed) != 0 || (mode & OwnerOnlyFile) != OwnerOnlyFile)
            throw new OpsToolsException("FileModeInvalid", OpsErrorKind.InvalidArgument,
                $"{where}: '{text}' is not an allowed file mode. Use 0600 (owner only, the default), 0640 (a backup group may read) or 0660 (and write); " +
                "others never get access, and the owner always reads and writes.", text);
        return mode;
    }

    /// <summary>"0640"-style text of a mode.</summary>
    public static string Format(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8).PadLeft(3, '0');

    /// <summary>Widens (or resets) the mode for everything created in the calling flow until the scope is disposed; null keeps the current one.</summary>
    public static IDisposable Use(UnixFileMode? fileMode)
    {
        var previous = Scoped.Value;
        if (fileMode is { } m) Scoped.Value = m;
        return new Restore(previous);
    }

    private sealed class Restore(UnixFileMode? previous) : IDisposable
    {
        public void Dispose() => Scoped.Value = previous;
    }

    /// <summary>
    /// Creates (or truncates, with <see cref="System.IO.FileMode.Create"/>) a data file: created with the data-file mode
    /// and set to exactly that mode before anything is written.
    /// </summary>
    public static FileStream Create(string path, FileMode mode = System.IO.FileMode.CreateNew, FileAccess access = FileAccess.Write,
        FileShare share = FileShare.None, int bufferSize = 4096, FileOptions options = FileOptions.None, UnixFileMode? fileMode = null)
    {
        var fm = fileMode ?? FileMode;
        var o = new FileStreamOptions { Mode = mode, Access = access, Share = share, BufferSize = bufferSize, Options = options };
        if (!OperatingSystem.IsWindows()) o.UnixCreateMode = fm;
        var stream = new FileStream(path, o);
        if (!OperatingSystem.IsWindows())
        {
            try { File.SetUnixFileMode(stream.SafeFileHandle, fm); }
            catch { stream.Dispose(); throw; }
        }
        return stream;
    }

    /// <summary>Writes a whole data file (created new or truncated) with the data-file mode.</summary>
    public static void WriteAllText(string path, string text, Encoding encoding, bool flushToDisk = false)
    {
        using var fs = Create(path, System.IO.FileMode.Create);
        var bytes = encoding.GetPreamble().Concat(encoding.GetBytes(text)).ToArray();
        fs.Write(bytes);
        fs.Flush(flushToDisk);
    }

    /// <summary>
    /// Creates a data folder and any missing parents with the data-folder mode (existing folders are left as they are).
    /// </summary>
    public static DirectoryInfo CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) return Directory.CreateDirectory(path);
        var full = Path.GetFullPath(path);
        var missing = new List<string>();
        for (var p = full.TrimEnd('/'); !string.IsNullOrEmpty(p) && !Directory.Exists(p); p = Path.GetDirectoryName(p)!)
            missing.Add(p);
        var mode = FolderMode;
        var info = Directory.CreateDirectory(full, mode);
        foreach (var created in missing)
            try { File.SetUnixFileMode(created, mode); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        return info;
    }

    /// <summary>
    /// Sets the data-file mode on what another program wrote inside a folder OpsTools created owner-only (pg_dump -Fd):
    /// files get the file mode, folders the folder mode. Used before the folder is given its final name.
    /// </summary>
    public static void ApplyToTree(string folder)
    {
        if (OperatingSystem.IsWindows() || !Directory.Exists(folder)) return;
        var file = FileMode;
        var dir = FolderFor(file);
        File.SetUnixFileMode(folder, dir);
        foreach (var e in new DirectoryInfo(folder).EnumerateFileSystemInfos("*", SearchOption.AllDirectories))
        {
            if (e.LinkTarget is not null) continue;
            e.UnixFileMode = e is DirectoryInfo ? dir : file;
        }
    }

    /// <summary>
    /// The one disk-full rule: ENOSPC (28) and EDQUOT (122 on Linux, 69 on macOS), ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on
    /// Windows, or a message that says so, anywhere in the exception's chain.
    /// </summary>
    public static bool IsDiskFull(Exception? e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is not IOException io) continue;
            var code = io.HResult & 0xFFFF;
            if (OperatingSystem.IsWindows() ? code is 0x70 or 0x27 : io.HResult is 28 or 122 || (OperatingSystem.IsMacOS() && io.HResult == 69))
                return true;
            if (SaysDiskFull(io.Message)) return true;
        }
        return false;
    }

    /// <summary>True when a message (a child's stderr, an exception's text) reports a full disk or an exceeded quota.</summary>
    public static bool SaysDiskFull(string? text) => text is not null &&
        (text.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
         || text.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase)
         || text.Contains("not enough space", StringComparison.OrdinalIgnoreCase));

    /// <summary>The mode an existing data file has, limited to what <see cref="ParseMode"/> allows (for rewrites that keep it).</summary>
    public static UnixFileMode? ExistingMode(string path)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(path)) return null;
        try
        {
            var m = File.GetUnixFileMode(path) & Allowed;
            return (m & OwnerOnlyFile) == OwnerOnlyFile ? m : OwnerOnlyFile;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
