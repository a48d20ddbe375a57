# Metrics and alerts: the pipelines an admin types against a prometheus-net app, Debian's Prometheus and
# Alertmanager; what the console shows at 80 columns; completion from the environment; -FailOn in cron.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart metrics
    $m = $parts.metrics
    $dir = New-TestFolder
    $envFile = Join-Path $dir 'shop.ops.psd1'
    Set-Content -LiteralPath $envFile -Value @"
@{
    Name = 'shop'
    Metrics = @( @{ Name = 'api'; Uri = '$($m.MetricsUri)'; RequestMetric = 'http_request_duration_seconds_count'; StatusLabel = 'code' } )
    Prometheus = @{ Uri = '$($m.PrometheusUri)'; Selector = 'job="app"'; OvernightHours = 1
        Checks = @( @{ Name = 'targets-up'; Query = 'sum(up)'; Critical = 5 }; @{ Name = 'nothing'; Query = 'no_such_metric' } ) }
    Alertmanager = @{ Uri = '$($m.AlertmanagerUri)' }
    AppFigures = @( @{ Name = 'processing'; Uri = '$($m.AppBase)/triage/statistics'; Path = '.processing'; Warning = 10 } )
    AppActions = @( @{ Name = 'reset-circuit-breaker'; Uri = '$($m.AppBase)/api/ai-service?action=reset-circuit-breaker' } )
}
"@
    Invoke-TestPart $parts 'metrics.drive 30 200 0' | Out-Null
    Invoke-TestPart $parts 'metrics.drive 3 500 0' | Out-Null
}

AfterAll {
    Stop-TestPart $parts
    Remove-TestFolder $dir
}

Describe 'Get-Metric and Get-MetricCheck' {
    It 'shows the samples like curl | grep, one per line, at 80 columns' {
        $text = Get-Metric -Uri $m.MetricsUri -Metric http_request_duration_seconds_count | Out-String -Width 80
        $text | Should -Match '(?m)^Name\s+Value\s+Labels'
        $text | Should -Match 'http_request_duration_seconds_count'
        $text | Should -Match 'code="500"'
        ($text -split "`n" | Where-Object { $_.Length -gt 80 }) | Should -BeNullOrEmpty
    }

    It 'computes the figures over a window from a snapshot, the reason column kept at 80 columns' {
        $before = Get-Metric -Uri $m.MetricsUri -AsSnapshot
        Invoke-TestPart $parts 'metrics.drive 18 200 0' | Out-Null
        Invoke-TestPart $parts 'metrics.drive 2 503 0' | Out-Null
        $r = $before | Get-MetricCheck
        ($r | Where-Object Figure -eq ErrorRate).Number | Should -Be 10
        ($r | Where-Object Figure -eq ErrorRate).Status | Should -Be 'Warning'
        $text = $r | Out-String -Width 80
        $text | Should -Match 'ErrorRate'
        ($text -replace '\s+', ' ') | Should -Match 'failed with 5xx'
    }
}

Describe 'Prometheus and Alertmanager' {
    It 'answers PromQL with objects' {
        # Prometheus scrapes every second: wait for the first scrape of the app before asking.
        $deadline = (Get-Date).AddSeconds(30)
        do { $up = Invoke-PromQuery 'up{job="app"}' -Uri $m.PrometheusUri; if ($up) { break }; Start-Sleep -Milliseconds 500 } while ((Get-Date) -lt $deadline)
        $up.Value | Should -Be 1
    }

    It 'lists the firing critical alert as Critical' {
        $deadline = (Get-Date).AddSeconds(60)
        do { $a = Get-ActiveAlert -Environment $envFile | Where-Object AlertName -eq ServerErrors; if (-not $a) { Start-Sleep 1 } } until ($a -or (Get-Date) -gt $deadline)
        $a.Status | Should -Be 'Critical'
        ($a | Out-String -Width 80) | Should -Match 'ServerErrors'
    }

    It 'runs the named checks: an empty result is Unknown, never OK' {
        $c = Invoke-PromQuery -Environment $envFile -Check *
        ($c | Where-Object Name -eq nothing).Status | Should -Be 'Unknown'
        ($c | Where-Object Name -eq targets-up).Status | Should -Be 'Healthy'
    }

    It 'ends a cron script with exit code 1 when the daily check finds the critical alert' {
        $r = Invoke-OpsPwsh -Command "Invoke-DailyCheck -Environment '$envFile' -Skip AppHealth, Disk, Memory -FailOn Critical | Out-Null"
        $r.ExitCode | Should -Be 1
        $r.StdErr + $r.StdOut | Should -Match 'critical'
    }
}

Describe 'Completion and actions' {
    It 'completes the environment''s names' {
        $line = "Invoke-AppAction -Environment '$envFile' -Name re"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'reset-circuit-breaker'
        $line = "Invoke-PromQuery -Environment '$envFile' -Check t"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'targets-up'
    }

    It 'sends nothing with -WhatIf and the action without it' {
        Invoke-AppAction -Environment $envFile reset-circuit-breaker -WhatIf | Should -BeNullOrEmpty
        (Get-AppFigure -Uri "$($m.AppBase)/health" -Path .circuit_breakers.ai.state -Expected closed).Status | Should -Be 'Critical'
        (Invoke-AppAction -Environment $envFile reset-circuit-breaker).StatusCode | Should -Be 200
        (Get-AppFigure -Uri "$($m.AppBase)/health" -Path .circuit_breakers.ai.state -Expected closed).Status | Should -Be 'Healthy'
    }
}
