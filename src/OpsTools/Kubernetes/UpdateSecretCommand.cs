using System.Collections;
using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Rotates a secret as one transaction: new values, restart of the Deployments and StatefulSets that use it, wait for their rollouts, and on failure the old data back and the restarts undone.</para>
/// <para type="description">Replaces the runbooks' 'kubectl create secret ... --from-literal=jwt-secret=$(openssl rand -base64 64)' followed by 'kubectl rollout restart' by hand. Values come as SecureStrings (New-RandomSecret, Read-Host -AsSecureString) or are generated (-Generate); they never appear in output, verbose, errors, progress or -WhatIf text: only key names do.</para>
/// </summary>
[Cmdlet(VerbsData.Update, "Secret", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(SecretRotationResult))]
public sealed class UpdateSecretCommand : KubeCmdlet
{
    /// <summary>The secret's name (binds from Get-Secret objects).</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>New values: key -> SecureString (plain strings work but are discouraged; byte[] for binary values).</summary>
    [Parameter(Position = 1)]
    public Hashtable? Data { get; set; }

    /// <summary>Keys to give new random values (New-RandomSecret rules: -GenerateLength, -GenerateEncoding).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Generate { get; set; }

    /// <summary>For -Generate: random bytes (Base64/Base64Url/Hex) or characters (Alphanumeric). Default 32.</summary>
    [Parameter]
    [ValidateRange(1, RandomSecret.MaxLength)]
    public int GenerateLength { get; set; } = 32;

    /// <summary>For -Generate: Base64 (default), Hex, Alphanumeric or Base64Url.</summary>
    [Parameter]
    [ValidateSet("Base64", "Hex", "Alphanumeric", "Base64Url")]
    public string GenerateEncoding { get; set; } = "Base64";

    /// <summary>Keep the keys not mentioned (the default).</summary>
    [Parameter]
    public SwitchParameter Merge { get; set; }

    /// <summary>The secret holds exactly the keys given afterwards: others are removed.</summary>
    [Parameter]
    public SwitchParameter Replace { get; set; }

    /// <summary>Restart only these Deployments/StatefulSets among those that use the secret (a name that does not use it is an error before any change).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Restart { get; set; }

    /// <summary>Change the secret only; restart nothing (the pods pick the new values up when they next start; mounted volumes update within a minute or so).</summary>
    [Parameter]
    public SwitchParameter NoRestart { get; set; }

    /// <summary>Seconds to wait for the rollouts (and again for a rollback). Default 300.</summary>
    [Parameter]
    [ValidateRange(1, 86400)]
    public double TimeoutSec { get; set; } = 300;

    /// <summary>Do not ask for confirmation. -WhatIf and $WhatIfPreference still only report; -Confirm still asks (the rule: OpsCmdlet.ConfirmAsync).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        if (Merge && Replace)
            Fail(new OpsToolsException("SecretModeConflict", OpsErrorKind.InvalidArgument, "Give -Merge or -Replace, not both."), "SecretModeConflict", ErrorCategory.InvalidArgument, Name);
        if (NoRestart && Restart is not null)
            Fail(new OpsToolsException("SecretRestartConflict", OpsErrorKind.InvalidArgument, "Give -Restart or -NoRestart, not both."), "SecretRestartConflict", ErrorCategory.InvalidArgument, Name);

