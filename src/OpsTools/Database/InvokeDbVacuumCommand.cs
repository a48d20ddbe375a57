using System.Globalization;
using System.Management.Automation;
using OpsTools.Commands.Infrastructure;
using OpsTools.Database;
using OpsTools.Engine.Database;

namespace OpsTools.Commands.Database;

/// <summary>
/// <para type="synopsis">Runs VACUUM, VACUUM (ANALYZE), VACUUM (FULL) or ANALYZE per table, N tables at a time, with dead tuples and sizes before and after.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "DbVacuum", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "Invoke-DbVacuum.md")]
[OutputType(typeof(DbVacuumResult))]
public sealed class InvokeDbVacuumCommand : DbCmdlet
{
    /// <summary>The tables to vacuum (wildcards allowed; "schema.table" accepted). Default: every table of the database.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("TableName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Table { get; set; }

    /// <summary>Only tables in these schemas (wildcards allowed).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("SchemaName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Schema { get; set; }

    /// <summary>VACUUM (ANALYZE): also refresh the planner statistics.</summary>
    [Parameter]
    public SwitchParameter Analyze { get; set; }

    /// <summary>ANALYZE only, no VACUUM.</summary>
    [Parameter]
    public SwitchParameter AnalyzeOnly { get; set; }

    /// <summary>VACUUM (FULL): rewrites each table and gives space back to the OS, under an ACCESS EXCLUSIVE lock. Asks first unless -Force.</summary>
    [Parameter]
    public SwitchParameter Full { get; set; }

    /// <summary>Do not ask before VACUUM (FULL).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>How many tables are vacuumed at once, each on its own connection (as vacuumdb -j). Default 1.</summary>
    [Parameter]
    [ValidateRange(1, 64)]
    public int Parallel { get; set; } = 1;

    /// <summary>Include the system catalogs (pg_catalog, information_schema) when vacuuming a whole database, as vacuumdb does.</summary>
    [Parameter]
    public SwitchParameter All { get; set; }

    private sealed record Request(PgTarget Target, string[]? Schemas, string[]? Tables);

