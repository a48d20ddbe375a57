using System.Management.Automation.Language;
using System.Text;
using Markdig.Extensions.Tables;
using Markdig.Syntax;

namespace OpsTools.HelpGen;

/// <summary>
/// opstools-helpgen --module out/OpsTools/0.1.0 --docs docs [--scripts OpsTools.psm1]
/// Writes en-US/OpsTools.dll-Help.xml, en-US/OpsTools-help.xml and en-US/about_*.help.txt into the
/// module folder. Exit code 1 (with "file(line): error OTHnnn: ..." lines MSBuild reports) when a
/// page lacks a parameter, names one its command does not have, has fewer than two examples, or
/// lacks a synopsis, description, parameter text or output type.
/// </summary>
internal static class Program
{
    /// <summary>Where the pages are published; HelpUri of every cmdlet is this plus "Name.md".</summary>
    public const string DocsBaseKey = "DocsBaseUri";

    private static readonly List<string> Errors = new();
    private static readonly List<string> Warnings = new();

    public static int Main(string[] args)
    {
        var opts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
        if (!opts.TryGetValue("module", out var moduleDir) || !opts.TryGetValue("docs", out var docsDir))
        {
            Console.Error.WriteLine("usage: OpsTools.HelpGen --module <module folder> --docs <docs folder>");
            return 2;
        }
        moduleDir = Path.GetFullPath(moduleDir);
        docsDir = Path.GetFullPath(docsDir);
        var manifestPath = Path.Combine(moduleDir, "OpsTools.psd1");
        var manifest = ReadManifest(manifestPath);
        var docsBase = ProjectUri(manifest, manifestPath) is { } project ? project.TrimEnd('/') + "/blob/main/docs/" : null;

        var cmdletNames = Strings(manifest, "CmdletsToExport");
        var functionNames = Strings(manifest, "FunctionsToExport");
        var cmdlets = CmdletReflector.Read(moduleDir, "OpsTools.dll").Where(c => cmdletNames.Contains(c.Name, StringComparer.OrdinalIgnoreCase)).ToList();
        foreach (var missing in cmdletNames.Except(cmdlets.Select(c => c.Name), StringComparer.OrdinalIgnoreCase))
            Errors.Add($"{manifestPath}: error OTH001: CmdletsToExport names {missing}, which OpsTools.dll does not define");
        var functions = FunctionReader.Read(Path.Combine(moduleDir, "OpsTools.psm1"), functionNames, out var parseErrors);
        Errors.AddRange(parseErrors);
        foreach (var missing in functionNames.Except(functions.Select(c => c.Name), StringComparer.OrdinalIgnoreCase))
            Errors.Add($"{manifestPath}: error OTH001: FunctionsToExport names {missing}, which OpsTools.psm1 does not define");

        var helpDir = Directory.CreateDirectory(Path.Combine(moduleDir, "en-US")).FullName;
        var cmdletHelp = new List<(CommandModel, DocPage)>();
        var functionHelp = new List<(CommandModel, DocPage)>();
        foreach (var command in cmdlets.Concat(functions).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            var pagePath = Path.Combine(docsDir, command.Name + ".md");
            if (!File.Exists(pagePath))
            {
                Errors.Add($"{pagePath}: error OTH002: {command.Name} is exported but has no page docs/{command.Name}.md (PlatyPS layout: SYNOPSIS, SYNTAX, DESCRIPTION, EXAMPLES, PARAMETERS, INPUTS, OUTPUTS, NOTES, RELATED LINKS)");
                continue;
            }
            var page = DocPage.Load(pagePath);
            Validate(command, page, docsBase);
            (command.IsFunction ? functionHelp : cmdletHelp).Add((command, page));
        }

        foreach (var w in Warnings) Console.WriteLine(w);
        if (Errors.Count > 0)
        {
            foreach (var e in Errors) Console.WriteLine(e);
            Console.WriteLine($"OpsTools help: {Errors.Count} error(s): docs/ and the commands disagree (see above); fix the page or the command.");
            return 1;
        }

        Maml.Write(Path.Combine(helpDir, "OpsTools.dll-Help.xml"), cmdletHelp, docsBase);
        Maml.Write(Path.Combine(helpDir, "OpsTools-help.xml"), functionHelp, docsBase);
        var abouts = Directory.GetFiles(docsDir, "about_*.md").OrderBy(p => p, StringComparer.Ordinal).ToList();
        foreach (var about in abouts)
            About.Write(DocPage.Load(about), Path.Combine(helpDir, System.IO.Path.GetFileNameWithoutExtension(about) + ".help.txt"));
        Console.WriteLine($"OpsTools help -> {helpDir}: {cmdletHelp.Count} cmdlets, {functionHelp.Count} functions, {abouts.Count} about topics");
        return 0;
    }

