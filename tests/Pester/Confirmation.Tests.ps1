# The confirmation rule as a real pwsh shows it (OpsCmdlet.ConfirmAsync; every command: the xUnit
# Infrastructure/ConfirmationRuleTests): a whole script as a dry run with $WhatIfPreference, -Force in cron,
# and -Force -Confirm at a real terminal prompt. Files only: a backup store and folders.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $dir = New-TestFolder
    $src = Join-Path $dir 'src'
    $null = New-Item -ItemType Directory -Path (Join-Path $src 'sub')
    Set-Content -LiteralPath (Join-Path $src 'a.txt') -Value 'alpha'
    Set-Content -LiteralPath (Join-Path $src 'sub/b.txt') -Value 'beta'

    function New-Store([string] $name) {
        $store = Join-Path $dir $name
        Backup-Directory -Path $src -Store $store -Name uploads | Out-Null
        $store
    }
    function Get-FileList([string] $path) {
        @(Get-ChildItem -LiteralPath $path -Recurse -File | ForEach-Object { '{0} {1}' -f $_.FullName, (Get-FileHash -LiteralPath $_.FullName).Hash }) | Sort-Object
    }
}
AfterAll { Remove-TestFolder $dir }

Describe 'A script run as a dry run with $WhatIfPreference' {
    It 'changes nothing under -Force, from pwsh -File as cron runs it, and says what it would do' {
        $store = New-Store 'store-dry'
        $dest = Join-Path $dir 'dest-dry'
        $null = New-Item -ItemType Directory -Path $dest
        Set-Content -LiteralPath (Join-Path $dest 'current.txt') -Value 'what is there now'
        $before = (Get-FileList $store) + (Get-FileList $dest)
        $job = Join-Path $dir 'dry.ps1'
        Set-Content -LiteralPath $job -Value @"
`$WhatIfPreference = `$true
Get-Backup -Path '$store' -Name uploads -Latest | Restore-Directory -Destination '$dest' -Force
Get-Backup -Path '$store' -Name uploads | Remove-Backup -AllowNewestVerified -Force
"@
        $r = Invoke-OpsPwsh -File $job
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdErr | Should -BeNullOrEmpty
        $r.StdOut | Should -Match 'What if: Performing the operation "Restore'
        $r.StdOut | Should -Match 'What if: Performing the operation "Remove backup'
        (Get-FileList $store) + (Get-FileList $dest) | Should -Be $before
    }
}

Describe '-Force in a job without a terminal' {
    It 'removes without a prompt (ConfirmImpact High) from pwsh -NonInteractive -Command' {
        $store = New-Store 'store-cron'
        $r = Invoke-OpsPwsh -Command "Get-Backup -Path '$store' -Name uploads | Remove-Backup -AllowNewestVerified -Force; 'done'"
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut | Should -Match 'done'
        @(Get-ChildItem -LiteralPath $store -Recurse -File) | Should -HaveCount 0
    }

    It 'refuses to guess without -Force: the High-impact prompt cannot be shown, so nothing is removed' {
        $store = New-Store 'store-noforce'
        $before = Get-FileList $store
        $r = Invoke-OpsPwsh -Command "Get-Backup -Path '$store' -Name uploads | Remove-Backup -AllowNewestVerified"
        $r.ExitCode | Should -Not -Be 0
        $r.StdErr | Should -Match 'NonInteractive'
        Get-FileList $store | Should -Be $before
    }
}

Describe '-Force -Confirm at a terminal' -Tag Terminal {
    BeforeAll {
        $tmux = Get-Command tmux -ErrorAction SilentlyContinue
        $session = 'opstools-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    }
    AfterAll { if ($tmux) { & tmux kill-session -t $session 2>$null } }

    It 'still asks, and N leaves the backup in place' {
        if (-not $tmux) { throw 'tmux is not installed (.ci/run installs it): this test needs a real terminal.' }
        $store = New-Store 'store-confirm'
        $before = Get-FileList $store
        $exe, $first = Get-OpsPwshCommand
        $command = (@($exe, $first) | Where-Object { $_ } | ForEach-Object { "'$_'" }) -join ' '
        & tmux new-session -d -s $session -x 120 -y 40 "$command -NoProfile -NoLogo"
        function Screen { ((& tmux capture-pane -p -t $session) -join "`n").TrimEnd() }
        function WaitScreen([string] $pattern, [int] $seconds) {
            $deadline = [DateTime]::UtcNow.AddSeconds($seconds)
            while ([DateTime]::UtcNow -lt $deadline) { if ((Screen) -match $pattern) { return $true }; Start-Sleep -Milliseconds 200 }
            $false
        }
        WaitScreen 'PS .*> ?$' 120 | Should -BeTrue -Because (Screen)
        & tmux send-keys -t $session "Import-Module '$(Get-OpsModuleManifest)'; 'IMPORTED'" Enter
        WaitScreen '(?m)^IMPORTED' 120 | Should -BeTrue -Because (Screen)
        & tmux send-keys -t $session "Get-Backup -Path '$store' -Name uploads | Remove-Backup -AllowNewestVerified -Force -Confirm; 'ANSWERED'" Enter
        WaitScreen '\[N\] No' 60 | Should -BeTrue -Because (Screen)
        Screen | Should -Match 'Remove backup uploads/'
        & tmux send-keys -t $session 'N' Enter
        WaitScreen '(?m)^ANSWERED' 60 | Should -BeTrue -Because (Screen)
        Get-FileList $store | Should -Be $before
    }
}