    private readonly List<Request> _requests = new();

    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        if (AnalyzeOnly && (Full || Analyze))
            Fail(new ArgumentException("-AnalyzeOnly runs ANALYZE alone: it cannot be combined with -Full or -Analyze."),
                "InvalidVacuumOptions", ErrorCategory.InvalidArgument, null);
        return Task.CompletedTask;
    }

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<PgTarget> targets = PgTargetRegistry.Find(ConnectionId) is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        foreach (var t in targets) _requests.Add(new Request(t, Schema?.ToArray(), Table?.ToArray()));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        var options = new VacuumOptions { Analyze = Analyze, AnalyzeOnly = AnalyzeOnly, Full = Full };
        var operation = options.Operation;

        // Resolve every request against its database's catalog first (names are matched in C#, never put in SQL).
        var plan = new List<(PgTarget Target, List<PgTable> Tables)>();
        foreach (var group in _requests.GroupBy(r => r.Target.Name + "\n" + r.Target.Display))
        {
            var target = group.First().Target;
            IReadOnlyList<PgTable> all;
            try
            {
                Verbose($"Listing tables on {target.Address}.");
                all = await DbVacuumEngine.ListTablesAsync(target, includeSystem: true, cancellationToken).ConfigureAwait(false);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, target.Address));
                continue;
            }
            var chosen = new Dictionary<uint, PgTable>();
            foreach (var request in group)
            {
                var schemaGiven = request.Schemas is { Length: > 0 };
                var candidates = all.Where(t => schemaGiven ? DbNameMatch.Matches(t.Schema, request.Schemas) : All || !DbNameMatch.IsSystemSchema(t.Schema)).ToList();
                if (request.Tables is not { Length: > 0 })
                {
                    foreach (var t in candidates) chosen.TryAdd(t.Oid, t);
                    continue;
                }
                foreach (var name in request.Tables)
                {
                    var matches = DbNameMatch.Select(candidates, name, schemaGiven, t => t.Schema, t => t.Name);
                    if (matches.Count == 0)
                    {
                        if (!WildcardPattern.ContainsWildcardCharacters(name))
                            Error(new ErrorRecord(new OpsToolsException("DbTableNotFound", OpsErrorKind.NotFound,
                                $"Table '{name}' not found in database '{target.Database}' on {target.Address}" +
                                (schemaGiven ? $" (schema {string.Join(", ", request.Schemas!)})" : "") +
                                ". Nothing was run for it. List the tables with Get-DbVacuumStatus.", name),
                                "DbTableNotFound", ErrorCategory.ObjectNotFound, name));
                        continue;
                    }
                    foreach (var t in matches) chosen.TryAdd(t.Oid, t);
                }
            }
            if (chosen.Count > 0)
                plan.Add((target, chosen.Values.OrderByDescending(t => t.Pages).ThenBy(t => t.Schema, StringComparer.Ordinal).ThenBy(t => t.Name, StringComparer.Ordinal).ToList()));
        }

        // Ask before anything runs (prompts must not interleave with parallel work).
        var approved = new List<(PgTarget Target, List<PgTable> Tables)>();
        foreach (var (target, tables) in plan)
        {
            var ok = new List<PgTable>();
            foreach (var t in tables)
            {
                if (!await ConfirmAsync($"{t.Display} in {target.Address}", operation,
                        Full ? $"VACUUM (FULL) rewrites {t.Display} in {target.Address} under an ACCESS EXCLUSIVE lock: reads and writes wait until it is done. Continue?" : null,
                        "Confirm VACUUM (FULL)", Force, offerYesToAll: true).ConfigureAwait(false)) continue;
                ok.Add(t);
            }
            if (ok.Count > 0) approved.Add((target, ok));
        }
        var total = approved.Sum(p => p.Tables.Count);
        if (total == 0) return;

        var activity = $"{operation} of {total} table{(total == 1 ? "" : "s")}{(Parallel > 1 ? $", {Parallel} at a time" : "")}";
        var done = 0;
        var running = new List<string>();
        var gate = new object();
        // At most ten progress records a second: a console redraws on each, and on a small machine the
        // client's CPU is taken from the server doing the vacuum (bench/VacuumBench).
        var sinceReport = System.Diagnostics.Stopwatch.StartNew();
        void Report(string? last, bool force = false)
        {
            string current;
            int d;
            lock (gate)
            {
                if (!force && sinceReport.ElapsedMilliseconds < 100) return;
                sinceReport.Restart();
                current = string.Join(", ", running);
                d = done;
            }
            Progress(new ProgressRecord(1, "Invoke-DbVacuum", activity)
            {
                StatusDescription = $"{d} of {total} done",
                CurrentOperation = current.Length > 0 ? "running: " + current : last ?? "",
                PercentComplete = (int)(d * 100L / total),
            });
        }
        Report(null, force: true);

        foreach (var (target, tables) in approved)
        {
            Verbose($"{operation} on {tables.Count} table(s) of {target.Address}, {Math.Min(Parallel, tables.Count)} connection(s); each statement alone, outside any transaction.");
            await DbVacuumEngine.VacuumAsync(target, tables, options, Parallel,
                starting: t =>
                {
                    lock (gate) running.Add(t.Display);
                    Verbose(options.Statement(t));
                    Report(null);
                },
                completed: r =>
                {
                    lock (gate) { running.Remove(r.Schema + "." + r.Table); done++; }
                    Output(r);
                    Report($"last: {r.Schema}.{r.Table}");
                },
                failed: (t, f) =>
                {
                    lock (gate) { running.Remove(t.Display); done++; }
                    Error(new ErrorRecord(f.Error, f.Error.ErrorId, MapCategory(f.Error.Kind), t.Display));
                    Report($"failed: {t.Display}");
                },
                cancellationToken).ConfigureAwait(false);
        }
        Progress(new ProgressRecord(1, "Invoke-DbVacuum", activity) { RecordType = ProgressRecordType.Completed, PercentComplete = 100 });
    }
}
