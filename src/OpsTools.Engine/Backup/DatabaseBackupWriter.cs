using System.Data;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using Npgsql;
using OpsTools.Backup;
using OpsTools.Engine.Database;

namespace OpsTools.Engine.Backup;

/// <summary>What to back up and how.</summary>
public sealed class DatabaseBackupOptions
{
    /// <summary>"custom" (pg_dump -Fc, the default) or "directory" (pg_dump -Fd, needed for -Jobs &gt; 1).</summary>
    public string Format { get; init; } = "custom";
    /// <summary>pg_dump -j: tables dumped at once (directory format only).</summary>
    public int Jobs { get; init; } = 1;
    /// <summary>A pg_dump the user named (-PgDumpPath); pg_restore is looked for beside it first.</summary>
    public string? PgDumpPath { get; init; }
    /// <summary>Receives what is being done, for verbose output (never a secret).</summary>
    public Action<string>? Log { get; init; }
}

/// <summary>Where a running backup is.</summary>
public sealed record DatabaseBackupProgress(string Phase, long BytesWritten, int TablesCounted, int TablesTotal);

/// <summary>
/// Writes one database backup into a <see cref="BackupStore"/> so that nothing that is not complete and
/// verified can ever look like a good backup:
/// <list type="number">
/// <item>one connection opens a REPEATABLE READ transaction and exports its snapshot (pg_export_snapshot);</item>
/// <item>pg_dump (the version that fits the server) runs with <c>--snapshot</c> while that transaction stays open,
/// and the rows of every user table are counted in the same snapshot, so the manifest's counts are exactly
/// what the archive holds, whatever is written meanwhile;</item>
/// <item>custom format: pg_dump writes to stdout, the stream goes to the hidden temp name while its SHA-256
/// is computed; directory format: pg_dump -Fd [-j N] writes the hidden temp folder, hashed afterwards
/// (<see cref="BackupHashing.HashDirectoryAsync"/>);</item>
/// <item>pg_dump must exit with 0 and report no error; the data is flushed to disk; pg_restore --list must read
/// the archive and list at least one TABLE DATA entry per counted table;</item>
/// <item>only then is the archive renamed to its final name, and the manifest written last (atomically).</item>
/// </list>
/// Any failure, a kill of pg_dump, Ctrl+C, a full disk: the temp file or folder is deleted, no manifest is
/// written, and a clear <see cref="OpsToolsException"/> is thrown (BackupFailed, BackupCancelled,
/// BackupDiskFull, BackupVerificationFailed, or the connection / PgToolNotFound / PgToolVersionMismatch error).
/// A new backup's Verification is <see cref="BackupVerification.Unverified"/>: its checksum was computed from the
/// bytes as they were written and its table of contents was read, but nothing has re-read it from the store
/// since; Test-Backup does that and records the outcome.
/// </summary>
public static class DatabaseBackupWriter
{
    public const string ApplicationName = "OpsTools Backup-Database";

