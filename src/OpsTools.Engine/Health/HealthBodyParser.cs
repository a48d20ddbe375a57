using System.Text;
using System.Text.Json;
using OpsTools.Engine.Security;

namespace OpsTools.Engine.Health;

/// <summary>What kind of body a health endpoint answered with.</summary>
public enum HealthBodyKind
{
    /// <summary>No body, or only white space.</summary>
    Empty,
    /// <summary>A JSON document (parsed, or malformed: see <see cref="HealthBody.Error"/>).</summary>
    Json,
    /// <summary>Anything else: plain text, HTML ...</summary>
    Text,
}

/// <summary>What <see cref="HealthBodyParser"/> read from a body.</summary>
public sealed class HealthBody
{
    public HealthBodyKind Kind { get; init; }

    /// <summary>The overall status as the service wrote it ("healthy", "UP", "Degraded", "OK" ...), if it wrote one.</summary>
    public string? ReportedStatus { get; init; }

    /// <summary>The status the body stands for; null when the body said nothing about health.</summary>
    public CheckStatus? Status { get; init; }

    /// <summary>The components the body listed, nested ones with their full path ("composite/child").</summary>
    public IReadOnlyList<HealthComponent> Components { get; init; } = Array.Empty<HealthComponent>();

    /// <summary>Why a body that claimed to be JSON could not be parsed, with the parser's position; null when it could.</summary>
    public string? Error { get; init; }

    /// <summary>The first part (at most 200 characters) of a body that was not JSON, on one line.</summary>
    public string? Excerpt { get; init; }

    /// <summary>True when the body was cut at the size limit before it ended.</summary>
    public bool Truncated { get; init; }
}

/// <summary>One component a health body listed.</summary>
public sealed class HealthComponent
{
    /// <summary>The component's path: its name, nested names joined with '/'.</summary>
    public string Path { get; init; } = "";
    /// <summary>The status as the service wrote it.</summary>
    public string? ReportedStatus { get; init; }
    /// <summary>The status it stands for.</summary>
    public CheckStatus Status { get; init; }
    /// <summary>The component's other fields flattened to text ("description", "details.database" ...), secrets masked.</summary>
    public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>();
    /// <summary>The component's description or error text, if it gave one (already in <see cref="Details"/>).</summary>
    public string? Description { get; init; }
}

/// <summary>
/// Derives the reported status and the components from a health endpoint's body. Understands the
/// shapes found in the wild:
/// <list type="bullet">
/// <item><c>{"status":"healthy","components":{"db":{"status":"healthy"},"cache":"ok"}}</c> (the runbooks' /health)</item>
/// <item>Spring Boot actuator, with nested composites: <c>{"status":"UP","components":{"db":{"status":"UP","details":{...}},"grp":{"status":"UP","components":{...}}}}</c>,
///   the 2.0/2.1 form with components under <c>details</c>, and the 1.x form with components beside <c>status</c></item>
/// <item>ASP.NET Core health checks: <c>{"status":"Degraded","totalDuration":"...","entries":{"npgsql":{"status":"Unhealthy","description":"..."}}}</c></item>
/// <item>MicroProfile Health: <c>{"status":"UP","checks":[{"name":"db","status":"DOWN"}]}</c>; IETF health+json <c>"checks":{"db:responseTime":[{...}]}</c></item>
/// <item>flat <c>{"status":"ok"}</c>, booleans <c>{"healthy":true}</c>, <c>true</c>, <c>"ok"</c></item>
/// <item>plain text: <c>OK</c>, <c>Healthy</c>, <c>Degraded</c> (ASP.NET Core's default writer)</item>
/// </list>
/// Nothing here throws for a bad body: a body that claims to be JSON and is not comes back with <see cref="HealthBody.Error"/>.
/// </summary>
public static class HealthBodyParser
{
    /// <summary>Longest detail value kept, in characters.</summary>
    public const int MaxDetailLength = 200;
    /// <summary>Longest excerpt kept, in characters.</summary>
    public const int MaxExcerptLength = 200;
    private const int MaxDetailsPerComponent = 32;
    private const int MaxComponents = 1000;
    private const int MaxFlattenDepth = 4;

