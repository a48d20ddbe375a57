# Get-Help as a user sees it in a real pwsh: every exported command has help from its docs/ page
# (built into en-US/ by tools/OpsTools.HelpGen), and the about_ topics are found.
# Runs alone: Import-Module <Pester 5.9.1>; Invoke-Pester -Path tests/Pester/Help.Tests.ps1 (after a build).

BeforeDiscovery {
    $root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $data = Import-PowerShellDataFile -LiteralPath (Join-Path $root 'OpsTools.psd1')
    $commands = @(@($data.CmdletsToExport) + @($data.FunctionsToExport) | ForEach-Object { @{ Name = $_ } })
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force          # the built module, as a user imports it
    $root = Get-OpsRepoRoot
    $data = Import-PowerShellDataFile -LiteralPath (Join-Path $root 'OpsTools.psd1')
    $moduleDir = Split-Path (Get-OpsModuleManifest)
    $docsBase = $data.PrivateData.PSData.ProjectUri + '/blob/main/docs/'
    $common = [System.Management.Automation.Cmdlet]::CommonParameters + @('UseTransaction')
}

AfterAll { Remove-Module OpsTools -ErrorAction SilentlyContinue }

Describe 'Get-Help <Name> -Full' -ForEach $commands {
    BeforeAll {
        $command = Get-Command $Name
        $help = Get-Help $Name -Full
        $text = $help | Out-String -Width 80
        $parameters = @($command.Parameters.Keys | Where-Object { $_ -notin $common })
    }

    It 'comes from the MAML help, not the generated stub' {
        $text | Should -Not -Match 'cannot find the Help files'
        $text | Should -Not -Match 'REMARKS\s+None'
        $help.Synopsis | Should -Not -Match ([regex]::Escape($Name) + ' \[')
    }

    It 'has a synopsis and a description' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        ($help.description.Text -join "`n").Trim().Length | Should -BeGreaterThan 40
        $text | Should -Match '(?m)^DESCRIPTION'
    }

    It 'describes every parameter' {
        $documented = @($help.parameters.parameter)
        foreach ($p in $parameters) {
            $entry = $documented | Where-Object name -EQ $p
            $entry | Should -Not -BeNullOrEmpty -Because "-$p is a parameter of $Name"
            ($entry.description.Text -join ' ').Trim() | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }

    It 'has at least two examples, each with code' {
        $examples = @($help.examples.example)
        $examples.Count | Should -BeGreaterOrEqual 2
        foreach ($e in $examples) { $e.code | Should -Not -BeNullOrEmpty }
        $text | Should -Match '(?m)^\s*-+ Example 1'
    }

    It 'names the output type the command declares' {
        $returns = @($help.returnValues.returnValue | ForEach-Object { $_.type.name })
        $returns.Count | Should -BeGreaterThan 0
        foreach ($t in $command.OutputType) {
            $returns -join ' ' | Should -Match ([regex]::Escape($t.Name.Split('.')[-1])) -Because "[OutputType] names $($t.Name)"
        }
        $text | Should -Match '(?m)^OUTPUTS'
    }

    It 'lists every parameter with its text in Get-Help -Parameter *' {
        $byName = @{}
        foreach ($p in @(Get-Help $Name -Parameter *)) { $byName[$p.name] = ($p.description.Text -join ' ').Trim() }
        foreach ($p in $parameters) {
            $byName.ContainsKey($p) | Should -BeTrue -Because "Get-Help $Name -Parameter * should list -$p"
            $byName[$p] | Should -Not -BeNullOrEmpty
        }
        $one = Get-Help $Name -Parameter $parameters[0] | Out-String -Width 80
        $one | Should -Match "-$($parameters[0])"
    }

    It 'links to its page online first' {
        $help.relatedLinks.navigationLink[0].uri | Should -Be "$docsBase$Name.md"
        if ($command.CommandType -eq 'Cmdlet') { $command.HelpUri | Should -Be "$docsBase$Name.md" }
    }
}

