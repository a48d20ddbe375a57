using System.Diagnostics;
using OpsTools.Engine.Backup;
using OpsTools.Engine.Database;

namespace OpsTools.Engine.Tests.Backup;

/// <summary>The child-process rules of pg_dump/pg_restore with real processes: the whole tree dies at once on cancellation.</summary>
public sealed class PgToolProcessKillTests
{
    private static bool Alive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)] != 'Z';
        }
        catch (IOException) { return false; }
    }

    private static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline"); }
        catch (IOException) { return ""; } // ended meanwhile
    }

    [Fact]
    public async Task Cancelling_a_run_kills_the_child_and_its_children_within_a_fraction_of_a_second()
    {
        if (!OperatingSystem.IsLinux()) return;
        var marker = "opstools-kill-" + Guid.NewGuid().ToString("N")[..8];
        var psi = PgToolProcess.ToolStartInfo("/bin/sh", new[] { "-c", "sleep 300 & sleep 300 & wait", marker });
        using var cts = new CancellationTokenSource();
        var run = PgToolProcess.RunAsync(psi, null, null, cts.Token);
        List<int>? tree = null;
        for (var w = Stopwatch.StartNew(); w.Elapsed < TimeSpan.FromSeconds(20); await Task.Delay(20))
        {
            var shells = Process.GetProcessesByName("sh").Where(p => CommandLine(p.Id).Contains(marker, StringComparison.Ordinal)).ToList();
            if (shells.Count == 1 && PgToolProcess.Descendants(shells[0].Id) is { Count: 2 } d) { tree = d.Append(shells[0].Id).ToList(); break; }
        }
        Assert.NotNull(tree); // the shell and its two sleeps, found through /proc/<pid>/task/*/children
        var clock = Stopwatch.StartNew();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        var took = clock.Elapsed;
        for (var w = Stopwatch.StartNew(); tree.Any(Alive) && w.Elapsed < TimeSpan.FromSeconds(2);) await Task.Delay(10);
        Assert.DoesNotContain(tree, Alive);
        Assert.True(took < TimeSpan.FromSeconds(1), $"cancelling took {took.TotalMilliseconds:0} ms");
    }

    [Theory]
    [InlineData("app_restore_20261201T000000Z", "Restore", "app")]
    [InlineData("my_app_restore_20261201T000000Z", "Restore", "my_app")]
    [InlineData("opstools_drill_app_0123abcd", "Drill", "app")]
    [InlineData("app_pre_restore_20261201T000000Z", null, null)]
    [InlineData("app_restore_2026", null, null)]
    [InlineData("opstools_drill_app_0123abcz", null, null)]
    [InlineData("app", null, null)]
    public void Scratch_names_are_recognised_and_the_kept_previous_database_is_not_scratch(string name, string? kind, string? forDb)
    {
        var c = DbScratch.Classify(name);
        Assert.Equal(kind, c?.Kind);
        Assert.Equal(forDb, c?.For);
        if (kind == "Restore") Assert.Equal(new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc), c!.Value.Created);
    }

    [Fact]
    public void The_owner_application_name_carries_this_process_id_and_fits_PostgreSQLs_63_bytes()
    {
        var name = DbScratch.OwnerApplication(DatabaseRestorer.ApplicationName);
        Assert.Contains($"(pid {Environment.ProcessId}", name);
        Assert.True(name.Length <= 63);
    }
}
