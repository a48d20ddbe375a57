# Exit codes that cron, systemd timers and CI steps can trust: each script runs in a new pwsh process, the way
# cron (pwsh -File), a shell one-liner (pwsh -Command), GitHub Actions and Azure DevOps run it.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    $parts = Start-TestPart http
    $dir = New-TestFolder
    $dead = Join-Path $dir 'dead.ops.psd1'
    Set-Content -LiteralPath $dead -Value "@{ Name = 'dead'; AppHealth = @('$($parts.http.Unused)/health') }"
    $healthy = Join-Path $dir 'ok.ops.psd1'
    Set-Content -LiteralPath $healthy -Value "@{ Name = 'ok'; AppHealth = @('$($parts.http.HttpBase)/health') }"
    $degraded = Join-Path $dir 'degraded.ops.psd1'
    Set-Content -LiteralPath $degraded -Value "@{ Name = 'degraded'; AppHealth = @('$($parts.http.HttpBase)/worker/health') }"

    function New-Job([string] $Name, [string] $Text) {
        $path = Join-Path $dir $Name
        Set-Content -LiteralPath $path -Value $Text
        $path
    }
}

AfterAll {
    Stop-TestPart $parts
    Remove-TestFolder $dir
}

Describe 'A daily check job run by cron (pwsh -File)' {
    It 'exits 1 when the check fails, runs no later line, and still writes the report' {
        $report = Join-Path $dir 'dead.md'
        $job = New-Job 'dead-job.ps1' @"
Invoke-DailyCheck -Environment '$dead' -Skip Disk, Memory -FailOn Critical | Export-OpsReport -Format Markdown -Path '$report'
'LINE AFTER THE CHECK'
"@
        $r = Invoke-OpsPwsh -File $job
        $r.ExitCode | Should -Be 1
        $r.StdOut | Should -Not -Match 'LINE AFTER THE CHECK'
        $r.StdErr + $r.StdOut | Should -Match "Daily check of 'dead' failed \(-FailOn Critical\): 1 critical"
        Get-Content -LiteralPath $report -Raw | Should -Match 'Critical'
    }

    It 'exits 0 when the check passes' {
        $job = New-Job 'ok-job.ps1' "Invoke-DailyCheck -Environment '$healthy' -Skip Disk, Memory -FailOn Critical | Out-Null"
        $r = Invoke-OpsPwsh -File $job
        $r.ExitCode | Should -Be 0 -Because ($r.StdErr + $r.StdOut)
    }
}

Describe 'A one-liner (pwsh -Command)' {
    It 'exits 1 when the check fails, even when a statement follows' {
        $r = Invoke-OpsPwsh -Command "Invoke-DailyCheck -Environment '$dead' -Skip Disk, Memory -FailOn Critical | Out-Null; 'next statement'"
        $r.ExitCode | Should -Be 1
        $r.StdOut | Should -Not -Match 'next statement'
    }

    It 'exits 0 when warnings are allowed by -FailOn Critical, and 1 with -FailOn Warning' {
        $r = Invoke-OpsPwsh -Command "Get-AppHealth -Environment '$degraded' -FailOn Critical | Out-Null"
        $r.ExitCode | Should -Be 0 -Because ($r.StdErr + $r.StdOut)
        $r = Invoke-OpsPwsh -Command "Get-AppHealth -Environment '$degraded' -FailOn Warning | Out-Null; 'next'"
        $r.ExitCode | Should -Be 1
        $r.StdErr + $r.StdOut | Should -Match 'Get-AppHealth failed \(-FailOn Warning\)'
    }
}

