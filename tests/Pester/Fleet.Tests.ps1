# Invoke-FleetCheck over real PowerShell remoting: sshd instances on loopback (Debian's OpenSSH, each its own port,
# host key and authorized_keys) with the real pwsh 7.6.10 as the powershell subsystem and key authentication.
#   installed: OpsTools installed with Install-PSResource from the package build.ps1 -Task Package makes
#   bare:      no OpsTools
#   other:     OpsTools with another version in its manifest
#   down:      a port nothing listens on
# Each host's user module path is its own (XDG_DATA_HOME set by its sshd), so what is installed where is checked by
# listing those folders, not through the command under test.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $root = Get-OpsRepoRoot
    $version = (Import-PowerShellDataFile -LiteralPath (Join-Path $root 'OpsTools.psd1')).ModuleVersion
    $parts = Start-TestPart ssh
    $ssh = $parts.ssh
    $installedPort, $barePort, $otherPort = @($ssh.Ports)
    $downPort = $ssh.DownPort
    $installed = "127.0.0.1:$installedPort"
    $bare = "127.0.0.1:$barePort"
    $other = "127.0.0.1:$otherPort"
    $down = "127.0.0.1:$downPort"
    # The hosts are made per run: no known_hosts entries to keep (a real fleet would use accept-new or a managed file).
    $sshArgs = @{ KeyFilePath = $ssh.KeyFile; SSHOption = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } }
    $dir = New-TestFolder

    # OpsTools on the "installed" host as an admin installs it: the package, Install-PSResource -Scope CurrentUser,
    # in a pwsh whose HOME is that host's (so it lands in that host's user module path).
    $pkgHome = (New-Item -ItemType Directory -Path (Join-Path $dir 'pkg-home')).FullName
    $build = Invoke-OpsPwsh -Command "& '$root/build.ps1' -Task Package -NoBuild" -Environment @{ HOME = $pkgHome } -WorkingDirectory $dir -TimeoutSec 600
    if ($build.ExitCode -ne 0) { throw "build.ps1 -Task Package failed: $($build.StdErr)" }
    $repo = (New-Item -ItemType Directory -Path (Join-Path $dir 'repo')).FullName
    Copy-Item -LiteralPath (Join-Path $root "artifacts/OpsTools.$version.nupkg") -Destination $repo
    $install = Invoke-OpsPwsh -Environment @{ HOME = $ssh.Homes.$installedPort; XDG_DATA_HOME = $null; PSModulePath = $null } -WorkingDirectory $dir -TimeoutSec 600 -Command @"
