using System.Globalization;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Redis;

/// <summary>Get-RedisHealth against real redis-server processes; state checked with redis-cli.</summary>
public class RedisHealthTests
{
    private static object? P(PSObject o, string name) => RunResult.Prop(o, name);
    private static PSObject Only(IEnumerable<PSObject> results, string check) => Assert.Single(results, r => (string)P(r, "Check")! == check);

    private static Dictionary<string, string> Info(RedisServer r, string section) =>
        r.Cli("INFO", section).Split('\n').Select(l => l.Trim()).Where(l => l.Contains(':') && !l.StartsWith('#'))
            .Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1]);

    [Fact]
    public void A_healthy_server_gives_every_check_and_the_keys_of_each_database_as_redis_cli_counts_them()
    {
        using var redis = RedisServer.Start();
        redis.CliWithInput(string.Join("\n", Enumerable.Range(1, 12).Select(i => $"SET k{i} v{i}")) + "\n");
        redis.CliWithInput(string.Join("\n", Enumerable.Range(1, 5).Select(i => $"SET other{i} v EX 600")) + "\n", "-n", "3");
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        var results = s.Invoke("Get-RedisHealth @Redis -LatencyWarningMs 2000 -LatencyCriticalMs 5000"); // a loaded test machine is not a slow Redis
        foreach (var check in new[] { "Reachable", "Latency", "Memory", "Fragmentation", "Evictions", "HitRate", "Clients", "Persistence", "Replication" })
        {
            var r = Only(results, check);
            Assert.True(r.Properties["Status"].Value.ToString() == "Healthy", $"{check}: {P(r, "Message")}");
        }
        var keyspace = results.Where(r => (string)P(r, "Check")! == "Keyspace").ToDictionary(r => (int)P(r, "Database")!, r => Convert.ToInt64(P(r, "Value"), CultureInfo.InvariantCulture));
        var cli = Info(redis, "keyspace");
        Assert.Equal(long.Parse(cli["db0"].Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture), keyspace[0]);
        Assert.Equal(12, keyspace[0]);
        Assert.Equal(5, keyspace[3]);
        Assert.Contains("5 with a TTL", (string)P(results.Single(r => (string)P(r, "Check")! == "Keyspace" && (int)P(r, "Database")! == 3), "Message")!);
        Assert.Equal("7.0", ((string)P(Only(results, "Reachable"), "RedisVersion")!)[..3]);
        Assert.True((double)P(Only(results, "Latency"), "Value")! > 0);
        Assert.Contains("no maxmemory", (string)P(Only(results, "Memory"), "Message")!);
        Assert.Contains("cache only", (string)P(Only(results, "Persistence"), "Message")!); // save "" and no AOF
    }

    [Fact]
    public void Memory_near_a_small_maxmemory_with_evictions_is_critical_and_the_evictions_are_counted_as_redis_cli_counts_them()
    {
        using var redis = RedisServer.Start(new RedisServerOptions { MaxMemory = 2 * 1024 * 1024, MaxMemoryPolicy = "allkeys-lru" });
        var value = new string('x', 1000);
        redis.CliWithInput(string.Join("\n", Enumerable.Range(1, 4000).Select(i => $"SET cache:{i} {value}")) + "\n");
        var evicted = long.Parse(Info(redis, "stats")["evicted_keys"], CultureInfo.InvariantCulture);
        Assert.True(evicted > 0, "the fill should have evicted keys");
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        var results = s.Invoke("Get-RedisHealth @Redis -Check Memory, Evictions");
        var memory = Only(results, "Memory");
        Assert.NotEqual("Healthy", memory.Properties["Status"].Value.ToString());
        Assert.True((double)P(memory, "Value")! > 85, $"memory {P(memory, "Value")}% of maxmemory");
        Assert.Contains("allkeys-lru", (string)P(memory, "Message")!);
        var ev = Only(results, "Evictions");
        Assert.Equal("Warning", ev.Properties["Status"].Value.ToString());
        Assert.True(Convert.ToInt64(P(ev, "Value"), CultureInfo.InvariantCulture) >= evicted);
        Assert.Equal(2, results.Count);

        // A threshold from the environment file moves the verdict.
        var dir = Directory.CreateTempSubdirectory("opstools-redisenv-").FullName;
        try
        {
            var file = Path.Combine(dir, "cache.ops.psd1");
            File.WriteAllText(file, $"@{{ Redis = @{{ Host = '127.0.0.1'; Port = {redis.Port} }}; Thresholds = @{{ RedisLatencyWarningMs = 0; RedisLatencyCriticalMs = 100000 }} }}");
            var fromEnv = s.Invoke($"Get-RedisHealth -Environment '{file}' -Check Latency");
            Assert.Equal("Warning", fromEnv[0].Properties["Status"].Value.ToString()); // any PING is over 0 ms
            Assert.Contains("warn > 0 ms", (string)P(fromEnv[0], "Threshold")!);
            Assert.Equal("cache", P(fromEnv[0], "Environment"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void A_hit_rate_under_90_percent_is_a_warning_and_the_threshold_can_be_given_per_call()
    {
        using var redis = RedisServer.Start();
        redis.CliWithInput("SET a 1\nGET a\nGET a\nGET a\nGET nope1\nGET nope2\nGET nope3\nGET nope4\nGET nope5\n");
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        var r = s.Invoke("Get-RedisHealth @Redis -Check HitRate")[0];
        Assert.Equal("Warning", r.Properties["Status"].Value.ToString());
        Assert.Equal(37.5, (double)P(r, "Value")!);
        Assert.Equal("3", ((IReadOnlyDictionary<string, string>)P(r, "Fields")!)["keyspace_hits"]);
        Assert.Equal("Healthy", s.Invoke("Get-RedisHealth @Redis -Check HitRate -HitRateWarningPercent 30")[0].Properties["Status"].Value.ToString());
    }

    [Fact]
    public void An_ACL_user_logs_in_with_its_credential_and_a_wrong_password_is_a_critical_result_that_never_shows_the_password()
    {
        using var redis = RedisServer.Start(new RedisServerOptions { Password = "default-pw-7731", AclUsers = new[] { "user ops on >ops-secret-4490 ~* &* +@all" } });
        using var s = new ModuleSession();
        s.Invoke("$good = [pscredential]::new('ops', [System.Net.NetworkCredential]::new('', 'ops-secret-4490').SecurePassword); " +
                 "$bad = [pscredential]::new('ops', [System.Net.NetworkCredential]::new('', 'wrong-pw-55512').SecurePassword)");
        var ok = s.Invoke($"Get-RedisHealth -Server 127.0.0.1 -Port {redis.Port} -Credential $good -Check Reachable");
        Assert.Equal("Healthy", ok[0].Properties["Status"].Value.ToString());
        Assert.Contains("ops", redis.Cli("CLIENT", "LIST")); // (our connection stays open: the shared multiplexer)

        var run = s.Run($"Get-RedisHealth -Server 127.0.0.1 -Port {redis.Port} -Credential $bad -Verbose | Out-Default; Get-RedisHealth -Uri 'redis://ops:wrong-pw-55512@127.0.0.1:{redis.Port}/0' -Verbose");
        Assert.Null(run.Terminating);
        Assert.Empty(run.Errors);
        var objects = run.Output.ToList();
        var r = Assert.Single(objects);
        Assert.Equal("Critical", r.Properties["Status"].Value.ToString());
        Assert.Equal("RedisAuthenticationFailed", P(r, "ErrorId"));
        var everything = string.Join("\n", run.Verbose.Concat(objects.Select(o => (string)P(o, "Message")! + P(o, "Target")))) + s.Host.Text;
        Assert.Contains("refused the login of user 'ops'", everything);
        Assert.DoesNotContain("wrong-pw-55512", everything);
        Assert.DoesNotContain("ops-secret-4490", everything);
        Assert.DoesNotContain("wrong-pw-55512", s.Host.Text);
    }

    [Fact]
    public void A_TLS_port_is_checked_against_the_CA_given_and_refused_without_it()
    {
        using var redis = RedisServer.Start(new RedisServerOptions { Tls = true });
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup(tls: true));
        var ok = s.Invoke("Get-RedisHealth @Redis -Check Reachable, Latency");
        Assert.All(ok, r => Assert.Equal("Healthy", r.Properties["Status"].Value.ToString()));
        Assert.StartsWith("rediss://", (string)P(ok[0], "Target")!);
        var uri = s.Invoke($"Get-RedisHealth -Uri 'rediss://127.0.0.1:{redis.TlsPort}' -SkipCertificateCheck -Check Reachable");
        Assert.Equal("Healthy", uri[0].Properties["Status"].Value.ToString());
        var untrusted = s.Invoke($"Get-RedisHealth -Server 127.0.0.1 -Port {redis.TlsPort} -Tls -Check Reachable -TimeoutSec 3");
        Assert.Equal("Critical", untrusted[0].Properties["Status"].Value.ToString());
        Assert.Equal("RedisTlsFailed", P(untrusted[0], "ErrorId"));
        // The plain port answers too, and redis-cli on the TLS port agrees with what OpsTools saw.
        Assert.Equal("PONG", redis.Cli("PING").Trim());
    }

    [Fact]
    public void A_server_that_requires_client_certificates_takes_the_certificate_and_key_files_and_refuses_a_client_without_one()
    {
        using var redis = RedisServer.Start(new RedisServerOptions { Tls = true, TlsAuthClients = true });
        redis.TlsCli("SET", "seen-through-tls", "yes");
        var keyText = File.ReadAllText(redis.ClientKeyFile!);
        var keyLine = keyText.Split('\n')[1]; // a line of the key's base64: must never show
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup(tls: true));
        var ok = s.Run("Get-RedisHealth @Redis -Check Reachable, Keyspace -Verbose");
        Assert.Empty(ok.Errors);
        Assert.Equal("Healthy", P(Only(ok.Output, "Reachable"), "Status")!.ToString());
        Assert.Equal(1L, Convert.ToInt64(P(Only(ok.Output, "Keyspace"), "Value"), CultureInfo.InvariantCulture));
        Assert.Contains(ok.Verbose, v => v.Contains("client certificate " + redis.ClientCertificateFile));
        // Keys through the same connection, and redis-cli (with its own --cert/--key) sees what OpsTools wrote.
        var keys = s.Invoke("Get-RedisKey @Redis -Pattern 'seen-*'");
        Assert.Equal("seen-through-tls", P(Assert.Single(keys), "Key"));

        // Without a certificate, or with one from a CA the server does not trust: one Critical result that says TLS, no key text anywhere.
        var without = s.Run($"Get-RedisHealth -Server 127.0.0.1 -Port {redis.TlsPort} -CaCertificate '{redis.CaFile}' -Check Reachable -TimeoutSec 3");
        var r = Only(without.Output, "Reachable");
        Assert.Equal("Critical", P(r, "Status")!.ToString());
        Assert.Contains((string)P(r, "ErrorId")!, new[] { "RedisTlsFailed", "RedisUnreachable" });
        var stranger = s.Run($"Get-RedisHealth -Server 127.0.0.1 -Port {redis.TlsPort} -CaCertificate '{redis.CaFile}' -ClientCertificate '{redis.StrangerCertificateFile}' -ClientKey '{redis.StrangerKeyFile}' -Check Reachable -TimeoutSec 3");
        Assert.Equal("Critical", P(Only(stranger.Output, "Reachable"), "Status")!.ToString());

        // A key that does not belong to the certificate, and a missing file: clear errors that name the files, never their content.
        var mismatch = s.Run($"Get-RedisHealth -Server 127.0.0.1 -Port {redis.TlsPort} -CaCertificate '{redis.CaFile}' -ClientCertificate '{redis.ClientCertificateFile}' -ClientKey '{redis.StrangerKeyFile}' -Check Reachable -TimeoutSec 3");
        var mismatchText = (mismatch.Terminating?.Message ?? "") + (mismatch.Terminating as IContainsErrorRecord)?.ErrorRecord.FullyQualifiedErrorId + string.Join("\n", mismatch.Output.Select(o => P(o, "Message") + " " + P(o, "ErrorId")).Concat(mismatch.Errors.Select(e => e.FullyQualifiedErrorId + " " + e.Exception.Message)));
        Assert.Contains("RedisClientCertificateInvalid", mismatchText);
        Assert.Contains(redis.StrangerKeyFile!, mismatchText);
        var missing = s.Run($"Get-RedisHealth -Server 127.0.0.1 -Port {redis.TlsPort} -ClientCertificate '{redis.Directory}/nope.pem' -Check Reachable");
        var missingError = (missing.Terminating as IContainsErrorRecord)?.ErrorRecord ?? Assert.Single(missing.Errors); // statement-terminating: the error stream of a script
        Assert.Equal("RedisClientCertificateNotFound", missingError.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Empty(missing.Output);

        // The environment file's Redis section names the files relative to itself.
        var envDir = Directory.CreateTempSubdirectory("opstools-redis-env-").FullName;
        try
        {
            File.Copy(redis.ClientCertificateFile!, Path.Combine(envDir, "ops.crt"));
            File.Copy(redis.ClientKeyFile!, Path.Combine(envDir, "ops.key"));
            File.WriteAllText(Path.Combine(envDir, "cache.ops.psd1"),
                $"@{{ Name = 'cache'; Redis = @{{ Host = '127.0.0.1'; Port = {redis.TlsPort}; CaCertificate = '{redis.CaFile}'; ClientCertificate = 'ops.crt'; ClientKey = 'ops.key' }} }}");
            var env = s.Run($"Get-RedisHealth -Environment '{Path.Combine(envDir, "cache.ops.psd1")}' -Check Reachable -TimeoutSec 5");
            Assert.Empty(env.Errors);
            Assert.Equal("Healthy", P(Only(env.Output, "Reachable"), "Status")!.ToString());
            File.WriteAllText(Path.Combine(envDir, "bad.ops.psd1"), "@{ Name = 'bad'; Redis = @{ Host = '127.0.0.1'; ClientKey = 'ops.key' } }");
            var bad = s.Run($"Get-RedisHealth -Environment '{Path.Combine(envDir, "bad.ops.psd1")}' -Check Reachable");
            Assert.Contains("ClientKey: a key without its certificate", (bad.Terminating?.Message ?? "") + string.Join(" ", bad.Errors.Select(e => e.Exception.Message)));
        }
        finally { Directory.Delete(envDir, true); }

        var everything = string.Join("\n", new[] { ok, without, stranger, mismatch, missing }.SelectMany(x =>
            x.Output.SelectMany(o => o.Properties.Select(p => p.Value?.ToString() ?? "")).Concat(x.Errors.Select(e => e.ToString() + e.Exception)).Concat(x.Verbose)
             .Append(x.Terminating?.ToString() ?? "")));
        Assert.DoesNotContain(keyLine, everything);
        Assert.DoesNotContain("PRIVATE KEY", everything);
        Assert.Equal("yes", redis.TlsCli("GET", "seen-through-tls").Trim());
    }

    [Fact]
    public void A_server_that_is_down_is_one_critical_result_and_the_next_check_after_a_restart_is_healthy_again()
    {
        using var redis = RedisServer.Start();
        using var s = new ModuleSession();
        s.Invoke(redis.PowerShellSetup());
        Assert.Equal("Healthy", s.Invoke("Get-RedisHealth @Redis -Check Reachable")[0].Properties["Status"].Value.ToString());
        redis.Kill();
        var down = s.Invoke("Get-RedisHealth @Redis");
        var r = Assert.Single(down);
        Assert.Equal("Critical", r.Properties["Status"].Value.ToString());
        Assert.Equal("Reachable", P(r, "Check"));
        Assert.Contains("not reachable", (string)P(r, "Message")!);
        redis.Restart();
        Assert.Equal("Healthy", s.Invoke("Get-RedisHealth @Redis -Check Reachable")[0].Properties["Status"].Value.ToString());
        var nobody = s.Invoke($"Get-RedisHealth -Server 127.0.0.1 -Port {HealthServer.FreePort()} -TimeoutSec 2");
        Assert.Equal("RedisUnreachable", P(Assert.Single(nobody), "ErrorId"));
    }
}
