using System.Management.Automation;
using OpsTools.Docker;
using OpsTools.Engine.Docker;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Docker;

/// <summary>
/// <para type="synopsis">Removes dangling images, or with -All every image no container uses (docker image prune [-a]); reports the space reclaimed.</para>
/// <para type="description">The list is computed first: dangling images (untagged, &lt;none&gt;:&lt;none&gt;), or with -All every image that no container uses, running or stopped, and that is not the base of a kept image; -Until and -Filter narrow it like docker image prune's filters. -WhatIf lists exactly those images and the space they take. Then each image is removed on its own, never forced, so an image that a container started using meanwhile is refused by the engine (a non-terminating error) and stays. Returns one OpsTools.Docker.ImagePruneResult with the images and the reclaimed space (bytes and readable).</para>
/// </summary>
[Cmdlet(VerbsCommon.Remove, "UnusedImage", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "Remove-UnusedImage.md")]
[OutputType(typeof(ImagePruneResult))]
public sealed class RemoveUnusedImageCommand : DockerCmdlet
{
    /// <summary>Every image that no container (running or stopped) uses, not only dangling ones (docker image prune -a).</summary>
    [Parameter]
    [Alias("a")]
    public SwitchParameter All { get; set; }

    /// <summary>Only images created before this time (a DateTime, or a TimeSpan/duration meaning that long ago: 24h is '1.00:00:00'); docker image prune --filter until=24h.</summary>
    [Parameter]
    [PointInTimeTransformation]
    public DateTime? Until { get; set; }

    /// <summary>Only images with these labels: 'key' or 'key=value' (every one must match); docker image prune --filter label=....</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [Alias("Label")]
    public string[]? Filter { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var until = Until;
        IReadOnlyList<PrunedImage> candidates;
        try { candidates = await ImagePruner.CandidatesAsync(target, All, until, Filter, ct).ConfigureAwait(false); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.ConnectionError, target.Endpoint.ToString()); return; }
        var result = new ImagePruneResult
        {
            DockerHost = target.Endpoint.ToString(), Mode = All ? "Unused" : "Dangling", DockerId = target.Id,
        };
        var done = new List<PrunedImage>();
        var whatIf = false;
        foreach (var image in candidates)
        {
            var label = $"image {(image.Tags.Count > 0 ? string.Join(", ", image.Tags) : "<none>")} ({Short(image.Id)}, {ByteSize.Format(image.Size, ByteFormat.Docker)}) on {target.Describe()}";
            var answer = await ConfirmOutcomeAsync(label, "Remove image").ConfigureAwait(false);
            if (answer != Confirmation.Yes)
            {
                if (answer == Confirmation.WhatIf)
                {
                    whatIf = true;
                    image.Status = "WhatIf";
                    done.Add(image);
                }
                continue;
            }
            try
            {
                await ImagePruner.RemoveAsync(target, image, ct).ConfigureAwait(false);
                image.Status = "Removed";
                Verbose($"Removed {label}.");
            }
            catch (OpsToolsException e)
            {
                image.Status = "Failed";
                ObjectError(e, e.ErrorId, image.Id);
            }
            done.Add(image);
        }
        result.WhatIf = whatIf;
        result.Images = done;
        result.ReclaimedBytes = done.Where(i => i.Status != "Failed").Sum(i => i.Size);
        result.Timestamp = DateTime.UtcNow;
        if (candidates.Count == 0)
            Verbose($"No {(All ? "unused" : "dangling")} image{(Filter is { Length: > 0 } ? " with " + string.Join(", ", Filter) : "")} on {target.Describe()}.");
        Output(result);
    }

    private static string Short(string id) => id.StartsWith("sha256:", StringComparison.Ordinal) && id.Length > 19 ? id[7..19] : id;
}
