using System.Globalization;
using Docker.DotNet.Models;
using OpsTools.Docker;

namespace OpsTools.Engine.Docker;

/// <summary>One Compose service as the engine has it: its containers (running or not), ordered by container number.</summary>
public sealed class ComposeServiceState
{
    public string Project { get; init; } = "";
    public string Service { get; init; } = "";
    public IReadOnlyList<ContainerInfo> Containers { get; init; } = Array.Empty<ContainerInfo>();
    /// <summary>Replicas as Compose counts them for scaling: the containers that are running (or restarting).</summary>
    public IReadOnlyList<ContainerInfo> Running => Containers.Where(c => c.State is "running" or "restarting").ToList();
    /// <summary>The highest-numbered running container: what new replicas are copied from.</summary>
    public ContainerInfo? Template => Running.OrderByDescending(c => c.ComposeNumber ?? 0).FirstOrDefault();
}

/// <summary>
/// Scales a Compose service the way docker compose does, without the compose file: up by cloning the configuration of
/// the service's highest-numbered running container (image, command, entrypoint, env, labels with the next
/// container number, exposed and published ports, restart policy, health check, binds and mounts, networks with their
/// aliases), named like the existing containers (v1 project_service_n or v2 project-service-n), and started; down by
/// stopping (gracefully, with a timeout) and removing the highest-numbered containers.
/// </summary>
public static class ComposeScaler
{
    public static async Task<ComposeServiceState> ReadAsync(DockerTarget target, string project, string service, CancellationToken ct)
    {
        var all = await DockerContainers.ListAsync(target, new ContainerQuery { ComposeProject = project, ComposeService = service, All = true }, ct).ConfigureAwait(false);
        var list = all.Where(c => !(c.Labels.TryGetValue(ComposeLabels.Oneoff, out var o) && o.Equals("True", StringComparison.OrdinalIgnoreCase))).ToList();
        return new ComposeServiceState { Project = project, Service = service, Containers = list };
    }

    /// <summary>The name of container number <paramref name="number"/>, in the naming the service's containers already use.</summary>
    public static string ContainerName(string project, string service, int number, IEnumerable<string> existingNames)
    {
        var v2 = existingNames.Any(n => n.StartsWith($"{project}-{service}-", StringComparison.Ordinal));
        return v2 ? $"{project}-{service}-{number}" : $"{project}_{service}_{number}";
    }

    /// <summary>The numbers new replicas get: the lowest numbers above every existing container's number (Compose never reuses a number in use).</summary>
    public static IReadOnlyList<int> NextNumbers(IEnumerable<int> used, int count)
    {
        var max = used.DefaultIfEmpty(0).Max();
        return Enumerable.Range(max + 1, count).ToList();
    }

    /// <summary>
    /// Creates and starts <paramref name="count"/> new replicas from the highest-numbered running container. Returns their names.
    /// Fixed host ports are refused before anything is created unless <paramref name="allowPortConflict"/> (then the new replicas
    /// publish those container ports on ephemeral host ports instead).
    /// </summary>
    public static async Task<IReadOnlyList<string>> ScaleUpAsync(DockerTarget target, ComposeServiceState state, int count, bool ephemeralForFixedPorts, Action<string>? log, CancellationToken ct)
    {
        var template = state.Template
            ?? throw new OpsToolsException("ComposeServiceNotFound", OpsErrorKind.NotFound,
                $"Compose service '{state.Service}' of project '{state.Project}' has no running container on {target.Describe()} to copy. Creating the first one needs the compose file: run 'docker compose up -d {state.Service}' first.", state.Service);
        var i = await DockerErrors.CallAsync(target, $"inspect container '{template.Name}'", $"container '{template.Name}'",
            () => target.Client.Containers.InspectContainerAsync(template.Id, ct), ct).ConfigureAwait(false);
        var numbers = NextNumbers(state.Containers.Select(c => c.ComposeNumber ?? 0), count);
        var created = new List<string>();
        foreach (var number in numbers)
        {
            var name = ContainerName(state.Project, state.Service, number, state.Containers.Select(c => c.Name));
            var p = Clone(i, name, number, ephemeralForFixedPorts);
            var networks = (i.NetworkSettings?.Networks ?? new Dictionary<string, EndpointSettings>()).ToList();
            var response = await DockerErrors.CallAsync(target, $"create container '{name}'", $"container '{name}'",
                () => target.Client.Containers.CreateContainerAsync(p, ct), ct).ConfigureAwait(false);
            created.Add(name);
            log?.Invoke($"created {name} ({response.ID[..12]}) from {template.Name}");
            // The first network is attached at create time (NetworkMode); the others like compose does, one by one.
            foreach (var (net, settings) in networks.Skip(1))
                await DockerErrors.CallAsync(target, $"connect container '{name}' to network '{net}'", $"network '{net}'",
                    () => target.Client.Networks.ConnectNetworkAsync(net, new NetworkConnectParameters
                    {
                        Container = response.ID, EndpointConfig = new EndpointSettings { Aliases = Aliases(settings, i) },
                    }, ct), ct).ConfigureAwait(false);
            await DockerErrors.CallAsync(target, $"start container '{name}'", $"container '{name}'",
                () => target.Client.Containers.StartContainerAsync(response.ID, new ContainerStartParameters(), ct), ct).ConfigureAwait(false);
        }
        return created;
    }

