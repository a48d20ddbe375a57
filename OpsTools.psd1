@{
    RootModule           = 'OpsTools.psm1'
    NestedModules        = @('OpsTools.dll')
    # The output types, so [OpsTools.CheckResult] resolves in scripts from the start. Small and
    # dependency-free; the engine and third-party assemblies load later, in their own context.
    RequiredAssemblies   = @('OpsTools.Model.dll')
    ModuleVersion        = '0.1.0'
    GUID                 = '5b0f8f0e-7d8e-4c53-9a55-2f4d0c6e1a01'
    Author               = 'OpsTools maintainers'
    CompanyName          = 'OpsTools'
    Copyright            = '(c) OpsTools maintainers. MIT License.'
    Description          = 'Production runbooks as PowerShell commands: health and host checks, PostgreSQL maintenance, provable backups, Kubernetes/OpenShift and Docker/Compose operations, reports and checklists that return objects.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @(
        'Formats/OpsTools.format.ps1xml'
        'Formats/Health.format.ps1xml'
        'Formats/HostResources.format.ps1xml'
        'Formats/Database.Connections.format.ps1xml'
        'Formats/Database.Vacuum.format.ps1xml'
        'Formats/Database.Insight.format.ps1xml'
        'Formats/Backup.Directory.format.ps1xml'
        'Formats/Backup.Retention.format.ps1xml'
        'Formats/Backup.Store.format.ps1xml'
        'Formats/Backup.Test.format.ps1xml'
        'Formats/Backup.Restore.format.ps1xml'
        'Formats/Kubernetes.Rollouts.format.ps1xml'
        'Formats/Kubernetes.Workloads.format.ps1xml'
        'Formats/Kubernetes.Config.format.ps1xml'
        'Formats/Kubernetes.Pods.format.ps1xml'
        'Formats/Docker.Containers.format.ps1xml'
        'Formats/Docker.Images.format.ps1xml'
        'Formats/Docker.Logs.format.ps1xml'
        'Formats/Metrics.format.ps1xml'
    )
    CmdletsToExport      = @(
        'Assert-CheckResult'
        'Backup-Database'
        'Backup-Directory'
        'Export-OpsReport'
        'Get-ActiveAlert'
        'Get-AppFigure'
        'Get-AppHealth'
        'Get-Autoscaler'
        'Get-Backup'
        'Get-ClusterEvent'
        'Get-Container'
        'Get-ContainerHealth'
        'Get-ContainerLog'
        'Get-ContainerStat'
        'Get-DbConnection'
        'Get-DbHealth'
        'Get-DbIndexAdvice'
        'Get-DbSetting'
        'Get-DbSize'
        'Get-DbSlowQuery'
        'Get-DbTableSize'
        'Get-DbVacuumStatus'
        'Get-Deployment'
        'Get-DiskUsage'
        'Get-MemoryUsage'
        'Get-Metric'
        'Get-MetricCheck'
        'Get-OpsEnvironment'
        'Get-PodHealth'
        'Get-PodLog'
        'Get-PodResourceUsage'
        'Get-RolloutHistory'
        'Get-Secret'
        'Invoke-AppAction'
        'Invoke-BackupRetention'
        'Invoke-DbReindex'
        'Invoke-DbVacuum'
        'Invoke-PromQuery'
        'New-RandomSecret'
        'Remove-Backup'
        'Remove-UnusedImage'
        'Restart-Container'
        'Restart-Deployment'
        'Restore-Backup'
        'Restore-Directory'
        'Resume-Rollout'
        'Set-Autoscaler'
        'Set-DbSetting'
        'Set-DeploymentAnnotation'
        'Set-DeploymentEnv'
        'Set-DeploymentImage'
        'Set-DeploymentResource'
        'Set-ReplicaCount'
        'Start-Container'
        'Stop-Container'
        'Stop-DbConnection'
        'Suspend-Rollout'
        'Test-Backup'
        'Undo-Rollout'
        'Update-Secret'
        'Wait-Rollout'
    )
    FunctionsToExport    = @(
        'Invoke-DailyCheck'
        'Invoke-MonthlyReview'
        'Invoke-WeeklyMaintenance'
    )
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Operations', 'Runbook', 'HealthCheck', 'PostgreSQL', 'Kubernetes', 'Docker', 'Linux', 'Windows', 'MacOS', 'PSEdition_Core')
            # The repository's address (placeholder until it is public): the help's online links are
            # ProjectUri + /blob/main/docs/<Command>.md, checked by the build against the cmdlets' HelpUri
            # (src/OpsTools/Infrastructure/HelpLinks.cs). Change both together.
            ProjectUri   = 'https://github.com/opstools/OpsTools'
            LicenseUri   = 'https://github.com/opstools/OpsTools/blob/main/LICENSE'
            ReleaseNotes = 'Health, host and PostgreSQL checks and maintenance, backups with checksums, manifests, restore drills, safe restores and retention; Kubernetes/OpenShift scaling, rollouts, autoscalers, pod diagnosis, logs and secret rotation; Docker/Compose container health, restarts, logs, stats, service scaling and image prune; daily, weekly and monthly checklists; reports for CI.'
        }
    }
}
