namespace OpsTools.Engine.Database;

/// <summary>
/// The one place identifiers are quoted for SQL text. Values never go into SQL text: they are
/// parameters. Names that must be spliced (tables, indexes, settings) are quoted here, always.
/// </summary>
public static class PgSql
{
    /// <summary>
    /// The comment that starts every statement OpsTools itself runs in a user's database where it can be slow
    /// (VACUUM, REINDEX, the backup's row counts): pg_stat_statements keeps no application name, so its text is
    /// how Get-DbSlowQuery leaves OpsTools' own work out of the slow-query list.
    /// </summary>
    public const string OwnStatementMarker = "/* OpsTools */ ";

    /// <summary>Quotes one identifier as PostgreSQL's quote_ident does for any name: "name", with " doubled.</summary>
    public static string QuoteIdent(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0) throw new ArgumentException("An identifier cannot be empty.", nameof(name));
        if (name.Contains('\0')) throw new ArgumentException("An identifier cannot contain a NUL character.", nameof(name));
        return "\"" + name.Replace("\"", "\"\"") + "\"";
    }

    /// <summary>"schema"."name".</summary>
    public static string Qualified(string schema, string name) => QuoteIdent(schema) + "." + QuoteIdent(name);
}
