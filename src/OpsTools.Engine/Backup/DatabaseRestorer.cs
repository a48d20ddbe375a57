using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using OpsTools.Backup;
using OpsTools.Engine.Database;

namespace OpsTools.Engine.Backup;

/// <summary>What Restore-Backup is asked to do.</summary>
public sealed class RestoreRequest
{
    /// <summary>The archive (file, or folder for directory format), or its manifest.</summary>
    public required string Path { get; init; }
    public string? ManifestPath { get; init; }
    public string? Store { get; init; }
    /// <summary>The server to restore into (its Database is only where the admin connection goes).</summary>
    public required PgTarget Server { get; init; }
    /// <summary>The database to replace; default the backup's database.</summary>
    public string? Target { get; init; }
    /// <summary>Restore next to the target under this name instead of replacing it.</summary>
    public string? AsDatabase { get; init; }
    public int Jobs { get; init; } = 1;
    public bool SafetyBackup { get; init; } = true;
    /// <summary>Where the safety backup goes; default the backup's own store.</summary>
    public string? SafetyStore { get; init; }
    public string? PgRestorePath { get; init; }
}

/// <summary>The names a restore will use, fixed before anything runs (what -WhatIf shows).</summary>
public sealed record RestorePlan(RestoreRequest Request, string Archive, string ManifestPath, string Store, string BackupId, string Target,
    string NewDatabase, string PreviousDatabase, string? SafetyStore, bool IsDirectory)
{
    /// <summary>The steps, in order, as text.</summary>
    public IReadOnlyList<string> Steps
    {
        get
        {
            var q = PgSql.QuoteIdent;
            var s = new List<string>
            {
                $"Check the archive '{Archive}' (SHA-256, size, pg_restore --list); refuse it if it fails",
                $"CREATE DATABASE {q(NewDatabase)} on {Request.Server.Host}:{Request.Server.Port} and pg_restore the backup into it" +
                    (IsDirectory && Request.Jobs > 1 ? $" with {Request.Jobs} jobs" : ""),
                "Compare the exact row count of every table with the manifest; on any difference drop the new database and stop",
            };
            if (Request.AsDatabase is { } a)
            {
                s.Add($"ALTER DATABASE {q(NewDatabase)} RENAME TO {q(a)} (the target {q(Target)} is not touched)");
                return s;
            }
            s.Add(Request.SafetyBackup
                ? $"Safety backup of the current {q(Target)} (if it exists) into the store '{SafetyStore}'"
                : "No safety backup (-NoSafetyBackup)");
            s.Add($"Terminate the connections to {q(Target)}; ALTER DATABASE {q(Target)} RENAME TO {q(PreviousDatabase)} (kept)");
            s.Add($"ALTER DATABASE {q(NewDatabase)} RENAME TO {q(Target)} (if this fails, {q(PreviousDatabase)} is renamed back)");
            return s;
        }
    }

    public override string ToString() => string.Join("; ", Steps.Select((x, i) => $"{i + 1}) {x}"));
}

