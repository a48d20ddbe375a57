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

    # Metrics and alerts: the app's /metrics, Prometheus (named PromQL checks), Alertmanager, the app's own JSON figures and actions.
    Metrics      = @(
        @{ Name = 'api'; Uri = 'https://api.shop.example/metrics'; BearerTokenVariable = 'SHOP_METRICS_TOKEN'
           Figures = @( @{ Name = 'queue'; Metric = 'triage_queue_size'; Warning = 100; Critical = 500 } ) }
    )
    Prometheus   = @{
        Uri = 'http://prometheus.monitoring:9090'; Selector = 'job="shop-api"'; OvernightHours = 12
        Checks = @(
            @{ Name = 'queue-growth'; Query = 'rate(triage_queue_size[5m])'; Warning = 1; Critical = 5; Unit = '/s' }
            @{ Name = 'targets-down'; Query = 'up{job="shop-api"} == 0'; Warning = 0; IfEmpty = 'Healthy' }
        )
    }
    Alertmanager = @{ Uri = 'http://alertmanager.monitoring:9093' }
    AppFigures   = @(
        @{ Name = 'alert-count'; Uri = 'http://api.shop.internal:8000/alerts'; Path = '.alert_count'; Warning = 0; Critical = 5 }
        @{ Name = 'queue'; Uri = 'http://api.shop.internal:8000/triage/statistics'; Path = '.queue_size'; Warning = 100; Critical = 500 }
        @{ Name = 'ai-breaker'; Uri = 'http://api.shop.internal:8000/health'; Path = '.circuit_breakers.ai.state'; Expected = 'closed' }
    )
    AppActions   = @(
        @{ Name = 'reset-circuit-breaker'; Uri = 'https://ai.shop.internal/api/ai-service?action=reset-circuit-breaker'; SkipCertificateCheck = $true; Description = 'close the AI circuit breaker' }
        @{ Name = 'clear-cache'; Uri = 'https://ai.shop.internal/api/ai-service?action=clear-cache'; SkipCertificateCheck = $true }
    )

    # Overrides of the runbook defaults (see Get-Help about_OpsTools_Environments).
    Thresholds  = @{
        LatencyWarningMs      = 1000
        DiskFreeWarningPercent = 25
    }
}
