# The three checklists and Export-OpsReport, as cron and an admin at the console use them.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart http, postgres
    $pg = $parts.postgres
    $db = Invoke-TestPart $parts 'pg.database shop'
    Invoke-TestPart $parts "pg.exec $db CREATE TABLE events (id int primary key, v int); INSERT INTO events SELECT g, 0 FROM generate_series(1, 20000) g; UPDATE events SET v = 1" | Out-Null
    $dir = New-TestFolder
    $envFile = Join-Path $dir 'shop.ops.psd1'
    Set-Content -LiteralPath $envFile -Value @"
@{
    Name = 'shop'
    AppHealth = @(
        @{ Name = 'api'; Uri = '$($parts.http.HttpBase)/health' }
        @{ Name = 'worker'; Uri = '$($parts.http.HttpBase)/worker/health' }
    )
    Databases = @( @{ Name = 'app'; Server = '$($pg.Server)'; Port = $($pg.Port); Database = '$db'; User = '$($pg.User)'; PasswordVariable = 'SHOP_DB_PASSWORD' } )
    Backup = @{ Path = '$(Join-Path $dir 'backups')' }
}
"@
    $env:SHOP_DB_PASSWORD = $pg.Password
}

AfterAll {
    Remove-Item Env:SHOP_DB_PASSWORD -ErrorAction SilentlyContinue
    Stop-TestPart $parts
    Remove-TestFolder $dir
}

Describe 'Invoke-DailyCheck' {
    It 'shows one checklist table at 80 columns with the reasons' {
        $text = Invoke-DailyCheck -Environment $envFile -Skip Disk, Memory | Out-String -Width 80
        $text | Should -Match 'AppHealth'
        $text | Should -Match 'Degraded|1840 jobs'
    }

    It 'writes its report from cron and prints nothing else on stdout' {
        $report = Join-Path $dir 'daily.md'
        $r = Invoke-OpsPwsh -Command "Invoke-DailyCheck -Environment '$envFile' -Skip Disk, Memory | Export-OpsReport -Format Markdown -Path '$report'" -Environment @{ SHOP_DB_PASSWORD = $pg.Password }
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut.Trim() | Should -BeNullOrEmpty
        Get-Content -LiteralPath $report -Raw | Should -Match 'AppHealth'
    }
}

Describe 'Invoke-WeeklyMaintenance' {
    It '-WhatIf vacuums nothing' {
        $dead = Invoke-TestPart $parts "pg.scalar $db SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'events'"
        Invoke-WeeklyMaintenance -Environment $envFile -WhatIf | Out-Null
        [long](Invoke-TestPart $parts "pg.scalar $db SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'events'") | Should -BeGreaterOrEqual ([long]$dead)
    }

    It 'does not fail on what it fixed itself' {
        $r = Invoke-OpsPwsh -Command "Invoke-WeeklyMaintenance -Environment '$envFile' -Skip ImagePrune -FailOn Critical | Out-Null" -Environment @{ SHOP_DB_PASSWORD = $pg.Password }
        $r.ExitCode | Should -Be 0 -Because ($r.StdErr + $r.StdOut)
        Invoke-TestPart $parts "pg.scalar $db SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'events'" | Should -Be '0'
    }
}

Describe 'Invoke-MonthlyReview' {
    It 'returns results for the environment''s databases' {
        $results = Invoke-MonthlyReview -Environment $envFile
        @($results).Count | Should -BeGreaterThan 0
        ($results | Out-String -Width 80) | Should -Not -BeNullOrEmpty
    }
}

Describe 'Export-OpsReport' {
    It 'writes every format, owner-only, and refuses a missing folder' -ForEach @(
        @{ Format = 'Markdown'; Pattern = '\| Status' }, @{ Format = 'Json'; Pattern = '(?i)"status"' }, @{ Format = 'Html'; Pattern = '<html' },
        @{ Format = 'JUnit'; Pattern = '<testsuite' }, @{ Format = 'Yaml'; Pattern = '(?i)status:' }) {
        $path = Join-Path $dir "report.$Format"
        $out = Get-AppHealth -Environment $envFile | Export-OpsReport -Format $Format -Path $path
        $out | Should -BeNullOrEmpty
        Get-Content -LiteralPath $path -Raw | Should -Match $Pattern
        if (-not $IsWindows) { (Get-Item -LiteralPath $path).UnixFileMode.ToString() | Should -Be 'UserRead, UserWrite' }
        { Get-AppHealth -Environment $envFile | Export-OpsReport -Format $Format -Path (Join-Path $dir "no/such/dir/r.$Format") -ErrorAction Stop } | Should -Throw
    }
}
