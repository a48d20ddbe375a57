using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Database;

/// <summary>Get-DbSetting and Set-DbSetting against the throwaway cluster; every change is reset afterwards.</summary>
[Collection("PostgreSQL")]
public sealed class DbSettingTests(PgClusterFixture fixture)
{
    private PgCluster Pg => fixture.Cluster;

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    private static string ErrorId(ErrorRecord e) => e.FullyQualifiedErrorId.Split(',')[0];

    private void ResetSystem(params string[] names)
    {
        foreach (var n in names) Pg.Exec($"ALTER SYSTEM RESET {n}");
        Pg.Exec("SELECT pg_reload_conf()");
    }

    [Fact]
    public void Get_reads_pg_settings_with_units_context_and_wildcards()
    {
        var db = Pg.CreateDatabase();
        try
        {
            using var s = new ModuleSession();
            var max = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbSetting @Pg max_connections").Single();
            Assert.Equal("OpsTools.Database.DbSettingInfo", max.BaseObject.GetType().FullName);
            Assert.Equal(("max_connections", "60", "60", "postmaster", true), ((string)P(max, "Name")!, (string)P(max, "Setting")!, (string)P(max, "Value")!, (string)P(max, "Context")!, (bool)P(max, "RestartRequired")!));
            Assert.Equal("configuration file", P(max, "Source"));
            Assert.StartsWith("pg-", (string)P(max, "ConnectionId")!);

            var buffers = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbSetting @Pg shared_buffers").Single();
            Assert.Equal("8kB", P(buffers, "Unit"));
            Assert.Equal(Pg.Scalar<string>("SHOW shared_buffers"), P(buffers, "Value"));

            var logs = s.Invoke(Pg.PowerShellSetup(db) + "; Get-DbSetting @Pg log_*");
            Assert.True(logs.Count > 10);
            Assert.All(logs, o => Assert.StartsWith("log_", (string)P(o, "Name")!));

            var unknown = s.Run(Pg.PowerShellSetup(db) + "; Get-DbSetting @Pg max_conections, work_mem");
            Assert.Equal("work_mem", P(Assert.Single(unknown.Output), "Name"));
            var e = Assert.Single(unknown.Errors);
            Assert.Equal("DbSettingNotFound", ErrorId(e));
            Assert.Contains("Did you mean: max_connections", e.Exception.Message);
        }
        finally { Pg.DropDatabase(db); }
    }

    [Fact]
    public void Set_with_Reload_applies_log_min_duration_statement_and_Reset_restores_it()
    {
        var db = Pg.CreateDatabase();
        var before = Pg.Scalar<string>("SHOW log_min_duration_statement");
        try
        {
            using var s = new ModuleSession();
            var whatIf = s.Run(Pg.PowerShellSetup(db) + "; Set-DbSetting @Pg log_min_duration_statement 250 -Reload -WhatIf");
            Assert.Empty(whatIf.Errors);
            Assert.Empty(whatIf.Output);
            Assert.Equal("default", Pg.Scalar<string>("SELECT source FROM pg_settings WHERE name = 'log_min_duration_statement'"));

            var r = s.Invoke(Pg.PowerShellSetup(db) + "; Set-DbSetting @Pg log_min_duration_statement 250 -Reload").Single();
            Assert.Equal("OpsTools.Database.DbSettingChangeResult", r.BaseObject.GetType().FullName);
            Assert.Equal(("Set", "250", before, "250ms", true, false, false, true),
                ((string)P(r, "Action")!, (string)P(r, "RequestedValue")!, (string)P(r, "OldValue")!, (string)P(r, "Value")!,
                 (bool)P(r, "Applied")!, (bool)P(r, "ReloadRequired")!, (bool)P(r, "RestartRequired")!, (bool)P(r, "Reloaded")!));
            Assert.Equal("250ms", Pg.Scalar<string>("SHOW log_min_duration_statement")); // a new session sees it

            var noReload = s.Invoke(Pg.PowerShellSetup(db) + "; Set-DbSetting @Pg log_min_duration_statement 1s").Single();
            Assert.Equal((true, false, "250ms"), ((bool)P(noReload, "ReloadRequired")!, (bool)P(noReload, "Applied")!, (string)P(noReload, "Value")!));
            Assert.Contains("reload to apply", (string)P(noReload, "Message")!);

            var reset = s.Invoke(Pg.PowerShellSetup(db) + "; Set-DbSetting @Pg -Name log_min_duration_statement -Reset -Reload").Single();
            Assert.Equal(("Reset", before), ((string)P(reset, "Action")!, (string)P(reset, "Value")!));
            Assert.Equal("default", Pg.Scalar<string>("SELECT source FROM pg_settings WHERE name = 'log_min_duration_statement'"));
        }
        finally { ResetSystem("log_min_duration_statement"); Pg.DropDatabase(db); }
    }

