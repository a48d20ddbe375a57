using System.Text;
using System.Xml;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace OpsTools.HelpGen;

/// <summary>Writes MAML (helpItems schema="maml"): metadata from the code, prose from the page.</summary>
internal static class Maml
{
    private const string Msh = "http://msh";
    private const string MamlNs = "http://schemas.microsoft.com/maml/2004/10";
    private const string CommandNs = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private const string DevNs = "http://schemas.microsoft.com/maml/dev/2004/10";

    private static readonly string WhatIfText = "Shows what would happen if the command runs. The command is not run.";
    private static readonly string ConfirmText = "Prompts you for confirmation before running the command.";

    /// <summary>The facts a PlatyPS yaml block states about a parameter, as the code has them.</summary>
    public static List<(string Key, string Value)> YamlFacts(CommandModel command, ParamModel p)
    {
        var sets = p.Sets.Any(s => s.Set == CommandModel.AllSets) ? "(All)" : string.Join(", ", p.Sets.Select(s => s.Set));
        return new List<(string, string)>
        {
            ("Type", p.TypeName),
            ("Parameter Sets", sets),
            ("Aliases", p.Aliases.Count == 0 ? "None" : string.Join(", ", p.Aliases)),
            ("Required", p.Sets.Any(s => s.Mandatory) ? "True" : "False"),
            ("Position", Position(p.Sets.FirstOrDefault(s => s.Position != null))),
            ("Accept pipeline input", Pipeline(p.Sets)),
        };
    }

    private static string Position(SetEntry? e) => e?.Position is int i ? i.ToString() : "Named";

    private static string Pipeline(IEnumerable<SetEntry> sets)
    {
        var value = sets.Any(s => s.ByValue);
        var name = sets.Any(s => s.ByPropertyName);
        return (value, name) switch
        {
            (true, true) => "True (ByPropertyName, ByValue)",
            (true, false) => "True (ByValue)",
            (false, true) => "True (ByPropertyName)",
            _ => "False",
        };
    }

