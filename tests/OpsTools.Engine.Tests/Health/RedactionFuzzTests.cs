using OpsTools.Engine.Security;

namespace OpsTools.Engine.Tests.Health;

/// <summary>Issue 12, finding 3: redaction never throws on any input, and a secret it can see never survives it.</summary>
public class RedactionFuzzTests
{
    private const string Secret = "Zq7SecretValue";

    [Theory]
    [InlineData("http://:secret@host/h", "http://:***@host/h")]
    [InlineData("https://api.example/cb#token=abc123def&state=1", "https://api.example/cb#token=***&state=1")]
    [InlineData("https://api.example/cb#access_token=abc123def", "https://api.example/cb#access_token=***")]
    [InlineData("https://u:p@api.example:8443/x?api_key=k1&y=2#id_token=t", "https://u:***@api.example:8443/x?api_key=***&y=2#id_token=***")]
    public void Urls_that_broke_redaction_are_shown_without_their_secrets(string url, string expected)
    {
        Assert.Equal(expected, Redaction.RedactUri(new Uri(url)));
        var shown = Redaction.RedactedUri(new Uri(url));
        Assert.DoesNotContain("secret", shown.AbsoluteUri.Replace("***", ""), StringComparison.Ordinal);
    }

    private static readonly string[] Schemes = { "http", "https", "postgres", "ftp", "x-y", "h", "HTTP" };
    private static readonly string[] Pieces =
    {
        "", ":", "@", "%", "%4", "%zz", "%41", "/", "//", "?", "#", "&", "=", "[", "]", "[::1]", "::", "..", ".", " ", "\t", "\u00e9", "\u4e2d",
        "\ud83d\ude00", "\ud800", "host", "127.0.0.1", "8080", "65536", "-1", "user", "token", "password", "key", "a=b", ";", "\\", "\"", "'",
        "\0", "\r\n", "*", "+", "~", "xn--", "%00", "%40", "%3A",
    };

    private static string Random(Random r, int parts)
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < parts; i++) sb.Append(Pieces[r.Next(Pieces.Length)]);
        return sb.ToString();
    }

    private static void NeverThrows(string text)
    {
        _ = Redaction.ScrubText(text);
        _ = Redaction.RedactConnectionString(text);
        _ = Redaction.RedactText(text, new[] { text, Secret, null, "" });
        foreach (var kind in new[] { UriKind.Absolute, UriKind.RelativeOrAbsolute, UriKind.Relative })
            if (Uri.TryCreate(text, kind, out var uri))
            {
                _ = Redaction.RedactUri(uri);
                if (uri.IsAbsoluteUri) _ = Redaction.RedactedUri(uri);
            }
    }

    [Fact]
    public void Random_strings_never_make_redaction_throw()
    {
        var r = new Random(12);
        for (var i = 0; i < 4000; i++)
        {
            var text = i % 2 == 0
                ? Schemes[r.Next(Schemes.Length)] + "://" + Random(r, r.Next(0, 12))
                : Random(r, r.Next(0, 16));
            var ex = Record.Exception(() => NeverThrows(text));
            Assert.True(ex is null, $"case {i} '{text}': {ex}");
        }
    }

    [Fact]
    public void Random_urls_with_a_password_or_a_secret_parameter_never_show_the_secret()
    {
        var r = new Random(1212);
        var checkedCount = 0;
        for (var i = 0; i < 4000; i++)
        {
            var user = r.Next(3) switch { 0 => "", 1 => "u" + Random(r, r.Next(0, 2)).Replace("@", "").Replace("/", "").Replace("#", "").Replace("?", "").Replace(":", ""), _ => "user" };
            var userPart = r.Next(4) switch
            {
                0 => "",
                1 => $"{user}:{Secret}@",
                2 => $"{Secret}@",
                _ => $":{Secret}@",
            };
            var host = r.Next(3) switch { 0 => "host", 1 => "127.0.0.1:" + r.Next(1, 65535), _ => "[::1]:8443" };
            var path = "/" + string.Join("/", Enumerable.Range(0, r.Next(0, 3)).Select(_ => Random(r, 2).Replace("#", "").Replace("?", "")));
            var secretKey = new[] { "token", "access_token", "api_key", "password", "X-Api-Key", "sig" }[r.Next(6)];
            var query = r.Next(3) switch { 0 => "", 1 => $"?a=1&{secretKey}={Secret}", _ => $"?{secretKey}={Secret}&b=2" };
            var fragment = r.Next(3) switch { 0 => "", 1 => $"#{secretKey}={Secret}", _ => $"#x=1&{secretKey}={Secret}&state=9" };
            var text = $"{Schemes[r.Next(Schemes.Length)]}://{userPart}{host}{path}{query}{fragment}";
            if (!Uri.TryCreate(text, UriKind.Absolute, out var uri)) continue;
            // A one-letter scheme parses as a Windows drive path (a file: URI, never probed): only "never throws" holds for it.
            if (uri.IsFile) { NeverThrows(text); continue; }
            checkedCount++;
            string shown;
            Uri shownUri;
            try
            {
                shown = Redaction.RedactUri(uri);
                shownUri = Redaction.RedactedUri(uri);
            }
            catch (Exception e)
            {
                Assert.Fail($"'{text}' made redaction throw: {e}");
                return;
            }
            Assert.False(shown.Contains(Secret, StringComparison.Ordinal), $"'{text}' -> '{shown}'");
            Assert.False(shownUri.OriginalString.Contains(Secret, StringComparison.Ordinal), $"'{text}' -> '{shownUri.OriginalString}'");
            Assert.False(Redaction.RedactConnectionString(text).Contains(Secret, StringComparison.Ordinal), text);
        }
        Assert.True(checkedCount > 2000, $"only {checkedCount} of the generated URLs parsed");
    }
}
