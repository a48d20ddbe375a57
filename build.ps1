#Requires -Version 7.4
<#
.SYNOPSIS
Builds, tests, packages and demonstrates OpsTools.

.DESCRIPTION
A thin wrapper over the dotnet commands README.md gives. Run it with the pinned pwsh:
`dotnet tool restore` once, then `dotnet pwsh ./build.ps1 -Task ...`. Every task runs
exactly those commands, so CI (.ci/run) and a developer's machine do the same thing.

  Build    dotnet build OpsTools.sln -c <Configuration>   -> out/OpsTools/<version>/
  Test     dotnet build OpsTools.sln, dotnet test --no-build (xUnit; TRX files in TestResults/), then the
           Pester suite in this pwsh (tests/Pester/Invoke-OpsPester.ps1; TestResults/Pester.xml)
  Package  Build, then artifacts/OpsTools.<version>.nupkg, the package the PowerShell Gallery takes:
           PSResourceGet (ships with pwsh) publishes out/OpsTools/<version> to a local repository in a
           temp folder (Publish-PSResource runs Test-ModuleManifest first), and the .nupkg is copied
           out of it. Install it with Install-PSResource from a folder repository (README.md).
           -NoBuild packages the module already in out/. The folder itself can also be copied into
           any path of $env:PSModulePath as OpsTools/<version>/
  Demo     dotnet run --project tests/OpsTools.Demo -c <Configuration>: starts a local sample
           service and runs Invoke-DailyCheck against it, printing the report
  Bench    dotnet run of bench/ImportBench and bench/AppHealthBench (Release)

.EXAMPLE
./build.ps1 -Task Build, Test

.EXAMPLE
./build.ps1 -Task Demo

.EXAMPLE
dotnet pwsh ./build.ps1 -Task Package
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test', 'Package', 'Demo', 'Bench')]
    [string[]] $Task = @('Build', 'Test'),

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    # Package: use the module already laid out in out/ instead of building first.
    [switch] $NoBuild
)

$ErrorActionPreference = 'Stop'
Set-Location -LiteralPath $PSScriptRoot
$env:DOTNET_CLI_TELEMETRY_OPTOUT = '1'
$env:DOTNET_NOLOGO = '1'

function Invoke-Dotnet {
    param([Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
    Write-Host "> dotnet $($Arguments -join ' ')" -ForegroundColor Cyan
    & dotnet @Arguments
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($Arguments -join ' ') failed with exit code $LASTEXITCODE" }
}

$version = (Import-PowerShellDataFile -Path (Join-Path $PSScriptRoot 'OpsTools.psd1')).ModuleVersion
$moduleDir = Join-Path $PSScriptRoot "out/OpsTools/$version"

foreach ($t in $Task) {
    switch ($t) {
        'Build' { Invoke-Dotnet build OpsTools.sln -c $Configuration }
        'Test' {
            # Both suites run even when the first fails, so every count is there; the task fails if either did.
            $failures = @()
            # Build everything first: the Pester suite needs projects no xUnit project references (tests/OpsTools.TestParts).
            Invoke-Dotnet build OpsTools.sln -c $Configuration
            try { Invoke-Dotnet test OpsTools.sln -c $Configuration --no-build } catch { $failures += 'xUnit' }
            $env:OPSTOOLS_CONFIGURATION = $Configuration
            # In a new pwsh like this one (under `dotnet pwsh` that is dotnet + pwsh.dll): a clean session.
            $self = Get-Process -Id $PID
            $pwsh = @($self.Path) + @(if ($self.ProcessName -eq 'dotnet') { Join-Path $PSHOME 'pwsh.dll' })
            & $pwsh[0] @($pwsh | Select-Object -Skip 1) -NoProfile -File (Join-Path $PSScriptRoot 'tests/Pester/Invoke-OpsPester.ps1')
            if ($LASTEXITCODE -ne 0) { $failures += 'Pester' }
            if ($failures) { throw "Tests failed: $($failures -join ', ')" }
        }
        'Package' {
            if (-not $NoBuild) { Invoke-Dotnet build src/OpsTools/OpsTools.csproj -c $Configuration }
            $artifacts = New-Item -ItemType Directory -Force -Path (Join-Path $PSScriptRoot 'artifacts')
            $nupkg = Join-Path $artifacts "OpsTools.$version.nupkg"
            Remove-Item -LiteralPath $nupkg -ErrorAction SilentlyContinue
            # A throwaway folder repository, registered for this run only.
            $repoName = "OpsToolsBuild$PID"
            $repoDir = New-Item -ItemType Directory -Force -Path (Join-Path ([IO.Path]::GetTempPath()) "$repoName-$([guid]::NewGuid().ToString('n'))")
            Register-PSResourceRepository -Name $repoName -Uri $repoDir.FullName -Trusted
            try {
                Publish-PSResource -Path $moduleDir -Repository $repoName -ErrorAction Stop
                Copy-Item -LiteralPath (Join-Path $repoDir "OpsTools.$version.nupkg") -Destination $nupkg
            }
            finally {
                Unregister-PSResourceRepository -Name $repoName
                Remove-Item -LiteralPath $repoDir -Recurse -Force
            }
            Get-Item -LiteralPath $nupkg
        }
        'Demo' { Invoke-Dotnet run --project tests/OpsTools.Demo -c $Configuration }
        'Bench' {
            Invoke-Dotnet build OpsTools.sln -c Release
            Invoke-Dotnet run --no-build -c Release --project bench/ImportBench
            Invoke-Dotnet run --no-build -c Release --project bench/AppHealthBench
        }
    }
}
