using OpsTools.Engine.Metrics;
using B = OpsTools.Engine.Metrics.HistogramQuantile.Bucket;

namespace OpsTools.Engine.Tests.Metrics;

/// <summary>histogram_quantile's rules, with the figures Prometheus's own test suite expects for the same buckets (test data written here).</summary>
public class HistogramQuantileTests
{
    // Cumulative counts at one instant: le 0.1 → 50, 0.2 → 70, 1 → 110, +Inf → 120 (only positive bounds).
    private static readonly B[] Positive = { new(0.1, 50), new(0.2, 70), new(1, 110), new(double.PositiveInfinity, 120) };
    // Lowest bound negative: -0.2 → 10, -0.1 → 20, 0.3 → 20, +Inf → 30.
    private static readonly B[] Negative = { new(-0.2, 10), new(-0.1, 20), new(0.3, 20), new(double.PositiveInfinity, 30) };

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.2, 0.048)]
    [InlineData(0.5, 0.15)]
    [InlineData(0.8, 0.72)]
    [InlineData(1.0, 1.0)]
    public void Quantiles_of_a_positive_histogram_interpolate_inside_the_bucket_from_zero(double q, double expected) =>
        Assert.Equal(expected, HistogramQuantile.Compute(q, Positive), 12);

    [Theory]
    [InlineData(0.0, -0.2)]
    [InlineData(0.2, -0.2)]
    [InlineData(0.5, -0.15)]
    [InlineData(0.8, 0.3)]
    [InlineData(1.0, 0.3)]
    public void A_lowest_bucket_at_or_below_zero_gives_its_bound_and_the_Inf_bucket_the_second_highest_bound(double q, double expected) =>
        Assert.Equal(expected, HistogramQuantile.Compute(q, Negative), 12);

    [Fact]
    public void Quantiles_in_the_middle_of_buckets_are_exact()
    {
        B[] b = { new(0, 0), new(2, 1), new(4, 2), new(6, 3), new(double.PositiveInfinity, 3) };
        Assert.Equal(1.0, HistogramQuantile.Compute(1.0 / 6, b));
        Assert.Equal(3.0, HistogramQuantile.Compute(0.5, b));
        Assert.Equal(5.0, HistogramQuantile.Compute(5.0 / 6, b));
    }

    [Fact]
    public void Out_of_range_and_NaN_quantiles_follow_Prometheus()
    {
        Assert.Equal(double.NegativeInfinity, HistogramQuantile.Compute(-0.1, Positive));
        Assert.Equal(double.PositiveInfinity, HistogramQuantile.Compute(1.01, Positive));
        Assert.True(double.IsNaN(HistogramQuantile.Compute(double.NaN, Positive)));
    }

    [Fact]
    public void No_Inf_bucket_fewer_than_two_buckets_or_no_observations_give_NaN()
    {
        Assert.True(double.IsNaN(HistogramQuantile.Compute(0.5, new[] { new B(0.1, 1), new B(1, 2) })));
        Assert.True(double.IsNaN(HistogramQuantile.Compute(0.5, new[] { new B(double.PositiveInfinity, 5) })));
        Assert.True(double.IsNaN(HistogramQuantile.Compute(0.5, new[] { new B(0.1, 0), new B(double.PositiveInfinity, 0) })));
        Assert.True(double.IsNaN(HistogramQuantile.Compute(0.5, Array.Empty<B>())));
    }

    [Fact]
    public void Buckets_in_any_order_with_equal_bounds_written_differently_are_sorted_and_merged()
    {
        // le="0.2", le="2e-1", le="2.0e-1" are one bound; their counts add up.
        var bounds = new[] { "0.1", "0.2", "2e-1", "2.0e-1", "+Inf" }.Select(s => { Assert.True(HistogramQuantile.TryParseBound(s, out var d)); return d; }).ToArray();
        B[] b = { new(bounds[4], 4), new(bounds[2], 1), new(bounds[0], 1), new(bounds[3], 1), new(bounds[1], 1) };
        // merged: 0.1 → 1, 0.2 → 3, +Inf → 4; rank 2 falls in (0.1, 0.2]: 0.1 + 0.1 * (1/2)
        Assert.Equal(0.1 + (0.2 - 0.1) * (1.0 / 2.0), HistogramQuantile.Compute(0.5, b));
    }

    [Fact]
    public void Counts_that_go_down_are_raised_to_the_running_maximum_and_reported()
    {
        B[] b = { new(1, 10), new(2, 8), new(3, 12), new(double.PositiveInfinity, 12) };
        var q = HistogramQuantile.Compute(0.5, b, out var forced);
        Assert.True(forced);
        Assert.Equal(1 * (6.0 / 10.0), q); // rank 6 in the first bucket: 0 + 1 * 6/10
        Assert.Equal(2.25, HistogramQuantile.Compute(0.875, b)); // rank 10.5: (2, 3] holds 10 → 12: 2 + 1 * 0.5/2
        HistogramQuantile.Compute(0.5, Positive, out forced);
        Assert.False(forced);
    }

    [Fact]
    public void Counts_that_differ_by_float_noise_are_treated_as_equal()
    {
        // 100 and 100 + 1e-11: a relative difference below 1e-12 is noise, not an observation.
        B[] b = { new(1, 100), new(2, 100 + 1e-11), new(double.PositiveInfinity, 100 + 1e-11) };
        Assert.Equal(1.0, HistogramQuantile.Compute(1.0, b));
    }
}
