function Invoke-DailyCheck {
    # Help: docs/Invoke-DailyCheck.md, turned into en-US/OpsTools-help.xml by the build (tools/OpsTools.HelpGen),
    # which also checks the page against this param block.
    # .ExternalHelp OpsTools-help.xml
    [CmdletBinding()]
    [OutputType([OpsTools.CheckResult])]
    param(
        [Parameter(Position = 0, ValueFromPipeline)]
        [OpsTools.Commands.Configuration.EnvironmentTransformation()]
        [ArgumentCompleter([OpsTools.Commands.Configuration.EnvironmentFileCompleter])]
        [OpsTools.Configuration.OpsEnvironment] $Environment,

        [ValidateSet('None', 'Warning', 'Critical')]
        [string] $FailOn = 'None',

        [ValidateSet('AppHealth', 'Disk', 'Memory', 'Database', 'Backup', 'Kubernetes', 'Docker', 'Metrics', 'Redis', 'Queues', 'PgBouncer', 'Logs', 'Certificates')]
        [string[]] $Skip = @(),

        [ValidateRange(0.1, 3600)]
        [double] $TimeoutSec,

        [switch] $Notify
    )

    process {
        $envName = if ($Environment) { $Environment.Name } else { [System.Net.Dns]::GetHostName() }
        $results = [System.Collections.Generic.List[OpsTools.CheckResult]]::new()

        $run = {
            param([string] $Check, [string] $Area, [scriptblock] $Body)
            Invoke-OpsCheckStep -StepCheck $Check -StepArea $Area -EnvironmentName $envName -Collector $results -Step $Body
        }

        if ('AppHealth' -notin $Skip -and $Environment -and $Environment.AppHealth.Count -gt 0) {
            # -TimeoutSec only when given: otherwise each endpoint's own TimeoutSec (or the default) applies.
            $healthArgs = @{ Environment = $Environment; ErrorAction = 'Stop' }
            if ($PSBoundParameters.ContainsKey('TimeoutSec')) { $healthArgs.TimeoutSec = $TimeoutSec }
            & $run 'AppHealth' 'Health' { Get-AppHealth @healthArgs }
        }
        if ('Disk' -notin $Skip) {
            if ($Environment) {
                & $run 'DiskUsage' 'Host' { Get-DiskUsage -Environment $Environment -ErrorAction Stop }
            }
            else {
                & $run 'DiskUsage' 'Host' { Get-DiskUsage -ErrorAction Stop }
            }
        }
        if ('Memory' -notin $Skip) {
            if ($Environment) {
                & $run 'MemoryUsage' 'Host' { Get-MemoryUsage -Environment $Environment -ErrorAction Stop }
            }
            else {
                & $run 'MemoryUsage' 'Host' { Get-MemoryUsage -ErrorAction Stop }
            }
        }

        if ('Database' -notin $Skip -and $Environment -and $Environment.Databases.Count -gt 0) {
            $dbArgs = @{ Environment = $Environment; ErrorAction = 'Stop' }
            if ($PSBoundParameters.ContainsKey('TimeoutSec')) { $dbArgs.TimeoutSec = [Math]::Min(1024, [Math]::Max(1, $TimeoutSec)) }
            & $run 'DbHealth' 'Database' { Get-DbHealth @dbArgs }
        }

        if ('Backup' -notin $Skip -and $Environment -and $Environment.Backup -and $Environment.Backup.Path) {
            & $run 'BackupFreshness' 'Backup' { Get-OpsBackupCheck -OpsEnvironment $Environment }
        }

        if ('Kubernetes' -notin $Skip -and $Environment -and $Environment.Kubernetes) {
            & $run 'Kubernetes' 'Kubernetes' { Get-OpsClusterCheck -OpsEnvironment $Environment }
        }

        if ('Docker' -notin $Skip -and $Environment -and $Environment.Docker) {
            & $run 'ContainerHealth' 'Docker' { Get-OpsDockerCheck -OpsEnvironment $Environment }
        }

        if ('Metrics' -notin $Skip -and $Environment -and ($Environment.Prometheus -or $Environment.Alertmanager -or $Environment.Metrics.Count -or $Environment.AppFigures.Count)) {
            & $run 'Metrics' 'Metrics' { Get-OpsMetricsCheck -OpsEnvironment $Environment }
        }

        if ('Logs' -notin $Skip -and $Environment -and $Environment.Logs) {
            & $run 'LogErrors' 'Logs' { Get-OpsLogCheck -OpsEnvironment $Environment }
        }

        if ('Certificates' -notin $Skip -and $Environment -and $Environment.Certificates) {
            & $run 'Certificate' 'Certificates' { Get-OpsCertificateCheck -OpsEnvironment $Environment -CriticalOnly }
        }

        if ('Redis' -notin $Skip -and $Environment -and $Environment.Redis) { & $run 'RedisHealth' 'Redis' { Get-OpsRedisCheck -OpsEnvironment $Environment } }
        if ('Queues' -notin $Skip -and $Environment -and $Environment.Queues.Count -gt 0) { & $run 'QueueStatus' 'Queues' { Get-OpsQueueCheck -OpsEnvironment $Environment } }
        if ('PgBouncer' -notin $Skip -and $Environment -and $Environment.PgBouncer) { & $run 'PgBouncerPool' 'PgBouncer' { Get-OpsPgBouncerCheck -OpsEnvironment $Environment } }

        if ($Notify) { Send-OpsChecklistNotification -OpsEnvironment $Environment -Collector $results -Activity 'Daily check' }

        # -FailOn ends the calling script (pwsh -File/-Command exit 1), not just this statement: see Assert-CheckResult.
        if ($FailOn -ne 'None') { $results | Assert-CheckResult -FailOn $FailOn -Activity 'Daily check' -Target $envName -Quiet }
    }
}
