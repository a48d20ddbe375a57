# Private: the daily checklist's metrics and alerts items (not exported).

function Get-OpsMetricsCheck {
    # For an environment with a Prometheus, Alertmanager, Metrics or AppFigures section:
    #  - active alerts (Alertmanager when named, it knows silences; else Prometheus): each firing alert is a
    #    result judged by its severity; none: one Healthy result;
    #  - overnight alerts: what fired in the last Prometheus.OvernightHours (default 12) hours (ALERTS);
    #  - error rate and p95 over 5 minutes through PromQL (the runbooks' Grafana queries), with the
    #    environment's thresholds; no traffic (NaN) or no series is Unknown, never Healthy;
    #  - the environment's named PromQL checks (Prometheus.Checks);
    #  - without a Prometheus: the Metrics endpoints' figures from two reads of /metrics (Get-MetricCheck);
    #  - the AppFigures.
    # Prometheus (or Alertmanager) that cannot be reached is one Unknown result for all its items.
    param(
        [Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment,
        [double] $MetricsInterval = 15
    )
    $prom = $OpsEnvironment.Prometheus
    $am = $OpsEnvironment.Alertmanager
    $t = $OpsEnvironment.Thresholds
    if ($prom -or $am) {
        $server = if ($am) { "Alertmanager at $($am.Uri)" } else { "Prometheus at $($prom.Uri)" }
        $results = [System.Collections.Generic.List[OpsTools.CheckResult]]::new()
        try {
            $alerts = @(Get-ActiveAlert -Environment $OpsEnvironment -ErrorAction Stop)
            $firing = @($alerts | Where-Object { $_.State -in 'firing', 'active' -and -not $_.Silenced -and -not $_.Inhibited })
            if ($firing.Count -gt 0) { foreach ($a in $firing) { $results.Add($a) } }
            else {
                $quiet = $alerts.Count - $firing.Count
                $results.Add([OpsTools.CheckResult]@{
                        Check = 'Alert'; Area = 'Metrics'; Target = $server; Status = [OpsTools.CheckStatus]::Healthy; Value = 0
                        Message = "No alert fires$(if ($quiet) { " ($quiet silenced, inhibited or pending)" })."; Threshold = 'no firing alert'
                    })
            }
            if ($prom) {
                $server = "Prometheus at $($prom.Uri)"
                $hours = if ($prom.OvernightHours) { $prom.OvernightHours } else { 12 }
                $fired = @(Get-ActiveAlert -Environment $OpsEnvironment -Since ([TimeSpan]::FromHours($hours)) -ErrorAction Stop)
                $resolved = @($fired | Where-Object State -eq 'resolved')
                foreach ($a in $resolved) { $results.Add($a) }
                if ($resolved.Count -eq 0) {
                    $results.Add([OpsTools.CheckResult]@{
                            Check = 'Alert.Overnight'; Area = 'Metrics'; Target = "$server, last $hours h"; Status = [OpsTools.CheckStatus]::Healthy; Value = 0
                            Message = "No alert fired and resolved in the last $hours hours$(if ($fired.Count) { " ($($fired.Count) still firing, listed above)" })."; Threshold = 'no alert'
                        })
                }
                $entry = @($OpsEnvironment.Metrics)[0]
                $requests = if ($entry -and $entry.RequestMetric) { $entry.RequestMetric } else { 'http_requests_total' }
                $latency = if ($entry -and $entry.LatencyMetric) { $entry.LatencyMetric } else { 'http_request_duration_seconds' }
                $status = if ($entry -and $entry.StatusLabel) { $entry.StatusLabel } else { 'status' }
                $sel = if ($prom.Selector) { $prom.Selector } else { '' }
                $errSel = if ($sel) { "$sel,$status=~`"5..`"" } else { "$status=~`"5..`"" }
                $queries = @(
                    @{ Check = 'ErrorRate'; Unit = '%'; Warn = $t.ErrorRateWarningPercent; Crit = $t.ErrorRateCriticalPercent
                        Query = "sum(rate($requests{$errSel}[5m])) / sum(rate($requests{$sel}[5m])) * 100" }
                    @{ Check = 'LatencyP95'; Unit = 'ms'; Warn = $t.P95WarningMs; Crit = $t.LatencyCriticalMs
                        Query = "histogram_quantile(0.95, sum by (le) (rate($($latency)_bucket{$sel}[5m]))) * 1000" }
                )
                foreach ($q in $queries) {
                    $series = @(Invoke-PromQuery -Environment $OpsEnvironment -Query $q.Query -ErrorAction Stop)
                    $value = if ($series.Count -gt 0) { $series[0].Value } else { [double]::NaN }
                    $r = [OpsTools.CheckResult]@{
                        Check = "Metric.$($q.Check)"; Area = 'Metrics'; Target = "$server $($q.Query)"
                        Threshold = "warn > $($q.Warn) $($q.Unit); critical > $($q.Crit) $($q.Unit)"
                    }
                    if ($series.Count -eq 0) {
                        $r.Status = [OpsTools.CheckStatus]::Unknown
                        $r.Message = "No series: Prometheus has no '$requests' / '$latency' for this selector (set Prometheus.Selector and the Metrics entry's RequestMetric, LatencyMetric, StatusLabel)."
                    }
                    elseif ([double]::IsNaN($value)) {
                        $r.Status = [OpsTools.CheckStatus]::Unknown
                        $r.Message = 'NaN: no requests in the last 5 minutes, nothing to judge.'
                    }
                    else {
                        $r.Value = [Math]::Round($value, 3)
                        $r.Status = if ($value -gt $q.Crit) { [OpsTools.CheckStatus]::Critical } elseif ($value -gt $q.Warn) { [OpsTools.CheckStatus]::Warning } else { [OpsTools.CheckStatus]::Healthy }
                        $r.Message = "$($q.Check) over 5 minutes: $([Math]::Round($value, 3)) $($q.Unit)"
                    }
                    $results.Add($r)
                }
                if ($prom.Checks.Count -gt 0) {
                    foreach ($c in @(Invoke-PromQuery -Environment $OpsEnvironment -Check * -ErrorAction Stop)) { $results.Add($c) }
                }
            }
            $results
        }
        catch {
            [OpsTools.CheckResult]@{
                Check = 'Alert'; Area = 'Metrics'; Target = $server; Status = [OpsTools.CheckStatus]::Unknown
                Message = "Alerts and metrics could not be read: $($_.Exception.Message)"
            }
        }
    }
    if (-not $prom -and $OpsEnvironment.Metrics.Count -gt 0) {
        Get-MetricCheck -Environment $OpsEnvironment -Interval $MetricsInterval -ErrorAction Stop
    }
    if ($OpsEnvironment.AppFigures.Count -gt 0) {
        Get-AppFigure -Environment $OpsEnvironment -ErrorAction Stop
    }
}
