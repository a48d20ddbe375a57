using Markdig;
using Markdig.Extensions.Tables;
using Markdig.Extensions.Yaml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;
using YamlDotNet.RepresentationModel;

namespace OpsTools.HelpGen;

internal sealed class Section
{
    public required string Title { get; init; }
    public int Line { get; init; }
    public List<Block> Blocks { get; } = new();
    public List<Section> Subsections { get; } = new();
}

/// <summary>A docs/ page in PlatyPS layout, split into its sections; text rendering for help.</summary>
internal sealed class DocPage
{
    public static readonly MarkdownPipeline Pipeline = new MarkdownPipelineBuilder().UseYamlFrontMatter().UsePipeTables().Build();

    public required string Path { get; init; }
    public string? Title { get; private set; }
    public Dictionary<string, string> FrontMatter { get; } = new(StringComparer.OrdinalIgnoreCase);
    public List<Section> Sections { get; } = new();

    public Section? this[string title] => Sections.FirstOrDefault(s => s.Title.Equals(title, StringComparison.OrdinalIgnoreCase));

    public static DocPage Load(string path)
    {
        var page = new DocPage { Path = path };
        var doc = Markdown.Parse(File.ReadAllText(path), Pipeline);
        Section? h2 = null, h3 = null;
        foreach (var block in doc)
        {
            switch (block)
            {
                case YamlFrontMatterBlock yaml:
                    foreach (var line in yaml.Lines.Lines.Select(l => l.ToString()))
                    {
                        var colon = line.IndexOf(':');
                        if (colon > 0) page.FrontMatter[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                    }
                    break;
                case HeadingBlock { Level: 1 } h1:
                    page.Title = Text.Inline(h1.Inline).Trim();
                    break;
                case HeadingBlock { Level: 2 } h:
                    h2 = new Section { Title = Text.Inline(h.Inline).Trim(), Line = h.Line + 1 };
                    h3 = null;
                    page.Sections.Add(h2);
                    break;
                case HeadingBlock { Level: 3 } h when h2 != null:
                    h3 = new Section { Title = Text.Inline(h.Inline).Trim(), Line = h.Line + 1 };
                    h2.Subsections.Add(h3);
                    break;
                default:
                    (h3 ?? h2)?.Blocks.Add(block);
                    break;
            }
        }
        return page;
    }

    /// <summary>The key: value lines of a parameter's ```yaml block.</summary>
    public static Dictionary<string, string> ParameterYaml(Section parameter)
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var block = parameter.Blocks.OfType<FencedCodeBlock>().FirstOrDefault(b => b.Info == "yaml");
        if (block == null) return result;
        var stream = new YamlStream();
        try { stream.Load(new StringReader(block.Lines.ToString())); }
        catch (YamlDotNet.Core.YamlException e)
        {
            // A value such as * or & must be quoted in YAML: say where, instead of failing the build with a stack trace.
            throw new InvalidDataException($"the ```yaml block of {parameter.Title} is not valid YAML ({e.Start}: {e.Message}); quote values that start with * & ! or {{", e);
        }
        if (stream.Documents.Count > 0 && stream.Documents[0].RootNode is YamlMappingNode map)
            foreach (var (k, v) in map.Children)
                result[((YamlScalarNode)k).Value ?? ""] = (v as YamlScalarNode)?.Value ?? "";
        return result;
    }
}

/// <summary>Markdown to plain text: paragraphs for MAML, wrapped lines for about_ topics.</summary>
internal static class Text
{
    public static string Inline(ContainerInline? container)
    {
        if (container == null) return "";
        var sb = new System.Text.StringBuilder();
        foreach (var inline in container)
        {
            switch (inline)
            {
                case LiteralInline l: sb.Append(l.Content.ToString()); break;
                case CodeInline c: sb.Append(c.Content); break;
                case LinkInline { IsImage: true }: break;
                case LinkInline link:
                    var text = Inline(link);
                    sb.Append(text);
                    if (link.Url is { } url && url.StartsWith("http", StringComparison.OrdinalIgnoreCase) && url != text) sb.Append(" (").Append(url).Append(')');
                    break;
                case AutolinkInline a: sb.Append(a.Url); break;
                case LineBreakInline br: sb.Append(br.IsHard ? "\n" : " "); break;
                case HtmlEntityInline e: sb.Append(e.Transcoded.ToString()); break;
                case HtmlInline h: sb.Append(h.Tag); break;
                case ContainerInline inner: sb.Append(Inline(inner)); break;
            }
        }
        return sb.ToString();
    }

    public static string Code(LeafBlock code) =>
        string.Join("\n", code.Lines.Lines.Take(code.Lines.Count).Select(l => l.ToString().TrimEnd())).TrimEnd();

    /// <summary>One string per paragraph (list items and table rows are paragraphs of their own).</summary>
    public static List<string> Paragraphs(IEnumerable<Block> blocks)
    {
        var result = new List<string>();
        foreach (var block in blocks)
        {
            switch (block)
            {
                case ParagraphBlock p: result.Add(Inline(p.Inline)); break;
                case HeadingBlock h: result.Add(Inline(h.Inline).ToUpperInvariant()); break;
                case ListBlock list:
                    var n = int.TryParse(list.OrderedStart, out var start) ? start : 1;
                    foreach (var item in list.OfType<ListItemBlock>())
                    {
                        var bullet = list.IsOrdered ? $"{n++}. " : "- ";
                        var inner = Paragraphs(item);
                        if (inner.Count == 0) continue;
                        result.Add(bullet + inner[0]);
                        result.AddRange(inner.Skip(1).Select(s => "  " + s));
                    }
                    break;
                case Table table:
                    // One paragraph, a row a line (marked, so the wrapping indents a row's continuation).
                    result.Add(TableMark + string.Join("\n", table.OfType<TableRow>().Where(r => !r.IsHeader).Select(r => TableRowText(Cells(r)))));
                    break;
                case FencedCodeBlock or CodeBlock:
                    result.Add(string.Join("\n", Code((LeafBlock)block).Split('\n').Select(l => "    " + l)));
                    break;
                case QuoteBlock q: result.AddRange(Paragraphs(q)); break;
            }
        }
        return result;
    }

    public const char TableMark = '\u0001';

    public static List<string> Cells(TableRow row) =>
        row.OfType<TableCell>().Select(c => string.Join(" ", Paragraphs(c)).TrimStart(TableMark)).ToList();

    /// <summary>A table row as one readable line: "Name (Type): Meaning", "Name: Meaning".</summary>
    public static string TableRowText(List<string> cells) => cells.Count switch
    {
        3 => $"{cells[0]} ({cells[1]}): {cells[2]}",
        2 => $"{cells[0]}: {cells[1]}",
        _ => string.Join(" | ", cells),
    };

    public static IEnumerable<string> Wrap(string text, int indent, int width, int hanging = 0)
    {
        var lines = new List<string>();
        foreach (var para in text.Split('\n'))
        {
            var line = new System.Text.StringBuilder(new string(' ', indent));
            var first = true;
            foreach (var word in para.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var fresh = line.Length == (first ? indent : indent + hanging);
                if (!fresh && line.Length + 1 + word.Length > width)
                {
                    lines.Add(line.ToString());
                    line.Clear().Append(' ', indent + hanging);
                    first = false;
                    fresh = true;
                }
                if (!fresh) line.Append(' ');
                line.Append(word);
            }
            lines.Add(line.ToString().TrimEnd());
        }
        return lines;
    }
}
