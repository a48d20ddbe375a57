using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace OpsTools.Commands.Loading;

/// <summary>
/// Keeps OpsTools' third-party assemblies out of PowerShell's default load context
/// (PowerShell's documented "resolving assembly conflicts" pattern).
///
/// The module root holds only OpsTools.dll (cmdlets) and OpsTools.Model.dll (output types);
/// both live in the default context, where scripts and format views can see them.
/// OpsTools.Engine.dll and everything it depends on sit in <c>deps/</c> and load into
/// <see cref="OpsToolsLoadContext"/> the first time a command touches the engine, so importing the
/// module loads none of them, and a different YamlDotNet (or Npgsql ...) already loaded by another
/// module does not matter.
/// </summary>
internal static class DependencyLoader
{
    internal static readonly string ModuleRoot =
        Path.GetDirectoryName(typeof(DependencyLoader).Assembly.Location) ?? AppContext.BaseDirectory;

    internal static readonly string DepsDirectory = Path.Combine(ModuleRoot, "deps");

    private static int _registered;

    /// <summary>Runs once, when OpsTools.dll is loaded, before any of its types are used.</summary>
#pragma warning disable CA2255 // a module initializer is exactly right here: it must run before any cmdlet type loads
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 1) return;
        AssemblyLoadContext.Default.Resolving += ResolveFromDefault;
    }

    private static Assembly? ResolveFromDefault(AssemblyLoadContext context, AssemblyName name)
    {
        switch (name.Name)
        {
            case "OpsTools.Engine":
                // The engine, and through it every third-party assembly, goes to the isolated context.
                return OpsToolsLoadContext.Instance.LoadFromAssemblyName(name);
            case "OpsTools.Model":
                var model = Path.Combine(ModuleRoot, "OpsTools.Model.dll");
                return File.Exists(model) ? context.LoadFromAssemblyPath(model) : null;
            default:
                return null;
        }
    }
}

/// <summary>The load context that owns OpsTools.Engine and its dependencies.</summary>
internal sealed class OpsToolsLoadContext : AssemblyLoadContext
{
    private static readonly Lazy<OpsToolsLoadContext> Lazy = new(() => new OpsToolsLoadContext());
    internal static OpsToolsLoadContext Instance => Lazy.Value;

    // Assemblies of the .NET runtime itself are shared with the host when the host's copy is at
    // least the version asked for: loading a NuGet copy of System.Diagnostics.DiagnosticSource next
    // to the framework's would split its types in two. An older runtime (PowerShell 7.4 runs on
    // .NET 8, Npgsql asks for DiagnosticSource 9) gets the copy from deps/. Everything else in
    // deps/ is ours alone.
    private static readonly Dictionary<string, string> FrameworkAssemblies = ReadFrameworkAssemblies();

    private OpsToolsLoadContext() : base("OpsTools", isCollectible: false) { }

    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name is null) return null;
        if (name.Name == "OpsTools.Model")
            return Default.LoadFromAssemblyPath(Path.Combine(DependencyLoader.ModuleRoot, "OpsTools.Model.dll"));
        if (FrameworkAssemblies.TryGetValue(name.Name, out var frameworkPath) && FrameworkSatisfies(frameworkPath, name))
            return null;
        var path = Path.Combine(DependencyLoader.DepsDirectory, name.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var rid = RuntimeInformation.RuntimeIdentifier;
        foreach (var dir in new[]
                 {
                     Path.Combine(DependencyLoader.DepsDirectory, "runtimes", rid, "native"),
                     DependencyLoader.DepsDirectory,
                 })
        {
            var candidate = Path.Combine(dir, unmanagedDllName);
            if (File.Exists(candidate)) return LoadUnmanagedDllFromPath(candidate);
        }
        return IntPtr.Zero;
    }

    private static bool FrameworkSatisfies(string frameworkPath, AssemblyName requested)
    {
        try
        {
            return requested.Version is null || AssemblyName.GetAssemblyName(frameworkPath).Version >= requested.Version;
        }
        catch (Exception e) when (e is IOException or BadImageFormatException or UnauthorizedAccessException)
        {
            return true;
        }
    }

    private static Dictionary<string, string> ReadFrameworkAssemblies()
    {
        var set = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var runtimeDir = Path.GetFullPath(RuntimeEnvironment.GetRuntimeDirectory()).TrimEnd(Path.DirectorySeparatorChar);
        if (AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") is string tpa)
        {
            foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                var dir = Path.GetDirectoryName(Path.GetFullPath(path))?.TrimEnd(Path.DirectorySeparatorChar);
                if (string.Equals(dir, runtimeDir, StringComparison.Ordinal))
                    set[Path.GetFileNameWithoutExtension(path)] = path;
            }
        }
        return set;
    }
}
