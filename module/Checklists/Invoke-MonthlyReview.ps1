function Invoke-MonthlyReview {
    <#
    .SYNOPSIS
    Runs the runbooks' monthly review for one environment, starting with "test disaster recovery".

    .DESCRIPTION
    1. DisasterRecovery: a full restore drill of the latest good backup of every database of the
       environment (Test-Backup: archive checksum and table of contents, restore into a scratch
       database on the database's own server, exact row counts against the manifest, scratch
       database dropped). A database without a good backup is Critical.
    2. Backup completion: the daily check's backup item (a good, tested backup younger than
       Backup.MaxAgeHours of every database and folder).

    Results are OpsTools.CheckResult objects for Export-OpsReport; -FailOn ends with the terminating
    error MonthlyReviewFailed after all results are written.

    .PARAMETER Environment
    A *.ops.psd1 file or an object from Get-OpsEnvironment, with Databases and a Backup section.

    .PARAMETER Instance
    Only these entries of the Databases section (wildcards allowed).

    .PARAMETER FailOn
    None (default), Warning or Critical.

    .OUTPUTS
    OpsTools.CheckResult (OpsTools.Backup.BackupTestResult for the drills).

    .EXAMPLE
    Invoke-MonthlyReview -Environment ./prod.ops.psd1 -FailOn Critical | Export-OpsReport -Format Html -Path ./monthly.html

    .EXAMPLE
    Invoke-MonthlyReview -Environment ./prod.ops.psd1 -Instance app -WhatIf
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'Low')]
    [OutputType([OpsTools.CheckResult])]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline)]
        [OpsTools.Commands.Configuration.EnvironmentTransformation()]
        [ArgumentCompleter([OpsTools.Commands.Configuration.EnvironmentFileCompleter])]
        [OpsTools.Configuration.OpsEnvironment] $Environment,

        [ArgumentCompleter([OpsTools.Commands.Database.DatabaseInstanceCompleter])]
        [SupportsWildcards()]
        [string[]] $Instance,

        [ValidateSet('None', 'Warning', 'Critical')]
        [string] $FailOn = 'None'
    )

    process {
        $envName = $Environment.Name
        $results = [System.Collections.Generic.List[OpsTools.CheckResult]]::new()
        if (-not $Environment.Backup -or -not $Environment.Backup.Path) {
            $exception = [OpsTools.OpsToolsException]::new('BackupStoreMissing', [OpsTools.OpsErrorKind]::InvalidArgument,
                "The environment '$envName' names no backup store: add Backup = @{ Path = '...' } (see about_OpsTools_Environments).", $envName, $null)
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new($exception, 'BackupStoreMissing', [System.Management.Automation.ErrorCategory]::InvalidArgument, $envName))
        }
        foreach ($db in @(Select-OpsDatabase -OpsEnvironment $Environment -Instance $Instance)) {
            Invoke-OpsCheckStep -StepCheck 'DisasterRecovery' -StepArea 'Backup' -EnvironmentName $envName -Collector $results -Step {
                Invoke-OpsRestoreDrill -OpsEnvironment $Environment -DatabaseEntry $db -Caller $PSCmdlet -MissingCheck 'DisasterRecovery' `
                    -MissingMessage "No good backup of '{0}' to restore: disaster recovery is not possible." -Action 'Full restore drill into a scratch database'
            }
        }
        Invoke-OpsCheckStep -StepCheck 'BackupFreshness' -StepArea 'Backup' -EnvironmentName $envName -Collector $results -Step {
            Get-OpsBackupCheck -OpsEnvironment $Environment
        }

        # -FailOn ends the calling script (pwsh -File/-Command exit 1), not just this statement: see Assert-CheckResult.
        if ($FailOn -ne 'None') { $results | Assert-CheckResult -FailOn $FailOn -Activity 'Monthly review' -Target $envName -Quiet }
    }
}
