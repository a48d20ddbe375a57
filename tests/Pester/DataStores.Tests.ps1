# Redis, queues and PgBouncer as an admin runs them: Debian's redis-server (a password on the plain port, a TLS port that
# requires client certificates) and pgbouncer 1.18 (pool of 2) in front of the test PostgreSQL. State is checked with
# redis-cli and psql, not with OpsTools.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart redis, pgbouncer
    $r = $parts.redis
    $b = $parts.pgbouncer
    $password = [System.Net.NetworkCredential]::new('', $r.Password).SecurePassword
    $redis = @{ Server = $r.Server; Port = $r.Port; Password = $password; TimeoutSec = 10 }
    $redisTls = @{ Server = $r.Server; Port = $r.TlsPort; Password = $password; CaCertificate = $r.CaFile; ClientCertificate = $r.ClientCertificate; ClientKey = $r.ClientKey; TimeoutSec = 10 }
    $bouncer = @{ Server = $b.Server; Port = $b.Port; Credential = [pscredential]::new($b.AdminUser, [System.Net.NetworkCredential]::new('', $b.AdminPassword).SecurePassword); TimeoutSec = 10 }
    $dir = New-TestFolder

    function Invoke-RedisCli {
        # redis-cli on the plain port (the password through REDISCLI_AUTH, as redis-cli reads it).
        $env:REDISCLI_AUTH = $r.Password
        try { & redis-cli -h $r.Server -p $r.Port @args } finally { Remove-Item Env:REDISCLI_AUTH -ErrorAction SilentlyContinue }
    }

    $envFile = Join-Path $dir 'shop.ops.psd1'
    Set-Content -LiteralPath $envFile -Value @"
@{
    Name = 'shop'
    Redis = @{ Host = '$($r.Server)'; Port = $($r.TlsPort); CaCertificate = '$($r.CaFile)'; ClientCertificate = '$($r.ClientCertificate)'; ClientKey = '$($r.ClientKey)'; PasswordVariable = 'SHOP_REDIS_PASSWORD' }
    Queues = @( 'email', @{ Name = 'reports'; Kind = 'List'; BacklogWarning = 10; BacklogCritical = 100 } )
    PgBouncer = @{ Host = '$($b.Server)'; Port = $($b.Port); User = '$($b.AdminUser)'; PasswordVariable = 'SHOP_PGB_PASSWORD' }
}
"@
    $childEnv = @{ SHOP_REDIS_PASSWORD = $r.Password; SHOP_PGB_PASSWORD = $b.AdminPassword }
    $env:SHOP_REDIS_PASSWORD = $r.Password
    $env:SHOP_PGB_PASSWORD = $b.AdminPassword
}

AfterAll {
    Remove-Item Env:SHOP_REDIS_PASSWORD, Env:SHOP_PGB_PASSWORD -ErrorAction SilentlyContinue
    Stop-TestPart $parts
    Remove-TestFolder $dir
}

Describe 'Redis health' {
    It 'Get-RedisHealth reads like the runbook''s INFO at 80 columns, with the keys redis-cli counts' {
        Invoke-TestPart $parts 'redis.fill health: 25' | Out-Null
        $results = Get-RedisHealth @redis -LatencyWarningMs 2000 -LatencyCriticalMs 5000
        ($results | Where-Object Check -EQ 'Reachable').Status | Should -Be 'Healthy'
        $keyspace = $results | Where-Object { $_.Check -eq 'Keyspace' -and $_.Database -eq 0 }
        [long]$keyspace.Value | Should -Be ([long](Invoke-RedisCli DBSIZE))
        $text = $results | Out-String -Width 80
        $text -split "`n" | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
        $text | Should -Match 'Memory'
        $text | Should -Match 'HitRate'
        $text | Should -Match 'no maxmemory'
    }

    It 'a wrong password is one Critical result that never shows the password, and -FailOn ends the script' {
        $bad = Get-RedisHealth -Server $r.Server -Port $r.Port -Password (ConvertTo-SecureString 'nope-not-it' -AsPlainText -Force) -Check Reachable -TimeoutSec 5
        $bad.Status | Should -Be 'Critical'
        $bad.ErrorId | Should -Be 'RedisAuthenticationFailed'
        ($bad | Out-String -Width 200) | Should -Not -Match 'nope-not-it'
        $script = Join-Path $dir 'redischeck.ps1'
        Set-Content -LiteralPath $script -Value @'
param([int] $Port)
Get-RedisHealth -Server 127.0.0.1 -Port $Port -Check Reachable -TimeoutSec 5 -FailOn Critical | Out-String -Width 80
'next'
'@
        $run = Invoke-OpsPwsh -File $script -ArgumentList '-Port', $r.Port -Environment @{ REDISCLI_AUTH = 'nope-not-it' }
        $run.ExitCode | Should -Be 1 -Because ($run.StdErr + $run.StdOut)
        ($run.StdOut + $run.StdErr) | Should -Not -Match 'nope-not-it'
        $ok = Invoke-OpsPwsh -File $script -ArgumentList '-Port', $r.Port -Environment @{ REDISCLI_AUTH = $r.Password }
        $ok.ExitCode | Should -Be 0 -Because ($ok.StdErr + $ok.StdOut)
        $ok.StdOut | Should -Match '(?m)^next'
    }

    It 'the TLS port takes the client certificate and key (never printing the key) and refuses a client without one' {
        $tls = Get-RedisHealth @redisTls -Check Reachable, Latency -LatencyWarningMs 2000 -LatencyCriticalMs 5000 -Verbose 4>&1
        $results = $tls | Where-Object { $_ -isnot [System.Management.Automation.VerboseRecord] }
        ($results | Where-Object Check -EQ 'Reachable').Status | Should -Be 'Healthy'
        ($results | Where-Object Check -EQ 'Reachable').Target | Should -Match '^rediss://'
        $all = ($tls | Out-String -Width 200)
        $all | Should -Not -Match ([regex]::Escape($r.KeyLine))
        $all | Should -Not -Match 'PRIVATE KEY'
        $without = Get-RedisHealth -Server $r.Server -Port $r.TlsPort -Password $password -CaCertificate $r.CaFile -Check Reachable -TimeoutSec 3
        $without.Status | Should -Be 'Critical'
        "$($without.Message)" | Should -Match 'TLS|not reachable|connection'
    }
}

