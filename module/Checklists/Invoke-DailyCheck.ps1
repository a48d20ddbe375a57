function Invoke-DailyCheck {
    <#
    .SYNOPSIS
    Runs the runbooks' morning checklist for one environment and returns every result.

    .DESCRIPTION
    Runs, in order: application health (every endpoint in the environment's AppHealth section,
    with the components their bodies report), disk space (the environment's Host.DiskMounts, or
    every real file system), memory, and database health (Get-DbHealth for every entry of the
    environment's Databases section: reachable, version, uptime, connections against
    max_connections, replication lag, transaction-ID wraparound), and backup completion (for
    environments with a Backup section: a good backup of every database and folder younger than
    Backup.MaxAgeHours, default 26, whose last test passed), and, for environments whose Kubernetes
    section names a cluster, the cluster checks: deployments not fully available (the environment's
    Kubernetes.Deployments, or every deployment of the namespace), unhealthy pods (crash-looping,
    OOMKilled, image pull errors, unschedulable, not ready: Get-PodHealth) and the warning events of
    the last 24 hours (Get-ClusterEvent). A cluster that cannot be reached is one Unknown result.
    For environments with a Docker section (Host, Context, ComposeProject), the containers of the
    Compose project (Get-ContainerHealth): unhealthy, restarting, exited with a non-zero code, OOM
    killed, stopped, and restart counts (5 or more since the container was created; one snapshot
    cannot tell when they happened). An engine that cannot be reached is one Unknown result.
    Each check returns OpsTools.CheckResult objects; a check
    that cannot run at all becomes an Unknown result that says why, so one broken check never
    hides the others.

    With -FailOn, the command ends with a terminating error after all results have been written
    when any result is at least that bad, so `pwsh -File` in cron or a CI step exits non-zero.
    Export-OpsReport further down the pipeline still writes its report.

    .PARAMETER Environment
    A *.ops.psd1 file or an object from Get-OpsEnvironment. Without one, only the local host
    checks (disk, memory) run.

    .PARAMETER FailOn
    None (default): never fail. Warning: fail on Warning, Unknown or Critical. Critical: fail on Critical.

    .PARAMETER Skip
    Checks to leave out: AppHealth, Disk, Memory, Database, Backup, Kubernetes, Docker, Certificates.

    .PARAMETER TimeoutSec
    Timeout for every health endpoint, in seconds. Without it, each endpoint's TimeoutSec from the
    environment file applies, else Get-AppHealth's default (10).

    .OUTPUTS
    OpsTools.CheckResult (and derived: OpsTools.Health.AppHealthResult,
    OpsTools.Health.ComponentHealthResult, OpsTools.HostResources.DiskUsageResult,
    OpsTools.HostResources.MemoryUsageResult, OpsTools.Database.DbHealthResult,
    OpsTools.Kubernetes.PodHealthResult, OpsTools.Docker.ContainerHealthResult).

    .EXAMPLE
    Invoke-DailyCheck -Environment ./prod.ops.psd1 | Where-Object Status -ne Healthy

    .EXAMPLE
    Invoke-DailyCheck -Environment ./prod.ops.psd1 -FailOn Critical | Export-OpsReport -Format Markdown -Path ./daily.md
    #>
    [CmdletBinding()]
    [OutputType([OpsTools.CheckResult])]
    param(
        [Parameter(Position = 0, ValueFromPipeline)]
        [OpsTools.Commands.Configuration.EnvironmentTransformation()]
        [ArgumentCompleter([OpsTools.Commands.Configuration.EnvironmentFileCompleter])]
        [OpsTools.Configuration.OpsEnvironment] $Environment,

        [ValidateSet('None', 'Warning', 'Critical')]
        [string] $FailOn = 'None',

        [ValidateSet('AppHealth', 'Disk', 'Memory', 'Database', 'Backup', 'Kubernetes', 'Docker', 'Certificates')]
        [string[]] $Skip = @(),

        [ValidateRange(0.1, 3600)]
        [double] $TimeoutSec
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

        if ('Certificates' -notin $Skip -and $Environment -and $Environment.Certificates) {
            & $run 'Certificate' 'Certificates' { Get-OpsCertificateCheck -OpsEnvironment $Environment -CriticalOnly }
        }

        $failure = New-OpsChecklistFailure -Checklist 'Daily check' -ErrorId 'DailyCheckFailed' -EnvironmentName $envName -Results $results -FailOn $FailOn
        if ($failure) { $PSCmdlet.ThrowTerminatingError($failure) }
    }
}
