using OpsTools.Logs;

namespace OpsTools.Engine.Logs;

/// <summary>One file old enough to go.</summary>
public sealed record OldLogFile(string Path, long Bytes, DateTime LastWriteTimeUtc);

/// <summary>
/// du -sh and find -mtime +N -delete for log folders, safely: links are never followed (a linked folder is not
/// entered, a linked file is neither counted nor removed), and every path stays inside the folder it was found in.
/// </summary>
public static class LogHousekeeping
{
    /// <summary>The size of a folder (all files below it, links not followed) or of one file.</summary>
    public static LogSizeInfo Size(string path)
    {
        var full = Path.GetFullPath(path);
        if (File.Exists(full) && !Directory.Exists(full))
        {
            var fi = new FileInfo(full);
            return new LogSizeInfo { Path = full, Kind = "File", Bytes = fi.LinkTarget is null ? fi.Length : 0, Files = 1, LastWriteTime = fi.LastWriteTimeUtc, OldestWriteTime = fi.LastWriteTimeUtc };
        }
        if (!Directory.Exists(full))
            throw new OpsToolsException("LogPathNotFound", OpsErrorKind.NotFound, $"'{path}' is neither a folder nor a file.", path);
        long bytes = 0, files = 0;
        DateTime? newest = null, oldest = null;
        foreach (var f in Files(full, "*", recurse: true))
        {
            bytes += f.Length; files++;
            var t = f.LastWriteTimeUtc;
            if (newest is null || t > newest) newest = t;
            if (oldest is null || t < oldest) oldest = t;
        }
        return new LogSizeInfo { Path = full, Kind = "Folder", Bytes = bytes, Files = files, LastWriteTime = newest, OldestWriteTime = oldest };
    }

    /// <summary>The entries of a folder, each with its size (du -sh folder/*): subfolders summed, files as they are.</summary>
    public static IReadOnlyList<LogSizeInfo> Children(string folder)
    {
        var full = Path.GetFullPath(folder);
        var list = new List<LogSizeInfo>();
        var di = new DirectoryInfo(full);
        foreach (var e in di.EnumerateFileSystemInfos("*", new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0 }))
        {
            if (e.LinkTarget is not null) continue;
            list.Add(Size(e.FullName));
        }
        return list.OrderByDescending(s => s.Bytes).ToList();
    }

    /// <summary>Files under a folder whose name matches one of the patterns and whose last write is before the cutoff (find -name -mtime).</summary>
    public static IReadOnlyList<OldLogFile> OldFiles(string folder, IReadOnlyList<string> include, DateTime cutoffUtc, bool recurse, IReadOnlyList<string>? exclude = null)
    {
        var full = Path.GetFullPath(folder);
        if (!Directory.Exists(full))
            throw new OpsToolsException("LogPathNotFound", OpsErrorKind.NotFound, $"Log folder '{folder}' does not exist.", folder);
        var result = new List<OldLogFile>();
        foreach (var f in Files(full, "*", recurse))
        {
            if (!include.Any(p => Matches(f.Name, p))) continue;
            if (exclude is not null && exclude.Any(p => Matches(f.Name, p))) continue;
            if (f.LastWriteTimeUtc >= cutoffUtc) continue;
            result.Add(new OldLogFile(f.FullName, f.Length, f.LastWriteTimeUtc));
        }
        return result.OrderBy(r => r.LastWriteTimeUtc).ToList();
    }

    /// <summary>Removes one file found by OldFiles, after checking again that it is a plain file inside the folder (not a link).</summary>
    public static void Remove(string folder, string file)
    {
        var root = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar;
        var full = Path.GetFullPath(file);
        if (!full.StartsWith(root, StringComparison.Ordinal))
            throw new OpsToolsException("LogPathOutsideFolder", OpsErrorKind.InvalidArgument, $"'{file}' is not inside '{folder}': not removed.", file);
        var fi = new FileInfo(full);
        if (!fi.Exists) throw new OpsToolsException("LogPathNotFound", OpsErrorKind.NotFound, $"'{file}' is gone already.", file);
        if (fi.LinkTarget is not null) throw new OpsToolsException("LogPathIsLink", OpsErrorKind.InvalidArgument, $"'{file}' is a link: never removed.", file);
        // No folder between the root and the file may be a link (it would lead out of the folder).
        for (var d = fi.Directory; d is not null && d.FullName.Length + 1 > root.Length - 1 && (d.FullName + Path.DirectorySeparatorChar).StartsWith(root, StringComparison.Ordinal); d = d.Parent)
        {
            if (d.FullName + Path.DirectorySeparatorChar == root) break;
            if (d.LinkTarget is not null) throw new OpsToolsException("LogPathIsLink", OpsErrorKind.InvalidArgument, $"'{d.FullName}' is a link: '{file}' not removed.", file);
        }
        fi.Delete();
    }

    /// <summary>Every plain file under a folder; linked folders are not entered, linked files are left out.</summary>
    private static IEnumerable<FileInfo> Files(string folder, string pattern, bool recurse)
    {
        var stack = new Stack<DirectoryInfo>();
        stack.Push(new DirectoryInfo(folder));
        var opts = new EnumerationOptions { IgnoreInaccessible = true, AttributesToSkip = 0, RecurseSubdirectories = false };
        while (stack.Count > 0)
        {
            var d = stack.Pop();
            IEnumerable<FileSystemInfo> entries;
            try { entries = d.EnumerateFileSystemInfos(pattern, opts).ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (var e in entries)
            {
                if (e.LinkTarget is not null) continue;
                if (e is DirectoryInfo sub) { if (recurse) stack.Push(sub); }
                else if (e is FileInfo fi) yield return fi;
            }
        }
    }

    /// <summary>A file-name pattern with * and ? (as find -name).</summary>
    public static bool Matches(string name, string pattern) =>
        System.IO.Enumeration.FileSystemName.MatchesSimpleExpression(pattern, name, ignoreCase: !OperatingSystem.IsLinux());
}
