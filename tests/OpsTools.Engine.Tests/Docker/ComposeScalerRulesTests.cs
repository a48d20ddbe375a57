using OpsTools.Docker;
using OpsTools.Engine.Docker;

namespace OpsTools.Engine.Tests.Docker;

/// <summary>Pure rules of Compose scaling and image prune: names, next numbers, readable sizes.</summary>
public class ComposeScalerRulesTests
{
    [Fact]
    public void New_replicas_are_named_like_the_existing_ones()
    {
        Assert.Equal("shop_api_3", ComposeScaler.ContainerName("shop", "api", 3, new[] { "shop_api_1" }));
        Assert.Equal("shop-api-3", ComposeScaler.ContainerName("shop", "api", 3, new[] { "shop-api-1" }));
        Assert.Equal("shop_api_2", ComposeScaler.ContainerName("shop", "api", 2, Array.Empty<string>()));
        // a service named like a prefix of another does not confuse it
        Assert.Equal("shop_api_2", ComposeScaler.ContainerName("shop", "api", 2, new[] { "shop_api_1", "shop-apiworker-1" }));
    }

    [Theory]
    [InlineData(new[] { 1 }, 2, new[] { 2, 3 })]
    [InlineData(new[] { 1, 3 }, 1, new[] { 4 })]     // a gap (2 removed) is not reused while 3 exists
    [InlineData(new int[0], 1, new[] { 1 })]
    [InlineData(new[] { 5, 2 }, 2, new[] { 6, 7 })]
    public void New_replicas_get_the_numbers_above_every_existing_one(int[] used, int count, int[] expected) =>
        Assert.Equal(expected, ComposeScaler.NextNumbers(used, count));

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(999, "999 B")]
    [InlineData(1000, "1 kB")]
    [InlineData(65536, "65.5 kB")]
    [InlineData(142_000_000, "142 MB")]
    [InlineData(1_500_000_000, "1.5 GB")]
    public void Sizes_read_like_docker_prints_them(long bytes, string text) => Assert.Equal(text, ByteSize.Format(bytes, ByteFormat.Docker));
}
