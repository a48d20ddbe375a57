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
    /// (a user part without a password, often a token, becomes <c>***</c>), and values of secret-looking
    /// parameters in the query or the fragment (<c>?token=...</c>, <c>#access_token=...</c>) become <c>***</c>.
    /// Never throws: the text is put together here, not re-parsed; on anything unexpected only scheme and
    /// host are shown.
    /// </summary>
    public static string RedactUri(Uri? uri)
    {
        if (uri is null) return "";
        try
        {
            if (!uri.IsAbsoluteUri) return RedactRelative(uri.OriginalString);
            var userInfo = uri.UserInfo;
            var query = uri.Query;
            var fragment = uri.Fragment;
            // Schemes without a query (ftp, file ...) keep a '?' in the path, escaped: "/%3Ftoken=...".
            var path = uri.AbsolutePath;
            var escapedQuestion = path.IndexOf("%3F", StringComparison.OrdinalIgnoreCase);
            var pathQuery = escapedQuestion >= 0 ? path[(escapedQuestion + 3)..] : "";
            if (userInfo.Length == 0 && !QueryHasSecret(query) && !QueryHasSecret(fragment) && !QueryHasSecret(pathQuery)) return IsHttp(uri) ? uri.AbsoluteUri : Final(uri.AbsoluteUri);

            var sb = new StringBuilder(uri.AbsoluteUri.Length);
            sb.Append(uri.Scheme).Append("://");
            if (userInfo.Length > 0)
            {
                var colon = userInfo.IndexOf(':');
                sb.Append(colon >= 0 ? userInfo[..colon] + ":" + Mask : Mask).Append('@');
            }
            sb.Append(uri.Authority).Append(escapedQuestion >= 0 ? path[..(escapedQuestion + 3)] + RedactQuery(pathQuery) : path);
            if (query.Length > 1) sb.Append('?').Append(RedactQuery(query[1..]));
            if (fragment.Length > 1) sb.Append('#').Append(RedactQuery(fragment[1..]));
            return IsHttp(uri) ? sb.ToString() : Final(sb.ToString());
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return Fallback(uri);
        }
    }

    /// <summary>The same URL with the user information and secret query values redacted, as a <see cref="Uri"/>. Never throws.</summary>
    public static Uri RedactedUri(Uri uri)
    {
        try
        {
            if (!uri.IsAbsoluteUri) return uri;
            var shownText = RedactUri(uri);
            if (shownText == uri.AbsoluteUri) return uri;
            return Uri.TryCreate(shownText, UriKind.Absolute, out var shown) ? shown
                : Uri.TryCreate(Fallback(uri), UriKind.Absolute, out var bare) ? bare : new Uri("about:blank");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return new Uri("about:blank");
        }
    }

    // A user part without a password ("token@host") where the parts above did not see it (a scheme that keeps it in its path).
    private static readonly Regex UserOnly = new(@"://[^\s/@:]+@", RegexOptions.CultureInvariant | RegexOptions.Compiled, TimeSpan.FromMilliseconds(200));

    /// <summary>The last pass over a shown URL: secret-looking assignments and URL passwords (ScrubText), user-only parts.</summary>
    private static bool IsHttp(Uri uri) => uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps;

    private static string Final(string text)
    {
        try { return UserOnly.Replace(ScrubText(text), "://" + Mask + "@"); }
        catch (RegexMatchTimeoutException) { return Mask; }
    }

    private static string Fallback(Uri uri)
    {
        try { return uri.IsAbsoluteUri ? $"{uri.Scheme}://{uri.Host}/{Mask}" : Mask; }
        catch (Exception e) when (e is not OutOfMemoryException) { return Mask; }
    }

    /// <summary>A relative reference: secret values after '?' and '#' masked, a "user:password@" prefix masked.</summary>
    private static string RedactRelative(string text)
    {
        var hash = text.IndexOf('#');
        var fragment = hash >= 0 ? text[(hash + 1)..] : null;
        var rest = hash >= 0 ? text[..hash] : text;
        var question = rest.IndexOf('?');
        var path = question >= 0 ? rest[..question] : rest;
        var query = question >= 0 ? rest[(question + 1)..] : null;
        var at = path.IndexOf('@');
        if (at >= 0 && path.IndexOf(':') is var colon && colon >= 0 && colon < at) path = path[..(colon + 1)] + Mask + path[at..];
        return path + (query is null ? "" : "?" + RedactQuery(query)) + (fragment is null ? "" : "#" + RedactQuery(fragment));
    }

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
        @"(?<key>[a-z][a-z0-9+.-]*://[^\s/:@]*:)(?<value>[^\s/@]+)(?=@)",
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
        foreach (var pair in query.TrimStart('?', '#').Split('&'))
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
