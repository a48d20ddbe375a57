# Health and host: the pipelines an admin types in a real pwsh, what the console shows at 80 and 120 columns,
# completion, -Verbose, Ctrl+C in a terminal, and JSON/CSV round trips.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart http
    $base = $parts.http.HttpBase
    $dir = New-TestFolder
    $envFile = Join-Path $dir 'shop.ops.psd1'
    Set-Content -LiteralPath $envFile -Value @"
@{
    Name = 'shop'
    AppHealth = @(
        @{ Name = 'api'; Uri = '$base/health' }
        @{ Name = 'worker'; Uri = '$base/worker/health' }
        @{ Name = 'payments'; Uri = '$base/down' }
    )
}
"@
}

AfterAll {
    Stop-TestPart $parts
    Remove-TestFolder $dir
}

Describe 'Get-AppHealth in a pipeline' {
    It 'finds what is not healthy, with the reason' {
        $problems = Get-AppHealth -Environment $envFile | Where-Object Status -ne Healthy
        $payments = $problems | Where-Object Target -like '*/down'
        $payments.Status | Should -Be 'Critical'
        $payments.Message | Should -Match '503'
        ($problems | Where-Object Target -like '*/worker/health').Status | Should -Be 'Warning'
    }

    It 'returns the endpoints in the order given' {
        $uris = "$base/worker/health", "$base/health", "$base/down"
        (Get-AppHealth -Uri $uris | Where-Object { $_ -is [OpsTools.Health.AppHealthResult] }).Target | Should -Be $uris
    }

    It 'selects, sorts and groups like any objects' {
        $groups = Get-AppHealth -Environment $envFile | Group-Object Status -AsHashTable -AsString
        $groups.Keys | Should -Contain 'Healthy'
        $groups.Keys | Should -Contain 'Critical'
        (Get-AppHealth -Environment $envFile -Name api | Select-Object -First 1 -Property Status, LatencyMs).Status | Should -Be 'Healthy'
    }

    It 'narrows an environment to named endpoints, with wildcards' {
        $r = Get-AppHealth -Environment $envFile -Name 'pay*' | Where-Object { $_ -is [OpsTools.Health.AppHealthResult] }
        @($r).Count | Should -Be 1
        $r.Target | Should -BeLike '*/down'
    }
}

Describe 'What the console shows' {
    It 'keeps the reason visible at <Width> columns' -ForEach @(@{ Width = 80 }, @{ Width = 120 }) {
        $text = Get-AppHealth -Uri "$base/down", "$base/health" | Out-String -Width $Width
        $text | Should -Match 'Critical'
        $text | Should -Match '503'
        foreach ($line in $text -split "`n") { $line.TrimEnd().Length | Should -BeLessOrEqual $Width }
    }

    It 'says what it does with -Verbose' {
        $verbose = Get-AppHealth -Uri "$base/health" -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] }
        ($verbose.Message -join "`n") | Should -Match ([regex]::Escape("$base/health"))
    }
}

Describe 'Tab completion' {
    It 'completes endpoint names from the environment given on the same line' {
        $line = "Get-AppHealth -Environment '$envFile' -Name "
        $names = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        $names | Should -Contain 'api'
        $names | Should -Contain 'payments'
    }

    It 'completes environment files' {
        Push-Location $dir
        try {
            $line = 'Get-AppHealth -Environment '
            (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain './shop.ops.psd1'
        }
        finally { Pop-Location }
    }

    It 'completes -FailOn levels' {
        $line = 'Get-AppHealth -FailOn '
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Sort-Object | Should -Be @('Critical', 'None', 'Warning')
    }
}

Describe 'Host resources' {
    It 'Get-DiskUsage of / agrees with df' {
        $r = Get-DiskUsage -Path /
        $df = (df -B1 --output=size,avail / | Select-Object -Skip 1).Trim() -split '\s+'
        $r.SizeBytes | Should -Be ([long]$df[0])
        [Math]::Abs($r.FreeBytes - [long]$df[1]) | Should -BeLessThan 256MB
        ($r | Out-String -Width 80) | Should -Match '/'
    }

    It 'Get-MemoryUsage reports a status against the thresholds' {
        $r = Get-MemoryUsage -WarningPercent 0.01 -CriticalPercent 100
        $r.Status | Should -Be 'Warning'
        $r.Threshold | Should -Match '0.01'
    }
}

Describe 'Ctrl+C in a terminal' -Tag Terminal {
    BeforeAll {
        $tmux = Get-Command tmux -ErrorAction SilentlyContinue
        $session = 'opstools-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    }
    AfterAll { if ($tmux) { & tmux kill-session -t $session 2>$null } }

    It 'stops a long Get-AppHealth at once and gives the prompt back' {
        if (-not $tmux) { throw 'tmux is not installed (.ci/run installs it): this test needs a real terminal.' }
        $exe, $first = Get-OpsPwshCommand
        $command = (@($exe, $first) | Where-Object { $_ } | ForEach-Object { "'$_'" }) -join ' '
        & tmux new-session -d -s $session -x 80 -y 30 "$command -NoProfile -NoLogo"
        function Screen { ((& tmux capture-pane -p -t $session) -join "`n").TrimEnd() }
        function WaitScreen([string] $pattern, [int] $seconds) {
            $deadline = [DateTime]::UtcNow.AddSeconds($seconds)
            while ([DateTime]::UtcNow -lt $deadline) { if ((Screen) -match $pattern) { return $true }; Start-Sleep -Milliseconds 200 }
            $false
        }
        WaitScreen 'PS .*> ?$' 120 | Should -BeTrue -Because (Screen)
        & tmux send-keys -t $session "Import-Module '$(Get-OpsModuleManifest)'; 'IMPORTED'" Enter
        WaitScreen '(?m)^IMPORTED' 120 | Should -BeTrue -Because (Screen)
        & tmux send-keys -t $session "Get-AppHealth -Uri $base/slow -TimeoutSec 120; 'FINISHED'" Enter
        Start-Sleep -Seconds 3
        $pressed = [DateTime]::UtcNow
        & tmux send-keys -t $session C-c
        WaitScreen '(?s)Get-AppHealth -Uri.*PS .*> ?$' 20 | Should -BeTrue -Because (Screen)
        ([DateTime]::UtcNow - $pressed).TotalSeconds | Should -BeLessThan 10
        Screen | Should -Not -Match '(?m)^FINISHED'
    }
}

Describe 'JSON and CSV round trips' {
    It 'ConvertTo-Json -EnumsAsStrings round-trips statuses by name and the duration as a number' {
        $json = Get-AppHealth -Uri "$base/down" | Select-Object -First 1 | ConvertTo-Json -Depth 3 -EnumsAsStrings
        $back = $json | ConvertFrom-Json
        $back.Status | Should -Be 'Critical'
        $back.Failure | Should -Be 'UnexpectedStatus'
        $back.DurationMs | Should -BeGreaterThan 0
    }

    It 'Export-Csv and Import-Csv keep the columns a person reads' {
        $csv = Join-Path $dir 'health.csv'
        Get-AppHealth -Environment $envFile | Export-Csv -LiteralPath $csv
        $rows = Import-Csv -LiteralPath $csv
        ($rows | Where-Object Target -like '*/down').Status | Should -Be 'Critical'
        Get-Content -LiteralPath $csv -Raw | Should -Not -Match 'System\.Collections'
    }
}