/// <summary>
/// Restore-Backup's engine: the archive is quick-checked (<see cref="BackupVerifier"/>), restored into a new database
/// &lt;target&gt;_restore_&lt;stamp&gt;, its exact row counts compared with the manifest (the restore drill's comparison),
/// and only then (after a safety backup of the target by <see cref="DatabaseBackupWriter"/>) swapped in by two renames.
/// Any failure or Ctrl+C before the swap drops the new database and leaves the target untouched. The replaced
/// database is kept, renamed to &lt;target&gt;_pre_restore_&lt;stamp&gt;.
/// </summary>
public static class DatabaseRestorer
{
    public const string ApplicationName = "OpsTools Restore-Backup";
    /// <summary>How long the swap's statements may take (they run without the caller's token: a swap is never left half done).</summary>
    public static TimeSpan SwapTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Reads the manifest and fixes the names. Touches nothing.</summary>
    public static RestorePlan Plan(RestoreRequest request, DateTime? now = null)
    {
        var given = System.IO.Path.GetFullPath(request.Path).TrimEnd('/', '\\');
        var archive = given.EndsWith(".manifest.json", StringComparison.Ordinal) && request.ManifestPath is null ? given[..^".manifest.json".Length] : given;
        var manifestPath = System.IO.Path.GetFullPath(request.ManifestPath ?? BackupManifest.ManifestPathFor(archive));
        var store = request.Store ?? System.IO.Path.GetDirectoryName(System.IO.Path.GetDirectoryName(manifestPath)) ?? "";
        if (!File.Exists(manifestPath))
            throw new OpsToolsException("RestoreBackupRefused", OpsErrorKind.InvalidData,
                $"No manifest at '{manifestPath}': the backup did not finish or the manifest was removed; it cannot be checked, so it is not restored.", archive);
        var manifest = BackupManifest.Read(manifestPath);
        if (manifest.Kind != BackupKind.Database)
            throw new OpsToolsException("RestoreBackupRefused", OpsErrorKind.InvalidArgument,
                $"'{archive}' is a folder backup: use Restore-Directory.", archive);
        var info = manifest.ToInfo(manifestPath, store);
        var target = string.IsNullOrEmpty(request.Target) ? manifest.Name : request.Target;
        if (string.IsNullOrEmpty(target))
            throw new OpsToolsException("RestoreTargetMissing", OpsErrorKind.InvalidArgument, "The manifest names no database: give -Target.", archive);
        var stamp = (now ?? DateTime.UtcNow).ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        if (request.AsDatabase is { } a && (a == target))
            throw new OpsToolsException("RestoreInvalidOptions", OpsErrorKind.InvalidArgument, $"-AsDatabase '{a}' is the target itself: leave -AsDatabase out to replace it.", a);
        CheckName(target);
        if (request.AsDatabase is not null) CheckName(request.AsDatabase);
        var safety = request.SafetyStore ?? store;
        return new RestorePlan(request, archive, manifestPath, store, info.Id, target, Derived(target, "_restore_" + stamp), Derived(target, "_pre_restore_" + stamp),
            request.AsDatabase is null && request.SafetyBackup ? safety : null, manifest.Format == "directory");
    }

    private static void CheckName(string name)
    {
        if (Encoding.UTF8.GetByteCount(name) > 63)
            throw new OpsToolsException("RestoreInvalidOptions", OpsErrorKind.InvalidArgument,
                $"The database name '{name}' is longer than PostgreSQL's 63 bytes.", name);
    }

    /// <summary>&lt;name&gt;&lt;suffix&gt;, the name shortened so the whole stays within 63 bytes (PostgreSQL would cut it silently), '=' replaced.</summary>
    public static string Derived(string name, string suffix)
    {
        var n = name.Replace('=', '_');
        while (n.Length > 0 && Encoding.UTF8.GetByteCount(n + suffix) > 63)
            n = n[..^(char.IsLowSurrogate(n[^1]) && n.Length > 1 ? 2 : 1)];
        return n + suffix;
    }

    /// <summary>The first key of the advisory locks Restore-Backup holds on the server ('OPST'); the second is hashtext(database).</summary>
    public const int LockClass = 0x4F505354;

