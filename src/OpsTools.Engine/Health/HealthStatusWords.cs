namespace OpsTools.Engine.Health;

/// <summary>
/// Maps the words health endpoints use to a <see cref="CheckStatus"/>, without regard to case,
/// spaces, '-' or '_': healthy/ok/up/pass/green/true → Healthy; degraded/warn/warning/yellow → Warning;
/// unhealthy/down/fail/error/critical/red/false/out_of_service → Critical; anything else → Unknown.
/// </summary>
public static class HealthStatusWords
{
    private static readonly Dictionary<string, CheckStatus> Words = new(StringComparer.OrdinalIgnoreCase)
    {
        ["healthy"] = CheckStatus.Healthy,
        ["ok"] = CheckStatus.Healthy,
        ["up"] = CheckStatus.Healthy,
        ["pass"] = CheckStatus.Healthy,
        ["passed"] = CheckStatus.Healthy,
        ["passing"] = CheckStatus.Healthy,
        ["green"] = CheckStatus.Healthy,
        ["true"] = CheckStatus.Healthy,
        ["online"] = CheckStatus.Healthy,
        ["available"] = CheckStatus.Healthy,

        ["degraded"] = CheckStatus.Warning,
        ["warn"] = CheckStatus.Warning,
        ["warning"] = CheckStatus.Warning,
        ["yellow"] = CheckStatus.Warning,

        ["unhealthy"] = CheckStatus.Critical,
        ["down"] = CheckStatus.Critical,
        ["fail"] = CheckStatus.Critical,
        ["failed"] = CheckStatus.Critical,
        ["failing"] = CheckStatus.Critical,
        ["failure"] = CheckStatus.Critical,
        ["error"] = CheckStatus.Critical,
        ["critical"] = CheckStatus.Critical,
        ["red"] = CheckStatus.Critical,
        ["false"] = CheckStatus.Critical,
        ["outofservice"] = CheckStatus.Critical,
        ["offline"] = CheckStatus.Critical,
        ["unavailable"] = CheckStatus.Critical,
    };

    /// <summary>The status a word stands for; Unknown for a word that is not recognised.</summary>
    public static CheckStatus Map(string? word) => TryMap(word, out var status) ? status : CheckStatus.Unknown;

    /// <summary>True when the word is one of the recognised health words.</summary>
    public static bool TryMap(string? word, out CheckStatus status)
    {
        status = CheckStatus.Unknown;
        if (string.IsNullOrWhiteSpace(word)) return false;
        Span<char> buffer = stackalloc char[Math.Min(word.Length, 64)];
        var n = 0;
        foreach (var c in word)
        {
            if (c is ' ' or '_' or '-' or '\t' or '\r' or '\n' or '.' or '!') continue;
            if (n == buffer.Length) return false;
            buffer[n++] = c;
        }
        return n > 0 && Words.TryGetValue(new string(buffer[..n]), out status);
    }

    /// <summary>The worse of two statuses (Critical &gt; Warning &gt; Unknown &gt; Healthy).</summary>
    public static CheckStatus Worst(CheckStatus a, CheckStatus b) => a >= b ? a : b;
}
