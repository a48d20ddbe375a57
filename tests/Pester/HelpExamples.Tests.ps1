# The examples the help shows are pipelines that work: every example in docs/*.md marked with
# `<!-- example-test -->` (right under its "### Example N" heading) is run here in a real pwsh, in a
# temp folder that holds the environment files the examples name:
#   ./shop-prod.ops.psd1  docs/examples/shop-prod.ops.psd1 (read only: its targets are not on this machine)
#   ./prod.ops.psd1       written here from the test parts: host checks (disk '/', memory thresholds), and
#                         with the parts the marked examples need, AppHealth (http), Databases and a Backup
#                         store (postgres), Docker (docker, a Compose project with one container) and
#                         Kubernetes (kube, a namespace with one Deployment)
# `<!-- example-test: PART -->` marks an example that needs a test part (http, postgres, docker, kube);
# the parts are started once (Start-TestPart, tests/Pester/README.md) for all examples.
# Code: the lines after "PS> " prompts (with their continuation lines) when the block has prompts,
# else the whole block; the shown output is not compared (it comes from another machine).
# Runs alone: Import-Module <Pester 5.9.1>; Invoke-Pester -Path tests/Pester/HelpExamples.Tests.ps1.

BeforeDiscovery {
    $root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $examples = foreach ($page in Get-ChildItem -LiteralPath (Join-Path $root 'docs') -Filter '*-*.md') {
        $lines = Get-Content -LiteralPath $page.FullName
        for ($i = 0; $i -lt $lines.Count; $i++) {
            if ($lines[$i] -notmatch '^<!-- example-test(?::\s*(?<part>\w+))?\s*-->') { continue }
            $part = $Matches['part']
            $title = ($lines[0..$i] | Where-Object { $_ -match '^### ' } | Select-Object -Last 1) -replace '^### ', ''
            # The first fenced block after the marker.
            $start = $i + 1
            while ($start -lt $lines.Count -and $lines[$start] -notmatch '^```') { $start++ }
            $end = $start + 1
            while ($end -lt $lines.Count -and $lines[$end] -notmatch '^```\s*$') { $end++ }
            $block = @($lines[($start + 1)..($end - 1)])
            $code = if ($block -match '^PS> ') {
                $taken = [System.Collections.Generic.List[string]]::new()
                $continues = $false
                foreach ($l in $block) {
                    if ($l -match '^PS> (.*)$') { $taken.Add($Matches[1]); $continues = $Matches[1] -match '[|`,]\s*$' }
                    elseif ($continues -and $l -match '^\s+\S') { $taken.Add($l); $continues = $l -match '[|`,]\s*$' }
                    else { $continues = $false }
                }
                $taken -join "`n"
            }
            else { $block -join "`n" }
            @{ Page = $page.BaseName; Title = $title; Code = $code; Part = $part; Line = $start + 1 }
        }
    }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $root = Get-OpsRepoRoot
    $work = New-TestFolder -Prefix 'opstools-examples-'
    Copy-Item -Path (Join-Path $root 'docs/examples/*.ops.psd1') -Destination $work

    # The parts the marked examples need, started once.
    $needed = @(Get-ChildItem -LiteralPath (Join-Path $root 'docs') -Filter '*-*.md' |
        Select-String -Pattern '^<!-- example-test:\s*(\w+)' | ForEach-Object { $_.Matches[0].Groups[1].Value } | Sort-Object -Unique)
    $parts = if ($needed) { Start-TestPart $needed } else { $null }
    $sections = [System.Collections.Generic.List[string]]::new()
    $sections.Add("Name = 'prod'")
    $sections.Add("Host = @{ DiskMounts = @('/') }")
    $sections.Add('Thresholds = @{ MemoryWarningPercent = 80; DiskFreeCriticalPercent = 15 }')
    if ('http' -in $needed) {
        $sections.Add("AppHealth = @( @{ Name = 'api'; Uri = '$($parts.http.HttpBase)/health' }; @{ Name = 'worker'; Uri = '$($parts.http.HttpBase)/worker/health' } )")
    }
    if ('postgres' -in $needed) {
        $pg = $parts.postgres
        $db = Invoke-TestPart $parts 'pg.database shop'
        Invoke-TestPart $parts "pg.exec $db CREATE TABLE orders (id int primary key, v int); INSERT INTO orders SELECT g, 0 FROM generate_series(1, 2000) g" | Out-Null
        $sections.Add("Databases = @( @{ Name = 'app'; Server = '$($pg.Server)'; Port = $($pg.Port); Database = '$db'; User = '$($pg.User)'; PasswordVariable = 'PROD_DB_PASSWORD' } )")
        $sections.Add("Backup = @{ Path = '$(Join-Path $work 'backups')' }")
        $env:PROD_DB_PASSWORD = $pg.Password
        $savedPath = $env:PATH
        $env:PATH = $pg.BinDirectory + [IO.Path]::PathSeparator + $env:PATH   # pg_dump of the server's version
    }
    if ('docker' -in $needed) {
        $project = Invoke-TestPart $parts 'docker.project shop'
        Invoke-TestPart $parts "docker.compose $project api 1 web" | Out-Null
        $sections.Add("Docker = @{ Host = '$($parts.docker.DockerHost)'; ComposeProject = '$project' }")
    }
    if ('kube' -in $needed) {
        $ns = Invoke-TestPart $parts 'kube.namespace shop'
        Invoke-TestPart $parts "kube.deployment $ns api 2 Ready" | Out-Null
        $sections.Add("Kubernetes = @{ Kubeconfig = '$($parts.kube.Kubeconfig)'; Context = '$($parts.kube.Context)'; Namespace = '$ns'; Deployments = @('api') }")
    }
    Set-Content -LiteralPath (Join-Path $work 'prod.ops.psd1') -Value ("@{`n    " + ($sections -join "`n    ") + "`n}`n")
}

AfterAll {
    Remove-Module OpsTools -ErrorAction SilentlyContinue
    Remove-Item Env:PROD_DB_PASSWORD -ErrorAction SilentlyContinue
    if ($savedPath) { $env:PATH = $savedPath }
    Stop-TestPart $parts
    Remove-TestFolder $work
}

Describe 'Help examples' {
    It 'some examples are marked to run' -TestCases @{ Count = @($examples).Count } {
        $Count | Should -BeGreaterThan 5
    }

    It '<Page> <Title> runs' -ForEach $examples {
        $Code | Should -Not -BeNullOrEmpty -Because "docs/$Page.md line $Line has a code block"
        Push-Location -LiteralPath $work
        # As at the console: a non-terminating error an example shows stays non-terminating.
        $ErrorActionPreference = 'Continue'
        try {
            $output = & ([scriptblock]::Create($Code)) 2>&1
            $errors = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            # An example may show a non-terminating error on purpose (it then keeps it with -ErrorVariable).
            if ($Code -notmatch '-ErrorVariable') { $errors | Should -BeNullOrEmpty -Because "docs/$Page.md line $Line" }
        }
        finally { Pop-Location }
    }
}
