# Private: the daily checklist's "verify backup completion" item (not exported).

function Get-OpsBackupCheck {
    # One result per database (and per folder named in Backup.Directories) of the environment:
    # is there a good backup younger than Backup.MaxAgeHours (default 26: a nightly backup plus
    # slack), and did its last test pass? Critical: no good backup, too old, or the last test failed.
    # Warning: never tested (run Test-Backup), or a newer attempt failed or was left incomplete.
    param(
        [Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment
    )
    $settings = $OpsEnvironment.Backup
    $maxAge = if ($settings -and $null -ne $settings.MaxAgeHours) { [double]$settings.MaxAgeHours } else { 26.0 }
    $names = [System.Collections.Generic.List[string]]::new()
    foreach ($db in $OpsEnvironment.Databases) { $names.Add($(if ($db.Database) { $db.Database } else { $db.Name })) }
    if ($settings) { foreach ($dir in $settings.Directories) { $names.Add([System.IO.Path]::GetFileName($dir.TrimEnd('/', '\'))) } }

    $all = @(Get-Backup -Environment $OpsEnvironment -IncludeIncomplete -ErrorAction Stop -WarningAction SilentlyContinue)
    foreach ($name in $names) {
        $mine = @($all | Where-Object Name -eq $name)
        $good = @($mine | Where-Object { $_.Verification -ne [OpsTools.Backup.BackupVerification]::Failed -and $_.Verification -ne [OpsTools.Backup.BackupVerification]::Incomplete })
        $result = [OpsTools.CheckResult]@{
            Check     = 'BackupFreshness'
            Area      = 'Backup'
            Target    = $name
            Threshold = "a good backup younger than $maxAge h; last test passed"
        }
        if ($good.Count -eq 0) {
            $result.Status = [OpsTools.CheckStatus]::Critical
            $result.Message = if ($mine.Count -eq 0) { "No backup of '$name' in the store." } else { "No good backup of '$name': $($mine.Count) failed or incomplete." }
            $result
            continue
        }
        $latest = $good[0]
        $ageHours = [Math]::Round($latest.Age.TotalHours, 1)
        $result.Value = $ageHours
        $newerBad = @($mine | Where-Object { $_.EndTime -gt $latest.EndTime })
        if ($latest.Age.TotalHours -gt $maxAge) {
            $result.Status = [OpsTools.CheckStatus]::Critical
            $result.Message = "The latest good backup of '$name' is $ageHours h old (more than $maxAge h): $($latest.Path)."
        }
        elseif ($latest.Verification -eq [OpsTools.Backup.BackupVerification]::Unverified) {
            $result.Status = [OpsTools.CheckStatus]::Warning
            $result.Message = "The latest backup of '$name' ($ageHours h old) has never been tested: run Test-Backup."
        }
        elseif ($newerBad.Count -gt 0) {
            $result.Status = [OpsTools.CheckStatus]::Warning
            $result.Message = "A newer backup of '$name' failed or is incomplete; the latest good one is $ageHours h old ($($latest.Verification))."
        }
        else {
            $result.Status = [OpsTools.CheckStatus]::Healthy
            $result.Message = "Latest backup of '$name': $ageHours h old, $($latest.Verification)$(if ($latest.LastTestTime) { " on $($latest.LastTestTime.ToString('u'))" })."
        }
        $result
    }
}
