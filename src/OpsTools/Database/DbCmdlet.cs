using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Database;

namespace OpsTools.Commands.Database;

/// <summary>
/// Base of the PostgreSQL commands: one way to say which database, everywhere.
/// <list type="bullet">
/// <item>-ConnectionString (key=value or postgresql:// URL), or -Server/-Port/-Database/-Credential;</item>
/// <item>-Environment (with -Instance to pick entries of its Databases section);</item>
/// <item>otherwise libpq's conventions: PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD, PGSSLMODE, ~/.pgpass.</item>
/// </list>
/// Explicit parameters override the connection string, which overrides the environment entry.
/// </summary>
public abstract class DbCmdlet : OpsCmdlet
{
    /// <summary>A connection string (Host=db1;Database=app;Username=ops or postgresql://ops@db1/app). Shown redacted everywhere.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ConnectionString { get; set; }

    /// <summary>Host name, IP address or Unix socket directory. Default: PGHOST, else /var/run/postgresql when a server listens there, else localhost.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Host", "SqlInstance")]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    /// <summary>TCP port. Default: PGPORT, else 5432.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    /// <summary>Database name. Default: PGDATABASE, else the role name.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public virtual string? Database { get; set; }

    /// <summary>Role and password. Default: PGUSER/PGPASSWORD, ~/.pgpass, or peer/trust authentication.</summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? Credential { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its Databases entries.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Entries of the environment's Databases section, by name (wildcards allowed). Default: all.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(DatabaseInstanceCompleter))]
    public string[]? Instance { get; set; }

    /// <summary>Seconds to wait for a connection. Default 15.</summary>
    [Parameter]
    [ValidateRange(1, 1024)]
    public double TimeoutSec { get; set; } = 15;

    /// <summary>Set by pipeline input from another OpsTools database command; carries no secret.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? ConnectionId { get; set; }

    /// <summary>
    /// The databases this invocation is about: one per selected environment entry, or one from the
    /// parameters and libpq's conventions. Bad input (unknown instance, invalid connection string) is a
    /// terminating error: nothing could be done with it.
    /// </summary>
    protected IReadOnlyList<PgTarget> ResolveTargets()
    {
        try
        {
            if (Environment is not null)
            {
                var entries = Environment.Databases;
                if (Instance is { Length: > 0 })
                {
                    var selected = new List<DatabaseEndpoint>();
                    foreach (var name in Instance)
                    {
                        var pattern = WildcardPattern.Get(name, WildcardOptions.IgnoreCase);
                        var matches = entries.Where(e => pattern.IsMatch(e.Name)).ToList();
                        if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name))
                            throw new OpsToolsException("DbInstanceNotFound", OpsErrorKind.NotFound,
                                $"The environment '{Environment.Name}' has no database named '{name}'. Its databases: {(entries.Count == 0 ? "(none)" : string.Join(", ", entries.Select(e => e.Name)))}.", name);
                        selected.AddRange(matches.Where(m => !selected.Contains(m)));
                    }
                    entries = selected;
                }
                if (entries.Count == 0)
                    throw new OpsToolsException("DbNoDatabases", OpsErrorKind.NotFound,
                        $"The environment '{Environment.Name}' names no databases (add a Databases section, see about_OpsTools_Environments).", Environment.Name);
                return entries.Select(e => Register(Spec(e))).ToList();
            }
            if (Instance is { Length: > 0 })
                throw new OpsToolsException("DbInstanceWithoutEnvironment", OpsErrorKind.InvalidArgument,
                    "-Instance picks databases of an environment file: pass -Environment too.", null);
            return new[] { Register(Spec(null)) };
        }
        catch (OpsToolsException e)
        {
            Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, e.Target);
            throw; // not reached
        }
    }

    /// <summary>
    /// The target for one pipeline input object: the one it came from (by ConnectionId) when this
    /// session knows it, switched to the object's database; else resolved from the parameters.
    /// </summary>
    protected PgTarget ResolveInputTarget()
    {
        var known = PgTargetRegistry.Find(ConnectionId);
        if (known is not null)
        {
            if (Database is not { Length: > 0 } db || db == known.Database) return known;
            var switched = known.WithDatabase(db);
            PgTargetRegistry.Register(switched);
            return switched;
        }
        return ResolveTargets()[0];
    }

    private PgTargetSpec Spec(DatabaseEndpoint? endpoint) => new()
    {
        ConnectionString = ConnectionString,
        Server = Server,
        Port = Port,
        Database = Database,
        User = Credential?.UserName,
        Password = Credential?.Password,
        Endpoint = endpoint,
        TimeoutSec = TimeoutSec,
    };

    private PgTarget Register(PgTargetSpec spec)
    {
        var target = PgTargetResolver.Resolve(spec);
        PgTargetRegistry.Register(target);
        Verbose($"PostgreSQL target {target.Name}: {target.Display} (password: {target.PasswordSource}).");
        return target;
    }
}

/// <summary>Completes -Instance with the database names of the environment already given.</summary>
public sealed class DatabaseInstanceCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        var env = CompleterSupport.BoundEnvironment(fakeBoundParameters);
        if (env is null) return Array.Empty<CompletionResult>();
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return env.Databases.Where(d => pattern.IsMatch(d.Name))
            .Select(d => new CompletionResult(d.Name, d.Name, CompletionResultType.ParameterValue, d.ToString()));
    }
}
