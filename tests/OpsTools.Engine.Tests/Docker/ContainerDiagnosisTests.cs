using System.Net.Sockets;
using OpsTools.Docker;
using OpsTools.Engine.Docker;

namespace OpsTools.Engine.Tests.Docker;

/// <summary>How one container snapshot becomes a Status and a Diagnosis (Get-ContainerHealth), and the socket-permission translation.</summary>
public class ContainerDiagnosisTests
{
    private static ContainerInfo C(string state = "running", string health = "healthy", long restarts = 0, long? exit = null, bool oom = false, DateTime? started = null) => new()
    {
        Id = "abc123", Name = "shop_api_1", ComposeProject = "shop", ComposeService = "api", State = state, Health = health,
        RestartCount = restarts, ExitCode = exit, OomKilled = oom, StartedAt = started ?? DateTime.UtcNow.AddHours(-1), Status = state,
        LastHealthOutput = health == "unhealthy" ? "wget: server returned error: HTTP/1.0 500\n" : "ok", HealthFailingStreak = health == "unhealthy" ? 3 : 0,
    };

    private static ContainerHealthResult D(ContainerInfo c, ContainerHealthOptions? o = null) => ContainerDiagnosis.Diagnose(c, o ?? new ContainerHealthOptions());

    [Fact]
    public void Running_and_healthy_or_without_a_health_check_is_Healthy()
    {
        Assert.Equal(CheckStatus.Healthy, D(C()).Status);
        Assert.Equal(CheckStatus.Healthy, D(C(health: "none")).Status);
        Assert.Equal("Docker", D(C()).Area);
        Assert.Equal("ContainerHealth", D(C()).Check);
    }

    [Fact]
    public void Unhealthy_is_Critical_with_the_last_health_check_output_on_one_line()
    {
        var r = D(C(health: "unhealthy"));
        Assert.Equal(CheckStatus.Critical, r.Status);
        Assert.Contains("last check: wget: server returned error: HTTP/1.0 500", r.Message);
        Assert.Contains("3 failed health checks", r.Diagnosis);
    }

    [Theory]
    [InlineData("restarting", 1L, false, CheckStatus.Critical, "restarting")]
    [InlineData("exited", 2L, false, CheckStatus.Critical, "exited with code 2")]
    [InlineData("exited", 137L, true, CheckStatus.Critical, "OOM killed")]
    [InlineData("exited", 0L, false, CheckStatus.Warning, "not running")]
    [InlineData("dead", 1L, false, CheckStatus.Critical, "dead")]
    [InlineData("paused", null, false, CheckStatus.Warning, "paused")]
    public void States_map_to_statuses(string state, long? exit, bool oom, CheckStatus expected, string says)
    {
        var r = D(C(state, "none", exit: exit, oom: oom));
        Assert.Equal(expected, r.Status);
        Assert.Contains(says, r.Message);
    }

    [Fact]
    public void Restarts_need_a_baseline_or_Since_to_be_called_recent()
    {
        var c = C(restarts: 7);
        var snapshot = D(c);
        Assert.Equal(CheckStatus.Warning, snapshot.Status);
        Assert.Contains("cannot tell when", snapshot.Message);
        Assert.Equal(CheckStatus.Healthy, D(c, new ContainerHealthOptions { RestartWarning = 0 }).Status);

        var grown = D(c, new ContainerHealthOptions { Baseline = new Dictionary<string, long> { ["shop_api_1"] = 5 } });
        Assert.Equal(CheckStatus.Warning, grown.Status);
        Assert.Equal(2, grown.RestartsSinceBaseline);
        var same = D(c, new ContainerHealthOptions { Baseline = new Dictionary<string, long> { ["abc123"] = 7 } });
        Assert.Equal(CheckStatus.Healthy, same.Status);

        Assert.True(D(c, new ContainerHealthOptions { Since = DateTime.UtcNow.AddHours(-2) }).RestartedSince);
        var old = D(c, new ContainerHealthOptions { Since = DateTime.UtcNow.AddMinutes(-10) });
        Assert.False(old.RestartedSince); // started an hour ago: no restart in the last 10 minutes
        Assert.Equal(CheckStatus.Healthy, old.Status);
    }

    [Fact]
    public void A_socket_without_permission_is_DockerPermissionDenied()
    {
        // As root (the test machines) a mode-000 socket still connects, so the translation is tested directly.
        var target = DockerTargetResolver.Resolve(new DockerTargetSpec { Host = "unix:///tmp/opstools-denied.sock" });
        var e = DockerErrors.Translate(new HttpRequestException("denied", new SocketException((int)SocketError.AccessDenied)), target, "list containers");
        Assert.NotNull(e);
        Assert.Equal("DockerPermissionDenied", e!.ErrorId);
        Assert.Contains("unix:///tmp/opstools-denied.sock", e.Message);
        Assert.Contains("docker' group", e.Message);
    }
}
