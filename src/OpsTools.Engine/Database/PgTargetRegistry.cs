using System.Collections.Concurrent;

namespace OpsTools.Engine.Database;

/// <summary>
/// Lets objects flow down a pipeline without carrying a secret: a command that connected registers
/// its resolved target and stamps its results with the returned <c>ConnectionId</c>; a command further
/// down (Get-DbVacuumStatus | Invoke-DbVacuum) finds the same target, credentials included, by that id.
/// Ids live as long as the process; they mean nothing anywhere else.
/// </summary>
public static class PgTargetRegistry
{
    private static readonly ConcurrentDictionary<string, PgTarget> Targets = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<PgTarget, string> Ids = new();

    public static string Register(PgTarget target) =>
        Ids.GetOrAdd(target, t =>
        {
            var id = "pg-" + Guid.NewGuid().ToString("N")[..12];
            Targets[id] = t;
            return id;
        });

    public static PgTarget? Find(string? connectionId) =>
        connectionId is not null && Targets.TryGetValue(connectionId, out var t) ? t : null;
}
