# Send-OpsNotification and the checklists' -Notify, as an admin and cron use them. The notify part stands in for Slack,
# Teams, PagerDuty, Opsgenie and a webhook (tests/OpsTools.TestKit/NotificationReceiver.cs): no real service is
# reachable here; the URLs and keys reach the commands through environment variables, as real ones do.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart notify, http
    $n = $parts.notify
    $dir = New-TestFolder
    $secrets = @{
        SHOP_SLACK_WEBHOOK = $n.SlackWebhook
        SHOP_SLACK_BOT     = $n.SlackToken
        SHOP_TEAMS_FLOW    = $n.TeamsWebhook
        SHOP_PD_KEY        = $n.RoutingKey
    }
    foreach ($k in $secrets.Keys) { Set-Item -Path "Env:$k" -Value $secrets[$k] }
    function Write-ShopEnvironment([string] $ApiPath, [string] $Default) {
        $file = Join-Path $dir 'shop.ops.psd1'
        Set-Content -LiteralPath $file -Encoding utf8 -Value @"
@{
    Name = 'shop'
    AppHealth = @( @{ Name = 'api'; Uri = '$($parts.http.HttpBase)$ApiPath' } )
    Notifications = @{
        Default = '$Default'
        Level = 'Critical'
        StatePath = './state/notify.json'
        Targets = @(
            @{ Name = 'ops-slack'; Service = 'Slack'; UrlVariable = 'SHOP_SLACK_WEBHOOK'; Mention = '<!subteam^S0ONCALL>' }
            @{ Name = 'ops-bot'; Service = 'Slack'; KeyVariable = 'SHOP_SLACK_BOT'; Channel = '#nowhere'; Uri = '$($n.SlackApi)' }
            @{ Name = 'teams'; Service = 'Teams'; UrlVariable = 'SHOP_TEAMS_FLOW' }
            @{ Name = 'pager'; Service = 'PagerDuty'; KeyVariable = 'SHOP_PD_KEY'; Uri = '$($n.PagerDuty)' }
        )
    }
}
"@
        $file
    }
    function Get-Received([string] $Prefix) { Invoke-TestPart $parts "notify.requests $Prefix" | ConvertFrom-Json }
}

AfterAll {
    foreach ($k in $secrets.Keys) { Remove-Item "Env:$k" -ErrorAction SilentlyContinue }
    Stop-TestPart $parts
    Remove-TestFolder $dir
}

Describe 'Send-OpsNotification' {
    It '-WhatIf prints the exact payload, the webhook URL and the routing key masked, and sends nothing' {
        $envFile = Write-ShopEnvironment '/down' 'ops-slack'
        $script = "Import-Module '$(Get-OpsModuleManifest)'; [OpsTools.CheckResult]@{ Check = 'DbHealth'; Target = 'db1'; Status = 'Critical'; Message = 'Verbindungen 96 % < max' } | " +
                  "Send-OpsNotification -Environment '$envFile' -Target ops-slack, pager -WhatIf"
        $r = Invoke-OpsPwsh -Command $script -Environment $secrets
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut | Should -Match ([regex]::Escape('"text":"<!subteam^S0ONCALL> *[shop] 1 critical of 1 checks*'))
        $r.StdOut | Should -Match ([regex]::Escape('Verbindungen 96 % &lt; max'))
        $r.StdOut | Should -Match ([regex]::Escape('"routing_key":"***","event_action":"trigger","dedup_key":"opstools:shop:DbHealth:db1"'))
        $r.StdOut | Should -Match 'POST http://127\.0\.0\.1:\d+/\*\*\*,'
        $r.StdOut | Should -Not -Match ([regex]::Escape($n.RoutingKey))
        $r.StdOut | Should -Not -Match 'B0000TEST'
        @(Get-Received '/').Count | Should -Be 0
    }

    It 'shows each delivery at 80 columns with the service''s reason' {
        $envFile = Write-ShopEnvironment '/down' 'ops-slack'
        $text = [OpsTools.CheckResult]@{ Check = 'DbHealth'; Target = 'db1'; Status = 'Critical'; Message = 'down' } |
            Send-OpsNotification -Environment $envFile -Target teams, ops-bot -StatePath (Join-Path $dir 'adhoc.json') -ErrorAction SilentlyContinue |
            Out-String -Width 80
        $text | Should -Match 'teams\s+Teams\s+Summary\s+Accepted\s+202'
        $text | Should -Match 'ops-bot\s+Slack\s+Summary\s+Rejected\s+200\s+1 channel_not_found'
    }
}