    [Fact]
    public void Set_shared_buffers_says_a_restart_is_required()
    {
        var db = Pg.CreateDatabase();
        try
        {
            using var s = new ModuleSession();
            var current = Pg.Scalar<string>("SHOW shared_buffers");
            var r = s.Invoke(Pg.PowerShellSetup(db) + $"; Get-DbSetting @Pg shared_buffers | Set-DbSetting -Value '{current}'").Single();
            Assert.Equal((true, false, false, "postmaster"), ((bool)P(r, "RestartRequired")!, (bool)P(r, "ReloadRequired")!, (bool)P(r, "Applied")!, (string)P(r, "Context")!));
            Assert.Contains("restart", (string)P(r, "Message")!);
        }
        finally { ResetSystem("shared_buffers"); Pg.DropDatabase(db); }
    }

    [Fact]
    public void Unknown_names_injection_bad_values_and_missing_privilege_are_clear_errors()
    {
        var db = Pg.CreateDatabase();
        var role = "lowpriv_" + Guid.NewGuid().ToString("N")[..6];
        try
        {
            Pg.Exec("CREATE TABLE keep(id int)", db);
            using var s = new ModuleSession();
            var unknown = s.Run(Pg.PowerShellSetup(db) + "; Set-DbSetting @Pg log_min_duraton_statement 100");
            var e = Assert.Single(unknown.Errors);
            Assert.Equal("DbSettingNotFound", ErrorId(e));
            Assert.Contains("log_min_duration_statement", e.Exception.Message);

            var injection = s.Run(Pg.PowerShellSetup(db) + "; Set-DbSetting @Pg 'work_mem = 1; DROP TABLE keep; --' 64MB");
            Assert.Equal("DbSettingNameInvalid", ErrorId(Assert.Single(injection.Errors)));
            var quoted = s.Run(Pg.PowerShellSetup(db) + "; Set-DbSetting @Pg 'work_mem\" TO 1; DROP TABLE keep; --' 64MB");
            Assert.Equal("DbSettingNameInvalid", ErrorId(Assert.Single(quoted.Errors)));

            // A value is a literal, whatever it contains.
            var value = s.Invoke(Pg.PowerShellSetup(db) + "; Set-DbSetting @Pg log_line_prefix \"x'; DROP TABLE keep; --\\\" -Reload").Single();
            Assert.Equal("x'; DROP TABLE keep; --\\", P(value, "Value"));
            Assert.Equal(1L, Pg.Scalar<long>("SELECT count(*) FROM pg_class WHERE relname = 'keep'", db));

            var invalid = s.Run(Pg.PowerShellSetup(db) + "; Set-DbSetting @Pg work_mem lots");
            var i = Assert.Single(invalid.Errors);
            Assert.Equal("DbSettingValueInvalid", ErrorId(i));
            Assert.Contains("work_mem", i.Exception.Message);

            var readOnly = s.Run(Pg.PowerShellSetup(db) + "; Set-DbSetting @Pg block_size 4096");
            Assert.Equal("DbSettingReadOnly", ErrorId(Assert.Single(readOnly.Errors)));

            Pg.Exec($"CREATE ROLE {role} LOGIN PASSWORD 'lowpw-123'");
            var denied = s.Run($"$ss = [System.Security.SecureString]::new(); foreach ($ch in 'lowpw-123'.ToCharArray()) {{ $ss.AppendChar($ch) }}; " +
                               $"Set-DbSetting work_mem 64MB -Server {Pg.Host} -Port {Pg.Port} -Database {db} -Credential ([pscredential]::new('{role}', $ss))");
            var d = Assert.Single(denied.Errors);
            Assert.Equal("DbPermissionDenied", ErrorId(d));
            Assert.Equal(ErrorCategory.PermissionDenied, d.CategoryInfo.Category);
            Assert.Contains("superuser", d.Exception.Message);
        }
        finally
        {
            ResetSystem("log_line_prefix", "work_mem");
            Pg.DropDatabase(db);
            try { Pg.Exec($"DROP ROLE IF EXISTS {role}"); } catch (Npgsql.NpgsqlException) { }
        }
    }
}