Describe 'Redis keys' {
    It 'Get-RedisKey -Pattern lists by SCAN with type and TTL, -First stops early' {
        Invoke-TestPart $parts 'redis.fill session: 30' | Out-Null
        Invoke-RedisCli EXPIRE session:1 600 | Out-Null
        $keys = @(Get-RedisKey @redis -Pattern 'session:*')
        $keys.Count | Should -Be 30
        ($keys | Where-Object Key -EQ 'session:1').Ttl.TotalSeconds | Should -BeGreaterThan 500
        ($keys | Select-Object -First 1).Type | Should -Be 'string'
        @(Get-RedisKey @redis -Pattern 'session:*' -First 5).Count | Should -Be 5
        ($keys | Out-String -Width 80) | Should -Match 'session:'
    }

    It 'Clear-RedisCache -Pattern -WhatIf counts and deletes nothing; -Confirm:$false deletes only the matches' {
        Invoke-TestPart $parts 'redis.fill cache:page: 40' | Out-Null
        Invoke-TestPart $parts 'redis.fill keep: 3' | Out-Null
        $whatIf = Clear-RedisCache @redis -Pattern 'cache:page:*' -WhatIf
        $whatIf.WhatIf | Should -BeTrue
        $whatIf.Keys | Should -Be 40
        @(Invoke-RedisCli --scan --pattern 'cache:page:*').Count | Should -Be 40
        $done = Clear-RedisCache @redis -Pattern 'cache:page:*' -Confirm:$false
        $done.Keys | Should -Be 40
        $done.Bytes | Should -BeGreaterThan 0
        @(Invoke-RedisCli --scan --pattern 'cache:page:*' | Where-Object { $_ }).Count | Should -Be 0
        @(Invoke-RedisCli --scan --pattern 'keep:*').Count | Should -Be 3
    }

    It 'Clear-RedisCache of a whole database (FLUSHDB) needs -Force or -Confirm:$false in a script' {
        Invoke-TestPart $parts 'redis.fill scratch: 5 4' | Out-Null
        $r1 = Invoke-OpsPwsh -Command "Clear-RedisCache -Server $($r.Server) -Port $($r.Port) -Database 4 -WhatIf | Out-Null" -Environment @{ REDISCLI_AUTH = $r.Password }
        $r1.ExitCode | Should -Be 0 -Because $r1.StdErr
        [long](Invoke-RedisCli -n 4 DBSIZE) | Should -Be 5
        $r2 = Invoke-OpsPwsh -Command "Clear-RedisCache -Server $($r.Server) -Port $($r.Port) -Database 4 -Confirm:`$false | Out-Null" -Environment @{ REDISCLI_AUTH = $r.Password }
        $r2.ExitCode | Should -Be 0 -Because $r2.StdErr
        [long](Invoke-RedisCli -n 4 DBSIZE) | Should -Be 0
        [long](Invoke-RedisCli -n 0 DBSIZE) | Should -BeGreaterThan 0 -Because 'only database 4 was flushed'
    }
}

