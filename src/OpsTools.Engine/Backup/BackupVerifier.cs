using System.Diagnostics;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using OpsTools.Backup;
using OpsTools.Engine.Database;
using OpsTools.Engine.Security;

namespace OpsTools.Engine.Backup;

/// <summary>What Test-Backup is asked to test.</summary>
public sealed class BackupTestRequest
{
    /// <summary>The archive (file, or folder for directory format), or its manifest.</summary>
    public required string Path { get; init; }
    /// <summary>The manifest; default &lt;archive&gt;.manifest.json.</summary>
    public string? ManifestPath { get; init; }
    /// <summary>The store root (for the BackupInfo passed on); default the folder above the archive's group folder.</summary>
    public string? Store { get; init; }
    public BackupTestMode Mode { get; init; } = BackupTestMode.Drill;
    /// <summary>Where the drill may create a scratch database (required for Drill).</summary>
    public PgTarget? DrillServer { get; init; }
    /// <summary>A pg_restore to use instead of searching for one.</summary>
    public string? PgRestorePath { get; init; }
}

/// <summary>A step of a test, for progress.</summary>
public sealed record BackupTestProgress(string Step, long BytesDone = 0, long BytesTotal = 0, int Current = 0, int Total = 0);

/// <summary>The result of one test, and the backup as its manifest now describes it (null without a readable manifest).</summary>
public sealed record BackupTestOutcome(BackupTestResult Result, BackupInfo? Info);

/// <summary>
/// Test-Backup's engine. Quick: size and SHA-256 against the manifest, then pg_restore --list must read
/// the archive and list data for every table of the manifest. Drill: the quick checks, then a restore
/// into a scratch database, exact row counts compared with the manifest, and the scratch database
/// dropped in every case. The outcome is recorded in the manifest. A bad backup is a result, never an exception;
/// only cancellation (Ctrl+C) escapes, after the scratch database is dropped.
/// </summary>
public static class BackupVerifier
{
    /// <summary>How long pg_restore --list may take.</summary>
    public static TimeSpan ListTimeout { get; set; } = TimeSpan.FromMinutes(30);
    /// <summary>How long dropping the scratch database may take (also after Ctrl+C).</summary>
    public static TimeSpan DropTimeout { get; set; } = TimeSpan.FromSeconds(30);

    private sealed class Abort(CheckStatus status, string message) : Exception(message)
    {
        public CheckStatus Status { get; } = status;
    }

