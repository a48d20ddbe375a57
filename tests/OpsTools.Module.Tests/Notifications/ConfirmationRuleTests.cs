using OpsTools.Module.Tests.Infrastructure;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Notifications;

/// <summary>Send-OpsNotification under the confirmation rule: the receiver (standing in for Slack and PagerDuty) gets nothing, no state file is written.</summary>
public sealed class ConfirmationRuleNotificationTests : IDisposable
{
    public static readonly string[] Commands = { "Send-OpsNotification" };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-confirm-notify-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_is_sent(string command, string mode)
    {
        using var rx = new NotificationReceiver();
        var state = Path.Combine(_dir, "state.json");
        using var s = new ModuleSession();
        s.Set("secret", new System.Net.NetworkCredential("", rx.RoutingKey).SecurePassword);
        s.Set("uri", rx.PagerDuty);
        s.Set("state", state);
        Func<string> snapshot = () => $"requests received: {rx.Requests.Count}; state file: {File.Exists(state)}";
        ConfirmationRule.Check(s, command, mode,
            "[OpsTools.CheckResult]@{ Check = 'DbHealth'; Target = 'db1'; Status = 'Critical'; Message = 'down' } | " +
            "Send-OpsNotification -Service PagerDuty -Secret $secret -Uri $uri -StatePath $state @@", snapshot);
        Assert.Empty(rx.Requests);
    }
}