Describe 'Queues' {
    It 'Get-QueueStatus reads the environment''s queues over TLS and -FailOn ends the script on a backlog' {
        Invoke-TestPart $parts 'redis.list reports 150' | Out-Null
        Invoke-TestPart $parts 'redis.list email 3' | Out-Null
        $q = Get-QueueStatus -Environment $envFile
        ($q | Where-Object Name -EQ 'reports').Backlog | Should -Be ([long](Invoke-RedisCli LLEN reports))
        ($q | Where-Object Name -EQ 'reports').Status | Should -Be 'Critical'
        ($q | Where-Object Name -EQ 'email').Status | Should -Be 'Healthy'
        ($q | Out-String -Width 80) | Should -Match 'reports'
        $run = Invoke-OpsPwsh -Command "Get-QueueStatus -Environment '$envFile' -FailOn Critical | Out-Null; 'next'" -Environment $childEnv
        $run.ExitCode | Should -Be 1 -Because ($run.StdErr + $run.StdOut)
        Invoke-RedisCli LTRIM reports 0 4 | Out-Null
        $run = Invoke-OpsPwsh -Command "Get-QueueStatus -Environment '$envFile' -FailOn Critical | Out-Null; 'next'" -Environment $childEnv
        $run.ExitCode | Should -Be 0 -Because ($run.StdErr + $run.StdOut)
    }

    It 'growth between two readings, piped in' {
        Invoke-RedisCli DEL growing | Out-Null
        Invoke-TestPart $parts 'redis.list growing 10' | Out-Null
        $first = Get-QueueStatus @redis -Name growing
        Invoke-TestPart $parts 'redis.list growing 20' | Out-Null
        $second = @($first | Get-QueueStatus @redis)
        $second.Count | Should -Be 1 -Because 'the piped reading names the queue; its text is no second queue'
        $second.Growth | Should -Be 20
        $second.Backlog | Should -Be 30
    }

    It 'completes queue names from the environment' {
        $line = "Get-QueueStatus -Environment '$envFile' -Name re"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('reports')
    }
}

Describe 'PgBouncer' {
    It 'Get-PgBouncerPool shows the exhausted pool at 80 columns as SHOW POOLS says, and -FailOn ends the script' {
        Invoke-TestPart $parts 'pgb.hold 5 40' | Out-Null
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        do { Start-Sleep -Milliseconds 300; $row = Invoke-TestPart $parts 'pgb.pool' } while ($row -notmatch 'cl_waiting=3' -and [DateTime]::UtcNow -lt $deadline)
        $row | Should -Match 'cl_waiting=3'
        Start-Sleep -Milliseconds 1200
        $pool = Get-PgBouncerPool @bouncer -MaxWaitCriticalSeconds 1
        $pool.Database | Should -Be $b.Database
        $pool.ClientsWaiting | Should -Be 3
        $pool.ClientsActive | Should -Be 2
        $pool.Status | Should -Be 'Critical'
        $text = $pool | Out-String -Width 80
        $text -split "`n" | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
        $text | Should -Match 'waiting clients'
        $run = Invoke-OpsPwsh -Command "Get-PgBouncerPool -Environment '$envFile' -MaxWaitCriticalSeconds 1 -FailOn Critical | Out-Null; 'next'" -Environment $childEnv
        $run.ExitCode | Should -Be 1 -Because ($run.StdErr + $run.StdOut)
        $run.StdOut | Should -Not -Match '(?m)^next'
    }

    It 'a refused admin user is a clear error without the password' {
        $plain = [pscredential]::new($b.PlainUser, [System.Net.NetworkCredential]::new('', $b.AdminPassword).SecurePassword)
        $err = { Get-PgBouncerPool -Server $b.Server -Port $b.Port -Credential $plain -TimeoutSec 10 } | Should -Throw -PassThru
        $err.Exception.Message | Should -Match "refused user 'appuser'"
        $err.FullyQualifiedErrorId | Should -Match '^PgBouncer'
        ($err | Out-String) + $err.Exception.ToString() | Should -Not -Match ([regex]::Escape($b.AdminPassword))
    }
}

Describe 'Invoke-DailyCheck' {
    It 'runs the Redis, queue and PgBouncer steps of an environment that names them' {
        $results = @(Invoke-DailyCheck -Environment $envFile -Skip Disk, Memory)
        $areas = $results.Area | Sort-Object -Unique
        $areas | Should -Contain 'Redis'
        $areas | Should -Contain 'PgBouncer'
        ($results | Where-Object Check -EQ 'Reachable' | Where-Object Area -EQ 'Redis').Status | Should -Be 'Healthy'
        ($results | Where-Object { $_.Check -like 'Queue*' }).Count | Should -BeGreaterOrEqual 2
        ($results | Out-String -Width 80) | Should -Not -Match ([regex]::Escape($r.Password))
    }

    It 'an unreachable Redis is one result that says so, and the other steps still run' {
        $downFile = Join-Path $dir 'down.ops.psd1'
        $freePort = (Get-Content -Raw $envFile) -replace "Port = $($r.TlsPort)", 'Port = 1'
        Set-Content -LiteralPath $downFile -Value ($freePort -replace "Name = 'shop'", "Name = 'down'")
        $results = @(Invoke-DailyCheck -Environment $downFile -Skip Disk, Memory, Queues -WarningAction SilentlyContinue)
        $redisResults = @($results | Where-Object Area -EQ 'Redis')
        $redisResults.Count | Should -Be 1
        $redisResults[0].Status | Should -BeIn 'Critical', 'Unknown'
        ($results.Area) | Should -Contain 'PgBouncer'
    }
}
