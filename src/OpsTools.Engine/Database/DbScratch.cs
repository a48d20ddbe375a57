using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using OpsTools.Database;

namespace OpsTools.Engine.Database;

/// <summary>
/// The scratch databases OpsTools creates (Restore-Backup's &lt;target&gt;_restore_&lt;stamp&gt;, the restore drill's
/// opstools_drill_&lt;name&gt;_&lt;random&gt;) and who owns them. Ownership is a fact on the server, not a guess from names
/// or ages: the creating OpsTools takes a session advisory lock (<see cref="LockClass"/>, hashtext(name)) BEFORE its
/// CREATE DATABASE and holds it, on a session named "&lt;application&gt; (pid N on host)", until the database is dropped
/// or renamed. The server releases the lock when that session ends, so a host killed with -9, or a server restart,
/// leaves the database without an owner: an orphan. Get-DbScratchDatabase lists them; Remove-DbScratchDatabase
/// drops orphans only, after taking the same lock itself (so no owner can appear meanwhile).
/// </summary>
public static class DbScratch
{
    /// <summary>The first key of the scratch locks ('OPSC'); the second is hashtext(name).</summary>
    public const int LockClass = 0x4F505343;

    private static readonly Regex RestoreName = new(@"^(?<for>.*)_restore_(?<stamp>\d{8}T\d{6}Z)$", RegexOptions.CultureInvariant);
    private static readonly Regex PreviousName = new(@"_pre_restore_\d{8}T\d{6}Z$", RegexOptions.CultureInvariant);
    private static readonly Regex DrillName = new(@"^opstools_drill_(?<for>.*)_[0-9a-f]{8}$", RegexOptions.CultureInvariant);
    private static readonly Regex OwnerPid = new(@"\(pid (?<pid>\d+)(?: on (?<host>[^)]*))?\)$", RegexOptions.CultureInvariant);

    /// <summary>The server-side filter of candidate names (the exact rules are <see cref="Classify"/>).</summary>
    private const string NamePattern = "(_restore_[0-9]{8}T[0-9]{6}Z|^opstools_drill_.*_[0-9a-f]{8})$";

    /// <summary>
    /// Restore or Drill (and what it was for, and when it was created when the name says) for a scratch name; null for
    /// any other database. &lt;target&gt;_pre_restore_&lt;stamp&gt; (the replaced database Restore-Backup keeps on purpose) is not scratch.
    /// </summary>
    public static (string Kind, string For, DateTime? Created)? Classify(string name)
    {
        if (PreviousName.IsMatch(name)) return null;
        var m = RestoreName.Match(name);
        if (m.Success)
            return ("Restore", m.Groups["for"].Value,
                DateTime.TryParseExact(m.Groups["stamp"].Value, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture,
                    DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) ? t : null);
        m = DrillName.Match(name);
        return m.Success ? ("Drill", m.Groups["for"].Value, null) : null;
    }

    /// <summary>The application_name of the session that owns scratch databases of this process: "&lt;application&gt; (pid N on host)".</summary>
    public static string OwnerApplication(string application)
    {
        var name = $"{application} (pid {Environment.ProcessId} on {Environment.MachineName})";
        return name.Length <= 63 ? name : $"{application} (pid {Environment.ProcessId})";
    }

    /// <summary>
    /// Makes the open session <paramref name="c"/> the owner of <paramref name="scratch"/> (call it before CREATE DATABASE and keep the
    /// session open until the database is dropped or renamed): names the session and takes the scratch lock. Throws when another
    /// session already owns that name.
    /// </summary>
    public static async Task ClaimAsync(NpgsqlConnection c, string scratch, string application, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(
            "SELECT pg_catalog.set_config('application_name', $1, false), pg_catalog.pg_try_advisory_lock($2, pg_catalog.hashtext($3))", c);
        cmd.Parameters.Add(new NpgsqlParameter { Value = OwnerApplication(application) });
        cmd.Parameters.Add(new NpgsqlParameter { Value = LockClass });
        cmd.Parameters.Add(new NpgsqlParameter { Value = scratch });
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        await r.ReadAsync(ct).ConfigureAwait(false);
        if (!r.GetBoolean(1))
            throw new OpsToolsException("ScratchDatabaseOwned", OpsErrorKind.OperationFailed,
                $"Another session already owns the scratch database name {PgSql.QuoteIdent(scratch)}.", scratch);
    }

