# OpsTools root module. The compiled cmdlets come from OpsTools.dll (NestedModules in the manifest);
# this file adds the checklist wrappers, one function per file under Checklists/.
# Module scripts use only the language, Microsoft.PowerShell.Core commands, .NET and OpsTools
# commands, so they also run in hosts that have nothing else (see DESIGN.md).
Set-StrictMode -Version 3.0

foreach ($script in [System.IO.Directory]::GetFiles([System.IO.Path]::Combine($PSScriptRoot, 'Checklists'), '*.ps1')) {
    . $script
}
