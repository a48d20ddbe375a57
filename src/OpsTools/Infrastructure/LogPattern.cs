using System.Text.RegularExpressions;

namespace OpsTools.Commands.Infrastructure;

/// <summary>The -Pattern of the log commands (Get-PodLog, Get-ContainerLog): a .NET regular expression, case-insensitive unless asked.</summary>
public static class LogPattern
{
    /// <summary>The compiled pattern, or null without one; a bad expression is an InvalidPattern error naming it.</summary>
    public static Regex? Build(string? pattern, bool caseSensitive)
    {
        if (pattern is null) return null;
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant | (caseSensitive ? RegexOptions.None : RegexOptions.IgnoreCase), TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw new OpsToolsException("InvalidPattern", OpsErrorKind.InvalidArgument, $"-Pattern '{pattern}' is not a valid regular expression: {e.Message}", pattern, e);
        }
    }
}
