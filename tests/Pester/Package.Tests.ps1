# The Gallery package as a user gets it: build.ps1 -Task Package writes artifacts/OpsTools.<version>.nupkg
# with PSResourceGet; here it is installed with Install-PSResource from a folder repository into a clean
# module path (a fresh pwsh whose HOME is a temp folder, so nothing else named OpsTools is on its path),
# imported by name, run, and its help read.
# Runs alone: Import-Module <Pester 5.9.1>; Invoke-Pester -Path tests/Pester/Package.Tests.ps1 (after a build).

BeforeAll {
    $root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $data = Import-PowerShellDataFile -LiteralPath (Join-Path $root 'OpsTools.psd1')
    $version = $data.ModuleVersion
    $moduleDir = Join-Path $root "out/OpsTools/$version"
    $pwsh = (Get-Process -Id $PID).Path
    $work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "opstools-pkg-$([guid]::NewGuid().ToString('N').Substring(0, 8))")).FullName

    function Invoke-CleanPwsh([string] $Script, [string] $HomeDir) {
        # A pwsh as on a fresh machine: its own HOME (user module path, PSResourceGet's repository list),
        # no PSModulePath inherited from this test run.
        # The same pwsh as this one; as a dotnet tool it runs as `dotnet pwsh.dll`.
        $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh)
        if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -eq 'dotnet') { $psi.ArgumentList.Add((Join-Path $PSHOME 'pwsh.dll')) }
        foreach ($a in '-NoProfile', '-NonInteractive', '-Command', $Script) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $psi.WorkingDirectory = $HomeDir
        $psi.Environment['HOME'] = $HomeDir
        $psi.Environment.Remove('PSModulePath') | Out-Null
        $psi.Environment.Remove('XDG_DATA_HOME') | Out-Null
        $psi.Environment.Remove('XDG_CONFIG_HOME') | Out-Null
        $psi.Environment.Remove('XDG_CACHE_HOME') | Out-Null
        $psi.Environment['NO_COLOR'] = '1'
        $p = [System.Diagnostics.Process]::Start($psi)
        $out = $p.StandardOutput.ReadToEndAsync()
        $err = $p.StandardError.ReadToEndAsync()
        if (-not $p.WaitForExit(300000)) { $p.Kill($true); throw 'pwsh did not finish within 300 s' }
        $p.WaitForExit()
        [pscustomobject]@{ ExitCode = $p.ExitCode; StdOut = $out.Result; StdErr = $err.Result }
    }

    # 1. The package, made as a maintainer makes it (the module already built).
    $build = Invoke-CleanPwsh -HomeDir (New-Item -ItemType Directory -Path "$work/build-home").FullName `
        -Script "& '$root/build.ps1' -Task Package -NoBuild"
    $nupkg = Join-Path $root "artifacts/OpsTools.$version.nupkg"

    # 2. Installed from a folder repository into a clean user module path, then used by name.
    $repo = (New-Item -ItemType Directory -Path "$work/repo").FullName
    Copy-Item -LiteralPath $nupkg -Destination $repo
    $userHome = (New-Item -ItemType Directory -Path "$work/home").FullName
    $install = Invoke-CleanPwsh -HomeDir $userHome -Script @"
`$ErrorActionPreference = 'Stop'
`$before = @(Get-Module OpsTools -ListAvailable).Count
Register-PSResourceRepository -Name OpsToolsLocal -Uri '$repo' -Trusted
Install-PSResource -Name OpsTools -Repository OpsToolsLocal -Scope CurrentUser -TrustRepository
`$available = @(Get-Module OpsTools -ListAvailable)
Import-Module OpsTools
`$memory = Get-MemoryUsage
`$help = Get-Help Get-AppHealth -Full
[pscustomobject]@{
    Before = `$before
    Available = @(`$available | ForEach-Object ModuleBase)
    Loaded = (Get-Module OpsTools).ModuleBase
    MemoryCheck = `$memory.Check
    MemoryStatus = [string] `$memory.Status
    Synopsis = `$help.Synopsis
    Examples = @(`$help.examples.example).Count
    HelpText = (`$help | Out-String -Width 80)
    About = (Get-Help about_OpsTools | Out-String -Width 80)
    DailyHelp = (Get-Help Invoke-DailyCheck -Full | Out-String -Width 80)
} | ConvertTo-Json -Depth 3
"@
    $installed = if ($install.ExitCode -eq 0) { $install.StdOut | ConvertFrom-Json } else { $null }
}

AfterAll {
    if ($work) { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }
}

Describe 'build.ps1 -Task Package' {
    It 'writes artifacts/OpsTools.<version>.nupkg with PSResourceGet' {
        $build.ExitCode | Should -Be 0 -Because $build.StdErr
        $nupkg | Should -Exist
    }

    It 'leaves no repository registered behind' {
        Test-Path "$work/build-home/.local/share/PSResourceGet/PSResourceRepository.xml" | Should -BeTrue
        Get-Content -Raw "$work/build-home/.local/share/PSResourceGet/PSResourceRepository.xml" | Should -Not -Match 'OpsToolsBuild'
    }

    It 'holds exactly the files of the built module folder (plus the package''s own metadata)' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($nupkg)
        try { $inPackage = @($zip.Entries | Where-Object { $_.Name } | ForEach-Object { [uri]::UnescapeDataString($_.FullName) }) }
        finally { $zip.Dispose() }
        $metadata = '^(OpsTools\.nuspec|\[Content_Types\]\.xml|_rels/.*|package/services/.*)$'
        $files = @($inPackage | Where-Object { $_ -notmatch $metadata } | Sort-Object)
        $built = @(Get-ChildItem -LiteralPath $moduleDir -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($moduleDir, $_.FullName).Replace('\', '/') } | Sort-Object)
        $files | Should -Be $built
        $files | Should -Contain 'en-US/OpsTools.dll-Help.xml'
        $files | Should -Contain 'en-US/about_OpsTools.help.txt'
        $files | Should -Contain 'deps/OpsTools.Engine.dll'
        $files | Should -Contain 'Formats/Health.format.ps1xml'
        $files | Should -Contain 'LICENSE'
    }

    It 'carries what the Gallery shows in its nuspec' {
        Add-Type -AssemblyName System.IO.Compression.FileSystem
        $zip = [System.IO.Compression.ZipFile]::OpenRead($nupkg)
        try {
            $reader = [IO.StreamReader]::new(($zip.Entries | Where-Object FullName -EQ 'OpsTools.nuspec').Open())
            [xml] $nuspec = $reader.ReadToEnd()
            $reader.Dispose()
        }
        finally { $zip.Dispose() }
        $m = $nuspec.package.metadata
        $m.id | Should -Be 'OpsTools'
        $m.version | Should -Be $version
        $m.description | Should -Be $data.Description
        $m.authors | Should -Be $data.Author
        $m.projectUrl | Should -Be $data.PrivateData.PSData.ProjectUri
        $m.tags | Should -Match 'PSEdition_Core'
        $m.tags | Should -Match 'PSModule'
        $m.releaseNotes | Should -Not -BeNullOrEmpty
    }
}

Describe 'The installed package' {
    It 'installs with Install-PSResource into a clean module path' {
        $install.ExitCode | Should -Be 0 -Because $install.StdErr
        $installed.Before | Should -Be 0
        $installed.Available | Should -HaveCount 1
        $installed.Available[0] | Should -BeLike "$userHome*OpsTools*$version"
    }

    It 'imports by name and runs a command' {
        $installed.Loaded | Should -Be $installed.Available[0]
        $installed.MemoryCheck | Should -Be 'MemoryUsage'
        $installed.MemoryStatus | Should -BeIn 'Healthy', 'Warning', 'Critical'
    }

    It 'has its help: commands, checklist functions and about topics' {
        $installed.Synopsis | Should -Match 'health endpoints'
        $installed.Examples | Should -BeGreaterOrEqual 2
        $installed.HelpText | Should -Not -Match 'cannot find the Help files'
        $installed.DailyHelp | Should -Match 'morning checklist'
        $installed.About | Should -Match 'SHORT DESCRIPTION'
    }

    It 'has the same files as the built folder (no folder dropped on install)' {
        $base = $installed.Available[0]
        $got = @(Get-ChildItem -LiteralPath $base -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($base, $_.FullName) } |
            Where-Object { $_ -notmatch '^PSGetModuleInfo\.xml$' } | Sort-Object)
        $built = @(Get-ChildItem -LiteralPath $moduleDir -Recurse -File | ForEach-Object { [IO.Path]::GetRelativePath($moduleDir, $_.FullName) } | Sort-Object)
        $got | Should -Be $built
    }
}

Describe 'Test-ModuleManifest' {
    It 'passes for the built module with the fields the Gallery shows' {
        $m = Test-ModuleManifest -Path (Join-Path $moduleDir 'OpsTools.psd1') -ErrorAction Stop
        $m.Version | Should -Be $version
        $m.CompatiblePSEditions | Should -Be @('Core')
        $m.PowerShellVersion | Should -Be '7.4'
        $m.Description | Should -Not -BeNullOrEmpty
        $m.Author | Should -Not -BeNullOrEmpty
        $m.Copyright | Should -Match 'MIT'
        $m.ProjectUri | Should -Not -BeNullOrEmpty
        $m.LicenseUri | Should -Not -BeNullOrEmpty
        $m.ReleaseNotes | Should -Not -BeNullOrEmpty
        foreach ($tag in 'PSEdition_Core', 'Linux', 'Windows', 'MacOS') { $m.Tags | Should -Contain $tag }
        $m.ExportedCommands.Count | Should -Be (@($data.CmdletsToExport).Count + @($data.FunctionsToExport).Count)
    }
}