Describe 'Invoke-DailyCheck -Notify' {
    It 'pages from cron, keeps the -FailOn exit code, and resolves the alert when the endpoint healed' {
        $script = Join-Path $dir 'daily.ps1'
        Set-Content -LiteralPath $script -Value "Invoke-DailyCheck -Environment (Join-Path '$dir' 'shop.ops.psd1') -Skip Disk, Memory -Notify -FailOn Critical | Out-Null"

        Write-ShopEnvironment '/down' 'pager' | Out-Null
        $r = Invoke-OpsPwsh -File $script -Environment $secrets
        $r.ExitCode | Should -Be 1 -Because 'the api endpoint answers 503: critical'
        $pd = @(Get-Received '/pagerduty/' | ForEach-Object { $_.Body | ConvertFrom-Json })
        $pd.Count | Should -Be 1
        $pd[0].event_action | Should -Be 'trigger'
        $pd[0].dedup_key | Should -Be "opstools:shop:AppHealth:$($parts.http.HttpBase)/down"
        $pd[0].payload.severity | Should -Be 'critical'
        (Get-Item (Join-Path $dir 'state/notify.json')).UnixFileMode | Should -Be ([System.IO.UnixFileMode]'UserRead, UserWrite')

        # the api moved to a healthy endpoint: the AppHealth check ran and no longer reports the broken one
        Write-ShopEnvironment '/health' 'pager' | Out-Null
        $r = Invoke-OpsPwsh -File $script -Environment $secrets
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $pd = @(Get-Received '/pagerduty/' | ForEach-Object { $_.Body | ConvertFrom-Json })
        $pd.Count | Should -Be 2
        $pd[1].event_action | Should -Be 'resolve'
        $pd[1].dedup_key | Should -Be $pd[0].dedup_key
        Invoke-TestPart $parts 'notify.violations' | Should -Be '[]'
    }

    It 'warns when the target cannot be reached, and the exit code stays the one -FailOn decides' {
        $envFile = Write-ShopEnvironment '/down' 'ops-slack'
        1..4 | ForEach-Object { Invoke-TestPart $parts 'notify.script /slack/services/ 500' | Out-Null }
        $r = Invoke-OpsPwsh -Command "Invoke-DailyCheck -Environment '$envFile' -Skip Disk, Memory -Notify 3>&1 | Out-String -Width 200" -Environment $secrets
        $r.ExitCode | Should -Be 0 -Because 'without -FailOn a critical result does not fail the script, and neither does a failed notification'
        $r.StdOut | Should -Match 'Daily check -Notify: ops-slack \(Slack\) Summary: not delivered \(HTTP 500\) after 4 attempt\(s\)'
        $r.StdOut | Should -Not -Match 'B0000TEST'
    }
}

Describe 'Incident updates' {
    It 'posts INCIDENT DECLARED and RESOLVED to the incident''s target as one PagerDuty alert' {
        $file = Join-Path $dir 'incident.ops.psd1'
        Set-Content -LiteralPath $file -Value @"
@{
    Name = 'shop'
    Incidents = @{ Path = '$(Join-Path $dir 'incidents')'; NotificationTarget = 'pager' }
    Notifications = @{
        Default = 'ops-slack'
        Targets = @(
            @{ Name = 'ops-slack'; Service = 'Slack'; UrlVariable = 'SHOP_SLACK_WEBHOOK' }
            @{ Name = 'pager'; Service = 'PagerDuty'; KeyVariable = 'SHOP_PD_KEY'; Uri = '$($n.PagerDuty)' }
        )
    }
}
"@
        $before = @(Get-Received '/pagerduty/').Count
        $opened = New-Incident 'Checkout returns 500' P1 -Environment $file -Commander alice
        $r1 = $opened | Send-OpsNotification -Environment $file -Confirm:$false
        $r1.Status | Should -Be 'Accepted'
        $r1.Target | Should -Be 'pager'
        $r2 = Set-IncidentStatus $opened.Id Resolved 'Pool raised to 40' -Environment $file | Send-OpsNotification -Environment $file -Confirm:$false
        $r2.Status | Should -Be 'Accepted'
        $pd = @(Get-Received '/pagerduty/' | Select-Object -Skip $before | ForEach-Object { $_.Body | ConvertFrom-Json })
        $pd.Count | Should -Be 2
        $pd[0].event_action | Should -Be 'trigger'
        $pd[0].dedup_key | Should -Be "opstools:incident:$($opened.Id)"
        $pd[0].payload.severity | Should -Be 'critical'
        $pd[0].payload.summary | Should -Match 'Checkout returns 500'
        $pd[1].event_action | Should -Be 'resolve'
        $pd[1].dedup_key | Should -Be $pd[0].dedup_key
        Invoke-TestPart $parts 'notify.violations' | Should -Be '[]'
    }
}

