# Private: the checklists' certificate items (not exported).

function Get-OpsCertificateCheck {
    # For an environment with a Certificates section: the certificates of its endpoints and files
    # (Get-TlsCertificate -Environment), and with Certificates.Kubernetes = $true the certificates in the
    # Kubernetes section's namespace: secrets (Get-SecretCertificate) and cert-manager Certificates
    # (Get-CertManagerCertificate; a cluster without cert-manager is skipped with a Healthy note).
    # Thresholds per environment and per label; every result sorted by days left.
    # -CriticalOnly (the daily check): only Critical and Unknown results, or one Healthy summary.
    param(
        [Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment,
        [switch] $CriticalOnly
    )
    $certs = $OpsEnvironment.Certificates
    $all = [System.Collections.Generic.List[OpsTools.CheckResult]]::new()
    if ($certs.Endpoints.Count -gt 0 -or $certs.Paths.Count -gt 0) {
        foreach ($r in @(Get-TlsCertificate -Environment $OpsEnvironment -ErrorAction Stop)) { $all.Add($r) }
    }
    if ($certs.Kubernetes -and $OpsEnvironment.Kubernetes) {
        foreach ($r in @(Get-SecretCertificate -Environment $OpsEnvironment -ErrorAction Stop)) { $all.Add($r) }
        $cmErrors = $null
        $cm = @(Get-CertManagerCertificate -Environment $OpsEnvironment -ErrorAction SilentlyContinue -ErrorVariable cmErrors)
        foreach ($r in $cm) { $all.Add($r) }
        foreach ($e in @($cmErrors)) {
            if ($e.FullyQualifiedErrorId -like 'CertManagerNotInstalled*') { continue }
            throw $e.Exception
        }
    }
    # Fewest days left first (unreadable ones before all), then by target; no Utility cmdlets needed.
    $key = { param($r) if ($null -eq $r.DaysLeft) { [int]::MinValue } else { [int]$r.DaysLeft } }
    $all.Sort([System.Comparison[OpsTools.CheckResult]] {
            param($a, $b)
            $c = (& $key $a).CompareTo((& $key $b))
            if ($c -ne 0) { $c } else { [string]::Compare($a.Target, $b.Target, [System.StringComparison]::OrdinalIgnoreCase) }
        })
    $sorted = $all.ToArray()
    if (-not $CriticalOnly) { return $sorted }
    $bad = @($sorted | Where-Object { $_.Status -in [OpsTools.CheckStatus]::Critical, [OpsTools.CheckStatus]::Unknown })
    if ($bad.Count -gt 0) { return $bad }
    $soonest = @($sorted | Where-Object { $null -ne $_.DaysLeft })
    [OpsTools.CheckResult]@{
        Check = 'Certificate'; Area = 'Certificates'; Target = $OpsEnvironment.Name; Status = [OpsTools.CheckStatus]::Healthy; Value = $sorted.Count
        Message = "$($sorted.Count) certificate(s) checked, none critical$(if ($soonest) { "; the soonest to expire: $($soonest[0].Target) in $($soonest[0].DaysLeft) days" })."
        Threshold = 'no certificate critical (expired, untrusted, or under the critical days)'
    }
}
