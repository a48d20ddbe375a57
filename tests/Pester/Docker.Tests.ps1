# Docker and Compose as an admin runs them: on the real engine of the test suite, checked with the docker CLI.
BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestSupport.psm1') -Force
    Import-Module (Get-OpsModuleManifest) -Force
    $parts = Start-TestPart docker
    $docker = @{ DockerHost = $parts.docker.DockerHost }
    $project = Invoke-TestPart $parts 'docker.project shrimp'
    Invoke-TestPart $parts "docker.compose $project api 1 web" | Out-Null
    Invoke-TestPart $parts "docker.compose $project worker 1 base" | Out-Null
}

AfterAll { Stop-TestPart $parts }

Describe 'Containers' {
    It 'Get-Container reads like docker ps at 80 columns' {
        $text = Get-Container @docker -ComposeProject $project | Out-String -Width 80
        $text | Should -Match "${project}_api_1"
        $text | Should -Match "${project}_worker_1"
    }

    It 'Restart-Container -Wait restarts what the pipeline names, and docker sees the restart' {
        $started = docker -H $docker.DockerHost inspect -f '{{.State.StartedAt}}' "${project}_worker_1"
        Get-Container @docker -ComposeProject $project -ComposeService worker | Restart-Container -Wait | Out-Null
        docker -H $docker.DockerHost inspect -f '{{.State.StartedAt}}' "${project}_worker_1" | Should -Not -Be $started
    }

    It 'Stop-Container -WhatIf says what it would do and leaves the container running' {
        $r = Invoke-OpsPwsh -Command "Stop-Container -DockerHost '$($docker.DockerHost)' -Name '${project}_worker_1' -WhatIf"
        $r.ExitCode | Should -Be 0 -Because $r.StdErr
        $r.StdOut | Should -Match "What if: Performing the operation `"Stop"
        $r.StdOut | Should -Match "${project}_worker_1"
        docker -H $docker.DockerHost inspect -f '{{.State.Running}}' "${project}_worker_1" | Should -Be 'true'
    }

    It 'Get-ContainerHealth -FailOn Critical exits 1 from pwsh -Command when a container is unhealthy' {
        docker -H $docker.DockerHost exec "${project}_api_1" touch /tmp/unhealthy | Out-Null
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ((docker -H $docker.DockerHost inspect -f '{{.State.Health.Status}}' "${project}_api_1") -ne 'unhealthy' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep 1 }
        $r = Invoke-OpsPwsh -Command "Get-ContainerHealth -DockerHost '$($docker.DockerHost)' -ComposeProject $project -FailOn Critical; 'next'"
        $r.ExitCode | Should -Be 1 -Because ($r.StdErr + $r.StdOut)
        $r.StdOut | Should -Match 'unhealthy'
    }
}
