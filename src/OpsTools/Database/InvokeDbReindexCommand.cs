using System.Management.Automation;
using OpsTools.Database;
using OpsTools.Engine.Database;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Database;

/// <summary>
/// <para type="synopsis">Rebuilds indexes (REINDEX INDEX / TABLE, or every index of the database), CONCURRENTLY where the server supports it, with sizes before and after.</para>
/// </summary>
[Cmdlet(VerbsLifecycle.Invoke, "DbReindex", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = IndexSet, HelpUri = HelpLinks.Base + "Invoke-DbReindex.md")]
[OutputType(typeof(DbReindexResult))]
public sealed class InvokeDbReindexCommand : DbCmdlet
{
    private const string IndexSet = "Index";
    private const string TableSet = "Table";
    private const string AllSet = "All";

    /// <summary>The indexes to rebuild (wildcards allowed; "schema.index" accepted). Binds IndexName from Get-DbIndexAdvice.</summary>
    [Parameter(ParameterSetName = IndexSet, Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("IndexName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Index { get; set; }

    /// <summary>The tables whose indexes are rebuilt (REINDEX TABLE; wildcards allowed).</summary>
    [Parameter(ParameterSetName = TableSet, Mandatory = true, ValueFromPipelineByPropertyName = true)]
    [Alias("TableName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Table { get; set; }

    /// <summary>Every index of the database: one REINDEX TABLE per user table that has indexes.</summary>
    [Parameter(ParameterSetName = AllSet, Mandatory = true)]
    public SwitchParameter All { get; set; }

    /// <summary>Only in these schemas (wildcards allowed).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("SchemaName")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Schema { get; set; }

    /// <summary>Plain REINDEX even where CONCURRENTLY is supported: faster, but blocks writes (and reads using the index) while it runs. Asks first unless -Force.</summary>
    [Parameter]
    public SwitchParameter NoConcurrently { get; set; }

    /// <summary>Do not ask before a REINDEX without CONCURRENTLY.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    private sealed record Request(PgTarget Target, string[]? Schemas, string[]? Indexes, string[]? Tables);

    private readonly List<Request> _requests = new();

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<PgTarget> targets = PgTargetRegistry.Find(ConnectionId) is not null ? new[] { ResolveInputTarget() } : ResolveTargets();
        foreach (var t in targets)
            _requests.Add(new Request(t, Schema?.ToArray(), ParameterSetName == IndexSet ? Index?.ToArray() : null, ParameterSetName == TableSet ? Table?.ToArray() : null));
        return Task.CompletedTask;
    }

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        foreach (var group in _requests.GroupBy(r => r.Target.Name + "\n" + r.Target.Display))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var target = group.First().Target;
            IReadOnlyList<PgIndexedTable> tables;
            IReadOnlyList<PgIndex> indexes = Array.Empty<PgIndex>();
            int major;
            try
            {
                Verbose($"Listing tables{(ParameterSetName == IndexSet ? " and indexes" : "")} on {target.Address}.");
                (tables, major) = await DbReindexEngine.ListTablesAsync(target, includeSystem: true, cancellationToken).ConfigureAwait(false);
                if (ParameterSetName == IndexSet)
                    indexes = await DbReindexEngine.ListIndexesAsync(target, includeSystem: true, cancellationToken).ConfigureAwait(false);
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.ConnectionError, target.Address));
                continue;
            }

            var items = new List<ReindexItem>();
            var seen = new HashSet<uint>();
            foreach (var request in group)
            {
                var schemaGiven = request.Schemas is { Length: > 0 };
                bool InScope(string schema) => schemaGiven ? DbNameMatch.Matches(schema, request.Schemas) : !DbNameMatch.IsSystemSchema(schema);
                if (ParameterSetName == IndexSet)
                {
                    var candidates = indexes.Where(i => InScope(i.Schema)).ToList();
                    foreach (var name in request.Indexes ?? Array.Empty<string>())
                    {
                        var matches = DbNameMatch.Select(candidates, name, schemaGiven, i => i.Schema, i => i.Name);
                        if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                            NotFound("DbIndexNotFound", "Index", name, target, request.Schemas);
                        foreach (var i in matches) if (seen.Add(i.Oid)) items.Add(new ReindexItem { Index = i });
                    }
                }
                else
                {
                    var candidates = tables.Where(t => InScope(t.Schema)).ToList();
                    if (ParameterSetName == AllSet)
                    {
                        foreach (var t in candidates.Where(t => t.IndexCount > 0)) if (seen.Add(t.Oid)) items.Add(new ReindexItem { Table = t });
                        continue;
                    }
                    foreach (var name in request.Tables ?? Array.Empty<string>())
                    {
                        var matches = DbNameMatch.Select(candidates, name, schemaGiven, t => t.Schema, t => t.Name);
                        if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                            NotFound("DbTableNotFound", "Table", name, target, request.Schemas);
                        foreach (var t in matches) if (seen.Add(t.Oid)) items.Add(new ReindexItem { Table = t });
                    }
                }
            }
            if (items.Count == 0) continue;

            var concurrently = !NoConcurrently && major >= 12;
            if (!NoConcurrently && !concurrently)
                Warning($"{target.Address} runs PostgreSQL {major}: REINDEX CONCURRENTLY needs 12 or later, so the indexes are rebuilt with locks (writes wait).");

            var approved = new List<ReindexItem>();
            foreach (var item in items)
            {
                var operation = item.Operation(concurrently);
                if (!await ConfirmAsync($"{item.Display} in {target.Address}", operation,
                        concurrently ? null : $"{operation} {item.Display} in {target.Address} locks the table {item.Schema}.{item.TableName} against writes (and queries using the index wait) until it is done. Continue?",
                        $"Confirm {operation}", Force, offerYesToAll: true).ConfigureAwait(false)) continue;
                approved.Add(item);
            }
            if (approved.Count == 0) continue;

            var total = approved.Count;
            var done = 0;
            var activity = $"REINDEX{(concurrently ? " CONCURRENTLY" : "")} of {total} {(ParameterSetName == IndexSet ? "index(es)" : "table(s)")} in {target.Address}";
            await DbReindexEngine.ReindexAsync(target, approved, concurrently,
                starting: item =>
                {
                    Verbose(item.Statement(concurrently));
                    Progress(new ProgressRecord(2, "Invoke-DbReindex", activity) { StatusDescription = $"{done} of {total} done", CurrentOperation = "running: " + item.Display, PercentComplete = done * 100 / total });
                },
                completed: r =>
                {
                    done++;
                    Output(r);
                },
                failed: (item, f) =>
                {
                    done++;
                    Error(new ErrorRecord(f.Error, f.Error.ErrorId, MapCategory(f.Error.Kind), item.Display));
                },
                cancellationToken).ConfigureAwait(false);
            Progress(new ProgressRecord(2, "Invoke-DbReindex", activity) { RecordType = ProgressRecordType.Completed, PercentComplete = 100 });
        }
    }

    private void NotFound(string errorId, string kind, string name, PgTarget target, string[]? schemas) =>
        Error(new ErrorRecord(new OpsToolsException(errorId, OpsErrorKind.NotFound,
            $"{kind} '{name}' not found in database '{target.Database}' on {target.Address}" +
            (schemas is { Length: > 0 } ? $" (schema {string.Join(", ", schemas)})" : "") + ". Nothing was rebuilt for it.", name),
            errorId, ErrorCategory.ObjectNotFound, name));
}
