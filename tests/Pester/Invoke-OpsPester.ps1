#Requires -Version 7.4
<#
.SYNOPSIS
Runs the Pester suite (tests/Pester/*.Tests.ps1) in this pwsh against the built module.

.DESCRIPTION
Imports Pester 5.9.1 from the NuGet cache (tests/OpsTools.TestParts fetches it when the solution is built),
runs every *.Tests.ps1 below tests/Pester (or -Path), writes TestResults/Pester.xml (NUnit) and
TestResults/Pester.counts ("passed failed skipped", read by .ci/run), and exits 1 when anything failed.
Run it as `dotnet pwsh tests/Pester/Invoke-OpsPester.ps1` after `dotnet build OpsTools.sln -c Release`.
#>
[CmdletBinding()]
param(
    [string[]] $Path = @($PSScriptRoot),
    [string[]] $FullName = @(),
    [ValidateSet('None', 'Normal', 'Detailed', 'Diagnostic')] [string] $Verbosity = 'Normal'
)
$ErrorActionPreference = 'Stop'
$root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
$pester = Join-Path $packages 'pester/5.9.1/tools/Pester.psd1'
if (-not (Test-Path -LiteralPath $pester)) { throw "Pester 5.9.1 is not in the NuGet cache ($pester): run 'dotnet build OpsTools.sln -c Release' (tests/OpsTools.TestParts downloads it)." }
Import-Module $pester -Force

$results = Join-Path $root 'TestResults'
$null = New-Item -ItemType Directory -Force -Path $results
$config = New-PesterConfiguration
$config.Run.Path = $Path
if ($FullName) { $config.Filter.FullName = $FullName }
$config.Run.PassThru = $true
$config.Output.Verbosity = $Verbosity
$config.TestResult.Enabled = $true
$config.TestResult.OutputFormat = 'NUnitXml'
$config.TestResult.OutputPath = Join-Path $results 'Pester.xml'
$run = Invoke-Pester -Configuration $config

# A file or block that failed outside any test (a syntax error, a failing AfterAll) counts as a failure too;
# one whose BeforeAll failed has already failed all its tests.
$failed = $run.FailedCount
if ($failed -eq 0) { $failed = $run.FailedBlocksCount + $run.FailedContainersCount }
Set-Content -LiteralPath (Join-Path $results 'Pester.counts') -Value "$($run.PassedCount) $failed $($run.SkippedCount + $run.NotRunCount)"
Write-Host "Pester: $($run.PassedCount) passed, $failed failed, $($run.SkippedCount + $run.NotRunCount) skipped"
exit ([int]($failed -gt 0 -or $run.Result -ne 'Passed'))
