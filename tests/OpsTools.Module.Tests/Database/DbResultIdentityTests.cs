using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Database;

/// <summary>
/// Every database result names the instance, server, port and database it is about, and its ConnectionId brings the
/// next command back to that database with the same credentials: the identity block is filled in one place for all
/// of them, so no command's results can drift from the others'.
/// </summary>
[Collection("PostgreSQL")]
public sealed class DbResultIdentityTests(PgClusterFixture fixture) : IDisposable
{
    private readonly PgCluster _pg = fixture.Cluster;
    private readonly ModuleSession _s = new();
    private readonly string _db = fixture.Cluster.CreateDatabase("ident");

    public void Dispose()
    {
        _s.Dispose();
        _pg.DropDatabase(_db);
    }

    private static string S(PSObject o, string name) => RunResult.Prop(o, name)?.ToString() ?? "";

    [Fact]
    public void Results_of_every_database_command_name_their_database_and_lead_the_next_command_back_to_it()
    {
        _pg.Exec("CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT g FROM generate_series(1, 100) g; DELETE FROM orders WHERE id <= 10;", _db);
        var results = _s.Invoke(_pg.PowerShellSetup(_db) + "; " +
            "Get-DbHealth @Pg -Check Reachable; " +
            "Get-DbConnection @Pg; " +
            "Get-DbSetting @Pg -Name work_mem; " +
            "Get-DbSize @Pg; " +
            "Get-DbTableSize @Pg; " +
            "Get-DbVacuumStatus @Pg -MinDeadRatio 0 -MinDeadTuples 0 -Table orders");
        var types = results.Select(r => r.BaseObject.GetType().Name).Distinct().ToList();
        Assert.Equal(new[] { "DbHealthResult", "DbConnectionInfo", "DbSettingInfo", "DbSize", "DbTableSize", "DbVacuumStatusResult" }, types);

        var instance = S(results[0], "Instance");
        Assert.Contains(_db, instance);
        foreach (var r in results)
        {
            var type = r.BaseObject.GetType().Name;
            Assert.True(instance == S(r, "Instance"), $"{type}: Instance '{S(r, "Instance")}'");
            Assert.Equal(_pg.Host, S(r, "Server"));
            Assert.Equal(_pg.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), S(r, "Port"));
            Assert.StartsWith("pg-", S(r, "ConnectionId"));
            // A database size row is about its own database, a session about the one it is connected to; the rest about the target's.
            if (type is not ("DbSize" or "DbConnectionInfo")) Assert.Equal(_db, S(r, "Database"));
        }
        Assert.Contains(results, r => r.BaseObject.GetType().Name == "DbSize" && S(r, "Database") == "postgres");

        // The next command, given nothing but the piped object (no credential), reaches the object's own database.
        foreach (var r in results.Where(r => S(r, "Database").Length > 0))
        {
            _s.Set("one", r);
            var next = _s.Invoke("$one | Get-DbHealth -Check Reachable").Single();
            Assert.True(S(next, "Status") == "Healthy", $"{r.BaseObject.GetType().Name} for {S(r, "Database")}: {S(next, "Message")}");
            Assert.Equal(S(r, "Database"), S(next, "Database"));
        }
    }
}