Describe 'about topics' {
    It 'Get-Help <_> shows the topic' -ForEach @('about_OpsTools', 'about_OpsTools_Environments') {
        $topic = Get-Help $_ | Out-String -Width 80
        $topic | Should -Match 'SHORT DESCRIPTION'
        $topic | Should -Match 'LONG DESCRIPTION'
        $topic | Should -Not -Match 'Get-Help could not find'
    }

    It '<_>.help.txt is UTF-8 text of at most 80 columns outside code' -ForEach @('about_OpsTools', 'about_OpsTools_Environments') {
        $file = Join-Path $moduleDir "en-US/$_.help.txt"
        $bytes = [System.IO.File]::ReadAllBytes($file)
        { [System.Text.UTF8Encoding]::new($false, $true).GetString($bytes) } | Should -Not -Throw
        $long = Get-Content -LiteralPath $file | Where-Object { $_.Length -gt 80 -and $_ -notmatch '^ {8}' }
        $long | Should -BeNullOrEmpty
    }

    It 'Get-Help about_OpsTools* lists both topics' {
        $names = @(Get-Help about_OpsTools* | ForEach-Object Name)
        $names | Should -Contain 'about_OpsTools'
        $names | Should -Contain 'about_OpsTools_Environments'
    }
}

Describe 'The help generator (tools/OpsTools.HelpGen) fails the build when docs and code disagree' {
    BeforeAll {
        $helpGen = Join-Path $root 'tools/OpsTools.HelpGen/bin/Release/net10.0/OpsTools.HelpGen.dll'
        $work = (New-Item -ItemType Directory -Path (Join-Path ([IO.Path]::GetTempPath()) "opstools-helpgen-$([guid]::NewGuid().ToString('N').Substring(0, 8))")).FullName
        Copy-Item -LiteralPath $moduleDir -Destination "$work/module" -Recurse
        Remove-Item -LiteralPath "$work/module/en-US" -Recurse -Force
        $page = Get-Content -Raw -LiteralPath (Join-Path $root 'docs/Get-MemoryUsage.md')

        function Invoke-HelpGen([string] $PageText) {
            # docs/ as built, with Get-MemoryUsage.md replaced by $PageText.
            $docs = Join-Path $work ([guid]::NewGuid().ToString('N'))
            Copy-Item -LiteralPath (Join-Path $root 'docs') -Destination $docs -Recurse
            Set-Content -LiteralPath "$docs/Get-MemoryUsage.md" -Value $PageText -NoNewline
            $out = & dotnet $helpGen --module "$work/module" --docs $docs 2>&1
            [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($out -join "`n") }
        }
        function Remove-Section([string] $Text, [string] $Heading) {
            # Cuts "### <Heading>" up to the next ### or ## heading.
            [regex]::Replace($Text, "(?ms)^### $([regex]::Escape($Heading))\r?\n.*?(?=^##)", '')
        }
    }
    AfterAll { Remove-Item -LiteralPath $work -Recurse -Force -ErrorAction SilentlyContinue }

    It 'accepts the pages as they are and writes the help' {
        $r = Invoke-HelpGen $page
        $r.ExitCode | Should -Be 0 -Because $r.Output
        "$work/module/en-US/OpsTools.dll-Help.xml" | Should -Exist
        "$work/module/en-US/about_OpsTools.help.txt" | Should -Exist
    }

    It 'fails when a page lacks a parameter of the command' {
        $r = Invoke-HelpGen (Remove-Section $page '-WarningPercent')
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match 'Get-MemoryUsage\.md\(\d+\): error OTH008: Get-MemoryUsage: the page does not document -WarningPercent'
    }

    It 'fails when a page names a parameter the command does not have' {
        $r = Invoke-HelpGen ($page -replace '(?m)^### -Environment$', '### -Environmnet')
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match 'documents -Environmnet, which the command does not have'
    }

    It 'fails when a page has fewer than two examples' {
        $one = $page
        foreach ($n in 2..4) { $one = Remove-Section $one ((Select-String -InputObject $page -Pattern "(?m)^### (Example $n[^\r\n]*)").Matches[0].Groups[1].Value) }
        $r = Invoke-HelpGen $one
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match 'has 1 example\(s\) with code; at least 2 are needed'
    }

    It 'fails when a parameter has no description' {
        $r = Invoke-HelpGen ([regex]::Replace($page, '(?ms)(^### -CriticalPercent\r?\n).*?(?=^```yaml)', '$1' + "`n"))
        $r.ExitCode | Should -Be 1
        $r.Output | Should -Match '-CriticalPercent has no description'
    }
}
