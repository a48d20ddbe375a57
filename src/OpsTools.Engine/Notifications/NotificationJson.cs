using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OpsTools.Engine.Notifications;

/// <summary>
/// Writes the JSON of a notification exactly: non-ASCII text goes out as UTF-8 as written (no \u escapes), and
/// &lt; &gt; &amp; ' stay as they are, so Slack mentions (&lt;@U0123&gt;, &lt;!here&gt;) and links arrive as the sender wrote
/// them (ConvertTo-Json and System.Text.Json's default encoder escape them). Only what JSON requires is escaped:
/// the quote, the backslash and control characters.
/// </summary>
public static class NotificationJson
{
    public static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public static string Write(JsonNode? node)
    {
        var sb = new StringBuilder();
        WriteNode(sb, node);
        return sb.ToString();
    }

    /// <summary>A JSON string literal, quotes included.</summary>
    public static string Quote(string? s)
    {
        if (s is null) return "null";
        var sb = new StringBuilder(s.Length + 2);
        WriteString(sb, s);
        return sb.ToString();
    }

    private static void WriteNode(StringBuilder sb, JsonNode? node)
    {
        switch (node)
        {
            case null: sb.Append("null"); break;
            case JsonObject o:
                sb.Append('{');
                var first = true;
                foreach (var (k, v) in o)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(sb, k);
                    sb.Append(':');
                    WriteNode(sb, v);
                }
                sb.Append('}');
                break;
            case JsonArray a:
                sb.Append('[');
                for (var i = 0; i < a.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    WriteNode(sb, a[i]);
                }
                sb.Append(']');
                break;
            case JsonValue v:
                var e = v.GetValue<object>();
                switch (e)
                {
                    case string s: WriteString(sb, s); break;
                    case bool b: sb.Append(b ? "true" : "false"); break;
                    case JsonElement je: sb.Append(je.GetRawText()); break;
                    case double d: sb.Append(double.IsFinite(d) ? d.ToString("R", CultureInfo.InvariantCulture) : "null"); break;
                    case float f: sb.Append(float.IsFinite(f) ? f.ToString("R", CultureInfo.InvariantCulture) : "null"); break;
                    case IFormattable n: sb.Append(n.ToString(null, CultureInfo.InvariantCulture)); break;
                    default: WriteString(sb, Convert.ToString(e, CultureInfo.InvariantCulture) ?? ""); break;
                }
                break;
        }
    }

    private static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }
}
