# What the Pester suite shares: where the repository and the built module are, the real parts of the test
# suite (served by tests/OpsTools.TestParts, the same TestKit classes the xUnit tests use), and a child pwsh
# to run a script the way cron, systemd or a CI step does.
Set-StrictMode -Version 3.0

$script:Root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
$script:Configuration = if ($env:OPSTOOLS_CONFIGURATION) { $env:OPSTOOLS_CONFIGURATION } else { 'Release' }

function Get-OpsRepoRoot { $script:Root }

function Get-OpsModuleManifest {
    # The built module folder (out/OpsTools/<version>), as the xUnit tests import it.
    $version = (Import-PowerShellDataFile -LiteralPath (Join-Path $script:Root 'OpsTools.psd1')).ModuleVersion
    $manifest = Join-Path $script:Root "out/OpsTools/$version/OpsTools.psd1"
    if (-not (Test-Path -LiteralPath $manifest)) { throw "The module is not built at ${manifest}: run 'dotnet build OpsTools.sln -c $script:Configuration'." }
    $manifest
}

function Get-OpsPwshCommand {
    # How to start the pwsh running the suite (the local dotnet tool, 7.6.10), so children run the same one:
    # the executable and the arguments that come first ('dotnet' + pwsh.dll under `dotnet pwsh`).
    $exe = (Get-Process -Id $PID).Path
    if ([System.IO.Path]::GetFileNameWithoutExtension($exe) -eq 'dotnet') { return @($exe, (Join-Path $PSHOME 'pwsh.dll')) }
    @($exe)
}

function Start-TestPart {
    # Starts the named parts (http, postgres, docker, kube, metrics, certs, redis, pgbouncer, notify, ssh) in one helper process and returns where they are:
    # an object with a property per part (e.g. .postgres.ConnectionString), stopped again by Stop-TestPart.
    param([Parameter(Mandatory)] [ValidateSet('http', 'postgres', 'docker', 'kube', 'metrics', 'certs', 'redis', 'pgbouncer', 'notify', 'ssh')] [string[]] $Part)
    $dll = Join-Path $script:Root "tests/OpsTools.TestParts/bin/$script:Configuration/net10.0/OpsTools.TestParts.dll"
    if (-not (Test-Path -LiteralPath $dll)) { throw "$dll is missing: run 'dotnet build OpsTools.sln -c $script:Configuration'." }
    $psi = [System.Diagnostics.ProcessStartInfo]::new('dotnet')
    $psi.ArgumentList.Add($dll)
    foreach ($p in $Part) { $psi.ArgumentList.Add($p) }
    $psi.RedirectStandardInput = $true
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $false
    $psi.UseShellExecute = $false
    $process = [System.Diagnostics.Process]::Start($psi)
    $deadline = [DateTime]::UtcNow.AddMinutes(4)
    while ($true) {
        $line = $process.StandardOutput.ReadLine()
        if ($null -eq $line) { throw "The test parts process ended before it was ready (exit code $($process.ExitCode))." }
        if ($line.StartsWith('OPSTOOLS-PARTS-FAILED ')) { $process.WaitForExit(60000) | Out-Null; throw "Starting test parts $($Part -join ', ') failed: $($line.Substring(22))" }
        if ($line.StartsWith('OPSTOOLS-PARTS ')) { break }
        if ([DateTime]::UtcNow -gt $deadline) { $process.Kill($true); throw 'The test parts were not ready within 4 minutes.' }
    }
    $info = $line.Substring(15) | ConvertFrom-Json
    $info | Add-Member -NotePropertyName Process -NotePropertyValue $process -PassThru
}

function Invoke-TestPart {
    # Sends one setup command to the parts process (see tests/OpsTools.TestParts/Program.cs) and returns its answer.
    param([Parameter(Mandatory)] $Parts, [Parameter(Mandatory)] [string] $Command)
    $Parts.Process.StandardInput.WriteLine($Command)
    $Parts.Process.StandardInput.Flush()
    $answer = $Parts.Process.StandardOutput.ReadLine()
    if ($null -eq $answer) { throw "The test parts process ended while running '$Command'." }
    if ($answer.StartsWith('ERR ')) { throw "Test part command '$Command' failed: $($answer.Substring(4))" }
    $answer.Substring(3)
}

function Stop-TestPart {
    # Closes the parts process's stdin: it stops every server it started and removes what it made.
    param($Parts)
    if ($null -eq $Parts) { return }
    try { $Parts.Process.StandardInput.Close() } catch { Write-Verbose "stdin already closed: $_" }
    if (-not $Parts.Process.WaitForExit(90000)) { $Parts.Process.Kill($true) }
    $Parts.Process.Dispose()
}

