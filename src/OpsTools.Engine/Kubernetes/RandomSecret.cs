using System.Security.Cryptography;

namespace OpsTools.Engine.Kubernetes;

/// <summary>How <see cref="RandomSecret"/> writes random bytes as text.</summary>
public enum RandomSecretEncoding
{
    /// <summary>Standard base64 with padding, as <c>openssl rand -base64 N</c>.</summary>
    Base64,
    /// <summary>Lower-case hex, as <c>openssl rand -hex N</c>.</summary>
    Hex,
    /// <summary>A-Z, a-z, 0-9 only (Length is then the number of characters).</summary>
    Alphanumeric,
    /// <summary>URL-safe base64 (RFC 4648 section 5) without padding: tokens, JWT keys.</summary>
    Base64Url,
}

/// <summary>
/// Cryptographically random secrets (<see cref="RandomNumberGenerator"/>). <c>length</c> is the number of
/// random bytes for Base64, Base64Url and Hex (so <c>-Length 64</c> is <c>openssl rand -base64 64</c>),
/// and the number of characters for Alphanumeric (each uniform over 62 symbols, no modulo bias).
/// The result is a char array so callers can clear it after use.
/// </summary>
public static class RandomSecret
{
    public const int MaxLength = 65536;
    private const string Alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static char[] Generate(int length, RandomSecretEncoding encoding)
    {
        if (length < 1 || length > MaxLength)
            throw new OpsToolsException("RandomSecretLengthInvalid", OpsErrorKind.InvalidArgument, $"A random secret's length must be between 1 and {MaxLength} (was {length}).", length);
        if (encoding == RandomSecretEncoding.Alphanumeric)
        {
            var chars = new char[length];
            for (var i = 0; i < length; i++) chars[i] = Alphanumeric[RandomNumberGenerator.GetInt32(Alphanumeric.Length)];
            return chars;
        }
        var bytes = RandomNumberGenerator.GetBytes(length);
        try
        {
            return encoding switch
            {
                RandomSecretEncoding.Hex => ToHex(bytes),
                RandomSecretEncoding.Base64 => ToBase64(bytes, urlSafe: false),
                RandomSecretEncoding.Base64Url => ToBase64(bytes, urlSafe: true),
                _ => throw new ArgumentOutOfRangeException(nameof(encoding)),
            };
        }
        finally { CryptographicOperations.ZeroMemory(bytes); }
    }

    private static char[] ToHex(byte[] bytes)
    {
        const string digits = "0123456789abcdef";
        var chars = new char[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[2 * i] = digits[bytes[i] >> 4];
            chars[2 * i + 1] = digits[bytes[i] & 0xF];
        }
        return chars;
    }

    private static char[] ToBase64(byte[] bytes, bool urlSafe)
    {
        var chars = new char[(bytes.Length + 2) / 3 * 4];
        if (!Convert.TryToBase64Chars(bytes, chars, out var written)) throw new InvalidOperationException("base64 buffer too small");
        if (!urlSafe) return chars;
        var end = written;
        while (end > 0 && chars[end - 1] == '=') end--;
        var result = new char[end];
        for (var i = 0; i < end; i++) result[i] = chars[i] switch { '+' => '-', '/' => '_', var c => c };
        Array.Clear(chars);
        return result;
    }
}
