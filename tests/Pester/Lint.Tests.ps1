# Lint for the module's scripts (PSScriptAnalyzer is not to be had here): module/**/*.ps1 parsed with
# PowerShell's own parser, and the rules that matter for script wrappers enforced on the syntax tree.
# Each rule is also run on a sample that breaks it, so a rule that can never fail is caught.
# Runs alone: Import-Module <Pester 5.9.1>; Invoke-Pester -Path tests/Pester/Lint.Tests.ps1 (after a build).

BeforeDiscovery {
    $rules = @('ApprovedVerb', 'NoAlias', 'ShouldProcess', 'NoWriteHost', 'NoInvokeExpression', 'NoEmptyCatch', 'NoPlainTextPassword', 'NoGlobalVariable') |
        ForEach-Object { @{ Rule = $_ } }
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    # The module is imported so that the commands the scripts call are known (ShouldProcess rule).
    Import-Module (Get-OpsModuleManifest) -Force
    $root = Get-OpsRepoRoot

    $approved = @(Get-Verb | ForEach-Object Verb)
    $aliases = @{}
    foreach ($a in Get-Alias) { $aliases[$a.Name] = $a.Definition }
    # Verbs that change state: such functions must support -WhatIf/-Confirm.
    $changing = 'New', 'Set', 'Remove', 'Clear', 'Reset', 'Rename', 'Move', 'Copy', 'Add', 'Start', 'Stop', 'Restart',
        'Suspend', 'Resume', 'Update', 'Install', 'Uninstall', 'Register', 'Unregister', 'Enable', 'Disable', 'Restore', 'Backup', 'Undo'

    function Get-LintFinding {
        # Returns "file:line: rule: text" for every place in $Ast that breaks $Rule.
        param([System.Management.Automation.Language.Ast] $Ast, [string] $Rule, [string] $File)
        $at = { param($node, $text) '{0}:{1}: {2}: {3}' -f $File, $node.Extent.StartLineNumber, $Rule, $text }
        $functions = $Ast.FindAll({ $args[0] -is [System.Management.Automation.Language.FunctionDefinitionAst] }, $true)
        $commands = $Ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)
        switch ($Rule) {
            'ApprovedVerb' {
                foreach ($f in $functions) {
                    $verb = ($f.Name -split '-', 2)[0]
                    if ($f.Name -notmatch '^\w+-\w+$' -or $verb -notin $approved) { & $at $f "function $($f.Name): '$verb' is not an approved verb (Get-Verb)" }
                }
            }
            'NoAlias' {
                foreach ($c in $commands) {
                    $name = $c.GetCommandName()
                    if ($name -and $aliases.ContainsKey($name)) { & $at $c "'$name' is an alias of $($aliases[$name]): write the command's name" }
                }
            }
            'ShouldProcess' {
                foreach ($f in $functions) {
                    $binding = $f.Body.ParamBlock.Attributes | Where-Object { $_.TypeName.Name -eq 'CmdletBinding' }
                    $supports = $binding -and ($binding.NamedArguments | Where-Object { $_.ArgumentName -eq 'SupportsShouldProcess' -and ($_.ExpressionOmitted -or $_.Argument.SafeGetValue()) })
                    if ($supports) { continue }
                    # A helper that asks its caller ($Caller.ShouldProcess(...)) is covered by the caller's -WhatIf/-Confirm.
                    if ($f.Body.Find({ $args[0] -is [System.Management.Automation.Language.InvokeMemberExpressionAst] -and $args[0].Member.Extent.Text -in 'ShouldProcess', 'ShouldContinue' }, $true)) { continue }
                    # Suppressed as for PSScriptAnalyzer, with a reason: [Diagnostics.CodeAnalysis.SuppressMessage('PSUseShouldProcessForStateChangingFunctions', '', Justification = '...')]
                    $suppressed = $f.Body.ParamBlock.Attributes | Where-Object {
                        $_.TypeName.Name -match 'SuppressMessage' -and $_.PositionalArguments.Count -gt 0 -and $_.PositionalArguments[0].SafeGetValue() -eq 'PSUseShouldProcessForStateChangingFunctions' -and
                        ($_.NamedArguments | Where-Object { $_.ArgumentName -eq 'Justification' -and $_.Argument.SafeGetValue() })
                    }
                    if ($suppressed) { continue }
                    $verb = ($f.Name -split '-', 2)[0]
                    if ($verb -in $changing) { & $at $f "function $($f.Name) changes state ('$verb') but does not declare SupportsShouldProcess" ; continue }
                    $inner = $f.Body.FindAll({ $args[0] -is [System.Management.Automation.Language.CommandAst] }, $true)
                    foreach ($c in $inner) {
                        $name = $c.GetCommandName()
                        if (-not $name) { continue }
                        $cmd = Get-Command $name -ErrorAction SilentlyContinue | Select-Object -First 1
                        $passesWhatIf = $c.CommandElements | Where-Object { $_ -is [System.Management.Automation.Language.CommandParameterAst] -and $_.ParameterName -eq 'WhatIf' }
                        if ($cmd -and $cmd.Parameters -and $cmd.Parameters.ContainsKey('WhatIf') -and -not $passesWhatIf -and $name -notin 'ForEach-Object', 'Write-Verbose', 'Write-Warning') {
                            & $at $c "function $($f.Name) calls $name, which changes state, but does not declare SupportsShouldProcess"
                        }
                    }
                }
            }
            'NoWriteHost' {
                foreach ($c in $commands) { if ($c.GetCommandName() -in 'Write-Host') { & $at $c 'Write-Host: write objects (or Write-Verbose/Write-Information)' } }
            }
            'NoInvokeExpression' {
                foreach ($c in $commands) { if ($c.GetCommandName() -in 'Invoke-Expression', 'iex') { & $at $c 'Invoke-Expression runs text as code' } }
            }
            'NoEmptyCatch' {
                foreach ($c in $Ast.FindAll({ $args[0] -is [System.Management.Automation.Language.CatchClauseAst] }, $true)) {
                    if ($c.Body.Statements.Count -eq 0) { & $at $c 'an empty catch hides the error' }
                }
            }
            'NoPlainTextPassword' {
                foreach ($p in $Ast.FindAll({ $args[0] -is [System.Management.Automation.Language.ParameterAst] }, $true)) {
                    $name = $p.Name.VariablePath.UserPath
                    if ($name -match '(Password|Passwd|Pwd|Secret|Token|ApiKey|Credential)$') {
                        $type = $p.StaticType
                        if ($type -notin [securestring], [pscredential], [System.Management.Automation.SwitchParameter]) {
                            & $at $p "-$name is a secret taken as $($type.Name): use SecureString or PSCredential"
                        }
                    }
                }
            }
            'NoGlobalVariable' {
                foreach ($v in $Ast.FindAll({ $args[0] -is [System.Management.Automation.Language.VariableExpressionAst] }, $true)) {
                    if ($v.VariablePath.IsGlobal) { & $at $v "`$$($v.VariablePath.UserPath) is a global variable" }
                }
                foreach ($c in $commands) {
                    if ($c.GetCommandName() -in 'Set-Variable', 'New-Variable' -and ($c.Extent.Text -match '-Scope\s+[''"]?Global')) { & $at $c 'a global variable' }
                }
            }
        }
    }

    $scripts = @(Get-ChildItem -LiteralPath (Join-Path $root 'module') -Recurse -Filter '*.ps1' -File)
    $parsed = foreach ($s in $scripts) {
        $tokens = $errors = $null
        $ast = [System.Management.Automation.Language.Parser]::ParseFile($s.FullName, [ref] $tokens, [ref] $errors)
        [pscustomobject]@{ File = [IO.Path]::GetRelativePath($root, $s.FullName); Ast = $ast; Errors = $errors }
    }

    $bad = @'
