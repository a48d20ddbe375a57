using System.Diagnostics;

namespace OpsTools.TestKit;

/// <summary>One assembly loaded in a probe process.</summary>
public sealed record LoadedAssembly(string Name, string Version, string LoadContext, string Location);

/// <summary>What a fresh PowerShell process saw (see tests/OpsTools.ImportProbe).</summary>
public sealed class ProbeResult
{
    public double ImportMs { get; init; }
    public List<string> Output { get; } = new();
    public List<string> Errors { get; } = new();
    public List<LoadedAssembly> Assemblies { get; } = new();
    public int ExitCode { get; init; }
    public string Raw { get; init; } = "";
}

/// <summary>Runs tests/OpsTools.ImportProbe in a new process.</summary>
public static class ImportProbe
{
    /// <summary>The probe's built dll, in the same configuration as the running tests.</summary>
    public static string ProbeDll
    {
        get
        {
            var config = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Debug"; // bin/<config>/net10.0/
            var dll = Path.Combine(RepoPaths.Root, "tests", "OpsTools.ImportProbe", "bin", config, "net10.0", "OpsTools.ImportProbe.dll");
            if (!File.Exists(dll))
                dll = Path.Combine(RepoPaths.Root, "tests", "OpsTools.ImportProbe", "bin", "Release", "net10.0", "OpsTools.ImportProbe.dll");
            return dll;
        }
    }

    /// <param name="environment">Variables to set for the process; a null value removes the variable.</param>
    public static ProbeResult Run(string module, string? script = null, IEnumerable<string>? preload = null, TimeSpan? timeout = null,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(ProbeDll);
        psi.ArgumentList.Add("--module"); psi.ArgumentList.Add(module);
        foreach (var p in preload ?? Array.Empty<string>()) { psi.ArgumentList.Add("--preload"); psi.ArgumentList.Add(p); }
        if (script is not null) { psi.ArgumentList.Add("--script"); psi.ArgumentList.Add(script); }
        psi.Environment["POWERSHELL_TELEMETRY_OPTOUT"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) psi.Environment.Remove(name);
            else psi.Environment[name] = value;
        }
        using var proc = Process.Start(psi)!;
        var stdout = proc.StandardOutput.ReadToEndAsync();
        var stderr = proc.StandardError.ReadToEndAsync();
        if (!proc.WaitForExit(timeout ?? TimeSpan.FromSeconds(60)))
        {
            proc.Kill(entireProcessTree: true);
            throw new TimeoutException("The import probe did not finish.");
        }
        var text = stdout.Result;
        var result = new ProbeResult { ExitCode = proc.ExitCode, Raw = text + stderr.Result, ImportMs = ParseImport(text) };
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("out ")) result.Output.Add(line[4..]);
            else if (line.StartsWith("err ")) result.Errors.Add(line[4..]);
            else if (line.StartsWith("asm "))
            {
                var parts = line[4..].Split('|');
                result.Assemblies.Add(new LoadedAssembly(parts[0], parts[1], parts[2], parts.Length > 3 ? parts[3] : ""));
            }
        }
        return result;
    }

    private static double ParseImport(string text)
    {
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith("import-ms "));
        return line is null ? double.NaN : double.Parse(line[10..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
