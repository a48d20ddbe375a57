# Certificates as an admin checks them every week: Kestrel TLS endpoints serving certificates made under a throwaway CA
# (valid, expiring in 5 days, expired, self-signed), a folder with a full-chain PEM file, a DER file and a key, TLS
# secrets and cert-manager Certificates on the real API server. No cert-manager controller runs here: the test parts
# write the Certificate status the way cert-manager's controller would. Dates are compared with openssl's.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart certs, kube
    $certs = $parts.certs
    $ep = $certs.Endpoints
    $ns = Invoke-TestPart $parts 'kube.namespace certs'
    $kube = @{ Kubeconfig = $parts.kube.Kubeconfig; Context = $parts.kube.Context; Namespace = $ns }
    $dir = New-TestFolder

    function Get-OpensslNotAfter([string] $Endpoint) {
        # The admin's other tool: echo | openssl s_client -connect ... | openssl x509 -noout -enddate
        $text = (& bash -c "openssl s_client -connect $Endpoint </dev/null 2>/dev/null | openssl x509 -noout -enddate") -replace '^notAfter=', '' -replace ' GMT$', '' -replace '\s+', ' '
        [datetime]::ParseExact($text, 'MMM d HH:mm:ss yyyy', [cultureinfo]::InvariantCulture, [System.Globalization.DateTimeStyles]::AssumeUniversal -bor [System.Globalization.DateTimeStyles]::AdjustToUniversal)
    }
}

AfterAll {
    Stop-TestPart $parts
    Remove-TestFolder $dir
}

Describe 'Endpoints' {
    It 'Get-TlsCertificate shows days left and the reason at 80 columns, sorted by days left' {
        $results = Get-TlsCertificate -Endpoint $ep.valid, $ep.expiring, $ep.expired, $ep.selfsigned -CaFile $certs.CaFile
        $results.Count | Should -Be 4
        $valid = $results | Where-Object Target -EQ $ep.valid
        $valid.Status | Should -Be 'Healthy'
        $valid.NotAfter | Should -Be (Get-OpensslNotAfter $ep.valid)
        $valid.NotAfter.Kind | Should -Be 'Utc'
        ($results | Where-Object Target -EQ $ep.expiring).Status | Should -Be 'Critical'
        ($results | Where-Object Target -EQ $ep.expiring).DaysLeft | Should -Be 5
        $days = @($results | Where-Object { $null -ne $_.DaysLeft } | ForEach-Object DaysLeft)
        $days | Should -Be ($days | Sort-Object)

        $text = $results | Out-String -Width 80
        $lines = $text -split "`n" | Where-Object { $_.Trim() }
        $lines | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
        $text | Should -Match '(?m)^.*expired.*$'
        $text | Should -Match 'self-signed|untrusted'
        ($lines | Where-Object { $_ -match [regex]::Escape($ep.expiring) }) | Should -Match '\b5\b'
    }

    It 'a wrong host is named with the names the certificate has' {
        $r = Get-TlsCertificate -Endpoint $ep.wronghost -CaFile $certs.CaFile
        $r.Status | Should -Be 'Critical'
        "$($r.Reason)" | Should -Match 'api\.example\.test'
    }

    It '-FailOn Critical ends a cron script with exit code 1, and a healthy endpoint with 0' {
        $script = Join-Path $dir 'certcheck.ps1'
        Set-Content -LiteralPath $script -Value @'
param([string] $Endpoints, [string] $CaFile)
Get-TlsCertificate -Endpoint ($Endpoints -split ',') -CaFile $CaFile -FailOn Critical | Format-Table Target, DaysLeft, Status -AutoSize | Out-String -Width 80
'next'
'@
        $bad = Invoke-OpsPwsh -File $script -ArgumentList '-Endpoints', "$($ep.valid),$($ep.expiring)", '-CaFile', $certs.CaFile
        $bad.ExitCode | Should -Be 1 -Because ($bad.StdErr + $bad.StdOut)
        $bad.StdOut | Should -Not -Match '(?m)^next'
        $good = Invoke-OpsPwsh -File $script -ArgumentList '-Endpoints', $ep.valid, '-CaFile', $certs.CaFile
        $good.ExitCode | Should -Be 0 -Because ($good.StdErr + $good.StdOut)
        $good.StdOut | Should -Match '(?m)^next'
    }

    It 'JSON for another tool keeps the UTC dates and the days left' {
        $json = Get-TlsCertificate -Endpoint $ep.expiring -CaFile $certs.CaFile | Select-Object Target, DaysLeft, NotAfter, Status | ConvertTo-Json -EnumsAsStrings | ConvertFrom-Json
        $json.DaysLeft | Should -Be 5
        $json.Status | Should -Be 'Critical'
        ([datetime]$json.NotAfter).ToUniversalTime() | Should -Be (Get-OpensslNotAfter $ep.expiring)
    }

    It 'gives the same UTC dates and days left in a time zone 14 hours ahead (X509Certificate2.NotAfter is local time)' {
        # The .NET trap: X509Certificate2.NotAfter is in the machine's local time. On a UTC machine that cannot show, so this
        # pwsh runs as if in Kiritimati (UTC+14): the dates must still be the UTC ones openssl prints, for an endpoint and a file.
        $pem = Join-Path $dir 'tz-leaf.pem'
        & bash -c "openssl s_client -connect $($ep.expiring) </dev/null 2>/dev/null | openssl x509 -out '$pem'"
        $script = "Import-Module '$(Get-OpsModuleManifest)'; " +
                  "Get-TlsCertificate -Endpoint '$($ep.expiring)' -CaFile '$($certs.CaFile)' | ForEach-Object { 'endpoint {0:o} {1} {2}' -f `$_.NotAfter, `$_.NotAfter.Kind, `$_.DaysLeft }; " +
                  "Get-TlsCertificate -Path '$pem' | ForEach-Object { 'file {0:o} {1} {2}' -f `$_.NotAfter, `$_.NotAfter.Kind, `$_.DaysLeft }; " +
                  "'offset ' + [TimeZoneInfo]::Local.BaseUtcOffset.TotalHours"
        $r = Invoke-OpsPwsh -Command $script -Environment @{ TZ = 'Pacific/Kiritimati' }
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut | Should -Match '(?m)^offset 14' -Because 'the child pwsh must really run 14 hours ahead of UTC'
        $expected = (Get-OpensslNotAfter $ep.expiring).ToString('yyyy-MM-ddTHH:mm:ss', [cultureinfo]::InvariantCulture)
        foreach ($source in 'endpoint', 'file') {
            $line = ($r.StdOut -split '\r?\n') | Where-Object { $_ -like "$source *" } | Select-Object -First 1
            $line | Should -Match "^$source $([regex]::Escape($expected))(\.0+)?Z Utc 5$" -Because $r.StdOut
        }
    }
}

