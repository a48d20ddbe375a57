namespace OpsTools.Commands.Infrastructure;

/// <summary>
/// Where the command pages (docs/*.md) are published: every cmdlet's HelpUri is <see cref="Base"/>
/// plus "Verb-Noun.md", so <c>Get-Help X -Online</c> opens its page. The build checks each HelpUri
/// against OpsTools.psd1's PrivateData.PSData.ProjectUri + "/blob/main/docs/": change both together
/// when the repository moves.
/// </summary>
public static class HelpLinks
{
    public const string ProjectUri = "https://github.com/opstools/OpsTools";
    public const string Base = ProjectUri + "/blob/main/docs/";
}