    /// <summary>The engine's informational version (what the manifest's OpsToolsVersion says).</summary>
    public static string EngineVersion { get; } =
        typeof(DatabaseBackupWriter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(DatabaseBackupWriter).Assembly.GetName().Version?.ToString() ?? "0.0.0";

    /// <summary>Validates the format/jobs pair; returns the normalized format ("custom" or "directory").</summary>
    public static string NormalizeFormat(string? format, int jobs)
    {
        if (jobs < 1) throw new OpsToolsException("BackupInvalidOptions", OpsErrorKind.InvalidArgument, $"-Jobs must be 1 or more, not {jobs}.", jobs);
        var f = (format ?? (jobs > 1 ? "directory" : "custom")).Trim().ToLowerInvariant();
        if (f is not ("custom" or "directory"))
            throw new OpsToolsException("BackupInvalidOptions", OpsErrorKind.InvalidArgument, $"Unknown backup format '{format}': use Custom or Directory.", format);
        if (jobs > 1 && f != "directory")
            throw new OpsToolsException("BackupInvalidOptions", OpsErrorKind.InvalidArgument,
                "-Jobs runs pg_dump -j, which only the directory format supports: use -Format Directory (or leave -Format out).", jobs);
        return f;
    }

    /// <summary>The server's major version from server_version_num (150004 → 15; 90624 → 9).</summary>
    public static int MajorOf(int serverVersionNum) => serverVersionNum / 10000;

    /// <summary>The manifest's key for a table: schema.table, unquoted.</summary>
    public static string TableKey(string schema, string table) => schema + "." + table;

    /// <summary>
    /// The catalog query for the tables whose rows pg_dump writes: ordinary tables (leaf partitions included,
    /// partitioned parents have no rows of their own), not temporary, not in system schemas, not members of an extension.
    /// </summary>
    internal const string TablesSql =
        "SELECT n.nspname, c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace " +
        "WHERE c.relkind = 'r' AND c.relpersistence <> 't' " +
        "AND n.nspname <> ALL (ARRAY['pg_catalog', 'information_schema']) AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)' " +
        "AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') " +
        "ORDER BY 1, 2";

    /// <summary>The count statement for one table (own rows only: inheritance children are counted as themselves).</summary>
    public static string CountSql(string schema, string table) => "SELECT count(*) FROM ONLY " + PgSql.Qualified(schema, table);

    public static async Task<BackupInfo> BackupAsync(PgTarget target, BackupStore store, DatabaseBackupOptions options,
        Action<DatabaseBackupProgress>? progress, CancellationToken cancellationToken)
    {
        var format = NormalizeFormat(options.Format, options.Jobs);
        var log = options.Log ?? (_ => { });
        var start = DateTime.UtcNow;
        string? temp = null;
        Process? dump = null;
        try
        {
            await using var connection = await target.OpenAsync(cancellationToken).ConfigureAwait(false);
            string serverVersion;
            int versionNum;
            await using (var cmd = new NpgsqlCommand("SELECT current_setting('server_version'), current_setting('server_version_num')::int", connection))
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                serverVersion = reader.GetString(0);
                versionNum = reader.GetInt32(1);
            }
            var major = MajorOf(versionNum);
            var pgDump = PgTools.Find("pg_dump", major, options.PgDumpPath);
            var beside = options.PgDumpPath is null ? null : Path.Combine(Path.GetDirectoryName(pgDump.Path)!, OperatingSystem.IsWindows() ? "pg_restore.exe" : "pg_restore");
            var pgRestore = PgTools.Find("pg_restore", Math.Max(major, pgDump.Major), beside is not null && File.Exists(beside) ? beside : null);
            log($"Server {target.Address}: PostgreSQL {serverVersion}. Using {pgDump} and {pgRestore}.");

            var final = store.NewArchivePath(target.Database, format, start);
            Security.DataFiles.CreateDirectory(Path.GetDirectoryName(final)!);
            temp = BackupStore.TempPathFor(final);

            // The snapshot: exported from a REPEATABLE READ transaction that stays open until pg_dump is done.
            await using var tx = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken).ConfigureAwait(false);
            string snapshot;
            await using (var cmd = new NpgsqlCommand("SELECT pg_catalog.pg_export_snapshot()", connection, tx))
                snapshot = (string)(await cmd.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
            var tables = new List<(string Schema, string Table)>();
            await using (var cmd = new NpgsqlCommand(PgSql.OwnStatementMarker + TablesSql, connection, tx))
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    tables.Add((reader.GetString(0), reader.GetString(1)));
            log($"Snapshot {snapshot} exported; {tables.Count} table(s) to count in it.");

            var args = new List<string> { "--no-password", "--snapshot=" + snapshot };
            if (format == "custom") args.Add("--format=custom");
            else
            {
                args.AddRange(new[] { "--format=directory", "--file=" + temp });
                if (options.Jobs > 1) args.Add("--jobs=" + options.Jobs.ToString(CultureInfo.InvariantCulture));
            }
            log($"Running {pgDump.Path} {string.Join(' ', args)} (connection settings in its environment).");

            var stderr = new PgToolProcess.OutputTail();
            dump = new Process { StartInfo = PgToolProcess.StartInfo(pgDump, target, args, ApplicationName) };
            dump.ErrorDataReceived += (_, e) => stderr.Add(e.Data);
            long written = 0;
            var counted = 0;
            var reportClock = Stopwatch.StartNew();
            void Report(string phase, bool force = false)
            {
                if (progress is null) return;
                lock (reportClock)
                {
                    if (!force && reportClock.ElapsedMilliseconds < 100) return;
                    reportClock.Restart();
                }
                progress(new DatabaseBackupProgress(phase, Interlocked.Read(ref written), Volatile.Read(ref counted), tables.Count));
            }

            using var work = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            string sha;
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            PgToolProcess.Start(dump);
            dump.BeginErrorReadLine();
            dump.StandardInput.Close();
            var proc = dump;
            using (work.Token.Register(() => PgToolProcess.KillTree(proc)))
            {
                // Count rows in the snapshot while pg_dump runs (the connection is otherwise idle). Whatever fails
                // first stops the rest: a failed count or write kills pg_dump, a pg_dump that ended badly stops the counting.
                var counting = Task.Run(async () =>
                {
                    try
                    {
                        foreach (var (schema, table) in tables)
                        {
                            await using var cmd = new NpgsqlCommand(PgSql.OwnStatementMarker + CountSql(schema, table), connection, tx) { CommandTimeout = 0 };
                            counts[TableKey(schema, table)] = (long)(await cmd.ExecuteScalarAsync(work.Token).ConfigureAwait(false))!;
                            Interlocked.Increment(ref counted);
                            Report("Dumping");
                        }
                    }
                    catch { work.Cancel(); throw; }
                }, CancellationToken.None);

                var writing = Task.Run(async () =>
                {
                    try
                    {
                        string? hex;
                        if (format == "custom")
                            hex = await CopyAndHashAsync(proc.StandardOutput.BaseStream, temp, n => { Interlocked.Exchange(ref written, n); Report("Dumping"); }, work.Token).ConfigureAwait(false);
                        else
                        {
                            proc.StandardOutput.BaseStream.Close();
                            hex = await WatchFolderAsync(temp, proc, n => { Interlocked.Exchange(ref written, n); Report("Dumping"); }, work.Token).ConfigureAwait(false);
                        }
                        await proc.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                        if (proc.ExitCode != 0) work.Cancel();
                        return hex;
                    }
                    catch { work.Cancel(); throw; }
                }, CancellationToken.None);

                try { await Task.WhenAll(counting, writing).ConfigureAwait(false); }
                catch (Exception) { /* looked at below, in order of importance */ }
                cancellationToken.ThrowIfCancellationRequested();
                await dump.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                // A real failure of ours first (a write error such as a full disk, a failed count), then pg_dump's own.
                static Exception? Real(Task t) => t.IsFaulted && t.Exception!.GetBaseException() is var e && e is not OperationCanceledException ? e : null;
                if (Real(writing) is { } writeError) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(writeError);
                if (Real(counting) is { } countError)
                    throw countError is NpgsqlException or PostgresException ? PgErrors.Statement(target, "Counting rows for the backup manifest", countError) : countError;
                if (dump.ExitCode == 0 && (!counting.IsCompletedSuccessfully || !writing.IsCompletedSuccessfully))
                    throw new OpsToolsException("BackupFailed", OpsErrorKind.OperationFailed,
                        $"The backup of {target.Address} did not finish (row counting or the archive stream stopped); nothing was kept.", target.Database);
                sha = writing.IsCompletedSuccessfully ? writing.Result ?? "" : "";
            }
            cancellationToken.ThrowIfCancellationRequested();
            var errors = stderr.ToString();
            if (dump.ExitCode != 0 || HasError(errors))
            {
                if (Security.DataFiles.SaysDiskFull(errors)) throw DiskFull(store, null);
                throw new OpsToolsException("BackupFailed", OpsErrorKind.OperationFailed,
                    $"pg_dump of {target.Address} failed (exit code {dump.ExitCode}{(dump.ExitCode > 128 ? $", killed by signal {dump.ExitCode - 128}" : "")}); nothing was kept. " +
                    (errors.Length > 0 ? "pg_dump said: " + PgToolProcess.Shown(errors, target) : "pg_dump said nothing."), target.Database);
            }
            if (errors.Trim().Length > 0) log("pg_dump: " + PgToolProcess.Shown(errors, target));
            // pg_dump has its snapshot and is done: end the exporting transaction.
            await tx.RollbackAsync(cancellationToken).ConfigureAwait(false);

            // Directory format: checksum the folder pg_dump wrote (pg_dump syncs it to disk itself).
            long size;
            if (format == "directory")
            {
                // pg_dump made the folder 0700 itself; what it wrote inside gets the data-file mode before the folder is named.
                Security.DataFiles.ApplyToTree(temp);
                Report("Hashing", force: true);
                var digest = await BackupHashing.HashDirectoryAsync(temp, null, cancellationToken).ConfigureAwait(false);
                sha = digest.Sha256;
                size = digest.SizeBytes;
            }
            else size = new FileInfo(temp).Length;

            Report("Verifying", force: true);
            var entries = await ListArchiveAsync(pgRestore, temp, format, counts.Count, cancellationToken).ConfigureAwait(false);
            log($"pg_restore --list read {entries} entries of the archive; SHA-256 {sha}, {size} bytes.");

            // Complete and verified: give it its final name, then write the manifest beside it.
            if (format == "directory") Directory.Move(temp, final); else File.Move(temp, final);
            temp = final; // from here, a failure removes the renamed archive
            var manifest = new BackupManifest
            {
                Kind = BackupKind.Database,
                Name = target.Database,
                Archive = Path.GetFileName(final),
                Format = format,
                SizeBytes = size,
                Sha256 = sha,
                StartTime = start,
                EndTime = DateTime.UtcNow,
                Source = $"{target.Host}:{target.Port}",
                ServerVersion = serverVersion,
                PgDumpVersion = pgDump.Version,
                OpsToolsVersion = EngineVersion,
                Host = Environment.MachineName,
                User = Environment.UserName,
                RowCounts = counts,
                Verification = BackupVerification.Unverified,
            };
            var manifestPath = BackupManifest.ManifestPathFor(final);
            manifest.Write(manifestPath);
            temp = null;
            Report("Done", force: true);
            return manifest.ToInfo(manifestPath, store.Root);
        }
        catch (Exception e)
        {
            if (dump is not null) { PgToolProcess.KillTree(dump); try { dump.WaitForExit(10_000); } catch (InvalidOperationException) { } }
            var leftover = Remove(temp);
            var note = leftover is null ? "" : $" The partial archive '{leftover}' could not be removed: delete it by hand (it is never listed as a backup).";
            if (cancellationToken.IsCancellationRequested)
                throw new OpsToolsException("BackupCancelled", OpsErrorKind.OperationFailed,
                    $"The backup of {target.Address} was cancelled; the partial archive was removed and no backup was recorded.{note}", target.Database,
                    e as OperationCanceledException ?? new OperationCanceledException(cancellationToken));
            switch (e)
            {
                case OpsToolsException { ErrorId: "BackupDiskFull" } full:
                    throw new OpsToolsException(full.ErrorId, full.Kind, full.Message + note, full.Target, full.InnerException);
                case OpsToolsException ops when note.Length == 0:
                    throw;
                case OpsToolsException ops:
                    throw new OpsToolsException(ops.ErrorId, ops.Kind, ops.Message + note, ops.Target, ops.InnerException);
                case IOException io when IsDiskFull(io):
                    throw DiskFull(store, io, note);
                case NpgsqlException or PostgresException:
                    throw PgErrors.Statement(target, "Backup", e);
                default:
                    throw new OpsToolsException("BackupFailed", OpsErrorKind.OperationFailed,
                        $"The backup of {target.Address} failed: {Security.Redaction.ScrubText(e.Message)}. Nothing was kept.{note}", target.Database, e);
            }
        }
        finally
        {
            dump?.Dispose();
        }
    }

