using System.Runtime.CompilerServices;
using System.Text;

namespace OpsTools.Engine.Logs;

/// <summary>
/// Turns a message into its template, Drain-style: the variable parts are masked so that lines that differ only in
/// ids, numbers and values count together. Quoted values become &lt;STR&gt;, UUIDs &lt;UUID&gt;, IPv4 addresses (with
/// a port) &lt;IP&gt;, 0x... and long hex tokens &lt;HEX&gt;, numbers &lt;NUM&gt; (also inside words and paths:
/// /items/42 → /items/&lt;NUM&gt;); runs of spaces collapse to one. Templates are cut at 300 characters.
/// </summary>
public static class TemplateMasker
{
    public const int MaxLength = 300;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string Mask(string message)
    {
        var sb = new StringBuilder(Math.Min(message.Length, MaxLength + 16));
        var s = message.AsSpan();
        var i = 0;
        while (i < s.Length && sb.Length < MaxLength)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c))
            {
                if (sb.Length > 0 && sb[^1] != ' ') sb.Append(' ');
                i++;
                continue;
            }
            // Quoted values: a quote that opens a value (start, after space, '=', ':', '(' or '[') up to its closing quote.
            if ((c == '"' || c == '\'' || c == '`') && (i == 0 || s[i - 1] is ' ' or '=' or ':' or '(' or '[' or ','))
            {
                var close = s[(i + 1)..].IndexOf(c);
                if (close >= 0 && close <= 200)
                {
                    sb.Append("<STR>");
                    i += close + 2;
                    continue;
                }
            }
            // A token: up to the next space.
            var end = i;
            while (end < s.Length && !char.IsWhiteSpace(s[end])) end++;
            MaskToken(s[i..end], sb);
            i = end;
        }
        if (sb.Length > MaxLength) sb.Length = MaxLength;
        return sb.ToString().TrimEnd();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaskToken(ReadOnlySpan<char> token, StringBuilder sb)
    {
        // key=value: keep the key, mask the value.
        var eq = token.IndexOf('=');
        if (eq > 0 && eq < token.Length - 1 && IsWordy(token[..eq]))
        {
            sb.Append(token[..(eq + 1)]);
            var value = token[(eq + 1)..];
            if (value.Length >= 2 && value[0] is '"' or '\'' && value.TrimEnd(",;.")[^1] == value[0]) { sb.Append("<STR>").Append(value[value.TrimEnd(",;.").Length..]); return; }
            MaskToken(value, sb);
            return;
        }
        // Leading and trailing punctuation stays.
        var a = 0;
        while (a < token.Length && token[a] is '(' or '[' or '{' or '<' or '"' or '\'' or ',') a++;
        var b = token.Length;
        while (b > a && token[b - 1] is ')' or ']' or '}' or '>' or ',' or ';' or ':' or '.' or '"' or '\'' or '!' or '?') b--;
        sb.Append(token[..a]);
        var core = token[a..b];
        if (core.Length > 0) MaskCore(core, sb);
        sb.Append(token[b..]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MaskCore(ReadOnlySpan<char> core, StringBuilder sb)
    {
        if (IsUuid(core)) { sb.Append("<UUID>"); return; }
        if (IsIp(core)) { sb.Append("<IP>"); return; }
        if (core.Length > 2 && core[0] == '0' && (core[1] == 'x' || core[1] == 'X') && AllHex(core[2..])) { sb.Append("<HEX>"); return; }
        var hasDigit = false;
        foreach (var ch in core) if (char.IsAsciiDigit(ch)) { hasDigit = true; break; }
        if (!hasDigit) { sb.Append(core); return; }
        if (core.Length >= 8 && AllHex(core)) { sb.Append("<HEX>"); return; }
        if (IsNumberish(core)) { sb.Append("<NUM>"); return; }
        // Mixed: mask the segments (between / : - _ . , @ #) that contain digits.
        var start = 0;
        for (var k = 0; k <= core.Length; k++)
        {
            if (k == core.Length || core[k] is '/' or ':' or '-' or '_' or '.' or ',' or '@' or '#' or '?' or '&' or '=')
            {
                var seg = core[start..k];
                if (seg.Length > 0)
                {
                    var digits = false;
                    foreach (var ch in seg) if (char.IsAsciiDigit(ch)) { digits = true; break; }
                    if (!digits) sb.Append(seg);
                    else if (IsUuid(seg)) sb.Append("<UUID>");
                    else if (seg.Length >= 8 && AllHex(seg)) sb.Append("<HEX>");
                    else if (AllDigits(seg)) sb.Append("<NUM>");
                    else sb.Append("<*>");
                }
                if (k < core.Length) sb.Append(core[k]);
                start = k + 1;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsWordy(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')) return false;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool AllHex(ReadOnlySpan<char> s)
    {
        if (s.IsEmpty) return false;
        foreach (var c in s) if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool AllDigits(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (!char.IsAsciiDigit(c)) return false;
        return !s.IsEmpty;
    }

    /// <summary>12, -3, 4.5, 1,234, 10ms, 12:30:01, 2024-05-01, 3.2s, 100%, 5xx stays.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsNumberish(ReadOnlySpan<char> s)
    {
        var i = 0;
        if (s[0] is '-' or '+') i++;
        var digits = 0;
        for (; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsAsciiDigit(c)) { digits++; continue; }
            if (c is '.' or ',' or ':' or '-' or 'T' or 'Z' or '+') continue;
            break;
        }
        if (digits == 0) return false;
        // A unit suffix (ms, s, MB, %, h) after the number.
        var unit = s[i..];
        return unit.Length == 0 || (unit.Length <= 3 && IsLetters(unit)) || unit is "%";
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsLetters(ReadOnlySpan<char> s)
    {
        foreach (var c in s) if (!char.IsAsciiLetter(c) && c != '%') return false;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsUuid(ReadOnlySpan<char> s)
    {
        if (s.Length != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-') return false;
        for (var k = 0; k < 36; k++) if (k is not (8 or 13 or 18 or 23) && !char.IsAsciiHexDigit(s[k])) return false;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool IsIp(ReadOnlySpan<char> s)
    {
        var parts = 0;
        var digits = 0;
        var k = 0;
        for (; k < s.Length; k++)
        {
            var c = s[k];
            if (char.IsAsciiDigit(c)) { if (++digits > 3) return false; continue; }
            if (c == '.' && digits > 0) { parts++; digits = 0; continue; }
            if (c == ':' && parts == 3 && digits > 0) { parts++; digits = 0; k++; break; }
            return false;
        }
        if (parts == 4) // with a port
        {
            for (; k < s.Length; k++) if (!char.IsAsciiDigit(s[k])) return false;
            return true;
        }
        return parts == 3 && digits > 0;
    }
}
