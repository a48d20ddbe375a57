using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace OpsTools.Commands.Fleet;

/// <summary>
/// Completes <c>-HostName</c> of Invoke-FleetCheck with the hosts ssh already knows, as bash's ssh completion does:
/// the <c>Host</c> names of ~/.ssh/config (patterns with * or ? left out) and the host names of ~/.ssh/known_hosts
/// (hashed entries cannot be read back and are left out; <c>[host]:port</c> entries complete as <c>host:port</c>).
/// </summary>
public sealed class SshHostCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
        CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var word = (wordToComplete ?? "").Trim('\'', '"');
        var user = word.Contains('@') ? word[..(word.IndexOf('@') + 1)] : "";
        var prefix = word[user.Length..];
        return KnownHosts()
            .Where(h => h.Host.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .GroupBy(h => h.Host, StringComparer.OrdinalIgnoreCase)
            .Select(g => g.First())
            .OrderBy(h => h.Host, StringComparer.OrdinalIgnoreCase)
            .Select(h => new CompletionResult(user + h.Host, h.Host, CompletionResultType.ParameterValue, h.Source));
    }

    /// <summary>Every host name of the user's ssh config and known_hosts, with where it was found.</summary>
    internal static IEnumerable<(string Host, string Source)> KnownHosts()
    {
        var home = Environment.GetEnvironmentVariable("HOME");
        if (string.IsNullOrEmpty(home)) home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var ssh = Path.Combine(home, ".ssh");
        foreach (var line in Lines(Path.Combine(ssh, "config")))
        {
            var t = line.Trim();
            if (!t.StartsWith("Host ", StringComparison.OrdinalIgnoreCase) && !t.StartsWith("Host\t", StringComparison.OrdinalIgnoreCase)) continue;
            foreach (var name in t[5..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
                if (name.IndexOfAny(['*', '?', '!']) < 0) yield return (name, "~/.ssh/config: Host " + name);
        }
        foreach (var line in Lines(Path.Combine(ssh, "known_hosts")))
        {
            var t = line.Trim();
            if (t.Length == 0 || t[0] == '#' || t[0] == '|' || t[0] == '@') continue;   // comments, hashed hosts, markers
            var names = t.Split([' ', '\t'], 2)[0];
            foreach (var name in names.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var host = name;
                if (host.StartsWith('[') && host.IndexOf("]:", StringComparison.Ordinal) is var close and > 0)
                    host = host[1..close] + host[(close + 1)..];
                if (host.IndexOfAny(['*', '?', '!']) < 0) yield return (host, "~/.ssh/known_hosts: " + host);
            }
        }
    }

    private static IEnumerable<string> Lines(string path)
    {
        try { return File.Exists(path) ? File.ReadAllLines(path) : []; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; }
    }
}
