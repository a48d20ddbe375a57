function Invoke-MonthlyReview {
    # Help: docs/Invoke-MonthlyReview.md, turned into en-US/OpsTools-help.xml by the build (tools/OpsTools.HelpGen),
    # which also checks the page against this param block.
    # .ExternalHelp OpsTools-help.xml
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
        [string] $FailOn = 'None',

        [switch] $Notify
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

        if ($Notify) { Send-OpsChecklistNotification -OpsEnvironment $Environment -Collector $results -Activity 'Monthly review' }

        # -FailOn ends the calling script (pwsh -File/-Command exit 1), not just this statement: see Assert-CheckResult.
        if ($FailOn -ne 'None') { $results | Assert-CheckResult -FailOn $FailOn -Activity 'Monthly review' -Target $envName -Quiet }
    }
}
