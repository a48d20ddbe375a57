# Private: the daily checklist's cluster items (not exported).

function Get-OpsClusterCheck {
    # For an environment that names a cluster (Kubernetes section): deployments not fully available,
    # unhealthy pods (crash-looping, OOMKilled, image pull errors, unschedulable, not ready), and the
    # warning events of the last -EventHours hours. Restricted to Kubernetes.Deployments (and their
    # pods and events) when the environment lists some. A cluster that cannot be reached throws (the
    # step becomes one Unknown result); a later item that cannot be read is its own Unknown result.
    param(
        [Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment,
        [double] $EventHours = 24
    )
    $kube = $OpsEnvironment.Kubernetes
    $listed = @($kube.Deployments)
    $where = if ($kube.Namespace) { "namespace '$($kube.Namespace)'" } else { 'the context namespace' }

    # 1. Deployments: every desired replica available. Unreachable cluster: this throws, and nothing below runs.
    $all = @(Get-Deployment -Environment $OpsEnvironment -ErrorAction Stop)
    $names = if ($listed.Count -gt 0) { $listed } else { @($all | ForEach-Object { $_.Name }) }
    foreach ($name in $names) {
        $d = @($all | Where-Object Name -eq $name)
        $result = [OpsTools.CheckResult]@{
            Check     = 'DeploymentAvailability'
            Area      = 'Kubernetes'
            Target    = "deployment/$name"
            Threshold = 'every desired replica available'
        }
        if ($d.Count -eq 0) {
            $result.Status = [OpsTools.CheckStatus]::Critical
            $result.Message = "Deployment '$name' (listed in the environment) does not exist in $where."
            $result
            continue
        }
        $d = $d[0]
        $result.Value = $d.AvailableReplicas
        if ($d.DesiredReplicas -gt 0 -and $d.AvailableReplicas -eq 0) {
            $result.Status = [OpsTools.CheckStatus]::Critical
            $result.Message = "Deployment '$name' has no available replica (0 of $($d.DesiredReplicas)): $($d.RolloutMessage) See Get-PodHealth -Deployment $name."
        }
        elseif ($d.AvailableReplicas -lt $d.DesiredReplicas -or $d.RolloutState -eq [OpsTools.Kubernetes.RolloutState]::Failed) {
            $result.Status = [OpsTools.CheckStatus]::Warning
            $result.Message = "Deployment '$name' is not fully available: $($d.AvailableReplicas) of $($d.DesiredReplicas) replicas ($($d.RolloutState)): $($d.RolloutMessage)"
        }
        else {
            $result.Status = [OpsTools.CheckStatus]::Healthy
            $result.Message = "Deployment '$name': $($d.AvailableReplicas) of $($d.DesiredReplicas) replicas available."
        }
        $result
    }

    # 2. Pods: each unhealthy pod is its own result (a PodHealthResult: Critical for crash loops, image pull
    #    errors, unschedulable; Warning for OOMKilled, not ready, recent restarts); none: one Healthy result.
    try {
        $pods = @(if ($listed.Count -gt 0) {
            @($listed | Where-Object { $n = $_; @($all | Where-Object Name -eq $n).Count -gt 0 } |
                    ForEach-Object { Get-PodHealth -Environment $OpsEnvironment -Deployment $_ -ErrorAction Stop })
        }
        else { Get-PodHealth -Environment $OpsEnvironment -ErrorAction Stop })
        $bad = @($pods | Where-Object Status -ne ([OpsTools.CheckStatus]::Healthy))
        if ($bad.Count -gt 0) { $bad }
        else {
            [OpsTools.CheckResult]@{
                Check = 'PodHealth'; Area = 'Kubernetes'; Target = $where; Status = [OpsTools.CheckStatus]::Healthy; Value = $pods.Count
                Message = "$($pods.Count) pods, none crash-looping, OOMKilled, failing to pull or not ready."
                Threshold = 'no pod crash-looping, OOMKilled, failing to pull, unschedulable or not ready'
            }
        }
    }
    catch {
        [OpsTools.CheckResult]@{ Check = 'PodHealth'; Area = 'Kubernetes'; Target = $where; Status = [OpsTools.CheckStatus]::Unknown
            Message = "The pod check could not run: $($_.Exception.Message)" }
    }

    # 3. Warning events of the last day: one result, the most frequent reasons named.
    try {
        $since = [DateTime]::UtcNow.AddHours(-$EventHours)
        $events = @(if ($listed.Count -gt 0) {
            @($listed | Where-Object { $n = $_; @($all | Where-Object Name -eq $n).Count -gt 0 } |
                    ForEach-Object { Get-ClusterEvent -Environment $OpsEnvironment -For "deployment/$_" -Warning -Since $since -ErrorAction Stop })
        }
        else { Get-ClusterEvent -Environment $OpsEnvironment -Warning -Since $since -ErrorAction Stop })
        $total = 0
        $byReason = [ordered]@{}
        foreach ($e in $events) {
            $total += [Math]::Max(1, $e.Count)
            $key = $e.Reason
            if (-not $byReason.Contains($key)) { $byReason[$key] = [pscustomobject]@{ Reason = $key; Count = 0; Objects = [System.Collections.Generic.List[string]]::new() } }
            $byReason[$key].Count += [Math]::Max(1, $e.Count)
            if (-not $byReason[$key].Objects.Contains($e.Object)) { $byReason[$key].Objects.Add($e.Object) }
        }
        $top = [System.Collections.Generic.List[object]]::new()
        foreach ($v in $byReason.Values) { $top.Add($v) }
        $top.Sort([System.Comparison[object]] { param($a, $b) $b.Count.CompareTo($a.Count) })
        $summary = @($top | ForEach-Object { "$($_.Reason) x$($_.Count) ($(@($_.Objects)[0])$(if ($_.Objects.Count -gt 1) { " and $($_.Objects.Count - 1) more" }))" })
        $result = [OpsTools.CheckResult]@{
            Check = 'ClusterWarningEvents'; Area = 'Kubernetes'; Target = $where; Value = $total
            Threshold = "no warning events in the last $EventHours h"
        }
        if ($events.Count -eq 0) {
            $result.Status = [OpsTools.CheckStatus]::Healthy
            $result.Message = "No warning events in the last $EventHours h."
        }
        else {
            $result.Status = [OpsTools.CheckStatus]::Warning
            $shown = [string]::Join('; ', [string[]]@($summary)[0..([Math]::Min(4, $summary.Count - 1))])
            $result.Message = "$total warning events in the last $EventHours h: $shown. See Get-ClusterEvent -Warning -Since $($EventHours)h."
        }
        $result
    }
    catch {
        [OpsTools.CheckResult]@{ Check = 'ClusterWarningEvents'; Area = 'Kubernetes'; Target = $where; Status = [OpsTools.CheckStatus]::Unknown
            Message = "The event check could not run: $($_.Exception.Message)" }
    }
}
