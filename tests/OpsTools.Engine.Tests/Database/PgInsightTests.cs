using OpsTools.Database;
using OpsTools.Engine.Database;

namespace OpsTools.Engine.Tests.Database;

public class PgInsightTests
{
    private static PgInsight.IndexInfo Index(string name, long oid, bool unique = false, bool primary = false, string? constraint = null,
        long scans = 0, string key = "k", bool valid = true, bool excluded = false, bool expression = false, long bytes = 8192) =>
        new("public", "t", name, oid, unique || primary, primary, valid, expression, false, constraint, bytes, scans,
            $"CREATE INDEX {name} ON public.t USING btree (a)", key, excluded, 3, 300, 100);

    [Theory]
    [InlineData("plain", "\"plain\"")]
    [InlineData("we\"ird tab le", "\"we\"\"ird tab le\"")]
    [InlineData("Robert'); DROP TABLE x;--", "\"Robert'); DROP TABLE x;--\"")]
    [InlineData("\"", "\"\"\"\"")]
    public void Identifiers_are_double_quoted_with_embedded_quotes_doubled(string name, string quoted) =>
        Assert.Equal(quoted, PgSql.QuoteIdent(name));

    [Fact]
    public void A_NUL_character_cannot_be_quoted() =>
        Assert.Throws<ArgumentException>(() => PgSql.QuoteIdent("a\0b"));

    [Fact]
    public void Drop_statements_are_schema_qualified_and_concurrent() =>
        Assert.Equal("DROP INDEX CONCURRENTLY \"My Schema\".\"id\"\"x\";", PgInsightSql.DropIndex("My Schema", "id\"x"));

    [Fact]
    public void Unused_means_no_scans_and_nothing_that_enforces_a_rule()
    {
        Assert.True(IndexRules.IsUnused(Index("a", 1)));
        Assert.False(IndexRules.IsUnused(Index("a", 1, scans: 1)));
        Assert.False(IndexRules.IsUnused(Index("a", 1, unique: true)));
        Assert.False(IndexRules.IsUnused(Index("a", 1, primary: true)));
        Assert.False(IndexRules.IsUnused(Index("a", 1, constraint: "t_excl")));
        Assert.False(IndexRules.IsUnused(Index("a", 1, excluded: true)));
    }

    [Fact]
    public void Duplicates_keep_the_primary_key_then_constraints_then_unique_then_the_oldest()
    {
        Assert.Equal("pk", IndexRules.Keeper(new[] { Index("old", 1), Index("pk", 5, primary: true, constraint: "pk") }).Name);
        Assert.Equal("con", IndexRules.Keeper(new[] { Index("u", 1, unique: true), Index("con", 5, unique: true, constraint: "con") }).Name);
        Assert.Equal("u", IndexRules.Keeper(new[] { Index("old", 1), Index("u", 5, unique: true) }).Name);
        Assert.Equal("old", IndexRules.Keeper(new[] { Index("new", 9), Index("old", 2) }).Name);
        Assert.Equal("valid", IndexRules.Keeper(new[] { Index("broken", 1, valid: false), Index("valid", 9) }).Name);
    }

