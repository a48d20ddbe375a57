using System.Collections;
using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Sets container images of a Deployment or StatefulSet (oc set image / kubectl set image), recording the change cause.</para>
/// <para type="description">-Image @{ container = 'image' }, or -Image 'image' for the only container (or the one -Container names). Starts a rolling update; -Wait waits for it. Records kubernetes.io/change-cause so Get-RolloutHistory shows what changed. Returns the images before and after.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "DeploymentImage", SupportsShouldProcess = true, DefaultParameterSetName = "Single")]
[OutputType(typeof(WorkloadChangeResult))]
public sealed class SetDeploymentImageCommand : KubeWorkloadChangeCmdlet
{
    /// <summary>The image: a hashtable @{ container = 'image'; ... } (like 'oc set image deployment/x container=image'), or one image for the only container (or -Container).</summary>
    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNull]
    public object Image { get; set; } = null!;

    /// <summary>With a single -Image: the container to set it on. Default: the only container (an error lists them when there are several).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Container { get; set; }

    /// <summary>The change cause to record (kubernetes.io/change-cause). Default: "Set-DeploymentImage container=image ...".</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ChangeCause { get; set; }

    private IDictionary? _table;
    private string? _single;

    protected override Task BeginProcessingAsync(CancellationToken cancellationToken)
    {
        var image = Image is PSObject p ? p.BaseObject : Image;
        if (image is IDictionary table)
        {
            if (Container is not null)
                Fail(new OpsToolsException("KubeImageArguments", OpsErrorKind.InvalidArgument, "-Container goes with a single -Image 'image'; with -Image @{ container = 'image' } the table names the containers.", null), "KubeImageArguments", ErrorCategory.InvalidArgument, null);
            if (table.Count == 0)
                Fail(new OpsToolsException("KubeImageArguments", OpsErrorKind.InvalidArgument, "-Image @{} names no container: say @{ container = 'image' }.", null), "KubeImageArguments", ErrorCategory.InvalidArgument, null);
            foreach (var (container, value) in Pairs(table))
                if (string.IsNullOrWhiteSpace(value) || value.Any(char.IsWhiteSpace))
                    Fail(new OpsToolsException("KubeImageArguments", OpsErrorKind.InvalidArgument, $"-Image: '{value}' for container '{container}' is not an image reference.", container), "KubeImageArguments", ErrorCategory.InvalidArgument, container);
            _table = table;
        }
        else
        {
            _single = image.ToString();
            if (string.IsNullOrWhiteSpace(_single) || _single.Any(char.IsWhiteSpace) || _single.Contains('='))
                Fail(new OpsToolsException("KubeImageArguments", OpsErrorKind.InvalidArgument,
                    $"-Image '{_single}' is not an image reference. Give -Image 'registry/name:tag' (with -Container when there are several containers) or -Image @{{ container = 'registry/name:tag' }}.", _single),
                    "KubeImageArguments", ErrorCategory.InvalidArgument, _single);
        }
        return Task.CompletedTask;
    }

    protected override Task ProcessRecordAsync(CancellationToken ct) =>
        EditEachAsync("SetImage", "Set image", workload =>
        {
            if (_table is null) return KubeWorkloadEdit.SetImage(workload, Container, _single!);
            var images = new Dictionary<string, string>();
            foreach (var (c, i) in Pairs(_table)) images[c] = i!;
            return KubeWorkloadEdit.SetImages(workload, images);
        }, changes => ChangeCause ?? "Set-DeploymentImage " + string.Join(" ", changes.Select(c => $"{c.Container}={c.After}")), ct);
}