Describe 'Files' {
    It 'reads every certificate of a full-chain file and the DER file in a folder, and never the key' {
        $results = @(Get-TlsCertificate -Path $certs.Bundle -Recurse)
        $results.Count | Should -Be 3 -Because 'fullchain.pem holds the leaf and the intermediate; expiring.der one more; privkey.pem and README.txt are not certificates'
        ($results | Where-Object { $_.Target -like '*expiring.der*' }).DaysLeft | Should -Be 5
        ($results | Where-Object { $_.Target -like '*fullchain.pem*' }).Count | Should -Be 2
        $text = $results | Out-String -Width 80
        $text | Should -Not -Match 'PRIVATE KEY'
        $text | Should -Not -Match ([regex]::Escape($certs.KeyLine))
        $results[0].DaysLeft | Should -Be 5 -Because 'the list comes sorted by days left'
    }
}

Describe 'Kubernetes' {
    It 'Get-SecretCertificate reads TLS secrets, sorted by days left, keys never shown' {
        Invoke-TestPart $parts "certs.secret $ns api-tls valid" | Out-Null
        Invoke-TestPart $parts "certs.secret $ns old-tls expiring" | Out-Null
        $results = @(Get-SecretCertificate @kube)
        ($results | Where-Object SecretName -EQ 'old-tls' | Select-Object -First 1).Status | Should -Be 'Critical'
        $results[0].SecretName | Should -Be 'old-tls'
        $text = $results | Out-String -Width 80
        $text | Should -Match 'old-tls'
        $text | Should -Not -Match ([regex]::Escape($certs.KeyLine))
    }

    It 'Get-CertManagerCertificate joins a Certificate to its secret and completes its name' {
        Invoke-TestPart $parts "certs.certmanager $ns web valid" | Out-Null
        $c = Get-CertManagerCertificate @kube -Name web
        $c.Ready | Should -Be 'True'
        $c.Status | Should -Be 'Healthy'
        $c.DaysLeft | Should -Be 90
        $c.SecretName | Should -Be 'web-tls'
        ($c | Out-String -Width 80) | Should -Match 'web'
        $line = "Get-CertManagerCertificate -Kubeconfig '$($kube.Kubeconfig)' -Context '$($kube.Context)' -Namespace $ns -Name w"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Be @('web')
    }

    It 'Update-CertManagerCertificate -WhatIf changes nothing' {
        $r = Update-CertManagerCertificate @kube -Name web -WhatIf
        $r.WhatIf | Should -BeTrue
        (Get-CertManagerCertificate @kube -Name web).Issuing | Should -BeFalse
    }
}

Describe 'Checklists' {
    It 'Invoke-WeeklyMaintenance lists the environment''s certificates and Invoke-DailyCheck only the critical ones' {
        $envFile = Join-Path $dir 'web.ops.psd1'
        Set-Content -LiteralPath $envFile -Value @"
@{
    Name = 'web'
    Certificates = @{ Endpoints = @('$($ep.valid)', '$($ep.expiring)'); CaFile = '$($certs.CaFile)' }
}
"@
        $weekly = @(Invoke-WeeklyMaintenance -Environment $envFile | Where-Object Area -EQ 'Certificates')
        $weekly.Target | Should -Contain $ep.valid
        $weekly.Target | Should -Contain $ep.expiring
        $daily = @(Invoke-DailyCheck -Environment $envFile -Skip Disk, Memory | Where-Object Area -EQ 'Certificates')
        $daily.Target | Should -Contain $ep.expiring
        $daily.Target | Should -Not -Contain $ep.valid
        $r = Invoke-OpsPwsh -Command "Invoke-DailyCheck -Environment '$envFile' -Skip Disk, Memory -FailOn Critical | Out-Null"
        $r.ExitCode | Should -Be 1 -Because ($r.StdErr + $r.StdOut)
    }
}