`$ErrorActionPreference = 'Stop'
Register-PSResourceRepository -Name OpsToolsFleet -Uri '$repo' -Trusted
Install-PSResource -Name OpsTools -Repository OpsToolsFleet -Scope CurrentUser -TrustRepository
"@
    if ($install.ExitCode -ne 0) { throw "Install-PSResource failed: $($install.StdErr)" }
    Invoke-TestPart $parts "ssh.install $otherPort 0.0.9" | Out-Null

    function Get-RemotePwshCount {
        # pwsh processes started as the powershell subsystem (one per open session), as ps sees them.
        @(& ps -eo args | Where-Object { $_ -match '\s-sshs(\s|$)' }).Count
    }
}

AfterAll { Stop-TestPart $parts; Remove-TestFolder $dir }

Describe 'Invoke-FleetCheck' {
    It 'the test hosts are as described: OpsTools only where it was installed' {
        Invoke-TestPart $parts "ssh.versions $installedPort" | Should -Be $version
        Invoke-TestPart $parts "ssh.versions $barePort" | Should -Be ''
        Invoke-TestPart $parts "ssh.versions $otherPort" | Should -Be '0.0.9'
    }

    It 'returns the daily check of a host as typed results, and one Unknown per host that is down, lacks OpsTools or has another version' {
        $r = @(Invoke-FleetCheck -HostName $installed, $bare, $other, $down @sshArgs -ScriptBlock { Invoke-DailyCheck })

        $fromInstalled = @($r | Where-Object ComputerName -EQ $installed)
        $fromInstalled.Count | Should -BeGreaterOrEqual 2
        $fromInstalled.ForEach({ $_.GetType().FullName }) | Should -Contain 'OpsTools.HostResources.DiskUsageResult'
        $fromInstalled.ForEach({ $_.GetType().FullName }) | Should -Contain 'OpsTools.HostResources.MemoryUsageResult'
        # The remote host is this machine: its root file system as df sees it.
        $rootFs = $fromInstalled | Where-Object { $_ -is [OpsTools.HostResources.DiskUsageResult] -and $_.Mount -eq '/' }
        $dfSize = [long]((& df -B1 --output=size / | Select-Object -Skip 1) -join '').Trim()
        $rootFs.SizeBytes | Should -Be $dfSize
        $rootFs.Status | Should -BeOfType [OpsTools.CheckStatus]
        $rootFs.Timestamp.Kind | Should -Be 'Utc'

        $unknown = @($r | Where-Object Check -EQ 'Fleet')
        $unknown.Count | Should -Be 3
        $unknown.Status | Sort-Object -Unique | Should -Be 'Unknown'
        ($unknown | Where-Object ComputerName -EQ $down).Message | Should -Match "Unreachable: cannot connect to 127\.0\.0\.1 port $downPort \(Connection refused\)"
        ($unknown | Where-Object ComputerName -EQ $down).Target | Should -Be 'Connect'
        ($unknown | Where-Object ComputerName -EQ $bare).Message | Should -Match "The host has no OpsTools; this fleet run needs OpsTools $([regex]::Escape($version))"
        ($unknown | Where-Object ComputerName -EQ $other).Message | Should -Match "The host has OpsTools 0\.0\.9; this fleet run needs OpsTools $([regex]::Escape($version))"
        ($unknown | Where-Object ComputerName -EQ $other).Target | Should -Be 'Module'
    }

    It 'keeps the format views on the caller''s side: one table with a Host column, and each type''s own view' {
        $r = @(Invoke-FleetCheck -HostName $installed, $down @sshArgs -ScriptBlock { Get-DiskUsage -Path / })
        $table = $r | Out-String -Width 80
        $table | Should -Match '(?m)^Host\s+Status\s+Check\s+Target\s+Message'
        $table | Should -Match ([regex]::Escape($installed))
        $table | Should -Match ([regex]::Escape($down))
        $disk = $r | Where-Object { $_ -is [OpsTools.HostResources.DiskUsageResult] }
        $own = $disk | Format-Table -View OpsTools.HostResources.DiskUsageResult | Out-String -Width 80
        $own | Should -Match 'Size\(GB\)'
        ($disk | Format-List | Out-String -Width 80) | Should -Match 'ComputerName\s*:\s*127\.0\.0\.1'
    }

    It 'merges every host into one report and one exit code under pwsh -File' {
        $md = Join-Path $dir 'fleet.md'
        $script = Join-Path $dir 'fleet.ps1'
        Set-Content -LiteralPath $script -Value @"
Import-Module OpsTools
`$ssh = @{ KeyFilePath = '$($ssh.KeyFile)'; SSHOption = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } }
Invoke-FleetCheck -HostName '$installed', '$bare' @ssh -ScriptBlock { Get-MemoryUsage -WarningPercent 99 -CriticalPercent 100 } |
    Export-OpsReport -Format Markdown -Path '$md' -FailOn Warning
