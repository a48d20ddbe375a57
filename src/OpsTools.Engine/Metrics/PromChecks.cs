using OpsTools.Configuration;
using OpsTools.Metrics;

namespace OpsTools.Engine.Metrics;

/// <summary>Judges the result of a named PromQL check: every series against the thresholds, the worst one sets the status; an empty result is what the check says it means (Unknown unless told), NaN is Unknown.</summary>
public static class PromChecks
{
    public static PromCheckResult Judge(PromCheckSettings check, IReadOnlyList<PromSeries> series, string source, string? environment, TimeSpan duration)
    {
        var r = new PromCheckResult
        {
            Check = "PromQL." + check.Name, Area = "Metrics", Name = check.Name, Query = check.Query, Target = source + "#" + check.Name,
            Environment = environment, Duration = duration, Timestamp = DateTime.UtcNow,
            Threshold = MetricFigures.Thresholds(check.Warning, check.Critical, check.Below)
                + (check.IfEmpty == CheckStatus.Unknown ? "" : $"; empty result: {check.IfEmpty}"),
        };
        var unit = string.IsNullOrEmpty(check.Unit) ? "" : " " + check.Unit;
        var numbers = series.Where(s => s.ResultType != "string").ToList();
        if (numbers.Count == 0)
        {
            r.Status = check.IfEmpty;
            r.Message = check.IfEmpty == CheckStatus.Unknown
                ? "The query returned no series (an empty result): nothing to judge. If empty means fine, say IfEmpty = 'Healthy' in the check."
                : $"The query returned no series; the check says an empty result is {check.IfEmpty}.";
            return r;
        }
        PromSeries? worst = null;
        var worstStatus = CheckStatus.Healthy;
        var nan = 0;
        foreach (var s in numbers)
        {
            var st = double.IsNaN(s.Value) ? CheckStatus.Unknown : Status(s.Value, check);
            if (double.IsNaN(s.Value)) nan++;
            if (worst is null || st > worstStatus || (st == worstStatus && Worse(s.Value, worst.Value, check.Below)))
            {
                worst = s;
                worstStatus = st;
            }
        }
        r.Status = worstStatus;
        r.Number = worst!.Value;
        r.Value = double.IsNaN(worst.Value) ? null : MetricFigures.Round(worst.Value);
        r.Series = numbers.Count > 1 ? (worst.Name ?? "") + worst.LabelText : null;
        var of = numbers.Count > 1 ? $" (the {(check.Below ? "lowest" : "highest")} of {numbers.Count} series: {r.Series})" : "";
        if (double.IsNaN(worst.Value) && nan == numbers.Count)
            r.Message = "The query returned NaN (e.g. 0/0: no traffic in the window), which is no number to judge.";
        else
        {
            r.Message = $"{MetricFigures.Fmt(worst.Value)}{unit}{of}" + worstStatus switch
            {
                CheckStatus.Critical => $"; {(check.Below ? "below" : "above")} the critical threshold of {MetricFigures.Fmt(check.Critical!.Value)}{unit}",
                CheckStatus.Warning => $"; {(check.Below ? "below" : "above")} the warning threshold of {MetricFigures.Fmt(check.Warning!.Value)}{unit}",
                _ => "",
            };
            if (nan > 0) r.Message += $"; {nan} series were NaN";
        }
        return r;
    }

    private static CheckStatus Status(double v, PromCheckSettings c)
    {
        bool Over(double? t) => t is double x && (c.Below ? v < x : v > x);
        return Over(c.Critical) ? CheckStatus.Critical : Over(c.Warning) ? CheckStatus.Warning : CheckStatus.Healthy;
    }

    private static bool Worse(double a, double b, bool below) => double.IsNaN(b) || (below ? a < b : a > b);
}
