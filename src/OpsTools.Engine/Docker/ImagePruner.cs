using Docker.DotNet.Models;
using OpsTools.Docker;

namespace OpsTools.Engine.Docker;

/// <summary>
/// Finds and removes unused images like docker image prune (-a): the list is computed here first (so -WhatIf says exactly
/// what would go), then each image is removed on its own (never forced), so an image a container started using meanwhile
/// is refused by the engine rather than removed. Images used by any container, running or stopped, are never candidates.
/// </summary>
public static class ImagePruner
{
    /// <summary>The images to remove: dangling ones (or every unused one with <paramref name="all"/>), created before <paramref name="until"/>, with every label filter (key or key=value).</summary>
    public static async Task<IReadOnlyList<PrunedImage>> CandidatesAsync(DockerTarget target, bool all, DateTime? until, IReadOnlyList<string>? labels, CancellationToken ct)
    {
        var filters = new Dictionary<string, IDictionary<string, bool>>();
        if (!all) filters["dangling"] = new Dictionary<string, bool> { ["true"] = true };
        if (labels is { Count: > 0 }) filters["label"] = labels.ToDictionary(l => l, _ => true);
        var images = await DockerErrors.CallAsync(target, "list images", null,
            () => target.Client.Images.ListImagesAsync(new ImagesListParameters { All = false, Filters = filters }, ct), ct).ConfigureAwait(false);
        var containers = await DockerErrors.CallAsync(target, "list containers", null,
            () => target.Client.Containers.ListContainersAsync(new ContainersListParameters { All = true }, ct), ct).ConfigureAwait(false);
        var used = new HashSet<string>(containers.Select(c => c.ImageID).Where(x => !string.IsNullOrEmpty(x)), StringComparer.Ordinal);
        // An image whose child image is kept (a FROM base of another image) cannot be removed without it: skip it, like prune.
        var parents = new HashSet<string>(images.Select(im => im.ParentID).Where(x => !string.IsNullOrEmpty(x)), StringComparer.Ordinal);
        return images
            .Where(im => !used.Contains(im.ID) && !parents.Contains(im.ID))
            .Where(im => until is null || im.Created.ToUniversalTime() < until.Value)
            .Select(im =>
            {
                var tags = (im.RepoTags ?? new List<string>()).Where(t => t != "<none>:<none>").ToList();
                return new PrunedImage
                {
                    DockerHost = target.Endpoint.ToString(), Id = im.ID, Tags = tags, Dangling = tags.Count == 0,
                    Size = im.Size, Created = im.Created.ToUniversalTime(), Status = "WhatIf", DockerId = target.Id,
                };
            })
            .OrderBy(im => im.Created).ToList();
    }

    /// <summary>Removes one image (every tag of it, then the image), never forced: the engine refuses an image a container uses.</summary>
    public static async Task RemoveAsync(DockerTarget target, PrunedImage image, CancellationToken ct)
    {
        // By tag, so an image with several tags goes without -Force; the last untag deletes it.
        var refs = image.Tags.Count > 0 ? image.Tags.ToList() : new List<string> { image.Id };
        foreach (var r in refs)
        {
            try
            {
                await DockerErrors.CallAsync(target, $"remove image '{r}'", $"image '{r}'",
                    () => target.Client.Images.DeleteImageAsync(r, new ImageDeleteParameters { Force = false }, ct), ct).ConfigureAwait(false);
            }
            catch (OpsToolsException e) when (e.ErrorId == "DockerObjectNotFound") { } // gone meanwhile
        }
    }
}