    /// <summary>Host ports the template binds to a fixed number (HostConfig.PortBindings with a HostPort): "8080/tcp" -> "80".</summary>
    public static async Task<IReadOnlyList<string>> FixedHostPortsAsync(DockerTarget target, ContainerInfo template, CancellationToken ct)
    {
        var i = await DockerErrors.CallAsync(target, $"inspect container '{template.Name}'", $"container '{template.Name}'",
            () => target.Client.Containers.InspectContainerAsync(template.Id, ct), ct).ConfigureAwait(false);
        return (i.HostConfig?.PortBindings ?? new Dictionary<string, IList<PortBinding>>())
            .SelectMany(kv => (kv.Value ?? new List<PortBinding>()).Where(b => !string.IsNullOrEmpty(b.HostPort) && b.HostPort != "0")
                .Select(b => $"{(string.IsNullOrEmpty(b.HostIP) ? "" : b.HostIP + ":")}{b.HostPort}->{kv.Key}"))
            .ToList();
    }

    private static IList<string> Aliases(EndpointSettings settings, ContainerInspectResponse i)
    {
        // The engine adds the container's short id as an alias on user networks; a copy must not carry the template's.
        var shortId = i.ID.Length >= 12 ? i.ID[..12] : i.ID;
        var list = (settings.Aliases ?? new List<string>()).Where(a => a != shortId && a != (i.Name ?? "").TrimStart('/')).ToList();
        return list;
    }

    private static CreateContainerParameters Clone(ContainerInspectResponse i, string name, int number, bool ephemeralForFixedPorts)
    {
        var c = i.Config!;
        var h = i.HostConfig ?? new HostConfig();
        var labels = new Dictionary<string, string>(c.Labels ?? new Dictionary<string, string>())
        {
            [ComposeLabels.Number] = number.ToString(CultureInfo.InvariantCulture),
        };
        var portBindings = new Dictionary<string, IList<PortBinding>>();
        foreach (var (port, bindings) in h.PortBindings ?? new Dictionary<string, IList<PortBinding>>())
            portBindings[port] = (bindings ?? new List<PortBinding>()).Select(b => new PortBinding
            {
                HostIP = b.HostIP,
                HostPort = ephemeralForFixedPorts ? "" : b.HostPort,
            }).ToList();
        var networks = (i.NetworkSettings?.Networks ?? new Dictionary<string, EndpointSettings>()).ToList();
        var networkMode = h.NetworkMode;
        NetworkingConfig? networking = null;
        if (networks.Count > 0 && !(networkMode is "host" or "none" || (networkMode ?? "").StartsWith("container:", StringComparison.Ordinal)))
        {
            var (first, settings) = networks[0];
            networkMode = first;
            networking = new NetworkingConfig
            {
                EndpointsConfig = new Dictionary<string, EndpointSettings> { [first] = new EndpointSettings { Aliases = Aliases(settings, i) } },
            };
        }
        return new CreateContainerParameters
        {
            Name = name,
            Image = c.Image,
            Cmd = c.Cmd,
            Entrypoint = c.Entrypoint,
            Env = c.Env,
            Labels = labels,
            ExposedPorts = c.ExposedPorts,
            Healthcheck = c.Healthcheck,
            WorkingDir = c.WorkingDir,
            User = c.User,
            StopSignal = c.StopSignal,
            StopTimeout = c.StopTimeout,
            Tty = c.Tty,
            OpenStdin = c.OpenStdin,
            Volumes = c.Volumes,
            // Hostname: not copied (it defaults to the template's id; a copy gets its own).
            HostConfig = new HostConfig
            {
                Binds = h.Binds,
                Mounts = h.Mounts,
                VolumeDriver = h.VolumeDriver,
                RestartPolicy = h.RestartPolicy,
                PortBindings = portBindings,
                NetworkMode = networkMode ?? "",
                Init = h.Init,
                Privileged = h.Privileged,
                CapAdd = h.CapAdd,
                CapDrop = h.CapDrop,
                ExtraHosts = h.ExtraHosts,
                DNS = h.DNS,
                LogConfig = h.LogConfig,
                Memory = h.Memory,
                NanoCPUs = h.NanoCPUs,
                Tmpfs = h.Tmpfs,
                ShmSize = h.ShmSize,
                SecurityOpt = h.SecurityOpt,
                Ulimits = h.Ulimits,
                ReadonlyRootfs = h.ReadonlyRootfs,
            },
            NetworkingConfig = networking,
        };
    }

    /// <summary>Stops (SIGTERM, then SIGKILL after <paramref name="timeoutSec"/>) and removes one container; one already gone counts as removed.</summary>
    public static async Task<bool> RemoveAsync(DockerTarget target, ContainerInfo c, int timeoutSec, CancellationToken ct)
    {
        try
        {
            await DockerErrors.CallAsync(target, $"stop container '{c.Name}'", $"container '{c.Name}'",
                () => target.Client.Containers.StopContainerAsync(c.Id, new ContainerStopParameters { WaitBeforeKillSeconds = (uint)timeoutSec }, ct), ct).ConfigureAwait(false);
            await DockerErrors.CallAsync(target, $"remove container '{c.Name}'", $"container '{c.Name}'",
                () => target.Client.Containers.RemoveContainerAsync(c.Id, new ContainerRemoveParameters { RemoveVolumes = false }, ct), ct).ConfigureAwait(false);
            return true;
        }
        catch (OpsToolsException e) when (e.ErrorId == "DockerObjectNotFound") { return false; }
    }

    /// <summary>Health and state of the named containers now: (name, state, health).</summary>
    public static async Task<IReadOnlyList<ContainerInfo>> ReadContainersAsync(DockerTarget target, IEnumerable<string> names, CancellationToken ct)
    {
        var list = new List<ContainerInfo>();
        foreach (var n in names)
        {
            try { list.Add(await DockerContainers.InspectAsync(target, n, ct).ConfigureAwait(false)); }
            catch (OpsToolsException e) when (e.ErrorId == "DockerObjectNotFound") { }
        }
        return list;
    }
}
