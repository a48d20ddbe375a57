using System.Globalization;
using System.Text.Json.Nodes;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Backup;

/// <summary>
/// Invoke-BackupRetention and Remove-Backup on fake stores (small files and manifests written here, mirroring
/// BackupManifest's camelCase JSON as BackupFixtures does); no PostgreSQL needed.
/// </summary>
public sealed class RetentionTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("opstools-ret-").FullName;
    private readonly ModuleSession _s = new();
    private string Store => Path.Combine(_root, "store");
    private static string Q(string path) => "'" + path.Replace("'", "''") + "'";
    private static object? P(System.Management.Automation.PSObject o, string name) => RunResult.Prop(o, name);

    public void Dispose()
    {
        _s.Dispose();
        BackupFixtures.DeleteStore(_root);
    }

    /// <summary>An archive (file, or folder for "directory") and its manifest, ended <paramref name="ageDays"/> ago.</summary>
    private string Fake(string name, double ageDays, string verification, string format = "custom")
    {
        var end = DateTime.UtcNow - TimeSpan.FromDays(ageDays);
        var group = Directory.CreateDirectory(Path.Combine(Store, name)).FullName;
        var ext = format switch { "directory" => ".dir", "tar.gz" => ".tar.gz", _ => ".dump" };
        var archive = Path.Combine(group, $"{name}_{end.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}{ext}");
        if (format == "directory")
        {
            Directory.CreateDirectory(archive);
            File.WriteAllText(Path.Combine(archive, "toc.dat"), "toc " + ageDays);
            File.WriteAllText(Path.Combine(archive, "3001.dat.gz"), "data " + ageDays);
        }
        else File.WriteAllText(archive, "archive " + ageDays);
        var (sha, size) = BackupFixtures.Hash(archive);
        BackupFixtures.WriteManifest(archive + ".manifest.json", new JsonObject
        {
            ["manifestVersion"] = 1,
            ["kind"] = format == "tar.gz" ? "Directory" : "Database",
            ["name"] = name,
            ["archive"] = Path.GetFileName(archive),
            ["format"] = format,
            ["sizeBytes"] = size,
            ["sha256"] = sha,
            ["startTime"] = end.AddMinutes(-2),
            ["endTime"] = end,
            ["opsToolsVersion"] = "test-fixture",
            ["rowCounts"] = new JsonObject(),
            ["verification"] = verification,
            ["lastTestTime"] = verification is "Unverified" ? null : end.AddHours(1),
            ["lastTestMessage"] = null,
        });
        return archive;
    }

    private static string Leftover(string path, double ageDays)
    {
        File.WriteAllText(path, "half written");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow - TimeSpan.FromDays(ageDays));
        return path;
    }

    private sealed record Layout(string[] Gone, string[] Stay);

    /// <summary>Two groups, several ages and verification states, an orphan archive, a stale and a fresh .partial.</summary>
    private Layout MakeStore()
    {
        var app1 = Fake("app", 1, "Unverified");
        var app10 = Fake("app", 10, "Failed");
        var app40 = Fake("app", 40, "ChecksumVerified");    // newest verified: survives though older than 30 days
        var app45 = Fake("app", 45, "RestoreVerified");
        var app60 = Fake("app", 60, "Unverified", "directory");
        var up35 = Fake("uploads", 35, "Unverified", "tar.gz"); // newest of a group with nothing verified: survives
        var up50 = Fake("uploads", 50, "Unverified", "tar.gz");
        var orphan = Leftover(Path.Combine(Store, "app", "app_20200101T000000000Z.dump"), 40);
        var stale = Leftover(Path.Combine(Store, "app", ".app_20261001T000000000Z.dump.partial"), 3);
        var fresh = Leftover(Path.Combine(Store, "app", ".app_29991231T000000000Z.dump.partial"), 0);
        return new Layout(
            Gone: new[] { app45, app45 + ".manifest.json", app60, app60 + ".manifest.json", up50, up50 + ".manifest.json", orphan, stale },
            Stay: new[] { app1, app1 + ".manifest.json", app10, app10 + ".manifest.json", app40, app40 + ".manifest.json", up35, up35 + ".manifest.json", fresh });
    }

    private static bool Exists(string p) => File.Exists(p) || Directory.Exists(p);

    [Fact]
    public void WhatIf_lists_what_would_go_and_deletes_nothing()
    {
        var layout = MakeStore();
        var r = _s.Run($"Invoke-BackupRetention -Path {Q(Store)} -WhatIf");
        Assert.Empty(r.Errors);
        Assert.Null(r.Terminating);
        var remove = r.Output.Where(o => P(o, "Action")!.ToString() == "Remove").Select(o => (string)P(o, "Path")!).Order().ToArray();
        Assert.Equal(layout.Gone.Where(p => !p.EndsWith(".manifest.json")).Order().ToArray(), remove);
        Assert.All(layout.Gone.Concat(layout.Stay), p => Assert.True(Exists(p), p));
        Assert.All(r.Output, o => Assert.NotEqual("Removed", P(o, "Action")!.ToString()));
        Assert.Equal("OpsTools.Backup.RetentionDecision", r.Output[0].TypeNames[0]);
    }

    [Fact]
    public void The_real_run_removes_exactly_those_and_keeps_the_newest_verified()
    {
        var layout = MakeStore();
        var r = _s.Run($"Invoke-BackupRetention -Path {Q(Store)}");
        Assert.Empty(r.Errors);
        Assert.All(layout.Gone, p => Assert.False(Exists(p), p));
        Assert.All(layout.Stay, p => Assert.True(Exists(p), p));

        var byPath = r.Output.ToDictionary(o => (string)P(o, "Path")!);
        Assert.Equal(9, byPath.Count); // 7 backups, the orphan archive and the stale partial; the fresh partial is not reported
        Assert.Equal("kept: newest verified backup of app", P(byPath[layout.Stay[4]], "Reason"));
        Assert.Equal("kept: newest backup of uploads (none of its backups is verified)", P(byPath[layout.Stay[6]], "Reason"));
        Assert.Equal("kept: within 30 days", P(byPath[layout.Stay[0]], "Reason"));
        Assert.Equal("older than 30 days", P(byPath[layout.Gone[0]], "Reason"));
        Assert.All(layout.Gone.Where(p => !p.EndsWith(".manifest.json")), p => Assert.Equal("Removed", P(byPath[p], "Action")!.ToString()));
        Assert.Equal("Incomplete", P(byPath[layout.Gone[6]], "Verification")!.ToString());

        // A second run has nothing left to remove.
        var again = _s.Run($"Invoke-BackupRetention -Path {Q(Store)}");
        Assert.Empty(again.Errors);
        Assert.All(again.Output, o => Assert.Equal("Keep", P(o, "Action")!.ToString()));
    }

    [Fact]
    public void KeepLast_and_Name_narrow_the_run()
    {
        var layout = MakeStore();
        var r = _s.Run($"Invoke-BackupRetention -Path {Q(Store)} -KeepLast 4 -Name uploads");
        Assert.Empty(r.Errors);
        Assert.All(r.Output, o => Assert.Equal("uploads", P(o, "Name")));
        Assert.All(r.Output, o => Assert.Equal("Keep", P(o, "Action")!.ToString())); // only 2 backups: both within the newest 4
        Assert.All(layout.Gone.Concat(layout.Stay), p => Assert.True(Exists(p), p));
    }

    [Fact]
    public void The_environment_settings_apply()
    {
        var layout = MakeStore();
        var env = Path.Combine(_root, "prod.ops.psd1");
        File.WriteAllText(env, "@{ Name = 'prod'; Backup = @{ Path = 'store'; RetentionDays = 30; KeepLast = 4 } }");
        var r = _s.Run($"Invoke-BackupRetention -Environment {Q(env)}");
        Assert.Empty(r.Errors);
        // KeepLast 4 also keeps app's 45-day-old backup; the 60-day-old one is beyond the newest 4 and older than 30 days.
        Assert.True(Exists(layout.Gone[0]));
        Assert.False(Exists(layout.Gone[2]));
        Assert.Equal("older than 30 days and beyond the newest 4", P(r.Output.Single(o => (string)P(o, "Path")! == layout.Gone[2]), "Reason"));
        Assert.True(Exists(layout.Gone[4])); // uploads: 2 backups, within the newest 4
        Assert.False(Exists(layout.Gone[6])); // orphan
        Assert.False(Exists(layout.Gone[7])); // stale partial

        var none = _s.Run("Invoke-BackupRetention");
        Assert.Equal("BackupStoreMissing", Assert.Single(none.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void Remove_Backup_refuses_the_newest_verified_and_removes_the_rest()
    {
        var layout = MakeStore();
        var newestVerified = layout.Stay[4];

        var whatIf = _s.Run($"Get-Backup -Path {Q(Store)} -Database app | Remove-Backup -WhatIf");
        Assert.All(layout.Gone.Concat(layout.Stay), p => Assert.True(Exists(p), p));

        var r = _s.Run($"Get-Backup -Path {Q(Store)} -Database app | Remove-Backup -Force");
        var e = Assert.Single(r.Errors);
        Assert.Equal("BackupNewestVerifiedProtected", e.FullyQualifiedErrorId.Split(',')[0]);
        Assert.True(Exists(newestVerified));
        Assert.True(File.Exists(newestVerified + ".manifest.json"));
        foreach (var p in new[] { layout.Stay[0], layout.Stay[2], layout.Gone[0], layout.Gone[2] })
        {
            Assert.False(Exists(p), p);
            Assert.False(File.Exists(p + ".manifest.json"), p);
        }
        Assert.True(Exists(layout.Stay[6])); // other group untouched

        var byPath = _s.Run($"Remove-Backup -Path {Q(newestVerified + ".manifest.json")} -Force");
        Assert.Equal("BackupNewestVerifiedProtected", Assert.Single(byPath.Errors).FullyQualifiedErrorId.Split(',')[0]);
        var allowed = _s.Run($"Remove-Backup -Path {Q(newestVerified)} -Force -AllowNewestVerified");
        Assert.Empty(allowed.Errors);
        Assert.False(Exists(newestVerified));
        Assert.False(File.Exists(newestVerified + ".manifest.json"));

        var missing = _s.Run($"Remove-Backup -Path {Q(newestVerified)} -Force");
        Assert.Equal("BackupNotFound", Assert.Single(missing.Errors).FullyQualifiedErrorId.Split(',')[0]);
    }

    [Fact]
    public void A_manifest_dated_in_the_future_is_never_the_latest_nor_counted_toward_KeepLast()
    {
        var future = Fake("app", -365 * 70, "ChecksumVerified"); // 2096: a skewed clock or an edited manifest
        var recent = Fake("app", 1, "ChecksumVerified");
        var older = Fake("app", 5, "Unverified");

        var latest = _s.Run($"Get-Backup -Path {Q(Store)} -Latest");
        Assert.Equal(recent, (string)P(Assert.Single(latest.Output), "Path")!);

        var all = _s.Run($"Get-Backup -Path {Q(Store)} -IncludeIncomplete");
        var flagged = Assert.Single(all.Output, o => (string)P(o, "Path")! == future);
        Assert.Equal("Incomplete", P(flagged, "Verification")!.ToString());
        Assert.Contains("in the future", (string)P(flagged, "LastTestMessage")!);

        // KeepLast 1 keeps the real newest (and the newest verified, the same one); the future one is kept but not counted.
        var r = _s.Run($"Invoke-BackupRetention -Path {Q(Store)} -KeepLast 1 -WhatIf");
        string Action(string path) => P(Assert.Single(r.Output, o => (string)P(o, "Path")! == path), "Action")!.ToString()!;
        Assert.Equal("Keep", Action(recent));
        Assert.Equal("Remove", Action(older));
        Assert.Equal("Keep", Action(future));
        Assert.Contains("future", (string)P(Assert.Single(r.Output, o => (string)P(o, "Path")! == future), "Reason")!);
    }

    [Fact]
    public void An_archive_a_manifest_names_outside_the_store_is_never_listed()
    {
        var outside = Path.Combine(_root, "elsewhere.dump");
        File.WriteAllText(outside, "not in the store");
        var archive = Fake("app", 1, "ChecksumVerified");
        var manifest = archive + ".manifest.json";
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(manifest))!;
        json["archive"] = "../../elsewhere.dump";
        File.WriteAllText(manifest, json.ToJsonString());

        var r = _s.Run($"Get-Backup -Path {Q(Store)} -IncludeIncomplete");
        Assert.DoesNotContain(r.Output, o => ((string)P(o, "Path")!).Contains("elsewhere", StringComparison.Ordinal));
        var entry = Assert.Single(r.Output);
        Assert.Equal("Incomplete", P(entry, "Verification")!.ToString());
        Assert.Contains("outside", (string)P(entry, "LastTestMessage")!);
        Assert.Empty(_s.Run($"Get-Backup -Path {Q(Store)} -Latest").Output);
        Assert.True(File.Exists(outside));
    }
}
