using System.Globalization;
using Docker.DotNet.Models;
using OpsTools.Docker;

namespace OpsTools.Engine.Docker;

/// <summary>Compose's labels, as docker compose (v1 and v2) writes them.</summary>
public static class ComposeLabels
{
    public const string Project = "com.docker.compose.project";
    public const string Service = "com.docker.compose.service";
    public const string Number = "com.docker.compose.container-number";
    public const string Oneoff = "com.docker.compose.oneoff";
}

/// <summary>Filters for listing containers (all optional).</summary>
public sealed class ContainerQuery
{
    public IReadOnlyList<string>? Names { get; init; }
    public string? ComposeProject { get; init; }
    public string? ComposeService { get; init; }
    /// <summary>running, exited, restarting, paused, created, dead.</summary>
    public string? State { get; init; }
    /// <summary>healthy, unhealthy, starting, none.</summary>
    public string? Health { get; init; }
    /// <summary>Include stopped containers (docker ps -a). Default: only running ones, unless a State other than running is asked for.</summary>
    public bool All { get; init; }
}

/// <summary>Reads containers into <see cref="ContainerInfo"/> objects (list, then inspect each for health, restarts and exit codes).</summary>
public static class DockerContainers
{
    public static async Task<IReadOnlyList<ContainerInfo>> ListAsync(DockerTarget target, ContainerQuery query, CancellationToken ct)
    {
        var filters = new Dictionary<string, IDictionary<string, bool>>();
        void Filter(string key, string value)
        {
            if (!filters.TryGetValue(key, out var set)) filters[key] = set = new Dictionary<string, bool>();
            set[value] = true;
        }
        if (query.ComposeProject is { Length: > 0 } p) Filter("label", $"{ComposeLabels.Project}={p}");
        if (query.ComposeService is { Length: > 0 } s) Filter("label", $"{ComposeLabels.Service}={s}");
        if (query.State is { Length: > 0 } st) Filter("status", st.ToLowerInvariant());
        if (query.Health is { Length: > 0 } h) Filter("health", h.ToLowerInvariant());
        var all = query.All || (query.State is { Length: > 0 } state && !state.Equals("running", StringComparison.OrdinalIgnoreCase));
        var list = await DockerErrors.CallAsync(target, "list containers", null,
            () => target.Client.Containers.ListContainersAsync(new ContainersListParameters { All = all, Filters = filters }, ct), ct).ConfigureAwait(false);
        var names = query.Names;
        var picked = list.Where(c => names is null || names.Count == 0 || names.Any(n => Matches(c, n))).ToList();
        var details = await Task.WhenAll(picked.Select(async c =>
        {
            try { return await InspectAsync(target, c.ID, ct).ConfigureAwait(false); }
            catch (OpsToolsException e) when (e.ErrorId == "DockerObjectNotFound") { return null; } // removed meanwhile
        })).ConfigureAwait(false);
        return details.Where(d => d is not null).Select(d => d!)
            .OrderBy(c => c.ComposeProject ?? "", StringComparer.Ordinal).ThenBy(c => c.ComposeService ?? "", StringComparer.Ordinal)
            .ThenBy(c => c.ComposeNumber ?? 0).ThenBy(c => c.Name, StringComparer.Ordinal).ToList();
    }