    /// <summary>Every scratch database on the server <paramref name="c"/> is connected to, with its size, age, sessions and owner.</summary>
    internal static async Task<List<DbScratchDatabase>> ListAsync(NpgsqlConnection c, PgTarget target, CancellationToken ct)
    {
        const string sql =
            "SELECT d.datname, CASE WHEN pg_catalog.has_database_privilege(d.oid, 'CONNECT') THEN pg_catalog.pg_database_size(d.oid) END, " +
            "(SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.datid = d.oid)::int, o.pid, o.application_name, pg_catalog.now() " +
            "FROM pg_catalog.pg_database d LEFT JOIN LATERAL (SELECT a.pid, a.application_name FROM pg_catalog.pg_locks l " +
            "JOIN pg_catalog.pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid " +
            "AND l.objid = (pg_catalog.hashtext(d.datname)::bigint & 4294967295)::oid AND l.objsubid = 2 LIMIT 1) o ON true " +
            "WHERE d.datname ~ $2 ORDER BY d.datname";
        await using var cmd = new NpgsqlCommand(sql, c);
        cmd.Parameters.Add(new NpgsqlParameter { Value = (long)LockClass });
        cmd.Parameters.Add(new NpgsqlParameter { Value = NamePattern });
        var list = new List<DbScratchDatabase>();
        await using var r = await cmd.ExecuteReaderAsync(ct).ConfigureAwait(false);
        while (await r.ReadAsync(ct).ConfigureAwait(false))
        {
            var name = r.GetString(0);
            if (Classify(name) is not { } kind) continue;
            var now = r.GetDateTime(5).ToUniversalTime();
            var s = target.Identify(new DbScratchDatabase
            {
                Name = name, Kind = kind.Kind, For = kind.For, Created = kind.Created,
                SizeBytes = r.IsDBNull(1) ? null : r.GetInt64(1),
                Sessions = r.GetInt32(2),
                OwnerSession = r.IsDBNull(3) ? null : r.GetInt32(3),
                OwnerApplication = r.IsDBNull(4) ? null : r.GetString(4),
            });
            if (s.Created is { } created) s.Age = now - created < TimeSpan.Zero ? TimeSpan.Zero : now - created;
            if (s.OwnerApplication is { } app && OwnerPid.Match(app) is { Success: true } m)
            {
                s.OwnerProcessId = int.Parse(m.Groups["pid"].Value, CultureInfo.InvariantCulture);
                if (m.Groups["host"].Success) s.OwnerHost = m.Groups["host"].Value;
            }
            Describe(s);
            list.Add(s);
        }
        return list;
    }

    private static void Describe(DbScratchDatabase s)
    {
        if (s.OwnerSession is { } session)
        {
            s.State = DbScratchState.Owned;
            var owner = s.OwnerProcessId is { } pid ? $"OpsTools process {pid}{(s.OwnerHost is { Length: > 0 } h ? " on " + h : "")}" : $"'{s.OwnerApplication}'";
            s.Message = $"Owned by {owner} (server session {session}), running now: it drops or renames it itself.";
        }
        else if (s.Sessions > 0)
        {
            s.State = DbScratchState.InUse;
            s.Message = $"No owner, but {s.Sessions} session(s) connected (Get-DbConnection -Database {s.Name}): left alone while they are.";
        }
        else
        {
            s.State = DbScratchState.Orphaned;
            s.Message = $"Orphan: its OpsTools is gone (host killed, or the server restarted mid-{(s.Kind == "Restore" ? "restore" : "drill")}) and nobody is connected. Drop it with Remove-DbScratchDatabase.";
        }
    }

