using System.Globalization;
using System.Text.RegularExpressions;

namespace OpsTools.Engine.Kubernetes;

/// <summary>
/// Kubernetes resource quantities (apimachinery resource.Quantity): validation against the grammar, with
/// errors that say what the admin probably meant ("400MB" is not a quantity: 400M or 400Mi).
/// <code>
/// quantity ::= signedNumber suffix;  number ::= digits | digits.digits | digits. | .digits
/// suffix   ::= binarySI (Ki Mi Gi Ti Pi Ei) | decimalSI (m "" k M G T P E) | decimalExponent (e|E signedNumber)
/// </code>
/// </summary>
public static class KubeQuantity
{
    private static readonly Regex Grammar = new(@"^(?<sign>[+-]?)(?<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?<suffix>[KMGTPE]i|[mkMGTPE]|[eE][+-]?[0-9]+)?$", RegexOptions.CultureInvariant);
    private static readonly Regex Loose = new(@"^\s*(?<number>[+-]?[0-9]*\.?[0-9]+)\s*(?<unit>[A-Za-z]*)\s*$", RegexOptions.CultureInvariant);

    /// <summary>
    /// Checks <paramref name="value"/> as the quantity of <paramref name="resource"/> ("cpu" or "memory", for
    /// the message and the memory-specific checks); returns it unchanged when valid, else throws
    /// OpsToolsException KubeInvalidQuantity (InvalidArgument) naming the parameter and a correct spelling.
    /// </summary>
    public static string Validate(string? value, string resource, string parameter)
    {
        var v = value ?? "";
        var m = Grammar.Match(v);
        if (m.Success)
        {
            if (m.Groups["sign"].Value == "-")
                throw Invalid(parameter, v, $"a {resource} quantity cannot be negative");
            if (resource == "memory" && m.Groups["suffix"].Value == "m")
                throw Invalid(parameter, v, $"'m' is milli: {v} means {m.Groups["number"].Value} thousandths of a byte. Did you mean {m.Groups["number"].Value}Mi (mebibytes) or {m.Groups["number"].Value}M (megabytes)?");
            return v;
        }
        throw Invalid(parameter, v, Suggest(v, resource));
    }

    /// <summary>True when <paramref name="value"/> matches the quantity grammar (any sign, any suffix).</summary>
    public static bool IsQuantity(string? value) => value is not null && Grammar.IsMatch(value);

    private static string Suggest(string v, string resource)
    {
        var hint = resource == "cpu"
            ? "CPU is in cores (1, 0.5) or millicores (500m)"
            : "memory is in bytes with a suffix: Ki Mi Gi Ti (powers of 1024) or k M G T (powers of 1000), e.g. 400Mi, 1Gi, 512M";
        var loose = Loose.Match(v);
        if (v.Trim().Length == 0) return "it is empty; " + hint;
        if (!loose.Success) return "it is not a Kubernetes quantity; " + hint;
        var number = loose.Groups["number"].Value;
        var unit = loose.Groups["unit"].Value;
        string? meant = unit.ToLowerInvariant() switch
        {
            "kb" or "k" => $"{number}k or {number}Ki",
            "mb" => $"{number}M or {number}Mi",
            "gb" => $"{number}G or {number}Gi",
            "tb" => $"{number}T or {number}Ti",
            "kib" => $"{number}Ki",
            "mib" => $"{number}Mi",
            "gib" => $"{number}Gi",
            "tib" => $"{number}Ti",
            "ki" or "mi" or "gi" or "ti" or "pi" or "ei" => $"{number}{char.ToUpperInvariant(unit[0])}i",
            "b" or "bytes" or "byte" => number,
            "cores" or "core" or "cpu" or "cpus" => number,
            "millicores" or "millicore" or "millis" => number + "m",
            "g" when resource == "memory" => $"{number}G or {number}Gi",
            _ => null,
        };
        if (v != v.Trim() || v.Contains(' ')) meant ??= v.Replace(" ", "");
        return meant is null
            ? $"it is not a Kubernetes quantity; {hint}"
            : $"it is not a Kubernetes quantity (units are case-sensitive and have no B); say {meant}";
    }

    private static OpsToolsException Invalid(string parameter, string value, string why) =>
        new("KubeInvalidQuantity", OpsErrorKind.InvalidArgument,
            $"-{parameter} '{value}': {why}. Nothing was changed.", value);

    /// <summary>Whether two quantities are the same amount as Kubernetes stores them (500m = 0.5); falls back to text.</summary>
    public static bool SameAmount(string? a, string? b)
    {
        if (a is null || b is null) return a == b;
        if (a == b) return true;
        try { return new k8s.Models.ResourceQuantity(a).ToDecimal() == new k8s.Models.ResourceQuantity(b).ToDecimal(); }
        catch (Exception) { return false; }
    }

    /// <summary>Throws KubeInvalidQuantity when a request is more than its limit (the API server refuses that).</summary>
    public static void CheckRequestWithinLimit(string? request, string? limit, string resource)
    {
        if (request is null || limit is null) return;
        if (new k8s.Models.ResourceQuantity(request).ToDecimal() > new k8s.Models.ResourceQuantity(limit).ToDecimal())
            throw new OpsToolsException("KubeInvalidQuantity", OpsErrorKind.InvalidArgument,
                $"the {resource} request ({request}) is more than the {resource} limit ({limit}); Kubernetes refuses that. Nothing was changed.", resource);
    }

    internal static string Format(decimal d) => d.ToString(CultureInfo.InvariantCulture);
}
