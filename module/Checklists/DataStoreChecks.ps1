# Private: the daily checklist's Redis, queue and PgBouncer items (not exported).

function Get-OpsRedisCheck {
    # For an environment with a Redis section: Get-RedisHealth's checks (reachable, latency, memory against maxmemory,
    # fragmentation, evictions, hit rate, clients, persistence, replication, keys per database). A server that cannot be
    # reached is one Critical Reachable result (Get-RedisHealth's own verdict: the cache is down).
    param([Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment)
    Get-RedisHealth -Environment $OpsEnvironment -ErrorAction Stop
}

function Get-OpsQueueCheck {
    # For an environment with a Queues section: the size of every queue in one round trip (Get-QueueStatus). A Redis
    # that cannot be reached throws: the step becomes one Unknown result, never a silent pass.
    param([Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment)
    Get-QueueStatus -Environment $OpsEnvironment -ErrorAction Stop
}

function Get-OpsPgBouncerCheck {
    # For an environment with a PgBouncer section: every pool (Get-PgBouncerPool): waiting clients, the longest wait,
    # pools near their size. A console that cannot be reached or refuses the user throws: one Unknown result.
    param([Parameter(Mandatory)] [OpsTools.Configuration.OpsEnvironment] $OpsEnvironment)
    $pools = @(Get-PgBouncerPool -Environment $OpsEnvironment -ErrorAction Stop)
    if ($pools.Count -eq 0) {
        [OpsTools.CheckResult]@{
            Check = 'PgBouncerPool'; Area = 'PgBouncer'; Target = "$($OpsEnvironment.PgBouncer)"; Status = [OpsTools.CheckStatus]::Warning; Value = 0
            Message = 'PgBouncer answers but has no pool: is its [databases] section empty?'; Threshold = 'at least one pool'
        }
        return
    }
    $pools
}
