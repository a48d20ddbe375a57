using System.Text;
using Markdig.Extensions.Tables;
using Markdig.Syntax;

namespace OpsTools.HelpGen;

/// <summary>An about_ page as a classic about_*.help.txt: UTF-8, headings in capitals, text wrapped at 80 columns.</summary>
internal static class About
{
    private const int Width = 80;

    public static void Write(DocPage page, string path)
    {
        var lines = new List<string> { "TOPIC", "    " + page.Title, "" };
        foreach (var section in page.Sections)
        {
            lines.Add(section.Title.ToUpperInvariant());
            Blocks(section.Blocks, lines, 4);
            foreach (var sub in section.Subsections)
            {
                lines.Add("  " + sub.Title.ToUpperInvariant());
                Blocks(sub.Blocks, lines, 4);
            }
        }
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        File.WriteAllText(path, string.Join("\n", lines) + "\n", new UTF8Encoding(false));
    }

    private static void Blocks(IEnumerable<Block> blocks, List<string> lines, int indent)
    {
        foreach (var block in blocks)
        {
            switch (block)
            {
                case ParagraphBlock p:
                    lines.AddRange(Text.Wrap(Text.Inline(p.Inline), indent, Width));
                    break;
                case ListBlock list:
                    foreach (var para in Text.Paragraphs(new[] { list }).Select(x => x.TrimStart(Text.TableMark)))
                    {
                        var hanging = para.StartsWith("- ") ? 2 : para.IndexOf(' ') + 1;
                        lines.AddRange(Text.Wrap(para, indent, Width, hanging));
                    }
                    break;
                case Table table:
                    lines.AddRange(TableLines(table, indent));
                    break;
                case FencedCodeBlock or CodeBlock:
                    lines.AddRange(Text.Code((LeafBlock)block).Split('\n').Select(l => l.Length == 0 ? "" : new string(' ', indent + 4) + l));
                    break;
                case HeadingBlock h:
                    lines.Add(new string(' ', indent - 2) + Text.Inline(h.Inline).ToUpperInvariant());
                    continue;
                default:
                    foreach (var para in Text.Paragraphs(new[] { block }).Select(x => x.TrimStart(Text.TableMark))) lines.AddRange(Text.Wrap(para, indent, Width));
                    break;
            }
            lines.Add("");
        }
    }

    /// <summary>Columns when they fit in 80 columns, else one "Name: meaning" entry per row.</summary>
    private static IEnumerable<string> TableLines(Table table, int indent)
    {
        var rows = table.OfType<TableRow>().Select(r => (r.IsHeader, Cells: Text.Cells(r))).ToList();
        var columns = rows.Max(r => r.Cells.Count);
        var widths = Enumerable.Range(0, columns).Select(i => rows.Max(r => i < r.Cells.Count ? r.Cells[i].Length : 0)).ToArray();
        if (indent + widths.Sum() + 2 * (columns - 1) <= Width)
        {
            foreach (var (isHeader, cells) in rows)
            {
                yield return (new string(' ', indent) + string.Join("  ", cells.Select((c, i) => c.PadRight(widths[i])))).TrimEnd();
                if (isHeader) yield return new string(' ', indent) + string.Join("  ", widths.Select(wd => new string('-', wd)));
            }
            yield break;
        }
        var first = widths[0];
        foreach (var (isHeader, cells) in rows.Where(r => !r.IsHeader))
        {
            var text = cells[0] + ": " + string.Join("; ", cells.Skip(1).Where(c => c.Length > 0));
            foreach (var l in Text.Wrap(text, indent, Width, 4)) yield return l;
        }
    }
}