'after the report'
"@
        $run = Invoke-OpsPwsh -File $script
        $run.ExitCode | Should -Be 1 -Because $run.StdErr
        $run.StdOut | Should -Not -Match 'after the report'
        $report = Get-Content -Raw -LiteralPath $md
        $report | Should -Match '\| Host \| Status \| Check \| Target \|'
        $report | Should -Match ([regex]::Escape("| $installed | Healthy | MemoryUsage |"))
        $report | Should -Match ([regex]::Escape("| $bare | **Unknown** | Fleet | Module |"))

        $ok = Invoke-OpsPwsh -Command "Import-Module OpsTools; Invoke-FleetCheck -HostName '$installed' -KeyFilePath '$($ssh.KeyFile)' -SSHOption @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } -ScriptBlock { Get-MemoryUsage -WarningPercent 99 -CriticalPercent 100 } -FailOn Warning | Out-Null; 'DONE'"
        $ok.ExitCode | Should -Be 0 -Because $ok.StdErr
        $ok.StdOut | Should -Match 'DONE'
    }

    It 'carries -ArgumentList and $using: values from the caller''s scope, and passes other output through' {
        function Invoke-FromFunction {
            $mount = '/'
            Invoke-FleetCheck -HostName $installed @sshArgs -ArgumentList 'from-args' -ScriptBlock {
                param($word)
                "word=$word using=$using:mount"
                Get-DiskUsage -Path $using:mount
            }
        }
        $r = @(Invoke-FromFunction)
        $text = $r | Where-Object { $_ -is [string] }
        $text | Should -Be 'word=from-args using=/'
        ($r | Where-Object { $_ -is [OpsTools.HostResources.DiskUsageResult] }).Mount | Should -Be '/'
    }

    It 'reports what a host''s command throws as one Unknown result in the host''s words, and what it wrote before' {
        $r = @(Invoke-FleetCheck -HostName $installed @sshArgs -ScriptBlock { Get-MemoryUsage; throw 'disk on fire' })
        $r.Count | Should -Be 2
        $r[0] | Should -BeOfType [OpsTools.HostResources.MemoryUsageResult]
        $r[1].Check | Should -Be 'Fleet'
        $r[1].Target | Should -Be 'Command'
        $r[1].Message | Should -Be 'Error on the host: disk on fire'
    }

    It 'stops a host that runs past -TimeoutSec there, reports it, and does not hold up the others' {
        $marker = Join-Path $dir 'slow-finished'
        $started = [DateTime]::UtcNow
        $r = @(Invoke-FleetCheck -HostName $installed, $installed @sshArgs -TimeoutSec 4 -ArgumentList $marker -ScriptBlock {
                param($marker)
                # Two sessions to the same host: the one that creates the lock file first sleeps, the other answers.
                $first = try { [System.IO.File]::Open("$marker.lock", 'CreateNew').Dispose(); $true } catch { $false }
                if ($first) { Start-Sleep -Seconds 16; New-Item -ItemType File -Path $marker | Out-Null }
                Get-MemoryUsage
            })
        $elapsed = ([DateTime]::UtcNow - $started).TotalSeconds
        $elapsed | Should -BeLessThan 15
        @($r | Where-Object { $_ -is [OpsTools.HostResources.MemoryUsageResult] }).Count | Should -Be 1
        $late = @($r | Where-Object Check -EQ 'Fleet')
        $late.Count | Should -Be 1
        $late[0].Target | Should -Be 'Command'
        $late[0].Message | Should -Match 'did not finish within 4 s'
        # Stopped there, not left running: the sleep never reaches its next line.
        Start-Sleep -Seconds ([Math]::Max(1, 20 - $elapsed))
        Test-Path -LiteralPath $marker | Should -BeFalse
    }

    It 'runs at most -ThrottleLimit hosts at once' {
        $span = { $from = [DateTime]::UtcNow.Ticks; Start-Sleep -Seconds 2; "$from-$([DateTime]::UtcNow.Ticks)" }
        $overlap = {
            param([string[]] $Spans)
            $a, $b = $Spans | ForEach-Object { , ([long[]]($_ -split '-')) }
            $a[0] -lt $b[1] -and $b[0] -lt $a[1]
        }
        $one = @(Invoke-FleetCheck -HostName $installed, $installed @sshArgs -ThrottleLimit 1 -ScriptBlock $span)
        $one.Count | Should -Be 2
        & $overlap $one | Should -BeFalse
        $two = @(Invoke-FleetCheck -HostName $installed, $installed @sshArgs -ThrottleLimit 2 -ScriptBlock $span)
        & $overlap $two | Should -BeTrue
    }

    It 'takes -SSHConnection hashtables as New-PSSession does, and names a key it does not know' {
        $c = @{ HostName = '127.0.0.1'; Port = $installedPort; KeyFilePath = $ssh.KeyFile; Options = $sshArgs.SSHOption }
        $r = @(Invoke-FleetCheck -SSHConnection $c, @{ HostName = '127.0.0.1'; Port = $downPort } -ScriptBlock { Get-MemoryUsage })
        ($r | Where-Object ComputerName -EQ $installed) | Should -BeOfType [OpsTools.HostResources.MemoryUsageResult]
        ($r | Where-Object ComputerName -EQ $down).Target | Should -Be 'Connect'
        { Invoke-FleetCheck -SSHConnection @{ HostName = 'web1'; Password = 'x' } } | Should -Throw "*unknown keys: Password*"
    }

    It 'uses open sessions as they are and leaves them open' {
        $s = New-PSSession -HostName 127.0.0.1 -Port $installedPort -KeyFilePath $ssh.KeyFile -Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
        try {
            $r = @(Invoke-FleetCheck -Session $s -ScriptBlock { Get-MemoryUsage })
            $r[0] | Should -BeOfType [OpsTools.HostResources.MemoryUsageResult]
            $r[0].ComputerName | Should -Be $installed
            $s.State | Should -Be 'Opened'
            (Invoke-Command -Session $s { 1 + 1 }) | Should -Be 2
        }
        finally { Remove-PSSession $s }
    }

    It 'takes the hosts from the environment''s Fleet section, and says when it has none' {
        $envFile = Join-Path $dir 'fleet.ops.psd1'
        Set-Content -LiteralPath $envFile -Value "@{ Name = 'fleet'; Fleet = @{ Hosts = @('$installed', '$down'); KeyFilePath = '$($ssh.KeyFile)'; TimeoutSec = 120 } }"
        $r = @(Invoke-FleetCheck -Environment $envFile -SSHOption $sshArgs.SSHOption -ScriptBlock { Get-MemoryUsage })
        ($r | Where-Object ComputerName -EQ $installed) | Should -BeOfType [OpsTools.HostResources.MemoryUsageResult]
        ($r | Where-Object ComputerName -EQ $down).Status | Should -Be 'Unknown'
        ($r | Where-Object ComputerName -EQ $down).Environment | Should -Be 'fleet'

        $noFleet = Join-Path $dir 'plain.ops.psd1'
        Set-Content -LiteralPath $noFleet -Value "@{ Name = 'plain' }"
        { Invoke-FleetCheck -Environment $noFleet } | Should -Throw -ErrorId 'FleetHostsMissing*'
        $bad = Join-Path $dir 'bad.ops.psd1'
        Set-Content -LiteralPath $bad -Value "@{ Fleet = @{ Hosts = @('a b') } }"
        { Get-OpsEnvironment $bad -ErrorAction Stop } | Should -Throw "*Fleet.Hosts?0?: 'a b' is not a host*"
    }

    It 'asks before copying the module: -WhatIf copies nothing, -CopyModule brings a bare host up and runs there' {
        $sessionsBefore = @(Get-PSSession).Count
        $whatIf = @(Invoke-FleetCheck -HostName $bare @sshArgs -CopyModule -WhatIf -ScriptBlock { Get-MemoryUsage })
        Invoke-TestPart $parts "ssh.versions $barePort" | Should -Be ''
        ($whatIf | Where-Object Check -EQ 'Fleet').Message | Should -Match 'has no OpsTools'
        # -WhatIf governs the copy only: the sessions it opened are closed all the same.
        @(Get-PSSession).Count | Should -Be $sessionsBefore

        $r = @(Invoke-FleetCheck -HostName $bare @sshArgs -CopyModule -Confirm:$false -ScriptBlock { (Get-Module OpsTools).ModuleBase; Get-MemoryUsage })
        Invoke-TestPart $parts "ssh.versions $barePort" | Should -Be $version
        ($r | Where-Object { $_ -is [string] }) | Should -Be (Join-Path $ssh.ModulePaths.$barePort "OpsTools/$version")
        ($r | Where-Object { $_ -is [OpsTools.HostResources.MemoryUsageResult] }).ComputerName | Should -Be $bare
    }

    It 'lets a plain Invoke-Command caller judge and report remote results' {
        $remote = Invoke-Command -HostName 127.0.0.1 -Port $installedPort -KeyFilePath $ssh.KeyFile -Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } -ScriptBlock {
            Import-Module OpsTools; Get-MemoryUsage -WarningPercent 0.001 -CriticalPercent 100
        }
        $remote.PSObject.TypeNames[0] | Should -Be 'Deserialized.OpsTools.HostResources.MemoryUsageResult'
        # The type's own view applies to the property bag too (PowerShell matches Deserialized.<type> with <type>'s views).
        ($remote | Out-String -Width 80) | Should -Match 'Total\(GB\)\s+Available\(GB\)\s+Used%'
        { $remote | Assert-CheckResult -FailOn Warning } | Should -Throw -ErrorId 'CheckResultsFailed*'
        $md = $remote | Export-OpsReport -Format Markdown
        $md | Should -Match ([regex]::Escape("| $('127.0.0.1') | **Warning** | MemoryUsage |"))
    }
}

