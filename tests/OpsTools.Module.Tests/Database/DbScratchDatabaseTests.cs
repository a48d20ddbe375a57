using System.Management.Automation;
using Npgsql;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Database;

/// <summary>
/// Get-DbScratchDatabase and Remove-DbScratchDatabase against the throwaway cluster: scratch databases made the way OpsTools makes
/// them, one owned by a live session holding the scratch lock (as a running restore does), one with a session connected, one orphan.
/// </summary>
[Collection("PostgreSQL")]
public sealed class DbScratchDatabaseTests(PgClusterFixture fixture) : IDisposable
{
    private const int ScratchLockClass = 0x4F505343;
    private PgCluster Pg => fixture.Cluster;
    private readonly List<string> _databases = new();
    private readonly List<NpgsqlConnection> _sessions = new();

    public void Dispose()
    {
        foreach (var c in _sessions) { c.Dispose(); NpgsqlConnection.ClearPool(c); }
        foreach (var db in _databases) Pg.DropDatabase(db);
    }

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static string Q(string s) => "'" + s.Replace("'", "''") + "'";

    private string Create(string name, bool withTable = false)
    {
        Pg.Exec($"CREATE DATABASE \"{name}\"");
        _databases.Add(name);
        if (withTable) Pg.Exec("CREATE TABLE t AS SELECT g FROM generate_series(1, 50000) g", name);
        return name;
    }

    private bool Exists(string name) => Pg.Scalar<long>($"SELECT count(*) FROM pg_database WHERE datname = '{name}'") == 1;

    /// <summary>What a running Restore-Backup holds: a session named after its process, with the scratch lock on the name.</summary>
    private NpgsqlConnection Own(string name, int pid)
    {
        var b = new NpgsqlConnectionStringBuilder(Pg.ConnectionString("postgres")) { ApplicationName = $"OpsTools Restore-Backup (pid {pid} on testhost)", Pooling = false };
        var c = new NpgsqlConnection(b.ConnectionString);
        c.Open();
        _sessions.Add(c);
        using var cmd = new NpgsqlCommand($"SELECT pg_advisory_lock({ScratchLockClass}, hashtext('{name}'))", c);
        cmd.ExecuteNonQuery();
        return c;
    }

    private NpgsqlConnection Connect(string db)
    {
        var b = new NpgsqlConnectionStringBuilder(Pg.ConnectionString(db)) { Pooling = false };
        var c = new NpgsqlConnection(b.ConnectionString);
        c.Open();
        _sessions.Add(c);
        return c;
    }

    [Fact]
    public void Orphans_are_listed_with_size_and_age_and_only_they_are_dropped_never_one_a_live_restore_owns_or_one_in_use()
    {
        var db = Pg.CreateDatabase("scr");
        _databases.Add(db);
        var orphan = Create(db + "_restore_20261201T000000Z", withTable: true);
        var owned = Create(db + "_restore_20261202T000000Z");
        var drill = Create($"opstools_drill_{db}_0123abcd");
        var previous = Create(db + "_pre_restore_20261201T000000Z"); // kept on purpose by Restore-Backup: not scratch
        var owner = Own(owned, 4242);
        Connect(drill);

        using var s = new ModuleSession();
        var setup = Pg.PowerShellSetup("postgres") + "; ";
        var list = s.Run(setup + $"Get-DbScratchDatabase @Pg -Name '{db}*', 'opstools_drill_{db}_*'");
        Assert.Null(list.Terminating);
        Assert.Empty(list.Errors);
        var byName = list.Output.ToDictionary(o => (string)P(o, "Name")!);
        Assert.Equal(new[] { drill, orphan, owned }.OrderBy(x => x, StringComparer.Ordinal), byName.Keys.OrderBy(x => x, StringComparer.Ordinal));
        Assert.DoesNotContain(previous, byName.Keys);

        var o = byName[orphan];
        Assert.Equal("OpsTools.Database.DbScratchDatabase", o.BaseObject.GetType().FullName);
        Assert.Equal("Orphaned", P(o, "State")!.ToString());
        Assert.Equal("Restore", P(o, "Kind"));
        Assert.Equal(db, P(o, "For"));
        Assert.True((long)P(o, "SizeBytes")! > 1_000_000, "the orphan's 50,000 rows count in its size");
        Assert.Equal(new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc), (DateTime)P(o, "Created")!);
        Assert.True(((TimeSpan)P(o, "Age")!).TotalDays > 1);
        Assert.Null(P(o, "OwnerProcessId"));
        Assert.Contains("Remove-DbScratchDatabase", (string)P(o, "Message")!);

