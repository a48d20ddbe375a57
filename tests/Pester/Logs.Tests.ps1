# Logs: the pipelines an admin types in a real pwsh over generated log files: error counts compared with grep -c,
# the timeline and the summary at 80 columns, Search-Log as grep -n, the cleanup with -WhatIf, and the exit code of a
# cron line that fails on too many errors.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $dir = New-TestFolder
    $log = Join-Path $dir 'api.log'
    $lines = foreach ($i in 0..1999) {
        $ts = ([datetime]'2026-12-01T08:00:00Z').ToUniversalTime().AddSeconds($i * 11).ToString('yyyy-MM-ddTHH:mm:ss.fffZ')
        if ($i % 10 -eq 0) { "$ts ERROR db: could not connect to server 10.0.0.$($i % 250):5432 after $i ms" }
        elseif ($i % 13 -eq 0) { "$ts CRITICAL payment $([guid]::NewGuid()) failed" }
        else { "$ts INFO GET /api/items/$i 200" }
    }
    Set-Content -LiteralPath $log -Value $lines
}

AfterAll { Remove-TestFolder $dir }

Describe 'Measure-LogError' {
    It 'counts what grep -c counts, and the counts add up' {
        $s = Measure-LogError -Path $log
        $s.Matched | Should -Be ([long](& grep -ciE 'error|critical|fatal' $log))
        $s.Reconciled | Should -BeTrue
        $s.LinesRead | Should -Be 2000
    }

    It 'shows the summary and a timeline with bars at 80 columns' {
        $text = Measure-LogError -Path $log | Out-String -Width 80
        $text | Should -Match 'Critical'
        $text | Should -Match 'could not'
        ($text -split "`n" | Where-Object { $_.TrimEnd().Length -gt 80 }) | Should -BeNullOrEmpty
        $timeline = (Measure-LogError -Path $log).Timeline | Out-String -Width 80
        $timeline | Should -Match 'Errors per hour'
        $timeline | Should -Match '#{10,}'
    }

    It 'lists the top templates with the variable parts masked' {
        $t = (Measure-LogError -Path $log -Top 2).Templates
        $t[0].Template | Should -Be 'db: could not connect to server <IP> after <NUM> ms'
        $t[0].Count | Should -Be ([long](& grep -c 'could not connect' $log))
    }

    It 'completes log file paths on Tab' {
        $line = "Measure-LogError -Path $(Join-Path $dir 'ap')"
        $names = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $names | Should -Contain $log
    }

    It 'ends a cron line with exit code 1 when the errors pass the critical count' {
        $r = Invoke-OpsPwsh -Command "Measure-LogError -Path '$log' | Assert-CheckResult -FailOn Critical -Quiet"
        $r.ExitCode | Should -Be 1
        $r = Invoke-OpsPwsh -Command "Measure-LogError -Path '$log' -CriticalCount 100000 -WarningCount 100000 | Assert-CheckResult -FailOn Critical -Quiet"
        $r.ExitCode | Should -Be 0
    }
}

Describe 'Search-Log and the cleanup' {
    It 'prints grep -n lines and counts like grep -c' {
        $raw = Search-Log -Path $log -Pattern CRITICAL -CaseSensitive -Raw
        $raw.Count | Should -Be ([int](& grep -c CRITICAL $log))
        $raw[0] | Should -Be "${log}:$((& grep -n CRITICAL $log | Select-Object -First 1) -replace ':.*$', ''):$((& grep -m1 CRITICAL $log))"
        (Search-Log -Path $log -Pattern ERROR -CaseSensitive -Count).Count | Should -Be ([long](& grep -c ERROR $log))
    }

    It 'lists every old file with its size under -WhatIf and removes nothing' {
        $old = Join-Path $dir 'api_20261001.log'
        Set-Content -LiteralPath $old -Value ('x' * 1000)
        (Get-Item $old).LastWriteTimeUtc = (Get-Date).ToUniversalTime().AddDays(-40)
        $r = Remove-OldLog -Path $dir -OlderThan 30d -WhatIf
        $r.Path | Should -Be $old
        $r.Action | Should -Be 'WhatIf'
        $r.Bytes | Should -Be (Get-Item $old).Length
        Test-Path $old | Should -BeTrue
    }
}