    /// <summary>True when a tool's standard error reports an error (pg_dump: error: ..., FATAL:, PANIC:).</summary>
    public static bool HasError(string stderr) =>
        stderr.Split('\n').Any(l => l.Contains("error:", StringComparison.OrdinalIgnoreCase)
                                    || l.Contains("FATAL:", StringComparison.Ordinal) || l.Contains("PANIC:", StringComparison.Ordinal));

    /// <summary>The one disk-full rule (<see cref="Security.DataFiles.IsDiskFull"/>: ENOSPC, EDQUOT, the Windows codes).</summary>
    public static bool IsDiskFull(IOException e) => Security.DataFiles.IsDiskFull(e);

    private static OpsToolsException DiskFull(BackupStore store, Exception? inner, string note = "")
    {
        string free;
        try { free = string.Create(CultureInfo.InvariantCulture, $"{new DriveInfo(store.Root).AvailableFreeSpace / 1048576.0:0.0} MB free now"); }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { free = "free space unknown"; }
        return new OpsToolsException("BackupDiskFull", OpsErrorKind.OperationFailed,
            $"The backup store '{store.Root}' is full ({free}): the archive could not be written, the partial file was removed and no backup was recorded. " +
            $"Free space (Invoke-BackupRetention) or use a larger store.{note}", store.Root, inner);
    }

