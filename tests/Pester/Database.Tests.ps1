# PostgreSQL and backups as an admin runs them in a real pwsh, checked through psql-like queries of the
# test cluster (the parts process), never through OpsTools itself.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart postgres
    $pg = $parts.postgres
    $db = Invoke-TestPart $parts 'pg.database shop'
    Invoke-TestPart $parts "pg.exec $db CREATE TABLE orders (id int primary key, note text); INSERT INTO orders SELECT g, 'order ' || g FROM generate_series(1, 500) g" | Out-Null
    $cred = [pscredential]::new($pg.User, (ConvertTo-SecureString $pg.Password -AsPlainText -Force))
    $conn = @{ Server = $pg.Server; Port = $pg.Port; Database = $db; Credential = $cred }
    $dir = New-TestFolder
    $store = Join-Path $dir 'store'
}

AfterAll {
    Stop-TestPart $parts
    Remove-TestFolder $dir
}

Describe 'Database checks' {
    It 'Get-DbHealth says the server is reachable, with its version' {
        $results = Get-DbHealth @conn
        ($results | Where-Object Check -like '*Reachable').Status | Should -Be 'Healthy'
        ($results | Out-String -Width 80) | Should -Match 'Reachable'
    }

    It 'Get-DbConnection | Stop-DbConnection -WhatIf ends nobody' {
        $before = Invoke-TestPart $parts "pg.scalar postgres SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        $text = Get-DbConnection @conn -AllDatabases | Stop-DbConnection @conn -WhatIf 6>&1 | Out-String
        $after = Invoke-TestPart $parts "pg.scalar postgres SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
        [int]$after | Should -BeGreaterOrEqual ([int]$before - 1)
    }

    It 'Get-DbVacuumStatus | Invoke-DbVacuum vacuums the tables with dead rows' {
        Invoke-TestPart $parts "pg.exec $db UPDATE orders SET note = note || '!'" | Out-Null
        $status = Get-DbVacuumStatus @conn -Table orders
        $status.DeadTuples | Should -BeGreaterThan 0
        $status | Invoke-DbVacuum @conn -Analyze | Out-Null
        Invoke-TestPart $parts "pg.scalar $db SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'orders'" | Should -Be '0'
    }
}

Describe 'Scratch databases' {
    It 'lists an orphaned restore database, keeps it under -WhatIf, and drops it when confirmed' {
        $name = "${db}_restore_20261201T021500Z"
        $count = "pg.scalar $db SELECT count(*) FROM pg_database WHERE datname = '$name'"
        Invoke-TestPart $parts "pg.exec $db CREATE DATABASE `"$name`"" | Out-Null
        $s = Get-DbScratchDatabase @conn | Where-Object Name -eq $name
        $s.State | Should -Be 'Orphaned'
        ($s | Out-String -Width 80) -split "`n" | Where-Object { $_.TrimEnd().Length -gt 80 } | Should -BeNullOrEmpty
        Remove-DbScratchDatabase @conn -Name $name -WhatIf
        Invoke-TestPart $parts $count | Should -Be '1'
        $r = Remove-DbScratchDatabase @conn -Name $name -Confirm:$false
        $r.Dropped | Should -BeTrue
        Invoke-TestPart $parts $count | Should -Be '0'
    }
}

Describe 'Backups' {
    BeforeAll {
        $backup = Backup-Database @conn -Path $store
    }

    It 'Backup-Database writes a verified archive the admin can find again' {
        $backup.Verification | Should -Not -BeNullOrEmpty
        (Get-Backup -Path $store -Latest).Id | Should -Be $backup.Id
    }

    It 'Get-Backup -Latest | Test-Backup -Quick proves it good' {
        (Get-Backup -Path $store -Latest | Test-Backup -Quick).Status | Should -Be 'Healthy'
    }

    It 'a dry run of the whole script ($WhatIfPreference) with Restore-Backup -Force replaces nothing' {
        Invoke-TestPart $parts "pg.exec $db DELETE FROM orders WHERE id > 100" | Out-Null
        $WhatIfPreference = $true
        try { Get-Backup -Path $store -Latest | Restore-Backup @conn -Force | Out-Null }
        finally { $WhatIfPreference = $false }
        Invoke-TestPart $parts "pg.scalar $db SELECT count(*) FROM orders" | Should -Be '100'
    }

    It 'Restore-Backup -Force puts the rows back' {
        # The backup taken above: a restore keeps a safety backup of what it replaces, which is then the latest.
        $backup | Restore-Backup @conn -Force | Out-Null
        Invoke-TestPart $parts "pg.scalar $db SELECT count(*) FROM orders" | Should -Be '500'
    }
}
