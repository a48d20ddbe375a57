using System.Security.Cryptography;
using System.Text;

namespace OpsTools.Engine.Backup;

/// <summary>What a checksum run found: the SHA-256 (lowercase hex), the bytes read and the files hashed.</summary>
public sealed record BackupDigest(string Sha256, long SizeBytes, int FileCount);

/// <summary>
/// The one definition of a backup's checksum, used when a backup is written and when it is tested.
/// <list type="bullet">
/// <item><b>A file</b> (custom format, tar.gz): SHA-256 of its bytes, the same as <c>sha256sum FILE</c>.</item>
/// <item><b>A folder</b> (pg_dump's directory format): every regular file under it, recursively, named by its
/// path relative to the folder with '/' separators, ordered by ordinal (byte-wise) comparison of those names;
/// the checksum is the SHA-256 of the UTF-8 text made of one line per file,
/// <c>&lt;sha256 of the file, lowercase hex&gt;␠␠&lt;relative path&gt;\n</c> — exactly what <c>sha256sum</c> prints.
/// So it can be checked without OpsTools:
/// <c>cd DIR &amp;&amp; find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs -d '\n' sha256sum | sha256sum</c>.
/// A changed, added (even empty), removed or renamed file changes it.</item>
/// </list>
/// </summary>
public static class BackupHashing
{
    private const int BufferSize = 1 << 20;

    /// <summary>Lowercase hex of a hash.</summary>
    public static string ToHex(ReadOnlySpan<byte> hash) => Convert.ToHexString(hash).ToLowerInvariant();

    /// <summary>The files of a directory-format archive in checksum order: relative paths with '/', ordinal order.</summary>
    public static IReadOnlyList<string> FilesInHashOrder(string directory)
    {
        var root = Path.GetFullPath(directory);
        return Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false })
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Size of an archive: a file's length, or the sum of a folder's file lengths.</summary>
    public static long SizeOf(string archive) =>
        Directory.Exists(archive)
            ? FilesInHashOrder(archive).Sum(f => new FileInfo(Path.Combine(archive, f)).Length)
            : new FileInfo(archive).Length;

    /// <summary>SHA-256 of one file. <paramref name="progress"/> gets the bytes read so far.</summary>
    public static async Task<BackupDigest> HashFileAsync(string path, Action<long>? progress, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var bytes = await HashIntoAsync(hash, path, 0, progress, cancellationToken).ConfigureAwait(false);
        return new BackupDigest(ToHex(hash.GetHashAndReset()), bytes, 1);
    }

    /// <summary>The checksum of a folder as defined above. <paramref name="progress"/> gets the bytes read so far.</summary>
    public static async Task<BackupDigest> HashDirectoryAsync(string directory, Action<long>? progress, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(directory);
        if (!Directory.Exists(root)) throw new DirectoryNotFoundException($"The folder '{root}' does not exist.");
        var files = FilesInHashOrder(root);
        var listing = new StringBuilder();
        long total = 0;
        using var fileHash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var relative in files)
        {
            total += await HashIntoAsync(fileHash, Path.Combine(root, relative), total, progress, cancellationToken).ConfigureAwait(false);
            listing.Append(ToHex(fileHash.GetHashAndReset())).Append("  ").Append(relative).Append('\n');
        }
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString()));
        return new BackupDigest(ToHex(digest), total, files.Count);
    }

    /// <summary>The checksum of a backup archive: a folder or a file.</summary>
    public static Task<BackupDigest> HashArchiveAsync(string path, Action<long>? progress, CancellationToken cancellationToken) =>
        Directory.Exists(path) ? HashDirectoryAsync(path, progress, cancellationToken) : HashFileAsync(path, progress, cancellationToken);

    private static async Task<long> HashIntoAsync(IncrementalHash hash, string path, long before, Action<long>? progress, CancellationToken cancellationToken)
    {
        var buffer = new byte[BufferSize];
        long read = 0;
        await using var fs = new FileStream(path, new FileStreamOptions
        {
            Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 0, Options = FileOptions.SequentialScan | FileOptions.Asynchronous,
        });
        int n;
        while ((n = await fs.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            hash.AppendData(buffer, 0, n);
            read += n;
            progress?.Invoke(before + read);
        }
        return read;
    }
}
