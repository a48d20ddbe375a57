using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.PgBouncer;

namespace OpsTools.Commands.PgBouncer;

/// <summary>
/// Base of the PgBouncer commands: the admin console (database 'pgbouncer') as psql reaches it: -Server (a host, or a
/// Unix socket directory), -Port (6432), -Credential (an admin_users or stats_users entry; default user 'pgbouncer'), or
/// the environment file's PgBouncer section; the password from -Credential, PasswordVariable, PGPASSWORD or ~/.pgpass.
/// </summary>
public abstract class PgBouncerCmdlet : OpsCmdlet
{
    /// <summary>Host name, IP address, or Unix socket directory. Default: the environment's PgBouncer.Host, else /var/run/postgresql when PgBouncer's socket is there, else 127.0.0.1.</summary>
    [Parameter]
    [Alias("Host")]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    /// <summary>PgBouncer's port. Default 6432.</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    /// <summary>An admin_users (or, for reading, stats_users) entry and its password. Default user: pgbouncer.</summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? Credential { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its PgBouncer section.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Seconds to wait for the console's answer. Default 10.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public double TimeoutSec { get; set; } = 10;

    private PgBouncerTarget? _target;

    protected bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

    protected PgBouncerTarget ResolveTarget()
    {
        if (_target is not null) return _target;
        if (Environment is not null && Environment.PgBouncer is null && Server is null && Port is null)
            Fail(new OpsToolsException("PgBouncerNotConfigured", OpsErrorKind.NotFound,
                $"The environment '{Environment.Name}' has no PgBouncer section (see about_OpsTools_Environments); give -Server and -Port.", Environment.Name),
                "PgBouncerNotConfigured", ErrorCategory.ObjectNotFound, Environment.Name);
        try
        {
            _target = PgBouncerTargetResolver.Resolve(new PgBouncerTargetSpec
            {
                Host = Server, Port = Port, User = Credential?.UserName, Password = Credential?.Password, Settings = Environment?.PgBouncer, TimeoutSec = TimeoutSec,
            });
        }
        catch (OpsToolsException e)
        {
            Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, e.Target);
            throw; // not reached
        }
        Verbose($"PgBouncer admin console: {_target.Address} (password: {_target.PasswordSource}; simple query protocol).");
        return _target;
    }
}
