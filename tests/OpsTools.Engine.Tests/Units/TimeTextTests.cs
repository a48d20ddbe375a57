using System.Globalization;

namespace OpsTools.Engine.Tests.Units;

public class TimeTextTests
{
    [Theory]
    [InlineData("1d", 86400)]
    [InlineData("30m", 1800)]
    [InlineData("2h", 7200)]
    [InlineData("1h30m", 5400)]
    [InlineData("1h 30m", 5400)]
    [InlineData("1 hour 30 minutes", 5400)]
    [InlineData("1 hour ago", 3600)]
    [InlineData("2 days", 172800)]
    [InlineData("1w", 604800)]
    [InlineData("1.5d", 129600)]
    [InlineData("500ms", 0.5)]
    [InlineData("1m0s", 60)]
    [InlineData("15.5s", 15.5)]
    [InlineData("5min", 300)]
    [InlineData("PT1H30M", 5400)]
    [InlineData("P1D", 86400)]
    [InlineData("00:30:00", 1800)]
    [InlineData("1.02:00:00", 93600)]
    [InlineData("45", 45)]
    public void Durations_read_as_admins_write_them(string text, double seconds)
    {
        Assert.True(TimeText.TryParseDuration(text, out var span), text);
        Assert.Equal(TimeSpan.FromSeconds(seconds), span);
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("1kb")]
    [InlineData("1x")]
    [InlineData("h")]
    [InlineData("1h garbage")]
    [InlineData("1e400d")]
    [InlineData("2024-05-01")]
    public void Anything_else_is_not_a_duration(string text) => Assert.False(TimeText.TryParseDuration(text, out _), text);

    [Fact]
    public void A_bare_number_counts_in_the_unit_the_parameter_names()
    {
        Assert.True(TimeText.TryParseDuration("150", out var ms, TimeSpan.FromMilliseconds(1)));
        Assert.Equal(TimeSpan.FromMilliseconds(150), ms);
        Assert.True(TimeText.TryToDuration(150, out var sec));
        Assert.Equal(TimeSpan.FromSeconds(150), sec);
    }

    [Fact]
    public void Points_in_time_are_a_duration_back_from_now_or_a_date_in_UTC()
    {
        var now = new DateTime(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc);
        Assert.True(TimeText.TryParsePointInTime("1d", now, out var t));
        Assert.Equal(now.AddDays(-1), t);
        Assert.True(TimeText.TryParsePointInTime("90 minutes ago", now, out t));
        Assert.Equal(now.AddMinutes(-90), t);
        Assert.True(TimeText.TryParsePointInTime("2026-12-01T09:00:00Z", now, out t));
        Assert.Equal(new DateTime(2026, 12, 1, 9, 0, 0, DateTimeKind.Utc), t);
        Assert.Equal(DateTimeKind.Utc, t.Kind);
        Assert.True(TimeText.TryParsePointInTime("2026-12-01T09:00:00+02:00", now, out t));
        Assert.Equal(new DateTime(2026, 12, 1, 7, 0, 0, DateTimeKind.Utc), t);
        Assert.True(TimeText.TryToPointInTime(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.FromHours(1)), now, out t));
        Assert.Equal(new DateTime(2026, 12, 1, 8, 0, 0, DateTimeKind.Utc), t);
        Assert.True(TimeText.TryToPointInTime(TimeSpan.FromHours(2), now, out t));
        Assert.Equal(now.AddHours(-2), t);
        Assert.False(TimeText.TryParsePointInTime("the other day", now, out _));
        Assert.False(TimeText.TryParsePointInTime("100000000d", now, out _));
    }

    [Fact]
    public void Parsing_does_not_follow_the_current_culture()
    {
        var before = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.True(TimeText.TryParseDuration("1.5h", out var span));
            Assert.Equal(TimeSpan.FromMinutes(90), span);
            Assert.False(TimeText.TryParseDuration("1,5h", out _));
        }
        finally { CultureInfo.CurrentCulture = before; }
    }
}
