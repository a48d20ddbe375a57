using System.Collections;
using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Engine.Security;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Sets or removes environment variables of a Deployment's or StatefulSet's containers (oc set env / kubectl set env).</para>
/// <para type="description">-Env @{ DB_POOL_MIN = 10 } sets, -Remove names removes. Values of secret-looking names (PASSWORD, TOKEN, API_KEY, SECRET ...) and SecureString values are never shown: *** in the result, verbose output, -WhatIf and the recorded change cause. Secrets belong in a Secret referenced with secretKeyRef, not in the deployment spec. Starts a rolling update; -Wait waits for it.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "DeploymentEnv", SupportsShouldProcess = true, HelpUri = HelpLinks.Base + "Set-DeploymentEnv.md")]
[OutputType(typeof(WorkloadChangeResult))]
public sealed class SetDeploymentEnvCommand : KubeWorkloadChangeCmdlet
{
    /// <summary>Variables to set: @{ NAME = 'value' }. A SecureString value is stored as its text and never shown.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNull]
    public IDictionary? Env { get; set; }

    /// <summary>Names of variables to remove.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Remove { get; set; }

    /// <summary>The container(s) to change; '*' for all (what 'oc set env' does by default). Default: the only container (an error lists them when there are several).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Container { get; set; }

    private readonly Dictionary<string, string> _set = new(StringComparer.Ordinal);
    private readonly HashSet<string> _redact = new(StringComparer.Ordinal);

    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        if (Env is null or { Count: 0 } && Remove is null)
            Fail(new OpsToolsException("KubeEnvMissing", OpsErrorKind.InvalidArgument, "Say what to change: -Env @{ NAME = 'value' } and/or -Remove NAME.", null), "KubeEnvMissing", ErrorCategory.InvalidArgument, null);
        if (Env is not null)
        {
            foreach (DictionaryEntry e in Env)
                if ((e.Value is PSObject p ? p.BaseObject : e.Value) is System.Security.SecureString)
                    _redact.Add((e.Key is PSObject pk ? pk.BaseObject : e.Key)?.ToString() ?? "");
            foreach (var (name, value) in Pairs(Env))
            {
                if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[-._a-zA-Z][-._a-zA-Z0-9]*$"))
                    Fail(new OpsToolsException("KubeEnvInvalidName", OpsErrorKind.InvalidArgument, $"-Env: '{name}' is not a valid environment variable name (letters, digits, '_', '-', '.'; not starting with a digit). Nothing was changed.", name), "KubeEnvInvalidName", ErrorCategory.InvalidArgument, name);
                _set[name] = value ?? "";
            }
        }
        foreach (var name in Remove ?? Array.Empty<string>())
            if (_set.ContainsKey(name))
                Fail(new OpsToolsException("KubeEnvConflict", OpsErrorKind.InvalidArgument, $"'{name}' is both in -Env and in -Remove.", name), "KubeEnvConflict", ErrorCategory.InvalidArgument, name);
        return Task.CompletedTask;
    }

    protected override Task ProcessRecordAsync(CancellationToken ct) =>
        EditEachAsync("SetEnv", "Set environment",
            workload => KubeWorkloadEdit.SetEnv(workload, Container, _set, Remove ?? Array.Empty<string>(), _redact),
            changes => "Set-DeploymentEnv " + string.Join(" ", changes.Select(c => c.After is null ? c.Item[4..] + "-" : $"{c.Item[4..]}={c.After}").Distinct()), ct);
}