    private static readonly string[] StatusNames = { "status", "health", "state", "healthy", "ok", "up" };
    private static readonly string[] ContainerNames = { "components", "entries", "checks", "dependencies", "services" };
    private static readonly string[] ComponentNameFields = { "name", "componentName", "componentId", "component", "id", "key" };
    private static readonly string[] DescriptionFields =
    {
        "description", "error", "exception", "message", "reason", "output",
        "details.error", "details.message", "details.reason", "details.description", "data.error", "data.message", "data.reason",
    };

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 64,
        CommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Parses a body given as text.</summary>
    public static HealthBody Parse(string? body, string? contentType) =>
        Parse(Encoding.UTF8.GetBytes(body ?? ""), contentType, truncated: false);

    /// <summary>
    /// Parses a body. <paramref name="contentType"/> is the Content-Type header (may be null);
    /// <paramref name="truncated"/> says the body was cut at the size limit.
    /// </summary>
    public static HealthBody Parse(ReadOnlySpan<byte> body, string? contentType, bool truncated = false)
    {
        // UTF-8 byte order mark
        if (body.Length >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF) body = body[3..];
        var first = FirstNonWhiteSpace(body);
        if (first < 0) return new HealthBody { Kind = HealthBodyKind.Empty, Truncated = truncated };

        var saysJson = IsJsonContentType(contentType);
        var looksJson = body[first] is (byte)'{' or (byte)'[';
        if (saysJson || looksJson)
        {
            try
            {
                using var doc = JsonDocument.Parse(body.ToArray(), DocumentOptions);
                return ReadJson(doc.RootElement, truncated);
            }
            catch (JsonException e)
            {
                if (truncated && TryScanTopLevelStatus(body, out var scanned))
                {
                    return new HealthBody
                    {
                        Kind = HealthBodyKind.Json,
                        ReportedStatus = Clip(scanned, 64),
                        Status = HealthStatusWords.Map(scanned),
                        Truncated = true,
                    };
                }
                if (saysJson || truncated)
                {
                    return new HealthBody
                    {
                        Kind = HealthBodyKind.Json,
                        Error = truncated
                            ? $"The body is larger than the {FormatSize(body.Length)} read and was cut there, so it could not be parsed ({DescribeJsonError(e)})"
                            : DescribeJsonError(e),
                        Excerpt = Excerpt(body, contentType),
                        Truncated = truncated,
                    };
                }
                // Not declared as JSON and not JSON after all: read it as text.
            }
        }
        return ReadText(body, contentType, truncated);
    }