    public static async Task<BackupTestOutcome> TestAsync(BackupTestRequest request, Action<BackupTestProgress>? progress, Action<string>? log, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var given = Path.GetFullPath(request.Path).TrimEnd('/', '\\');
        var archive = given.EndsWith(".manifest.json", StringComparison.Ordinal) && request.ManifestPath is null ? given[..^".manifest.json".Length] : given;
        var manifestPath = Path.GetFullPath(request.ManifestPath ?? BackupManifest.ManifestPathFor(archive));
        var store = request.Store ?? Path.GetDirectoryName(Path.GetDirectoryName(manifestPath)) ?? "";
        var r = new BackupTestResult { Path = archive, ManifestPath = manifestPath, Mode = request.Mode, BackupId = archive, Target = archive };
        BackupManifest? manifest = null;
        BackupVerification? record = null;
        try
        {
            // The manifest: without a readable one there is no backup to trust, and nothing to record in.
            if (!File.Exists(manifestPath))
            {
                var archiveThere = File.Exists(archive) || Directory.Exists(archive);
                throw new Abort(CheckStatus.Critical,
                    $"No manifest at '{manifestPath}'{(archiveThere ? "" : $" (and no archive at '{archive}')")}: the backup did not finish, or the manifest was removed. " +
                    "An archive without its manifest cannot be checked and is not a usable backup.");
            }
            try { manifest = BackupManifest.Read(manifestPath); }
            catch (OpsToolsException e) { throw new Abort(CheckStatus.Critical, e.Message + " The backup cannot be checked and is not usable."); }

            var info = manifest.ToInfo(manifestPath, store);
            r.BackupId = r.Target = info.Id;
            r.Name = manifest.Name;
            record = BackupVerification.Failed; // from here on, a bad backup is recorded as such

            var described = Path.GetFullPath(info.Path).TrimEnd('/', '\\');
            if (!string.Equals(described, archive, StringComparison.Ordinal))
                throw new Abort(CheckStatus.Critical, $"The manifest '{manifestPath}' describes the archive '{manifest.Archive}', not '{Path.GetFileName(archive)}'.");
            var isDirectory = manifest.Kind == BackupKind.Database && manifest.Format == "directory";
            if (manifest.Kind == BackupKind.Database && manifest.Format is not ("custom" or "directory"))
                throw new Abort(CheckStatus.Critical, $"The manifest names the format '{manifest.Format}', which is not a pg_dump archive format (custom, directory).");
            if (isDirectory ? !Directory.Exists(archive) : !File.Exists(archive))
                throw new Abort(CheckStatus.Critical, Directory.Exists(archive) || File.Exists(archive)
                    ? $"The archive '{archive}' is a {(isDirectory ? "file" : "folder")}, but the manifest says {manifest.Format} format."
                    : $"The archive '{archive}' is missing.");

            // 1. Size, then SHA-256, streamed.
            var size = BackupHashing.SizeOf(archive);
            if (size != manifest.SizeBytes)
            {
                r.ChecksumOk = false;
                throw new Abort(CheckStatus.Critical, string.Create(CultureInfo.InvariantCulture,
                    $"The archive is {size:N0} bytes but the manifest says {manifest.SizeBytes:N0} ({(size < manifest.SizeBytes ? "truncated?" : "appended to or replaced?")})."));
            }
            log?.Invoke($"Hashing {size:N0} bytes of '{archive}' (SHA-256).");
            var total = size;
            Action<long> hashed = done => progress?.Invoke(new BackupTestProgress("Checking the SHA-256", done, total));
            progress?.Invoke(new BackupTestProgress("Checking the SHA-256", 0, total));
            string sha;
            long bytes;
            try
            {
                var digest = isDirectory
                    ? await BackupHashing.HashDirectoryAsync(archive, hashed, cancellationToken).ConfigureAwait(false)
                    : await BackupHashing.HashFileAsync(archive, hashed, cancellationToken).ConfigureAwait(false);
                (sha, bytes) = (digest.Sha256, digest.SizeBytes);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                r.ChecksumOk = false;
                throw new Abort(CheckStatus.Critical, $"The archive cannot be read to check its checksum: {e.Message}");
            }
            r.BytesHashed = bytes;
            if (!string.Equals(sha, manifest.Sha256.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                r.ChecksumOk = false;
                throw new Abort(CheckStatus.Critical, $"Checksum mismatch: expected {manifest.Sha256.Trim().ToLowerInvariant()}, got {sha}. The archive was altered or damaged after the backup.");
            }
            r.ChecksumOk = true;

            if (manifest.Kind == BackupKind.Directory)
            {
                await ReadTarToEndAsync(archive, r, cancellationToken).ConfigureAwait(false);
                r.Mode = BackupTestMode.Quick;
                Pass(r, string.Create(CultureInfo.InvariantCulture,
                    $"Checksum and size match ({size:N0} bytes) and the tar.gz reads to its end{(request.Mode == BackupTestMode.Drill ? " (folder backups have no restore drill: use Restore-Directory to a scratch folder)" : "")}."));
                record = BackupVerification.ChecksumVerified;
                return Finish();
            }

            // 2. pg_restore --list must read it and list data for every table of the manifest.
            PgTool tool;
            try { tool = PgTools.Find("pg_restore", MajorOf(manifest.PgDumpVersion) ?? 0, request.PgRestorePath); }
            catch (OpsToolsException e)
            {
                record = null;
                throw new Abort(CheckStatus.Unknown, $"The checksum matches, but the archive could not be read: {e.Message}");
            }
            r.PgRestore = tool.ToString();
            progress?.Invoke(new BackupTestProgress("Reading the archive's table of contents (pg_restore --list)"));
            log?.Invoke($"{tool.Path} --list '{archive}'");
            PgToolProcess.Outcome list;
            try { list = await PgToolProcess.RunAsync(PgToolProcess.StartInfo(tool, null, new[] { "--list", archive }, ApplicationName), null, ListTimeout, cancellationToken).ConfigureAwait(false); }
            catch (OpsToolsException e)
            {
                r.ArchiveReadable = false;
                throw new Abort(CheckStatus.Critical, $"pg_restore cannot read the archive: {e.Message}");
            }
            if (list.ExitCode != 0)
            {
                r.ArchiveReadable = false;
                throw new Abort(CheckStatus.Critical, $"pg_restore cannot read the archive: {list.ErrorSummary}");
            }
            var dataEntries = TableDataEntries(list.StdoutLines);
            var noData = manifest.RowCounts.Keys.Where(k => !HasDataEntry(dataEntries, k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
            if (noData.Count > 0)
            {
                r.ArchiveReadable = false;
                r.TablesMismatched.AddRange(noData.Select(k => $"{k} has no data in the archive"));
                throw new Abort(CheckStatus.Critical, $"The archive holds no data for {Tables(noData)} named by the manifest: it is not the backup the manifest describes.");
            }
            r.ArchiveReadable = true;
            var tables = manifest.RowCounts.Count;

            if (request.Mode == BackupTestMode.Quick)
            {
                Pass(r, string.Create(CultureInfo.InvariantCulture,
                    $"Checksum and size match ({size:N0} bytes); pg_restore {tool.Version} lists data for all {tables} table(s) of the manifest."));
                record = BackupVerification.ChecksumVerified;
                return Finish();
            }

            // 3. The drill.
            await DrillAsync(request, manifest, archive, isDirectory, tool, r, progress, log, cancellationToken).ConfigureAwait(false);
            record = BackupVerification.RestoreVerified; // a failed drill ends in Abort
            return Finish();
        }
        catch (Abort a)
        {
            r.Status = a.Status;
            r.Message = a.Message + (r.Message.Length > 0 ? " " + r.Message : "");
            if (a.Status == CheckStatus.Unknown) record = null;
            return Finish();
        }

        BackupTestOutcome Finish()
        {
            BackupInfo? info = null;
            // A quick pass proves the archive unchanged; it neither undoes a failed drill nor replaces a passed one.
            if (manifest is not null && record == BackupVerification.ChecksumVerified && r.Status == CheckStatus.Healthy && manifest.Kind == BackupKind.Database)
            {
                if (manifest.Verification == BackupVerification.RestoreVerified)
                {
                    record = null;
                    r.Verification = BackupVerification.RestoreVerified;
                    r.Message += $" The archive is unchanged since its restore drill passed ({manifest.LastTestTime:yyyy-MM-dd HH:mm} UTC): it stays RestoreVerified.";
                }
                else if (manifest.Verification == BackupVerification.Failed && (manifest.LastTestMessage ?? "").StartsWith("Drill:", StringComparison.Ordinal))
                {
                    record = null;
                    r.Verification = BackupVerification.Failed;
                    r.Status = CheckStatus.Critical;
                    r.Message = $"The quick checks pass, but the last restore drill ({manifest.LastTestTime:yyyy-MM-dd HH:mm} UTC) failed: {manifest.LastTestMessage!["Drill:".Length..].Trim()} The backup stays Failed until a restore drill passes. ({r.Message})";
                }
            }
            if (manifest is not null && record is { } state)
            {
                manifest.Verification = state;
                manifest.LastTestTime = DateTime.UtcNow;
                manifest.LastTestMessage = $"{r.Mode}: {r.Message}";
                try
                {
                    manifest.Write(manifestPath);
                    r.Verification = state;
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    r.Message += $" The result could not be recorded in the manifest: {e.Message}";
                    if (r.Status == CheckStatus.Healthy) r.Status = CheckStatus.Warning;
                }
            }
            if (manifest is not null) info = manifest.ToInfo(manifestPath, store);
            r.Value = r.Verification?.ToString();
            r.Threshold = r.Mode == BackupTestMode.Quick
                ? "size and SHA-256 equal the manifest's; pg_restore --list lists every table"
                : "quick checks; restored tables and their exact row counts equal the manifest's";
            clock.Stop();
            r.Duration = clock.Elapsed;
            r.Timestamp = DateTime.UtcNow;
            return new BackupTestOutcome(r, info);
        }
    }

    private static void Pass(BackupTestResult r, string message)
    {
        r.Status = CheckStatus.Healthy;
        r.Message = message;
    }

    private static async Task DrillAsync(BackupTestRequest request, BackupManifest manifest, string archive, bool isDirectory, PgTool tool,
        BackupTestResult r, Action<BackupTestProgress>? progress, Action<string>? log, CancellationToken cancellationToken)
    {
        var server = request.DrillServer ?? throw new Abort(CheckStatus.Unknown, "No drill server: a restore drill needs a PostgreSQL server where it may create a scratch database.");
        r.DrillServer = $"{server.User}@{server.Host}:{server.Port}";
        var scratch = ScratchName(manifest.Name);
        r.ScratchDatabase = scratch;

        progress?.Invoke(new BackupTestProgress("Creating the scratch database " + scratch));
        // One session owns the scratch database from before it exists until it is dropped (Get-DbScratchDatabase: Owned while the drill
        // runs, Orphaned if this host dies); the drill goes on without it when it cannot be had (the drill itself then says why).
        NpgsqlConnection? owner = null;
        try
        {
            owner = await server.OpenAsync(cancellationToken).ConfigureAwait(false);
            await DbScratch.ClaimAsync(owner, scratch, ApplicationName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or OpsToolsException && !cancellationToken.IsCancellationRequested)
        {
            log?.Invoke($"No owner session for {scratch}: {Redaction.ScrubText(e.Message)}");
            await ReleaseOwnerAsync(owner).ConfigureAwait(false);
            owner = null;
        }
        try
        {
            await DrillOwnedAsync(server, owner, scratch, manifest, archive, isDirectory, tool, r, progress, log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseOwnerAsync(owner).ConfigureAwait(false);
        }
    }

    /// <summary>Closes a scratch owner session for good (not back to the pool), which releases its lock.</summary>
    internal static async Task ReleaseOwnerAsync(NpgsqlConnection? owner)
    {
        if (owner is null) return;
        try { await owner.DisposeAsync().ConfigureAwait(false); } catch (NpgsqlException) { }
        NpgsqlConnection.ClearPool(owner);
    }

    private static async Task DrillOwnedAsync(PgTarget server, NpgsqlConnection? owner, string scratch, BackupManifest manifest, string archive, bool isDirectory, PgTool tool,
        BackupTestResult r, Action<BackupTestProgress>? progress, Action<string>? log, CancellationToken cancellationToken)
    {
        try
        {
            await using var c = await server.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var unpool = new Unpool(c);
            var sourceMajor = MajorOf(manifest.ServerVersion);
            if (sourceMajor is { } sm && c.PostgreSqlVersion.Major < sm)
                throw new Abort(CheckStatus.Unknown, $"The quick checks passed, but the drill cannot run: the drill server {server.Address} is PostgreSQL {c.PostgreSqlVersion.Major}, older than the backup's source ({manifest.ServerVersion}). Use a server of version {sm} or newer.");
            log?.Invoke($"CREATE DATABASE {PgSql.QuoteIdent(scratch)} TEMPLATE template0 on {server.Address}");
            await using var cmd = new NpgsqlCommand($"{PgSql.OwnStatementMarker}CREATE DATABASE {PgSql.QuoteIdent(scratch)} TEMPLATE template0", c);
            await cmd.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OpsToolsException e)
        {
            r.ScratchDatabase = null;
            throw new Abort(CheckStatus.Unknown, $"The quick checks passed, but the drill could not start: {e.Message}");
        }
        catch (NpgsqlException e) when (!cancellationToken.IsCancellationRequested)
        {
            r.ScratchDatabase = null;
            throw new Abort(CheckStatus.Unknown, $"The quick checks passed, but the drill could not create its scratch database: {PgErrors.Statement(server, "CREATE DATABASE", e).Message}");
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C while CREATE DATABASE ran: it may have been created all the same.
            await DropScratchAsync(server, scratch, log, owner).ConfigureAwait(false);
            throw;
        }

        try
        {
            await RestoreAndCompareAsync(server, scratch, manifest, archive, isDirectory, tool, r, progress, log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Always, also on failure and Ctrl+C: not with the caller's token, and bounded.
            progress?.Invoke(new BackupTestProgress("Dropping the scratch database " + scratch));
            var (dropped, error) = await DropScratchAsync(server, scratch, log, owner).ConfigureAwait(false);
            r.ScratchDropped = dropped;
            if (!dropped)
            {
                r.Message += $" WARNING: the scratch database {PgSql.QuoteIdent(scratch)} on {server.Address} could NOT be dropped ({error}): drop it by hand (DROP DATABASE {PgSql.QuoteIdent(scratch)} WITH (FORCE)).";
                if (r.Status == CheckStatus.Healthy) r.Status = CheckStatus.Warning;
            }
        }
    }

    /// <summary>
    /// Restores the archive into the existing empty database <paramref name="scratch"/> and compares exact row counts
    /// with the manifest (also used by Restore-Backup). A failure throws (its Message says why); success sets r.Status Healthy.
    /// </summary>
    internal static async Task RestoreAndCompareAsync(PgTarget server, string scratch, BackupManifest manifest, string archive, bool isDirectory, PgTool tool,
        BackupTestResult r, Action<BackupTestProgress>? progress, Action<string>? log, CancellationToken cancellationToken, int? jobs = null)
    {
        var expectedTables = manifest.RowCounts.Count;
        var args = new List<string> { "--no-owner", "--no-acl", "--exit-on-error", "--no-password", "--verbose", "--dbname", scratch };
        if (isDirectory) args.AddRange(new[] { "--jobs", (jobs ?? Math.Clamp(Environment.ProcessorCount, 1, 4)).ToString(CultureInfo.InvariantCulture) });
        args.Add(archive);
        log?.Invoke($"{tool.Path} {string.Join(' ', args)} (connection settings in the child's environment)");
        var restoring = 0;
        PgToolProcess.Outcome restore;
        try
        {
            restore = await PgToolProcess.RunAsync(PgToolProcess.StartInfo(tool, server, args, ApplicationName, withDatabase: false), line =>
            {
                var m = DataLine.Match(line);
                if (m.Success)
                    progress?.Invoke(new BackupTestProgress($"Restoring data: {m.Groups["t"].Value}", Current: Interlocked.Increment(ref restoring), Total: expectedTables));
            }, null, cancellationToken).ConfigureAwait(false);
        }
        catch (OpsToolsException e)
        {
            throw new Abort(CheckStatus.Unknown, $"The quick checks passed, but pg_restore could not run: {e.Message}");
        }
        if (restore.ExitCode != 0 && LacksPrivilege(restore.StderrLines))
            throw new Abort(CheckStatus.Unknown, $"The quick checks passed, but the drill role {server.User} lacks a privilege the restore needs (this says nothing about the backup; use a superuser on a scratch server): {restore.ErrorSummary}");
        if (restore.ExitCode != 0)
            throw new Abort(CheckStatus.Critical, $"The restore drill failed: pg_restore could not restore the archive into {PgSql.QuoteIdent(scratch)}: {restore.ErrorSummary}");

        // Exact counts of every table in the restore, against the manifest.
        var scratchTarget = server.WithDatabase(scratch);
        var connection = await scratchTarget.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var restored = new List<(string Key, string Sql, bool Optional)>();
            await using (var cmd = new NpgsqlCommand(
                "SELECT n.nspname, c.relname, c.relkind = 'p' OR EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e') " +
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
                "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%' " +
                "ORDER BY 1, 2", connection))
            await using (var reader = await cmd.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                    restored.Add((reader.GetString(0) + "." + reader.GetString(1), "SELECT count(*) FROM " + PgSql.Qualified(reader.GetString(0), reader.GetString(1)), reader.GetBoolean(2)));

            var byKey = restored.ToDictionary(t => t.Key, StringComparer.Ordinal);
            var problems = new List<string>();
            var i = 0;
            foreach (var (key, expected) in manifest.RowCounts.OrderBy(k => k.Key, StringComparer.Ordinal))
            {
                progress?.Invoke(new BackupTestProgress($"Counting rows: {key}", Current: ++i, Total: expectedTables));
                if (!byKey.TryGetValue(key, out var table)) { problems.Add($"{key} missing from the restore (expected {expected} rows)"); continue; }
                log?.Invoke(table.Sql);
                await using var count = new NpgsqlCommand(table.Sql, connection);
                var got = Convert.ToInt64(await count.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
                r.TablesCompared++;
                if (got != expected) problems.Add($"{key} expected {expected} got {got}");
            }
            foreach (var extra in restored.Where(t => !t.Optional && !manifest.RowCounts.ContainsKey(t.Key)))
                problems.Add($"{extra.Key} not in the manifest (the restore has a table the backup did not count)");
            r.TablesMismatched.AddRange(problems);
            if (problems.Count > 0)
                throw new Abort(CheckStatus.Critical, $"The restore drill found {problems.Count} difference(s) from the manifest: {string.Join("; ", problems.Take(10))}{(problems.Count > 10 ? "; ..." : "")}.");
            r.Status = CheckStatus.Healthy;
            r.Message = string.Create(CultureInfo.InvariantCulture,
                $"Restored into a scratch database on {server.Host}:{server.Port} with pg_restore {tool.Version}: all {r.TablesCompared} table(s) have exactly the manifest's row counts ({manifest.RowCounts.Values.Sum():N0} rows); checksum and size match ({manifest.SizeBytes:N0} bytes).");
        }
        catch (NpgsqlException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new Abort(CheckStatus.Critical, $"The restore drill could not count the restored rows: {PgErrors.Statement(scratchTarget, "Counting rows", e).Message}");
        }
        finally
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            NpgsqlConnection.ClearPool(connection);
        }
    }

    /// <summary>Drops the scratch database (terminating its sessions) and confirms it is gone. Never throws.</summary>
    /// <remarks>
    /// With <paramref name="open"/> (the scratch database's owner session, idle and already connected to the server) the drop runs on it:
    /// no new connection and authentication after Ctrl+C, which is most of what a cancelled restore waits for.
    /// </remarks>
    internal static async Task<(bool Dropped, string? Error)> DropScratchAsync(PgTarget server, string scratch, Action<string>? log, NpgsqlConnection? open = null)
    {
        using var timeout = new CancellationTokenSource(DropTimeout);
        try
        {
            var reuse = open is { State: System.Data.ConnectionState.Open };
            await using var opened = reuse ? null : await server.OpenAsync(timeout.Token).ConfigureAwait(false);
            var c = reuse ? open! : opened!;
            using var unpool = reuse ? null : new Unpool(c);
            var q = PgSql.QuoteIdent(scratch);
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    if (c.PostgreSqlVersion.Major >= 13)
                    {
                        log?.Invoke($"DROP DATABASE IF EXISTS {q} WITH (FORCE)");
                        await using var drop = new NpgsqlCommand($"{PgSql.OwnStatementMarker}DROP DATABASE IF EXISTS {q} WITH (FORCE)", c);
                        await drop.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
                    }
                    else
                    {
                        await using (var kill = new NpgsqlCommand("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", c))
                        {
                            kill.Parameters.Add(new NpgsqlParameter { Value = scratch });
                            await kill.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
                        }
                        log?.Invoke($"DROP DATABASE IF EXISTS {q}");
                        await using var drop = new NpgsqlCommand($"{PgSql.OwnStatementMarker}DROP DATABASE IF EXISTS {q}", c);
                        await drop.ExecuteNonQueryAsync(timeout.Token).ConfigureAwait(false);
                    }
                    break;
                }
                catch (PostgresException e) when (e.SqlState == "55006" && attempt < 10) // still in use: sessions are going away
                {
                    await Task.Delay(300, timeout.Token).ConfigureAwait(false);
                }
            }
            await using var check = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = $1", c);
            check.Parameters.Add(new NpgsqlParameter { Value = scratch });
            var left = Convert.ToInt64(await check.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false), CultureInfo.InvariantCulture);
            return left == 0 ? (true, null) : (false, "it is still listed in pg_database");
        }
        catch (OperationCanceledException)
        {
            return (false, $"no answer within {DropTimeout.TotalSeconds:0} s");
        }
        catch (Exception e) when (e is OpsToolsException or NpgsqlException or IOException or TimeoutException)
        {
            return (false, e is NpgsqlException ? PgErrors.Statement(server, "DROP DATABASE", e).Message : Redaction.ScrubText(e.Message));
        }
    }

    private static async Task ReadTarToEndAsync(string archive, BackupTestResult r, CancellationToken cancellationToken)
    {
        try
        {
            await using var fs = new FileStream(archive, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using var gz = new GZipStream(fs, CompressionMode.Decompress);
            await using var tar = new TarReader(gz);
            var buffer = new byte[1 << 16];
            while (await tar.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                if (entry.DataStream is { } data)
                    while (await data.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) > 0) { }
            r.ArchiveReadable = true;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or EndOfStreamException)
        {
            r.ArchiveReadable = false;
            throw new Abort(CheckStatus.Critical, $"The tar.gz cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// The drill's few connections leave no idle session behind on the user's server. Declared after the
    /// connection, so it is disposed first: the connection goes back to its pool, and the pool's idle sessions are closed.
    /// </summary>
    internal sealed class Unpool(NpgsqlConnection connection) : IDisposable
    {
        public void Dispose()
        {
            connection.Close();
            NpgsqlConnection.ClearPool(connection);
        }
    }

    /// <summary>pg_restore failed on the drill role's rights (extensions, event triggers ...), not on the archive.</summary>
    internal static bool LacksPrivilege(IEnumerable<string> stderr) =>
        stderr.Any(l => l.Contains("ERROR:", StringComparison.Ordinal) &&
            (l.Contains("permission denied", StringComparison.OrdinalIgnoreCase) || l.Contains("must be owner", StringComparison.OrdinalIgnoreCase)
             || l.Contains("must be superuser", StringComparison.OrdinalIgnoreCase)));

    private static readonly Regex DataLine = new("processing data for table \"(?<t>.*)\"", RegexOptions.Compiled);

    /// <summary>The "schema name owner" part of each TABLE DATA line of pg_restore --list ("3339; 0 16385 TABLE DATA public t1 postgres").</summary>
    internal static List<string> TableDataEntries(IEnumerable<string> listLines)
    {
        var result = new List<string>();
        foreach (var line in listLines)
        {
            if (line.StartsWith(';')) continue;
            var at = line.IndexOf(" TABLE DATA ", StringComparison.Ordinal);
            if (at < 0 || !line.AsSpan(0, at).Contains(';')) continue;
            result.Add(line[(at + " TABLE DATA ".Length)..]);
        }
        return result;
    }

    /// <summary>
    /// Whether an entry lists data for "schema.table". Names are not quoted by pg_restore --list and may hold
    /// dots and spaces, so every split of the key at a dot is tried against "schema table[ owner]".
    /// </summary>
    internal static bool HasDataEntry(IReadOnlyList<string> entries, string key)
    {
        for (var dot = key.IndexOf('.'); dot >= 0; dot = key.IndexOf('.', dot + 1))
        {
            var prefix = key[..dot] + " " + key[(dot + 1)..];
            foreach (var e in entries)
                if (e == prefix || e.StartsWith(prefix + " ", StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>opstools_drill_&lt;name&gt;_&lt;random&gt;: the name's letters and digits (others become '_'), lower case, at most 63 bytes.</summary>
    public static string ScratchName(string name)
    {
        var safe = new StringBuilder();
        foreach (var ch in name.ToLowerInvariant())
        {
            var c = char.IsLetterOrDigit(ch) && ch < 128 ? ch : '_';
            if (c == '_' && safe.Length > 0 && safe[^1] == '_') continue;
            safe.Append(c);
            if (safe.Length >= 30) break;
        }
        var part = safe.ToString().Trim('_');
        return $"opstools_drill_{(part.Length == 0 ? "db" : part)}_{Guid.NewGuid().ToString("N")[..8]}";
    }

    public const string ApplicationName = "OpsTools Test-Backup";

    /// <summary>The child's libpq environment (<see cref="PgToolProcess.ChildEnvironment"/>): the database is named with --dbname.</summary>
    internal static Dictionary<string, string?> ChildEnvironment(PgTarget target) => PgToolProcess.ChildEnvironment(target, ApplicationName, withDatabase: false);

    internal static int? MajorOf(string? version)
    {
        if (string.IsNullOrWhiteSpace(version)) return null;
        var m = Regex.Match(version, @"(\d+)");
        return m.Success && int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : null;
    }

    private static string Tables(IReadOnlyList<string> keys) =>
        (keys.Count == 1 ? "table " : $"{keys.Count} tables: ") + string.Join(", ", keys.Take(10)) + (keys.Count > 10 ? ", ..." : "");
}