    /// <summary>
    /// Runs the plan. Throws an <see cref="OpsToolsException"/> (with the result as its target) on any failure; the result only on success.
    /// While it runs, one session holds an advisory lock on the database it restores into (the target, or -AsDatabase): a second
    /// Restore-Backup onto the same database stops at once with RestoreInProgress, naming the session that holds it.
    /// </summary>
    public static async Task<RestoreResult> RestoreAsync(RestorePlan plan, Action<string>? progress, Action<string>? log, CancellationToken cancellationToken)
    {
        var server = plan.Request.Server;
        var into = plan.Request.AsDatabase ?? plan.Target;
        var admin = new[] { plan.Target, plan.NewDatabase, plan.PreviousDatabase, plan.Request.AsDatabase }.Contains(server.Database) ? server.WithDatabase("postgres") : server;
        NpgsqlConnection? held = null;
        try
        {
            held = await admin.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var take = new NpgsqlCommand("SELECT pg_catalog.pg_try_advisory_lock($1, pg_catalog.hashtext($2))", held);
            take.Parameters.Add(new NpgsqlParameter { Value = LockClass });
            take.Parameters.Add(new NpgsqlParameter { Value = into });
            if (!(bool)(await take.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!)
            {
                var holder = await LockHolderAsync(held, into, cancellationToken).ConfigureAwait(false);
                var message = $"Another Restore-Backup onto {PgSql.QuoteIdent(into)} on {server.Host}:{server.Port} is running ({holder}): wait for it to finish, then run this one again if it is still wanted. Nothing was touched.";
                var refused = NewResult(plan, server, into);
                refused.Succeeded = false;
                refused.Message = message;
                throw new OpsToolsException("RestoreInProgress", OpsErrorKind.OperationFailed, message, refused);
            }
            log?.Invoke($"Advisory lock ({LockClass}, hashtext('{into}')) taken: no other Restore-Backup can run onto {PgSql.QuoteIdent(into)} meanwhile.");
            // The same session owns the new database before it exists (Get-DbScratchDatabase: Owned while this runs, Orphaned if this host dies).
            await DbScratch.ClaimAsync(held, plan.NewDatabase, ApplicationName, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException || (e is OpsToolsException { ErrorId: not "RestoreInProgress" }))
        {
            // The server cannot be reached: the restore itself reports that, as it always did.
            await Release(held).ConfigureAwait(false);
            held = null;
        }
        catch
        {
            await Release(held).ConfigureAwait(false);
            throw;
        }
        try
        {
            return await RestoreLockedAsync(plan, held, progress, log, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await Release(held).ConfigureAwait(false);
        }
    }

    private static async Task Release(NpgsqlConnection? connection)
    {
        if (connection is null) return;
        // The lock is the session's: closing the session (not just returning it to the pool) releases it.
        try { await connection.DisposeAsync().ConfigureAwait(false); } catch (NpgsqlException) { }
        NpgsqlConnection.ClearPool(connection);
    }

    /// <summary>Who holds the restore lock on <paramref name="database"/>: session, application, client and since when.</summary>
    private static async Task<string> LockHolderAsync(NpgsqlConnection c, string database, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT a.pid, a.application_name, coalesce(host(a.client_addr), 'local'), a.backend_start, a.usename FROM pg_catalog.pg_locks l " +
            "JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid " +
            "AND l.objid = (pg_catalog.hashtext($2)::bigint & 4294967295)::oid AND l.objsubid = 2 LIMIT 1", c);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)LockClass });
        cmd.Parameters.Add(new NpgsqlParameter { Value = database });
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        if (!await r.ReadAsync(ct).ConfigureAwait(false)) return "it finished a moment ago, or holds the lock from a session that is ending";
        return string.Create(CultureInfo.InvariantCulture,
            $"server session {r.GetInt32(0)}, application '{r.GetString(1)}', from {r.GetString(2)} as {r.GetString(4)}, started {r.GetDateTime(3).ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z");
    }

    /// <summary>
    /// A restore's result, identified by the database restored into: its ConnectionId reaches that database, and its
    /// Instance is host:port/database (an environment entry's name would name the database the backup came from).
    /// </summary>
    private static RestoreResult NewResult(RestorePlan plan, PgTarget server, string into)
    {
        var result = server.WithDatabase(into).Identify(new RestoreResult { BackupId = plan.BackupId, Target = plan.Target, RestoredAs = into });
        result.Instance = $"{server.Host}:{server.Port}/{into}";
        return result;
    }

    private static async Task<RestoreResult> RestoreLockedAsync(RestorePlan plan, NpgsqlConnection? owner, Action<string>? progress, Action<string>? log, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var req = plan.Request;
        var server = req.Server;
        var result = NewResult(plan, server, req.AsDatabase ?? plan.Target);
        OpsToolsException Failed(string id, OpsErrorKind kind, string message, Exception? inner = null)
        {
            result.Succeeded = false;
            result.Message = message;
            result.Duration = clock.Elapsed;
            return new OpsToolsException(id, kind, message, result, inner);
        }

        // 1. The archive must pass the quick checks.
        progress?.Invoke("Checking the archive (SHA-256, pg_restore --list)");
        var check = await BackupVerifier.TestAsync(new BackupTestRequest
        {
            Path = plan.Archive, ManifestPath = plan.ManifestPath, Store = plan.Store, Mode = BackupTestMode.Quick, PgRestorePath = req.PgRestorePath,
        }, null, log, cancellationToken).ConfigureAwait(false);
        var t = check.Result;
        if (t.Status is not (CheckStatus.Healthy or CheckStatus.Warning) || check.Info is null
            || check.Info.Verification is BackupVerification.Failed or BackupVerification.Incomplete)
            throw Failed("RestoreBackupRefused", OpsErrorKind.InvalidData,
                $"The backup {plan.BackupId} is not restored: it did not pass the archive check ({t.Status}): {t.Message} Nothing was touched.");
        var manifest = BackupManifest.Read(plan.ManifestPath);
        PgTool tool;
        try { tool = PgTools.Find("pg_restore", BackupVerifier.MajorOf(manifest.PgDumpVersion) ?? 0, req.PgRestorePath); }
        catch (OpsToolsException e) { throw Failed(e.ErrorId, OpsErrorKind.OperationFailed, e.Message + " Nothing was touched.", e); }

        // The admin connection: never to a database the restore renames.
        var names = new[] { plan.Target, plan.NewDatabase, plan.PreviousDatabase, req.AsDatabase };
        var admin = names.Contains(server.Database) ? server.WithDatabase("postgres") : server;
        bool targetExists;
        var createSent = false; // from here on the new database may exist, and is ours to drop
        try
        {
            await using var c = await admin.OpenAsync(cancellationToken).ConfigureAwait(false);
            using var unpool = new BackupVerifier.Unpool(c);
            targetExists = await ExistsAsync(c, plan.Target, cancellationToken).ConfigureAwait(false);
            foreach (var n in new[] { plan.NewDatabase, req.AsDatabase, targetExists && req.AsDatabase is null ? plan.PreviousDatabase : null })
                if (n is not null && await ExistsAsync(c, n, cancellationToken).ConfigureAwait(false))
                    throw Failed("RestoreDatabaseExists", OpsErrorKind.InvalidArgument,
                        $"The database {PgSql.QuoteIdent(n)} already exists on {server.Host}:{server.Port}: choose another name or drop it. Nothing was touched.");
            if (!targetExists && req.AsDatabase is null) log?.Invoke($"The target {PgSql.QuoteIdent(plan.Target)} does not exist: the restore creates it.");
            progress?.Invoke("Creating " + plan.NewDatabase);
            log?.Invoke($"CREATE DATABASE {PgSql.QuoteIdent(plan.NewDatabase)} TEMPLATE template0");
            await using var create = new NpgsqlCommand($"CREATE DATABASE {PgSql.QuoteIdent(plan.NewDatabase)} TEMPLATE template0", c);
            createSent = true;
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested && createSent)
        {
            // Ctrl+C while CREATE DATABASE ran: it may have been created all the same.
            await BackupVerifier.DropScratchAsync(admin, plan.NewDatabase, log, owner).ConfigureAwait(false);
            throw;
        }
        catch (PostgresException e) when (e.SqlState is "23505" or "42P04")
        {
            // Another restore created the same <target>_restore_<stamp> in the same second (it is that restore's, not ours to drop).
            throw Failed("RestoreInProgress", OpsErrorKind.OperationFailed,
                $"Another Restore-Backup created {PgSql.QuoteIdent(plan.NewDatabase)} on {server.Host}:{server.Port} at the same moment: a second restore of the same backup is running. Wait for it to finish. Nothing was touched.", e);
        }
        catch (NpgsqlException e)
        {
            throw Failed("RestoreFailed", OpsErrorKind.OperationFailed, $"{PgErrors.Statement(admin, "CREATE DATABASE", e).Message} Nothing was touched.", e);
        }
        catch (OpsToolsException e) when (e.Target is not RestoreResult)
        {
            throw Failed(e.ErrorId, e.Kind, e.Message + " Nothing was touched.", e);
        }

        // 2.-5. Restore, verify, rename or safety backup: any failure drops the new database.
        var swapped = false;
        var dropTried = false;
        try
        {
            progress?.Invoke($"Restoring into {plan.NewDatabase}");
            var compared = new BackupTestResult();
            try
            {
                await BackupVerifier.RestoreAndCompareAsync(admin, plan.NewDatabase, manifest, plan.Archive, plan.IsDirectory, tool, compared,
                    p => progress?.Invoke(p.Step), log, cancellationToken, Math.Max(1, req.Jobs)).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                throw Failed("RestoreVerificationFailed", OpsErrorKind.InvalidData,
                    $"The restore into {PgSql.QuoteIdent(plan.NewDatabase)} failed or did not match the manifest, so {PgSql.QuoteIdent(plan.Target)} was not touched: {e.Message}", e);
            }
            cancellationToken.ThrowIfCancellationRequested();
            result.TablesVerified = compared.TablesCompared;

            if (req.AsDatabase is { } asName)
            {
                await RenameAsync(admin, plan.NewDatabase, asName, log).ConfigureAwait(false);
                swapped = true;
                result.Succeeded = true;
                result.Message = $"Restored {plan.BackupId} as {PgSql.QuoteIdent(asName)}: all {result.TablesVerified} table(s) have the manifest's exact row counts; {PgSql.QuoteIdent(plan.Target)} was not touched.";
                result.Duration = clock.Elapsed;
                return result;
            }

            if (targetExists && req.SafetyBackup)
            {
                progress?.Invoke($"Safety backup of {plan.Target} into {plan.SafetyStore}");
                log?.Invoke($"Safety backup of {PgSql.QuoteIdent(plan.Target)} into '{plan.SafetyStore}'.");
                try
                {
                    var safety = await DatabaseBackupWriter.BackupAsync(server.WithDatabase(plan.Target), new BackupStore(plan.SafetyStore!),
                        new DatabaseBackupOptions { Log = log }, null, cancellationToken).ConfigureAwait(false);
                    result.SafetyBackupPath = safety.Path;
                }
                catch (OpsToolsException e) when (!cancellationToken.IsCancellationRequested)
                {
                    throw Failed("RestoreSafetyBackupFailed", OpsErrorKind.OperationFailed,
                        $"The safety backup of {PgSql.QuoteIdent(plan.Target)} failed, so nothing was swapped (use -NoSafetyBackup to go without one): {e.Message}", e);
                }
            }
            cancellationToken.ThrowIfCancellationRequested();

            // 6. The swap: from here on, not cancellable (bounded by SwapTimeout instead).
            progress?.Invoke($"Swapping {plan.NewDatabase} in place of {plan.Target}");
            using var swapTimeout = new CancellationTokenSource(SwapTimeout);
            await using var c = await admin.OpenAsync(swapTimeout.Token).ConfigureAwait(false);
            using var unpool = new BackupVerifier.Unpool(c);
            if (targetExists)
            {
                // Our own process's idle pooled sessions to the target (the safety backup's, earlier commands') go first, cleanly.
                using (var pooled = new NpgsqlConnection(server.WithDatabase(plan.Target).ConnectionStringForTools)) NpgsqlConnection.ClearPool(pooled);
                for (var attempt = 1; ; attempt++)
                {
                    await using (var kill = new NpgsqlCommand("SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()", c))
                    {
                        kill.Parameters.Add(new NpgsqlParameter { Value = plan.Target });
                        var killed = Convert.ToInt64(await kill.ExecuteScalarAsync(swapTimeout.Token).ConfigureAwait(false), CultureInfo.InvariantCulture);
                        if (killed > 0) log?.Invoke($"Terminated {killed} connection(s) to {PgSql.QuoteIdent(plan.Target)}.");
                    }
                    try
                    {
                        await RenameOnAsync(c, plan.Target, plan.PreviousDatabase, log, swapTimeout.Token).ConfigureAwait(false);
                        break;
                    }
                    catch (PostgresException e) when (e.SqlState == "55006" && attempt < 20)
                    {
                        await Task.Delay(250, swapTimeout.Token).ConfigureAwait(false);
                    }
                }
                result.PreviousDatabase = plan.PreviousDatabase;
            }
            try
            {
                await RenameOnAsync(c, plan.NewDatabase, plan.Target, log, swapTimeout.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or OperationCanceledException)
            {
                string back = "";
                if (targetExists)
                {
                    try { await RenameOnAsync(c, plan.PreviousDatabase, plan.Target, log, CancellationToken.None).ConfigureAwait(false); result.PreviousDatabase = null; back = $" {PgSql.QuoteIdent(plan.Target)} was renamed back and is as it was."; }
                    catch (NpgsqlException e2)
                    {
                        // Nothing is named target now: keep both databases (the verified restore is not dropped).
                        swapped = true;
                        back = $" Renaming {PgSql.QuoteIdent(plan.PreviousDatabase)} back to {PgSql.QuoteIdent(plan.Target)} ALSO failed ({e2.Message}): no database is named {PgSql.QuoteIdent(plan.Target)} now. " +
                               $"Both are kept: the previous data in {PgSql.QuoteIdent(plan.PreviousDatabase)}, the verified restore in {PgSql.QuoteIdent(plan.NewDatabase)}; rename one by hand.";
                    }
                }
                throw Failed("RestoreSwapFailed", OpsErrorKind.OperationFailed,
                    $"Renaming {PgSql.QuoteIdent(plan.NewDatabase)} to {PgSql.QuoteIdent(plan.Target)} failed: {e.Message}.{back}", e);
            }
            swapped = true;
            result.Succeeded = true;
            result.Message = $"Restored {plan.BackupId} into {PgSql.QuoteIdent(plan.Target)}: all {result.TablesVerified} table(s) have the manifest's exact row counts." +
                (result.PreviousDatabase is null ? " There was no previous database." : $" The previous database is kept as {PgSql.QuoteIdent(result.PreviousDatabase)} (drop it when no longer needed).") +
                (result.SafetyBackupPath is null ? (targetExists ? " No safety backup was taken (-NoSafetyBackup)." : "") : $" Safety backup: {result.SafetyBackupPath}.");
            result.Duration = clock.Elapsed;
            return result;
        }
        catch (OpsToolsException e) when (!swapped && ReferenceEquals(e.Target, result))
        {
            // Say what became of the new database only once it is known (a server that died cannot drop it).
            dropTried = true;
            var truth = await DropNewAsync().ConfigureAwait(false);
            result.Message = e.Message + truth;
            throw new OpsToolsException(e.ErrorId, e.Kind, result.Message, result, e.InnerException);
        }
        finally
        {
            if (!swapped && !dropTried) await DropNewAsync().ConfigureAwait(false);
        }

        async Task<string> DropNewAsync()
        {
            progress?.Invoke("Dropping " + plan.NewDatabase);
            var (dropped, error) = await BackupVerifier.DropScratchAsync(admin, plan.NewDatabase, log, owner).ConfigureAwait(false);
            var truth = dropped
                ? $" The new database {PgSql.QuoteIdent(plan.NewDatabase)} was dropped."
                : $" WARNING: the new database {PgSql.QuoteIdent(plan.NewDatabase)} could NOT be dropped ({error}): drop it by hand (DROP DATABASE {PgSql.QuoteIdent(plan.NewDatabase)} WITH (FORCE)).";
            if (!dropped) result.Message += truth;
            return truth;
        }
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection c, string name, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pg_catalog.pg_database WHERE datname = $1", c);
        cmd.Parameters.Add(new NpgsqlParameter { Value = name });
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(ct).ConfigureAwait(false), CultureInfo.InvariantCulture) > 0;
    }

    private static async Task RenameOnAsync(NpgsqlConnection c, string from, string to, Action<string>? log, CancellationToken ct)
    {
        var sql = $"ALTER DATABASE {PgSql.QuoteIdent(from)} RENAME TO {PgSql.QuoteIdent(to)}";
        log?.Invoke(sql);
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
    }

    private static async Task RenameAsync(PgTarget admin, string from, string to, Action<string>? log)
    {
        using var timeout = new CancellationTokenSource(SwapTimeout);
        try
        {
            await using var c = await admin.OpenAsync(timeout.Token).ConfigureAwait(false);
            using var unpool = new BackupVerifier.Unpool(c);
            await RenameOnAsync(c, from, to, log, timeout.Token).ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            throw new OpsToolsException("RestoreFailed", OpsErrorKind.OperationFailed, PgErrors.Statement(admin, "ALTER DATABASE RENAME", e).Message, to, e);
        }
    }
}
