using System.Globalization;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Redis;

/// <summary>Get-RedisKey and Clear-RedisCache against a real redis-server; state checked with redis-cli.</summary>
public class RedisKeyTests
{
    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);

    private static long CommandCalls(RedisServer r, string command)
    {
        var line = r.Cli("INFO", "commandstats").Split('\n').FirstOrDefault(l => l.StartsWith($"cmdstat_{command}:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split("calls=")[1].Split(',')[0], CultureInfo.InvariantCulture);
    }

    private static RedisServer Filled()
    {
        var redis = RedisServer.Start();
        var lines = Enumerable.Range(1, 300).Select(i => $"SET session:{i} {new string('s', i % 50 + 10)} EX 3600")
            .Concat(Enumerable.Range(1, 40).Select(i => $"SET page:{i} {new string('p', 100)}"))
            .Concat(new[] { "RPUSH jobs a b c", "HSET user:1 name ada email ada@example.invalid" });
        redis.CliWithInput(string.Join("\n", lines) + "\n");
        return redis;
    }

    [Fact]
    public void Keys_are_listed_by_pattern_with_SCAN_only_with_type_ttl_and_memory_as_redis_cli_sees_them()
    {
        using var redis = Filled();
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        var keys = s.Invoke("Get-RedisKey @Redis -Pattern 'session:*' -PageSize 50");
        var expected = redis.Cli("--scan", "--pattern", "session:*").Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        Assert.Equal(300, expected.Count);
        Assert.Equal(expected, keys.Select(k => (string)P(k, "Key")!).ToHashSet());
        var one = keys.First(k => (string)P(k, "Key")! == "session:7");
        Assert.Equal("string", P(one, "Type"));
        var ttl = (TimeSpan)P(one, "Ttl")!;
        Assert.InRange(ttl.TotalSeconds, 3000, 3600);
        Assert.Equal(long.Parse(redis.Cli("MEMORY", "USAGE", "session:7").Trim(), CultureInfo.InvariantCulture), (long)P(one, "MemoryBytes")!);

        Assert.Equal(5, s.Invoke("Get-RedisKey @Redis 'session:*' -First 5").Count);
        var hash = Assert.Single(s.Invoke("Get-RedisKey @Redis -Type hash"));
        Assert.Equal("user:1", P(hash, "Key"));
        Assert.Null(P(hash, "Ttl"));
        Assert.Equal(0, CommandCalls(redis, "keys"));
        Assert.True(CommandCalls(redis, "scan") >= 6);
        s.Host.ClearText();
        s.Invoke("Get-RedisKey @Redis 'jobs' | Out-Default");
        var table = s.Host.Text;
        Assert.Contains("list", table);
        Assert.Contains("none", table); // no TTL
    }

    [Fact]
    public void Clearing_by_pattern_with_WhatIf_counts_what_would_go_and_removes_nothing_then_unlinks_exactly_those_keys()
    {
        using var redis = Filled();
        var bytes = Enumerable.Range(1, 300).Sum(i => long.Parse(redis.Cli("MEMORY", "USAGE", $"session:{i}").Trim(), CultureInfo.InvariantCulture));
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        var preview = s.Invoke("Clear-RedisCache @Redis -Pattern 'session:*' -WhatIf")[0];
        Assert.True((bool)P(preview, "WhatIf")!);
        Assert.Equal(300L, P(preview, "Keys"));
        Assert.Equal(bytes, P(preview, "Bytes"));
        Assert.Equal("342", redis.Cli("DBSIZE").Trim());
        Assert.Equal(0, CommandCalls(redis, "unlink"));

        var done = s.Invoke("Clear-RedisCache @Redis -Pattern 'session:*' -BatchSize 64 -Force")[0];
        Assert.False((bool)P(done, "WhatIf")!);
        Assert.Equal(300L, P(done, "Keys"));
        Assert.Equal(bytes, P(done, "Bytes"));
        Assert.Equal(5, P(done, "Batches"));
        Assert.Equal("42", redis.Cli("DBSIZE").Trim());
        Assert.Empty(redis.Cli("--scan", "--pattern", "session:*").Trim());
        Assert.Equal(0, CommandCalls(redis, "keys"));
        Assert.Equal(0, CommandCalls(redis, "del"));
        Assert.Equal(5, CommandCalls(redis, "unlink"));
    }

    [Fact]
    public void FLUSHDB_asks_first_clears_only_its_database_and_FLUSHALL_clears_every_one()
    {
        using var redis = Filled();
        redis.CliWithInput("SET x 1\nSET y 2\n", "-n", "1");
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        s.Host.ChoiceAnswer = 2; // No
        var declined = s.Run("Clear-RedisCache @Redis -Database 1");
        Assert.Empty(declined.Output);
        Assert.Contains(s.Host.Prompts, p => p.Contains("FLUSHDB") && p.Contains("database 1"));
        Assert.Equal("2", redis.Cli("-n", "1", "DBSIZE").Trim());

        var r = s.Invoke("Clear-RedisCache @Redis -Database 1 -Force")[0];
        Assert.Equal("FlushDb", P(r, "Mode"));
        Assert.Equal(2L, P(r, "Keys"));
        Assert.Equal("0", redis.Cli("-n", "1", "DBSIZE").Trim());
        Assert.Equal("342", redis.Cli("DBSIZE").Trim());

        var whatIf = s.Invoke("Clear-RedisCache @Redis -All -WhatIf")[0];
        Assert.Equal(342L, P(whatIf, "Keys"));
        Assert.Equal("342", redis.Cli("DBSIZE").Trim());
        var all = s.Invoke("Clear-RedisCache @Redis -All -Confirm:$false")[0];
        Assert.Equal("FlushAll", P(all, "Mode"));
        Assert.Equal(342L, P(all, "Keys"));
        Assert.True((long)P(all, "Bytes")! > 0);
        Assert.Equal("0", redis.Cli("DBSIZE").Trim());
    }
}