    public static void Write(string path, List<(CommandModel Command, DocPage Page)> commands, string? docsBase)
    {
        var settings = new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false), NewLineChars = "\n" };
        using var w = XmlWriter.Create(path, settings);
        w.WriteStartDocument();
        w.WriteStartElement("helpItems", Msh);
        w.WriteAttributeString("schema", "maml");
        foreach (var (command, page) in commands) WriteCommand(w, command, page, docsBase);
        w.WriteEndElement();
        w.WriteEndDocument();
    }

    private static void WriteCommand(XmlWriter w, CommandModel c, DocPage page, string? docsBase)
    {
        w.WriteStartElement("command", "command", CommandNs);
        w.WriteAttributeString("xmlns", "maml", null, MamlNs);
        w.WriteAttributeString("xmlns", "dev", null, DevNs);

        w.WriteStartElement("command", "details", CommandNs);
        w.WriteElementString("command", "name", CommandNs, c.Name);
        Description(w, Text.Paragraphs(page["SYNOPSIS"]!.Blocks));
        w.WriteElementString("command", "verb", CommandNs, c.Verb);
        w.WriteElementString("command", "noun", CommandNs, c.Noun);
        w.WriteEndElement();

        Description(w, Text.Paragraphs(page["DESCRIPTION"]!.Blocks));

        var documented = page["PARAMETERS"]!.Subsections.Where(s => s.Title.StartsWith('-'))
            .ToDictionary(s => s.Title[1..], StringComparer.OrdinalIgnoreCase);
        List<string> ParamText(string name) => documented.TryGetValue(name, out var s)
            ? Text.Paragraphs(s.Blocks.Where(b => b is not FencedCodeBlock))
            : new List<string> { name == "WhatIf" ? WhatIfText : ConfirmText };
        string DefaultValue(ParamModel p) =>
            documented.TryGetValue(p.Name, out var s) && DocPage.ParameterYaml(s).TryGetValue("Default value", out var d) && d.Length > 0 ? d : "None";

        var common = new List<ParamModel>();
        if (c.SupportsShouldProcess)
        {
            var whatIf = new ParamModel { Name = "WhatIf", TypeName = "SwitchParameter", FullTypeName = "System.Management.Automation.SwitchParameter" };
            whatIf.Aliases.Add("wi");
            var confirm = new ParamModel { Name = "Confirm", TypeName = "SwitchParameter", FullTypeName = "System.Management.Automation.SwitchParameter" };
            confirm.Aliases.Add("cf");
            whatIf.Sets.Add(new SetEntry(CommandModel.AllSets, false, null, false, false));
            confirm.Sets.Add(new SetEntry(CommandModel.AllSets, false, null, false, false));
            common.Add(whatIf);
            common.Add(confirm);
        }

        // Syntax: one item per parameter set, positional first (by position), then mandatory, then the rest.
        w.WriteStartElement("command", "syntax", CommandNs);
        foreach (var set in c.SetNames())
        {
            var members = c.Parameters.Where(p => !p.Hidden).Select(p => (p, e: c.EntryFor(p, set))).Where(x => x.e != null)
                .OrderBy(x => x.e!.Position ?? int.MaxValue).ThenBy(x => x.e!.Mandatory ? 0 : 1).ToList();
            w.WriteStartElement("command", "syntaxItem", CommandNs);
            w.WriteElementString("maml", "name", MamlNs, c.Name);
            foreach (var (p, e) in members) Parameter(w, p, e!, ParamText(p.Name), null, syntax: true);
            foreach (var p in common) Parameter(w, p, p.Sets[0], ParamText(p.Name), null, syntax: true);
            w.WriteEndElement();
        }
        w.WriteEndElement();

        // Parameters: in the page's order (alphabetical in PlatyPS layout), then -WhatIf/-Confirm.
        w.WriteStartElement("command", "parameters", CommandNs);
        var ordered = c.Parameters.OrderBy(p => p.Name, StringComparer.OrdinalIgnoreCase).Concat(common);
        foreach (var p in ordered)
        {
            var e = p.Sets.FirstOrDefault(s => s.Mandatory) ?? p.Sets.FirstOrDefault(s => s.Position != null) ?? p.Sets[0];
            e = e with { ByValue = p.Sets.Any(s => s.ByValue), ByPropertyName = p.Sets.Any(s => s.ByPropertyName) };
            Parameter(w, p, e, ParamText(p.Name), p.Name is "WhatIf" or "Confirm" ? "False" : DefaultValue(p), syntax: false);
        }
        w.WriteEndElement();

        TypeList(w, "inputTypes", "inputType", page["INPUTS"]);
        TypeList(w, "returnValues", "returnValue", page["OUTPUTS"]);

        var notes = page["NOTES"] is { } n ? Text.Paragraphs(n.Blocks) : new List<string>();
        w.WriteStartElement("maml", "alertSet", MamlNs);
        w.WriteStartElement("maml", "alert", MamlNs);
        foreach (var para in notes) w.WriteElementString("maml", "para", MamlNs, Fit(para, 71));
        w.WriteEndElement();
        w.WriteEndElement();

        w.WriteStartElement("command", "examples", CommandNs);
        foreach (var ex in page["EXAMPLES"]!.Subsections)
        {
            var code = ex.Blocks.OfType<FencedCodeBlock>().Select(Text.Code).ToList();
            if (code.Count == 0) continue;
            w.WriteStartElement("command", "example", CommandNs);
            var title = ex.Title.Trim();
            var dashes = Math.Max(2, (70 - title.Length - 2) / 2);   // shown 4 in, within 80 columns
            w.WriteElementString("maml", "title", MamlNs, $"{new string('-', dashes)} {title} {new string('-', dashes)}");
            w.WriteElementString("dev", "code", DevNs, string.Join("\n\n", code));
            w.WriteStartElement("dev", "remarks", DevNs);
            foreach (var para in Text.Paragraphs(ex.Blocks.Where(b => b is not FencedCodeBlock))) w.WriteElementString("maml", "para", MamlNs, Fit(para, 75));
            w.WriteEndElement();
            w.WriteEndElement();
        }
        w.WriteEndElement();

        w.WriteStartElement("command", "relatedLinks", CommandNs);
        if (docsBase != null) Link(w, "Online Version:", c.HelpUri ?? docsBase + c.Name + ".md");
        if (page["RELATED LINKS"] is { } related)
        {
            foreach (var link in related.Blocks.OfType<ParagraphBlock>().SelectMany(p => p.Inline?.Descendants<LinkInline>() ?? Enumerable.Empty<LinkInline>()))
            {
                var url = link.Url ?? "";
                var text = Text.Inline(link);
                // Links to sibling pages are help topics of their own: Get-Help finds them by name.
                Link(w, text, url.StartsWith("http", StringComparison.OrdinalIgnoreCase) ? url : "");
            }
        }
        w.WriteEndElement();

        w.WriteEndElement();
    }

    private static void Link(XmlWriter w, string text, string uri)
    {
        w.WriteStartElement("maml", "navigationLink", MamlNs);
        w.WriteElementString("maml", "linkText", MamlNs, text);
        w.WriteElementString("maml", "uri", MamlNs, uri);
        w.WriteEndElement();
    }

    private static void Description(XmlWriter w, IEnumerable<string> paras, int width = 75)
    {
        w.WriteStartElement("maml", "description", MamlNs);
        foreach (var para in paras) w.WriteElementString("maml", "para", MamlNs, Fit(para, width));
        w.WriteEndElement();
    }

    /// <summary>
    /// Get-Help breaks long lines anywhere, even inside words, so the text is wrapped here at the
    /// column it is shown in at 80 columns (description 4 spaces in, parameters 8); code stays as written.
    /// </summary>
    public static string Fit(string para, int width)
    {
        if (para.Split('\n').Any(l => l.StartsWith("    "))) return para;
        if (para.StartsWith(Text.TableMark))
            return string.Join("\n", para.TrimStart(Text.TableMark).Split('\n').SelectMany(row => Text.Wrap(row, 0, width, 4)));
        var hanging = para.StartsWith("- ") ? 2 : System.Text.RegularExpressions.Regex.Match(para, @"^\d+\. ").Length;
        return string.Join("\n", Text.Wrap(para, 0, width, hanging));
    }

    private static void Parameter(XmlWriter w, ParamModel p, SetEntry e, List<string> text, string? defaultValue, bool syntax)
    {
        w.WriteStartElement("command", "parameter", CommandNs);
        w.WriteAttributeString("required", e.Mandatory ? "true" : "false");
        w.WriteAttributeString("variableLength", p.VariableLength ? "true" : "false");
        w.WriteAttributeString("globbing", p.Globbing ? "true" : "false");
        w.WriteAttributeString("pipelineInput", Pipeline(new[] { e }));
        w.WriteAttributeString("position", e.Position is int i ? i.ToString() : "named");
        w.WriteAttributeString("aliases", p.Aliases.Count == 0 ? "none" : string.Join(", ", p.Aliases));
        w.WriteElementString("maml", "name", MamlNs, p.Name);
        Description(w, text, 71);
        if (p.ValidValues.Count > 0)
        {
            w.WriteStartElement("command", "parameterValueGroup", CommandNs);
            foreach (var v in p.ValidValues)
            {
                w.WriteStartElement("command", "parameterValue", CommandNs);
                w.WriteAttributeString("required", "false");
                w.WriteAttributeString("command", "variableLength", CommandNs, "false");
                w.WriteString(v);
                w.WriteEndElement();
            }
            w.WriteEndElement();
        }
        if (!p.IsSwitch)
        {
            w.WriteStartElement("command", "parameterValue", CommandNs);
            w.WriteAttributeString("required", "true");
            w.WriteAttributeString("variableLength", p.VariableLength ? "true" : "false");
            w.WriteString(p.TypeName);
            w.WriteEndElement();
        }
        w.WriteStartElement("dev", "type", DevNs);
        w.WriteElementString("maml", "name", MamlNs, p.TypeName);
        w.WriteElementString("maml", "uri", MamlNs, "");
        w.WriteEndElement();
        if (!syntax) w.WriteElementString("dev", "defaultValue", DevNs, defaultValue ?? "None");
        w.WriteEndElement();
    }

    private static void TypeList(XmlWriter w, string listName, string itemName, Section? section)
    {
        w.WriteStartElement("command", listName, CommandNs);
        foreach (var type in section?.Subsections ?? new List<Section>())
        {
            w.WriteStartElement("command", itemName, CommandNs);
            w.WriteStartElement("dev", "type", DevNs);
            w.WriteElementString("maml", "name", MamlNs, type.Title);
            w.WriteEndElement();
            Description(w, Text.Paragraphs(type.Blocks), 71);
            w.WriteEndElement();
        }
        w.WriteEndElement();
    }
}
