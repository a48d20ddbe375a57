using System.Globalization;
using System.Management.Automation;

namespace OpsTools.Commands.Infrastructure;

/// <summary>
/// The one way an OpsTools command ends a script non-zero at a chosen level (-FailOn), shared by every command
/// that returns check results, by Export-OpsReport, by Assert-CheckResult and (through it) by the checklists.
/// </summary>
/// <remarks>
/// A cmdlet's terminating error (ThrowTerminatingError) only ends the statement: `pwsh -File job.ps1` goes on
/// with the next line and exits 0, and under `pwsh -Command "a; b"` the next statement resets the exit code.
/// The failure is therefore raised the way the <c>throw</c> statement raises it (a RuntimeException marked as
/// thrown by a throw statement), which ends the whole script: `pwsh -File` and `pwsh -Command` exit 1, a CI step
/// fails, and try/catch and trap still catch it. It is raised after every result was written, so reports
/// downstream (Export-OpsReport writes from Dispose when the pipeline ends early) still have them all.
/// </remarks>
public sealed class FailOnTally
{
    private int _healthy, _unknown, _warning, _critical, _errors;

    /// <summary>Counts a written object when it is a check result (or a collection of them).</summary>
    public void Add(object? value)
    {
        switch (value)
        {
            case PSObject { BaseObject: var inner } when inner is not PSCustomObject:
                Add(inner);
                break;
            case CheckResult r:
                Count(r.Status);
                break;
            case System.Collections.IEnumerable items and not string:
                foreach (var item in items) if (item is CheckResult or PSObject) Add(item);
                break;
        }
    }

    /// <summary>Counts a non-terminating error written by the command: as bad as a Critical result.</summary>
    public void AddError() => Interlocked.Increment(ref _errors);

    private void Count(CheckStatus status)
    {
        switch (status)
        {
            case CheckStatus.Healthy: Interlocked.Increment(ref _healthy); break;
            case CheckStatus.Unknown: Interlocked.Increment(ref _unknown); break;
            case CheckStatus.Warning: Interlocked.Increment(ref _warning); break;
            default: Interlocked.Increment(ref _critical); break;
        }
    }

    /// <summary>Whether the results reach <paramref name="level"/>.</summary>
    public bool Reaches(FailLevel level) => level switch
    {
        FailLevel.None => false,
        FailLevel.Critical => _critical + _errors > 0,
        _ => _critical + _errors + _warning + _unknown > 0,
    };

    /// <summary>"1 critical, 0 warning, 2 unknown of 5 results, 1 error".</summary>
    public string Describe()
    {
        var total = _healthy + _unknown + _warning + _critical;
        var text = string.Create(CultureInfo.InvariantCulture, $"{_critical} critical, {_warning} warning, {_unknown} unknown of {total} results");
        return _errors == 0 ? text : text + string.Create(CultureInfo.InvariantCulture, $", {_errors} error{(_errors == 1 ? "" : "s")}");
    }

    /// <summary>
    /// The script-ending failure when the tally reaches <paramref name="level"/>, else null. <paramref name="activity"/>
    /// names what failed ("Test-Backup", "Daily check of 'prod'"); the ErrorId is its words joined + "Failed"
    /// (DailyCheckFailed, TestBackupFailed).
    /// </summary>
    public RuntimeException? Failure(FailLevel level, string activity, string errorIdStem, object? target)
    {
        if (!Reaches(level)) return null;
        var message = $"{activity} failed (-FailOn {level}): {Describe()}.";
        var errorId = ErrorIdFrom(errorIdStem);
        var exception = new OpsToolsException(errorId, OpsErrorKind.OperationFailed, message, target?.ToString(), null);
        var record = new ErrorRecord(exception, errorId, ErrorCategory.OperationStopped, target);
        return new RuntimeException(message, exception, record) { WasThrownFromThrowStatement = true };
    }

    /// <summary>"Daily check" -> DailyCheckFailed; "Test-Backup" -> TestBackupFailed.</summary>
    internal static string ErrorIdFrom(string stem)
    {
        var words = stem.Split([' ', '-', '_', '.'], StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(words.Select(w => char.ToUpperInvariant(w[0]) + w[1..])) + "Failed";
    }
}
