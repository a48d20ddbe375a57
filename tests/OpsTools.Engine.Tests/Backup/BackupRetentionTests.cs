using OpsTools.Backup;
using OpsTools.Engine.Backup;

namespace OpsTools.Engine.Tests.Backup;

/// <summary>The retention rules of Invoke-BackupRetention on synthetic store listings.</summary>
public sealed class BackupRetentionTests : IDisposable
{
    private static readonly DateTime Now = new(2026, 11, 24, 12, 0, 0, DateTimeKind.Utc);
    private readonly string _dir = Directory.CreateTempSubdirectory("opstools-retention-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static BackupInfo B(string name, double ageDays, BackupVerification v = BackupVerification.Unverified)
    {
        var end = Now - TimeSpan.FromDays(ageDays);
        return new BackupInfo { Id = $"{name}/{end:yyyyMMdd'T'HHmmssfff'Z'}", Name = name, EndTime = end, StartTime = end, Verification = v, Path = $"/s/{name}/{name}_{ageDays}.dump" };
    }

    private static Dictionary<string, RetentionDecision> ById(List<RetentionDecision> d) => d.ToDictionary(x => x.Id);

    [Fact]
    public void Days_only_removes_what_is_older_and_keeps_the_newest_verified_even_when_old()
    {
        var list = new[]
        {
            B("app", 1), B("app", 10, BackupVerification.Failed), B("app", 31), B("app", 40, BackupVerification.ChecksumVerified),
            B("app", 50, BackupVerification.RestoreVerified), B("app", 60),
        };
        var d = BackupRetention.Plan(list, 30, null, Now);
        Assert.Equal(new[] { "kept: within 30 days", "kept: within 30 days", "older than 30 days", "kept: newest verified backup of app", "older than 30 days", "older than 30 days" },
            d.Select(x => x.Reason));
        Assert.Equal(new[] { RetentionAction.Keep, RetentionAction.Keep, RetentionAction.Remove, RetentionAction.Keep, RetentionAction.Remove, RetentionAction.Remove },
            d.Select(x => x.Action));
    }

    [Fact]
    public void KeepLast_only_counts_real_backups_newest_first()
    {
        var list = new[] { B("app", 1), B("app", 2, BackupVerification.Incomplete), B("app", 3), B("app", 4, BackupVerification.ChecksumVerified), B("app", 5), B("app", 6) };
        var d = BackupRetention.Plan(list, null, 2, Now);
        Assert.Equal(new[] { RetentionAction.Keep, RetentionAction.Remove, RetentionAction.Keep, RetentionAction.Keep, RetentionAction.Remove, RetentionAction.Remove },
            d.Select(x => x.Action));
        Assert.Equal("kept: among the newest 2", d[2].Reason);
        Assert.Equal("kept: newest verified backup of app", d[3].Reason);
        Assert.Equal("beyond the newest 2", d[4].Reason);
        Assert.StartsWith("incomplete", d[1].Reason);
    }

    [Fact]
    public void Both_limits_remove_only_what_both_allow()
    {
        // 10 daily backups; keep 30 days OR newest 3: nothing goes. 40..49 days old: only beyond the newest 3 go.
        var young = Enumerable.Range(0, 10).Select(i => B("app", i + 0.5)).ToArray();
        Assert.All(BackupRetention.Plan(young, 30, 3, Now), x => Assert.Equal(RetentionAction.Keep, x.Action));
        var old = Enumerable.Range(40, 10).Select(i => B("app", i)).ToArray();
        var d = BackupRetention.Plan(old, 30, 3, Now);
        Assert.Equal(3, d.Count(x => x.Action == RetentionAction.Keep));
        Assert.Equal("kept: newest backup of app (none of its backups is verified)", d[0].Reason);
        Assert.Equal("kept: among the newest 3", d[1].Reason);
        Assert.Equal("older than 30 days and beyond the newest 3", d[3].Reason);
    }

    [Fact]
    public void Groups_are_independent_and_a_group_without_verified_backups_keeps_its_newest_usable_one()
    {
        var list = new[]
        {
            B("app", 45, BackupVerification.Failed), B("app", 50), B("app", 55, BackupVerification.ChecksumVerified),
            B("uploads", 35, BackupVerification.Failed), B("uploads", 36), B("uploads", 37),
            B("only_failed", 40, BackupVerification.Failed), B("only_failed", 41, BackupVerification.Failed),
        };
        var d = BackupRetention.Plan(list, 30, null, Now);
        var keep = d.Where(x => x.Action == RetentionAction.Keep).Select(x => (x.Name, x.Reason)).ToList();
        Assert.Equal(new[]
        {
            ("app", "kept: newest verified backup of app"),
            ("uploads", "kept: newest backup of uploads (none of its backups is verified)"),
            ("only_failed", "kept: newest backup of only_failed (none of its backups is verified)"),
        }, keep);
        Assert.Equal(list[2].Id, d.Single(x => x.Name == "app" && x.Action == RetentionAction.Keep).Id);
        Assert.Equal(list[4].Id, d.Single(x => x.Name == "uploads" && x.Action == RetentionAction.Keep).Id); // not the failed one
        Assert.Equal(list[6].Id, d.Single(x => x.Name == "only_failed" && x.Action == RetentionAction.Keep).Id);
    }

    [Fact]
    public void Incomplete_entries_go_when_older_than_the_retention_never_within_a_day()
    {
        var list = new[]
        {
            B("app", 0.5, BackupVerification.Incomplete), B("app", 5, BackupVerification.Incomplete), B("app", 31, BackupVerification.Incomplete), B("app", 2),
        };
        var d = BackupRetention.Plan(list, 30, null, Now);
        Assert.Equal(new[] { RetentionAction.Keep, RetentionAction.Keep, RetentionAction.Remove, RetentionAction.Keep }, d.Select(x => x.Action));
        // KeepLast only: incomplete entries older than one day go.
        d = BackupRetention.Plan(list, null, 5, Now);
        Assert.Equal(new[] { RetentionAction.Keep, RetentionAction.Remove, RetentionAction.Remove, RetentionAction.Keep }, d.Select(x => x.Action));
        Assert.Contains("older than 1 day", d[1].Reason);
    }

    [Fact]
    public void A_policy_is_required()
    {
        Assert.Throws<ArgumentException>(() => BackupRetention.Plan(Array.Empty<BackupInfo>(), null, null, Now));
        Assert.Empty(BackupRetention.Plan(Array.Empty<BackupInfo>(), 30, null, Now));
    }

    [Fact]
    public void Stale_partials_older_than_a_day_are_planned_for_removal_fresh_ones_not_reported()
    {
        var group = Directory.CreateDirectory(Path.Combine(_dir, "app")).FullName;
        var stale = Path.Combine(group, ".app_20261001T000000000Z.dump.partial");
        var fresh = Path.Combine(group, ".app_20261124T110000000Z.dump.partial");
        var staleDir = Directory.CreateDirectory(Path.Combine(group, ".app_20261002T000000000Z.dir.partial")).FullName;
        File.WriteAllText(Path.Combine(staleDir, "toc.dat"), "x");
        File.WriteAllText(stale, "half");
        File.WriteAllText(fresh, "half");
        var real = DateTime.UtcNow;
        File.SetLastWriteTimeUtc(stale, real.AddDays(-3));
        File.SetLastWriteTimeUtc(Path.Combine(staleDir, "toc.dat"), real.AddDays(-3));
        Directory.SetLastWriteTimeUtc(staleDir, real.AddDays(-3));
        var d = BackupRetention.PlanStalePartials(new BackupStore(_dir), real);
        Assert.Equal(new[] { staleDir, stale }.Order(), d.Select(x => x.Path).Order());
        Assert.All(d, x => Assert.Equal(RetentionAction.Remove, x.Action));
    }

    [Fact]
    public void Delete_removes_manifest_then_archive_and_refuses_paths_outside_the_store()
    {
        var group = Directory.CreateDirectory(Path.Combine(_dir, "app")).FullName;
        var dir = Directory.CreateDirectory(Path.Combine(group, "app_1.dir")).FullName;
        File.WriteAllText(Path.Combine(dir, "toc.dat"), "x");
        File.WriteAllText(dir + ".manifest.json", "{}");
        BackupRetention.Delete(_dir, dir, dir + ".manifest.json");
        Assert.False(Directory.Exists(dir));
        Assert.False(File.Exists(dir + ".manifest.json"));

        var outside = Path.Combine(_dir, "loose.dump");
        File.WriteAllText(outside, "x");
        var e = Assert.Throws<OpsToolsException>(() => BackupRetention.Delete(_dir, outside, null));
        Assert.Equal("BackupPathOutsideStore", e.ErrorId);
        Assert.True(File.Exists(outside));
        Assert.Throws<OpsToolsException>(() => BackupRetention.Delete(_dir, Path.Combine(group, "..", "..", "x", "y"), null));
    }
}
