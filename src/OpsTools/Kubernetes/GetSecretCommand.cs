using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Gets secrets' metadata: type, key names, value sizes and last change. Never their values.</para>
/// <para type="description">What 'kubectl describe secret' shows, as objects: useful to check a rotation (Update-Secret) or which keys a secret has. Values are not read into the output at all.</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "Secret", HelpUri = HelpLinks.Base + "Get-Secret.md")]
[OutputType(typeof(SecretInfo))]
public sealed class GetSecretCommand : KubeCmdlet
{
    /// <summary>Names (wildcards allowed). Default: all secrets of the namespace.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var names = Name ?? Array.Empty<string>();
        if (names.Length > 0 && names.All(n => !WildcardPattern.ContainsWildcardCharacters(n)))
        {
            foreach (var name in names)
            {
                try { Output(await KubeSecrets.GetAsync(target, target.Namespace, name, ct)); }
                catch (OpsToolsException e) { ObjectError(e, "KubeObjectNotFound", name); }
            }
            return;
        }
        IReadOnlyList<SecretInfo> all;
        try { all = await KubeSecrets.ListAsync(target, target.Namespace, ct); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.NotSpecified, target.Context); return; }
        var patterns = names.Select(n => WildcardPattern.Get(n, WildcardOptions.IgnoreCase)).ToList();
        foreach (var s in all)
            if (patterns.Count == 0 || patterns.Any(p => p.IsMatch(s.Name)))
                Output(s);
    }
}
