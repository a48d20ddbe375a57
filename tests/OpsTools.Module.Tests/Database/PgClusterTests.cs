using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Database;

[Collection("PostgreSQL")]
public sealed class PgClusterTests(PgClusterFixture fixture)
{
    [Fact]
    public void The_test_cluster_answers_with_pg_stat_statements_preloaded()
    {
        var pg = fixture.Cluster;
        Assert.True(pg.MajorVersion >= 13);
        Assert.Contains("pg_stat_statements", pg.Scalar<string>("SHOW shared_preload_libraries"));
        var db = pg.CreateDatabase();
        try
        {
            pg.Exec("CREATE TABLE t(id int); INSERT INTO t SELECT generate_series(1, 10)", db);
            Assert.Equal(10L, pg.Scalar<long>("SELECT count(*) FROM t", db));
        }
        finally { pg.DropDatabase(db); }
    }
}
