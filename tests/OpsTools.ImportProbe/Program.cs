// Usage: OpsTools.ImportProbe --module <psd1|dll> [--preload <dll>]... [--script <text>]
// Prints, one per line:
//   import-ms <milliseconds Import-Module took>
//   out <each output object, as text>
//   err <each error message>
//   asm <name>|<version>|<load context>|<location>   for every assembly loaded at the end
// Exit code 0 when the script wrote no error, 1 otherwise, 2 on bad usage.
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;
using System.Runtime.Loader;

string? module = null, script = null;
var preload = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--module": module = args[++i]; break;
        case "--script": script = args[++i]; break;
        case "--preload": preload.Add(args[++i]); break;
        default: Console.Error.WriteLine($"unknown argument {args[i]}"); return 2;
    }
}
if (module is null) { Console.Error.WriteLine("--module is required"); return 2; }

// What another module (powershell-yaml, say) does before OpsTools is imported.
foreach (var dll in preload) AssemblyLoadContext.Default.LoadFromAssemblyPath(Path.GetFullPath(dll));

var iss = InitialSessionState.CreateDefault2();
using var runspace = RunspaceFactory.CreateRunspace(iss);
runspace.Open();
var failed = false;

using (var warm = PowerShell.Create()) { warm.Runspace = runspace; warm.AddScript("$null = 1").Invoke(); }

var sw = Stopwatch.StartNew();
using (var ps = PowerShell.Create())
{
    ps.Runspace = runspace;
    ps.AddCommand("Import-Module").AddParameter("Name", module).AddParameter("ErrorAction", "Stop");
    try { ps.Invoke(); }
    catch (RuntimeException e) { Console.WriteLine("err " + e.Message); return 1; }
}
sw.Stop();
Console.WriteLine($"import-ms {sw.Elapsed.TotalMilliseconds:F1}");

if (script is not null)
{
    using var ps = PowerShell.Create();
    ps.Runspace = runspace;
    ps.AddScript(script);
    try
    {
        foreach (var o in ps.Invoke())
            Console.WriteLine("out " + (o?.ToString() ?? "").Replace("\r", "").Replace("\n", "\\n"));
    }
    catch (RuntimeException e) { Console.WriteLine("err " + e.Message); failed = true; }
    foreach (var e in ps.Streams.Error) { Console.WriteLine("err " + e); failed = true; }
}

foreach (var asm in AppDomain.CurrentDomain.GetAssemblies())
{
    var name = asm.GetName();
    var alc = AssemblyLoadContext.GetLoadContext(asm)?.Name ?? "?";
    string location;
    try { location = asm.Location; } catch { location = ""; }
    Console.WriteLine($"asm {name.Name}|{name.Version}|{alc}|{location}");
}
return failed ? 1 : 0;
