function Invoke-WeeklyMaintenance {
    <#
    .SYNOPSIS
    Runs the runbooks' weekly database maintenance for one environment and returns the results.

    .DESCRIPTION
    For every database of the environment's Databases section (or those picked with -Instance),
    in this order:

    1. VacuumStatus: Get-DbVacuumStatus (dead tuples, dead ratio, last vacuum/analyze per table).
    2. Vacuum: VACUUM (ANALYZE) of exactly the tables whose vacuum status is not Healthy, -Parallel
       tables at a time (Invoke-DbVacuum). Each table becomes a 'Vacuum' result: Healthy when it
       completed, Critical with the reason when it did not. -WhatIf shows what would be vacuumed.
    3. SlowQueries: the -Top slowest statements by mean time from pg_stat_statements
       (Get-DbSlowQuery; Warning above the DbSlowQueryWarningMs threshold, 1 s by default).
    4. TableSizes: the -Top largest tables (Get-DbTableSize -AsCheckResult), for the record.
    5. IndexAdvice: unused, duplicate and missing indexes (Get-DbIndexAdvice), each with the
       statement that would fix it; nothing is applied.

    For environments with a Backup section, two backup steps follow:

    6. RestoreDrill: Test-Backup of each database's latest good backup, restored into a scratch
       database on that database's own server and compared row by row count with the manifest
       (the scratch database is always dropped).
    7. Retention: Invoke-BackupRetention with the environment's RetentionDays / KeepLast (30 days
       by default); the newest verified backup of each database is never removed.

    For environments with a Docker section, one image step follows:

    8. ImagePrune: Remove-UnusedImage on the environment's engine: dangling images (docker image
       prune), or with -PruneAllImages every image no container uses (the runbooks' docker image
       prune -a). One result with the number of images and the space reclaimed (Value: bytes);
       -WhatIf lists what would go and removes nothing. An unreachable engine is Unknown.

    An environment with only a Docker section (no Databases) runs only the image step.

    9. Certificates: for an environment with a Certificates section, every certificate of its
       endpoints, files and (Certificates.Kubernetes) Kubernetes secrets and cert-manager
       Certificates, sorted by days left, with the thresholds per environment and per label.

    A step that cannot run (database unreachable, pg_stat_statements not installed) becomes one
    Unknown result that says why; the other steps and databases still run. Results flow into
    Export-OpsReport like the daily check's; with -FailOn the command ends with a terminating error
    (WeeklyMaintenanceFailed) after all results are written.

    .PARAMETER Environment
    A *.ops.psd1 file or an object from Get-OpsEnvironment; its Databases entries are maintained.

    .PARAMETER Instance
    Only these entries of the Databases section (wildcards allowed).

    .PARAMETER Skip
    Steps to leave out: VacuumStatus, Vacuum, SlowQueries, TableSizes, IndexAdvice, RestoreDrill, Retention, ImagePrune, Certificates.

    .PARAMETER PruneAllImages
    The ImagePrune step removes every image no container uses (docker image prune -a), not only dangling ones.

    .PARAMETER Parallel
    Tables vacuumed at once (default 2).

    .PARAMETER Top
    How many slow queries and largest tables to report (default 10).

    .PARAMETER FailOn
    None (default), Warning (fail on Warning, Unknown or Critical) or Critical.

    .OUTPUTS
    OpsTools.CheckResult: OpsTools.Database.DbVacuumStatusResult, OpsTools.Database.DbSlowQuery,
    OpsTools.Database.DbIndexAdvice, and OpsTools.CheckResult for the Vacuum and TableSize steps.

    .EXAMPLE
    Invoke-WeeklyMaintenance -Environment ./prod.ops.psd1 -WhatIf

    .EXAMPLE
    Invoke-WeeklyMaintenance -Environment ./prod.ops.psd1 -FailOn Critical | Export-OpsReport -Format Html -Path ./weekly.html
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType([OpsTools.CheckResult])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline)]
        [OpsTools.Commands.Configuration.EnvironmentTransformation()]
        [ArgumentCompleter([OpsTools.Commands.Configuration.EnvironmentFileCompleter])]
        [OpsTools.Configuration.OpsEnvironment] $Environment,

        [ArgumentCompleter([OpsTools.Commands.Database.DatabaseInstanceCompleter])]
        [SupportsWildcards()]
        [string[]] $Instance,

        [ValidateSet('VacuumStatus', 'Vacuum', 'SlowQueries', 'TableSizes', 'IndexAdvice', 'RestoreDrill', 'Retention', 'ImagePrune', 'Certificates')]
        [string[]] $Skip = @(),

        [switch] $PruneAllImages,

        [ValidateRange(1, 64)]
        [int] $Parallel = 2,

        [ValidateRange(1, 1000)]
        [int] $Top = 10,

        [ValidateSet('None', 'Warning', 'Critical')]
        [string] $FailOn = 'None'
    )

    process {
        $envName = $Environment.Name
        $results = [System.Collections.Generic.List[OpsTools.CheckResult]]::new()
        $databases = @(Select-OpsDatabase -OpsEnvironment $Environment -Instance $Instance)
        if ($databases.Count -eq 0 -and -not $Environment.Docker -and -not $Environment.Certificates) {
            $exception = [OpsTools.OpsToolsException]::new('DbNoDatabases', [OpsTools.OpsErrorKind]::NotFound,
                "The environment '$envName' names no databases$(if ($Instance) { " matching -Instance $($Instance -join ', ')" }) (add a Databases section, see about_OpsTools_Environments).", $envName, $null)
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($exception, 'DbNoDatabases', [System.Management.Automation.ErrorCategory]::ObjectNotFound, $envName))
        }

        foreach ($db in $databases) {
            $on = @{ Environment = $Environment; Instance = $db.Name }
            $target = "$($db.Name)"

            $status = @()
            if ('VacuumStatus' -notin $Skip -or 'Vacuum' -notin $Skip) {
                # Skipped from the report, the status still picks the tables to vacuum.
                $statusCollector = $results
                if ('VacuumStatus' -in $Skip) { $statusCollector = [System.Collections.Generic.List[OpsTools.CheckResult]]::new() }
                $status = @(Invoke-OpsCheckStep -StepCheck 'DbVacuum' -StepArea 'Database' -EnvironmentName $envName -Collector $statusCollector -Step {
                        Get-DbVacuumStatus @on -ErrorAction Stop
                    })
                if ('VacuumStatus' -notin $Skip) { $status }
            }

            if ('Vacuum' -notin $Skip) {
                # Only tables that need it; a database that could not be reached has no Table.
                $needed = @($status | Where-Object { $_.Table -and $_.Status -ne [OpsTools.CheckStatus]::Healthy })
                if ($needed.Count -gt 0 -and $PSCmdlet.ShouldProcess("$target ($($needed.Count) tables)", 'VACUUM (ANALYZE)')) {
                    Invoke-OpsCheckStep -StepCheck 'Vacuum' -StepArea 'Database' -EnvironmentName $envName -Collector $results -Step {
                        $vacuumErrors = $null
                        $done = @($needed | Invoke-DbVacuum -Analyze -Parallel $Parallel -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable vacuumErrors)
                        foreach ($v in $done) {
                            [OpsTools.CheckResult]@{
                                Check    = 'Vacuum'
                                Area     = 'Database'
                                Target   = "$($v.Instance)/$($v.Schema).$($v.Table)"
                                Status   = if ($v.Succeeded) { [OpsTools.CheckStatus]::Healthy } else { [OpsTools.CheckStatus]::Critical }
                                Message  = $v.Message
                                Value    = $v.DeadTuplesAfter
                                Duration = $v.Duration
                            }
                        }
                        foreach ($e in @($vacuumErrors)) {
                            [OpsTools.CheckResult]@{
                                Check   = 'Vacuum'
                                Area    = 'Database'
                                Target  = "$target/$($e.TargetObject)"
                                Status  = [OpsTools.CheckStatus]::Critical
                                Message = $e.Exception.Message
                            }
                        }
                    }
                }
            }

            if ('SlowQueries' -notin $Skip) {
                Invoke-OpsCheckStep -StepCheck 'SlowQuery' -StepArea 'Database' -EnvironmentName $envName -Collector $results -Step {
                    Get-DbSlowQuery @on -Top $Top -ErrorAction Stop
                }
            }
            if ('TableSizes' -notin $Skip) {
                Invoke-OpsCheckStep -StepCheck 'TableSize' -StepArea 'Database' -EnvironmentName $envName -Collector $results -Step {
                    Get-DbTableSize @on -Top $Top -AsCheckResult -ErrorAction Stop
                }
            }
            if ('IndexAdvice' -notin $Skip) {
                Invoke-OpsCheckStep -StepCheck 'IndexAdvice' -StepArea 'Database' -EnvironmentName $envName -Collector $results -Step {
                    $advice = @(Get-DbIndexAdvice @on -ErrorAction Stop)
                    if ($advice.Count -gt 0) { $advice }
                    else {
                        [OpsTools.CheckResult]@{
                            Check   = 'IndexAdvice'
                            Area    = 'Database'
                            Target  = $target
                            Status  = [OpsTools.CheckStatus]::Healthy
                            Message = 'No unused, duplicate or missing indexes found.'
                        }
                    }
                }
            }
        }

        # Backups: a restore drill of each database's latest backup, then retention (store-wide).
        $store = if ($Environment.Backup) { $Environment.Backup.Path } else { $null }
        if ($store -and 'RestoreDrill' -notin $Skip) {
            foreach ($db in $databases) {
                Invoke-OpsCheckStep -StepCheck 'BackupTest' -StepArea 'Backup' -EnvironmentName $envName -Collector $results -Step {
                    Invoke-OpsRestoreDrill -OpsEnvironment $Environment -DatabaseEntry $db -Caller $PSCmdlet -MissingCheck 'BackupTest' `
                        -MissingMessage "No good backup of '{0}' to drill in the store $store." -Action 'Restore drill into a scratch database'
                }
            }
        }
        if ($store -and 'Retention' -notin $Skip) {
            Invoke-OpsCheckStep -StepCheck 'BackupRetention' -StepArea 'Backup' -EnvironmentName $envName -Collector $results -Step {
                $decisions = @(Invoke-BackupRetention -Environment $Environment -Confirm:$false -ErrorAction Stop)
                $removed = @($decisions | Where-Object { $_.Action -eq [OpsTools.Backup.RetentionAction]::Removed -or $_.Action -eq [OpsTools.Backup.RetentionAction]::Remove })
                $failed = @($decisions | Where-Object Action -eq ([OpsTools.Backup.RetentionAction]::Failed))
                $bytes = 0L; foreach ($d in $removed) { $bytes += $d.SizeBytes }
                $verb = if ($WhatIfPreference) { 'would remove' } else { 'removed' }
                [OpsTools.CheckResult]@{
                    Check   = 'BackupRetention'; Area = 'Backup'; Target = $store
                    Status  = if ($failed.Count -gt 0) { [OpsTools.CheckStatus]::Critical } else { [OpsTools.CheckStatus]::Healthy }
                    Value   = $removed.Count
                    Message = "Retention $verb $($removed.Count) backup(s) ($([Math]::Round($bytes / 1MB, 1)) MB), kept $(@($decisions | Where-Object Action -eq ([OpsTools.Backup.RetentionAction]::Keep)).Count)$(if ($failed.Count) { "; $($failed.Count) could not be removed: $(@($failed | ForEach-Object { $_.Reason }) -join '; ')" })."
                }
            }
        }

        # Docker: unused images (the runbooks' docker image prune).
        if ($Environment.Docker -and 'ImagePrune' -notin $Skip) {
            Invoke-OpsCheckStep -StepCheck 'ImagePrune' -StepArea 'Docker' -EnvironmentName $envName -Collector $results -Step {
                $pruneErrors = $null
                $prune = Remove-UnusedImage -Environment $Environment -All:$PruneAllImages -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable pruneErrors
                if (-not $prune) { throw @($pruneErrors)[0].Exception }
                $verb = if ($prune.WhatIf) { 'would remove' } else { 'removed' }
                $kind = if ($PruneAllImages) { 'unused' } else { 'dangling' }
                [OpsTools.CheckResult]@{
                    Check   = 'ImagePrune'; Area = 'Docker'; Target = $prune.DockerHost
                    Status  = if (@($pruneErrors).Count -gt 0) { [OpsTools.CheckStatus]::Warning } else { [OpsTools.CheckStatus]::Healthy }
                    Value   = $prune.ReclaimedBytes
                    Message = "Image prune $verb $($prune.Count) $kind image(s), $($prune.Reclaimed) ($($prune.ReclaimedBytes) bytes)$(if (@($pruneErrors).Count) { "; $(@($pruneErrors).Count) could not be removed: $(@($pruneErrors | ForEach-Object { $_.Exception.Message }) -join '; ')" })."
                }
            }
        }

        # Certificates: every certificate of the environment, sorted by days left (the runbooks' weekly "check certificate expiry").
        if ($Environment.Certificates -and 'Certificates' -notin $Skip) {
            Invoke-OpsCheckStep -StepCheck 'Certificate' -StepArea 'Certificates' -EnvironmentName $envName -Collector $results -Step { Get-OpsCertificateCheck -OpsEnvironment $Environment }
        }

        $failure = New-OpsChecklistFailure -Checklist 'Weekly maintenance' -ErrorId 'WeeklyMaintenanceFailed' -EnvironmentName $envName -Results $results -FailOn $FailOn
        if ($failure) { $PSCmdlet.ThrowTerminatingError($failure) }
    }
}