    private static bool Matches(ContainerListResponse c, string nameOrId)
    {
        var pattern = new System.Text.RegularExpressions.Regex(
            "^" + System.Text.RegularExpressions.Regex.Escape(nameOrId).Replace("\\*", ".*").Replace("\\?", ".") + "$",
            System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        return c.Names.Any(n => pattern.IsMatch(n.TrimStart('/'))) || c.ID.StartsWith(nameOrId, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>One container by name or id.</summary>
    public static async Task<ContainerInfo> InspectAsync(DockerTarget target, string nameOrId, CancellationToken ct)
    {
        var i = await DockerErrors.CallAsync(target, $"inspect container '{nameOrId}'", $"container '{nameOrId}'",
            () => target.Client.Containers.InspectContainerAsync(nameOrId, ct), ct).ConfigureAwait(false);
        return From(target, i);
    }

    public static ContainerInfo From(DockerTarget target, ContainerInspectResponse i)
    {
        var labels = i.Config?.Labels ?? new Dictionary<string, string>();
        var state = i.State;
        var started = Time(state?.StartedAt);
        var health = state?.Health;
        var lastLog = health?.Log?.LastOrDefault();
        var ports = new List<ContainerPort>();
        foreach (var (key, bindings) in i.NetworkSettings?.Ports ?? new Dictionary<string, IList<PortBinding>>())
        {
            var parts = key.Split('/');
            var privatePort = int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var pp) ? pp : 0;
            var protocol = parts.Length > 1 ? parts[1] : "tcp";
            if (bindings is null || bindings.Count == 0) ports.Add(new ContainerPort { PrivatePort = privatePort, Protocol = protocol });
            else
                foreach (var b in bindings)
                    ports.Add(new ContainerPort
                    {
                        PrivatePort = privatePort, Protocol = protocol, HostIp = b.HostIP,
                        HostPort = int.TryParse(b.HostPort, NumberStyles.Integer, CultureInfo.InvariantCulture, out var hp) ? hp : null,
                    });
        }
        var running = state?.Running == true;
        return new ContainerInfo
        {
            DockerHost = target.Endpoint.ToString(),
            Id = i.ID,
            Name = (i.Name ?? "").TrimStart('/'),
            ComposeProject = labels.TryGetValue(ComposeLabels.Project, out var p) ? p : null,
            ComposeService = labels.TryGetValue(ComposeLabels.Service, out var s) ? s : null,
            ComposeNumber = labels.TryGetValue(ComposeLabels.Number, out var n) && int.TryParse(n, NumberStyles.Integer, CultureInfo.InvariantCulture, out var num) ? num : null,
            Image = i.Config?.Image ?? i.Image ?? "",
            ImageId = i.Image,
            State = state?.Status ?? "",
            Status = StatusText(state, health?.Status),
            Health = string.IsNullOrEmpty(health?.Status) ? "none" : health!.Status,
            LastHealthOutput = lastLog?.Output?.Trim(),
            HealthFailingStreak = (int)(health?.FailingStreak ?? 0),
            RestartCount = i.RestartCount,
            ExitCode = running ? null : state?.ExitCode,
            OomKilled = state?.OOMKilled == true,
            Created = i.Created == default ? null : i.Created.ToUniversalTime(),
            StartedAt = started,
            FinishedAt = Time(state?.FinishedAt),
            Uptime = running && started is not null ? DateTime.UtcNow - started.Value : null,
            Ports = ports.OrderBy(x => x.PrivatePort).ToList(),
            Networks = (i.NetworkSettings?.Networks?.Keys ?? Enumerable.Empty<string>()).OrderBy(x => x, StringComparer.Ordinal).ToList(),
            Labels = new Dictionary<string, string>(labels),
            RestartPolicy = i.HostConfig?.RestartPolicy?.Name.ToString()?.ToLowerInvariant(),
            DockerId = target.Id,
        };
    }

    private static DateTime? Time(string? text) =>
        DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var t) && t.Year > 1 ? t : null;

    /// <summary>docker ps's STATUS column: "Up 5 minutes (healthy)", "Exited (1) 2 hours ago", "Restarting (1) 3 seconds ago".</summary>
    private static string StatusText(global::Docker.DotNet.Models.State? state, string? health)
    {
        if (state is null) return "";
        var now = DateTime.UtcNow;
        if (state.Restarting) return $"Restarting ({state.ExitCode}) {Ago(now - (Time(state.FinishedAt) ?? now))} ago";
        if (state.Running)
        {
            var up = $"Up {Ago(now - (Time(state.StartedAt) ?? now))}";
            if (state.Paused) up += " (Paused)";
            else if (!string.IsNullOrEmpty(health)) up += $" ({(health == "starting" ? "health: starting" : health)})";
            return up;
        }
        if (state.Status == "created") return "Created";
        var finished = Time(state.FinishedAt);
        return finished is null ? $"Exited ({state.ExitCode})" : $"Exited ({state.ExitCode}) {Ago(now - finished.Value)} ago";
    }

    private static string Ago(TimeSpan t) => t.TotalSeconds < 1 ? "Less than a second"
        : t.TotalSeconds < 60 ? $"{(int)t.TotalSeconds} seconds"
        : t.TotalMinutes < 60 ? $"{(int)t.TotalMinutes} minutes"
        : t.TotalHours < 48 ? $"{(int)t.TotalHours} hours"
        : $"{(int)t.TotalDays} days";
}
