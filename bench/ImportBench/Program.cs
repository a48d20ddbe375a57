// Import-Module OpsTools vs Import-Module of an empty binary module, each in a fresh process
// (a cold import is what a cron job or CI step pays). Reports medians and the ratio.
// Usage: dotnet run -c Release --project bench/ImportBench [-- <runs>]
using System.Globalization;
using OpsTools.TestKit;

var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 15;
var config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
var empty = Path.Combine(RepoPaths.Root, "bench", "EmptyModule", "bin", config, "net8.0", "EmptyModule.dll");
if (!File.Exists(empty)) { Console.Error.WriteLine($"build first: {empty} is missing"); return 1; }

double Median(List<double> xs) { xs.Sort(); return xs.Count % 2 == 1 ? xs[xs.Count / 2] : (xs[xs.Count / 2 - 1] + xs[xs.Count / 2]) / 2; }

// One warm-up of each, so disk caches are equal for both.
ImportProbe.Run(empty); ImportProbe.Run(RepoPaths.ModuleManifest);
var ops = new List<double>(); var baseline = new List<double>();
for (var i = 0; i < runs; i++)
{
    // Interleaved, so drift in machine load hits both alike.
    var b = ImportProbe.Run(empty);
    var o = ImportProbe.Run(RepoPaths.ModuleManifest);
    if (b.ExitCode != 0 || o.ExitCode != 0) { Console.Error.WriteLine(b.Raw + o.Raw); return 1; }
    baseline.Add(b.ImportMs); ops.Add(o.ImportMs);
}
var mo = Median(ops); var mb = Median(baseline);
var loaded = ImportProbe.Run(RepoPaths.ModuleManifest).Assemblies
    .Where(a => a.Location.StartsWith(RepoPaths.ModuleDirectory, StringComparison.Ordinal)).Select(a => a.Name).OrderBy(n => n);
Console.WriteLine($"Import-Module, median of {runs} cold imports (fresh process each):");
Console.WriteLine($"  empty binary module : {mb,8:F1} ms");
Console.WriteLine($"  OpsTools            : {mo,8:F1} ms");
Console.WriteLine($"  ratio OpsTools/empty: {mo / mb,8:F2}");
Console.WriteLine($"  OpsTools assemblies loaded by the import: {string.Join(", ", loaded)}");
return 0;
