# An incident as on-call runs it, in the real pwsh: open, collect the evidence, update, resolve, report; on the real
# PostgreSQL, Docker engine and HTTP service of the test suite, with a container host that is down. Checked with
# sha256sum, stat and the files themselves.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart postgres, docker, http
    $folder = New-TestFolder
    $db = Invoke-TestPart $parts 'pg.database inc'
    $project = Invoke-TestPart $parts 'docker.project inc'
    Invoke-TestPart $parts "docker.compose $project api 1 web" | Out-Null
    $env:OPSTOOLS_PESTER_INC_PW = $parts.postgres.Password
    $envFile = Join-Path $folder 'prod.ops.psd1'
    Set-Content -LiteralPath $envFile -Value @"
@{
    Name = 'prod'
    AppHealth = @('$($parts.http.HttpBase)/health')
    Databases = @(@{ Name = 'main'; Server = '$($parts.postgres.Server)'; Port = $($parts.postgres.Port); Database = '$db'; User = '$($parts.postgres.User)'; PasswordVariable = 'OPSTOOLS_PESTER_INC_PW' })
    Docker = @{ Host = '$($parts.docker.DockerHost)'; ComposeProject = '$project' }
    Incidents = @{ Path = './incidents'; Commander = 'alice'; EvidenceTimeoutSec = 20 }
}
"@
    $deadFile = Join-Path $folder 'dead.ops.psd1'
    Set-Content -LiteralPath $deadFile -Value (
        (Get-Content -LiteralPath $envFile -Raw) -replace [regex]::Escape($parts.docker.DockerHost), "unix://$folder/no-engine.sock" -replace "Name = 'prod'", "Name = 'dead'")
    Push-Location $folder
}

AfterAll {
    Pop-Location
    Remove-Item Env:OPSTOOLS_PESTER_INC_PW -ErrorAction Ignore
    docker -H $parts.docker.DockerHost rm -f "${project}_api_1" 2>$null | Out-Null
    Stop-TestPart $parts
    Remove-TestFolder $folder
}

Describe 'An incident from declaration to report' {
    It 'opens, collects, updates, resolves and reports, with every file owner-only and hashed' {
        # 1. open
        $inc = New-Incident 'High error rate on the API' P1 -Environment $envFile -Summary 'Login returns 500'
        $inc.Id | Should -Match '^INC-\d{8}-\d{2}$'
        $inc.Commander | Should -Be 'alice'
        $inc.Timeline[0].Text | Should -Match 'INCIDENT DECLARED: High error rate on the API'
        $inc.Timeline[0].Text | Should -Match 'response: 30 minutes'
        ($inc | Out-String -Width 80) | Should -Match 'High error rate on the API'

        # 2. collect (the environment file the incident was opened with names the targets)
        $e = $inc | Save-IncidentEvidence -Bundle
        $e.Failed | Should -Be 0 -Because $e.Failures
        ($e.Collectors | Where-Object Collector -eq Containers).Outcome | Should -Be 'Collected'
        ($e.Collectors | Where-Object Collector -eq AppHealth).Outcome | Should -Be 'Collected'
        ($e.Collectors | Where-Object Collector -eq Database).Outcome | Should -BeIn 'Collected', 'Partial'
        ($e.Collectors | Out-String -Width 80) | Should -Match 'Containers +Collected'
        Push-Location $e.Path
        try { sha256sum -c SHA256SUMS | Out-Null; $LASTEXITCODE | Should -Be 0 } finally { Pop-Location }
        Get-ChildItem -LiteralPath $e.Path -File | ForEach-Object { stat -c '%a' $_.FullName | Should -Be '600' -Because $_.Name }
        stat -c '%a' $e.Path | Should -Be '700'
        stat -c '%a' $e.BundlePath | Should -Be '600'
        (sha256sum $e.BundlePath).Split(' ')[0] | Should -Be $e.BundleSha256
        Get-Content -LiteralPath (Join-Path $e.Path 'containers.txt') -Raw | Should -Match "${project}_api_1"
        Select-String -Path (Join-Path $e.Path '*') -SimpleMatch $parts.postgres.Password | Should -BeNullOrEmpty

        # 3. update
        $note = Add-IncidentNote $inc.Id 'Restarted api-2; error rate unchanged' -Environment $envFile
        $note.Text | Should -Be 'UPDATE: Restarted api-2; error rate unchanged'
        $note.Severity | Should -Be 'Critical'
        (Set-IncidentStatus $inc.Id Identified 'Connection pool exhausted' -Environment $envFile).Status | Should -Be 'Identified'

        # 4. resolve
        $done = Set-IncidentStatus $inc.Id Resolved 'Pool raised to 50; error rate normal' -Environment $envFile
        $done.Text | Should -Match '^RESOLVED: Pool raised to 50'
        Get-Incident -Open -Environment $envFile | Where-Object Id -eq $inc.Id | Should -BeNullOrEmpty
        (Get-Incident $inc.Id -Environment $envFile).Timeline.Count | Should -Be 4

        # 5. report
        $md = Join-Path $folder 'report.md'
        Export-IncidentReport $inc.Id $md -Environment $envFile
        $text = Get-Content -LiteralPath $md -Raw
        foreach ($h in '# Major Incident Report', '## Summary', '## Timeline', '## Root Cause', '## Resolution', '## Prevention', '## Action Items') {
            $text | Should -Match ('(?m)^' + [regex]::Escape($h) + '$')
        }
        $text | Should -Match 'Connection pool exhausted'
        $text | Should -Match '\[TO BE WRITTEN: what will be done to prevent a recurrence\.\]'
        $text | Should -Match 'Evidence collection \d{8}T\d{6}Z started'
        stat -c '%a' $md | Should -Be '600'
        $html = Export-IncidentReport $inc.Id -Format Html -Environment $envFile
        $html | Should -Match '<h2>Action Items</h2>'
    }

    It 'a container host that is down is a failed collector with a warning, and the script goes on' {
        $r = Invoke-OpsPwsh -Command "Set-Location '$folder'; `$i = New-Incident 'Engine gone' P0 -Environment '$deadFile'; `$e = `$i | Save-IncidentEvidence -Collector Containers, AppHealth -TimeoutSec 10; `$e.Failed; `$e.Collected; 'next'"
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $lines = $r.StdOut.Trim() -split "`r?`n" | Where-Object { $_ -notmatch 'WARNING' }
        $lines[-3..-1] | Should -Be @('1', '1', 'next')
        ($r.StdOut + $r.StdErr) | Should -Match 'Containers evidence failed'
    }

    It 'two shells adding notes at once keep both notes' {
        $inc = New-Incident 'Concurrent notes' P3 -Environment $envFile
        $jobs = 1..2 | ForEach-Object {
            $n = $_
            Start-ThreadJob -ScriptBlock { param($id, $file, $n, $manifest)
                Import-Module $manifest
                1..10 | ForEach-Object { Add-IncidentNote $id "shell $n note $_" -Environment $file | Out-Null }
            } -ArgumentList $inc.Id, $envFile, $n, (Get-OpsModuleManifest)
        }
        $jobs | Wait-Job | Receive-Job -ErrorAction Stop
        $record = Get-Content -LiteralPath (Join-Path $inc.Path 'incident.json') -Raw | ConvertFrom-Json
        @($record.timeline | Where-Object kind -eq 'Note').Count | Should -Be 20
    }
}
