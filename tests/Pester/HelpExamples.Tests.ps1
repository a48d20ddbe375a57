# The examples the help shows are pipelines that work: every example in docs/*.md marked with
# `<!-- example-test -->` (right under its "### Example N" heading) is run here in a real pwsh, in a
# temp folder that holds the environment files the examples name:
#   ./shop-prod.ops.psd1  docs/examples/shop-prod.ops.psd1 (read only: its targets are not on this machine)
#   ./prod.ops.psd1       a local environment: host checks only (disk '/', memory thresholds)
# `<!-- example-test: PART -->` marks an example that needs a test part (http, postgres, docker, kube):
# such examples run where tests/Pester/TestSupport.psm1 offers Start-TestPart, and are skipped (with
# that reason) where it does not.
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
    $root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $data = Import-PowerShellDataFile -LiteralPath (Join-Path $root 'OpsTools.psd1')
    Import-Module (Join-Path $root "out/OpsTools/$($data.ModuleVersion)/OpsTools.psd1") -Force
    $work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "opstools-examples-$([guid]::NewGuid().ToString('N').Substring(0, 8))")).FullName
    Copy-Item -Path (Join-Path $root 'docs/examples/*.ops.psd1') -Destination $work
    Set-Content -LiteralPath (Join-Path $work 'prod.ops.psd1') -Value @'
@{
    Name       = 'prod'
    Host       = @{ DiskMounts = @('/') }
    Thresholds = @{ MemoryWarningPercent = 80; DiskFreeCriticalPercent = 15 }
}
'@
    $supportModule = Join-Path $PSScriptRoot 'TestSupport.psm1'
    $canStartParts = (Test-Path -LiteralPath $supportModule) -and (Select-String -LiteralPath $supportModule -Pattern 'function Start-TestPart' -Quiet)
}

AfterAll {
    Remove-Module OpsTools -ErrorAction SilentlyContinue
    if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'Help examples' {
    It 'some examples are marked to run' -TestCases @{ Count = @($examples).Count } {
        $Count | Should -BeGreaterThan 5
    }

    It '<Page> <Title> runs' -ForEach $examples {
        if ($Part -and -not $canStartParts) { Set-ItResult -Skipped -Because "it needs the '$Part' test part and tests/Pester/TestSupport.psm1 has no Start-TestPart yet" ; return }
        $Code | Should -Not -BeNullOrEmpty -Because "docs/$Page.md line $Line has a code block"
        Push-Location -LiteralPath $work
        try {
            $output = & ([scriptblock]::Create($Code)) 2>&1
            $errors = @($output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] })
            # An example may show a non-terminating error on purpose (it then keeps it with -ErrorVariable).
            if ($Code -notmatch '-ErrorVariable') { $errors | Should -BeNullOrEmpty -Because "docs/$Page.md line $Line" }
        }
        finally { Pop-Location }
    }
}