    private static void Validate(CommandModel command, DocPage page, string? docsBase)
    {
        var path = page.Path;
        void Error(int line, string code, string message) => Errors.Add($"{path}({line}): error {code}: {command.Name}: {message}");
        void Warn(int line, string message) => Warnings.Add($"{path}({line}): warning OTH100: {command.Name}: {message}");

        if (!string.Equals(page.Title, command.Name, StringComparison.Ordinal)) Error(1, "OTH003", $"the page's title is '{page.Title}', not '# {command.Name}'");
        foreach (var required in new[] { "SYNOPSIS", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS" })
            if (page[required] == null) Error(1, "OTH004", $"the page has no '## {required}' section");
        if (page["SYNOPSIS"] is { } syn && Text.Paragraphs(syn.Blocks).Count == 0) Error(syn.Line, "OTH005", "the synopsis is empty");
        if (page["DESCRIPTION"] is { } desc && Text.Paragraphs(desc.Blocks).Count == 0) Error(desc.Line, "OTH005", "the description is empty");
        if (page["EXAMPLES"] is { } examples)
        {
            var count = examples.Subsections.Count(e => e.Blocks.Any(b => b is FencedCodeBlock));
            if (count < 2) Error(examples.Line, "OTH006", $"the page has {count} example(s) with code; at least 2 are needed");
        }
        if (page["OUTPUTS"] is { } outputs && outputs.Subsections.Count == 0) Error(outputs.Line, "OTH007", "OUTPUTS names no type ('### TypeName')");

        var documented = page["PARAMETERS"]?.Subsections.Where(s => s.Title.StartsWith('-')).ToList() ?? new List<Section>();
        var actual = command.Parameters.Select(p => p.Name).ToList();
        if (command.SupportsShouldProcess) actual.AddRange(new[] { "WhatIf", "Confirm" });
        foreach (var name in actual)
        {
            var section = documented.FirstOrDefault(s => s.Title[1..].Equals(name, StringComparison.OrdinalIgnoreCase));
            if (section == null)
            {
                if (name is "WhatIf" or "Confirm") Warn(page["PARAMETERS"]?.Line ?? 1, $"-{name} is not documented (the help uses the standard text)");
                else Error(page["PARAMETERS"]?.Line ?? 1, "OTH008", $"the page does not document -{name}, a parameter of the command (add '### -{name}' with a description and its yaml block)");
            }
            else if (Text.Paragraphs(section.Blocks.Where(b => b is not FencedCodeBlock)).Count == 0)
                Error(section.Line, "OTH009", $"-{name} has no description");
        }
        foreach (var section in documented)
            if (!actual.Contains(section.Title[1..], StringComparer.OrdinalIgnoreCase))
                Error(section.Line, "OTH008", $"the page documents {section.Title}, which the command does not have");

        // The yaml blocks are not trusted either (the help takes the metadata from the code): say where they are wrong.
        foreach (var p in command.Parameters)
        {
            var section = documented.FirstOrDefault(s => s.Title[1..].Equals(p.Name, StringComparison.OrdinalIgnoreCase));
            if (section == null) continue;
            Dictionary<string, string> yaml;
            try { yaml = DocPage.ParameterYaml(section); }
            catch (InvalidDataException e) { Error(section.Line, "OTH010", e.Message); continue; }
            var expected = Maml.YamlFacts(command, p);
            foreach (var (key, value) in expected)
            {
                yaml.TryGetValue(key, out var pageValue);
                if (!Same(key, pageValue ?? "", value)) Warn(section.Line, $"-{p.Name} {key}: the page says '{pageValue}', the code says '{value}'");
            }
        }

        if (!command.IsFunction && docsBase != null)
        {
            var expectedUri = docsBase + command.Name + ".md";
            if (command.HelpUri == null) Warn(1, $"the cmdlet has no HelpUri; set HelpUri = HelpLinks.Base + \"{command.Name}.md\" so Get-Help -Online opens its page");
            else if (command.HelpUri != expectedUri) Error(1, "OTH011", $"HelpUri is '{command.HelpUri}', expected '{expectedUri}' (the manifest's ProjectUri + /blob/main/docs/ + page)");
        }
        foreach (var ot in command.OutputTypes)
        {
            var shortName = ot.Split('.').Last();
            if (page["OUTPUTS"] is { } o && !o.Subsections.Any(s => s.Title.Contains(shortName, StringComparison.OrdinalIgnoreCase)))
                Warn(o.Line, $"[OutputType] says {ot}, which OUTPUTS does not list");
        }
    }

    private static bool Same(string key, string page, string code)
    {
        static string Norm(string s) => string.Join(",", s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).OrderBy(x => x, StringComparer.OrdinalIgnoreCase)).ToLowerInvariant();
        if (key == "Aliases" && (page is "" or "None") && code == "None") return true;
        if (key == "Accept pipeline input") return Norm(page.Replace("(", ",").Replace(")", "")) == Norm(code.Replace("(", ",").Replace(")", ""));
        return Norm(page) == Norm(code);
    }

    // ---- manifest (read as data with PowerShell's parser, never run) ----

    private static HashtableAst ReadManifest(string path)
    {
        var ast = Parser.ParseFile(path, out _, out var errors);
        if (errors.Length > 0) throw new InvalidOperationException($"{path}: {errors[0].Message}");
        return (HashtableAst)ast.Find(a => a is HashtableAst, false)!;
    }

    private static Ast? Entry(HashtableAst table, string key) =>
        table.KeyValuePairs.FirstOrDefault(kv => kv.Item1 is StringConstantExpressionAst s && s.Value.Equals(key, StringComparison.OrdinalIgnoreCase))?.Item2;

    private static List<string> Strings(HashtableAst manifest, string key) =>
        Entry(manifest, key)?.FindAll(a => a is StringConstantExpressionAst, true).Cast<StringConstantExpressionAst>().Select(s => s.Value).ToList() ?? new List<string>();

    private static string? ProjectUri(HashtableAst manifest, string path)
    {
        var psData = Entry(manifest, "PrivateData")?.Find(a => a is HashtableAst h && Entry(h, "PSData") != null, true) as HashtableAst;
        var data = psData == null ? null : Entry(psData, "PSData")?.Find(a => a is HashtableAst, true) as HashtableAst;
        var uri = data == null ? null : Strings(data, "ProjectUri").FirstOrDefault();
        if (string.IsNullOrEmpty(uri))
        {
            Warnings.Add($"{path}: warning OTH100: PrivateData.PSData.ProjectUri is empty: the help has no online links");
            return null;
        }
        return uri;
    }
}
