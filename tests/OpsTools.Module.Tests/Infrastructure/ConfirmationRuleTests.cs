using System.Diagnostics;
using System.Globalization;
using System.Management.Automation;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;
using OpsTools.Module.Tests.Certificates;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Infrastructure;

/// <summary>
/// The confirmation rule (OpsCmdlet), for every exported command that declares SupportsShouldProcess: run against real
/// targets under <c>$WhatIfPreference = $true</c> with -Force (where it has one), and under -Confirm (with -Force too)
/// with a host that answers No, nothing changes, as another client sees it. The coverage test fails when a command
/// appears that has no case here.
/// </summary>
public static class ConfirmationRule
{
    public const string WhatIfPreference = "WhatIfPreference";
    public const string ConfirmNo = "ConfirmNo";

    /// <summary>Every (command, mode) pair of a case list.</summary>
    public static TheoryData<string, string> Cases(IEnumerable<string> commands)
    {
        var data = new TheoryData<string, string>();
        foreach (var c in commands)
        {
            data.Add(c, WhatIfPreference);
            data.Add(c, ConfirmNo);
        }
        return data;
    }

    /// <summary>
    /// Runs <paramref name="script"/> (its "@@" is where the command under test takes its switches) in the mode, and checks
    /// that <paramref name="state"/> reads the same afterwards and that the rule spoke: "What if:" or a prompt answered No.
    /// </summary>
    public static RunResult Check(ModuleSession s, string command, string mode, string script, Func<string> state)
    {
        var hasForce = (bool)s.Invoke($"(Get-Command {command}).Parameters.ContainsKey('Force')")[0].BaseObject;
        var before = state();
        Assert.False(string.IsNullOrWhiteSpace(before), "the state snapshot is empty: it would prove nothing");
        RunResult r;
        s.Host.ClearText();
        if (mode == WhatIfPreference)
        {
            r = s.Run("$WhatIfPreference = $true; " + script.Replace("@@", hasForce ? "-Force" : ""));
            Assert.Contains("What if:", s.Host.Text);
        }
        else
        {
            s.Host.AnswerNo = true;
            r = s.Run(script.Replace("@@", hasForce ? "-Force -Confirm" : "-Confirm"));
            Assert.NotEmpty(s.Host.Prompts); // -Confirm asks, -Force or not
        }
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors.Select(e => e.ToString()));
        Assert.Equal(before, state());
        return r;
    }

    /// <summary>Every file under the folders: relative path, size and SHA-256 (a manifest rewritten in place counts).</summary>
    public static string Files(params string[] roots)
    {
        var sb = new StringBuilder();
        foreach (var root in roots)
        {
            sb.Append("[").Append(root).Append("]\n");
            if (!Directory.Exists(root)) { sb.Append("(missing)\n"); continue; }
            foreach (var d in Directory.GetDirectories(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                sb.Append(Path.GetRelativePath(root, d)).Append("/\n");
            foreach (var f in Directory.GetFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                sb.Append(Path.GetRelativePath(root, f)).Append(' ').Append(new FileInfo(f).Length).Append(' ')
                  .Append(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))).Append('\n');
        }
        return sb.ToString();
    }

    public static string Q(string s) => "'" + s.Replace("'", "''") + "'";
}

/// <summary>Every exported SupportsShouldProcess command has a case in one of the classes below.</summary>
public sealed class ConfirmationRuleCoverageTests
{
    [Fact]
    public void Every_exported_command_that_supports_ShouldProcess_has_a_confirmation_case()
    {
        using var s = new ModuleSession();
        var declared = s.Invoke(
                "Get-Command -Module OpsTools | Where-Object { " +
                "  if ($_ -is [System.Management.Automation.CmdletInfo]) { @($_.ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $true))[0].SupportsShouldProcess } " +
                "  else { $_.CmdletBinding -and @($_.ScriptBlock.Attributes | Where-Object { $_ -is [System.Management.Automation.CmdletBindingAttribute] })[0].SupportsShouldProcess } " +
                "} | ForEach-Object Name")
            .Select(o => (string)o.BaseObject).Order(StringComparer.Ordinal).ToArray();
        // The attribute and what the engine made of it agree (-WhatIf and -Confirm exist exactly there).
        var withWhatIf = s.Invoke("Get-Command -Module OpsTools | Where-Object { $_.Parameters.ContainsKey('WhatIf') -and $_.Parameters.ContainsKey('Confirm') } | ForEach-Object Name")
            .Select(o => (string)o.BaseObject).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(declared, withWhatIf);
        Assert.True(declared.Length >= 30, $"only {declared.Length} commands found: is the module built?");

        var covered = ConfirmationRuleFileTests.Commands
            .Concat(ConfirmationRulePostgresTests.Commands)
            .Concat(ConfirmationRuleDockerTests.Commands)
            .Concat(ConfirmationRuleKubernetesTests.Commands)
            .Concat(ConfirmationRuleDataStoreTests.Commands)
            .Concat(ConfirmationRuleLogTests.Commands)
            .Concat(ConfirmationRuleMetricsTests.Commands)
            .Concat(ConfirmationRuleCertificateTests.Commands)
            .Concat(ConfirmationRuleCertManagerTests.Commands)
            .Concat(ConfirmationRuleIncidentTests.Commands)
            .Concat(OpsTools.Module.Tests.Notifications.ConfirmationRuleNotificationTests.Commands)
            .Concat(ConfirmationRuleFleetTests.Commands)
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        var missing = declared.Where(c => !covered.Contains(c)).ToArray();
        Assert.True(missing.Length == 0,
            $"SupportsShouldProcess commands without a confirmation case (add one to Infrastructure/ConfirmationRuleTests.cs): {string.Join(", ", missing)}");
        var stale = covered.Where(c => !declared.Contains(c, StringComparer.OrdinalIgnoreCase)).ToArray();
        Assert.True(stale.Length == 0, $"Cases for commands that are not exported or do not support ShouldProcess: {string.Join(", ", stale)}");
    }
}