    [Fact]
    public void Of_a_duplicate_pair_only_one_index_is_ever_advised_to_be_dropped()
    {
        // Both unused: applying a DROP for each would remove the index entirely.
        var advice = IndexRules.Evaluate(new[] { Index("a", 1), Index("b", 2), Index("other", 3, key: "x", scans: 7) }, new IndexAdviceOptions(), null).ToList();
        var dup = Assert.Single(advice);
        Assert.Equal((DbIndexAdviceKind.DuplicateIndex, "b", "a", "DROP INDEX CONCURRENTLY \"public\".\"b\";"), (dup.Kind, dup.Index, dup.DuplicateOf, dup.FixStatement));
        Assert.Equal((CheckStatus.Warning, "IndexAdvice", "Database"), (dup.Status, dup.Check, dup.Area));
        Assert.Contains("never reset", dup.Reason);
        Assert.Contains("a has not been scanned either, but drop only one of the pair", dup.Reason);

        // Three identical indexes: the two younger go, the keeper stays.
        var three = IndexRules.Evaluate(new[] { Index("a", 1), Index("b", 2), Index("c", 3) }, new IndexAdviceOptions(), null).ToList();
        Assert.Equal(new[] { "b", "c" }, three.Select(a => a.Index).Order());
        Assert.All(three, a => Assert.Equal(DbIndexAdviceKind.DuplicateIndex, a.Kind));

        // Only unused indexes asked for: the duplicate may be named as unused, its keeper never.
        var unusedOnly = IndexRules.Evaluate(new[] { Index("a", 1), Index("b", 2) }, new IndexAdviceOptions { Duplicate = false }, null).ToList();
        Assert.Equal("b", Assert.Single(unusedOnly).Index);

        // An unused keeper of a used duplicate is no drop candidate either; a lone unused index still is.
        var lone = IndexRules.Evaluate(new[] { Index("a", 1), Index("b", 2, scans: 9), Index("solo", 4, key: "y") }, new IndexAdviceOptions(), null).ToList();
        Assert.Equal(new[] { ("b", DbIndexAdviceKind.DuplicateIndex), ("solo", DbIndexAdviceKind.UnusedIndex) }, lone.Select(a => (a.Index, a.Kind)).OrderBy(x => x.Index));
    }

    [Fact]
    public void A_duplicate_that_backs_a_constraint_is_fixed_by_dropping_the_constraint()
    {
        var advice = IndexRules.Evaluate(new[] { Index("t_pkey", 1, primary: true, constraint: "t_pkey", scans: 5), Index("t_a_key", 2, unique: true, constraint: "t_a key", scans: 1) },
            new IndexAdviceOptions(), new DateTime(2024, 5, 1, 8, 30, 0, DateTimeKind.Utc)).Single();
        Assert.Equal("ALTER TABLE \"public\".\"t\" DROP CONSTRAINT \"t_a key\";", advice.FixStatement);
        Assert.Contains("2024-05-01 08:30 UTC", advice.Reason);
        Assert.Contains("foreign keys", advice.Reason);
    }

    [Fact]
    public void Kinds_and_minimum_size_filter_the_advice()
    {
        var indexes = new[] { Index("a", 1), Index("b", 2), Index("small", 3, key: "y", bytes: 100) };
        Assert.All(IndexRules.Evaluate(indexes, new IndexAdviceOptions { Duplicate = false }, null), a => Assert.Equal(DbIndexAdviceKind.UnusedIndex, a.Kind));
        Assert.All(IndexRules.Evaluate(indexes, new IndexAdviceOptions { Unused = false }, null), a => Assert.Equal(DbIndexAdviceKind.DuplicateIndex, a.Kind));
        Assert.DoesNotContain(IndexRules.Evaluate(indexes, new IndexAdviceOptions { MinIndexBytes = 1000 }, null), a => a.Index == "small");
    }

    [Fact]
    public void Missing_index_advice_is_a_commented_statement_with_the_best_candidate_column()
    {
        var a = IndexRules.Missing("My Schema", "big \"t\"", 500, 10_000_000, 2, 20_000, new[] { "Cat \"x", "b" }, new IndexAdviceOptions(), null);
        Assert.Equal("-- consider: CREATE INDEX CONCURRENTLY ON \"My Schema\".\"big \"\"t\"\"\" (\"Cat \"\"x\");", a.FixStatement);
        Assert.Contains("20,000 live rows", a.Reason);
        Assert.Contains("500 sequential scans", a.Reason);
        Assert.Equal("n_live_tup >= 10000; seq_scan >= 50; seq_scan > idx_scan", a.Threshold);
        var none = IndexRules.Missing("s", "t", 500, 1, 0, 20_000, Array.Empty<string>(), new IndexAdviceOptions(), null);
        Assert.StartsWith("-- consider: CREATE INDEX CONCURRENTLY ON \"s\".\"t\" (<", none.FixStatement);
        Assert.Contains("ANALYZE", none.Reason);
    }

