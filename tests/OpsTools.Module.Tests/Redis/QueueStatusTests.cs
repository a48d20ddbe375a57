using System.Globalization;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Redis;

/// <summary>Get-QueueStatus against a real redis-server with the key layouts of lists, streams, sorted sets, BullMQ, RQ and Celery.</summary>
public class QueueStatusTests
{
    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static PSObject Q(IEnumerable<PSObject> r, string name) => Assert.Single(r, o => (string)P(o, "Name")! == name);

    private static RedisServer Queues()
    {
        var redis = RedisServer.Start();
        var lines = new List<string>
        {
            "RPUSH triage " + string.Join(' ', Enumerable.Range(1, 30)),
            "ZADD retry 1 a 2 b 3 c 4 d 5 e 6 f 7 g",
            "HSET bull:email:meta opts.maxLenEvents 10000", "SET bull:email:id 11",
            "LPUSH bull:email:wait 1 2 3 4 5", "LPUSH bull:email:active 6 7", "ZADD bull:email:delayed 1 8 2 9 3 10", "ZADD bull:email:failed 1 11",
            "RPUSH rq:queue:default j1 j2 j3 j4", "ZADD rq:failed:default 1 j5 2 j6", "ZADD rq:wip:default 1 j7",
            "RPUSH celery m1 m2 m3 m4 m5 m6", "HSET unacked t1 x",
        };
        lines.AddRange(Enumerable.Range(1, 10).Select(i => $"XADD events * n {i}"));
        lines.Add("XGROUP CREATE events workers 0");
        lines.Add("XREADGROUP GROUP workers w1 COUNT 4 STREAMS events >");
        redis.CliWithInput(string.Join("\n", lines) + "\n");
        return redis;
    }

    [Fact]
    public void Every_kind_of_queue_is_found_and_measured_as_redis_cli_measures_it()
    {
        using var redis = Queues();
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        var r = s.Invoke("Get-QueueStatus @Redis -Name triage, retry, email, default, celery, events, nothing-here -Verbose");
        Assert.Equal(7, r.Count);
        Assert.Equal("List", P(Q(r, "triage"), "Kind"));
        Assert.Equal(long.Parse(redis.Cli("LLEN", "triage").Trim(), CultureInfo.InvariantCulture), P(Q(r, "triage"), "Backlog"));
        Assert.Equal("SortedSet", P(Q(r, "retry"), "Kind"));
        Assert.Equal(7L, P(Q(r, "retry"), "Length"));
        var bull = Q(r, "email");
        Assert.Equal("BullMQ", P(bull, "Kind"));
        Assert.Equal(5L, P(bull, "Length"));
        Assert.Equal(2L, P(bull, "Active"));
        Assert.Equal(3L, P(bull, "Delayed"));
        Assert.Equal(1L, P(bull, "Failed"));
        var rq = Q(r, "default");
        Assert.Equal("RQ", P(rq, "Kind"));
        Assert.Equal(4L, P(rq, "Length"));
        Assert.Equal(2L, P(rq, "Failed"));
        Assert.Equal(1L, P(rq, "Active"));
        Assert.Equal("Celery", P(Q(r, "celery"), "Kind"));
        Assert.Equal(6L, P(Q(r, "celery"), "Length"));
        Assert.Equal(1L, P(Q(r, "celery"), "Active"));
        var ev = Q(r, "events");
        Assert.Equal("Stream", P(ev, "Kind"));
        Assert.Equal(10L, P(ev, "Length"));
        Assert.Equal(4L, P(ev, "Pending"));
        Assert.Equal(6L, P(ev, "Lag"));
        Assert.Equal(10L, P(ev, "Backlog")); // lag 6 + pending 4: what the group has not finished
        Assert.False((bool)P(Q(r, "nothing-here"), "Exists")!);
        Assert.All(r, o => Assert.Equal("Healthy", o.Properties["Status"].Value.ToString()));
        // One TYPE/EXISTS batch to find the kinds, then one batch for every size: never one round trip per queue.
        Assert.Contains(s.Run("Get-QueueStatus @Redis -Name triage, retry, email, default, celery, events -Verbose").Verbose,
            v => v.Contains("for 6 queue(s) in one pipelined batch"));
    }

    [Fact]
    public void A_stream_with_a_lagging_consumer_group_is_a_warning_with_the_lag_redis_cli_reports()
    {
        using var redis = Queues();
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        var ev = s.Invoke("Get-QueueStatus @Redis events -Kind Stream -BacklogWarning 8")[0];
        Assert.Equal("Warning", ev.Properties["Status"].Value.ToString());
        var cli = redis.Cli("XINFO", "GROUPS", "events").Split('\n').Select(l => l.Trim()).ToList();
        Assert.Equal(cli[cli.IndexOf("lag") + 1], P(ev, "Lag")!.ToString());
        Assert.Contains("group workers: 4 pending, lag 6", (string)P(ev, "Message")!);
        var group = Assert.Single((System.Collections.IEnumerable)P(ev, "Groups")! as IEnumerable<object> ?? ((System.Collections.IEnumerable)P(ev, "Groups")!).Cast<object>());
        Assert.NotNull(group);
    }