# The switch to the real services: each test below runs when its variables hold a real webhook URL or key (and is
# skipped otherwise, as on the test machines, which reach no outside service). They send through the same
# environment-file targets an admin writes and check that the service accepted the delivery; PagerDuty and Opsgenie
# alerts are resolved or closed again at once. *_URI variables point a target at another region or at Jira Service
# Management's Opsgenie-compatible URL, or, to try the tests themselves, at the local receivers above.
Describe 'Send-OpsNotification against the real services' {
    BeforeAll {
        $realFile = Join-Path $dir 'real.ops.psd1'
        $uri = @{}
        foreach ($k in 'OPSTOOLS_REAL_SLACK_URI', 'OPSTOOLS_REAL_PD_URI', 'OPSTOOLS_REAL_OPSGENIE_URI') {
            $v = [Environment]::GetEnvironmentVariable($k)
            $uri[$k] = if ($v) { "; Uri = '$v'" } else { '' }
        }
        Set-Content -LiteralPath $realFile -Encoding utf8 -Value @"
@{
    Name = 'opstools-test'
    Notifications = @{
        StatePath = './state/real-notify.json'
        Targets = @(
            @{ Name = 'slack'; Service = 'Slack'; UrlVariable = 'OPSTOOLS_REAL_SLACK_WEBHOOK' }
            @{ Name = 'slack-bot'; Service = 'Slack'; KeyVariable = 'OPSTOOLS_REAL_SLACK_BOT'; Channel = '$env:OPSTOOLS_REAL_SLACK_CHANNEL'$($uri.OPSTOOLS_REAL_SLACK_URI) }
            @{ Name = 'teams'; Service = 'Teams'; UrlVariable = 'OPSTOOLS_REAL_TEAMS_FLOW' }
            @{ Name = 'pager'; Service = 'PagerDuty'; KeyVariable = 'OPSTOOLS_REAL_PD_KEY'$($uri.OPSTOOLS_REAL_PD_URI) }
            @{ Name = 'genie'; Service = 'Opsgenie'; KeyVariable = 'OPSTOOLS_REAL_OPSGENIE_KEY'$($uri.OPSTOOLS_REAL_OPSGENIE_URI) }
            @{ Name = 'hook'; Service = 'Webhook'; UrlVariable = 'OPSTOOLS_REAL_WEBHOOK_URL' }
        )
    }
}
"@
        $message = @{ Title = 'OpsTools delivery test'; Message = 'Sent by the OpsTools test suite (Notifications.Tests.ps1); nothing to do. Ünïcödé ✓'; Severity = 'Warning' }
        function Send-Real([string] $Target, [hashtable] $More = @{}) {
            Send-OpsNotification -Environment $realFile -Target $Target @message @More -Confirm:$false -ErrorAction Continue -ErrorVariable sendErrors
        }
    }

    It 'Slack accepts a message on its incoming webhook' -Skip:(-not $env:OPSTOOLS_REAL_SLACK_WEBHOOK) {
        $r = Send-Real slack
        $r.Status | Should -Be 'Accepted' -Because "$($r.Reason)"
    }
    It 'Slack accepts a message posted with a bot token into a channel' -Skip:(-not ($env:OPSTOOLS_REAL_SLACK_BOT -and $env:OPSTOOLS_REAL_SLACK_CHANNEL)) {
        $r = Send-Real slack-bot
        $r.Status | Should -Be 'Accepted' -Because "$($r.Reason)"
    }
    It 'a Teams Workflows flow accepts the adaptive card' -Skip:(-not $env:OPSTOOLS_REAL_TEAMS_FLOW) {
        $r = Send-Real teams
        $r.Status | Should -Be 'Accepted' -Because "$($r.Reason)"
    }
    It 'PagerDuty accepts a trigger and its resolve under one dedup key' -Skip:(-not $env:OPSTOOLS_REAL_PD_KEY) {
        $key = "opstools:test:$([guid]::NewGuid().ToString('N'))"
        $t = Send-Real pager @{ DedupKey = $key }
        $t.Status | Should -Be 'Accepted' -Because "$($t.Reason)"
        $t.DedupKey | Should -Be $key
        $r = Send-Real pager @{ DedupKey = $key; Resolve = $true }
        $r.Status | Should -Be 'Accepted' -Because "$($r.Reason)"
        $r.Action | Should -Be 'Resolve'
    }
    It 'Opsgenie accepts an alert and its close under one alias' -Skip:(-not $env:OPSTOOLS_REAL_OPSGENIE_KEY) {
        $key = "opstools:test:$([guid]::NewGuid().ToString('N'))"
        $t = Send-Real genie @{ DedupKey = $key }
        $t.Status | Should -Be 'Accepted' -Because "$($t.Reason)"
        $r = Send-Real genie @{ DedupKey = $key; Resolve = $true }
        $r.Status | Should -Be 'Accepted' -Because "$($r.Reason)"
    }
    It 'a JSON webhook accepts the default template' -Skip:(-not $env:OPSTOOLS_REAL_WEBHOOK_URL) {
        $r = Send-Real hook
        $r.Status | Should -Be 'Accepted' -Because "$($r.Reason)"
    }
}
