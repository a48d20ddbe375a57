using OpsTools.TestKit;

// The demo pipeline, as a user would type it in pwsh.
const string Script = """
    $results = Invoke-DailyCheck -Environment $DemoEnvironment
    $results | Out-Default
    $results | Export-OpsReport -Format Markdown -Title 'Daily check: demo'
    """;

using var target = new DemoTarget();
using var session = new ModuleSession();
session.Set("DemoEnvironment", target.EnvironmentFile);
Console.WriteLine($"# Sample service on loopback; environment file: {target.EnvironmentFile}");
Console.WriteLine($"# PS> Invoke-DailyCheck -Environment demo.ops.psd1 | Export-OpsReport -Format Markdown");
Console.WriteLine();
var result = session.Run(Script);
Console.Write(session.Host.Text);
Console.WriteLine();
foreach (var o in result.Output) Console.WriteLine(o);
foreach (var e in result.Errors) Console.Error.WriteLine("error: " + e);
if (result.Terminating is not null) { Console.Error.WriteLine("error: " + result.Terminating.Message); return 1; }
return result.Errors.Count == 0 ? 0 : 1;
