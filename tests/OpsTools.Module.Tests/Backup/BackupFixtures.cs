using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Npgsql;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Backup;

/// <summary>A backup made by <see cref="BackupFixtures.Create"/>.</summary>
public sealed record FixtureBackup(string Store, string Name, string Archive, string ManifestPath, string Format, IReadOnlyDictionary<string, long> RowCounts)
{
    public string Sha256 => (string)BackupFixtures.ReadManifest(ManifestPath)["sha256"]!;
}

/// <summary>
/// Backups made the way Backup-Database makes them, without it (it is not in this branch) and without the
/// engine (the module tests must not load it): the cluster's own pg_dump into a store laid out as
/// BackupStore does (&lt;store&gt;/&lt;safe name&gt;/&lt;safe name&gt;_&lt;yyyyMMddTHHmmssfffZ&gt;.dump|.dir, written under
/// a hidden .partial name and renamed), SHA-256 and exact row counts, and a manifest whose JSON mirrors
/// BackupManifest (camelCase, enums as strings). Test-Backup reading these proves the two agree.
/// </summary>
public static class BackupFixtures
{
    public static string NewStore()
    {
        var dir = Path.Combine(Path.GetTempPath(), "opstools-bk-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void DeleteStore(string store)
    {
        try { Directory.Delete(store, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>BackupStore.SafeName: anything but letters, digits, '-', '_' and '.' becomes '_'.</summary>
    public static string SafeName(string name)
    {
        var s = new string(name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_').ToArray()).Trim('.');
        return s.Length == 0 ? "_" : s;
    }

    public static string Tool(PgCluster pg, string name) => pg.BinDirectory is { } bin ? Path.Combine(bin, name) : name;

    /// <summary>pg_dump of <paramref name="database"/> into <paramref name="store"/> (format custom or directory), with its manifest.</summary>
    public static FixtureBackup Create(PgCluster pg, string database, string store, string format = "custom", int compression = -1)
    {
        var start = DateTime.UtcNow;
        var safe = SafeName(database);
        var group = Path.Combine(store, safe);
        Directory.CreateDirectory(group);
        var final = Path.Combine(group, $"{safe}_{start.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}{(format == "directory" ? ".dir" : ".dump")}");
        var temp = Path.Combine(group, "." + Path.GetFileName(final) + ".partial");
        var args = new List<string> { "--format", format == "directory" ? "directory" : "custom", "--file", temp, "--no-password" };
        if (compression >= 0) args.Add("--compress=" + compression);
        Run(Tool(pg, "pg_dump"), args, Env(pg, database));
        if (format == "directory") Directory.Move(temp, final); else File.Move(temp, final);
        var end = DateTime.UtcNow;

        var counts = CountRows(pg, database);
        var (sha, size) = Hash(final);
        var manifest = new JsonObject
        {
            ["manifestVersion"] = 1,
            ["kind"] = "Database",
            ["name"] = database,
            ["archive"] = Path.GetFileName(final),
            ["format"] = format,
            ["sizeBytes"] = size,
            ["sha256"] = sha,
            ["startTime"] = start,
            ["endTime"] = end,
            ["source"] = $"{pg.Host}:{pg.Port}",
            ["serverVersion"] = pg.Scalar<string>("SHOW server_version"),
            ["pgDumpVersion"] = System.Text.RegularExpressions.Regex.Match(Run(Tool(pg, "pg_dump"), new[] { "--version" }, null), @"\d+(\.\d+)*").Value,
            ["opsToolsVersion"] = "test-fixture",
            ["host"] = Environment.MachineName,
            ["user"] = Environment.UserName,
            ["rowCounts"] = new JsonObject(counts.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
            ["fileCount"] = null,
            ["verification"] = "Unverified",
            ["lastTestTime"] = null,
            ["lastTestMessage"] = null,
        };
        var manifestPath = final + ".manifest.json";
        WriteManifest(manifestPath, manifest);
        return new FixtureBackup(store, database, final, manifestPath, format, counts);
    }

    /// <summary>Exact row counts of every user table, keyed "schema.table" (unquoted), as the manifest has them.</summary>
    public static Dictionary<string, long> CountRows(PgCluster pg, string database)
    {
        var tables = new List<(string Schema, string Name)>();
        using var c = pg.Open(database);
        using (var cmd = new NpgsqlCommand("SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
            "WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'", c))
        using (var r = cmd.ExecuteReader())
            while (r.Read()) tables.Add((r.GetString(0), r.GetString(1)));
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (schema, name) in tables)
        {
            using var count = new NpgsqlCommand($"SELECT count(*) FROM \"{schema.Replace("\"", "\"\"")}\".\"{name.Replace("\"", "\"\"")}\"", c);
            counts[schema + "." + name] = (long)count.ExecuteScalar()!;
        }
        return counts;
    }

    /// <summary>
    /// SHA-256 and size as the manifest defines them: a file's SHA-256; for a folder, the SHA-256 of the
    /// sha256sum-style listing ("&lt;hash&gt;  &lt;relative path&gt;\n") of its files in ordinal order of their paths.
    /// </summary>
    public static (string Sha256, long Size) Hash(string archive)
    {
        static string Hex(byte[] h) => Convert.ToHexString(h).ToLowerInvariant();
        if (!Directory.Exists(archive))
        {
            var bytes = File.ReadAllBytes(archive);
            return (Hex(SHA256.HashData(bytes)), bytes.Length);
        }
        long size = 0;
        var listing = new System.Text.StringBuilder();
        foreach (var rel in Directory.GetFiles(archive, "*", SearchOption.AllDirectories)
                     .Select(f => Path.GetRelativePath(archive, f).Replace('\\', '/')).OrderBy(f => f, StringComparer.Ordinal))
        {
            var bytes = File.ReadAllBytes(Path.Combine(archive, rel));
            size += bytes.Length;
            listing.Append(Hex(SHA256.HashData(bytes))).Append("  ").Append(rel).Append('\n');
        }
        return (Hex(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(listing.ToString()))), size);
    }

    public static JsonObject ReadManifest(string path) => JsonNode.Parse(File.ReadAllText(path))!.AsObject();

    public static void WriteManifest(string path, JsonObject manifest) =>
        File.WriteAllText(path, manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Recomputes sha256 and sizeBytes of the manifest from the archive as it is now.</summary>
    public static void Reseal(FixtureBackup b)
    {
        var m = ReadManifest(b.ManifestPath);
        var (sha, size) = Hash(b.Archive);
        m["sha256"] = sha;
        m["sizeBytes"] = size;
        WriteManifest(b.ManifestPath, m);
    }

    /// <summary>The libpq environment of a child process for the cluster (never a password on the command line).</summary>
    public static Dictionary<string, string> Env(PgCluster pg, string database) => new()
    {
        ["PGHOST"] = pg.Host, ["PGPORT"] = pg.Port.ToString(CultureInfo.InvariantCulture), ["PGUSER"] = pg.User,
        ["PGPASSWORD"] = pg.Password, ["PGDATABASE"] = database,
    };

    public static string Run(string exe, IEnumerable<string> args, IDictionary<string, string>? env, bool check = true) =>
        RunFull(exe, args, env, check).Stdout;

    public static (int ExitCode, string Stdout, string Stderr) RunFull(string exe, IEnumerable<string> args, IDictionary<string, string>? env, bool check = true)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5))) { p.Kill(true); throw new InvalidOperationException($"{exe} timed out"); }
        if (check && p.ExitCode != 0) throw new InvalidOperationException($"{exe} failed ({p.ExitCode}): {stderr.Result}");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
