function Invoke-WeeklyMaintenance {
    # Help: docs/Invoke-WeeklyMaintenance.md, turned into en-US/OpsTools-help.xml by the build (tools/OpsTools.HelpGen),
    # which also checks the page against this param block.
    # .ExternalHelp OpsTools-help.xml
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

        [ValidateSet('VacuumStatus', 'Vacuum', 'SlowQueries', 'TableSizes', 'IndexAdvice', 'RestoreDrill', 'Retention', 'ImagePrune', 'LogCleanup', 'Certificates', 'ScratchDatabases')]
        [string[]] $Skip = @(),

        [switch] $PruneAllImages,

        [ValidateRange(1, 64)]
        [int] $Parallel = 2,

        [ValidateRange(1, 1000)]
        [int] $Top = 10,

        [ValidateSet('None', 'Warning', 'Critical')]
        [string] $FailOn = 'None',

        [switch] $Notify
    )

    process {
        $envName = $Environment.Name
        $results = [System.Collections.Generic.List[OpsTools.CheckResult]]::new()
        $databases = @(Select-OpsDatabase -OpsEnvironment $Environment -Instance $Instance)
        if ($databases.Count -eq 0 -and -not $Environment.Docker -and -not $Environment.Logs -and -not $Environment.Certificates) {
            $exception = [OpsTools.OpsToolsException]::new('DbNoDatabases', [OpsTools.OpsErrorKind]::NotFound,
                "The environment '$envName' names no databases$(if ($Instance) { " matching -Instance $($Instance -join ', ')" }) (add a Databases section, see about_OpsTools_Environments).", $envName, $null)
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($exception, 'DbNoDatabases', [System.Management.Automation.ErrorCategory]::ObjectNotFound, $envName))
        }

        foreach ($db in $databases) {
            $on = @{ Environment = $Environment; Instance = $db.Name }
            $target = "$($db.Name)"

            # The vacuum status is reported after the vacuum ran: a table the vacuum fixed counts as it is
            # now (measured again), with what it was before in its Message; only what is still wrong counts.
            $status = @()
            $statusCollector = [System.Collections.Generic.List[OpsTools.CheckResult]]::new()
            $vacuumCollector = [System.Collections.Generic.List[OpsTools.CheckResult]]::new()
            $vacuumOut = @()
            $after = [System.Collections.Generic.List[OpsTools.Database.DbVacuumStatusResult]]::new()
            if ('VacuumStatus' -notin $Skip -or 'Vacuum' -notin $Skip) {
                # Skipped from the report, the status still picks the tables to vacuum.
                $status = @(Invoke-OpsCheckStep -StepCheck 'DbVacuum' -StepArea 'Database' -EnvironmentName $envName -Collector $statusCollector -Step {
                        Get-DbVacuumStatus @on -ErrorAction Stop
                    })
            }

            if ('Vacuum' -notin $Skip) {
                # Only tables that need it; a database that could not be reached has no Table.
                $needed = @($status | Where-Object { $_.Table -and $_.Status -ne [OpsTools.CheckStatus]::Healthy })
                if ($needed.Count -gt 0 -and $PSCmdlet.ShouldProcess("$target ($($needed.Count) tables)", 'VACUUM (ANALYZE)')) {
                    $vacuumOut = @(Invoke-OpsCheckStep -StepCheck 'Vacuum' -StepArea 'Database' -EnvironmentName $envName -Collector $vacuumCollector -Step {
                        $vacuumErrors = $null
                        $done = @($needed | Invoke-DbVacuum -Analyze -Parallel $Parallel -Confirm:$false -ErrorAction SilentlyContinue -ErrorVariable vacuumErrors)
                        # The vacuumed tables as they are now; when they cannot be read, their status stays as it was.
                        $vacuumedNames = @($done | Where-Object Succeeded | ForEach-Object { [WildcardPattern]::Escape("$($_.Schema).$($_.Table)") })
                        if ($vacuumedNames.Count -gt 0) {
                            foreach ($a in @(Get-DbVacuumStatus @on -Table $vacuumedNames -ErrorAction SilentlyContinue)) { if ($a.Table) { $after.Add($a) } }
                        }
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
                    })
                }
            }

            foreach ($now in $after) {
                for ($i = 0; $i -lt $statusCollector.Count; $i++) {
                    $before = $statusCollector[$i]
                    if ($before -isnot [OpsTools.Database.DbVacuumStatusResult] -or $before.Schema -ne $now.Schema -or $before.Table -ne $now.Table) { continue }
                    $now.Message = "After VACUUM (ANALYZE): $($now.Message) Before it: $($before.Status), $($before.DeadTuples) dead tuples ($([Math]::Round($before.DeadRatio * 100, 1))% of rows): $($before.Message)"
                    if (-not $now.Environment) { $now.Environment = $before.Environment }
                    $statusCollector[$i] = $now
                    $wrapped = [System.Management.Automation.PSObject]::AsPSObject($now)
                    $wrapped.PSObject.TypeNames.Insert(0, 'OpsTools.ChecklistResult')
                    $status[$i] = $wrapped
                }
            }
            if ('VacuumStatus' -notin $Skip) {
                $results.AddRange($statusCollector)
                $status
            }
            $results.AddRange($vacuumCollector)
            $vacuumOut

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
        # Scratch databases a killed restore or drill left on the servers (after the drills, whose own are gone by then).
        if ($databases.Count -gt 0 -and 'ScratchDatabases' -notin $Skip) {
            Invoke-OpsCheckStep -StepCheck 'ScratchDatabase' -StepArea 'Backup' -EnvironmentName $envName -Collector $results -Step { Get-OpsScratchDatabaseCheck -OpsEnvironment $Environment -DatabaseEntries $databases }
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

        # Logs: old log files (the runbooks' find logs/ -name "*.log" -mtime +30 -delete), per Logs.Cleanup rule.
        if ($Environment.Logs -and $Environment.Logs.Cleanup.Count -gt 0 -and 'LogCleanup' -notin $Skip) {
            Invoke-OpsCheckStep -StepCheck 'LogCleanup' -StepArea 'Logs' -EnvironmentName $envName -Collector $results -Step { Get-OpsLogCleanup -OpsEnvironment $Environment }
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

        if ($Notify) { Send-OpsChecklistNotification -OpsEnvironment $Environment -Collector $results -Activity 'Weekly maintenance' }

        # -FailOn ends the calling script (pwsh -File/-Command exit 1), not just this statement: see Assert-CheckResult.
        if ($FailOn -ne 'None') { $results | Assert-CheckResult -FailOn $FailOn -Activity 'Weekly maintenance' -Target $envName -Quiet }
    }
}
