# Units: durations and points in time as an admin types them, unquoted, in the real pwsh. PowerShell reads an
# unquoted 1d as the decimal literal 1 (and 30s as the short 30, 1kb as 1024) before any cmdlet sees it; the one
# time parser reads the token as it was typed, so -Since 1d is one day, never one second.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $dir = New-TestFolder
    $log = Join-Path $dir 'app.log'
    $now = [datetime]::UtcNow
    # one line 2 days ago, one 5 hours ago, one 20 minutes ago, one 10 seconds ago
    Set-Content -LiteralPath $log -Value @(
        "$($now.AddDays(-2).ToString('yyyy-MM-ddTHH:mm:ss.fffZ')) ERROR two days ago"
        "$($now.AddHours(-5).ToString('yyyy-MM-ddTHH:mm:ss.fffZ')) ERROR five hours ago"
        "$($now.AddMinutes(-20).ToString('yyyy-MM-ddTHH:mm:ss.fffZ')) ERROR twenty minutes ago"
        "$($now.AddSeconds(-10).ToString('yyyy-MM-ddTHH:mm:ss.fffZ')) ERROR ten seconds ago"
    )
    $old = Join-Path $dir 'old'
    New-Item -ItemType Directory -Path $old | Out-Null
    foreach ($n in @{ 'a.log' = 3; 'b.log' = 0.5 }.GetEnumerator()) {
        $f = Join-Path $old $n.Key
        Set-Content -LiteralPath $f -Value 'x'
        (Get-Item -LiteralPath $f).LastWriteTimeUtc = $now.AddDays(-$n.Value)
    }
}

AfterAll { Remove-TestFolder $dir }

Describe 'Point-in-time parameters typed unquoted' {
    It 'Search-Log -Since 1d means one day (PowerShell parses 1d as the decimal 1)' {
        $hits = Search-Log -Path $log -Pattern ERROR -Since 1d
        @($hits).Count | Should -Be 3
        $hits.Line | Should -Not -Contain ($hits.Line | Where-Object { $_ -match 'two days' })
    }

    It 'Measure-LogError -Since 1d counts the last day, -Since 30s only the last line' {
        (Measure-LogError -Path $log -Since 1d).Matched | Should -Be 3
        (Measure-LogError -Path $log -Since 30s).Matched | Should -Be 1
    }

    It 'takes 30m, 2h, 1h30m, 6h, "1 hour ago", ISO 8601, a TimeSpan, a DateTime and a DateTimeOffset' {
        (Measure-LogError -Path $log -Since 30m).Matched | Should -Be 2
        (Measure-LogError -Path $log -Since 1h30m).Matched | Should -Be 2
        (Measure-LogError -Path $log -Since 6h).Matched | Should -Be 3
        (Measure-LogError -Path $log -Since '1 hour ago').Matched | Should -Be 2
        (Measure-LogError -Path $log -Since PT6H).Matched | Should -Be 3
        (Measure-LogError -Path $log -Since P3D).Matched | Should -Be 4
        (Measure-LogError -Path $log -Since ([timespan]'01:00:00')).Matched | Should -Be 2
        (Measure-LogError -Path $log -Since ([datetime]::UtcNow.AddHours(-6))).Matched | Should -Be 3
        (Measure-LogError -Path $log -Since ([datetimeoffset]::UtcNow.AddHours(-1))).Matched | Should -Be 2
        (Measure-LogError -Path $log -Since 1d -Until 1h).Matched | Should -Be 1
    }

    It 'refuses a number literal whose suffix is not a time unit, saying how to write it' {
        { Measure-LogError -Path $log -Since 1kb -ErrorAction Stop } | Should -Throw -ExpectedMessage "*'1kb' is a PowerShell number literal, not a time*"
        { Measure-LogError -Path $log -Since yesterdayish -ErrorAction Stop } | Should -Throw -ExpectedMessage "*neither a time nor a duration*"
    }
}

Describe 'Duration parameters typed unquoted' {
    It 'Remove-OldLog -OlderThan 1d finds the 3-day-old file, not the 12-hour-old one' {
        $r = Remove-OldLog -Path $old -OlderThan 1d -WhatIf
        @($r).Count | Should -Be 1
        Split-Path -Leaf $r[0].Path | Should -Be 'a.log'
        (Remove-OldLog -Path $old -OlderThan 2d -WhatIf | Measure-Object).Count | Should -Be 1
        (Remove-OldLog -Path $old -OlderThan 1h -WhatIf | Measure-Object).Count | Should -Be 2
        (Remove-OldLog -Path $old -OlderThan 4d -WhatIf | Measure-Object).Count | Should -Be 0
        Test-Path (Join-Path $old 'a.log') | Should -BeTrue
    }

    It 'reads the same unquoted token the same way when it is quoted' {
        (Remove-OldLog -Path $old -OlderThan '1d' -WhatIf | Measure-Object).Count | Should -Be 1
        (Remove-OldLog -Path $old -OlderThan 1.5d -WhatIf | Measure-Object).Count | Should -Be 1
        (Remove-OldLog -Path $old -OlderThan '1 day' -WhatIf | Measure-Object).Count | Should -Be 1
    }
}

Describe 'Set-ReplicaCount: two parameter sets the binder enforces' {
    It 'refuses a Kubernetes parameter in the Compose set when binding, before any engine is asked' {
        foreach ($extra in @{ Namespace = 'prod' }, @{ Context = 'kind' }, @{ Kubeconfig = '/nonexistent/config' }, @{ Kind = 'StatefulSet' }) {
            $e = { Set-ReplicaCount -ComposeProject shop -Service api -Replicas 2 -DockerHost unix:///nonexistent/docker.sock @extra -ErrorAction Stop } |
                Should -Throw -PassThru
            $e.FullyQualifiedErrorId | Should -BeLike 'AmbiguousParameterSet,*'
        }
    }

    It 'lists the Kubernetes connection parameters in the Kubernetes set only' {
        $sets = (Get-Command Set-ReplicaCount).ParameterSets
        $compose = ($sets | Where-Object Name -eq 'Compose').Parameters.Name
        $kube = ($sets | Where-Object Name -eq 'Kubernetes').Parameters.Name
        foreach ($p in 'Name', 'Kind', 'Kubeconfig', 'Context', 'Namespace') { $compose | Should -Not -Contain $p; $kube | Should -Contain $p }
        foreach ($p in 'ComposeProject', 'Service', 'DockerHost', 'DockerContext', 'EphemeralHostPort') { $kube | Should -Not -Contain $p; $compose | Should -Contain $p }
        foreach ($p in 'Replicas', 'Wait', 'Force', 'TimeoutSec', 'Environment', 'RequestTimeoutSec') { $kube | Should -Contain $p; $compose | Should -Contain $p }
    }
}
