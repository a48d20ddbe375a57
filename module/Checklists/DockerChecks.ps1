# Private: the daily checklist's container items (not exported).

function Get-OpsDockerCheck {
    # For an environment with a Docker section (Host/Context/ComposeProject): every container of the
    # Compose project (Docker.ComposeProject, else every container of the engine, stopped ones included)
    # as Get-ContainerHealth sees it: unhealthy, restarting, exited with a non-zero code, OOM killed,
    # stopped, and restart counts (one snapshot: a total of -RestartWarning restarts since the container
    # was created is a Warning; the engine keeps no restart history). Each problem is its own result;
    # none: one Healthy result. An engine that cannot be reached throws (the step becomes one Unknown
    # result, never a silent pass); a project without containers is a Warning.
    param(
        [Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment,
        [int] $RestartWarning = 5
    )
    $docker = $OpsEnvironment.Docker
    $where = if ($docker.ComposeProject) { "Compose project '$($docker.ComposeProject)'" } else { 'every container of the engine' }
    $containers = @(Get-ContainerHealth -Environment $OpsEnvironment -RestartWarning $RestartWarning -ErrorAction Stop)
    if ($containers.Count -eq 0) {
        [OpsTools.CheckResult]@{
            Check = 'ContainerHealth'; Area = 'Docker'; Target = $where; Status = [OpsTools.CheckStatus]::Warning; Value = 0
            Message = "No container found for $where. Is the project up (docker compose ps), and is Docker.ComposeProject right?"
            Threshold = 'at least one container'
        }
        return
    }
    $bad = @($containers | Where-Object Status -ne ([OpsTools.CheckStatus]::Healthy))
    if ($bad.Count -gt 0) { $bad }
    else {
        $restarts = 0
        foreach ($c in $containers) { $restarts += $c.RestartCount }
        [OpsTools.CheckResult]@{
            Check = 'ContainerHealth'; Area = 'Docker'; Target = $where; Status = [OpsTools.CheckStatus]::Healthy; Value = $containers.Count
            Message = "$($containers.Count) containers running and healthy (or without a health check), $restarts restarts in all."
            Threshold = "running, healthy, not OOM killed, fewer than $RestartWarning restarts each"
        }
    }
}
