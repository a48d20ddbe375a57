using System.Text;
using System.Text.RegularExpressions;

namespace OpsTools.Engine.Security;

/// <summary>
/// Keeps secrets out of everything OpsTools shows: results, messages, verbose lines, errors and
/// reports. URLs lose the password of their user information, key=value connection strings lose
/// the values of secret-looking keys, and free text loses any secret value the caller knows about.
/// </summary>
public static class Redaction
{
    /// <summary>What a hidden value is replaced with.</summary>
    public const string Mask = "***";

    // Compared against a key with case, '-', '_', '.' and spaces removed.
    private static readonly string[] SecretFragments =
    {
        "password", "passwd", "secret", "token", "connectionstring", "authorization", "credential",
        "apikey", "privatekey", "accesskey", "cookie", "signature",
    };

    private static readonly HashSet<string> SecretExact = new(StringComparer.Ordinal)
    {
        "pwd", "pass", "key", "auth", "sig", "jwt", "bearer", "sessionid",
    };

    /// <summary>
    /// True when a key or header name looks like it holds a secret (password, secret, token, key,
    /// connection string, authorization, credential, api key ...).
    /// </summary>
    public static bool IsSecretName(string? name)
    {
        if (string.IsNullOrEmpty(name)) return false;
        var n = Normalize(name);
        if (n.Length == 0) return false;
        if (SecretExact.Contains(n)) return true;
        foreach (var fragment in SecretFragments)
            if (n.Contains(fragment, StringComparison.Ordinal)) return true;
        // "...key" (apikey, clientkey, sharedkey, x-api-key) but not "keyspace" or "monkeypatch".
        return n.EndsWith("key", StringComparison.Ordinal) || n.EndsWith("keys", StringComparison.Ordinal);
    }

    private static string Normalize(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
            if (char.IsLetterOrDigit(c)) sb.Append(char.ToLowerInvariant(c));
        return sb.ToString();
    }

    /// <summary>
    /// The URL as it may be shown: <c>https://user:pass@host/</c> becomes <c>https://user:***@host/</c>
    /// (a user part without a password, often a token, becomes <c>***</c>), and query values of
    /// secret-looking parameters (<c>?token=...</c>) become <c>***</c>.
    /// </summary>
    public static string RedactUri(Uri? uri)
    {
        if (uri is null) return "";
        if (!uri.IsAbsoluteUri) return RedactQuery(uri.OriginalString);
        var userInfo = uri.UserInfo;
        var query = uri.Query;
        if (userInfo.Length == 0 && !QueryHasSecret(query)) return uri.AbsoluteUri;

        var b = new UriBuilder(uri);
        if (userInfo.Length > 0)
        {
            var colon = userInfo.IndexOf(':');
            if (colon >= 0)
            {
                b.UserName = Uri.UnescapeDataString(userInfo[..colon]);
                b.Password = Mask;
            }
            else
            {
                b.UserName = Mask;
                b.Password = "";
            }
        }
        if (query.Length > 0) b.Query = RedactQuery(query.TrimStart('?'));
        // UriBuilder escapes '*' in the user part on some runtimes; show the mask as written.
        return b.Uri.AbsoluteUri.Replace("%2A%2A%2A", Mask, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The same URL with the user information and secret query values redacted, as a <see cref="Uri"/>.</summary>
    public static Uri RedactedUri(Uri uri) =>
        uri.IsAbsoluteUri && (uri.UserInfo.Length > 0 || QueryHasSecret(uri.Query)) ? new Uri(RedactUri(uri)) : uri;

    /// <summary>
    /// A connection string as it may be shown. Both forms are handled:
    /// <c>Host=db;Username=app;Password=s3cret</c> becomes <c>Host=db;Username=app;Password=***</c>, and
    /// URL forms (<c>postgres://app:s3cret@db/app</c>) go through <see cref="RedactUri"/>.
    /// </summary>
    public static string RedactConnectionString(string? connectionString)
    {
        if (string.IsNullOrEmpty(connectionString)) return connectionString ?? "";
        if (connectionString.Contains("://", StringComparison.Ordinal) &&
            Uri.TryCreate(connectionString.Trim(), UriKind.Absolute, out var uri))
            return RedactUri(uri);

        var parts = connectionString.Split(';');
        for (var i = 0; i < parts.Length; i++)
        {
            var eq = parts[i].IndexOf('=');
            if (eq <= 0) continue;
            var key = parts[i][..eq];
            if (IsSecretName(key)) parts[i] = key + "=" + Mask;
        }
        return string.Join(";", parts);
    }

    /// <summary>Replaces every occurrence of each known secret value in <paramref name="text"/> with <see cref="Mask"/>.</summary>
    public static string RedactText(string? text, IEnumerable<string?>? secrets)
    {
        if (string.IsNullOrEmpty(text) || secrets is null) return text ?? "";
        foreach (var secret in secrets)
        {
            // Very short values would mask ordinary words; they are not shown anywhere else either.
            if (string.IsNullOrEmpty(secret) || secret.Length < 4) continue;
            text = text.Replace(secret, Mask, StringComparison.Ordinal);
            var escaped = Uri.EscapeDataString(secret);
            if (escaped != secret) text = text.Replace(escaped, Mask, StringComparison.Ordinal);
        }
        return text;
    }

    // password=..., "token": "...", Pwd=...; and the password of user:password@ in URLs.
    private static readonly Regex SecretAssignment = new(
        @"(?<key>\b[\w.-]*(?:password|passwd|pwd|secret|token|apikey|api[_-]key|access[_-]?key|private[_-]?key|credential|connectionstring)[\w.-]*""?\s*[=:]\s*""?)(?<value>[^\s;,&""]+)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromMilliseconds(200));

    private static readonly Regex AuthorizationValue = new(
        @"(?<key>\b(?:Bearer|Basic)\s+)(?<value>[A-Za-z0-9\-._~+/]{8,}=*)",
        RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromMilliseconds(200));

    private static readonly Regex UrlPassword = new(
        @"(?<key>[a-z][a-z0-9+.-]*://[^\s/:@]+:)(?<value>[^\s/@]+)(?=@)",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromMilliseconds(200));

    /// <summary>
    /// Masks secrets that free text from elsewhere (a service's error description, an exception message)
    /// may carry: <c>password=...</c>-style assignments, <c>Bearer ...</c> values and URL passwords.
    /// Use it on text OpsTools did not write itself before showing it.
    /// </summary>
    public static string ScrubText(string? text)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        try
        {
            text = SecretAssignment.Replace(text, m => m.Groups["key"].Value + Mask);
            text = AuthorizationValue.Replace(text, m => m.Groups["key"].Value + Mask);
            text = UrlPassword.Replace(text, m => m.Groups["key"].Value + Mask);
            return text;
        }
        catch (RegexMatchTimeoutException)
        {
            return "(text hidden: it could not be checked for secrets)";
        }
    }

    private static bool QueryHasSecret(string query)
    {
        if (string.IsNullOrEmpty(query)) return false;
        foreach (var pair in query.TrimStart('?').Split('&'))
        {
            var eq = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            if (IsSecretName(key)) return true;
        }
        return false;
    }

    private static string RedactQuery(string query)
    {
        var pairs = query.Split('&');
        for (var i = 0; i < pairs.Length; i++)
        {
            var eq = pairs[i].IndexOf('=');
            if (eq <= 0) continue;
            if (IsSecretName(Uri.UnescapeDataString(pairs[i][..eq]))) pairs[i] = pairs[i][..eq] + "=" + Mask;
        }
        return string.Join("&", pairs);
    }
}
