using System.Collections;
using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Sets or removes annotations and labels on a Deployment or StatefulSet (kubectl annotate / label), e.g. the runbooks' maintenance mode.</para>
/// <para type="description">On the workload's own metadata by default: no pod is restarted. With -Template they go on the pod template instead, which starts a rolling update that replaces every pod. Returns the resulting annotations and labels.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "DeploymentAnnotation", SupportsShouldProcess = true, HelpUri = HelpLinks.Base + "Set-DeploymentAnnotation.md")]
[OutputType(typeof(WorkloadChangeResult))]
public sealed class SetDeploymentAnnotationCommand : KubeWorkloadChangeCmdlet
{
    /// <summary>Annotations to set: @{ 'ops/maintenance' = 'true' }; a $null value removes one.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNull]
    public IDictionary? Annotation { get; set; }

    /// <summary>Labels to set: @{ maintenance = 'true' }; a $null value removes one.</summary>
    [Parameter]
    [ValidateNotNull]
    public IDictionary? Label { get; set; }

    /// <summary>Annotation and label keys to remove (from both).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Remove { get; set; }

    /// <summary>Put them on the pod template (spec.template.metadata) instead: this changes the pod template and so REPLACES EVERY POD (a rolling update).</summary>
    [Parameter]
    public SwitchParameter Template { get; set; }

    private Dictionary<string, string?> _annotations = new();
    private Dictionary<string, string?> _labels = new();

    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        if (Annotation is null or { Count: 0 } && Label is null or { Count: 0 } && Remove is null)
            Fail(new OpsToolsException("KubeMetadataMissing", OpsErrorKind.InvalidArgument, "Say what to change: -Annotation @{ key = 'value' }, -Label @{ key = 'value' } and/or -Remove key.", null), "KubeMetadataMissing", ErrorCategory.InvalidArgument, null);
        _annotations = Pairs(Annotation).ToDictionary(p => p.Key, p => p.Value);
        _labels = Pairs(Label).ToDictionary(p => p.Key, p => p.Value);
        foreach (var key in _annotations.Keys.Concat(_labels.Keys).Concat(Remove ?? Array.Empty<string>()))
            if (!System.Text.RegularExpressions.Regex.IsMatch(key, @"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"))
                Fail(new OpsToolsException("KubeMetadataInvalidKey", OpsErrorKind.InvalidArgument, $"'{key}' is not a valid annotation/label key ([prefix/]name: name up to 63 letters, digits, '-', '_', '.'; prefix a DNS subdomain). Nothing was changed.", key), "KubeMetadataInvalidKey", ErrorCategory.InvalidArgument, key);
        foreach (var (key, value) in _labels)
            if (value is not null && !System.Text.RegularExpressions.Regex.IsMatch(value, @"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$"))
                Fail(new OpsToolsException("KubeMetadataInvalidValue", OpsErrorKind.InvalidArgument, $"label '{key}': '{value}' is not a valid label value (up to 63 letters, digits, '-', '_', '.', starting and ending alphanumeric). Use an annotation for free text. Nothing was changed.", key), "KubeMetadataInvalidValue", ErrorCategory.InvalidArgument, key);
        return Task.CompletedTask;
    }

    protected override Task ProcessRecordAsync(CancellationToken ct) =>
        EditEachAsync("SetAnnotation", Template ? "Set pod template metadata" : "Set metadata",
            workload => KubeWorkloadEdit.SetMetadata(workload, _annotations, _labels, Remove ?? Array.Empty<string>(), Template),
            null, ct);
}