    [Fact]
    public void Growth_between_a_previous_reading_piped_in_and_now_is_judged_and_a_drained_queue_is_healthy_again()
    {
        using var redis = Queues();
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        s.Invoke("$before = Get-QueueStatus @Redis triage, email");
        Thread.Sleep(1500);
        redis.CliWithInput(string.Join("\n", Enumerable.Range(1, 200).Select(i => $"RPUSH triage n{i}")) + "\n");
        var grown = s.Invoke("$before | Get-QueueStatus @Redis");
        Assert.Equal(new[] { "email", "triage" }, grown.Select(g => (string)P(g, "Name")!).Order()); // the readings' text binds to -Name too: no extra queue
        var t = Q(grown, "triage");
        Assert.Equal(200L, P(t, "Growth"));
        Assert.True((double)P(t, "GrowthPerMinute")! > 600);
        Assert.Equal("Critical", t.Properties["Status"].Value.ToString());
        Assert.Contains("growing faster than it is worked off", (string)P(t, "Message")!);
        Assert.Equal(0L, P(Q(grown, "email"), "Growth"));
        Assert.Equal("Healthy", Q(grown, "email").Properties["Status"].Value.ToString());

        redis.Cli("DEL", "triage");
        var drained = s.Invoke("Get-QueueStatus @Redis triage -Previous ($before | Where-Object Name -eq triage)")[0];
        Assert.Equal(-30L, P(drained, "Growth"));
        Assert.Equal("Healthy", drained.Properties["Status"].Value.ToString());
        Assert.Equal("0", redis.Cli("LLEN", "triage").Trim());
    }

    [Fact]
    public void Interval_reads_twice_and_reports_the_growth_while_a_producer_fills_the_queue()
    {
        using var redis = Queues();
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        var producer = Task.Run(async () =>
        {
            // Push once the first reading has reached the server (redis-cli sees the LLEN), during the interval.
            var until = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < until && !redis.Cli("INFO", "commandstats").Contains("cmdstat_llen:")) await Task.Delay(20);
            redis.CliWithInput(string.Join("\n", Enumerable.Range(1, 50).Select(i => $"LPUSH bull:email:wait x{i}")) + "\n");
        });
        var r = s.Invoke("Get-QueueStatus @Redis email -Kind BullMQ -Interval 2s -GrowthWarningPerMinute 100 -GrowthCriticalPerMinute 100000")[0];
        producer.Wait();
        Assert.Equal(50L, P(r, "Growth"));
        Assert.Equal(55L, P(r, "Length"));
        Assert.InRange(((TimeSpan)P(r, "Interval")!).TotalSeconds, 1.9, 10);
        Assert.Equal("Warning", r.Properties["Status"].Value.ToString());
    }

    [Fact]
    public void Redis_going_down_between_the_two_readings_ends_the_command_with_a_clear_error()
    {
        using var redis = Queues();
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        // Kill the server once the first reading has reached it (redis-cli sees the LLEN), while the command waits for the second.
        var killer = Task.Run(async () =>
        {
            var until = DateTime.UtcNow.AddSeconds(60);
            while (DateTime.UtcNow < until && !redis.Cli("INFO", "commandstats").Contains("cmdstat_llen:")) await Task.Delay(50);
            redis.Kill();
        });
        var run = s.Run("Get-QueueStatus @Redis triage -Kind List -Interval '00:00:04'");
        killer.Wait();
        var error = (run.Terminating as RuntimeException)?.ErrorRecord ?? Assert.Single(run.Errors); // statement-terminating: in the error stream
        Assert.Matches("^Redis(Unreachable|Timeout),", error.FullyQualifiedErrorId);
        Assert.Contains($"127.0.0.1:{redis.Port}", error.Exception.Message);
        Assert.Empty(run.Output); // no half answer: the first reading alone is not reported as the queue's state
    }

    [Fact]
    public void The_environment_names_the_queues_their_kinds_and_thresholds_and_completes_their_names()
    {
        using var redis = Queues();
        var dir = Directory.CreateTempSubdirectory("opstools-queues-").FullName;
        try
        {
            var file = Path.Combine(dir, "shrimp.ops.psd1");
            File.WriteAllText(file, $"@{{ Redis = @{{ Host = '127.0.0.1'; Port = {redis.Port} }}; Queues = @('triage', @{{ Name = 'email'; Kind = 'BullMQ'; BacklogWarning = 3 }}, @{{ Name = 'events'; Kind = 'Stream' }}) }}");
            using var s = new ModuleSession();
            var r = s.Invoke($"Get-QueueStatus -Environment '{file}'");
            Assert.Equal(new[] { "triage", "email", "events" }, r.Select(o => (string)P(o, "Name")!));
            Assert.Equal("Warning", Q(r, "email").Properties["Status"].Value.ToString()); // 5 waiting >= 3
            Assert.Equal("shrimp", P(Q(r, "email"), "Environment"));
            var completion = s.Invoke($"(TabExpansion2 -inputScript \"Get-QueueStatus -Environment '{file}' -Name e\" -cursorColumn {$"Get-QueueStatus -Environment '{file}' -Name e".Length}).CompletionMatches.CompletionText");
            Assert.Equal(new[] { "email", "events" }, completion.Select(c => c.ToString()));
        }
        finally { Directory.Delete(dir, true); }
    }
}
