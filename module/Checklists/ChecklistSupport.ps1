# Private helpers shared by the checklist wrappers (not exported).

function Invoke-OpsCheckStep {
    # Runs one step of a checklist: passes on the OpsTools.CheckResult objects the step returns,
    # stamped with the environment's name and tagged for the one-table checklist view, and collects
    # them; a step that cannot run at all becomes one Unknown result that says why, so one broken
    # step never hides the others.
    param(
        [Parameter(Mandatory)] [string] $StepCheck,
        [Parameter(Mandatory)] [string] $StepArea,
        [Parameter(Mandatory)] [string] $EnvironmentName,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [System.Collections.Generic.List[OpsTools.CheckResult]] $Collector,
        [Parameter(Mandatory)] [scriptblock] $Step
    )
    $started = [DateTime]::UtcNow
    $produced = [System.Collections.Generic.List[OpsTools.CheckResult]]::new()
    try {
        foreach ($r in & $Step) {
            if ($r -is [OpsTools.CheckResult]) { $produced.Add($r) }
        }
    }
    catch {
        $produced.Add([OpsTools.CheckResult]@{
                Check    = $StepCheck
                Area     = $StepArea
                Target   = $EnvironmentName
                Status   = [OpsTools.CheckStatus]::Unknown
                Message  = "The check could not run: $($_.Exception.Message)"
                Duration = [DateTime]::UtcNow - $started
            })
    }
    foreach ($r in $produced) {
        if (-not $r.Environment) { $r.Environment = $EnvironmentName }
        $Collector.Add($r)
        # One console table for the whole checklist (view OpsTools.ChecklistResult); the objects keep their own types.
        $wrapped = [System.Management.Automation.PSObject]::AsPSObject($r)
        $wrapped.PSObject.TypeNames.Insert(0, 'OpsTools.ChecklistResult')
        $wrapped
    }
}

function Select-OpsDatabase {
    # The environment's Databases entries, narrowed to those whose Name matches one of -Instance (wildcards).
    param(
        [Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment,
        [string[]] $Instance
    )
    $databases = @($OpsEnvironment.Databases)
    if ($Instance) {
        $databases = @($databases | Where-Object { $n = $_.Name; @($Instance | Where-Object { $n -like $_ }).Count -gt 0 })
    }
    $databases
}

function Invoke-OpsRestoreDrill {
    # Test-Backup (restore drill) of the latest good backup of one database, on that database's own
    # server: a scratch database, always dropped. No good backup is one Critical result named -MissingCheck.
    param(
        [Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment,
        [Parameter(Mandatory)] [OpsTools.Configuration.DatabaseEndpoint] $DatabaseEntry,
        [Parameter(Mandatory)] [System.Management.Automation.PSCmdlet] $Caller,
        [Parameter(Mandatory)] [string] $MissingCheck,
        [Parameter(Mandatory)] [string] $MissingMessage,
        [Parameter(Mandatory)] [string] $Action
    )
    $backupName = if ($DatabaseEntry.Database) { $DatabaseEntry.Database } else { $DatabaseEntry.Name }
    $latest = @(Get-Backup -Environment $OpsEnvironment -Name $backupName -Latest -ErrorAction Stop -WarningAction SilentlyContinue)
    if ($latest.Count -eq 0) {
        [OpsTools.CheckResult]@{ Check = $MissingCheck; Area = 'Backup'; Target = $backupName; Status = [OpsTools.CheckStatus]::Critical
            Message = $MissingMessage -f $backupName }
    }
    elseif ($Caller.ShouldProcess("$backupName ($($latest[0].Id))", $Action)) {
        $latest | Test-Backup -Environment $OpsEnvironment -Instance $DatabaseEntry.Name
    }
}
