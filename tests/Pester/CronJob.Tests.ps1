# New-CheckCronJob against the real API server (1.20: CronJob served as batch/v1beta1 only): the objects are created
# and read back through the API server's REST, the job's service account can read what the daily check reads and
# nothing more (SubjectAccessReview), and the job's own command runs in-cluster: a pwsh in a private mount namespace
# with the service account's token, ca.crt and namespace at /var/run/secrets/kubernetes.io/serviceaccount and
# KUBERNETES_SERVICE_HOST/PORT set, the kubeconfig the environment file names hidden, as in a pod. No kubelet runs
# here, so the CronJob itself is never scheduled.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart kube
    $kube = $parts.kube
    $ns = Invoke-TestPart $parts 'kube.namespace cron'
    Invoke-TestPart $parts "kube.deployment $ns web 1" | Out-Null
    $dir = New-TestFolder
    $envFile = Join-Path $dir 'prod.ops.psd1'
    Set-Content -LiteralPath $envFile -Value @"
@{
    Name = 'prod'
    Kubernetes = @{ Kubeconfig = '$($kube.Kubeconfig)'; Context = '$($kube.Context)'; Namespace = '$ns'; Deployments = @('web') }
}
"@
    function Invoke-Admin([string] $Method, [string] $Path, $Body) {
        $p = @{ Method = $Method; Uri = "$($kube.Server)$Path"; Headers = @{ Authorization = "Bearer $($kube.AdminToken)" }; SkipCertificateCheck = $true }
        if ($Body) { $p.Body = ($Body | ConvertTo-Json -Depth 10); $p.ContentType = 'application/json' }
        Invoke-RestMethod @p
    }
    function Test-Access([string] $User, [string] $Verb, [string] $Group, [string] $Resource) {
        $sar = @{ apiVersion = 'authorization.k8s.io/v1'; kind = 'SubjectAccessReview'
            spec = @{ user = $User; groups = @('system:serviceaccounts', "system:serviceaccounts:$ns", 'system:authenticated')
                resourceAttributes = @{ namespace = $ns; verb = $Verb; group = $Group; resource = $Resource } } }
        (Invoke-Admin POST '/apis/authorization.k8s.io/v1/subjectaccessreviews' $sar).status.allowed -eq $true
    }
}

AfterAll { Stop-TestPart $parts; Remove-TestFolder $dir }

