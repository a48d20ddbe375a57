function Invoke-FleetCheck {
    # Help: docs/Invoke-FleetCheck.md (turned into en-US/OpsTools-help.xml by the build, checked against this param block).
    # Rides on PowerShell remoting over SSH: New-PSSession -SSHConnection opens the sessions (in batches of -ThrottleLimit),
    # Invoke-Command -AsJob runs the script block on all of them (one child job per host, each timed on its own),
    # and everything a host cannot give becomes one Unknown result naming the reason.
    # .ExternalHelp OpsTools-help.xml
    [CmdletBinding(DefaultParameterSetName = 'HostName', SupportsShouldProcess, ConfirmImpact = 'Medium')]
    [OutputType([OpsTools.CheckResult])]
    param(
        [Parameter(Mandatory, Position = 0, ParameterSetName = 'HostName')]
        [ValidateNotNullOrEmpty()]
        [ArgumentCompleter([OpsTools.Commands.Fleet.SshHostCompleter])]
        [string[]] $HostName,

        [Parameter(Mandatory, ParameterSetName = 'SSHConnection')]
        [ValidateNotNullOrEmpty()]
        [hashtable[]] $SSHConnection,

        [Parameter(Mandatory, ParameterSetName = 'Session')]
        [ValidateNotNullOrEmpty()]
        [System.Management.Automation.Runspaces.PSSession[]] $Session,

        [Parameter(Mandatory, ParameterSetName = 'Environment')]
        [OpsTools.Commands.Configuration.EnvironmentTransformation()]
        [ArgumentCompleter([OpsTools.Commands.Configuration.EnvironmentFileCompleter])]
        [OpsTools.Configuration.OpsEnvironment] $Environment,

        [Parameter(Position = 1)]
        [ValidateNotNull()]
        [scriptblock] $ScriptBlock = { Invoke-DailyCheck },

        [object[]] $ArgumentList = @(),

        [Parameter(ParameterSetName = 'HostName')]
        [Parameter(ParameterSetName = 'Environment')]
        [ValidateNotNullOrEmpty()]
        [string] $UserName,

        [Parameter(ParameterSetName = 'HostName')]
        [Parameter(ParameterSetName = 'Environment')]
        [ValidateNotNullOrEmpty()]
        [string] $KeyFilePath,

        [Parameter(ParameterSetName = 'HostName')]
        [Parameter(ParameterSetName = 'Environment')]
        [ValidateRange(1, 65535)]
        [int] $Port,

        [Parameter(ParameterSetName = 'HostName')]
        [Parameter(ParameterSetName = 'Environment')]
        [hashtable] $SSHOption,

        [ValidateRange(1, 1024)]
        [int] $ThrottleLimit = 32,

        [ValidateRange(1, 86400)]
        [double] $TimeoutSec = 600,

        [ValidateRange(1, 600)]
        [double] $ConnectTimeoutSec = 15,

        [switch] $CopyModule,

        [ValidateSet('None', 'Warning', 'Critical')]
        [string] $FailOn = 'None'
    )

    $module = $MyInvocation.MyCommand.Module
    $version = $module.Version.ToString()
    $results = [System.Collections.Generic.List[OpsTools.CheckResult]]::new()
    $fleetName = if ($Environment) { $Environment.Name } else { 'fleet' }

    # Settings from the environment's Fleet section; parameters given on the command line win.
    if ($Environment) {
        $fleet = $Environment.Fleet
        if (-not $fleet -or $fleet.Hosts.Count -eq 0) {
            $PSCmdlet.ThrowTerminatingError([System.Management.Automation.ErrorRecord]::new(
                    [System.ArgumentException]::new("The environment '$($Environment.Name)' has no Fleet section with Hosts. Add Fleet = @{ Hosts = @('web1', 'web2') } to its file, or name the hosts with -HostName."),
                    'FleetHostsMissing', [System.Management.Automation.ErrorCategory]::InvalidArgument, $Environment.Name))
        }
        if (-not $PSBoundParameters.ContainsKey('UserName') -and $fleet.UserName) { $UserName = $fleet.UserName }
        if (-not $PSBoundParameters.ContainsKey('KeyFilePath') -and $fleet.KeyFilePath) { $KeyFilePath = $fleet.KeyFilePath }
        if (-not $PSBoundParameters.ContainsKey('Port') -and $fleet.Port) { $Port = $fleet.Port }
        if (-not $PSBoundParameters.ContainsKey('ThrottleLimit') -and $fleet.ThrottleLimit) { $ThrottleLimit = $fleet.ThrottleLimit }
        if (-not $PSBoundParameters.ContainsKey('TimeoutSec') -and $fleet.TimeoutSec) { $TimeoutSec = $fleet.TimeoutSec }
        $HostName = @($fleet.Hosts)
    }

    # One target per host: its name as results show it, and how to reach it.
    $targets = [System.Collections.Generic.List[object]]::new()
    if ($PSCmdlet.ParameterSetName -eq 'Session') {
        foreach ($s in $Session) {
            $targets.Add([pscustomobject]@{ Name = Get-OpsFleetSessionName $s; Ssh = $null; Session = $s; Own = $false; Reason = $null; Stage = 'Module' })
        }
    }
    else {
        $connections = if ($PSCmdlet.ParameterSetName -eq 'SSHConnection') { $SSHConnection } else {
            foreach ($h in $HostName) { ConvertTo-OpsFleetConnection -Text $h -UserName $UserName -KeyFilePath $KeyFilePath -Port $Port }
        }
        foreach ($c in $connections) {
            $ssh = Resolve-OpsFleetSshConnection -Connection $c -Option $SSHOption -SessionTimeoutSec $TimeoutSec
            $targets.Add([pscustomobject]@{ Name = Get-OpsFleetHostLabel $ssh; Ssh = $ssh; Session = $null; Own = $true; Reason = $null; Stage = 'Module' })
        }
    }

    $allowCopy = @{}
    if ($CopyModule) {
        foreach ($t in $targets) {
            $allowCopy[$t.Name] = $PSCmdlet.ShouldProcess($t.Name, "Copy OpsTools $version into the user module path, if the host has no OpsTools $version")
        }
    }

    $unknown = {
        # Stage: what could not be done (Connect, Session, Module, Command), the result's Target.
        param($Target, [string] $Stage, [string] $Reason)
        $r = [OpsTools.CheckResult]@{
            Check        = 'Fleet'
            Area         = 'Fleet'
            Target       = $Stage
            ComputerName = $Target.Name
            Status       = [OpsTools.CheckStatus]::Unknown
            Message      = $Reason
            Environment  = if ($Environment) { $Environment.Name } else { $null }
        }
        $results.Add($r)
        Write-OpsFleetResult $r
    }

    $job = $null
    # Every job started on the hosts (the OpsTools probe, the import, the script block): Ctrl+C stops all of them.
    $jobs = [System.Collections.Generic.List[object]]::new()
    try {
        # 1. Reachable at all? A TCP connect first gives "connection refused" or "no answer" instead of ssh's generic
        #    "transport process has abruptly terminated", and spares a pwsh start on hosts that are down.
        $pending = @($targets | Where-Object Ssh)
        $probes = foreach ($t in $pending) {
            $client = [System.Net.Sockets.TcpClient]::new()
            [pscustomobject]@{ Target = $t; Client = $client; Task = $client.ConnectAsync([string]$t.Ssh['HostName'], [int]$t.Ssh['Port']) }
        }
        if ($probes) {
            try { [void][System.Threading.Tasks.Task]::WaitAll([System.Threading.Tasks.Task[]]@($probes.Task), [TimeSpan]::FromSeconds($ConnectTimeoutSec)) }
            catch { Write-Verbose "Some hosts refused the connection; each is reported below. ($($_.Exception.Message))" }
            foreach ($p in $probes) {
                if ($p.Task.Status -ne 'RanToCompletion') {
                    $why = if ($p.Task.IsFaulted) { $p.Task.Exception.GetBaseException().Message } else { "no answer within $ConnectTimeoutSec s" }
                    $p.Target.Stage = 'Connect'; $p.Target.Reason = "Unreachable: cannot connect to $($p.Target.Ssh['HostName']) port $($p.Target.Ssh['Port']) ($why)."
                }
                $p.Client.Dispose()
            }
        }

        # 2. Sessions, opened in parallel by New-PSSession (key authentication, BatchMode: never a prompt).
        $open = @($targets | Where-Object { $_.Ssh -and -not $_.Reason })
        if ($open) {
            Write-Progress -Activity "Fleet check ($fleetName)" -Status "Connecting to $($open.Count) host(s)" -PercentComplete 0
            # New-PSSession -SSHConnection opens its list in parallel and has no -ThrottleLimit: batches of ThrottleLimit keep the limit.
            $sessions = [System.Collections.Generic.List[object]]::new()
            $openErrors = [System.Collections.Generic.List[object]]::new()
            for ($i = 0; $i -lt $open.Count; $i += $ThrottleLimit) {
                $batch = @($open[$i..([Math]::Min($open.Count, $i + $ThrottleLimit) - 1)] | ForEach-Object { ConvertTo-OpsFleetSessionOption $_.Ssh })
                foreach ($s in @(New-PSSession -SSHConnection $batch -ErrorAction SilentlyContinue -ErrorVariable batchErrors)) { $sessions.Add($s) }
                foreach ($e in $batchErrors) { $openErrors.Add($e) }
            }
            $byKey = @{}
            foreach ($s in $sessions) {
                $key = Get-OpsFleetSessionKey $s
                if (-not $byKey[$key]) { $byKey[$key] = [System.Collections.Generic.Queue[object]]::new() }
                $byKey[$key].Enqueue($s)
            }
            $failures = @{}
            foreach ($e in $openErrors) {
                $key = if ($e.TargetObject -is [System.Management.Automation.Runspaces.Runspace]) { Get-OpsFleetSessionKey $e.TargetObject } else { '' }
                if (-not $failures[$key]) { $failures[$key] = [System.Collections.Generic.Queue[string]]::new() }
                $failures[$key].Enqueue($e.Exception.Message)
            }
            foreach ($t in $open) {
                $key = Get-OpsFleetSessionKey $t.Ssh
                if ($byKey[$key] -and $byKey[$key].Count) { $t.Session = $byKey[$key].Dequeue() }
                else {
                    $why = if ($failures[$key] -and $failures[$key].Count) { $failures[$key].Dequeue() } else { 'the session did not open' }
                    $t.Stage = 'Session'; $t.Reason = "Cannot open a PowerShell session over SSH (is the powershell subsystem configured and the key authorized?): $why"
                }
            }
        }

        # 3. Which OpsTools each host has; the same version as here is imported, another one is a reason (or copied over).
        $ready = @($targets | Where-Object { $_.Session -and -not $_.Reason })
        if ($ready) {
            $probeJob = Invoke-Command -Session @($ready.Session) -ThrottleLimit $ThrottleLimit -AsJob -ScriptBlock {
                $userPath = if ($IsWindows) { Join-Path ([Environment]::GetFolderPath('MyDocuments')) 'PowerShell/Modules' }
                else { Join-Path ([Environment]::GetFolderPath('LocalApplicationData')) 'powershell/Modules' }
                [pscustomobject]@{
                    Versions  = @(Get-Module -ListAvailable -Name OpsTools | ForEach-Object { $_.Version.ToString() })
                    UserPath  = $userPath
                    PSVersion = $PSVersionTable.PSVersion.ToString()
                }
            }
            $jobs.Add($probeJob)
            $probed = Receive-OpsFleetJob -Job $probeJob -TimeoutSec ([Math]::Min($TimeoutSec, 60))
            foreach ($t in $ready) {
                $p = $probed[$t.Session.Runspace.InstanceId]
                if (-not $p -or $p.Reason) { $t.Reason = if ($p) { $p.Reason } else { 'The host did not answer.' }; continue }
                $info = $p.Output | Select-Object -First 1
                if (-not $info) { $t.Reason = 'The host did not say which OpsTools it has.'; continue }
                if ($info.Versions -contains $version) { continue }
                $has = if ($info.Versions) { "OpsTools $($info.Versions -join ', ')" } else { 'no OpsTools' }
                if ($allowCopy[$t.Name]) {
                    try {
                        $dest = Join-Path $info.UserPath 'OpsTools'
                        Invoke-Command -Session $t.Session -ScriptBlock { param($d) New-Item -ItemType Directory -Path $d -Force | Out-Null } -ArgumentList $dest -ErrorAction Stop
                        Copy-Item -LiteralPath $module.ModuleBase -Destination $dest -ToSession $t.Session -Recurse -Force -ErrorAction Stop -WhatIf:$false -Confirm:$false
                        Write-Verbose "$($t.Name): had $has; copied OpsTools $version to $dest."
                    }
                    catch { $t.Reason = "The host has $has and copying OpsTools $version failed: $($_.Exception.Message)" }
                }
                else {
                    $hint = if ($CopyModule) { '' } else { ' Install it there, or run with -CopyModule to copy this one.' }
                    $t.Reason = "The host has $has; this fleet run needs OpsTools $version (PowerShell $($info.PSVersion) there).$hint"
                }
            }
        }

        $ready = @($targets | Where-Object { $_.Session -and -not $_.Reason })
        if ($ready) {
            $importJob = Invoke-Command -Session @($ready.Session) -ThrottleLimit $ThrottleLimit -AsJob -ArgumentList $version -ScriptBlock {
                param($v) Import-Module OpsTools -RequiredVersion $v -ErrorAction Stop
            }
            $jobs.Add($importJob)
            $imported = Receive-OpsFleetJob -Job $importJob -TimeoutSec ([Math]::Min($TimeoutSec, 120))
            foreach ($t in $ready) {
                $i = $imported[$t.Session.Runspace.InstanceId]
                if (-not $i) { $t.Reason = 'The host did not answer.' }
                elseif ($i.Reason) { $t.Reason = $i.Reason }
                elseif ($i.Errors) { $t.Reason = "Import-Module OpsTools $version failed there: $($i.Errors[0])" }
            }
        }

        foreach ($t in $targets | Where-Object Reason) { & $unknown $t $t.Stage $t.Reason }

        # 4. The script block on every ready host at once (Invoke-Command's throttle), each host timed from its own start.
        $ready = @($targets | Where-Object { $_.Session -and -not $_.Reason })
        if ($ready) {
            $byRunspace = @{}
            foreach ($t in $ready) { $byRunspace[$t.Session.Runspace.InstanceId] = $t }
            # $using: in the script block: Invoke-Command looks the variables up where it is called (in this module), so
            # their values are read from the caller's scope here and set in a child scope around the call.
            $job = & {
                param($UsingValues, $Sessions)
                foreach ($k in $UsingValues.Keys) { Set-Variable -Name $k -Value $UsingValues[$k] }
                Invoke-Command -Session $Sessions -ScriptBlock $ScriptBlock -ArgumentList $ArgumentList -ThrottleLimit $ThrottleLimit -AsJob
            } (Get-OpsFleetUsingValue -ScriptBlock $ScriptBlock) @($ready.Session)
            $jobs.Add($job)
            # What a host gave so far: its results (typed again, with ComputerName), other output as it came, and each
            # error it wrote as an Unknown result.
            $drain = {
                param($Target, $Child)
                foreach ($o in @(Receive-Job -Job $Child -ErrorAction SilentlyContinue -ErrorVariable remoteErrors)) {
                    $value = [OpsTools.Commands.Fleet.RemoteResult]::FromRemote($o, $Target.Name)
                    if ($value -is [OpsTools.CheckResult]) { $results.Add($value); Write-OpsFleetResult $value } else { $value }
                }
                # Receive-Job repeats a failed job's terminating error on every call: each message once per host.
                if (-not $erred[$Child.InstanceId]) { $erred[$Child.InstanceId] = [System.Collections.Generic.HashSet[string]]::new() }
                foreach ($e in $remoteErrors) {
                    if ($erred[$Child.InstanceId].Add($e.Exception.Message)) { & $unknown $Target Command "Error on the host: $($e.Exception.Message)" }
                }
            }
            $done = @{}
            $erred = @{}
            while ($done.Count -lt $job.ChildJobs.Count) {
                foreach ($child in $job.ChildJobs) {
                    if ($done[$child.InstanceId]) { continue }
                    $t = $byRunspace[$child.Runspace.InstanceId]
                    & $drain $t $child
                    $state = $child.JobStateInfo.State
                    if ($state -eq 'Running' -and $child.PSBeginTime -and ([DateTime]::Now - $child.PSBeginTime).TotalSeconds -gt $TimeoutSec) {
                        $child.StopJob()
                        & $unknown $t Command "The command did not finish within $TimeoutSec s on the host; it was stopped there (results it gave before are kept)."
                    }
                    elseif ($state -notin 'Completed', 'Failed', 'Stopped') { continue }
                    & $drain $t $child
                    if ($state -eq 'Failed' -and $erred[$child.InstanceId].Count -eq 0) {
                        $why = if ($child.JobStateInfo.Reason) { $child.JobStateInfo.Reason.Message } else { 'the job failed' }
                        & $unknown $t Command "The remote command failed: $why"
                    }
                    $done[$child.InstanceId] = $true
                }
                Write-Progress -Activity "Fleet check ($fleetName)" -Status "$($done.Count) of $($job.ChildJobs.Count) host(s) done" `
                    -PercentComplete ([int](100 * $done.Count / [Math]::Max(1, $job.ChildJobs.Count)))
                if ($done.Count -lt $job.ChildJobs.Count) { Start-Sleep -Milliseconds 100 }
            }
        }
    }
    finally {
        # Ctrl+C lands here too: stop what still runs on every host, close the sessions this command opened (also under
        # -WhatIf, which governs only the module copy).
        Write-Progress -Activity "Fleet check ($fleetName)" -Completed
        # Stop-Job waits until each host's pipeline has stopped; only then are the sessions closed (a host whose
        # pipeline still runs would finish it before its pwsh exits).
        foreach ($j in $jobs) {
            if ($j.State -notin 'Completed', 'Failed', 'Stopped') { Stop-Job -Job $j -ErrorAction SilentlyContinue -WhatIf:$false -Confirm:$false }
            Remove-Job -Job $j -Force -ErrorAction SilentlyContinue -WhatIf:$false -Confirm:$false
        }
        $own = @($targets | Where-Object { $_.Own -and $_.Session })
        if ($own) { Remove-PSSession -Session @($own.Session) -ErrorAction SilentlyContinue -WhatIf:$false -Confirm:$false }
    }

    if ($FailOn -ne 'None') { $results | Assert-CheckResult -FailOn $FailOn -Activity 'Fleet check' -Target $fleetName -Quiet }
}

function Write-OpsFleetResult {
    # A result of a fleet run, tagged for the one-table fleet view (OpsTools.FleetResult); the object keeps its own type.
    param([Parameter(Mandatory)] [OpsTools.CheckResult] $Result)
    $wrapped = [System.Management.Automation.PSObject]::AsPSObject($Result)
    $wrapped.PSObject.TypeNames.Insert(0, 'OpsTools.FleetResult')
    $wrapped
}

function Receive-OpsFleetJob {
    # Waits for an Invoke-Command -AsJob (at most -TimeoutSec), then answers per session runspace id:
    # @{ Output; Errors; Reason } (Reason when the host failed or did not finish; those child jobs are stopped).
    # The job is removed with the others in Invoke-FleetCheck's finally.
    param([Parameter(Mandatory)] $Job, [Parameter(Mandatory)] [double] $TimeoutSec)
    $null = Wait-Job -Job $Job -Timeout ([int][Math]::Ceiling($TimeoutSec))
    $answers = @{}
    foreach ($child in $Job.ChildJobs) {
        $late = $child.JobStateInfo.State -notin 'Completed', 'Failed', 'Stopped'
        if ($late) { $child.StopJob() }
        $output = @(Receive-Job -Job $child -ErrorAction SilentlyContinue -ErrorVariable childErrors)
        $reason = if ($late) { "The host did not answer within $TimeoutSec s." }
        elseif ($child.JobStateInfo.State -eq 'Failed') { "The session broke: $(if ($child.JobStateInfo.Reason) { $child.JobStateInfo.Reason.Message } else { 'no reason given' })" }
        $answers[$child.Runspace.InstanceId] = [pscustomobject]@{ Output = $output; Errors = @($childErrors | ForEach-Object { $_.Exception.Message }); Reason = $reason }
    }
    $answers
}

function ConvertTo-OpsFleetConnection {
    # '[user@]host[:port]' (or '[user@][v6address]:port') plus the command's defaults, as a -SSHConnection hashtable.
    param([Parameter(Mandatory)] [string] $Text, [string] $UserName, [string] $KeyFilePath, [int] $Port)
    $m = [regex]::Match($Text, '^(?:(?<user>[^@]+)@)?(?:\[(?<host>[^\]]+)\]|(?<host>[^:]+))(?::(?<port>\d{1,5}))?$')
    if (-not $m.Success) {
        throw [System.ArgumentException]::new("'$Text' is not a host name: write host, user@host, host:port or user@host:port.")
    }
    $c = @{ HostName = $m.Groups['host'].Value }
    if ($m.Groups['user'].Success) { $c.UserName = $m.Groups['user'].Value } elseif ($UserName) { $c.UserName = $UserName }
    if ($m.Groups['port'].Success) { $c.Port = [int]$m.Groups['port'].Value } elseif ($Port) { $c.Port = $Port }
    if ($KeyFilePath) { $c.KeyFilePath = $KeyFilePath }
    $c
}

function Resolve-OpsFleetSshConnection {
    # A -SSHConnection hashtable as New-PSSession takes it: the caller's keys, port 22 when none is given, the session
    # timeout, and BatchMode=yes unless the caller says otherwise (a fleet run never stops at a password prompt).
    param([Parameter(Mandatory)] [hashtable] $Connection, [hashtable] $Option, [Parameter(Mandatory)] [double] $SessionTimeoutSec)
    $allowed = 'HostName', 'UserName', 'Port', 'KeyFilePath', 'Subsystem', 'Options', 'ConnectingTimeout'
    $unknownKeys = @($Connection.Keys | Where-Object { $_ -notin $allowed })
    if (-not $Connection['HostName']) { throw [System.ArgumentException]::new('Each -SSHConnection entry needs a HostName.') }
    if ($unknownKeys) { throw [System.ArgumentException]::new("-SSHConnection entry for '$($Connection['HostName'])' has unknown keys: $($unknownKeys -join ', '). Allowed: $($allowed -join ', ').") }
    $c = @{}
    foreach ($k in $Connection.Keys) { $c[$k] = $Connection[$k] }
    if (-not $c['Port']) { $c['Port'] = 22 }
    if ($c['KeyFilePath']) { $c['KeyFilePath'] = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($c['KeyFilePath']) }
    $options = @{ BatchMode = 'yes' }
    foreach ($source in $Option, $Connection['Options']) { if ($source) { foreach ($k in $source.Keys) { $options[$k] = [string]$source[$k] } } }
    $c['Options'] = $options
    # Opening the session includes starting pwsh on the host, which takes seconds on a busy host: it counts against the
    # host's -TimeoutSec, not the TCP connect's -ConnectTimeoutSec (a host that is down is already known by then).
    if (-not $c['ConnectingTimeout']) { $c['ConnectingTimeout'] = [int][Math]::Min([int]::MaxValue, $SessionTimeoutSec * 1000) }
    $c
}

function ConvertTo-OpsFleetSessionOption {
    # The hashtable New-PSSession -SSHConnection gets. Two quirks of PowerShell 7.6's parsing of these hashtables, seen
    # here: a Port key is sometimes overridden by 22 (it depends on the hashtable's key order), so the port goes into
    # HostName as host:port; and without ConnectingTimeout the connection times out after "0 seconds", so one is always set.
    param([Parameter(Mandatory)] [hashtable] $Ssh)
    $c = @{}
    foreach ($k in $Ssh.Keys) { if ($k -ne 'Port') { $c[$k] = $Ssh[$k] } }
    $hostPart = if ([string]$Ssh['HostName'] -match ':') { "[$($Ssh['HostName'])]" } else { $Ssh['HostName'] }
    $c['HostName'] = if ($Ssh['UserName']) { "$($Ssh['UserName'])@$($hostPart):$($Ssh['Port'])" } else { "$($hostPart):$($Ssh['Port'])" }
    $c.Remove('UserName')
    $c
}

function Get-OpsFleetHostLabel {
    # How results name a host: host, or host:port when the port is not 22.
    param([Parameter(Mandatory)] [hashtable] $Ssh)
    if ([int]$Ssh['Port'] -eq 22) { $Ssh['HostName'] } else { "$($Ssh['HostName']):$($Ssh['Port'])" }
}

function Get-OpsFleetSessionName {
    param([Parameter(Mandatory)] [System.Management.Automation.Runspaces.PSSession] $Session)
    $info = $Session.Runspace.ConnectionInfo
    $p = $info.PSObject.Properties['Port']
    if ($p -and $p.Value -and [int]$p.Value -ne 22) { "$($Session.ComputerName):$($p.Value)" } else { $Session.ComputerName }
}

function Get-OpsFleetSessionKey {
    # Matches a requested connection (hashtable) with the session (or failed runspace) New-PSSession made for it.
    param([Parameter(Mandatory)] $Item)
    if ($Item -is [hashtable]) { return "$($Item['HostName'])|$([int]$Item['Port'])".ToLowerInvariant() }
    $info = if ($Item -is [System.Management.Automation.Runspaces.PSSession]) { $Item.Runspace.ConnectionInfo } else { $Item.ConnectionInfo }
    "$($info.ComputerName)|$([int]$info.Port)".ToLowerInvariant()
}

function Get-OpsFleetUsingValue {
    # The values of the $using: variables of a script block, read from the scope it was written in (its own session
    # state: a caller's function scope, a script, the global scope). PowerShell offers no public way to read that
    # session state; where the internal one is not there, nothing is read and Invoke-Command resolves them itself.
    param([Parameter(Mandatory)] [scriptblock] $ScriptBlock)
    $values = @{}
    $usings = @($ScriptBlock.Ast.FindAll({ param($a) $a -is [System.Management.Automation.Language.UsingExpressionAst] }, $true))
    if ($usings.Count -eq 0) { return $values }
    $flags = [System.Reflection.BindingFlags]'NonPublic, Public, Instance'
    $state = $null
    try {
        $internal = [scriptblock].GetProperty('SessionStateInternal', $flags).GetValue($ScriptBlock)
        if ($internal) { $state = $internal.GetType().GetProperty('PublicSessionState', $flags).GetValue($internal) }
    }
    catch { Write-Verbose "Cannot read the caller's scope for `$using: ($($_.Exception.Message)); Invoke-Command resolves them." }
    if (-not $state) { return $values }
    foreach ($u in $usings) {
        $variable = [System.Management.Automation.Language.UsingExpressionAst]::ExtractUsingVariable($u)
        if (-not $variable) { continue }
        $name = $variable.VariablePath.UserPath -replace "^[a-zA-Z]+:", ""
        $found = $state.PSVariable.Get($name)
        if ($found) { $values[$name] = $found.Value }
    }
    $values
}