    /// <summary>Streams pg_dump's stdout to <paramref name="path"/> (created new), hashing as it goes; flushed to disk at the end.</summary>
    private static async Task<string?> CopyAndHashAsync(Stream source, string path, Action<long> progress, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var target = Security.DataFiles.Create(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 0, FileOptions.Asynchronous);
        const int size = 1 << 20;
        var a = new byte[size];
        var b = new byte[size];
        long total = 0;
        // Read the next block while this one is hashed and written.
        var read = source.ReadAsync(a, 0, size, cancellationToken);
        while (true)
        {
            var n = await read.ConfigureAwait(false);
            if (n == 0) break;
            (a, b) = (b, a);
            read = source.ReadAsync(a, 0, size, cancellationToken);
            hash.AppendData(b, 0, n);
            await target.WriteAsync(b.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            total += n;
            progress(total);
        }
        await target.FlushAsync(cancellationToken).ConfigureAwait(false);
        target.Flush(flushToDisk: true);
        return BackupHashing.ToHex(hash.GetHashAndReset());
    }

    /// <summary>Directory format: reports the folder's size while pg_dump writes it.</summary>
    private static async Task<string?> WatchFolderAsync(string folder, Process dump, Action<long> progress, CancellationToken cancellationToken)
    {
        while (!dump.HasExited)
        {
            try { await dump.WaitForExitAsync(cancellationToken).WaitAsync(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(false); }
            catch (TimeoutException) { }
            try
            {
                if (Directory.Exists(folder))
                    progress(new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => { try { return f.Length; } catch (IOException) { return 0; } }));
            }
            catch (IOException) { }
        }
        return null;
    }

    /// <summary>
    /// pg_restore --list of the archive: must exit 0, name the expected format, and list at least one TABLE DATA
    /// entry per counted table. Returns the number of entries.
    /// </summary>
    private static async Task<int> ListArchiveAsync(PgTool pgRestore, string archive, string format, int tables, CancellationToken cancellationToken)
    {
        var psi = PgToolProcess.StartInfo(pgRestore, null, new[] { "--list", archive }, ApplicationName);
        var r = await PgToolProcess.RunAsync(psi, null, null, cancellationToken).ConfigureAwait(false);
        var lines = r.StdoutLines;
        var expected = format == "directory" ? "DIRECTORY" : "CUSTOM";
        var entries = lines.Count(l => l.Length > 0 && !l.StartsWith(';'));
        var data = lines.Count(l => !l.StartsWith(';') && l.Contains(" TABLE DATA ", StringComparison.Ordinal));
        string? problem = null;
        if (r.ExitCode != 0 || HasError(r.Error)) problem = $"pg_restore --list failed (exit code {r.ExitCode}): {PgToolProcess.Shown(r.Error, null)}";
        else if (!lines.Any(l => l.StartsWith(';') && l.Contains("Format: " + expected, StringComparison.Ordinal)))
            problem = $"pg_restore --list does not report format {expected}.";
        else if (data < tables) problem = $"the archive lists {data} TABLE DATA entries for {tables} tables counted in the same snapshot.";
        if (problem is not null)
            throw new OpsToolsException("BackupVerificationFailed", OpsErrorKind.InvalidData,
                $"The new archive did not verify, so it was removed and no backup was recorded: {problem}", archive);
        return entries;
    }

    /// <summary>Deletes a temp file or folder; returns its path when it could not be removed.</summary>
    private static string? Remove(string? path)
    {
        if (path is null) return null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                if (File.Exists(path)) File.Delete(path);
                else if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
                return null;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Thread.Sleep(100); // a killed pg_dump -j worker may still be closing its file
            }
        }
        return File.Exists(path) || Directory.Exists(path) ? path : null;
    }
}
