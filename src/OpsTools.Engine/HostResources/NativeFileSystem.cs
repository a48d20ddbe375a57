using System.ComponentModel;
using System.Runtime.InteropServices;

namespace OpsTools.Engine.HostResources;

/// <summary>The raw numbers of <c>statvfs(3)</c> that df uses.</summary>
public readonly record struct StatVfs(ulong FragmentSize, ulong Blocks, ulong BlocksFree, ulong BlocksAvailable);

/// <summary>libc calls for Linux: statvfs and realpath.</summary>
internal static class NativeFileSystem
{
    // struct statvfs on 64-bit Linux (glibc and musl alike): eleven 8-byte fields
    // (f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_favail, f_fsid, f_flag,
    // f_namemax) followed by six ints of padding: 112 bytes. The buffer is larger on purpose.
    private const int StatVfsBufferSize = 256;
    private const int OffsetFrsize = 8, OffsetBlocks = 16, OffsetBfree = 24, OffsetBavail = 32;

    /// <summary>statvfs is used where its layout is known: Linux, 64-bit processes.</summary>
    internal static bool StatVfsSupported => OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    [DllImport("libc", EntryPoint = "statvfs", SetLastError = true)]
    private static extern int statvfs_native([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr buffer);

    [DllImport("libc", EntryPoint = "realpath", SetLastError = true)]
    private static extern IntPtr realpath_native([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

    [DllImport("libc", EntryPoint = "free")]
    private static extern void free_native(IntPtr pointer);

    /// <summary>Calls statvfs; a failure throws an <see cref="OpsToolsException"/> that names the path and errno.</summary>
    internal static StatVfs Stat(string path)
    {
        var buffer = Marshal.AllocHGlobal(StatVfsBufferSize);
        try
        {
            if (statvfs_native(path, buffer) != 0)
                throw Failure("statvfs", path, Marshal.GetLastPInvokeError());
            return new StatVfs(
                (ulong)Marshal.ReadInt64(buffer, OffsetFrsize),
                (ulong)Marshal.ReadInt64(buffer, OffsetBlocks),
                (ulong)Marshal.ReadInt64(buffer, OffsetBfree),
                (ulong)Marshal.ReadInt64(buffer, OffsetBavail));
        }
        finally
        {
            Marshal.FreeHGlobal(buffer);
        }
    }

    /// <summary>The canonical absolute path with every symbolic link resolved (realpath(3)).</summary>
    internal static string RealPath(string path)
    {
        var p = realpath_native(path, IntPtr.Zero);
        if (p == IntPtr.Zero) throw Failure("realpath", path, Marshal.GetLastPInvokeError());
        try { return Marshal.PtrToStringUTF8(p) ?? path; }
        finally { free_native(p); }
    }

    private static OpsToolsException Failure(string call, string path, int errno)
    {
        var text = new Win32Exception(errno).Message;
        return errno switch
        {
            2 or 20 => new OpsToolsException("PathNotFound", OpsErrorKind.NotFound, $"Path '{path}' does not exist.", path),
            1 or 13 => new OpsToolsException("PermissionDenied", OpsErrorKind.PermissionDenied, $"{call}('{path}') was refused: {text}.", path),
            _ => new OpsToolsException("FileSystemQueryFailed", OpsErrorKind.OperationFailed, $"{call}('{path}') failed: {text} (errno {errno}).", path),
        };
    }
}