    [Fact]
    public void Slow_query_sql_uses_the_columns_of_the_installed_extension_version()
    {
        var v13 = new HashSet<string> { "total_exec_time", "mean_exec_time", "min_exec_time", "max_exec_time", "stddev_exec_time", "toplevel" };
        var sql = PgInsight.BuildSlowQuerySql("my \"ext\"", v13, new SlowQueryOptions());
        Assert.Contains("FROM \"my \"\"ext\"\"\".pg_stat_statements s", sql);
        Assert.Contains("ORDER BY s.mean_exec_time DESC", sql);
        Assert.Contains("AND s.toplevel", sql);
        Assert.Contains("LIMIT @top", sql);
        Assert.DoesNotContain("AND s.toplevel", PgInsight.BuildSlowQuerySql("public", v13, new SlowQueryOptions { IncludeNested = true }));
        Assert.Contains("ORDER BY s.total_exec_time DESC", PgInsight.BuildSlowQuerySql("public", v13, new SlowQueryOptions { SortBy = DbSlowQuerySort.TotalTime }));

        var v12 = PgInsight.BuildSlowQuerySql("public", new HashSet<string> { "total_time", "mean_time" }, new SlowQueryOptions { SortBy = DbSlowQuerySort.Calls });
        Assert.Contains("s.mean_time >= @min", v12);
        Assert.Contains("ORDER BY s.calls DESC", v12);
        Assert.DoesNotContain("toplevel", v12);
    }

    [Fact]
    public void Slow_query_status_is_a_warning_above_the_threshold_only()
    {
        var q = new DbSlowQuery { MeanTime = TimeSpan.FromMilliseconds(1000), Calls = 3, Query = "SELECT  *\n FROM t", Instance = "app", QueryId = 42 };
        PgInsight.ApplyStatus(q, null, 1000);
        Assert.Equal(CheckStatus.Healthy, q.Status);
        PgInsight.ApplyStatus(q, null, 999.5);
        Assert.Equal(CheckStatus.Warning, q.Status);
        Assert.Equal("warn > 999.5 ms mean", q.Threshold);
        Assert.Equal("app queryid 42", q.Target);
        Assert.EndsWith("SELECT * FROM t", q.Message);
        Assert.Equal(1000.0, q.Value);
    }

    [Fact]
    public void Slow_query_threshold_defaults_to_the_runbooks_one_second_and_is_settable_per_environment()
    {
        Assert.Equal(1000, new OpsTools.Configuration.ThresholdSet().DbSlowQueryWarningMs);
        var set = new OpsTools.Configuration.ThresholdSet().Apply(new Dictionary<string, object?> { ["dbslowquerywarningms"] = "250" }, "test");
        Assert.Equal(250, set.DbSlowQueryWarningMs);
    }

    [Fact]
    public void Extension_missing_message_gives_both_steps_and_says_what_is_done()
    {
        var target = PgTargetResolver.Resolve(new PgTargetSpec { Server = "db1", Port = 5432, Database = "shop", User = "ops" }, _ => null, Path.GetTempPath());
        var none = PgInsight.ExtensionMissing(target, installed: false, preloaded: false);
        Assert.Equal("DbExtensionMissing", none.ErrorId);
        Assert.Contains("shared_preload_libraries = 'pg_stat_statements' in postgresql.conf", none.Message);
        Assert.Contains("restart the server; 2) run CREATE EXTENSION pg_stat_statements; in database \"shop\"", none.Message);
        var notLoaded = PgInsight.ExtensionMissing(target, installed: true, preloaded: false);
        Assert.Contains("installed in database \"shop\" but its library is not loaded", notLoaded.Message);
        Assert.EndsWith("(already done).", notLoaded.Message);
    }

    [Theory]
    [InlineData(0L, "0 bytes")]
    [InlineData(1023L, "1023 bytes")]
    [InlineData(1024L, "1.0 kB")]
    [InlineData(8_704_000L, "8.3 MB")]
    [InlineData(1_288_490_189L, "1.2 GB")]
    [InlineData(263_066_746_880L, "245 GB")]
    public void Sizes_read_like_pg_size_pretty_with_one_decimal(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes, ByteFormat.Postgres));

    [Fact]
    public void Query_text_is_shown_on_one_line_and_cut()
    {
        Assert.Equal("SELECT a FROM t", PgInsight.OneLine("  SELECT a\n\tFROM   t ", 80));
        Assert.Equal(10, PgInsight.OneLine(new string('x', 50), 10).Length);
    }
}
