using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Notifications;

/// <summary>
/// Send-OpsNotification against local receivers that stand in for Slack, Teams, PagerDuty, Opsgenie and a webhook
/// (tests/OpsTools.TestKit/NotificationReceiver.cs: each checks the published format and answers as the service does).
/// No real service is reachable here; the receivers' URLs and keys reach the command the way real ones do (environment
/// variables named by the environment file), so pointing those variables at real services runs the same pipelines.
/// </summary>
public sealed class NotificationTests : IDisposable
{
    private readonly NotificationReceiver _rx = new();
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-notify-").FullName;
    private readonly string _id = Guid.NewGuid().ToString("N")[..8].ToUpperInvariant();
    private readonly List<string> _vars = new();

    public void Dispose()
    {
        foreach (var v in _vars) Environment.SetEnvironmentVariable(v, null);
        _rx.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string Var(string name, string value)
    {
        var v = $"OPSTOOLS_T_{name}_{_id}";
        Environment.SetEnvironmentVariable(v, value);
        _vars.Add(v);
        return v;
    }

    /// <summary>An environment file with one target of each kind pointing at the receiver.</summary>
    private string EnvFile(string extraTargets = "", string defaultTarget = "slack", string extraSections = "")
    {
        var path = Path.Combine(_dir, "prod.ops.psd1");
        File.WriteAllText(path, $$"""
            @{
                Name = 'prod'
                {{extraSections}}
                Notifications = @{
                    Default = '{{defaultTarget}}'
                    Level = 'Warning'
                    StatePath = 'state/notify.json'
                    Targets = @(
                        @{ Name = 'slack'; Service = 'Slack'; UrlVariable = '{{Var("SLACK", _rx.SlackWebhook().ToString())}}'; Mention = '<!subteam^S0ONCALL>' }
                        @{ Name = 'slackbot'; Service = 'Slack'; KeyVariable = '{{Var("SLACKBOT", _rx.SlackToken)}}'; Channel = '#ops'; Uri = '{{_rx.SlackApi}}' }
                        @{ Name = 'teams'; Service = 'Teams'; UrlVariable = '{{Var("TEAMS", _rx.TeamsWebhook().ToString())}}' }
                        @{ Name = 'teamscard'; Service = 'Teams'; Format = 'Card'; UrlVariable = '{{Var("TEAMSCARD", _rx.TeamsWebhook(bareCard: true).ToString())}}' }
                        @{ Name = 'pager'; Service = 'PagerDuty'; KeyVariable = '{{Var("PD", _rx.RoutingKey)}}'; Uri = '{{_rx.PagerDuty}}' }
                        @{ Name = 'genie'; Service = 'Opsgenie'; KeyVariable = '{{Var("OG", _rx.OpsgenieKey)}}'; Uri = '{{_rx.Opsgenie}}' }
                        @{ Name = 'hook'; Service = 'Webhook'; UrlVariable = '{{Var("HOOK", _rx.Webhook().ToString())}}'; Template = '@@TEMPLATE@@' }
                        {{extraTargets}}
                    )
                }
            }
            """.Replace("@@TEMPLATE@@", HookTemplate), new UTF8Encoding(false));
        return path;
    }

    private const string HookTemplate = "{\"summary\": {{title}}, \"env\": {{environment}}, \"n\": {{count}}, \"items\": {{problems}}}";

    private static ModuleSession Session(string env)
    {
        var s = new ModuleSession();
        s.Set("envFile", env);
        s.Invoke("""
            function New-Result($Check, $Target, $Status, $Message) {
                [OpsTools.CheckResult]@{ Check = $Check; Area = 'Test'; Target = $Target; Status = $Status; Message = $Message; Environment = 'prod' }
            }
            """);
        return s;
    }

    private const string Problems = """
        $results = @(
            New-Result 'DbHealth' 'db1' Critical 'Connections 96 % of max_connections (critical ≥ 95 %): Größe überschritten'
            New-Result 'RedisHealth' 'cache1' Warning 'hit rate 81 % < 90 %'
            New-Result 'DiskUsage' '/' Healthy 'fine'
        )
        """;

    private void NoViolations() => Assert.True(_rx.Violations.IsEmpty, string.Join("\n", _rx.Violations));

    [Fact]
    public void A_Slack_summary_arrives_as_UTF8_with_the_mention_intact_and_data_escaped_as_Slack_wants()
    {
        using var s = Session(EnvFile());
        var r = s.Run(Problems + "; $results | Send-OpsNotification -Environment $envFile");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
        var result = Assert.Single(r.Output);
        Assert.Equal("Accepted", RunResult.Prop(result, "Status")!.ToString());
        Assert.Equal(200, RunResult.Prop(result, "HttpStatus"));
        Assert.Equal(2, RunResult.Prop(result, "Problems"));
        var req = Assert.Single(_rx.To("/slack/services/"));
        var text = Encoding.UTF8.GetString(req.Bytes);
        // exact bytes: UTF-8 as written, the mention unescaped, Slack's own escaping of data (< in a check message)
        Assert.Contains("<!subteam^S0ONCALL> *[prod] 1 critical, 1 warning of 3 checks*", text);
        Assert.Contains("Größe überschritten", text);
        Assert.Contains("critical ≥ 95 %", text);
        Assert.Contains("hit rate 81 % &lt; 90 %", text);
        Assert.DoesNotContain("\\u", text);
        Assert.Contains(Encoding.UTF8.GetBytes("Größe").AsEnumerable(), _ => true);
        Assert.True(req.Bytes.AsSpan().IndexOf(new byte[] { 0x47, 0x72, 0xC3, 0xB6, 0xC3, 0x9F, 0x65 }) >= 0, "Größe as UTF-8 bytes");
        Assert.StartsWith("application/json; charset=utf-8", req.Headers["Content-Type"]);
        var blocks = (JsonArray)req.Json!["blocks"]!;
        Assert.Equal("header", (string?)blocks[0]!["type"]);
        NoViolations();
    }

    [Fact]
    public void WhatIf_prints_the_exact_payload_with_the_webhook_URL_and_keys_masked_and_sends_nothing()
    {
        using var s = Session(EnvFile());
        s.Host.ClearText();
        var r = s.Run(Problems + "; $results | Send-OpsNotification -Environment $envFile -Target slack, pager -WhatIf");
        Assert.Empty(r.Errors);
        Assert.Empty(r.Output);
        Assert.Empty(_rx.Requests);
        var shown = s.Host.Text;
        Assert.Contains("What if:", shown);
        Assert.Contains("\"text\":\"<!subteam^S0ONCALL> *[prod] 1 critical, 1 warning of 3 checks*", shown);
        Assert.Contains($"POST http://127.0.0.1:{_rx.Base.Port}/***", shown);
        Assert.Contains("\"routing_key\":\"***\"", shown);
        Assert.Contains("\"dedup_key\":\"opstools:prod:DbHealth:db1\"", shown);
        Assert.DoesNotContain("XXXXXXXXXXXXXXXXXXXXXXXX", shown);
        Assert.DoesNotContain(_rx.RoutingKey, shown);
        Assert.False(File.Exists(Path.Combine(_dir, "state", "notify.json")), "a dry run writes no state");
    }

    [Fact]
    public void PagerDuty_gets_one_alert_per_problem_and_a_resolve_when_the_problem_healed_on_the_next_run()
    {
        using var s = Session(EnvFile());
        var first = s.Run(Problems + "; $results | Send-OpsNotification -Environment $envFile -Target pager");
        Assert.Empty(first.Errors);
        Assert.Equal(new[] { "Trigger", "Trigger" }, first.Output.Select(o => RunResult.Prop(o, "Action")!.ToString()));
        Assert.Equal(new[] { "opstools:prod:DbHealth:db1", "opstools:prod:RedisHealth:cache1" }, _rx.PagerDutyOpen.Keys.Order());
        var trigger = _rx.To("/pagerduty/").First().Json!;
        Assert.Equal("critical", (string?)trigger["payload"]!["severity"]);
        Assert.Equal("prod", (string?)trigger["payload"]!["source"]);
        var state = Path.Combine(_dir, "state", "notify.json");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(state));

        // next run: the database is fine again, Redis still warns, the disk check did not run
        var second = s.Run("""
            @(New-Result 'DbHealth' 'db1' Healthy 'Connections 40 %'; New-Result 'RedisHealth' 'cache1' Warning 'hit rate 82 % < 90 %') |
                Send-OpsNotification -Environment $envFile -Target pager
            """);
        Assert.Empty(second.Errors);
        var actions = second.Output.Select(o => $"{RunResult.Prop(o, "Action")} {RunResult.Prop(o, "DedupKey")} {RunResult.Prop(o, "Status")}").ToList();
        Assert.Equal(new[] { "Trigger opstools:prod:RedisHealth:cache1 Accepted", "Resolve opstools:prod:DbHealth:db1 Accepted" }, actions);
        Assert.Equal(new[] { "opstools:prod:RedisHealth:cache1" }, _rx.PagerDutyOpen.Keys);
        Assert.DoesNotContain("DbHealth", File.ReadAllText(state));
        NoViolations();
    }

