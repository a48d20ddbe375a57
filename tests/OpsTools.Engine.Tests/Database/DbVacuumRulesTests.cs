using OpsTools.Configuration;
using OpsTools.Engine.Database;

namespace OpsTools.Engine.Tests.Database;

public class DbVacuumRulesTests
{
    private static readonly DateTime Now = new(2025, 6, 1, 12, 0, 0, DateTimeKind.Utc);

    private static VacuumStatusRow Row(long live, long dead, double? hoursSinceVacuum, double? hoursSinceAutovacuum = null) => new()
    {
        Schema = "public", Table = "t", LiveTuples = live, DeadTuples = dead, ServerNow = Now,
        LastVacuum = hoursSinceVacuum is double h ? Now.AddHours(-h) : null,
        LastAutovacuum = hoursSinceAutovacuum is double a ? Now.AddHours(-a) : null,
    };

    [Fact]
    public void Thresholds_default_to_check_postgres_and_autovacuum()
    {
        var t = new ThresholdSet();
        Assert.Equal(24, t.VacuumAgeWarningHours);
        Assert.Equal(48, t.VacuumAgeCriticalHours);
        Assert.Equal(0.2, t.DeadRatioWarning);
        Assert.Equal(0.5, t.DeadRatioCritical);
        Assert.Equal(50, t.VacuumMinDeadTuples);
        Assert.Contains("VacuumAgeWarningHours", ThresholdSet.Names);
    }

    [Theory]
    [InlineData(0, 0, 0.0)]
    [InlineData(100, 0, 0.0)]
    [InlineData(0, 10, 1.0)]
    [InlineData(75, 25, 0.25)]
    [InlineData(-5, 10, 1.0)] // estimates can go negative on a freshly reset table
    public void Dead_ratio_is_dead_over_live_plus_dead(long live, long dead, double expected) =>
        Assert.Equal(expected, VacuumStatusRules.DeadRatio(live, dead), 4);

    [Theory]
    [InlineData(0, 0, null)]           // empty, never vacuumed
    [InlineData(10, 0, null)]          // small, never vacuumed, nothing dead
    [InlineData(1_000_000, 0, 500.0)]  // big, vacuumed 3 weeks ago, nothing dead
    [InlineData(100, 49, null)]        // 33% dead but below autovacuum's 50-tuple threshold
    public void Nothing_to_vacuum_is_healthy_however_old(long live, long dead, double? age)
    {
        var (status, message) = VacuumStatusRules.Evaluate(Row(live, dead, age), new ThresholdSet());
        Assert.Equal(CheckStatus.Healthy, status);
        Assert.Contains("nothing to vacuum", message);
    }

    [Theory]
    [InlineData(1000, 100, 1.0, CheckStatus.Healthy)]    // 9% dead, vacuumed an hour ago
    [InlineData(1000, 300, 1.0, CheckStatus.Warning)]    // 23% dead
    [InlineData(1000, 1000, 1.0, CheckStatus.Critical)]  // 50% dead
    [InlineData(1000, 100, 30.0, CheckStatus.Warning)]   // over a day old, few dead
    [InlineData(1000, 100, 50.0, CheckStatus.Warning)]   // over two days, but only 9% dead: not critical
    [InlineData(1000, 300, 50.0, CheckStatus.Critical)]  // over two days and 23% dead
    [InlineData(100_000, 60, null, CheckStatus.Warning)] // never vacuumed, a few dead: warning only
    [InlineData(1000, 300, null, CheckStatus.Critical)]  // never vacuumed and 23% dead
    public void Ratio_and_age_rules(long live, long dead, double? age, CheckStatus expected)
    {
        var (status, _) = VacuumStatusRules.Evaluate(Row(live, dead, age), new ThresholdSet());
        Assert.Equal(expected, status);
    }

    [Fact]
    public void The_later_of_vacuum_and_autovacuum_counts()
    {
        var (status, message) = VacuumStatusRules.Evaluate(Row(1000, 300, hoursSinceVacuum: 100, hoursSinceAutovacuum: 2), new ThresholdSet());
        Assert.Equal(CheckStatus.Warning, status); // ratio only; autovacuum ran 2 h ago
        Assert.Contains("last vacuumed 2 h ago", message);
    }

    [Fact]
    public void Thresholds_can_be_overridden()
    {
        var t = new ThresholdSet().Apply(new Dictionary<string, object?> { ["VacuumAgeWarningHours"] = 1, ["VacuumMinDeadTuples"] = 0 }, "test");
        Assert.Equal(CheckStatus.Warning, VacuumStatusRules.Evaluate(Row(1000, 1, 2), t).Status);
    }

    [Theory]
    [InlineData("t", "\"t\"")]
    [InlineData("we\"ird tab le", "\"we\"\"ird tab le\"")]
    [InlineData("x; DROP TABLE y", "\"x; DROP TABLE y\"")]
    [InlineData("Mixed", "\"Mixed\"")]
    public void Identifiers_are_always_quoted(string name, string expected) =>
        Assert.Equal(expected, PgSql.QuoteIdent(name));

    [Fact]
    public void Empty_or_nul_identifiers_are_refused()
    {
        Assert.Throws<ArgumentException>(() => PgSql.QuoteIdent(""));
        Assert.Throws<ArgumentException>(() => PgSql.QuoteIdent("a\0b"));
    }

    [Theory]
    [InlineData(false, false, false, "VACUUM \"s\".\"t\"\"x\"")]
    [InlineData(true, false, false, "VACUUM (ANALYZE) \"s\".\"t\"\"x\"")]
    [InlineData(false, true, false, "VACUUM (FULL) \"s\".\"t\"\"x\"")]
    [InlineData(true, true, false, "VACUUM (FULL, ANALYZE) \"s\".\"t\"\"x\"")]
    [InlineData(false, false, true, "ANALYZE \"s\".\"t\"\"x\"")]
    public void Vacuum_statements(bool analyze, bool full, bool analyzeOnly, string expected) =>
        Assert.Equal(expected, new VacuumOptions { Analyze = analyze, Full = full, AnalyzeOnly = analyzeOnly }.Statement("s", "t\"x"));

    [Fact]
    public void Reindex_statements()
    {
        var index = new ReindexItem { Index = new PgIndex(1, "s", "i x", "t", 2) };
        Assert.Equal("REINDEX INDEX CONCURRENTLY \"s\".\"i x\"", index.Statement(true));
        var table = new ReindexItem { Table = new PgIndexedTable(2, "s", "t\"", 10, 3) };
        Assert.Equal("REINDEX TABLE \"s\".\"t\"\"\"", table.Statement(false));
    }
}