Describe 'Invoke-FleetCheck -HostName completion' {
    It 'completes the hosts of ~/.ssh/config and ~/.ssh/known_hosts, and keeps a typed user@' {
        $home2 = (New-Item -ItemType Directory -Path (Join-Path $dir 'completion-home')).FullName
        New-Item -ItemType Directory -Path (Join-Path $home2 '.ssh') | Out-Null
        Set-Content -LiteralPath (Join-Path $home2 '.ssh/config') -Value "Host web1 web2`n  User ops`nHost *.internal`nHost db1"
        Set-Content -LiteralPath (Join-Path $home2 '.ssh/known_hosts') -Value @(
            'web3,10.0.0.7 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample'
            '[web4]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample'
            '|1|c2FsdA==|aGFzaA== ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample')
        $run = Invoke-OpsPwsh -Environment @{ HOME = $home2 } -Command @'
Import-Module OpsTools
foreach ($line in 'Invoke-FleetCheck -HostName w', 'Invoke-FleetCheck -HostName ops@we', 'Invoke-FleetCheck -HostName web1, d') {
    (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText -join ','
}
'@
        $run.ExitCode | Should -Be 0 -Because $run.StdErr
        $lines = $run.StdOut -split "`r?`n" | Where-Object { $_ }
        $lines[0] | Should -Be 'web1,web2,web3,web4:2222'
        $lines[1] | Should -Be 'ops@web1,ops@web2,ops@web3,ops@web4:2222'
        $lines[2] | Should -Be 'db1'
    }
}

Describe 'Invoke-FleetCheck in a terminal' -Tag Terminal {
    AfterAll { Stop-OpsTerminal $script:terminal }

    It 'Ctrl+C stops every host and closes every session, and gives the prompt back' {
        $before = Get-RemotePwshCount
        $terminal = $script:terminal = Start-OpsTerminal -Width 80 -Height 30
        $terminal.Wait('PS .*> ?$', 120) | Should -BeTrue -Because $terminal.Screen()
        $terminal.Send("Import-Module '$(Get-OpsModuleManifest)'; 'IMPORTED'")
        $terminal.Wait('(?m)^IMPORTED', 120) | Should -BeTrue -Because $terminal.Screen()
        $started = Join-Path $dir 'ctrlc-started'
        $terminal.Send("Invoke-FleetCheck -HostName '$installed', '$installed' -KeyFilePath '$($ssh.KeyFile)' -SSHOption @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } -ArgumentList '$started' -ScriptBlock { param(`$m) New-Item -ItemType File -Path `"`$m-`$PID`" | Out-Null; Start-Sleep 120 }; 'FINISHED'")
        # Both hosts are running the script block (each wrote its marker) before Ctrl+C.
        $deadline = [DateTime]::UtcNow.AddSeconds(90)
        while (@(Get-ChildItem -Path "$started-*" -ErrorAction SilentlyContinue).Count -lt 2 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        @(Get-ChildItem -Path "$started-*").Count | Should -Be 2 -Because $terminal.Screen()
        (Get-RemotePwshCount) | Should -BeGreaterOrEqual ($before + 2)
        $pressed = [DateTime]::UtcNow
        $terminal.Send('C-c', $true)
        $terminal.Wait('(?s)Invoke-FleetCheck -HostName.*PS .*> ?$', 30) | Should -BeTrue -Because $terminal.Screen()
        ([DateTime]::UtcNow - $pressed).TotalSeconds | Should -BeLessThan 10
        $terminal.Screen() | Should -Not -Match '(?m)^FINISHED\s*$'
        $deadline = [DateTime]::UtcNow.AddSeconds(15)
        while ((Get-RemotePwshCount) -gt $before -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        Get-RemotePwshCount | Should -Be $before
    }
}
