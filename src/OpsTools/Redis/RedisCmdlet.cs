using System.Management.Automation;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Redis;

namespace OpsTools.Commands.Redis;

/// <summary>
/// Base of the Redis commands: one way to say which server, everywhere, as redis-cli users say it: -Server/-Port/-Database
/// (-h/-p/-n), -Uri (redis://[user[:password]@]host:port/db, rediss:// for TLS), -Credential (ACL user and password) or
/// -Password (the default user), -Tls with -CaCertificate or -SkipCertificateCheck, the environment file's Redis section,
/// REDISCLI_AUTH. Cmdlets never name StackExchange.Redis types: that assembly lives in OpsTools' isolated load context.
/// </summary>
public abstract class RedisCmdlet : OpsCmdlet
{
    /// <summary>redis://[user[:password]@]host[:port][/db] or rediss://... (TLS). Shown without the password everywhere.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Uri { get; set; }

    /// <summary>Host name or IP address (redis-cli -h). Default: the environment file's Redis.Host, else 127.0.0.1.</summary>
    [Parameter]
    [Alias("Host", "HostName")]
    [ValidateNotNullOrEmpty]
    public string? Server { get; set; }

    /// <summary>TCP port (redis-cli -p). Default 6379.</summary>
    [Parameter]
    [ValidateRange(1, 65535)]
    public int? Port { get; set; }

    /// <summary>Database number (redis-cli -n). Default 0.</summary>
    [Parameter]
    [ValidateRange(0, 100000)]
    public virtual int? Database { get; set; }

    /// <summary>An ACL user and its password (redis-cli --user/--pass).</summary>
    [Parameter]
    [Credential]
    [ValidateNotNull]
    public PSCredential? Credential { get; set; }

    /// <summary>The password of the default user (requirepass; redis-cli -a). Default: the environment file's PasswordVariable, else REDISCLI_AUTH.</summary>
    [Parameter]
    [ValidateNotNull]
    public System.Security.SecureString? Password { get; set; }

    /// <summary>Connect with TLS (redis-cli --tls; rediss://).</summary>
    [Parameter]
    public SwitchParameter Tls { get; set; }

    /// <summary>A PEM file with the CA that signed the server's certificate (redis-cli --cacert); implies -Tls.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CaCertificate { get; set; }

    /// <summary>Accept any server certificate (redis-cli --insecure).</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>A PEM file with the client certificate, for servers that require one (tls-auth-clients yes; redis-cli --cert); implies -Tls.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientCertificate { get; set; }

    /// <summary>A PEM file with the client certificate's private key (redis-cli --key). Default: the -ClientCertificate file. The key is never shown.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientKey { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its Redis section (and Thresholds).</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>Seconds to wait for the connection and for each command. Default 10.</summary>
    [Parameter]
    [ValidateRange(1, 3600)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>Set by pipeline input from another OpsTools Redis command; carries no secret.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true, DontShow = true)]
    public string? RedisId { get; set; }

    private RedisTarget? _target;

    protected bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

    /// <summary>The server this invocation (or this piped object) is about; bad input ends the command with one clear error.</summary>
    protected RedisTarget ResolveTarget()
    {
        if (!Bound(nameof(Uri)) && !Bound(nameof(Server)) && !Bound(nameof(Port)) && RedisTarget.Find(RedisId) is { } known)
            return Database is int d ? known.WithDatabase(d) : known;
        if (_target is not null) return _target;
        if (Environment is not null && Environment.Redis is null && Uri is null && Server is null)
            Fail(new OpsToolsException("RedisNotConfigured", OpsErrorKind.NotFound,
                $"The environment '{Environment.Name}' has no Redis section (see about_OpsTools_Environments); give -Server or -Uri.", Environment.Name),
                "RedisNotConfigured", ErrorCategory.ObjectNotFound, Environment.Name);
        try
        {
            var caPath = CaCertificate is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(CaCertificate);
            var certPath = ClientCertificate is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(ClientCertificate);
            var keyPath = ClientKey is null ? null : SessionState.Path.GetUnresolvedProviderPathFromPSPath(ClientKey);
            _target = RedisTargetResolver.Resolve(new RedisTargetSpec
            {
                Uri = Uri, Host = Server, Port = Port, Database = Database,
                User = Credential?.UserName, Password = Credential?.Password ?? Password,
                Tls = Tls.IsPresent ? true : null, SkipCertificateCheck = SkipCertificateCheck, CaCertificate = caPath,
                ClientCertificate = certPath, ClientKey = keyPath,
                Settings = Environment?.Redis, TimeoutSec = TimeoutSec,
            });
        }
        catch (OpsToolsException e)
        {
            Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, e.Target);
            throw; // not reached
        }
        Verbose($"Redis: {_target.Address} (password: {_target.PasswordSource}{(_target.Tls ? _target.SkipCertificateCheck ? ", TLS without certificate check" : ", TLS" : "")}{(_target.ClientCertificate is { } cc ? $", client certificate {cc}" : "")}).");
        return _target;
    }

    /// <summary>The thresholds: the environment's (runbook defaults with its overrides), or the defaults.</summary>
    protected ThresholdSet Thresholds => (Environment?.Thresholds ?? new ThresholdSet()).Clone();

    /// <summary>A value given on the command line, else the one from the thresholds.</summary>
    protected double Pick(string parameter, double given, double fromThresholds) => Bound(parameter) ? given : fromThresholds;
}

/// <summary>Completes queue names from the environment's Queues section.</summary>
public sealed class QueueNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        System.Management.Automation.Language.CommandAst commandAst, System.Collections.IDictionary fakeBoundParameters)
    {
        var env = CompleterSupport.BoundEnvironment(fakeBoundParameters);
        if (env is null) return Array.Empty<CompletionResult>();
        var pattern = WildcardPattern.Get((wordToComplete ?? "").Trim('\'', '"') + "*", WildcardOptions.IgnoreCase);
        return env.Queues.Where(q => pattern.IsMatch(q.Name))
            .Select(q => new CompletionResult(q.Name.Contains(' ') ? $"'{q.Name}'" : q.Name, q.Name, CompletionResultType.ParameterValue, q.ToString()));
    }
}
