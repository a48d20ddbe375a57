namespace OpsTools;

/// <summary>How a check came out. Ordered by severity, so results sort worst last.</summary>
public enum CheckStatus
{
    /// <summary>Within every threshold.</summary>
    Healthy = 0,
    /// <summary>The check could not tell (no data, not supported here).</summary>
    Unknown = 1,
    /// <summary>A warning threshold was crossed.</summary>
    Warning = 2,
    /// <summary>A critical threshold was crossed, or the target is down.</summary>
    Critical = 3,
}

/// <summary>
/// The one result shape every OpsTools check returns, so that results from any area
/// flow into one report. Area-specific results derive from it and add properties.
/// </summary>
public class CheckResult
{
    /// <summary>What was checked, e.g. <c>AppHealth</c>, <c>DiskUsage</c>.</summary>
    public string Check { get; set; } = "";

    /// <summary>The area of the runbooks the check belongs to (Health, Host, Database ...).</summary>
    public string Area { get; set; } = "";

    /// <summary>What the check was run against: a URL, a mount point, a host.</summary>
    public string Target { get; set; } = "";

    /// <summary>Healthy, Warning, Critical or Unknown.</summary>
    public CheckStatus Status { get; set; } = CheckStatus.Unknown;

    /// <summary>One sentence a person can act on.</summary>
    public string Message { get; set; } = "";

    /// <summary>The measured value the status was derived from (a number where there is one).</summary>
    public object? Value { get; set; }

    /// <summary>The thresholds the value was compared with, as text (e.g. "warn > 2000 ms; critical > 5000 ms").</summary>
    public string? Threshold { get; set; }

    /// <summary>How long the check took.</summary>
    public TimeSpan Duration { get; set; }

    /// <summary>
    /// Duration in milliseconds, as a number: what ConvertTo-Json and Export-Csv give tools that read
    /// the results (ConvertTo-Json writes a TimeSpan as an object of 15 fields).
    /// </summary>
    public double DurationMs => Math.Round(Duration.TotalMilliseconds, 3);

    /// <summary>When the check finished, in UTC.</summary>
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;

    /// <summary>The environment the check ran for, when one was given.</summary>
    public string? Environment { get; set; }

    /// <summary>
    /// The host the check ran on when it ran there through PowerShell remoting (Invoke-FleetCheck, or Invoke-Command with
    /// OpsTools imported here); empty when it ran in this session.
    /// </summary>
    public string? ComputerName { get; set; }

    /// <summary>True when the status is Warning, Critical or Unknown.</summary>
    public bool IsProblem => Status != CheckStatus.Healthy;

    public override string ToString() => $"{Status} {Check} {Target}: {Message}";
}

/// <summary>
/// The level at which -FailOn ends a script: None (never), Warning (any Warning, Critical or Unknown result,
/// or any error written), Critical (any Critical result, or any error written).
/// </summary>
public enum FailLevel
{
    /// <summary>Never fail: the results speak for themselves.</summary>
    None = 0,
    /// <summary>Fail on Warning, Critical or Unknown results, and on errors.</summary>
    Warning = 1,
    /// <summary>Fail on Critical results and on errors.</summary>
    Critical = 2,
}