function Invoke-OpsPwsh {
    # Runs a script in a new pwsh process, as cron (-File) or a CI step (-Command) does, with the built module
    # importable by name. Returns ExitCode, StdOut, StdErr (plain text: no colours, as in a log file).
    param(
        [Parameter(Mandatory, ParameterSetName = 'File')] [string] $File,
        [Parameter(Mandatory, ParameterSetName = 'Command')] [string] $Command,
        [string[]] $ArgumentList = @(),
        [hashtable] $Environment = @{},
        [int] $TimeoutSec = 300,
        [string] $WorkingDirectory = (Get-Location).Path,
        # A command that runs pwsh (e.g. unshare ... for a private mount namespace): its words come first.
        [string[]] $Wrapper = @()
    )
    $exe, $first = Get-OpsPwshCommand
    if ($Wrapper.Count -gt 0) {
        $psi = [System.Diagnostics.ProcessStartInfo]::new($Wrapper[0])
        foreach ($a in @($Wrapper | Select-Object -Skip 1) + @($exe)) { $psi.ArgumentList.Add($a) }
    }
    else { $psi = [System.Diagnostics.ProcessStartInfo]::new($exe) }
    foreach ($a in @($first) + @('-NoProfile', '-NonInteractive')) { if ($a) { $psi.ArgumentList.Add($a) } }
    if ($PSCmdlet.ParameterSetName -eq 'File') { $psi.ArgumentList.Add('-File'); $psi.ArgumentList.Add($File) }
    else { $psi.ArgumentList.Add('-Command'); $psi.ArgumentList.Add($Command) }
    foreach ($a in $ArgumentList) { $psi.ArgumentList.Add($a) }
    $psi.RedirectStandardOutput = $true
    $psi.RedirectStandardError = $true
    $psi.UseShellExecute = $false
    $psi.WorkingDirectory = $WorkingDirectory
    $moduleParent = Split-Path (Split-Path (Split-Path (Get-OpsModuleManifest)))  # out/, which holds OpsTools/<version>/
    $psi.Environment['PSModulePath'] = $moduleParent + [System.IO.Path]::PathSeparator + $psi.Environment['PSModulePath']
    $psi.Environment['NO_COLOR'] = '1'
    $psi.Environment['TERM'] = 'dumb'
    foreach ($k in $Environment.Keys) {
        if ($null -eq $Environment[$k]) { [void]$psi.Environment.Remove($k) } else { $psi.Environment[$k] = [string] $Environment[$k] }
    }
    $process = [System.Diagnostics.Process]::Start($psi)
    $stdout = $process.StandardOutput.ReadToEndAsync()
    $stderr = $process.StandardError.ReadToEndAsync()
    if (-not $process.WaitForExit($TimeoutSec * 1000)) { $process.Kill($true); throw "pwsh did not finish within $TimeoutSec s." }
    $process.WaitForExit()
    [pscustomobject]@{ ExitCode = $process.ExitCode; StdOut = $stdout.Result; StdErr = $stderr.Result }
}

function New-TestFolder {
    # A temporary folder for one test file, removed by Remove-TestFolder.
    [OutputType([string])]
    param([string] $Prefix = 'opstools-pester-')
    (New-Item -ItemType Directory -Path (Join-Path ([System.IO.Path]::GetTempPath()) ($Prefix + [guid]::NewGuid().ToString('N').Substring(0, 8)))).FullName
}

function Remove-TestFolder {
    param([string] $Path)
    if ($Path -and (Test-Path -LiteralPath $Path)) { Remove-Item -LiteralPath $Path -Recurse -Force -ErrorAction SilentlyContinue }
}

function Start-OpsTerminal {
    # A real terminal (tmux, -Width x -Height) running the suite's pwsh: an object with Send (keys, then Enter
    # unless -NoEnter), Screen (the text shown) and Wait (a regex on the screen, seconds; $true when it came).
    # Stop it with Stop-OpsTerminal.
    param([int] $Width = 80, [int] $Height = 30)
    if (-not (Get-Command tmux -ErrorAction SilentlyContinue)) { throw 'tmux is not installed (.ci/run installs it): this test needs a real terminal.' }
    $session = 'opstools-' + [guid]::NewGuid().ToString('N').Substring(0, 8)
    $exe, $first = Get-OpsPwshCommand
    $command = (@($exe, $first) | Where-Object { $_ } | ForEach-Object { "'$_'" }) -join ' '
    & tmux new-session -d -s $session -x $Width -y $Height "$command -NoProfile -NoLogo"
    $terminal = [pscustomobject]@{ Session = $session }
    $terminal | Add-Member ScriptMethod Screen { ((& tmux capture-pane -p -t $this.Session) -join "`n").TrimEnd() }
    $terminal | Add-Member ScriptMethod Send { param([string] $keys, [switch] $NoEnter)
        if ($NoEnter) { & tmux send-keys -t $this.Session $keys } else { & tmux send-keys -t $this.Session $keys Enter } }
    $terminal | Add-Member ScriptMethod Wait { param([string] $pattern, [int] $seconds)
        $deadline = [DateTime]::UtcNow.AddSeconds($seconds)
        while ([DateTime]::UtcNow -lt $deadline) { if ($this.Screen() -match $pattern) { return $true }; Start-Sleep -Milliseconds 200 }
        $false }
    $terminal
}

function Stop-OpsTerminal {
    param($Terminal)
    if ($Terminal) { & tmux kill-session -t $Terminal.Session 2>$null }
}

Export-ModuleMember -Function Get-OpsRepoRoot, Get-OpsModuleManifest, Get-OpsPwshCommand, Start-TestPart, Invoke-TestPart, Stop-TestPart, Invoke-OpsPwsh, New-TestFolder, Remove-TestFolder, Start-OpsTerminal, Stop-OpsTerminal
