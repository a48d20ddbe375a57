using System.Text.Json;
using System.Text.Json.Serialization;
using OpsTools.Backup;

namespace OpsTools.Engine.Backup;

/// <summary>
/// The manifest written beside every archive (&lt;archive&gt;.manifest.json). It is written last, by
/// temp-file-and-rename, after the archive is complete and verified: an archive without a manifest is
/// never a good backup. Test-Backup records its outcome here (Verification, LastTest*).
/// </summary>
public sealed class BackupManifest
{
    public int ManifestVersion { get; set; } = 1;
    public BackupKind Kind { get; set; }
    public string Name { get; set; } = "";
    /// <summary>File or folder name of the archive, relative to the manifest's folder.</summary>
    public string Archive { get; set; } = "";
    public string Format { get; set; } = "";
    public long SizeBytes { get; set; }
    public string Sha256 { get; set; } = "";
    public DateTime StartTime { get; set; }
    public DateTime EndTime { get; set; }
    public string? Source { get; set; }
    public string? ServerVersion { get; set; }
    public string? PgDumpVersion { get; set; }
    public string OpsToolsVersion { get; set; } = "";
    public string? Host { get; set; }
    public string? User { get; set; }
    public Dictionary<string, long> RowCounts { get; set; } = new();
    public long? FileCount { get; set; }
    public BackupVerification Verification { get; set; }
    public DateTime? LastTestTime { get; set; }
    public string? LastTestMessage { get; set; }

    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter() },
    };

    public static string ManifestPathFor(string archivePath) => archivePath.TrimEnd('/', '\\') + ".manifest.json";

    /// <summary>Reads a manifest; a missing, unreadable or malformed one is an OpsToolsException (BackupManifestInvalid) naming the file.</summary>
    public static BackupManifest Read(string manifestPath)
    {
        try
        {
            var m = JsonSerializer.Deserialize<BackupManifest>(File.ReadAllBytes(manifestPath), Json)
                ?? throw new JsonException("empty document");
            if (string.IsNullOrEmpty(m.Archive) || string.IsNullOrEmpty(m.Sha256) || string.IsNullOrEmpty(m.Name))
                throw new JsonException("archive, sha256 and name are required");
            return m;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException or NotSupportedException)
        {
            throw new OpsToolsException("BackupManifestInvalid", OpsErrorKind.InvalidData,
                $"The backup manifest '{manifestPath}' cannot be used: {e.Message}", manifestPath, e);
        }
    }

    /// <summary>Writes the manifest atomically: a temp file in the same folder, flushed, then renamed over the target.</summary>
    public void Write(string manifestPath)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var temp = Path.Combine(dir, "." + Path.GetFileName(manifestPath) + "." + Guid.NewGuid().ToString("N")[..8] + ".partial");
        try
        {
            // Owner-only (or the mode a backup group was given); a rewrite keeps the mode the manifest has.
            using (var fs = Security.DataFiles.Create(temp, FileMode.CreateNew, fileMode: Security.DataFiles.ExistingMode(manifestPath)))
            {
                JsonSerializer.Serialize(fs, this, Json);
                fs.Flush(flushToDisk: true);
            }
            File.Move(temp, manifestPath, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }

    /// <summary>The public view of this manifest for the archive at <paramref name="manifestPath"/>.</summary>
    public BackupInfo ToInfo(string manifestPath, string store)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        return new BackupInfo
        {
            Id = $"{Name}/{EndTime:yyyyMMdd'T'HHmmssfff'Z'}",
            Kind = Kind, Name = Name, Database = Kind == BackupKind.Database ? Name : null,
            Path = Path.Combine(dir, Archive), ManifestPath = Path.GetFullPath(manifestPath), Store = store,
            Format = Format, SizeBytes = SizeBytes, Sha256 = Sha256, StartTime = StartTime, EndTime = EndTime,
            Source = Source, ServerVersion = ServerVersion, PgDumpVersion = PgDumpVersion, OpsToolsVersion = OpsToolsVersion,
            MachineName = Host, User = User, RowCounts = new Dictionary<string, long>(RowCounts), FileCount = FileCount,
            Verification = Verification, LastTestTime = LastTestTime, LastTestMessage = LastTestMessage,
        };
    }
}