        var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        try
        {
            try { CollectData(data); }
            catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, Name); }
            if (data.Count == 0)
                Fail(new OpsToolsException("SecretDataMissing", OpsErrorKind.InvalidArgument, $"Update-Secret '{Name}': give new values with -Data or keys to generate with -Generate."), "SecretDataMissing", ErrorCategory.InvalidArgument, Name);
            var target = ResolveTarget();
            var request = new SecretRotationRequest
            {
                Name = Name, Data = data, Replace = Replace, NoRestart = NoRestart, Restart = Restart, Timeout = TimeSpan.FromSeconds(TimeoutSec),
            };
            SecretRotationPlan plan;
            try { plan = await SecretRotation.PlanAsync(target, target.Namespace, request, ct); }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, Name); return; }

            var what = $"secret '{Name}' in {target.Describe()}";
            if (!await ConfirmAsync(what, plan.Describe(request.Timeout), force: Force)) return;
            if (plan.ChangedKeys.Count == 0 && plan.Restart.Count > 0)
                Warning($"Secret '{Name}': the values given equal the current ones; the workloads are restarted anyway.");

            var activity = $"Rotating secret '{Name}'";
            SecretRotationResult result;
            try
            {
                result = await SecretRotation.ExecuteAsync(target, plan, request, Verbose,
                    status => Progress(new ProgressRecord(1, activity, $"{status.Kind.ToLowerInvariant()}/{status.Name}: {status.State}") { CurrentOperation = status.Message }), ct);
            }
            catch (OpsToolsException e) { ObjectError(e, e.ErrorId, Name); return; } // nothing was changed
            finally { Progress(new ProgressRecord(1, activity, "done") { RecordType = ProgressRecordType.Completed }); }

            Output(result);
            if (result.Status != SecretRotationStatus.Completed)
            {
                var id = result.Status == SecretRotationStatus.RolledBack ? "SecretRotationRolledBack" : "SecretRotationFailed";
                Error(new ErrorRecord(new OpsToolsException(id, OpsErrorKind.OperationFailed, result.Message, Name), id, ErrorCategory.OperationStopped, result));
            }
        }
        finally
        {
            foreach (var v in data.Values) Array.Clear(v);
        }
    }

    private void CollectData(Dictionary<string, byte[]> data)
    {
        foreach (DictionaryEntry entry in Data ?? new Hashtable())
        {
            var key = entry.Key is PSObject pk ? pk.BaseObject.ToString() ?? "" : entry.Key?.ToString() ?? "";
            var value = entry.Value is PSObject pv ? pv.BaseObject : entry.Value;
            data[key] = value switch
            {
                SecureString secure => Utf8(secure),
                byte[] bytes => (byte[])bytes.Clone(),
                string text => WarnPlain(key, text),
                null => throw Invalid($"Update-Secret '{Name}': key '{key}' has no value."),
                _ => throw Invalid($"Update-Secret '{Name}': key '{key}' has a value of type {value.GetType().Name}; give a SecureString (or byte[])."),
            };
        }
        if (Generate is null) return;
        var encoding = Enum.Parse<RandomSecretEncoding>(GenerateEncoding, ignoreCase: true);
        foreach (var key in Generate)
        {
            if (data.ContainsKey(key)) throw Invalid($"Update-Secret '{Name}': key '{key}' is both in -Data and in -Generate.");
            var chars = RandomSecret.Generate(GenerateLength, encoding);
            try { data[key] = Encoding.UTF8.GetBytes(chars); }
            finally { Array.Clear(chars); }
        }
    }

    private OpsToolsException Invalid(string message) => new("SecretDataInvalid", OpsErrorKind.InvalidArgument, message, Name);

    private byte[] WarnPlain(string key, string text)
    {
        Warning($"Update-Secret '{Name}': the value of key '{key}' was given as a plain string; strings stay in memory and history. Prefer a SecureString (New-RandomSecret, Read-Host -AsSecureString).");
        return Encoding.UTF8.GetBytes(text);
    }

    private static byte[] Utf8(SecureString secure)
    {
        var ptr = Marshal.SecureStringToGlobalAllocUnicode(secure);
        var chars = new char[secure.Length];
        try
        {
            Marshal.Copy(ptr, chars, 0, chars.Length);
            return Encoding.UTF8.GetBytes(chars);
        }
        finally
        {
            Array.Clear(chars);
            Marshal.ZeroFreeGlobalAllocUnicode(ptr);
        }
    }
}
