# Private: the weekly checklist's "leftover restore databases" item (not exported).

function Get-OpsScratchDatabaseCheck {
    # Scratch databases left on the environment's database servers (Get-DbScratchDatabase): each orphan (no running
    # OpsTools holds its lock, nobody connected: a killed restore or drill left it) is one Warning result saying how
    # to drop it; a server without orphans is one Healthy result. Each server is asked once, however many entries
    # name it. Nothing is dropped here: Remove-DbScratchDatabase does that, with confirmation.
    param(
        [Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment,
        [Parameter(Mandatory)] [AllowEmptyCollection()] [object[]] $DatabaseEntries
    )
    $seen = @{}
    foreach ($db in $DatabaseEntries) {
        $started = [DateTime]::UtcNow
        try { $found = @(Get-DbScratchDatabase -Environment $OpsEnvironment -Instance ([WildcardPattern]::Escape($db.Name)) -ErrorAction Stop) }
        catch {
            # One server that cannot be asked is one Unknown result; the others are still checked.
            [OpsTools.CheckResult]@{
                Check = 'ScratchDatabase'; Area = 'Backup'; Target = "$($db.Name)"; Status = [OpsTools.CheckStatus]::Unknown
                Message = "Scratch databases could not be listed: $($_.Exception.Message)"; Duration = [DateTime]::UtcNow - $started
            }
            continue
        }
        $key = if ($found.Count -gt 0) { "$($found[0].Server):$($found[0].Port)" } else { "$($db.Server):$($db.Port)/$($db.Name)" }
        if ($seen.ContainsKey($key)) { continue }
        $seen[$key] = $true
        $orphans = @($found | Where-Object IsOrphan)
        foreach ($o in $orphans) {
            [OpsTools.CheckResult]@{
                Check     = 'ScratchDatabase'
                Area      = 'Backup'
                Target    = "$($db.Name)/$($o.Name)"
                Status    = [OpsTools.CheckStatus]::Warning
                Value     = $o.SizeBytes
                Threshold = 'no orphaned scratch databases'
                Message   = "$($o.Message) (Remove-DbScratchDatabase -Environment <file> -Instance $($db.Name) -Name $($o.Name))"
                Duration  = [DateTime]::UtcNow - $started
            }
        }
        if ($orphans.Count -eq 0) {
            $owned = @($found | Where-Object { -not $_.IsOrphan }).Count
            [OpsTools.CheckResult]@{
                Check     = 'ScratchDatabase'
                Area      = 'Backup'
                Target    = "$($db.Name)"
                Status    = [OpsTools.CheckStatus]::Healthy
                Value     = 0
                Threshold = 'no orphaned scratch databases'
                Message   = "No orphaned scratch databases on the server$(if ($owned) { " ($owned in use by running restores or drills)" })."
                Duration  = [DateTime]::UtcNow - $started
            }
        }
    }
}
