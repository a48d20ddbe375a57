using System.Globalization;

namespace OpsTools.Engine.Tests.Units;

public class ByteSizeTests
{
    [Fact]
    public void A_size_reads_the_same_in_a_German_culture()
    {
        var before = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = new CultureInfo("de-DE");
            var size = new ByteSize(1_610_612_736); // 1.5 GiB
            Assert.Equal("1.5 GiB", size.ToString());
            Assert.Equal("1.5 GiB", $"{size}");
            Assert.Equal("1.5 GB", size.ToString(ByteFormat.PostgresShort));
            Assert.Equal("1.61 GB", size.ToString(ByteFormat.Docker));
            Assert.Equal("1.5GiB", size.ToString(ByteFormat.DockerBinary));
            Assert.Contains("1.5 GB behind", OpsTools.Engine.Database.DbHealth.ReplicaStatus("r1", "streaming", TimeSpan.Zero, 1_610_612_736, new()).Item2);
            Assert.Equal(size, ByteSize.Parse("1.5 GiB"));
            Assert.Equal(size, ByteSize.Parse("1.5GB", ByteFormat.Postgres));
        }
        finally { (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = before; }
    }

    [Theory]
    [InlineData(0L, "0 B", "0 bytes", "0 B", "0")]
    [InlineData(1023L, "1023 B", "1023 bytes", "1.02 kB", "1023")]
    [InlineData(1024L, "1 KiB", "1.0 kB", "1.02 kB", "1.0K")]
    [InlineData(3L << 20, "3 MiB", "3.0 MB", "3.15 MB", "3.0M")]
    [InlineData(13_207_024_435L, "12.3 GiB", "12.3 GB", "13.2 GB", "13G")]
    [InlineData(-2048L, "-2 KiB", "-2.0 kB", "-2.05 kB", "-2.0K")]
    public void Each_dialect_has_its_units_and_digits(long bytes, string iec, string pg, string docker, string du)
    {
        Assert.Equal(iec, new ByteSize(bytes).ToString());
        Assert.Equal(pg, ByteSize.Format(bytes, ByteFormat.Postgres));
        Assert.Equal(docker, ByteSize.Format(bytes, ByteFormat.Docker));
        Assert.Equal(du, ByteSize.Format(bytes, ByteFormat.Du));
    }

    [Theory]
    [InlineData("512", null, 512L)]
    [InlineData("1.5 GiB", null, 1_610_612_736L)]
    [InlineData("64KiB", null, 65_536L)]
    [InlineData("10MB", null, 10_000_000L)]
    [InlineData("10MB", "docker", 10_000_000L)]
    [InlineData("8 kB", "pg", 8192L)]
    [InlineData("8 kB", "docker", 8000L)]
    [InlineData("4.1K", "du", 4198L)]
    [InlineData("3 bytes", null, 3L)]
    [InlineData("1e3", null, 1000L)]
    public void Sizes_parse_in_the_dialect_they_were_written_in(string text, string? dialect, long bytes)
    {
        var format = dialect switch { "pg" => ByteFormat.Postgres, "docker" => ByteFormat.Docker, "du" => ByteFormat.Du, _ => null };
        Assert.True(ByteSize.TryParse(text, out var size, format), text);
        Assert.Equal(bytes, size.Bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("1,5 GB")]
    [InlineData("lots")]
    [InlineData("5 XB")]
    [InlineData("1 GiBB")]
    [InlineData("1e30 EiB")]
    public void Anything_else_is_not_a_size(string text)
    {
        Assert.False(ByteSize.TryParse(text, out _));
        Assert.Throws<FormatException>(() => ByteSize.Parse(text));
    }

    [Fact]
    public void Format_names_pick_a_dialect_and_never_the_culture()
    {
        var size = new ByteSize(8_704_000);
        Assert.Equal("8.3 MB", size.ToString("pg", CultureInfo.GetCultureInfo("de-DE")));
        Assert.Equal("8.3 MiB", string.Format(CultureInfo.GetCultureInfo("fr-FR"), "{0}", size));
        Assert.Equal("8.7 MB", string.Format(CultureInfo.GetCultureInfo("de-DE"), "{0:docker}", size));
        Assert.Throws<FormatException>(() => size.ToString("N2", null));
    }
}
