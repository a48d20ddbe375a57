using OpsTools.Configuration;
using OpsTools.Engine.Configuration;
using OpsTools.Engine.PgBouncer;
using OpsTools.Engine.Redis;
using OpsTools.PgBouncer;
using OpsTools.Redis;

namespace OpsTools.Engine.Tests.Redis;

public class RedisRulesTests
{
    private static readonly Func<string, string?> NoEnv = _ => null;

    [Fact]
    public void A_redis_URI_gives_host_port_database_user_and_password_and_the_address_never_shows_the_password()
    {
        var t = RedisTargetResolver.Resolve(new RedisTargetSpec { Uri = "rediss://ops:p%40ss-9931@cache1.internal:6380/4" }, NoEnv);
        Assert.Equal("cache1.internal", t.Host);
        Assert.Equal(6380, t.Port);
        Assert.Equal(4, t.Database);
        Assert.Equal("ops", t.User);
        Assert.True(t.Tls);
        Assert.Equal("the URI", t.PasswordSource);
        Assert.Equal("rediss://ops@cache1.internal:6380/4", t.Address);
        Assert.DoesNotContain("9931", t.ToString());
    }

    [Fact]
    public void Explicit_parameters_override_the_URI_which_overrides_the_environment_and_REDISCLI_AUTH_comes_last()
    {
        var settings = new RedisSettings { Host = "envhost", Port = 7000, Database = 2, PasswordVariable = "CACHE_PW" };
        var env = new Dictionary<string, string?> { ["CACHE_PW"] = "from-variable", ["REDISCLI_AUTH"] = "from-cli" };
        var t = RedisTargetResolver.Resolve(new RedisTargetSpec { Port = 7001, Settings = settings }, n => env.GetValueOrDefault(n));
        Assert.Equal(("envhost", 7001, 2, "$env:CACHE_PW"), (t.Host, t.Port, t.Database, t.PasswordSource));
        var d = RedisTargetResolver.Resolve(new RedisTargetSpec(), n => env.GetValueOrDefault(n));
        Assert.Equal(("127.0.0.1", 6379, 0, "REDISCLI_AUTH"), (d.Host, d.Port, d.Database, d.PasswordSource));
        var missing = Assert.Throws<OpsToolsException>(() => RedisTargetResolver.Resolve(new RedisTargetSpec { Settings = settings }, NoEnv));
        Assert.Equal("RedisPasswordVariableNotSet", missing.ErrorId);
        Assert.Equal("RedisUriInvalid", Assert.Throws<OpsToolsException>(() => RedisTargetResolver.Resolve(new RedisTargetSpec { Uri = "http://x" }, NoEnv)).ErrorId);
    }

    [Fact]
    public void INFO_text_is_read_as_name_value_pairs_without_section_headers()
    {
        var info = RedisHealth.ParseInfo("# Server\r\nredis_version:7.0.15\r\n\r\n# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=100\r\n");
        Assert.Equal("7.0.15", info["redis_version"]);
        Assert.Equal("keys=3,expires=1,avg_ttl=100", info["db0"]);
        Assert.Equal(2, info.Count);
    }

    [Theory]
    [InlineData(10, null, "Healthy")]
    [InlineData(1000, null, "Warning")]
    [InlineData(10000, null, "Critical")]
    [InlineData(10, 0L, "Critical")] // small, but +10 in half a second: 1200 a minute
    public void A_queue_is_judged_by_its_backlog_and_by_its_growth_per_minute(long backlog, long? previousBacklog, string expected)
    {
        var now = DateTime.UtcNow;
        var r = new QueueStatusResult { Name = "q", Kind = "List", Length = backlog, Backlog = backlog, Timestamp = now };
        QueueStatusResult? previous = previousBacklog is long p ? new QueueStatusResult { Name = "q", Backlog = p, Timestamp = now.AddSeconds(-0.5) } : null;
        QueueReader.Judge(r, new QueueEntry { Name = "q" }, new QueueThresholds(), previous);
        Assert.Equal(expected, r.Status.ToString());
        if (previous is not null) Assert.Equal(1200, r.GrowthPerMinute);
    }

    [Fact]
    public void A_pool_with_waiting_clients_is_a_warning_then_critical_after_the_max_wait_and_a_nearly_full_pool_warns()
    {
        var o = new PgBouncerPoolOptions();
        var p = new PgBouncerPoolResult { ClientsWaiting = 3, MaxWait = TimeSpan.FromSeconds(2), PoolSize = 10, ServersActive = 10 };
        PgBouncerAdmin.Judge(p, o);
        Assert.Equal(CheckStatus.Warning, p.Status);
        p.MaxWait = TimeSpan.FromSeconds(6);
        PgBouncerAdmin.Judge(p, o);
        Assert.Equal(CheckStatus.Critical, p.Status);
        var near = new PgBouncerPoolResult { PoolSize = 10, ServersActive = 5, ServersIdle = 3 };
        PgBouncerAdmin.Judge(near, o);
        Assert.Equal(CheckStatus.Warning, near.Status);
        Assert.Equal(80, near.PoolUsedPercent);
        var calm = new PgBouncerPoolResult { PoolSize = 10, ServersActive = 1 };
        PgBouncerAdmin.Judge(calm, o);
        Assert.Equal(CheckStatus.Healthy, calm.Status);
    }

    [Fact]
    public void The_environment_file_sections_are_read_and_a_password_is_refused()
    {
        var data = new Dictionary<string, object?>
        {
            ["Redis"] = new Dictionary<string, object?> { ["Uri"] = "redis://cache:6380/1", ["PasswordVariable"] = "P" },
            ["Queues"] = new object?[] { "triage", new Dictionary<string, object?> { ["Name"] = "email", ["Kind"] = "bullmq", ["BacklogWarning"] = 5 } },
            ["PgBouncer"] = new Dictionary<string, object?> { ["Host"] = "10.0.0.9", ["Port"] = 6432, ["User"] = "pgbouncer" },
        };
        var env = EnvironmentReader.Read(data, "/srv/ops/prod.ops.psd1");
        Assert.Equal("redis://cache:6380/1", env.Redis!.Uri);
        Assert.Equal(new[] { ("triage", "Auto"), ("email", "BullMQ") }, env.Queues.Select(q => (q.Name, q.Kind)));
        Assert.Equal(5, env.Queues[1].BacklogWarning);
        Assert.Equal(6432, env.PgBouncer!.Port);

        var withPassword = new Dictionary<string, object?> { ["Redis"] = new Dictionary<string, object?> { ["Host"] = "x", ["Password"] = "s3cret" } };
        var e = Assert.Throws<OpsToolsException>(() => EnvironmentReader.Read(withPassword, null));
        Assert.Contains("PasswordVariable", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
        var inUri = new Dictionary<string, object?> { ["Redis"] = new Dictionary<string, object?> { ["Uri"] = "redis://u:s3cret@x" } };
        Assert.DoesNotContain("s3cret", Assert.Throws<OpsToolsException>(() => EnvironmentReader.Read(inUri, null)).Message);
        var badKind = new Dictionary<string, object?> { ["Queues"] = new object?[] { new Dictionary<string, object?> { ["Name"] = "q", ["Kind"] = "Kafka" } } };
        Assert.Contains("Kafka", Assert.Throws<OpsToolsException>(() => EnvironmentReader.Read(badKind, null)).Message);
    }
}
