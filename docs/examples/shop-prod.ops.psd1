# An OpsTools environment file: one deployment's targets, read as data (no code runs).
# Use it with any command:   Invoke-DailyCheck -Environment ./shop-prod.ops.psd1
# Secrets never go in this file: name the environment variable that holds them instead.
@{
    Name        = 'shop-prod'
    Description = 'Shop API and web front end, production'

    # Health endpoints probed by Get-AppHealth and the daily check.
    AppHealth   = @(
        @{ Name = 'api'; Uri = 'https://api.shop.example/health'; BearerTokenVariable = 'SHOP_HEALTH_TOKEN' }
        @{ Name = 'web'; Uri = 'https://shop.example/healthz'; ExpectedStatus = @(200, 204); TimeoutSec = 5 }
        # The runbooks call internal routes with curl -k: self-signed certificates.
        @{ Name = 'ai'; Uri = 'https://ai.shop.internal/api/ai-service?action=health'; SkipCertificateCheck = $true }
    )

    # Host checks: which mounts the disk check looks at (empty: every real file system).
    Host        = @{
        DiskMounts = @('/', '/var/lib/postgresql')
    }

    # Sections read by the database, backup, Kubernetes and Docker commands.
    Databases   = @(
        @{ Name = 'app'; Server = 'db.shop.internal'; Port = 5432; Database = 'shop'; User = 'ops'; PasswordVariable = 'SHOP_DB_PASSWORD' }
    )
    Backup      = @{ Path = '/srv/backups/shop'; RetentionDays = 30 }
    # The cluster: credentials stay in the kubeconfig (Kubeconfig = '~/.kube/shop-prod' to use another file).
    Kubernetes  = @{ Context = 'prod'; Namespace = 'shop'; Deployments = @('api', 'web') }
    Docker      = @{ Host = 'unix:///var/run/docker.sock'; ComposeProject = 'shop' }
    Logs        = @{ Paths = @('/var/log/shop/*.log') }

    # Overrides of the runbook defaults (see Get-Help about_OpsTools_Environments).
    Thresholds  = @{
        LatencyWarningMs      = 1000
        DiskFreeWarningPercent = 25
    }
}