/// <summary>The backup store and folders: files on disk. No server needed.</summary>
public sealed class ConfirmationRuleFileTests : IDisposable
{
    public static readonly string[] Commands = { "Backup-Directory", "Restore-Directory", "Remove-Backup", "Invoke-BackupRetention", "Export-OpsReport" };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    private readonly string _root = Directory.CreateTempSubdirectory("opstools-confirm-").FullName;
    private string Src => Path.Combine(_root, "src");
    private string Store => Path.Combine(_root, "store");
    private string Dest => Path.Combine(_root, "dest");
    private static string Q(string s) => ConfirmationRule.Q(s);

    public ConfirmationRuleFileTests()
    {
        Directory.CreateDirectory(Path.Combine(Src, "sub"));
        File.WriteAllText(Path.Combine(Src, "a.txt"), "alpha");
        File.WriteAllText(Path.Combine(Src, "sub", "b.txt"), "beta");
        Directory.CreateDirectory(Store);
        Directory.CreateDirectory(Dest);
        File.WriteAllText(Path.Combine(Dest, "current.txt"), "what is there now");
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private void Backup(ModuleSession s) =>
        Assert.Single(s.Invoke($"Backup-Directory -Path {Q(Src)} -Store {Q(Store)} -Name uploads"));

    /// <summary>Two folder backups of 'uploads' ended 40 and 45 days ago (manifests as Backup-Directory writes them): retention removes the older.</summary>
    private void OldBackups()
    {
        foreach (var age in new[] { 40, 45 })
        {
            var end = DateTime.UtcNow - TimeSpan.FromDays(age);
            var group = Directory.CreateDirectory(Path.Combine(Store, "uploads")).FullName;
            var archive = Path.Combine(group, $"uploads_{end.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}.tar.gz");
            File.WriteAllText(archive, "archive " + age);
            var (sha, size) = OpsTools.Module.Tests.Backup.BackupFixtures.Hash(archive);
            OpsTools.Module.Tests.Backup.BackupFixtures.WriteManifest(archive + ".manifest.json", new JsonObject
            {
                ["manifestVersion"] = 1, ["kind"] = "Directory", ["name"] = "uploads", ["archive"] = Path.GetFileName(archive),
                ["format"] = "tar.gz", ["sizeBytes"] = size, ["sha256"] = sha, ["startTime"] = end.AddMinutes(-2), ["endTime"] = end,
                ["opsToolsVersion"] = "test-fixture", ["rowCounts"] = new JsonObject(), ["verification"] = "RestoreVerified",
                ["lastTestTime"] = end.AddHours(1), ["lastTestMessage"] = null,
            });
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_changes_on_disk(string command, string mode)
    {
        using var s = new ModuleSession();
        Func<string> state = () => ConfirmationRule.Files(_root);
        string script;
        switch (command)
        {
            case "Backup-Directory":
                script = $"Backup-Directory -Path {Q(Src)} -Store {Q(Store)} -Name uploads @@";
                break;
            case "Restore-Directory":
                Backup(s);
                script = $"Get-Backup -Path {Q(Store)} -Name uploads -Latest | Restore-Directory -Destination {Q(Dest)} @@";
                break;
            case "Remove-Backup":
                Backup(s);
                script = $"Get-Backup -Path {Q(Store)} -Name uploads | Remove-Backup -AllowNewestVerified @@";
                break;
            case "Invoke-BackupRetention":
                OldBackups();
                script = $"Invoke-BackupRetention -Path {Q(Store)} @@";
                break;
            case "Export-OpsReport":
                script = "[OpsTools.CheckResult]@{ Check = 'Confirm'; Target = 't'; Status = 'Critical'; Message = 'm' } | " +
                         $"Export-OpsReport -Format Markdown -Path {Q(Path.Combine(_root, "report.md"))} @@";
                break;
            default:
                throw new InvalidOperationException($"No case for {command}.");
        }
        ConfirmationRule.Check(s, command, mode, script, state);
    }

    [Fact]
    public void WhatIf_false_given_explicitly_wins_over_WhatIfPreference_as_the_engine_decides_it()
    {
        using var s = new ModuleSession();
        Backup(s);
        var r = s.Run($"$WhatIfPreference = $true; Get-Backup -Path {Q(Store)} -Name uploads | Remove-Backup -AllowNewestVerified -Force -WhatIf:$false");
        Assert.Empty(r.Errors);
        Assert.DoesNotContain("What if:", s.Host.Text);
        Assert.Empty(Directory.GetFiles(Store, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public void Force_without_Confirm_does_not_ask_even_when_ConfirmPreference_is_Low()
    {
        using var s = new ModuleSession();
        Backup(s);
        s.Host.AnswerNo = true;
        var r = s.Run($"$ConfirmPreference = 'Low'; Get-Backup -Path {Q(Store)} -Name uploads | Remove-Backup -AllowNewestVerified -Force");
        Assert.Empty(r.Errors);
        Assert.Empty(s.Host.Prompts);
        Assert.Empty(Directory.GetFiles(Store, "*", SearchOption.AllDirectories));
    }
}

/// <summary>PostgreSQL (PgCluster): rows, relfilenodes, visibility, settings, sessions and database names, read with Npgsql.</summary>
[Collection("PostgreSQL")]
public sealed class ConfirmationRulePostgresTests(PgClusterFixture fixture) : IDisposable
{
    public static readonly string[] Commands =
    {
        "Backup-Database", "Restore-Backup", "Test-Backup", "Stop-DbConnection", "Set-DbSetting", "Invoke-DbVacuum", "Invoke-DbReindex",
        "Get-DbSlowQuery", "Invoke-WeeklyMaintenance", "Invoke-MonthlyReview", "Remove-DbScratchDatabase",
    };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    private PgCluster Pg => fixture.Cluster;
    private readonly string _root = Directory.CreateTempSubdirectory("opstools-confirm-pg-").FullName;
    private string Store => Path.Combine(_root, "store");
    private readonly List<string> _databases = new();
    private static string Q(string s) => ConfirmationRule.Q(s);

    public void Dispose()
    {
        foreach (var db in _databases) Pg.DropDatabase(db);
        try { Directory.Delete(_root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>A database with a table holding dead tuples (never vacuumed: autovacuum is off) and an index.</summary>
    private string NewDatabase()
    {
        var db = Pg.CreateDatabase("confirm");
        _databases.Add(db);
        Pg.Exec("""
            CREATE TABLE orders (id int PRIMARY KEY, note text);
            INSERT INTO orders SELECT g, repeat('x', 40) FROM generate_series(1, 20000) g;
            CREATE INDEX orders_note ON orders (note);
            ANALYZE orders;
            DELETE FROM orders WHERE id % 2 = 0;
            """, db);
        return db;
    }

    /// <summary>What a change to the database would move: rows, each relation's file node and visible pages, the database names.</summary>
    private string DbState(string db)
    {
        var sb = new StringBuilder();
        using (var c = Pg.Open(db))
        {
            using var cmd = new NpgsqlCommand(
                "SELECT (SELECT count(*) FROM orders)::text || ' ' || (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o) " +
                "UNION ALL SELECT relname || ' ' || relfilenode || ' ' || relallvisible FROM (SELECT relname, relfilenode, relallvisible FROM pg_class " +
                "WHERE relnamespace = 'public'::regnamespace ORDER BY relname) x", c);
            using var r = cmd.ExecuteReader();
            while (r.Read()) sb.Append(r.GetString(0)).Append('\n');
        }
        return sb + DatabaseNames();
    }

    private string DatabaseNames()
    {
        using var c = Pg.Open();
        using var cmd = new NpgsqlCommand("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database", c);
        return "databases: " + cmd.ExecuteScalar();
    }

    private string Setup(string db) => Pg.PowerShellSetup(db) + $"; $store = {Q(Store)}; ";

    private void BackupNow(ModuleSession s, string db)
    {
        var r = s.Run(Setup(db) + "Backup-Database @Pg -Path $store");
        Assert.Null(r.Terminating);
        Assert.Empty(r.Errors);
    }

    /// <summary>An environment file with the database (password from an environment variable the script sets) and the store.</summary>
    private (string Path, string Prefix) Environment(string db)
    {
        var variable = "OPSTOOLS_TEST_CONFIRM_PW";
        var path = System.IO.Path.Combine(_root, "confirm.ops.psd1");
        File.WriteAllText(path, $$"""
            @{
                Name      = 'confirm'
                Databases = @(
                    @{ Name = 'app'; Server = '{{Pg.Host}}'; Port = {{Pg.Port}}; Database = '{{db}}'; User = '{{Pg.User}}'; PasswordVariable = '{{variable}}' }
                )
                Backup    = @{ Path = '{{Store}}' }
            }
            """);
        return (path, $"$env:{variable} = '{Pg.Password}'; ");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_changes_in_the_database(string command, string mode)
    {
        var db = NewDatabase();
        Directory.CreateDirectory(Store);
        using var s = new ModuleSession();
        Func<string> state = () => DbState(db) + "\n" + ConfirmationRule.Files(Store);
        string script;
        NpgsqlConnection? held = null;
        try
        {
            switch (command)
            {
                case "Backup-Database":
                    script = Setup(db) + "Backup-Database @Pg -Path $store @@";
                    break;
                case "Restore-Backup":
                    BackupNow(s, db);
                    Pg.Exec("DELETE FROM orders WHERE id < 100", db); // the backup differs from the database now
                    script = Setup("postgres") + $"Get-Backup -Path $store -Latest | Restore-Backup @Pg -Target {Q(db)} @@";
                    break;
                case "Test-Backup":
                    BackupNow(s, db);
                    script = Setup("postgres") + "Get-Backup -Path $store -Latest | Test-Backup @Pg @@";
                    break;
                case "Stop-DbConnection":
                    held = Pg.Open(db);
                    var pid = held.ProcessID;
                    var inner = state;
                    state = () => inner() + $"\npid {pid}: " + Pg.Scalar<long>($"SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}");
                    script = Setup(db) + $"Stop-DbConnection @Pg -Pid {pid} @@";
                    break;
                case "Set-DbSetting":
                    state = () => DbState(db) + "\n" + Pg.Scalar<string>("SELECT setting FROM pg_settings WHERE name = 'log_min_duration_statement'") +
                                  "\n" + Pg.Scalar<string>("SELECT pg_read_file('postgresql.auto.conf')");
                    script = Setup(db) + "Set-DbSetting @Pg log_min_duration_statement 4321 -Reload @@";
                    break;
                case "Invoke-DbVacuum":
                    script = Setup(db) + "Get-DbVacuumStatus @Pg | Invoke-DbVacuum -Full -Analyze @@";
                    break;
                case "Invoke-DbReindex":
                    script = Setup(db) + "Invoke-DbReindex @Pg -Table orders -NoConcurrently @@";
                    break;
                case "Get-DbSlowQuery":
                    Pg.Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db);
                    Pg.Exec("SELECT count(*) FROM orders WHERE note = 'confirm-marker'", db);
                    state = () => DbState(db) + "\nstatements: " + Pg.Scalar<long>(
                        "SELECT count(*) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid " +
                        $"WHERE d.datname = '{db}' AND s.query LIKE 'SELECT count(*) FROM orders WHERE note = %'", db);
                    Assert.EndsWith("statements: 1", state()); // the entry a reset would remove is there
                    script = Setup(db) + "Get-DbSlowQuery @Pg -Reset @@ | Out-Null";
                    break;
                case "Invoke-WeeklyMaintenance":
                {
                    var (path, pw) = Environment(db);
                    script = pw + $"Invoke-WeeklyMaintenance -Environment {Q(path)} -Skip SlowQueries, TableSizes, IndexAdvice @@ | Out-Null";
                    break;
                }
                case "Invoke-MonthlyReview":
                {
                    BackupNow(s, db);
                    var (path, pw) = Environment(db);
                    script = pw + $"Invoke-MonthlyReview -Environment {Q(path)} @@ | Out-Null";
                    break;
                }
                case "Remove-DbScratchDatabase":
                {
                    // An orphan: a restore database nobody owns (no advisory lock) and nobody is connected to.
                    var orphan = db + "_restore_20261201T000000Z";
                    Pg.Exec($"CREATE DATABASE \"{orphan}\"");
                    _databases.Add(orphan);
                    Assert.Contains(orphan, DatabaseNames());
                    script = Setup(db) + $"Remove-DbScratchDatabase @Pg -Name {Q(orphan)} @@";
                    break;
                }
                default:
                    throw new InvalidOperationException($"No case for {command}.");
            }
            ConfirmationRule.Check(s, command, mode, script, state);
            if (held is not null)
            {
                using var alive = new NpgsqlCommand("SELECT 1", held);
                Assert.Equal(1, alive.ExecuteScalar());
            }
        }
        finally
        {
            held?.Dispose();
        }
    }
}

/// <summary>Docker (DockerEngine): containers, their state and start times, and images, read with the docker CLI.</summary>
[Collection("Docker")]
public sealed class ConfirmationRuleDockerTests(DockerEngineFixture fixture) : IDisposable
{
    public static readonly string[] Commands = { "Start-Container", "Stop-Container", "Restart-Container", "Remove-UnusedImage", "Set-ReplicaCount" };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    private readonly DockerEngine _d = fixture.Engine;
    private readonly string _project = fixture.Engine.NewProject("confirm");
    private readonly string _id = Guid.NewGuid().ToString("N")[..8];

    public void Dispose()
    {
        _d.RemoveTestContainers(_project);
        foreach (var i in _d.Docker("images", "-aq", "--filter", $"label=opstools.confirm={_id}").Split('\n', StringSplitOptions.RemoveEmptyEntries).Distinct())
            try { _d.Docker("rmi", "-f", i); } catch (InvalidOperationException) { }
    }

    /// <summary>The project's containers as docker ps and inspect show them: name, id, state, start time.</summary>
    private string Containers() =>
        _d.Docker("ps", "-a", "--no-trunc", "--filter", $"label=com.docker.compose.project={_project}", "--format", "{{.Names}} {{.ID}} {{.State}}")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)
            .Select(line => line + " " + _d.Inspect(line.Split(' ')[0], "{{.State.StartedAt}} {{.State.FinishedAt}}"))
            .Aggregate("", (a, b) => a + b + "\n");

    private string Images() =>
        // Sorted: docker lists images by creation time, and the LABEL and RUN layers of one build share a second, so their order
        // is not stable between two listings.
        "images: " + string.Join(",", _d.Docker("images", "-aq", "--no-trunc", "--filter", $"label=opstools.confirm={_id}")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal));

    /// <summary>An image no container uses, labelled for this test only (docker build, legacy builder).</summary>
    private void UnusedImage()
    {
        var dir = Directory.CreateTempSubdirectory("opstools-confirm-img-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "Dockerfile"), $"FROM {DockerEngine.BaseImage}\nLABEL opstools.confirm={_id}\nRUN echo {_id} > /stamp\n");
            var psi = new ProcessStartInfo(DockerEngine.Cli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.Environment["DOCKER_BUILDKIT"] = "0";
            foreach (var a in new[] { "-H", _d.Host, "build", "-q", "-t", $"opstools-confirm-{_id}:1", dir }) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            p.StandardOutput.ReadToEnd();
            p.WaitForExit(120_000);
            if (p.ExitCode != 0) throw new InvalidOperationException("docker build failed: " + stderr.Result);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_changes_on_the_engine(string command, string mode)
    {
        using var s = new ModuleSession();
        var setup = _d.PowerShellSetup() + "; ";
        var name = $"{_project}_api_1";
        string script;
        Func<string> state = () => Containers() + Images();
        switch (command)
        {
            case "Start-Container":
                _d.RunComposeContainer(_project, "api", 1);
                _d.Docker("stop", "-t", "1", name);
                script = setup + $"Start-Container @Docker {name} @@";
                break;
            case "Stop-Container":
                _d.RunComposeContainer(_project, "api", 1);
                script = setup + $"Stop-Container @Docker {name} @@";
                break;
            case "Restart-Container":
                _d.RunComposeContainer(_project, "api", 1);
                script = setup + $"Restart-Container @Docker {name} @@";
                break;
            case "Remove-UnusedImage":
                UnusedImage();
                script = setup + $"Remove-UnusedImage @Docker -All -Filter 'opstools.confirm={_id}' @@ | Out-Null";
                break;
            case "Set-ReplicaCount":
                _d.RunComposeContainer(_project, "api", 1);
                script = setup + $"Set-ReplicaCount @Docker -ComposeProject {_project} -Service api -Replicas 0 @@";
                break;
            default:
                throw new InvalidOperationException($"No case for {command}.");
        }
        var r = ConfirmationRule.Check(s, command, mode, script, state);
        Assert.Empty(r.Output.Where(o => o.BaseObject is not string));
    }
}

/// <summary>Kubernetes (KubeCluster): specs, generations, annotations, secrets and autoscalers, read with plain REST calls.</summary>
[Collection("Kubernetes")]
public sealed class ConfirmationRuleKubernetesTests : IDisposable
{
    public static readonly string[] Commands =
    {
        "Set-ReplicaCount", "Restart-Deployment", "Set-DeploymentImage", "Set-DeploymentResource", "Set-DeploymentAnnotation",
        "Set-DeploymentEnv", "Suspend-Rollout", "Resume-Rollout", "Set-Autoscaler", "Undo-Rollout", "Update-Secret", "New-CheckCronJob",
    };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    private readonly KubeCluster _k;
    private readonly string _ns;

    public ConfirmationRuleKubernetesTests(KubeClusterFixture fixture)
    {
        _k = fixture.Cluster;
        _ns = _k.CreateNamespace("confirm");
    }

    public void Dispose() => _k.DeleteNamespace(_ns);

    /// <summary>What a change would move (status aside, which the controllers keep writing).</summary>
    private string State()
    {
        var d = _k.GetDeployment(_ns, "web");
        var sb = new StringBuilder();
        sb.Append("generation ").Append(d["metadata"]!["generation"]).Append('\n')
          .Append("annotations ").Append(d["metadata"]!["annotations"]?.ToJsonString()).Append('\n')
          .Append("labels ").Append(d["metadata"]!["labels"]?.ToJsonString()).Append('\n')
          .Append("spec ").Append(d["spec"]!.ToJsonString()).Append('\n');
        var secret = _k.Api.TryGet($"/api/v1/namespaces/{_ns}/secrets/web-secret");
        sb.Append("secret ").Append(secret?["metadata"]!["resourceVersion"]).Append(' ').Append(secret?["data"]?.ToJsonString()).Append('\n');
        var hpa = _k.Api.TryGet($"/apis/autoscaling/v1/namespaces/{_ns}/horizontalpodautoscalers/web-hpa");
        sb.Append("hpa ").Append(hpa?["spec"]?.ToJsonString()).Append('\n');
        foreach (var path in new[] { $"/apis/batch/v1beta1/namespaces/{_ns}/cronjobs/opstools-confirm-daily", $"/api/v1/namespaces/{_ns}/configmaps/opstools-confirm-daily",
                     $"/api/v1/namespaces/{_ns}/serviceaccounts/opstools-confirm-daily", $"/apis/rbac.authorization.k8s.io/v1/namespaces/{_ns}/roles/opstools-confirm-daily" })
            sb.Append(path).Append(' ').Append(_k.Api.TryGet(path)?["metadata"]?["resourceVersion"]).Append('\n');
        return sb.ToString();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_changes_in_the_cluster(string command, string mode)
    {
        _k.CreateDeployment(_ns, KubeCluster.NewDeployment("web", 1));
        _k.WaitForDeployment(_ns, "web");
        using var s = new ModuleSession();
        var setup = _k.PowerShellSetup(_ns) + "; ";
        string script;
        switch (command)
        {
            case "Set-ReplicaCount": script = setup + "Set-ReplicaCount @Kube web 0 @@"; break;
            case "Restart-Deployment": script = setup + "Restart-Deployment @Kube web @@"; break;
            case "Set-DeploymentImage": script = setup + "Set-DeploymentImage @Kube web busybox:1.35 @@"; break;
            case "Set-DeploymentResource": script = setup + "Set-DeploymentResource @Kube web -MemoryLimit 1Gi @@"; break;
            case "Set-DeploymentAnnotation": script = setup + "Set-DeploymentAnnotation @Kube web -Annotation @{ 'ops.example.com/confirm' = 'x' } @@"; break;
            case "Set-DeploymentEnv": script = setup + "Set-DeploymentEnv @Kube web -Env @{ CONFIRM = 'x' } @@"; break;
            case "Suspend-Rollout": script = setup + "Suspend-Rollout @Kube web @@"; break;
            case "Resume-Rollout":
                _k.Api.Patch($"/apis/apps/v1/namespaces/{_ns}/deployments/web", new { spec = new { paused = true } });
                script = setup + "Resume-Rollout @Kube web @@";
                break;
            case "Set-Autoscaler":
                _k.Api.Post($"/apis/autoscaling/v1/namespaces/{_ns}/horizontalpodautoscalers", new
                {
                    metadata = new { name = "web-hpa" },
                    spec = new { scaleTargetRef = new { apiVersion = "apps/v1", kind = "Deployment", name = "web" }, minReplicas = 1, maxReplicas = 4, targetCPUUtilizationPercentage = 80 },
                });
                script = setup + "Set-Autoscaler @Kube web-hpa -MaxReplicas 8 @@";
                break;
            case "Undo-Rollout":
                _k.Api.StrategicPatch($"/apis/apps/v1/namespaces/{_ns}/deployments/web",
                    new { spec = new { template = new { spec = new { containers = new[] { new { name = "web", image = "busybox:1.35" } } } } } });
                _k.WaitForDeployment(_ns, "web");
                KubeCluster.WaitFor(() => (string?)_k.GetDeployment(_ns, "web")["metadata"]!["annotations"]?["deployment.kubernetes.io/revision"] == "2",
                    TimeSpan.FromSeconds(30), "revision 2");
                script = setup + "Undo-Rollout @Kube web @@";
                break;
            case "Update-Secret":
                _k.Api.Post($"/api/v1/namespaces/{_ns}/secrets", new
                {
                    metadata = new { name = "web-secret" }, type = "Opaque",
                    data = new Dictionary<string, string> { ["jwt-secret"] = Convert.ToBase64String(Encoding.UTF8.GetBytes("before")) },
                });
                script = setup + "Update-Secret @Kube -Name web-secret -Generate jwt-secret -NoRestart @@";
                break;
            case "New-CheckCronJob":
            {
                var env = Path.Combine(_k.WorkDirectory, $"confirm-{_ns}.ops.psd1");
                File.WriteAllText(env, $"@{{ Name = 'confirm'; Kubernetes = @{{ Namespace = '{_ns}' }} }}");
                script = setup + $"New-CheckCronJob @Kube -Environment '{env}' -Image opstools:test -Apply @@ | Out-Null";
                break;
            }
            default:
                throw new InvalidOperationException($"No case for {command}.");
        }
        ConfirmationRule.Check(s, command, mode, script, State);
    }
}

/// <summary>Redis (RedisServer, keys read with redis-cli) and PgBouncer (in front of PgCluster, its admin console read with psql).</summary>
[Collection("PostgreSQL")]
public sealed class ConfirmationRuleDataStoreTests(PgClusterFixture fixture)
{
    public static readonly string[] Commands = { "Clear-RedisCache", "Invoke-PgBouncerCommand" };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    /// <summary>Every key with its type and value digest, and DBSIZE, as redis-cli sees them.</summary>
    private static string Keys(RedisServer r) =>
        "dbsize " + r.Cli("DBSIZE").Trim() + "\n" +
        string.Join("\n", r.Cli("--scan").Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)
            .Select(k => k + " " + r.Cli("TYPE", k).Trim() + " " + r.Cli("DUMP", k).Length));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_changes_in_the_store(string command, string mode)
    {
        using var s = new ModuleSession();
        switch (command)
        {
            case "Clear-RedisCache":
            {
                using var redis = RedisServer.Start();
                redis.CliWithInput(string.Join("\n", Enumerable.Range(1, 50).Select(i => $"SET session:{i} value{i}").Append("RPUSH jobs a b c")) + "\n");
                Assert.Equal("51", redis.Cli("DBSIZE").Trim());
                s.Invoke(redis.PowerShellSetup());
                ConfirmationRule.Check(s, command, mode, "Clear-RedisCache @Redis @@ | Out-Null", () => Keys(redis));
                break;
            }
            case "Invoke-PgBouncerCommand":
            {
                using var bouncer = TestKit.PgBouncer.Start(fixture.Cluster);
                s.Invoke($"$Bouncer = @{{ Server = '127.0.0.1'; Port = {bouncer.Port}; Credential = [pscredential]::new('{bouncer.AdminUser}', " +
                         $"[System.Net.NetworkCredential]::new('', '{bouncer.AdminPassword}').SecurePassword); TimeoutSec = 10 }}");
                // SHOW DATABASES has the paused and disabled columns PAUSE/DISABLE would set.
                Func<string> state = () => bouncer.Psql("SHOW DATABASES");
                Assert.Contains("appdb", state());
                ConfirmationRule.Check(s, command, mode, $"Invoke-PgBouncerCommand @Bouncer Pause {bouncer.DatabaseAlias} @@ | Out-Null", state);
                break;
            }
            default:
                throw new InvalidOperationException($"No case for {command}.");
        }
    }
}

/// <summary>Log files on disk: old *.log files in a temp folder, read with ConfirmationRule.Files.</summary>
public sealed class ConfirmationRuleLogTests : IDisposable
{
    public static readonly string[] Commands = { "Remove-OldLog" };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    private readonly string _root = Directory.CreateTempSubdirectory("opstools-confirm-logs-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_changes_on_disk(string command, string mode)
    {
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        foreach (var (name, age) in new[] { ("app.log", 40), ("sub/worker.log", 45), ("today.log", 0) })
        {
            var f = Path.Combine(_root, name);
            File.WriteAllText(f, $"2026-01-01 ERROR {name}\n");
            File.SetLastWriteTimeUtc(f, DateTime.UtcNow.AddDays(-age));
        }
        // Modification times are part of what a removal would change: the state carries them.
        Func<string> state = () => ConfirmationRule.Files(_root) + string.Join("\n",
            Directory.GetFiles(_root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).Select(f => f + " " + File.GetLastWriteTimeUtc(f).Ticks));
        using var s = new ModuleSession();
        var r = ConfirmationRule.Check(s, command, mode, $"Remove-OldLog -Path {ConfirmationRule.Q(_root)} -OlderThan 30d -Recurse @@", state);
        Assert.DoesNotContain(r.Output, o => RunResult.Prop(o, "Action")?.ToString() == "Removed");
    }
}

/// <summary>An app's action endpoint (MetricsApp): its circuit breaker as a plain HTTP GET of /health shows it, and the calls it received.</summary>
public sealed class ConfirmationRuleMetricsTests
{
    public static readonly string[] Commands = { "Invoke-AppAction" };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_reaches_the_app(string command, string mode)
    {
        using var app = MetricsApp.Start();
        app.BreakerState = "open";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        Func<string> state = () => http.GetStringAsync(new Uri(app.Base, "/health")).GetAwaiter().GetResult() + "\nactions received: " + app.Actions.Count;
        Assert.Contains("\"open\"", state());
        using var s = new ModuleSession();
        s.Set("action", new Uri(app.Base, "/api/ai-service?action=reset-circuit-breaker"));
        ConfirmationRule.Check(s, command, mode, "Invoke-AppAction -Uri $action @@", state);
        Assert.Empty(app.Actions);
    }
}

/// <summary>certbot (a stand-in script that writes a marker when it runs and a new certificate, as certbot renew does): the files in its folder.</summary>
public sealed class ConfirmationRuleCertificateTests : IDisposable
{
    public static readonly string[] Commands = { "Update-CertbotCertificate" };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    private readonly string _root = Directory.CreateTempSubdirectory("opstools-confirm-certbot-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Certbot_does_not_run(string command, string mode)
    {
        using var pki = new TestPki();
        var live = Directory.CreateDirectory(Path.Combine(_root, "config", "live", "api.example.test")).FullName;
        using (var old = pki.Issue(new[] { "api.example.test" }, DateTimeOffset.UtcNow.AddDays(12)))
            File.WriteAllText(Path.Combine(live, "cert.pem"), TestPki.Pem(old));
        using (var fresh = pki.Issue(new[] { "api.example.test" }, DateTimeOffset.UtcNow.AddDays(90)))
            File.WriteAllText(Path.Combine(_root, "new.pem"), TestPki.Pem(fresh));
        var certbot = Path.Combine(_root, "certbot");
        File.WriteAllText(certbot, $"#!/bin/bash\nprintf '%s\\n' \"$@\" > '{_root}/ran.txt'\ncp '{_root}/new.pem' '{live}/cert.pem'\necho 'Congratulations, all renewals succeeded:'\n");
        File.SetUnixFileMode(certbot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Func<string> state = () => ConfirmationRule.Files(_root) + "ran: " + File.Exists(Path.Combine(_root, "ran.txt"));
        using var s = new ModuleSession();
        s.Set("certbot", certbot);
        s.Set("config", Path.Combine(_root, "config"));
        ConfirmationRule.Check(s, command, mode, "Update-CertbotCertificate api.example.test -CertbotPath $certbot -ConfigDirectory $config -ForceRenewal @@ | Out-Null", state);
        Assert.False(File.Exists(Path.Combine(_root, "ran.txt")));
    }
}

/// <summary>cert-manager Certificates (KubeCluster with the Certificate CRD): the Certificate's spec and status and its secret, read with plain REST calls.</summary>
[Collection("Kubernetes")]
public sealed class ConfirmationRuleCertManagerTests(KubeClusterFixture fixture)
{
    public static readonly string[] Commands = { "Update-CertManagerCertificate" };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_changes_in_the_cluster(string command, string mode)
    {
        var k = fixture.Cluster;
        CertManagerTestSupport.EnsureCrd(k);
        var ns = k.CreateNamespace("confirm-cert");
        try
        {
            using var pki = new TestPki();
            using var old = pki.Issue(new[] { "web.example.test" }, DateTimeOffset.UtcNow.AddDays(10));
            CertManagerTestSupport.WriteTlsSecret(k, ns, "web-tls", old, null, "web");
            CertManagerTestSupport.CreateCertificate(k, ns, "web", "web-tls", new[] { "web.example.test" });
            CertManagerTestSupport.SetIssued(k, ns, "web", old, 1);
            Func<string> state = () =>
            {
                var c = k.Api.Get($"/apis/cert-manager.io/v1/namespaces/{ns}/certificates/web");
                var secret = k.Api.Get($"/api/v1/namespaces/{ns}/secrets/web-tls");
                return "certificate " + c["metadata"]!["resourceVersion"] + " " + c["spec"]!.ToJsonString() + " " + c["status"]?.ToJsonString() +
                       "\nsecret " + secret["metadata"]!["resourceVersion"] + " " + secret["data"]!.ToJsonString();
            };
            using var s = new ModuleSession();
            s.Invoke(k.PowerShellSetup(ns));
            ConfirmationRule.Check(s, command, mode, "Update-CertManagerCertificate @Kube web -TimeoutSec 10 @@ | Out-Null", state);
        }
        finally
        {
            k.DeleteNamespace(ns);
        }
    }
}

/// <summary>The incident folder: files on disk. No server needed (the environment names no targets, so collectors would only skip).</summary>
public sealed class ConfirmationRuleIncidentTests : IDisposable
{
    public static readonly string[] Commands = { "New-Incident", "Add-IncidentNote", "Set-IncidentStatus", "Save-IncidentEvidence", "Export-IncidentReport" };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    private readonly string _root = Directory.CreateTempSubdirectory("opstools-confirm-incident-").FullName;
    private static string Q(string s) => ConfirmationRule.Q(s);

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_changes_on_disk(string command, string mode)
    {
        var env = Path.Combine(_root, "t.ops.psd1");
        File.WriteAllText(env, "@{ Name = 't'; Incidents = @{ Path = './incidents' } }");
        using var s = new ModuleSession();
        var id = (string)RunResult.Prop(s.Invoke($"New-Incident 'Existing' P2 -Environment {Q(env)}")[0], "Id")!;
        Func<string> state = () => ConfirmationRule.Files(_root);
        var script = command switch
        {
            "New-Incident" => $"New-Incident 'Another' P1 -Environment {Q(env)} @@",
            "Add-IncidentNote" => $"Add-IncidentNote {id} 'a note' -Environment {Q(env)} @@",
            "Set-IncidentStatus" => $"Set-IncidentStatus {id} Resolved 'done' -Environment {Q(env)} @@",
            "Save-IncidentEvidence" => $"Save-IncidentEvidence {id} -Environment {Q(env)} -Bundle @@",
            "Export-IncidentReport" => $"Export-IncidentReport {id} -OutFile {Q(Path.Combine(_root, "report.md"))} -Environment {Q(env)} @@",
            _ => throw new InvalidOperationException($"No case for {command}."),
        };
        ConfirmationRule.Check(s, command, mode, script, state);
    }
}

/// <summary>
/// A PowerShell remoting host without OpsTools (SshHost: sshd on loopback, pwsh as its powershell subsystem): its user
/// module path, listed on disk, is what Invoke-FleetCheck -CopyModule would change.
/// </summary>
public sealed class ConfirmationRuleFleetTests
{
    public static readonly string[] Commands = { "Invoke-FleetCheck" };
    public static TheoryData<string, string> Cases => ConfirmationRule.Cases(Commands);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Nothing_is_copied_to_the_host(string command, string mode)
    {
        using var host = SshHost.Start();
        Func<string> state = () => "versions: " + string.Join(",", host.InstalledVersions()) + "\n" + ConfirmationRule.Files(host.ModulePath);
        using var s = new ModuleSession();
        var r = ConfirmationRule.Check(s, command, mode,
            $"Invoke-FleetCheck -HostName '{SshHost.HostName}:{host.Port}' -KeyFilePath {ConfirmationRule.Q(SshHost.ClientKeyFile)} " +
            "-SSHOption @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } -CopyModule -ScriptBlock { Get-MemoryUsage } @@",
            state);
        // The host still lacks OpsTools, and says so in its one result.
        var result = Assert.Single(r.Output);
        Assert.Equal("Unknown", RunResult.Prop(result, "Status")?.ToString());
        Assert.Contains("has no OpsTools", RunResult.Prop(result, "Message")?.ToString());
        Assert.Empty(s.Invoke("Get-PSSession"));
    }
}
