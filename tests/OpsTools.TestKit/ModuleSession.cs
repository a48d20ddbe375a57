using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace OpsTools.TestKit;

/// <summary>What one script run produced.</summary>
public sealed class RunResult
{
    public required IReadOnlyList<PSObject> Output { get; init; }
    public required IReadOnlyList<ErrorRecord> Errors { get; init; }
    public required IReadOnlyList<string> Warnings { get; init; }
    public required IReadOnlyList<string> Verbose { get; init; }
    public required IReadOnlyList<ProgressRecord> Progress { get; init; }
    /// <summary>The terminating error that ended the run, if one did.</summary>
    public Exception? Terminating { get; init; }

    /// <summary>The base objects of the output.</summary>
    public IEnumerable<object> Objects => Output.Select(o => o.BaseObject);

    /// <summary>A property of an output object, by name, as PowerShell sees it.</summary>
    public static object? Prop(PSObject o, string name) => o.Properties[name]?.Value is var v && v is PSObject p ? p.BaseObject : o.Properties[name]?.Value;
}

/// <summary>
/// A runspace on the real PowerShell engine with the built OpsTools module imported from out/,
/// as a user's session would have it.
/// </summary>
public sealed class ModuleSession : IDisposable
{
    public TestHost Host { get; } = new();
    public Runspace Runspace { get; }

    public ModuleSession(bool import = true, IDictionary<string, object?>? variables = null)
    {
        var iss = InitialSessionState.CreateDefault2();
        Runspace = RunspaceFactory.CreateRunspace(Host, iss);
        Runspace.Open();
        if (variables is not null)
            foreach (var (name, value) in variables) Runspace.SessionStateProxy.SetVariable(name, value);
        if (import)
        {
            var r = Run($"Import-Module '{RepoPaths.ModuleManifest.Replace("'", "''")}' -ErrorAction Stop");
            if (r.Terminating is not null || r.Errors.Count > 0)
                throw new InvalidOperationException("Import-Module OpsTools failed: " + (r.Terminating?.Message ?? r.Errors[0].ToString()) +
                    $" (is the module built at {RepoPaths.ModuleDirectory}? run 'dotnet build')");
        }
    }

    /// <summary>Sets a variable in the session, e.g. a SecureString the script uses.</summary>
    public void Set(string name, object? value) => Runspace.SessionStateProxy.SetVariable(name, value);

    /// <summary>Runs a script as a user would type it. A terminating error is captured, not thrown.</summary>
    public RunResult Run(string script, CancellationToken stopAfter = default)
    {
        using var ps = PowerShell.Create();
        ps.Runspace = Runspace;
        ps.AddScript(script);
        // Output is collected as it is written, so what came before a script-ending error (-FailOn) is kept.
        using var collected = new PSDataCollection<PSObject>();
        Exception? terminating = null;
        using var reg = stopAfter.Register(() => ps.BeginStop(null, null));
        try { ps.Invoke(null, collected); }
        catch (RuntimeException e) { terminating = e; }
        var output = collected.Where(o => o is not null).ToList();
        return new RunResult
        {
            Output = output,
            Errors = ps.Streams.Error.ToList(),
            Warnings = ps.Streams.Warning.Select(w => w.Message).ToList(),
            Verbose = ps.Streams.Verbose.Select(v => v.Message).ToList(),
            Progress = ps.Streams.Progress.ToList(),
            Terminating = terminating,
        };
    }

    /// <summary>Runs a script and fails with the engine's message if it wrote any error.</summary>
    public IReadOnlyList<PSObject> Invoke(string script)
    {
        var r = Run(script);
        if (r.Terminating is not null) throw new InvalidOperationException("Script failed: " + r.Terminating.Message, r.Terminating);
        if (r.Errors.Count > 0) throw new InvalidOperationException("Script wrote errors: " + string.Join(" | ", r.Errors.Select(e => e.ToString())));
        return r.Output;
    }

    public void Dispose() => Runspace.Dispose();
}
