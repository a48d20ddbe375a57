# OpsTools root module. The compiled cmdlets come from OpsTools.dll (NestedModules in the manifest).
# The build appends every module/Checklists/*.ps1 (one function per file) to this file, because
# one script file imports several times faster than dot-sourcing many (see bench/README.md).
# Module scripts may use every command pwsh 7.4+ ships (Microsoft.PowerShell.Utility and Management:
# Select-Object, Group-Object, ConvertTo-Json ...): the tests now host Microsoft.PowerShell.SDK and a real
# pwsh, which have them, as every user's pwsh does.
Set-StrictMode -Version 3.0