Describe 'New-CheckCronJob' {
    It 'writes a batch/v1 manifest with read-only rules for the daily check, without touching the cluster' {
        $m = New-CheckCronJob -Environment $envFile -Image 'registry.invalid/opstools:0.1.0' -Path (Join-Path $dir 'job.yaml')
        $m.Applied | Should -BeFalse
        $m.Name | Should -Be 'opstools-prod-daily'
        $m.Namespace | Should -Be $ns
        $yaml = Get-Content -Raw (Join-Path $dir 'job.yaml')
        $yaml | Should -Be $m.Yaml
        $yaml | Should -Match '(?m)^apiVersion: batch/v1$'
        $yaml | Should -Match 'concurrencyPolicy: Forbid'
        $m.Rules.Verbs | Sort-Object -Unique | Should -Be @('get', 'list')
        $m.Rules.Resource | Should -Not -Contain 'secrets'
        $m.Command | Should -Be "Import-Module OpsTools; Invoke-DailyCheck -Environment /etc/opstools/prod.ops.psd1 -FailOn Critical"
        (Invoke-Admin GET "/apis/batch/v1beta1/namespaces/$ns/cronjobs").items | Should -BeNullOrEmpty
    }

    It 'creates the objects on a 1.20 server as batch/v1beta1 and replaces them on a second run' {
        $m = New-CheckCronJob -Environment $envFile -Image 'registry.invalid/opstools:0.1.0' -Apply -Confirm:$false -Kubeconfig $kube.Kubeconfig -Context $kube.Context
        $m.Applied | Should -BeTrue
        $m.AppliedApiVersion | Should -Be 'batch/v1beta1'
        $m.Objects | Should -Be @('ServiceAccount/opstools-prod-daily created', 'ConfigMap/opstools-prod-daily created', 'Role/opstools-prod-daily created',
            'RoleBinding/opstools-prod-daily created', 'CronJob/opstools-prod-daily created')
        $cj = Invoke-Admin GET "/apis/batch/v1beta1/namespaces/$ns/cronjobs/opstools-prod-daily"
        $cj.spec.schedule | Should -Be '0 6 * * *'
        $cj.spec.concurrencyPolicy | Should -Be 'Forbid'
        $cj.spec.failedJobsHistoryLimit | Should -Be 3
        $cj.spec.jobTemplate.spec.activeDeadlineSeconds | Should -Be 1800
        $pod = $cj.spec.jobTemplate.spec.template.spec
        $pod.serviceAccountName | Should -Be 'opstools-prod-daily'
        $pod.containers[0].command[-1] | Should -Be $m.Command
        (Invoke-Admin GET "/api/v1/namespaces/$ns/configmaps/opstools-prod-daily").data.'prod.ops.psd1' | Should -Be (Get-Content -Raw $envFile)

        $again = New-CheckCronJob -Environment $envFile -Image 'registry.invalid/opstools:0.1.1' -Schedule '30 5 * * *' -Apply -Confirm:$false -Kubeconfig $kube.Kubeconfig -Context $kube.Context
        $again.Objects | Should -Be @('ServiceAccount/opstools-prod-daily configured', 'ConfigMap/opstools-prod-daily configured', 'Role/opstools-prod-daily configured',
            'RoleBinding/opstools-prod-daily configured', 'CronJob/opstools-prod-daily configured')
        $cj = Invoke-Admin GET "/apis/batch/v1beta1/namespaces/$ns/cronjobs/opstools-prod-daily"
        $cj.spec.schedule | Should -Be '30 5 * * *'
        $cj.spec.jobTemplate.spec.template.spec.containers[0].image | Should -Be 'registry.invalid/opstools:0.1.1'
    }

    It 'grants the job exactly the reads of its checks: allowed to list deployments and pods, refused secrets and changes' {
        $sa = "system:serviceaccount:${ns}:opstools-prod-daily"
        Test-Access $sa list apps deployments | Should -BeTrue
        Test-Access $sa list '' pods | Should -BeTrue
        Test-Access $sa list '' events | Should -BeTrue
        Test-Access $sa get '' secrets | Should -BeFalse
        Test-Access $sa patch apps deployments | Should -BeFalse
        Test-Access $sa delete '' pods | Should -BeFalse
        Test-Access $sa update apps 'deployments/scale' | Should -BeFalse
    }

    It 'runs the job''s command in-cluster with the service account, and every Kubernetes check gets an answer' {
        $token = (Invoke-Admin POST "/api/v1/namespaces/$ns/serviceaccounts/opstools-prod-daily/token" @{ apiVersion = 'authentication.k8s.io/v1'; kind = 'TokenRequest'; spec = @{ expirationSeconds = 3600 } }).status.token
        $sadir = Join-Path $dir 'sa'
        New-Item -ItemType Directory $sadir | Out-Null
        Set-Content -LiteralPath (Join-Path $sadir 'token') -Value $token -NoNewline
        Copy-Item -LiteralPath $kube.CaFile -Destination (Join-Path $sadir 'ca.crt')
        Set-Content -LiteralPath (Join-Path $sadir 'namespace') -Value $ns -NoNewline
        # The ConfigMap's file, at a path of its own; the kubeconfig it names is hidden in the mount namespace, as it is absent in a pod.
        $cmdir = Join-Path $dir 'configmap'
        New-Item -ItemType Directory $cmdir | Out-Null
        (Invoke-Admin GET "/api/v1/namespaces/$ns/configmaps/opstools-prod-daily").data.'prod.ops.psd1' | Set-Content -LiteralPath (Join-Path $cmdir 'prod.ops.psd1') -NoNewline
        $kubeconfigDir = Split-Path $kube.Kubeconfig
        $setup = 'mount -t tmpfs tmpfs /run && mkdir -p /run/secrets/kubernetes.io/serviceaccount && cp "$0"/* /run/secrets/kubernetes.io/serviceaccount/ && mount -t tmpfs tmpfs "$1" && shift && exec "$@"'
        $uri = [uri]$kube.Server
        $home2 = Join-Path $dir 'home'
        New-Item -ItemType Directory $home2 | Out-Null
        $command = (New-CheckCronJob -Environment $envFile -Image x).Command.Replace('/etc/opstools/', "$cmdir/")
        $r = Invoke-OpsPwsh -Wrapper @('unshare', '-m', 'sh', '-c', $setup, $sadir, $kubeconfigDir) `
            -Command "$command -Skip Disk, Memory | ForEach-Object { `"`$(`$_.Check)|`$(`$_.Status)|`$(`$_.Message)`" }; 'context=' + (Get-Deployment -Environment '$cmdir/prod.ops.psd1')[0].Context" `
            -Environment @{ KUBERNETES_SERVICE_HOST = $uri.Host; KUBERNETES_SERVICE_PORT = $uri.Port; HOME = $home2; KUBECONFIG = $null }
        $r.StdErr | Should -BeNullOrEmpty
        $lines = $r.StdOut -split "`n" | Where-Object { $_ -match '\|' }
        $lines | Should -Not -BeNullOrEmpty
        $lines | Where-Object { $_ -match '\|Unknown\|' } | Should -BeNullOrEmpty
        $lines -match '^DeploymentAvailability\|Healthy\|' | Should -Not -BeNullOrEmpty -Because ($lines -join "`n")
        $lines -match '^PodHealth\|Healthy\|' | Should -Not -BeNullOrEmpty
        $r.StdOut | Should -Match '(?m)^context=in-cluster\s*$' -Because 'the kubeconfig the file names is absent, so the service account is used'

        $r.StdOut | Should -Not -Match 'Forbidden|forbidden'
        $r.ExitCode | Should -Be 0
    }
}
