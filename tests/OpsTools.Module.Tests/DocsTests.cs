using System.Text.RegularExpressions;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests;

/// <summary>docs/ stays in step with the commands: a page per exported command, in PlatyPS layout.</summary>
public class DocsTests
{
    public static IEnumerable<object[]> ExportedCommands()
    {
        using var s = new ModuleSession();
        return s.Invoke("(Get-Command -Module OpsTools).Name").Select(o => new object[] { o.BaseObject.ToString()! }).ToList();
    }

    [Theory]
    [MemberData(nameof(ExportedCommands))]
    public void Every_exported_command_has_a_page_with_examples_and_every_parameter(string command)
    {
        var page = Path.Combine(RepoPaths.Root, "docs", command + ".md");
        Assert.True(File.Exists(page), $"docs/{command}.md is missing");
        var text = File.ReadAllText(page);
        foreach (var section in new[] { "## SYNOPSIS", "## SYNTAX", "## DESCRIPTION", "## EXAMPLES", "## PARAMETERS", "## INPUTS", "## OUTPUTS" })
            Assert.Contains(section, text);
        Assert.StartsWith("---", text);
        Assert.Contains($"# {command}", text);
        Assert.True(Regex.Matches(text, "^### Example", RegexOptions.Multiline).Count >= 2, $"{command}: fewer than two examples");

        using var s = new ModuleSession();
        var common = new HashSet<string>(System.Management.Automation.Cmdlet.CommonParameters.Concat(System.Management.Automation.Cmdlet.OptionalCommonParameters));
        var parameters = s.Invoke($"(Get-Command {command}).Parameters.Keys").Select(o => o.BaseObject.ToString()!).Where(p => !common.Contains(p));
        foreach (var parameter in parameters)
        {
            Assert.True(text.Contains($"### -{parameter}"), $"docs/{command}.md does not document -{parameter}");
            // What Get-Help -Parameter shows: the text between the heading and the yaml block, in words, never the
            // source or XML doc comments it was first drafted from.
            var description = Regex.Match(text, $@"^### -{parameter}\r?\n(?<d>.*?)^```yaml", RegexOptions.Multiline | RegexOptions.Singleline).Groups["d"].Value;
            Assert.False(string.IsNullOrWhiteSpace(description), $"docs/{command}.md: -{parameter} has no description");
            Assert.DoesNotMatch(new Regex(@"^\s*///|<summary>|</summary>|<para\b|\[Cmdlet\(|\bpublic (sealed |abstract )?class\b|private const", RegexOptions.Multiline), description);
        }
    }
}