Describe 'CI steps' {
    It 'fails a GitHub Actions pwsh step (pwsh -command ". {0}")' {
        $step = New-Job 'gha-step.ps1' @"
`$ErrorActionPreference = 'stop'
Invoke-DailyCheck -Environment '$dead' -Skip Disk, Memory | Export-OpsReport -Format Markdown -Path '$(Join-Path $dir 'gha.md')' -FailOn Critical
if ((Test-Path -LiteralPath variable:\LASTEXITCODE)) { exit `$LASTEXITCODE }
"@
        $r = Invoke-OpsPwsh -Command ". '$step'" -Environment @{ GITHUB_ACTIONS = 'true'; GITHUB_STEP_SUMMARY = (Join-Path $dir 'summary.md') }
        $r.ExitCode | Should -Be 1
        $r.StdOut | Should -Match '::error'
        Get-Content -LiteralPath (Join-Path $dir 'summary.md') -Raw | Should -Match 'Critical'
    }

    It 'fails an Azure DevOps pwsh step (its wrapper checks LASTEXITCODE after the script)' {
        $user = New-Job 'ado-user.ps1' "Invoke-DailyCheck -Environment '$dead' -Skip Disk, Memory -FailOn Critical | Export-OpsReport -Format Markdown -Path '$(Join-Path $dir 'ado.md')'"
        $wrapper = New-Job 'ado-wrapper.ps1' @"
`$ErrorActionPreference = 'Stop'
`$ProgressPreference = 'SilentlyContinue'
. '$user'
if (!(Test-Path -LiteralPath variable:\LASTEXITCODE)) { Write-Host '##[debug]`$LASTEXITCODE is not set.' } else { exit `$LASTEXITCODE }
"@
        $r = Invoke-OpsPwsh -Command ". '$wrapper'" -Environment @{ TF_BUILD = 'True' }
        $r.ExitCode | Should -Be 1
        $r.StdOut | Should -Match '##vso\[task.logissue type=error'
    }
}

Describe 'The nightly backup line of the README' {
    BeforeAll {
        $data = Join-Path $dir 'uploads'
        $store = Join-Path $dir 'store'
        $null = New-Item -ItemType Directory -Path $data, $store
        1..20 | ForEach-Object { Set-Content -LiteralPath (Join-Path $data "file$_.txt") -Value ("upload $_ " * 200) }
        $r = Invoke-OpsPwsh -Command "Backup-Directory -Path '$data' -Store '$store' -ErrorAction Stop | Out-Null"
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
    }

    It 'exits 0 while the latest backup is good' {
        $r = Invoke-OpsPwsh -Command "Get-Backup -Path '$store' -Latest | Test-Backup -Quick -FailOn Critical | Out-Null"
        $r.ExitCode | Should -Be 0 -Because ($r.StdErr + $r.StdOut)
    }

    It 'exits 1 when the latest backup is corrupt' {
        $archive = Get-ChildItem -LiteralPath $store -Recurse -Filter '*.tar.gz' | Select-Object -First 1
        $bytes = [System.IO.File]::ReadAllBytes($archive.FullName)
        $middle = [int]($bytes.Length / 2)
        for ($i = $middle; $i -lt [Math]::Min($middle + 64, $bytes.Length); $i++) { $bytes[$i] = $bytes[$i] -bxor 0xFF }
        [System.IO.File]::WriteAllBytes($archive.FullName, $bytes)

        $r = Invoke-OpsPwsh -Command "Get-Backup -Path '$store' -Latest | Test-Backup -Quick -FailOn Critical; 'next'"
        $r.ExitCode | Should -Be 1
        $r.StdOut | Should -Match 'Critical'
        $r.StdOut | Should -Not -Match '(?m)^next$'
        $r.StdErr + $r.StdOut | Should -Match 'TestBackupFailed|Test-Backup failed'
    }
}

Describe 'Assert-CheckResult' {
    It 'ends a script at the chosen level, and try/catch still catches it' {
        $job = New-Job 'assert.ps1' @"
`$results = Get-AppHealth -Environment '$degraded'
try { `$results | Assert-CheckResult -FailOn Warning -Activity 'Morning checks' -Quiet }
catch { "caught `$(`$_.FullyQualifiedErrorId)" }
`$results | Assert-CheckResult -FailOn Critical -Quiet
'still running'
`$results | Assert-CheckResult -FailOn Warning -Quiet
'not reached'
"@
        $r = Invoke-OpsPwsh -File $job
        $r.StdOut | Should -Match 'caught MorningChecksFailed'
        $r.StdOut | Should -Match 'still running'
        $r.StdOut | Should -Not -Match 'not reached'
        $r.ExitCode | Should -Be 1
    }
}
