using System.Text;
using System.Text.Json.Nodes;
using OpsTools.Engine.Kubernetes;
using OpsTools.Engine.Notifications;

namespace OpsTools.Engine.Tests.Notifications;

public class NotificationPayloadTests
{
    private static NoticeItem Item(int i, string status = "Critical", string message = "down") =>
        new(NotificationPayloads.DedupKey("prod", "PodHealth", $"shop/api-{i}"), "PodHealth", "Kubernetes", $"shop/api-{i}", status, message, null, null, "prod", DateTime.UtcNow);

    [Fact]
    public void The_JSON_writer_keeps_non_ASCII_and_angle_brackets_as_written_and_escapes_only_what_JSON_requires()
    {
        var json = NotificationJson.Write(new JsonObject { ["t"] = "<@U0123> Größe ≥ 95 % 🚨 & \"q\" \\ \n\u0001" });
        Assert.Equal("{\"t\":\"<@U0123> Größe ≥ 95 % 🚨 & \\\"q\\\" \\\\ \\n\\u0001\"}", json);
        Assert.Equal("<@U0123> Größe ≥ 95 % 🚨 & \"q\" \\ \n\u0001", (string?)JsonNode.Parse(json)!["t"]);
    }

    [Theory]
    [InlineData("PagerDuty", "payload.summary")]
    [InlineData("Opsgenie", "message")]
    public void An_incident_update_of_several_lines_gives_a_one_line_alert_title_and_keeps_the_whole_text(string service, string titlePath)
    {
        var target = new ResolvedTarget { Name = "pager", Service = service, Key = "k" };
        const string text = "Checkout API answers 500 for most users\nSeverity: P1 (High)\r\nCommander: alice";
        var d = NotificationPlanner.ForMessage(target, "INCIDENT DECLARED: Checkout returns 500", text, "Critical", "prod", "opstools:incident:INC-1", false, new());
        var json = JsonNode.Parse(d.Json)!;
        var title = (string)titlePath.Split('.').Aggregate(json, (n, p) => n[p]!)!;
        Assert.Equal("[prod] INCIDENT DECLARED: Checkout returns 500: Checkout API answers 500 for most users", title);
        var details = service == "PagerDuty" ? json["payload"]!["custom_details"]! : json["details"]!;
        Assert.Equal(text, (string?)details["message"]);
    }

    [Fact]
    public void A_dedup_key_is_stable_and_a_long_one_keeps_to_255_characters_with_a_hash()
    {
        Assert.Equal("opstools:prod:DbHealth:db1", NotificationPayloads.DedupKey("prod", "DbHealth", "db1"));
        var longTarget = new string('x', 400);
        var a = NotificationPayloads.DedupKey("prod", "LogErrors", longTarget);
        Assert.Equal(255, a.Length);
        Assert.Equal(a, NotificationPayloads.DedupKey("prod", "LogErrors", longTarget));
        Assert.NotEqual(a, NotificationPayloads.DedupKey("prod", "LogErrors", longTarget + "y"));
    }

    [Fact]
    public void Slack_keeps_to_50_blocks_and_40000_characters_and_says_what_was_left_out()
    {
        var c = new NoticeContent { Title = "t", Environment = "prod", Problems = Enumerable.Range(1, 200).Select(i => Item(i, message: new string('m', 400))).ToList() };
        var p = NotificationPayloads.Slack(c);
        var o = JsonNode.Parse(p.Json)!;
        Assert.True(p.Truncated);
        Assert.Equal(50, o["blocks"]!.AsArray().Count);
        Assert.Contains("Slack allows 50 blocks", p.Json);
        var text = (string)o["text"]!;
        Assert.True(text.Length <= 40_000, $"{text.Length}");
        Assert.Contains("Slack's limit is 40,000 characters", text);
    }

