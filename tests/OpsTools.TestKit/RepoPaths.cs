using System.Text.RegularExpressions;

namespace OpsTools.TestKit;

/// <summary>Where the repository and the built module are.</summary>
public static class RepoPaths
{
    /// <summary>The repository root: the first folder above the running assembly that holds OpsTools.psd1.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>ModuleVersion from the manifest.</summary>
    public static string Version { get; } =
        Regex.Match(File.ReadAllText(Path.Combine(Root, "OpsTools.psd1")), @"ModuleVersion\s*=\s*'([^']+)'").Groups[1].Value;

    /// <summary>The built module folder, out/OpsTools/&lt;version&gt;.</summary>
    public static string ModuleDirectory => Path.Combine(Root, "out", "OpsTools", Version);

    /// <summary>The built manifest that tests import.</summary>
    public static string ModuleManifest => Path.Combine(ModuleDirectory, "OpsTools.psd1");

    private static string FindRoot()
    {
        var env = Environment.GetEnvironmentVariable("OPSTOOLS_REPO_ROOT");
        if (!string.IsNullOrEmpty(env)) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "OpsTools.psd1")) && Directory.Exists(Path.Combine(dir.FullName, "src")))
                return dir.FullName;
        throw new InvalidOperationException("Cannot find the repository root (a folder with OpsTools.psd1 and src/) above " + AppContext.BaseDirectory);
    }
}
