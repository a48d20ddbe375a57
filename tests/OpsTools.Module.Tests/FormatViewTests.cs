using System.Management.Automation;
using System.Xml.Linq;
using OpsTools.TestKit;
using Xunit.Abstractions;

namespace OpsTools.Module.Tests;

/// <summary>
/// Every table view of module/Formats, rendered as a console of 80 and of 120 columns would show it
/// (Out-String -Width): no column is dropped, and the last column (the one that says why: Message,
/// Reason, Diagnosis ...) is shown whole, wrapped, never cut.
/// </summary>
public sealed class FormatViewTests(ITestOutputHelper log)
{
    private const string Why = "WHY the admin must read this: the disk /var/lib/postgresql is 97% full after 3 retries, see runbook step 4";

    public sealed record TableView(string File, string Name, string TypeName, IReadOnlyList<string> Labels, IReadOnlyList<int?> Widths, string? LastProperty, string? LastScript, IReadOnlyList<string> Properties);

    public static IEnumerable<object[]> Views() => AllViews().Select(v => new object[] { v.File + ": " + v.Name });

    private static IReadOnlyList<TableView> AllViews()
    {
        var list = new List<TableView>();
        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "module", "Formats"), "*.format.ps1xml").Order(StringComparer.Ordinal))
        {
            foreach (var view in XDocument.Load(file).Descendants("View"))
            {
                var table = view.Element("TableControl");
                if (table is null) continue;
                var headers = table.Element("TableHeaders")!.Elements("TableColumnHeader").ToList();
                var last = table.Descendants("TableRowEntry").First().Descendants("TableColumnItem").Last();
                list.Add(new TableView(Path.GetFileName(file), view.Element("Name")!.Value,
                    view.Element("ViewSelectedBy")!.Elements("TypeName").First().Value,
                    headers.Select(h => h.Element("Label")?.Value ?? "").ToList(),
                    headers.Select(h => h.Element("Width") is { } w ? int.Parse(w.Value) : (int?)null).ToList(),
                    last.Element("PropertyName")?.Value, last.Element("ScriptBlock")?.Value,
                    table.Descendants("TableRowEntry").First().Descendants("PropertyName").Select(e => e.Value).ToList()));
            }
        }
        return list;
    }

    [Fact]
    public void Every_view_file_of_the_module_is_covered_and_every_table_view_ends_with_a_column_of_no_fixed_width_that_wraps()
    {
        var views = AllViews();
        Assert.True(views.Count >= 45, $"only {views.Count} table views found");
        foreach (var file in Directory.GetFiles(Path.Combine(RepoPaths.Root, "module", "Formats"), "*.format.ps1xml"))
            foreach (var table in XDocument.Load(file).Descendants("TableControl"))
            {
                var name = table.Parent!.Element("Name")!.Value;
                Assert.True(table.Element("TableHeaders")!.Elements("TableColumnHeader").Last().Element("Width") is null, $"{name}: the last column has a fixed width");
                Assert.All(table.Descendants("TableRowEntry"), e => Assert.True(e.Element("Wrap") is not null, $"{name}: a row entry does not wrap"));
            }
    }

    [Theory]
    [MemberData(nameof(Views))]
    public void At_80_and_120_columns_no_column_is_dropped_and_the_last_one_is_shown_whole(string id)
    {
        var view = AllViews().Single(v => v.File + ": " + v.Name == id);
        using var s = new ModuleSession();
        s.Set("why", Why);
        s.Set("typeName", view.TypeName);
        s.Set("viewName", view.Name);
        s.Set("lastProperty", view.LastProperty);
        s.Set("lastScript", view.LastScript);
        s.Set("properties", view.Properties.ToArray());
        // A representative object: every text property filled (so fixed columns are full), the reason
        // properties holding a long sentence, then the text the last column should show.
        var r = s.Invoke("""
            $type = if ($typeName -eq 'OpsTools.ChecklistResult') { 'OpsTools.CheckResult' } else { $typeName }
            # Views of rows that have no .NET type (PgBouncer's SHOW output: PSObjects named OpsTools.PgBouncer.Stats ...):
            # an object with the view's properties and that type name, as the command writes them.
            $o = if ($type -as [type]) { New-Object -TypeName $type } else {
                $row = [pscustomobject]@{}
                foreach ($n in $properties) { $row | Add-Member -NotePropertyName $n -NotePropertyValue "$n-value" -Force }
                $row.PSObject.TypeNames.Insert(0, $typeName)
                $row
            }
            foreach ($p in $o.PSObject.Properties) {
                if ($p.IsSettable -and $p.TypeNameOfValue -eq 'System.String') { $p.Value = "$($p.Name)-value" }
            }
            $hasWhy = $false
            foreach ($n in @('Message', 'Reason', 'Diagnosis', 'Description', $lastProperty)) {
                $p = if ($n) { $o.PSObject.Properties[$n] }
                if ($p -and $p.IsSettable -and $p.TypeNameOfValue -in 'System.String', 'System.Object') { $p.Value = $why; $hasWhy = $true }
            }
            $wrapped = [System.Management.Automation.PSObject]::AsPSObject($o)
            if ($typeName -eq 'OpsTools.ChecklistResult') { $wrapped.PSObject.TypeNames.Insert(0, $typeName) }
            $expected = if ($lastProperty) { $wrapped.$lastProperty } else { $wrapped | ForEach-Object ([scriptblock]::Create($lastScript)) }
            [pscustomobject]@{
                Expected = ($expected | Out-String).Trim()
                HasWhy   = $hasWhy -and ($o.PSObject.Properties.Name -match '^(Message|Reason|Diagnosis)$')
                W80      = $wrapped | Format-Table -View $viewName | Out-String -Width 80
                W120     = $wrapped | Format-Table -View $viewName | Out-String -Width 120
            }
            """).Single();
        var expected = Squash((string)RunResult.Prop(r, "Expected")!);
        var hasWhy = (bool)RunResult.Prop(r, "HasWhy")!;
        // The reason is what the last column shows; a slow query's reason is its figures (Calls, Mean,
        // Total columns), its last column the statement itself.
        if (hasWhy && view.TypeName != "OpsTools.Database.DbSlowQuery") Assert.Contains(Squash(Why), expected);
        foreach (var width in new[] { 80, 120 })
        {
            var text = (string)RunResult.Prop(r, "W" + width)!;
            log.WriteLine($"{id} at {width}:\n{text}");
            var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
            var dashes = lines.FindIndex(l => l.TrimStart().StartsWith("--", StringComparison.Ordinal));
            var header = lines[dashes - 1]; // after a group header (GroupBy), if the view has one
            Assert.All(lines, l => Assert.True(l.Length <= width, $"line longer than {width}: '{l}'"));
            foreach (var label in view.Labels.Where(l => l.Trim().Length > 0))
                Assert.True(header.Contains(label, StringComparison.Ordinal), $"{id}: column '{label}' dropped at {width} columns: '{header}'");
            // The last column starts after the fixed columns and one space between each.
            var start = view.Widths.Take(view.Widths.Count - 1).Sum(w => w ?? 0) + view.Widths.Count - 1;
            var body = lines.Skip(dashes + 1);
            var shown = Squash(string.Concat(body.Select(l => l.Length > start ? l[start..] : "")));
            Assert.True(shown == expected, $"{id} at {width} columns shows '{shown}' in its last column, not '{expected}'");
            Assert.DoesNotContain("…", text);
        }
    }

    private static string Squash(string s) => string.Concat(s.Where(c => !char.IsWhiteSpace(c)));
}