    [Fact]
    public void Teams_keeps_to_28_KB_and_PagerDuty_to_512_KB()
    {
        var c = new NoticeContent { Title = "t", Environment = "prod", Severity = "Critical", Problems = Enumerable.Range(1, 300).Select(i => Item(i, message: "ü" + new string('m', 300))).ToList() };
        var teams = NotificationPayloads.Teams(c, bareCard: false);
        Assert.True(teams.Truncated);
        Assert.InRange(Encoding.UTF8.GetByteCount(teams.Json), 20 * 1024, 28 * 1024);
        var pd = NotificationPayloads.PagerDutyTrigger("k", "d", new string('s', 2000), "src", "critical", null, null, null,
            new Dictionary<string, string?> { ["message"] = new string('ß', 400_000) }, DateTime.UtcNow);
        Assert.True(pd.Truncated);
        Assert.InRange(Encoding.UTF8.GetByteCount(pd.Json), 500 * 1024, 512 * 1024);
        Assert.Equal(1024, ((string)JsonNode.Parse(pd.Json)!["payload"]!["summary"]!).Length);
        Assert.Contains("cut: PagerDuty's 512 KB limit", pd.Json);
    }

    [Fact]
    public void A_problem_heals_when_checked_again_below_the_level_or_when_its_check_no_longer_reports_it()
    {
        var open = new Dictionary<string, NoticeItem>
        {
            ["opstools:prod:DbHealth:db1"] = new("opstools:prod:DbHealth:db1", "DbHealth", "Database", "db1", "Critical", "x", null, null, "prod", DateTime.UtcNow),
            ["opstools:prod:PodHealth:shop/api-1"] = Item(1),
            ["opstools:prod:Backup:app"] = new("opstools:prod:Backup:app", "Backup", "Backup", "app", "Critical", "x", null, null, "prod", DateTime.UtcNow),
        };
        var results = new List<CheckResult>
        {
            new() { Check = "DbHealth", Target = "db1", Status = CheckStatus.Warning, Environment = "prod" },  // below Critical
            new() { Check = "PodHealth", Target = "shop/api-2", Status = CheckStatus.Critical, Environment = "prod" }, // api-1 gone
        };
        var (problems, resolved) = NotificationPlanner.Compare(results, "Critical", "prod", open);
        Assert.Equal(new[] { "opstools:prod:PodHealth:shop/api-2" }, problems.Select(p => p.DedupKey));
        // the Backup check did not run: it stays open
        Assert.Equal(new[] { "opstools:prod:DbHealth:db1", "opstools:prod:PodHealth:shop/api-1" }, resolved.Select(r => r.DedupKey));
        // at Warning, the same database is still a problem
        Assert.Contains(NotificationPlanner.Compare(results, "Warning", "prod", open).Problems, p => p.Check == "DbHealth");
    }

    [Fact]
    public void A_webhook_template_that_does_not_give_JSON_is_refused_with_the_reason()
    {
        var c = new NoticeContent { Title = "a \"quoted\" title", Environment = "prod" };
        Assert.Equal("a \"quoted\" title", (string?)JsonNode.Parse(NotificationPayloads.Webhook(c, "{\"t\": {{title}}}").Json)!["t"]);
        var e = Assert.Throws<OpsToolsException>(() => NotificationPayloads.Webhook(c, "{\"t\": \"{{title}}\"}"));
        Assert.Equal("WebhookTemplateInvalid", e.ErrorId);
        Assert.Equal("WebhookTemplateInvalid", Assert.Throws<OpsToolsException>(() => NotificationPayloads.Webhook(c, "{\"t\": {{nope}}}")).ErrorId);
    }

    [Fact]
    public void The_shared_retry_loop_keeps_the_Kubernetes_conflict_backoff_and_honours_the_rule()
    {
        Assert.Equal(TimeSpan.Zero, KubeReadChangeWrite.Backoff(2));
        Assert.Equal(TimeSpan.Zero, KubeReadChangeWrite.Backoff(3));
        Assert.InRange(KubeReadChangeWrite.Backoff(4).TotalMilliseconds, 20, 60);
        Assert.InRange(KubeReadChangeWrite.Backoff(9).TotalMilliseconds, 100, 300);
        var calls = 0;
        var result = Retry.RunAsync(n => { calls++; return Task.FromResult(n); }, o => o.Result < 3 ? TimeSpan.Zero : null, 10, null, CancellationToken.None).GetAwaiter().GetResult();
        Assert.Equal(3, result);
        Assert.Equal(3, calls);
        calls = 0;
        Assert.Throws<InvalidOperationException>(() => Retry.RunAsync<int>(_ => { calls++; throw new InvalidOperationException(); }, _ => TimeSpan.Zero, 4, null, CancellationToken.None).GetAwaiter().GetResult());
        Assert.Equal(4, calls);
    }
}