function Do-Thing {
    param([string] $Password, [string] $ApiToken)
    Write-Host 'hello'
    Invoke-Expression '1 + 1'
    try { gci } catch { }
    $global:state = 1
    Remove-Item ./x
}
function Set-Thing { param([string] $Name) $Name }
'@
    $badAst = [System.Management.Automation.Language.Parser]::ParseInput($bad, [ref] $null, [ref] $null)
}

AfterAll { Remove-Module OpsTools -ErrorAction SilentlyContinue }

Describe 'module scripts' {
    It 'there are scripts to lint' { $scripts.Count | Should -BeGreaterThan 3 }

    It 'every script parses' {
        $problems = foreach ($p in $parsed) { foreach ($e in $p.Errors) { '{0}:{1}: {2}' -f $p.File, $e.Extent.StartLineNumber, $e.Message } }
        $problems | Should -BeNullOrEmpty
    }

    It 'follow rule <Rule>' -ForEach $rules {
        $findings = foreach ($p in $parsed) { Get-LintFinding -Ast $p.Ast -Rule $Rule -File $p.File }
        $findings -join "`n" | Should -BeNullOrEmpty
    }

    It 'rule <Rule> finds the sample that breaks it' -ForEach $rules {
        @(Get-LintFinding -Ast $badAst -Rule $Rule -File 'sample.ps1').Count | Should -BeGreaterThan 0
    }
}
