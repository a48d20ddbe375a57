# Kubernetes as an admin runs it: against the real API server of the test suite (its controllers and a fake
# kubelet make pods ready), state checked through the API server's REST, not through OpsTools.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart kube
    $ns = Invoke-TestPart $parts 'kube.namespace shop'
    Invoke-TestPart $parts "kube.deployment $ns api 1" | Out-Null
    Invoke-TestPart $parts "kube.deployment $ns web 1" | Out-Null
    Invoke-TestPart $parts "kube.deployment $ns worker 1 CrashLoop" | Out-Null
    $kube = @{ Kubeconfig = $parts.kube.Kubeconfig; Context = $parts.kube.Context; Namespace = $ns }
}

AfterAll { Stop-TestPart $parts }

Describe 'Deployments' {
    It 'Get-Deployment reads like kubectl get deployments at 80 columns' {
        $text = Get-Deployment @kube -Name api, web | Out-String -Width 80
        $text | Should -Match 'NAME'
        $text | Should -Match 'api'
        $text | Should -Match '1/1'
    }

    It 'Get-Deployment | Set-ReplicaCount -Wait scales what the pipeline names' {
        Get-Deployment @kube -Name api, web | Set-ReplicaCount -Replicas 2 -Wait | Out-Null
        Invoke-TestPart $parts "kube.replicas $ns api" | Should -Be '2'
        Invoke-TestPart $parts "kube.replicas $ns web" | Should -Be '2'
    }

    It 'the emergency stop and restore of the runbooks puts the replicas back' {
        $before = Set-ReplicaCount @kube -Name api -Replicas 0 -Force -Wait
        Invoke-TestPart $parts "kube.replicas $ns api" | Should -Be '0'
        $before | Set-ReplicaCount -Wait | Out-Null
        Invoke-TestPart $parts "kube.replicas $ns api" | Should -Be '2'
    }

    It 'Set-ReplicaCount -WhatIf changes nothing' {
        Set-ReplicaCount @kube -Name web -Replicas 5 -WhatIf
        Invoke-TestPart $parts "kube.replicas $ns web" | Should -Be '2'
    }

    It 'completes deployment names from the cluster' {
        $line = "Set-ReplicaCount -Kubeconfig '$($kube.Kubeconfig)' -Context '$($kube.Context)' -Namespace $ns -Name w"
        (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText | Should -Contain 'web'
    }
}

Describe 'Pods' {
    It 'Get-PodHealth -Problem finds the crash loop, and -FailOn ends a script' {
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        do { $problems = @(Get-PodHealth @kube -Problem); if ($problems) { break }; Start-Sleep 1 } while ([DateTime]::UtcNow -lt $deadline)
        $problems.Target | Should -Match 'worker'
        ($problems | Out-String -Width 80) | Should -Match 'worker'
        $script = "Get-PodHealth -Kubeconfig '$($kube.Kubeconfig)' -Context '$($kube.Context)' -Namespace $ns -FailOn Critical | Out-Null; 'next'"
        $r = Invoke-OpsPwsh -Command $script
        $r.ExitCode | Should -Be 1 -Because ($r.StdErr + $r.StdOut)
    }
}