        var w = byName[owned];
        Assert.Equal("Owned", P(w, "State")!.ToString());
        Assert.Equal(4242, P(w, "OwnerProcessId"));
        Assert.Equal("testhost", P(w, "OwnerHost"));
        Assert.Equal(owner.ProcessID, P(w, "OwnerSession"));

        var d = byName[drill];
        Assert.Equal("Drill", P(d, "Kind"));
        Assert.Equal("InUse", P(d, "State")!.ToString());
        Assert.Equal(1, P(d, "Sessions"));
        Assert.Null(P(d, "Age"));

        // The table view keeps the reason at 80 columns.
        var table = string.Join("\n", s.Invoke(setup + $"Get-DbScratchDatabase @Pg -Name {Q(orphan)} | Out-String -Width 80").Select(x => x.ToString()));
        Assert.Contains("Orphaned", table);
        Assert.Contains(orphan[..30], table); // the name wraps in its column
        Assert.Contains("Orphan: its", table); // the reason, wrapped in the last column

        // -WhatIf lists and drops nothing.
        s.Host.ClearText();
        var whatIf = s.Run(setup + $"Remove-DbScratchDatabase @Pg -Name '{db}*', 'opstools_drill_{db}_*' -WhatIf");
        Assert.Empty(whatIf.Errors);
        Assert.Empty(whatIf.Output);
        Assert.Contains(orphan, s.Host.Text);
        Assert.DoesNotContain(owned, s.Host.Text);
        Assert.True(Exists(orphan));

        // Piped from Get (the same filters), with -Force: the orphan only.
        var removed = s.Run(setup + $"Get-DbScratchDatabase @Pg -Name '{db}*', 'opstools_drill_{db}_*' | Remove-DbScratchDatabase -Force");
        Assert.Null(removed.Terminating);
        var gone = Assert.Single(removed.Output);
        Assert.Equal(orphan, P(gone, "Name"));
        Assert.Equal("Dropped", P(gone, "State")!.ToString());
        Assert.Equal(true, P(gone, "Dropped"));
        Assert.False(Exists(orphan));
        Assert.True(Exists(owned));
        Assert.True(Exists(drill));
        Assert.True(Exists(previous));
        // Piped objects name the databases: the two that stay say why.
        Assert.Equal(2, removed.Errors.Count);
        Assert.All(removed.Errors, e => Assert.StartsWith("DbScratchNotOrphan", e.FullyQualifiedErrorId));
        Assert.Contains(removed.Errors, e => e.Exception.Message.Contains("process 4242"));

        // The owner goes away (its host was killed): the server releases the lock, and the database is an orphan now.
        owner.Dispose();
        var after = s.Run(setup + $"Get-DbScratchDatabase @Pg -Name {Q(owned)}");
        Assert.Equal("Orphaned", P(Assert.Single(after.Output), "State")!.ToString());
        var dropped = s.Run(setup + $"Remove-DbScratchDatabase @Pg {Q(owned)} -Force");
        Assert.Empty(dropped.Errors);
        Assert.False(Exists(owned));
    }

    [Fact]
    public void A_session_that_connects_to_an_orphan_makes_it_in_use_and_Remove_leaves_it()
    {
        var db = Pg.CreateDatabase("scr");
        _databases.Add(db);
        var name = Create(db + "_restore_20261203T101010Z");
        var c = Connect(name);
        using var s = new ModuleSession();
        var setup = Pg.PowerShellSetup("postgres") + "; ";
        var r = s.Run(setup + $"Remove-DbScratchDatabase @Pg -Name '{db}_restore_*' -Force -Verbose");
        Assert.Empty(r.Errors); // picked by a wildcard: left alone, said in -Verbose
        Assert.Empty(r.Output);
        Assert.Contains(r.Verbose, l => l.Contains(name) && l.Contains("left alone"));
        Assert.True(Exists(name));
        c.Dispose();
        r = s.Run(setup + $"Remove-DbScratchDatabase @Pg -Name '{db}_restore_*' -Force");
        Assert.Empty(r.Errors);
        Assert.Single(r.Output);
        Assert.False(Exists(name));
    }
}
