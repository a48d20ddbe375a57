# Private: the checklists' log items (not exported).

function Get-OpsLogCheck {
    # The daily "review error logs" step for an environment with a Logs section: Measure-LogError over every source the
    # section names (Paths, Containers, Deployments, JournalUnits) for the last -Hours hours (default 24), cut on the
    # lines' own timestamps. Each source is its own result (errors against LogErrorWarningCount / LogErrorCriticalCount,
    # the most frequent error message in the text); each named class (Logs.Classes) with matches is a result too.
    # A source that cannot be read is an Unknown result (never a silent pass).
    param(
        [Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment,
        [int] $Hours = 24
    )
    $t = $OpsEnvironment.Thresholds
    $errs = $null
    $summaries = @(Measure-LogError -Environment $OpsEnvironment -Since ([TimeSpan]::FromHours($Hours)) -Top 3 -ErrorAction SilentlyContinue -ErrorVariable errs)
    foreach ($e in @($errs)) {
        [OpsTools.CheckResult]@{
            Check = 'LogErrors'; Area = 'Logs'; Target = "$($e.TargetObject)"; Status = [OpsTools.CheckStatus]::Unknown
            Message = "Could not read the log: $($e.Exception.Message)"; Threshold = "warn >= $($t.LogErrorWarningCount) errors in $Hours h"
        }
    }
    foreach ($s in $summaries) {
        $s
        foreach ($c in $s.Classes) {
            $status = if ($c.Count -ge $t.LogErrorCriticalCount) { [OpsTools.CheckStatus]::Critical } elseif ($c.Count -ge $t.LogErrorWarningCount) { [OpsTools.CheckStatus]::Warning } else { [OpsTools.CheckStatus]::Healthy }
            [OpsTools.CheckResult]@{
                Check = 'LogErrorClass'; Area = 'Logs'; Target = "$($s.Source) [$($c.Name)]"; Status = $status; Value = $c.Count
                Message = "$($c.Count) line(s) of class $($c.Name) ('$($c.Pattern)') in the last $Hours h in $($s.Source)$(if ($c.LastSeen) { ", last at $($c.LastSeen.ToString('u'))" })."
                Threshold = "warn >= $($t.LogErrorWarningCount); critical >= $($t.LogErrorCriticalCount)"
            }
        }
    }
}

function Get-OpsLogCleanup {
    # The weekly log cleanup: Remove-OldLog for every rule of Logs.Cleanup (find PATH -name PATTERN -mtime +N -delete),
    # one result per rule with the files and bytes removed (with -WhatIf: that would be removed; every file is listed by
    # Remove-OldLog's own What if lines). Links are never followed. -WhatIf/$WhatIfPreference reach Remove-OldLog.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment
    )
    foreach ($rule in $OpsEnvironment.Logs.Cleanup) {
        $errs = $null
        $removed = @(Remove-OldLog -Path $rule.Path -Include $rule.Include -OlderThan ([TimeSpan]::FromDays($rule.OlderThanDays)) -Recurse:$rule.Recurse -Force -ErrorAction SilentlyContinue -ErrorVariable errs)
        $bytes = 0; foreach ($r in $removed) { $bytes += $r.Bytes }
        $verb = if ($removed | Where-Object Action -eq 'WhatIf') { 'would remove' } else { 'removed' }
        [OpsTools.CheckResult]@{
            Check = 'LogCleanup'; Area = 'Logs'; Target = $rule.Path
            Status = if (@($errs).Count) { [OpsTools.CheckStatus]::Warning } else { [OpsTools.CheckStatus]::Healthy }
            Value = $bytes
            Message = "Log cleanup $verb $($removed.Count) file(s) ($($rule.Include -join ', ') older than $($rule.OlderThanDays) days), $([OpsTools.Logs.LogSizeText]::Human($bytes)) ($bytes bytes)$(if (@($errs).Count) { "; $(@($errs).Count) failed: $(@($errs | ForEach-Object { $_.Exception.Message }) -join '; ')" })."
            Threshold = "older than $($rule.OlderThanDays) days"
        }
    }
}