    [Fact]
    public void A_429_waits_for_Retry_After_and_5xx_answers_are_retried_with_backoff()
    {
        using var s = Session(EnvFile());
        _rx.Script("/slack/services/", new NotificationReceiver.Answer(429, "rate_limited", 1));
        _rx.Script("/pagerduty/", new NotificationReceiver.Answer(502, "bad gateway"), new NotificationReceiver.Answer(503, "unavailable"));
        var sw = Stopwatch.StartNew();
        var r = s.Run(Problems + "; $results | Select-Object -First 1 | Send-OpsNotification -Environment $envFile -Target slack, pager -Verbose");
        Assert.Empty(r.Errors);
        var byTarget = r.Output.ToDictionary(o => RunResult.Prop(o, "Target")!.ToString()!);
        Assert.Equal(2, RunResult.Prop(byTarget["slack"], "Attempts"));
        Assert.Equal(3, RunResult.Prop(byTarget["pager"], "Attempts"));
        Assert.All(byTarget.Values, o => Assert.Equal("Accepted", RunResult.Prop(o, "Status")!.ToString()));
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(1), "waited for Retry-After: 1");
        var slackTimes = _rx.To("/slack/services/").Select(x => x.At).ToList();
        Assert.True(slackTimes[1] - slackTimes[0] >= TimeSpan.FromMilliseconds(950), "the second attempt came after Retry-After");
        Assert.Contains(r.Verbose, v => v.Contains("attempt 2 of 4", StringComparison.Ordinal));
    }

    [Fact]
    public void A_service_that_keeps_failing_is_a_Failed_result_and_a_NotificationFailed_error_without_the_secret()
    {
        using var s = Session(EnvFile());
        _rx.Script("/teams/", Enumerable.Repeat(new NotificationReceiver.Answer(500, "boom"), 5).ToArray());
        var r = s.Run(Problems + "; $results | Send-OpsNotification -Environment $envFile -Target teams -MaxAttempts 2 -Verbose");
        var result = Assert.Single(r.Output);
        Assert.Equal("Failed", RunResult.Prop(result, "Status")!.ToString());
        Assert.Equal(500, RunResult.Prop(result, "HttpStatus"));
        Assert.Equal(2, RunResult.Prop(result, "Attempts"));
        var error = Assert.Single(r.Errors);
        Assert.Equal("NotificationFailed,OpsTools.Commands.Notifications.SendOpsNotificationCommand", error.FullyQualifiedErrorId);
        var everything = string.Join("\n", r.Verbose) + error + RunResult.Prop(result, "Reason") + s.Host.Text;
        Assert.DoesNotContain("s1gn4tur3s3cr3t", everything);
        Assert.DoesNotContain("workflows/0f0e", everything);
    }

    [Fact]
    public void An_unreachable_webhook_is_Failed_and_no_message_shows_its_URL()
    {
        var port = HealthServer.FreePort();
        var secretPath = "/services/T1/B1/zzSECRETzzSECRETzz";
        var env = EnvFile($"@{{ Name = 'dead'; Service = 'Slack'; UrlVariable = '{Var("DEAD", $"http://127.0.0.1:{port}{secretPath}")}' }}");
        using var s = Session(env);
        var r = s.Run(Problems + "; $results | Send-OpsNotification -Environment $envFile -Target dead -MaxAttempts 2 -TimeoutSec 2 -Verbose");
        var result = Assert.Single(r.Output);
        Assert.Equal("Failed", RunResult.Prop(result, "Status")!.ToString());
        Assert.Null(RunResult.Prop(result, "HttpStatus"));
        var all = string.Join("\n", r.Verbose) + string.Join("\n", r.Errors.Select(e => e.ToString())) + RunResult.Prop(result, "Reason");
        Assert.Contains($"http://127.0.0.1:{port}/***", all);
        Assert.DoesNotContain("zzSECRETzz", all);
    }

    [Fact]
    public void Slack_rejections_carry_Slacks_reason()
    {
        var env = EnvFile($"@{{ Name = 'wrongchan'; Service = 'Slack'; KeyVariable = '{Var("BOT2", _rx.SlackToken)}'; Channel = '#nowhere'; Uri = '{_rx.SlackApi}' }}");
        _rx.WebhookErrors[_rx.SlackWebhook().AbsolutePath] = "channel_is_archived";
        using var s = Session(env);
        var r = s.Run(Problems + "; $results | Send-OpsNotification -Environment $envFile -Target slack, wrongchan");
        var byTarget = r.Output.ToDictionary(o => RunResult.Prop(o, "Target")!.ToString()!);
        Assert.Equal("Rejected", RunResult.Prop(byTarget["slack"], "Status")!.ToString());
        Assert.Equal("channel_is_archived", RunResult.Prop(byTarget["slack"], "Reason"));
        Assert.Equal(410, RunResult.Prop(byTarget["slack"], "HttpStatus"));
        Assert.Equal("channel_not_found", RunResult.Prop(byTarget["wrongchan"], "Reason"));
        Assert.Equal(2, r.Errors.Count);
        Assert.All(r.Errors, e => Assert.StartsWith("NotificationRejected", e.FullyQualifiedErrorId));
    }

    [Fact]
    public void Teams_gets_an_Adaptive_Card_in_the_envelope_or_bare_and_a_flow_that_expects_the_other_says_why()
    {
        var env = EnvFile($"@{{ Name = 'teamswrong'; Service = 'Teams'; Format = 'Card'; UrlVariable = '{Var("TW", _rx.TeamsWebhook().ToString())}' }}");
        using var s = Session(env);
        var r = s.Run(Problems + "; $results | Send-OpsNotification -Environment $envFile -Target teams, teamscard, teamswrong");
        var byTarget = r.Output.ToDictionary(o => RunResult.Prop(o, "Target")!.ToString()!);
        Assert.Equal("Accepted", RunResult.Prop(byTarget["teams"], "Status")!.ToString());
        Assert.Equal(202, RunResult.Prop(byTarget["teams"], "HttpStatus"));
        Assert.Equal("Accepted", RunResult.Prop(byTarget["teamscard"], "Status")!.ToString());
        Assert.Equal("Rejected", RunResult.Prop(byTarget["teamswrong"], "Status")!.ToString());
        Assert.StartsWith("TriggerInputSchemaMismatch", RunResult.Prop(byTarget["teamswrong"], "Reason")!.ToString());
        var envelope = _rx.To("/teams/").First().Json!;
        Assert.Equal("1.4", (string?)envelope["attachments"]![0]!["content"]!["version"]);
        Assert.Equal("AdaptiveCard", (string?)_rx.To("/teams-card/").Single().Json!["type"]);
    }

    [Fact]
    public void Size_limits_cut_the_message_and_say_so_Slack_50_blocks_and_Teams_28_KB()
    {
        using var s = Session(EnvFile());
        var r = s.Run("""
            $many = 1..120 | ForEach-Object { New-Result 'PodHealth' "shop/api-$_" Critical ("CrashLoopBackOff: " + ('x' * 400)) }
            $many | Send-OpsNotification -Environment $envFile -Target slack, teams
            """);
        Assert.Empty(r.Errors);
        Assert.All(r.Output, o => Assert.True((bool)RunResult.Prop(o, "Truncated")!));
        var slack = _rx.To("/slack/services/").Single().Json!;
        Assert.Equal(50, ((JsonArray)slack["blocks"]!).Count);
        Assert.Contains("more not shown here: Slack allows 50 blocks", slack.ToJsonString());
        var teams = _rx.To("/teams/").Single();
        Assert.True(teams.Bytes.Length <= 28 * 1024, $"{teams.Bytes.Length} bytes");
        Assert.Contains("more not shown: Teams' limit is 28 KB", teams.Body);
        NoViolations();
    }

    [Fact]
    public void Opsgenie_alerts_are_created_and_closed_by_alias_and_a_wrong_key_is_rejected()
    {
        var env = EnvFile($"@{{ Name = 'badgenie'; Service = 'Opsgenie'; KeyVariable = '{Var("OGBAD", "not-the-key")}'; Uri = '{_rx.Opsgenie}' }}");
        using var s = Session(env);
        var r = s.Run(Problems + "; $results | Send-OpsNotification -Environment $envFile -Target genie, badgenie");
        Assert.Equal(new[] { "opstools:prod:DbHealth:db1", "opstools:prod:RedisHealth:cache1" }, _rx.OpsgenieOpen.Keys.Order());
        var bad = r.Output.Where(o => RunResult.Prop(o, "Target")!.ToString() == "badgenie").ToList();
        Assert.All(bad, o => Assert.Equal("Key format is not valid!", RunResult.Prop(o, "Reason")));
        var created = _rx.To("/opsgenie/").First().Json!;
        Assert.Equal("P1", (string?)created["priority"]);
        var healed = s.Run("@(New-Result 'DbHealth' 'db1' Healthy 'ok'; New-Result 'RedisHealth' 'cache1' Healthy 'ok') | Send-OpsNotification -Environment $envFile -Target genie");
        Assert.Empty(healed.Errors);
        Assert.Empty(_rx.OpsgenieOpen);
        Assert.Contains(_rx.Requests, q => q.Path.EndsWith("/opstools:prod:DbHealth:db1/close", StringComparison.Ordinal) && q.Query.Contains("identifierType=alias"));
    }

    [Fact]
    public void A_webhook_template_gets_JSON_values_and_a_template_that_is_not_JSON_is_an_error()
    {
        var env = EnvFile("@{ Name = 'badhook'; Service = 'Webhook'; UrlVariable = '" + Var("BH", _rx.Webhook("other").ToString()) + "'; Template = '{\"summary\": \"{{title}}\"}' }");
        using var s = Session(env);
        var r = s.Run(Problems + "; $results | Send-OpsNotification -Environment $envFile -Target hook, badhook");
        var sent = _rx.To("/webhook/").Single().Json!;
        Assert.Equal("[prod] 1 critical, 1 warning of 3 checks", (string?)sent["summary"]);
        Assert.Equal(2, (int)sent["n"]!);
        Assert.Equal("opstools:prod:DbHealth:db1", (string?)sent["items"]![0]!["dedupKey"]);
        var error = Assert.Single(r.Errors);
        Assert.StartsWith("WebhookTemplateInvalid", error.FullyQualifiedErrorId);
    }

    [Fact]
    public void A_plain_message_goes_out_as_written_and_a_bot_token_opens_an_incident_channel_with_a_topic()
    {
        using var s = Session(EnvFile());
        var r = s.Run("""
            Send-OpsNotification -Environment $envFile -Target slackbot -Title 'INCIDENT P1: checkout 5xx' -Severity Critical `
                -Message '<@U0123ABC> is commander — Zahlungsfehler seit 09:12 <https://status.example|status>' `
                -CreateChannel 'incident-20261207-checkout' -Topic 'P1 checkout 5xx · commander <@U0123ABC>'
            """);
        Assert.Empty(r.Errors);
        Assert.Equal(new[] { "CreateChannel", "SetTopic", "Message" }, r.Output.Select(o => RunResult.Prop(o, "Action")!.ToString()));
        var id = _rx.Channels["incident-20261207-checkout"];
        var post = _rx.To("/slack/api/chat.postMessage").Single();
        Assert.Equal(id, (string?)post.Json!["channel"]);
        Assert.Contains("\"<@U0123ABC> is commander — Zahlungsfehler seit 09:12 <https://status.example|status>\"", post.Body);
        Assert.Contains("<@U0123ABC>", _rx.To("/slack/api/conversations.setTopic").Single().Body);
        NoViolations();
    }

    [Fact]
    public void A_webhook_URL_written_in_the_environment_file_is_refused()
    {
        var path = Path.Combine(_dir, "bad.ops.psd1");
        File.WriteAllText(path, "@{ Notifications = @{ Targets = @( @{ Name = 'x'; Service = 'Slack'; WebhookUrl = 'https://hooks.slack.com/services/T/B/C' } ) } }");
        using var s = new ModuleSession();
        var r = s.Run($"Get-OpsEnvironment -Path '{path}'");
        var text = r.Terminating?.Message ?? string.Join("\n", r.Errors.Select(e => e.ToString()));
        Assert.Contains("name the variable that holds them with UrlVariable", text);
    }

    [Fact]
    public void Ctrl_C_while_waiting_for_Retry_After_stops_the_command_at_once()
    {
        using var s = Session(EnvFile());
        _rx.Script("/slack/services/", new NotificationReceiver.Answer(429, "rate_limited", 30));
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(1.5));
        var sw = Stopwatch.StartNew();
        var r = s.Run(Problems + "; $results | Send-OpsNotification -Environment $envFile -Target slack", stop.Token);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"took {sw.Elapsed}");
        Assert.True(r.Terminating is null or System.Management.Automation.PipelineStoppedException, r.Terminating?.ToString());
        Assert.Empty(r.Output); // stopped while waiting: no result, and no second request
        Assert.Single(_rx.To("/slack/services/"));
    }

    [Fact]
    public void The_daily_check_with_Notify_sends_its_summary_to_the_default_target_and_outputs_only_check_results()
    {
        var dead = $"http://127.0.0.1:{HealthServer.FreePort()}/health";
        using var s = Session(EnvFile(extraSections: $"AppHealth = @( @{{ Name = 'api'; Uri = '{dead}' }} )"));
        var r = s.Run("Invoke-DailyCheck -Environment $envFile -Skip Disk, Memory -TimeoutSec 2 -Notify");
        Assert.Null(r.Terminating);
        Assert.NotEmpty(r.Output);
        Assert.All(r.Output, o => Assert.Contains("OpsTools.CheckResult", o.TypeNames));
        var sent = _rx.To("/slack/services/").Single().Body;
        Assert.Contains("*Critical* `AppHealth` " + dead, sent);
        Assert.Empty(r.Warnings);
        NoViolations();
    }
}