    /// <summary>True for application/json, text/json and every +json type (health+json, actuator ...).</summary>
    public static bool IsJsonContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType)) return false;
        var mediaType = contentType.Split(';', 2)[0].Trim();
        return mediaType.EndsWith("/json", StringComparison.OrdinalIgnoreCase)
            || mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    private static int FirstNonWhiteSpace(ReadOnlySpan<byte> body)
    {
        for (var i = 0; i < body.Length; i++)
            if (body[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')) return i;
        return -1;
    }

    private static string DescribeJsonError(JsonException e)
    {
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut > 0) message = message[..cut];
        var line = (e.LineNumber ?? 0) + 1;
        var position = (e.BytePositionInLine ?? 0) + 1;
        return $"Malformed JSON at line {line}, byte {position}: {message}";
    }

    private static string FormatSize(int bytes) => ByteSize.Format(bytes, ByteFormat.Iec);

    // ---------------------------------------------------------------- text

    private static HealthBody ReadText(ReadOnlySpan<byte> body, string? contentType, bool truncated)
    {
        var excerpt = Excerpt(body, contentType);
        var text = Decode(body[..Math.Min(body.Length, 256)], contentType).Trim();
        string? reported = null;
        CheckStatus? status = null;
        // A short one-line answer that is a status word ("OK", "Healthy", "Degraded", "UP") is the status;
        // any other text ("pong", an error page) says nothing about health.
        if (text.Length is > 0 and <= 40 && text.IndexOfAny(new[] { '\n', '\r', '<' }) < 0 && body.Length <= 256
            && HealthStatusWords.TryMap(text, out var mapped))
        {
            reported = text;
            status = mapped;
        }
        return new HealthBody { Kind = HealthBodyKind.Text, ReportedStatus = reported, Status = status, Excerpt = excerpt, Truncated = truncated };
    }

    private static string Decode(ReadOnlySpan<byte> bytes, string? contentType)
    {
        Encoding encoding = Encoding.UTF8;
        var charset = contentType?.Split(';').Skip(1)
            .Select(p => p.Trim())
            .FirstOrDefault(p => p.StartsWith("charset=", StringComparison.OrdinalIgnoreCase))?[8..].Trim('"', ' ');
        if (!string.IsNullOrEmpty(charset))
        {
            try { encoding = Encoding.GetEncoding(charset); }
            catch (ArgumentException) { }
        }
        return encoding.GetString(bytes);
    }

    private static string Excerpt(ReadOnlySpan<byte> body, string? contentType)
    {
        var text = Decode(body[..Math.Min(body.Length, MaxExcerptLength * 4)], contentType);
        var sb = new StringBuilder(Math.Min(text.Length, MaxExcerptLength));
        var lastWasSpace = true;
        foreach (var c in text)
        {
            if (sb.Length >= MaxExcerptLength) break;
            if (char.IsWhiteSpace(c) || char.IsControl(c) || c == '\uFFFD')
            {
                if (!lastWasSpace) sb.Append(' ');
                lastWasSpace = true;
                continue;
            }
            sb.Append(c);
            lastWasSpace = false;
        }
        return Redaction.ScrubText(sb.ToString().TrimEnd());
    }

    // ---------------------------------------------------------------- JSON

    private static HealthBody ReadJson(JsonElement root, bool truncated)
    {
        var components = new List<HealthComponent>();
        string? reported = null;
        CheckStatus? status = null;
        switch (root.ValueKind)
        {
            case JsonValueKind.Object:
                reported = FindStatus(root);
                if (reported is not null) status = HealthStatusWords.Map(reported);
                ReadChildren(root, "", components, isRoot: true);
                break;
            case JsonValueKind.Array:
                ReadContainer(root, "", "checks", components);
                break;
            case JsonValueKind.String:
            case JsonValueKind.True:
            case JsonValueKind.False:
                reported = ScalarText(root);
                status = HealthStatusWords.Map(reported);
                break;
        }
        // Nothing said at the top, but the components did: the body stands for the worst of them.
        if (status is null && components.Count > 0)
            status = components.Max(c => c.Status);
        return new HealthBody
        {
            Kind = HealthBodyKind.Json,
            ReportedStatus = reported is null ? null : Clip(reported, 64),
            Status = status,
            Components = components,
            Truncated = truncated,
        };
    }

    /// <summary>The node's own status: "status" (a word, a boolean, or {"code":"UP"}), or a boolean "healthy"/"ok"/"up".</summary>
    private static string? FindStatus(JsonElement node)
    {
        foreach (var name in StatusNames)
        {
            if (!TryGetProperty(node, name, out var value)) continue;
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    var s = value.GetString();
                    if (!string.IsNullOrWhiteSpace(s)) return s.Trim();
                    break;
                case JsonValueKind.True:
                case JsonValueKind.False:
                    return value.ValueKind == JsonValueKind.True ? "true" : "false";
                case JsonValueKind.Object when name is "status" or "health" or "state":
                    foreach (var inner in new[] { "code", "status", "value" })
                        if (TryGetProperty(value, inner, out var code) && code.ValueKind == JsonValueKind.String)
                            return code.GetString();
                    break;
            }
        }
        return null;
    }

    private static bool TryGetProperty(JsonElement node, string name, out JsonElement value)
    {
        if (node.ValueKind == JsonValueKind.Object)
        {
            foreach (var p in node.EnumerateObject())
                if (string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)) { value = p.Value; return true; }
        }
        value = default;
        return false;
    }

    private static bool IsContainerName(string name) =>
        ContainerNames.Any(c => string.Equals(c, name, StringComparison.OrdinalIgnoreCase));

    private static bool HasStatus(JsonElement e) => e.ValueKind == JsonValueKind.Object && FindStatus(e) is not null;

    /// <summary>Spring Boot 2.0/2.1 keeps components under "details": an object whose members are objects with a status.</summary>
    private static bool IsComponentDetails(JsonElement details) =>
        details.ValueKind == JsonValueKind.Object
        && details.EnumerateObject().Any()
        && details.EnumerateObject().All(p => HasStatus(p.Value));

    /// <summary>Finds the node's child components in every place the known shapes put them.</summary>
    private static void ReadChildren(JsonElement node, string path, List<HealthComponent> into, bool isRoot)
    {
        foreach (var p in node.EnumerateObject())
        {
            if (IsContainerName(p.Name))
                ReadContainer(p.Value, path, p.Name, into);
            else if (string.Equals(p.Name, "details", StringComparison.OrdinalIgnoreCase) && IsComponentDetails(p.Value))
                ReadContainer(p.Value, path, p.Name, into);
            else if (isRoot && HasStatus(p.Value) && !StatusNames.Contains(p.Name, StringComparer.OrdinalIgnoreCase))
                AddComponent(p.Name, p.Value, path, into); // Spring Boot 1.x: components beside "status"
        }
    }

    private static void ReadContainer(JsonElement container, string path, string containerName, List<HealthComponent> into)
    {
        switch (container.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var p in container.EnumerateObject())
                {
                    if (p.Value.ValueKind == JsonValueKind.Array)
                    {
                        // IETF health+json: "checks": { "db:responseTime": [ {...}, {...} ] }
                        var items = p.Value.EnumerateArray().ToList();
                        for (var i = 0; i < items.Count; i++)
                            AddComponent(items.Count == 1 ? p.Name : $"{p.Name}[{i}]", items[i], path, into);
                    }
                    else
                    {
                        AddComponent(p.Name, p.Value, path, into);
                    }
                }
                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in container.EnumerateArray())
                {
                    var name = item.ValueKind == JsonValueKind.Object ? NameOf(item) : null;
                    AddComponent(name ?? $"{containerName}[{index}]", item, path, into);
                    index++;
                }
                break;
        }
    }

    private static string? NameOf(JsonElement item)
    {
        foreach (var field in ComponentNameFields)
            if (TryGetProperty(item, field, out var v) && v.ValueKind is JsonValueKind.String or JsonValueKind.Number)
            {
                var s = ScalarText(v);
                if (!string.IsNullOrWhiteSpace(s)) return s;
            }
        return null;
    }

    private static void AddComponent(string name, JsonElement value, string parentPath, List<HealthComponent> into)
    {
        if (into.Count >= MaxComponents) return;
        var path = parentPath.Length == 0 ? name : parentPath + "/" + name;
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
            case JsonValueKind.True:
            case JsonValueKind.False:
            case JsonValueKind.Number:
            {
                var reported = ScalarText(value);
                into.Add(new HealthComponent { Path = path, ReportedStatus = Clip(reported, 64), Status = HealthStatusWords.Map(reported) });
                return;
            }
            case JsonValueKind.Object:
            {
                var reported = FindStatus(value);
                var details = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                var nameField = NameFieldUsed(value, name);
                foreach (var p in value.EnumerateObject())
                {
                    if (details.Count >= MaxDetailsPerComponent) break;
                    if (string.Equals(p.Name, "status", StringComparison.OrdinalIgnoreCase)) continue;
                    if (nameField is not null && string.Equals(p.Name, nameField, StringComparison.Ordinal)) continue;
                    if (IsContainerName(p.Name) && p.Value.ValueKind is JsonValueKind.Object or JsonValueKind.Array) continue;
                    if (string.Equals(p.Name, "details", StringComparison.OrdinalIgnoreCase) && IsComponentDetails(p.Value)) continue;
                    Flatten(p.Name, p.Value, details, 1);
                }
                var description = DescriptionFields
                    .Select(f => details.TryGetValue(f, out var d) ? d : null)
                    .FirstOrDefault(d => !string.IsNullOrWhiteSpace(d) && d != Redaction.Mask);

                // Reserve this component's place before its children, so the list reads top-down.
                var at = into.Count;
                var children = new List<HealthComponent>();
                ReadChildren(value, path, children, isRoot: false);
                var status = reported is not null ? HealthStatusWords.Map(reported)
                    : children.Count > 0 ? children.Max(c => c.Status)
                    : CheckStatus.Unknown;
                into.Insert(at, new HealthComponent
                {
                    Path = path,
                    ReportedStatus = reported is null ? null : Clip(reported, 64),
                    Status = status,
                    Details = details,
                    Description = description,
                });
                foreach (var child in children)
                    if (into.Count < MaxComponents) into.Add(child);
                return;
            }
            default:
                into.Add(new HealthComponent { Path = path, Status = CheckStatus.Unknown });
                return;
        }
    }

    private static string? NameFieldUsed(JsonElement item, string name)
    {
        foreach (var field in ComponentNameFields)
            if (TryGetProperty(item, field, out var v) && ScalarText(v) == name)
                foreach (var p in item.EnumerateObject())
                    if (string.Equals(p.Name, field, StringComparison.OrdinalIgnoreCase)) return p.Name;
        return null;
    }

    /// <summary>Flattens a field into text details: "details.database" = "PostgreSQL"; secret-looking keys become "***".</summary>
    private static void Flatten(string key, JsonElement value, Dictionary<string, string> into, int depth)
    {
        if (into.Count >= MaxDetailsPerComponent) return;
        var leaf = key.Contains('.') ? key[(key.LastIndexOf('.') + 1)..] : key;
        if (Redaction.IsSecretName(leaf))
        {
            into[key] = Redaction.Mask;
            return;
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                if (depth >= MaxFlattenDepth) { into[key] = "{...}"; return; }
                foreach (var p in value.EnumerateObject())
                    Flatten(key + "." + p.Name, p.Value, into, depth + 1);
                return;
            case JsonValueKind.Array:
                var items = value.EnumerateArray().ToList();
                into[key] = items.All(i => i.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                    ? Clip(Redaction.ScrubText(string.Join(", ", items.Select(ScalarText))), MaxDetailLength)
                    : $"[{items.Count} items]";
                return;
            case JsonValueKind.Null:
            case JsonValueKind.Undefined:
                into[key] = "";
                return;
            default:
                into[key] = Clip(Redaction.ScrubText(ScalarText(value)), MaxDetailLength);
                return;
        }
    }

    private static string ScalarText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.Null => "",
        _ => value.GetRawText(),
    };

    private static string Clip(string text, int max) =>
        text.Length <= max ? text : text[..(max - 3)] + "...";

    /// <summary>For a body cut at the size limit: the top-level "status" string, if it came before the cut.</summary>
    private static bool TryScanTopLevelStatus(ReadOnlySpan<byte> body, out string status)
    {
        status = "";
        var reader = new Utf8JsonReader(body, isFinalBlock: false, state: new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip }));
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName
                    && string.Equals(reader.GetString(), "status", StringComparison.OrdinalIgnoreCase))
                {
                    if (!reader.Read()) return false;
                    if (reader.TokenType != JsonTokenType.String) continue;
                    status = reader.GetString() ?? "";
                    return status.Length > 0;
                }
            }
        }
        catch (JsonException) { }
        return false;
    }
}
