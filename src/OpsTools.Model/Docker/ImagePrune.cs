using System.Globalization;

namespace OpsTools.Docker;

/// <summary>One image Remove-UnusedImage removed (or, with -WhatIf, would remove).</summary>
public sealed class PrunedImage
{
    /// <summary>The engine (unix:///var/run/docker.sock ...).</summary>
    public string DockerHost { get; set; } = "";
    /// <summary>The image id (sha256:...).</summary>
    public string Id { get; set; } = "";
    /// <summary>Its tags; empty for a dangling image (&lt;none&gt;:&lt;none&gt;).</summary>
    public IReadOnlyList<string> Tags { get => _tags; set => _tags = TextList.From(value); }
    private IReadOnlyList<string> _tags = new TextList<string>();
    /// <summary>True when it had no tag (docker images shows &lt;none&gt;).</summary>
    public bool Dangling { get; set; }
    /// <summary>Its size as docker images shows it (bytes), layers shared with other images included.</summary>
    public long Size { get; set; }
    public DateTime Created { get; set; }
    /// <summary>Removed, WhatIf (would be removed), or Failed (the engine refused; see the error).</summary>
    public string Status { get; set; } = "Removed";
    /// <summary>Carries the engine to the next command in a pipeline (no secret).</summary>
    public string DockerId { get; set; } = "";
    public override string ToString() => $"{(Tags.Count > 0 ? string.Join(", ", Tags) : "<none>")} {Id}";
}

/// <summary>What Remove-UnusedImage did on one engine: the images and the space reclaimed (docker image prune's "Total reclaimed space").</summary>
public sealed class ImagePruneResult
{
    public string DockerHost { get; set; } = "";
    /// <summary>Dangling (default) or Unused (-All: every image no container uses).</summary>
    public string Mode { get; set; } = "Dangling";
    /// <summary>True with -WhatIf: nothing was removed; the list and the space are what would go.</summary>
    public bool WhatIf { get; set; }
    public IReadOnlyList<PrunedImage> Images { get => _images; set => _images = TextList.From(value); }
    private IReadOnlyList<PrunedImage> _images = new TextList<PrunedImage>();
    /// <summary>Images removed (or, with -WhatIf, that would be).</summary>
    public int Count => Images.Count(i => i.Status != "Failed");
    /// <summary>The removed images' sizes added up (with -WhatIf: of those that would go), as docker images shows them: a layer another kept image shares is counted but stays on disk, so this is an upper bound.</summary>
    public long ReclaimedBytes { get; set; }
    /// <summary>ReclaimedBytes readable: 12.3 MB (docker's units: 1000-based).</summary>
    public string Reclaimed => ByteSize.Format(ReclaimedBytes, ByteFormat.Docker);
    public DateTime Timestamp { get; set; } = DateTime.UtcNow;
    public string DockerId { get; set; } = "";

    public override string ToString() => $"{Count} image(s), {Reclaimed}{(WhatIf ? " (WhatIf)" : "")}";
}
