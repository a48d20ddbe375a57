// Import-Module OpsTools vs Import-Module of an empty binary module, each in a fresh process
// (a cold import is what a cron job or CI step pays). Reports medians and the ratio.
// Usage: dotnet run -c Release --project bench/ImportBench [-- <runs>]
using System.Globalization;
using OpsTools.TestKit;

var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 15;
var config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
var empty = Path.Combine(RepoPaths.Root, "bench", "EmptyModule", "bin", config, "net8.0", "EmptyModule.dll");
if (!File.Exists(empty)) { Console.Error.WriteLine($"build first: {empty} is missing"); return 1; }

// The same empty module with a manifest: what any published module pays for its .psd1.
var emptyDir = Directory.CreateTempSubdirectory("opstools-emptymodule-").FullName;
File.Copy(empty, Path.Combine(emptyDir, "EmptyModule.dll"));
var emptyManifest = Path.Combine(emptyDir, "EmptyModule.psd1");
File.WriteAllText(emptyManifest, "@{ RootModule = 'EmptyModule.dll'; ModuleVersion = '1.0.0'; GUID = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0'; " +
    "PowerShellVersion = '7.4'; CmdletsToExport = @('Get-Nothing'); FunctionsToExport = @(); AliasesToExport = @(); VariablesToExport = @() }");

double Median(List<double> xs) { xs.Sort(); return xs.Count % 2 == 1 ? xs[xs.Count / 2] : (xs[xs.Count / 2 - 1] + xs[xs.Count / 2]) / 2; }

// One warm-up of each, so disk caches are equal for both.
ImportProbe.Run(empty); ImportProbe.Run(emptyManifest); ImportProbe.Run(RepoPaths.ModuleManifest);
var ops = new List<double>(); var baseline = new List<double>(); var baselineManifest = new List<double>();
for (var i = 0; i < runs; i++)
{
    // Interleaved, so drift in machine load hits all alike.
    var b = ImportProbe.Run(empty);
    var bm = ImportProbe.Run(emptyManifest);
    var o = ImportProbe.Run(RepoPaths.ModuleManifest);
    if (b.ExitCode != 0 || bm.ExitCode != 0 || o.ExitCode != 0) { Console.Error.WriteLine(b.Raw + bm.Raw + o.Raw); return 1; }
    baseline.Add(b.ImportMs); baselineManifest.Add(bm.ImportMs); ops.Add(o.ImportMs);
}
Directory.Delete(emptyDir, recursive: true);
var mo = Median(ops); var mb = Median(baseline); var mbm = Median(baselineManifest);
var loaded = ImportProbe.Run(RepoPaths.ModuleManifest).Assemblies
    .Where(a => a.Location.StartsWith(RepoPaths.ModuleDirectory, StringComparison.Ordinal)).Select(a => a.Name).OrderBy(n => n);
Console.WriteLine($"Import-Module, median of {runs} cold imports (fresh process each):");
Console.WriteLine($"  empty binary module (.dll)            : {mb,8:F1} ms");
Console.WriteLine($"  empty binary module with a manifest   : {mbm,8:F1} ms");
Console.WriteLine($"  OpsTools (manifest, cmdlets, formats, checklist script): {mo,8:F1} ms");
Console.WriteLine($"  ratio OpsTools / empty .dll           : {mo / mb,8:F2}");
Console.WriteLine($"  ratio OpsTools / empty with manifest  : {mo / mbm,8:F2}");
Console.WriteLine($"  OpsTools assemblies loaded by the import: {string.Join(", ", loaded)}");
return 0;
