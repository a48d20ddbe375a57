namespace OpsTools.Engine.Metrics;

/// <summary>
/// PromQL's <c>histogram_quantile</c> for classic histograms (the <c>_bucket</c> series with an <c>le</c> label),
/// with Prometheus's rules: buckets sorted by upper bound, equal bounds merged, counts that differ by a relative
/// 1e-12 or less treated as equal, decreasing counts raised to the running maximum, NaN without a +Inf bucket,
/// with fewer than two buckets or with no observations, the upper bound of the second-highest bucket when the
/// rank falls in the +Inf bucket, the bucket's own bound when the lowest bucket's bound is 0 or less, else linear
/// interpolation inside the bucket (from 0 for the lowest one).
/// </summary>
public static class HistogramQuantile
{
    /// <summary>One bucket: its upper bound (<c>le</c>) and its cumulative count.</summary>
    public readonly record struct Bucket(double UpperBound, double Count);

    /// <summary>The φ-quantile of <paramref name="buckets"/> (any order; the list is not changed).</summary>
    public static double Compute(double q, IEnumerable<Bucket> buckets) => Compute(q, buckets, out _);

    /// <summary>As <see cref="Compute(double, IEnumerable{Bucket})"/>, saying whether the counts had to be made monotonic.</summary>
    public static double Compute(double q, IEnumerable<Bucket> buckets, out bool forcedMonotonic)
    {
        forcedMonotonic = false;
        if (double.IsNaN(q)) return double.NaN;
        if (q < 0) return double.NegativeInfinity;
        if (q > 1) return double.PositiveInfinity;

        var b = buckets.ToArray();
        if (b.Length == 0) return double.NaN;
        // Sort by upper bound. Equal bounds are merged next, so their order does not matter.
        Array.Sort(b, static (x, y) => x.UpperBound.CompareTo(y.UpperBound));
        if (!double.IsPositiveInfinity(b[^1].UpperBound)) return double.NaN;

        var n = Coalesce(b);
        CorrectPrecisionErrors(b, n, 1e-12);
        forcedMonotonic = EnsureMonotonic(b, n);

        if (n < 2) return double.NaN;
        var observations = b[n - 1].Count;
        if (observations == 0) return double.NaN;
        var rank = q * observations;

        // The first bucket (among all but +Inf) whose count reaches the rank; n-1 when none does.
        var lo = 0;
        var hi = n - 1;
        while (lo < hi)
        {
            var mid = (int)((uint)(lo + hi) >> 1);
            if (b[mid].Count >= rank) hi = mid; else lo = mid + 1;
        }
        var i = lo;

        if (i == n - 1) return b[n - 2].UpperBound;
        if (i == 0 && b[0].UpperBound <= 0) return b[0].UpperBound;

        double bucketStart = 0;
        var bucketEnd = b[i].UpperBound;
        var count = b[i].Count;
        if (i > 0)
        {
            bucketStart = b[i - 1].UpperBound;
            count -= b[i - 1].Count;
            rank -= b[i - 1].Count;
        }
        return bucketStart + (bucketEnd - bucketStart) * (rank / count);
    }

    /// <summary>Merges buckets with the same upper bound (sorted input); returns how many remain at the front.</summary>
    private static int Coalesce(Bucket[] b)
    {
        var last = b[0];
        var i = 0;
        for (var k = 1; k < b.Length; k++)
        {
            if (b[k].UpperBound == last.UpperBound) last = last with { Count = last.Count + b[k].Count };
            else
            {
                b[i++] = last;
                last = b[k];
            }
        }
        b[i] = last;
        return i + 1;
    }

    private static void CorrectPrecisionErrors(Bucket[] b, int n, double tolerance)
    {
        var prev = b[0].Count;
        for (var k = 1; k < n; k++)
        {
            var curr = b[k].Count;
            var delta = Math.Abs(curr - prev);
            if (delta == 0) continue;
            if (delta / curr <= tolerance) b[k] = b[k] with { Count = prev };
            else prev = curr;
        }
    }

    private static bool EnsureMonotonic(Bucket[] b, int n)
    {
        var forced = false;
        var max = b[0].Count;
        for (var k = 1; k < n; k++)
        {
            if (b[k].Count > max) max = b[k].Count;
            else if (b[k].Count < max)
            {
                b[k] = b[k] with { Count = max };
                forced = true;
            }
        }
        return forced;
    }

    /// <summary>Reads an <c>le</c> label value as Prometheus does (Go's ParseFloat: "+Inf", "0.5", "1e-3").</summary>
    public static bool TryParseBound(string? le, out double bound)
    {
        bound = 0;
        if (string.IsNullOrEmpty(le)) return false;
        var t = le.Trim();
        if (t.Equals("+Inf", StringComparison.OrdinalIgnoreCase) || t.Equals("Inf", StringComparison.OrdinalIgnoreCase) || t.Equals("+Infinity", StringComparison.OrdinalIgnoreCase) || t.Equals("Infinity", StringComparison.OrdinalIgnoreCase))
        { bound = double.PositiveInfinity; return true; }
        if (t.Equals("-Inf", StringComparison.OrdinalIgnoreCase) || t.Equals("-Infinity", StringComparison.OrdinalIgnoreCase))
        { bound = double.NegativeInfinity; return true; }
        if (t.Equals("NaN", StringComparison.OrdinalIgnoreCase)) { bound = double.NaN; return true; }
        return double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out bound);
    }
}
