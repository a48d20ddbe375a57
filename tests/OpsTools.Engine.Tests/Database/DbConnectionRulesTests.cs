using OpsTools.Database;
using OpsTools.Engine.Database;

namespace OpsTools.Engine.Tests.Database;

public sealed class DbConnectionRulesTests
{
    [Theory]
    [InlineData(50, CheckStatus.Healthy)]
    [InlineData(75, CheckStatus.Healthy)]
    [InlineData(75.1, CheckStatus.Warning)]
    [InlineData(90, CheckStatus.Warning)]
    [InlineData(90.5, CheckStatus.Critical)]
    public void Connection_percent_warns_above_75_and_is_critical_above_90(double percent, CheckStatus expected) =>
        Assert.Equal(expected, DbHealth.ThresholdStatus(percent, 75, 90));

    [Theory]
    [InlineData(200_000_000L, CheckStatus.Healthy)]
    [InlineData(1_300_000_001L, CheckStatus.Warning)]
    [InlineData(1_400_000_001L, CheckStatus.Critical)]
    public void Wraparound_uses_check_postgres_defaults(long age, CheckStatus expected) =>
        Assert.Equal(expected, DbHealth.ThresholdStatus(age, new ThresholdsDefaults().Warn, new ThresholdsDefaults().Crit));

    private sealed class ThresholdsDefaults
    {
        private readonly OpsTools.Configuration.ThresholdSet _t = new();
        public double Warn => _t.DbWraparoundWarning;
        public double Crit => _t.DbWraparoundCritical;
    }

    [Fact]
    public void Replica_status_follows_state_and_replay_lag()
    {
        var o = new DbHealthOptions();
        Assert.Equal(CheckStatus.Healthy, DbHealth.ReplicaStatus("r1", "streaming", TimeSpan.FromSeconds(2), 1024, o).Item1);
        Assert.Equal(CheckStatus.Healthy, DbHealth.ReplicaStatus("r1", "streaming", null, 0, o).Item1);
        Assert.Equal(CheckStatus.Warning, DbHealth.ReplicaStatus("r1", "catchup", null, null, o).Item1);
        Assert.Equal(CheckStatus.Warning, DbHealth.ReplicaStatus("r1", "streaming", TimeSpan.FromSeconds(61), null, o).Item1);
        var (status, message) = DbHealth.ReplicaStatus("r1 (10.0.0.2)", "streaming", TimeSpan.FromMinutes(6), 3L << 20, o);
        Assert.Equal(CheckStatus.Critical, status);
        Assert.Contains("3 MB behind", message);
        Assert.Equal(CheckStatus.Warning, DbHealth.StandbyStatus(null, TimeSpan.Zero, 0, o).Item1);
        Assert.Equal(CheckStatus.Healthy, DbHealth.StandbyStatus("streaming", TimeSpan.Zero, 0, o).Item1);
        Assert.Equal(CheckStatus.Critical, DbHealth.StandbyStatus("streaming", TimeSpan.FromMinutes(10), 0, o).Item1);
    }

    [Fact]
    public void Duration_is_since_query_start_when_active_and_since_state_change_when_idle()
    {
        var now = new DateTime(2025, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        var active = new DbConnectionInfo { State = "active", QueryStart = now.AddMinutes(-6), StateChange = now.AddMinutes(-6) };
        var idle = new DbConnectionInfo { State = "idle", QueryStart = now.AddMinutes(-30), StateChange = now.AddMinutes(-29), TransactionStart = null };
        var inTx = new DbConnectionInfo { State = "idle in transaction", QueryStart = now.AddMinutes(-3), StateChange = now.AddMinutes(-2), TransactionStart = now.AddMinutes(-10) };
        var worker = new DbConnectionInfo { State = null, BackendType = "checkpointer" };
        foreach (var s in new[] { active, idle, inTx, worker }) DbActivitySession.Durations(s, now);
        Assert.Equal(TimeSpan.FromMinutes(6), active.Duration);
        Assert.Equal(TimeSpan.FromMinutes(29), idle.Duration);
        Assert.Equal(TimeSpan.FromMinutes(2), inTx.Duration);
        Assert.Equal(TimeSpan.FromMinutes(10), inTx.TransactionDuration);
        Assert.Null(worker.Duration);
    }

    [Fact]
    public void Summary_counts_per_state_with_the_oldest_duration()
    {
        var sessions = new[]
        {
            new DbConnectionInfo { Instance = "app", State = "idle", Duration = TimeSpan.FromMinutes(1) },
            new DbConnectionInfo { Instance = "app", State = "idle", Duration = TimeSpan.FromMinutes(9) },
            new DbConnectionInfo { Instance = "app", State = "active", Duration = TimeSpan.FromSeconds(3) },
        };
        var summary = DbActivitySession.Summarize(sessions);
        Assert.Equal(new[] { ("idle", 2), ("active", 1) }, summary.Select(s => (s.State!, s.Count)));
        Assert.Equal(TimeSpan.FromMinutes(9), summary[0].OldestDuration);
    }

    [Fact]
    public void Alter_system_quotes_the_name_and_escapes_values_as_literals()
    {
        Assert.Equal("ALTER SYSTEM SET \"work_mem\" TO E'64MB'", DbSettingsSession.AlterSystemSql("work_mem", new[] { "64MB" }));
        Assert.Equal("ALTER SYSTEM RESET \"work_mem\"", DbSettingsSession.AlterSystemSql("work_mem", null));
        Assert.Equal("ALTER SYSTEM SET \"x\"\"y\" TO E'it''s \\\\ fine', E'b'", DbSettingsSession.AlterSystemSql("x\"y", new[] { "it's \\ fine", "b" }));
        Assert.Throws<OpsToolsException>(() => DbSettingsSession.QuoteLiteral("a\0b"));
    }

    [Fact]
    public void Close_matches_suggest_the_setting_meant()
    {
        var names = new[] { "max_connections", "max_wal_senders", "log_min_duration_statement", "log_min_messages", "work_mem", "maintenance_work_mem" };
        Assert.Equal("max_connections", DbSettingsSession.CloseMatches("max_conections", names).First());
        Assert.Equal("log_min_duration_statement", DbSettingsSession.CloseMatches("log_min_duraton_statement", names).First());
        Assert.Contains("maintenance_work_mem", DbSettingsSession.CloseMatches("work_mem", names));
        Assert.Empty(DbSettingsSession.CloseMatches("zzzzzzzz", names));
    }
}
