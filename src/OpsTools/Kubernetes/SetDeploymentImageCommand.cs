using System.Collections;
using System.Management.Automation;
using OpsTools.Engine.Kubernetes;
using OpsTools.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Sets container images of a Deployment or StatefulSet (oc set image / kubectl set image), recording the change cause.</para>
/// <para type="description">-Image @{ container = 'image' }, or -Image 'image' for the only container (or the one -Container names). Starts a rolling update; -Wait waits for it. Records kubernetes.io/change-cause so Get-RolloutHistory shows what changed. Returns the images before and after.</para>
/// </summary>
[Cmdlet(VerbsCommon.Set, "DeploymentImage", SupportsShouldProcess = true, DefaultParameterSetName = SingleSet, HelpUri = HelpLinks.Base + "Set-DeploymentImage.md")]
[OutputType(typeof(WorkloadChangeResult))]
public sealed class SetDeploymentImageCommand : KubeWorkloadChangeCmdlet
{
    private const string SingleSet = "Single";

    /// <summary>The image: a hashtable @{ container = 'image'; ... }, 'container=image' strings (as 'oc set image deployment/x container=image' takes them), or one image for the only container (or -Container).</summary>
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
        // 'container=image' strings, as oc/kubectl take them, become a table too.
        if (image is string text && text.Contains('=')) image = new[] { text };
        if (image is IEnumerable list and not string and not IDictionary)
        {
            var table = new Hashtable();
            foreach (var item in list)
            {
                var pair = (item is PSObject pi ? pi.BaseObject : item)?.ToString() ?? "";
                var eq = pair.IndexOf('=');
                if (eq <= 0)
                    Fail(new OpsToolsException("KubeImageArguments", OpsErrorKind.InvalidArgument,
                        $"-Image '{pair}': with several values each must be container=image (as 'oc set image' takes them), or give -Image @{{ container = 'image' }}.", pair), "KubeImageArguments", ErrorCategory.InvalidArgument, pair);
                table[pair[..eq]] = pair[(eq + 1)..];
            }
            image = table;
        }
        if (image is IDictionary dictionary)
        {
            if (Container is not null)
                Fail(new OpsToolsException("KubeImageArguments", OpsErrorKind.InvalidArgument, "-Container goes with a single -Image 'image'; with -Image @{ container = 'image' } (or container=image) the containers are named already.", null), "KubeImageArguments", ErrorCategory.InvalidArgument, null);
            if (dictionary.Count == 0)
                Fail(new OpsToolsException("KubeImageArguments", OpsErrorKind.InvalidArgument, "-Image names no container: say @{ container = 'image' }.", null), "KubeImageArguments", ErrorCategory.InvalidArgument, null);
            foreach (var (container, value) in Pairs(dictionary))
                if (!IsImageReference(value))
                    Fail(new OpsToolsException("KubeImageArguments", OpsErrorKind.InvalidArgument, $"-Image: '{value}' for container '{container}' is not an image reference (registry/name:tag or name@sha256:digest).", container), "KubeImageArguments", ErrorCategory.InvalidArgument, container);
            _table = dictionary;
        }
        else
        {
            _single = image.ToString();
            if (!IsImageReference(_single))
                Fail(new OpsToolsException("KubeImageArguments", OpsErrorKind.InvalidArgument,
                    $"-Image '{_single}' is not an image reference. Give -Image 'registry/name:tag' (with -Container when there are several containers), 'container=registry/name:tag' or @{{ container = 'registry/name:tag' }}.", _single),
                    "KubeImageArguments", ErrorCategory.InvalidArgument, _single);
        }
        return Task.CompletedTask;
    }

    private static bool IsImageReference(string? value) =>
        !string.IsNullOrWhiteSpace(value) && !value.Any(char.IsWhiteSpace) && !value.Contains('=') && !value.StartsWith('-');

    protected override Task ProcessRecordAsync(CancellationToken ct) =>
        EditEachAsync("SetImage", "Set image", workload =>
        {
            if (_table is null) return KubeWorkloadEdit.SetImage(workload, Container, _single!);
            var images = new Dictionary<string, string>();
            foreach (var (c, i) in Pairs(_table)) images[c] = i!;
            return KubeWorkloadEdit.SetImages(workload, images);
        }, changes => ChangeCause ?? "Set-DeploymentImage " + string.Join(" ", changes.Select(c => $"{c.Container}={c.After}")), ct);
}
