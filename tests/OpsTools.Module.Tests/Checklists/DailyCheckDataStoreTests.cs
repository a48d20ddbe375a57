using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Checklists;

/// <summary>Invoke-DailyCheck for environments that name a Redis server, queues and a PgBouncer.</summary>
[Collection("PostgreSQL")]
public class DailyCheckDataStoreTests
{
    private readonly PgCluster _pg;
    public DailyCheckDataStoreTests(PgClusterFixture fixture) => _pg = fixture.Cluster;

    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    [Fact]
    public void Redis_health_queue_status_and_PgBouncer_pools_join_the_daily_check_and_an_unreachable_store_is_one_result()
    {
        using var redis = RedisServer.Start(new RedisServerOptions { Password = "cache-pw-4417" });
        redis.CliWithInput("RPUSH triage a b c\nSET k v\n");
        using var bouncer = TestKit.PgBouncer.Start(_pg);
        var dir = Directory.CreateTempSubdirectory("opstools-dailyds-").FullName;
        try
        {
            var file = Path.Combine(dir, "shop.ops.psd1");
            File.WriteAllText(file, $"@{{ Redis = @{{ Port = {redis.Port}; PasswordVariable = 'OPSTOOLS_TEST_CACHE_PW' }}; Queues = @('triage'); " +
                                    $"PgBouncer = @{{ Host = '127.0.0.1'; Port = {bouncer.Port}; User = '{bouncer.AdminUser}'; PasswordVariable = 'OPSTOOLS_TEST_PGB_PW' }} }}");
            using var s = new ModuleSession();
            s.Invoke($"$env:OPSTOOLS_TEST_CACHE_PW = '{redis.Password}'; $env:OPSTOOLS_TEST_PGB_PW = '{bouncer.AdminPassword}'");
            var results = s.Invoke($"Invoke-DailyCheck -Environment '{file}' -Skip Disk, Memory");
            Assert.Contains(results, r => (string)P(r, "Area")! == "Redis" && (string)P(r, "Check")! == "Memory");
            var queue = Assert.Single(results, r => (string)P(r, "Area")! == "Queues");
            Assert.Equal(3L, P(queue, "Backlog"));
            var pool = Assert.Single(results, r => (string)P(r, "Area")! == "PgBouncer");
            Assert.Equal("appdb", P(pool, "Database"));
            Assert.All(results, r => Assert.Equal("shop", P(r, "Environment")));
            Assert.All(results, r => Assert.Equal("Healthy", r.Properties["Status"].Value.ToString()));

            // Redis and PgBouncer down: Redis is one Critical Reachable result, the queue step and the PgBouncer step one Unknown each.
            redis.Kill();
            bouncer.Dispose();
            var down = s.Invoke($"Invoke-DailyCheck -Environment '{file}' -Skip Disk, Memory");
            Assert.Equal(3, down.Count);
            Assert.Equal("Critical", Assert.Single(down, r => (string)P(r, "Area")! == "Redis").Properties["Status"].Value.ToString());
            Assert.Equal("Unknown", Assert.Single(down, r => (string)P(r, "Area")! == "Queues").Properties["Status"].Value.ToString());
            var pgb = Assert.Single(down, r => (string)P(r, "Area")! == "PgBouncer");
            Assert.Equal("Unknown", pgb.Properties["Status"].Value.ToString());
            Assert.Contains("not reachable", (string)P(pgb, "Message")!);
            Assert.DoesNotContain(redis.Password!, string.Join("\n", down.Select(r => (string)P(r, "Message")!)));
            var skipped = s.Invoke($"Invoke-DailyCheck -Environment '{file}' -Skip Disk, Memory, Redis, Queues, PgBouncer");
            Assert.Empty(skipped);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
