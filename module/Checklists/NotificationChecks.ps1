# Private helper of the checklists' -Notify (not exported).

function Send-OpsChecklistNotification {
    # -Notify of Invoke-DailyCheck, Invoke-WeeklyMaintenance and Invoke-MonthlyReview: the checklist's results go to the
    # environment's default notification target at its level (Notifications.Default and .Level), through
    # Send-OpsNotification: one summary (Slack, Teams, webhook) or one alert per problem (PagerDuty, Opsgenie), and
    # what healed since the last run is resolved. A delivery that is not accepted is a warning: it never changes the
    # checklist's results nor its -FailOn exit code. -WhatIf ($WhatIfPreference) prints the payload instead of sending.
    [CmdletBinding(SupportsShouldProcess)]
    param(
        [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [System.Collections.Generic.List[OpsTools.CheckResult]] $Collector,
        [Parameter(Mandatory)] [string] $Activity
    )
    if (-not $OpsEnvironment -or -not $OpsEnvironment.Notifications -or $OpsEnvironment.Notifications.Targets.Count -eq 0) {
        Write-Warning "$Activity -Notify: the environment has no Notifications targets (see about_OpsTools_Environments); nothing was sent."
        return
    }
    $failed = $null
    $sent = @($Collector | Send-OpsNotification -Environment $OpsEnvironment -ErrorAction SilentlyContinue -ErrorVariable failed)
    foreach ($r in $sent) {
        if ($r.Status -eq 'Accepted') { Write-Verbose "$Activity -Notify: $($r.Target) ($($r.Service)) $($r.Action) accepted." }
    }
    foreach ($e in @($failed)) {
        if ($e) { Write-Warning "$Activity -Notify: $($e.Exception.Message)" }
    }
}