    /// <summary>
    /// Drops <paramref name="s"/> if it is still an orphan: takes its scratch lock first (so it has no owner and none can appear),
    /// checks nobody is connected, then DROP DATABASE without FORCE (a session that connects meanwhile makes it fail instead of
    /// being cut off), and confirms it is gone. Sets State, Dropped and Message; throws only for a lost connection.
    /// </summary>
    internal static async Task DropOrphanAsync(NpgsqlConnection c, DbScratchDatabase s, CancellationToken ct)
    {
        await using (var take = new NpgsqlCommand("SELECT pg_catalog.pg_try_advisory_lock($1, pg_catalog.hashtext($2))", c))
        {
            take.Parameters.Add(new NpgsqlParameter { Value = LockClass });
            take.Parameters.Add(new NpgsqlParameter { Value = s.Name });
            if (!(bool)(await take.ExecuteScalarAsync(ct).ConfigureAwait(false))!)
            {
                s.State = DbScratchState.Owned;
                s.Message = $"Not dropped: a running OpsTools took ownership of {PgSql.QuoteIdent(s.Name)} since it was listed.";
                return;
            }
        }
        try
        {
            await using (var count = new NpgsqlCommand("SELECT count(*)::int FROM pg_catalog.pg_stat_activity WHERE datname = $1", c))
            {
                count.Parameters.Add(new NpgsqlParameter { Value = s.Name });
                var sessions = (int)(await count.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
                if (sessions > 0)
                {
                    s.Sessions = sessions;
                    s.State = DbScratchState.InUse;
                    s.Message = $"Not dropped: {sessions} session(s) connected to {PgSql.QuoteIdent(s.Name)} since it was listed.";
                    return;
                }
            }
            try
            {
                await using var drop = new NpgsqlCommand($"{PgSql.OwnStatementMarker}DROP DATABASE IF EXISTS {PgSql.QuoteIdent(s.Name)}", c);
                await drop.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == "55006")
            {
                s.State = DbScratchState.InUse;
                s.Message = $"Not dropped: a session connected to {PgSql.QuoteIdent(s.Name)} meanwhile ({e.MessageText}).";
                return;
            }
            catch (PostgresException e) when (e.SqlState is "42501")
            {
                s.Message = $"Not dropped: {e.MessageText} (only its owner or a superuser may drop it).";
                throw new OpsToolsException("DbScratchDropDenied", OpsErrorKind.PermissionDenied, s.Message, s, e);
            }
            await using var check = new NpgsqlCommand("SELECT count(*)::int FROM pg_catalog.pg_database WHERE datname = $1", c);
            check.Parameters.Add(new NpgsqlParameter { Value = s.Name });
            if ((int)(await check.ExecuteScalarAsync(ct).ConfigureAwait(false))! == 0)
            {
                s.State = DbScratchState.Dropped;
                s.Dropped = true;
                s.Message = $"Dropped the orphaned {PgSql.QuoteIdent(s.Name)}{(s.SizeBytes is { } b ? $" ({ByteSize.Format(b)} freed)" : "")}.";
            }
            else s.Message = $"DROP DATABASE {PgSql.QuoteIdent(s.Name)} ran, but it is still listed in pg_database.";
        }
        finally
        {
            await using var release = new NpgsqlCommand("SELECT pg_catalog.pg_advisory_unlock($1, pg_catalog.hashtext($2))", c);
            release.Parameters.Add(new NpgsqlParameter { Value = LockClass });
            release.Parameters.Add(new NpgsqlParameter { Value = s.Name });
            try { await release.ExecuteScalarAsync(CancellationToken.None).ConfigureAwait(false); } catch (NpgsqlException) { }
        }
    }
}

/// <summary>
/// One session on a server for Get-/Remove-DbScratchDatabase (never inside a scratch database itself: then the maintenance database
/// postgres). Database errors come out as <see cref="OpsToolsException"/>; disposing closes the session for good (a lock taken by a
/// drop never lingers in a pooled session).
/// </summary>
public sealed class DbScratchSession : IAsyncDisposable
{
    private readonly NpgsqlConnection _c;
    private readonly PgTarget _target;
    private DbScratchSession(NpgsqlConnection c, PgTarget target) => (_c, _target) = (c, target);

    public static async Task<DbScratchSession> OpenAsync(PgTarget target, CancellationToken ct)
    {
        var admin = DbScratch.Classify(target.Database) is null ? target : target.WithDatabase("postgres");
        return new DbScratchSession(await admin.OpenAsync(ct).ConfigureAwait(false), target);
    }

    /// <summary>Every scratch database of the server (see <see cref="DbScratch"/>).</summary>
    public async Task<List<DbScratchDatabase>> ListAsync(CancellationToken ct)
    {
        try { return await DbScratch.ListAsync(_c, _target, ct).ConfigureAwait(false); }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested) { throw PgErrors.Statement(_target, "Listing scratch databases", e); }
    }

    /// <summary>Drops <paramref name="s"/> if it is still an orphan (see <see cref="DbScratch.DropOrphanAsync"/>).</summary>
    public async Task DropOrphanAsync(DbScratchDatabase s, CancellationToken ct)
    {
        try { await DbScratch.DropOrphanAsync(_c, s, ct).ConfigureAwait(false); }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested) { throw PgErrors.Statement(_target, "DROP DATABASE", e); }
    }

    public async ValueTask DisposeAsync()
    {
        try { await _c.DisposeAsync().ConfigureAwait(false); } catch (NpgsqlException) { }
        NpgsqlConnection.ClearPool(_c);
    }
}
