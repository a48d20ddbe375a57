# OpsTools root module. The compiled cmdlets come from OpsTools.dll (NestedModules in the manifest).
# The build appends every module/Checklists/*.ps1 (one function per file) to this file, because
# one script file imports several times faster than dot-sourcing many (see bench/README.md).
# Module scripts use only the language, Microsoft.PowerShell.Core commands, .NET and OpsTools
# commands, so they also run in hosts that have nothing else (see DESIGN.md).
Set-StrictMode -Version 3.0
