using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Reflection;

namespace OpsTools.Commands.Fleet;

/// <summary>
/// Turns an OpsTools result that crossed PowerShell remoting (a "Deserialized.OpsTools.*" property bag) back into the
/// object it was: the same .NET type (the most derived one the type names name), every settable property converted back
/// (enums from their names, lists, dictionaries and nested OpsTools objects recursively), so that format views, methods,
/// Assert-CheckResult and Export-OpsReport work on the caller's side as they do locally. Used by Invoke-FleetCheck on
/// every object a host returns, and by <see cref="RemoteResultConverter"/>, which the module's types file registers for
/// OpsTools.CheckResult: parameter binding (a plain Invoke-Command's results piped to Assert-CheckResult) and
/// Import-Clixml go through it. Remoting's own deserializer does not consult the session's types, so Invoke-Command
/// output stays a property bag until it is bound or passed through here.
/// </summary>
public static class RemoteResult
{
    private const string Prefix = "Deserialized.";
    private static readonly Assembly ModelAssembly = typeof(CheckResult).Assembly;

    /// <summary>The OpsTools type a deserialized object was, or null when it was not one (or is not one this version knows).</summary>
    public static Type? OriginalType(PSObject value)
    {
        foreach (var name in value.TypeNames)
        {
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            var type = ModelAssembly.GetType(name.Substring(Prefix.Length), throwOnError: false);
            if (type is not null) return type;
        }
        return null;
    }

    /// <summary>True when <paramref name="value"/> is a deserialized OpsTools object that can become a <paramref name="target"/>.</summary>
    public static bool CanRehydrate(object? value, Type target) =>
        value is PSObject p && p.BaseObject is PSCustomObject && OriginalType(p) is { } t && target.IsAssignableFrom(t);

    /// <summary>
    /// The object <paramref name="value"/> was before serialization, as <paramref name="target"/> or a type derived from it.
    /// Throws <see cref="InvalidCastException"/> naming the property that cannot be converted back.
    /// </summary>
    public static object Rehydrate(PSObject value, Type target)
    {
        var type = OriginalType(value) ?? target;
        if (!target.IsAssignableFrom(type))
            throw new InvalidCastException($"A deserialized {type.FullName} is not a {target.FullName}.");
        return Build(value, type);
    }

    /// <summary>
    /// Each output object of a remote command: OpsTools results rehydrated (with <see cref="CheckResult.ComputerName"/> set
    /// to <paramref name="computerName"/> when given), anything else passed on as it came.
    /// </summary>
    public static object? FromRemote(object? value, string? computerName)
    {
        if (value is not PSObject p || p.BaseObject is not PSCustomObject || OriginalType(p) is null) return value;
        var result = Rehydrate(p, typeof(object));
        if (result is CheckResult r && !string.IsNullOrEmpty(computerName)) r.ComputerName = computerName;
        return result;
    }

    private static object Build(PSObject source, Type type)
    {
        var properties = source.Properties.ToDictionary(p => p.Name, p => p, StringComparer.OrdinalIgnoreCase);
        // Records and structs such as ByteSize take their values in the constructor: the constructor with the most
        // parameters that the source names all of; else the parameterless one.
        var ctor = type.GetConstructors()
            .Where(c => c.GetParameters().All(p => p.Name is not null && properties.ContainsKey(p.Name)))
            .OrderByDescending(c => c.GetParameters().Length)
            .FirstOrDefault();
        object instance;
        var fromCtor = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        if (ctor is not null && ctor.GetParameters().Length > 0)
        {
            var args = ctor.GetParameters()
                .Select(p => { fromCtor.Add(p.Name!); return Convert(properties[p.Name!].Value, p.ParameterType, type, p.Name!); })
                .ToArray();
            instance = ctor.Invoke(args);
        }
        else if (ctor is not null || type.IsValueType)
        {
            instance = Activator.CreateInstance(type)!;
        }
        else
        {
            throw new InvalidCastException($"{type.FullName} has no constructor the deserialized properties can call.");
        }

        foreach (var prop in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (prop.GetIndexParameters().Length > 0 || prop.GetSetMethod() is null || fromCtor.Contains(prop.Name)) continue;
            if (!properties.TryGetValue(prop.Name, out var sp)) continue;
            var converted = Convert(sp.Value, prop.PropertyType, type, prop.Name);
            if (converted is null && prop.PropertyType.IsValueType && Nullable.GetUnderlyingType(prop.PropertyType) is null) continue;
            prop.SetValue(instance, converted);
        }
        // Remoting adds the host a result came from; a plain Invoke-Command caller gets it as ComputerName too.
        if (instance is CheckResult r && string.IsNullOrEmpty(r.ComputerName) && properties.TryGetValue("PSComputerName", out var host) && host.Value is { } h)
            r.ComputerName = h.ToString();
        return instance;
    }

    private static object? Convert(object? value, Type target, Type owner, string name)
    {
        try
        {
            return ConvertValue(value, target);
        }
        catch (Exception e) when (e is not InvalidCastException)
        {
            throw new InvalidCastException($"{owner.FullName}.{name}: {e.Message}", e);
        }
    }

    private static object? ConvertValue(object? value, Type target)
    {
        if (value is null) return null;
        var pso = value as PSObject;
        var baseValue = pso?.BaseObject ?? value;
        var type = Nullable.GetUnderlyingType(target) ?? target;

        if (type == typeof(object)) return pso is not null && baseValue is PSCustomObject ? FromRemote(pso, null) : baseValue;
        if (type.IsInstanceOfType(baseValue) && baseValue is not PSCustomObject) return baseValue;
        if (type.IsEnum) return Enum.Parse(type, baseValue.ToString()!, ignoreCase: true);
        if (type == typeof(string)) return baseValue.ToString();

        if (pso is not null && baseValue is PSCustomObject && type.Assembly == ModelAssembly)
            return Build(pso, OriginalType(pso) is { } t && type.IsAssignableFrom(t) ? t : type);

        if (baseValue is IDictionary dictionary && DictionaryTypes(type) is var (keyType, valueType))
        {
            var result = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(keyType, valueType))!;
            foreach (DictionaryEntry e in dictionary) result[ConvertValue(e.Key, keyType)!] = ConvertValue(e.Value, valueType);
            return result;
        }
        if (baseValue is IEnumerable items && baseValue is not string && ElementType(type) is { } element)
        {
            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
            foreach (var item in items) list.Add(ConvertValue(item, element));
            if (type.IsArray)
            {
                var array = Array.CreateInstance(element, list.Count);
                list.CopyTo(array, 0);
                return array;
            }
            return list;
        }
        return LanguagePrimitives.ConvertTo(baseValue, type, CultureInfo.InvariantCulture);
    }

    private static Type? ElementType(Type type)
    {
        if (type.IsArray) return type.GetElementType();
        if (!type.IsGenericType) return null;
        var def = type.GetGenericTypeDefinition();
        return def == typeof(List<>) || def == typeof(IList<>) || def == typeof(IReadOnlyList<>) || def == typeof(IEnumerable<>)
            || def == typeof(IReadOnlyCollection<>) || def == typeof(ICollection<>)
            ? type.GetGenericArguments()[0]
            : null;
    }

    private static (Type Key, Type Value)? DictionaryTypes(Type type)
    {
        if (!type.IsGenericType) return null;
        var def = type.GetGenericTypeDefinition();
        if (def != typeof(Dictionary<,>) && def != typeof(IDictionary<,>) && def != typeof(IReadOnlyDictionary<,>)) return null;
        var a = type.GetGenericArguments();
        return (a[0], a[1]);
    }
}

/// <summary>
/// The type converter the module's types file names for OpsTools.CheckResult: PowerShell's deserializer asks it to turn
/// a "Deserialized.OpsTools.CheckResult" (or a derived result) back into the typed object.
/// </summary>
public sealed class RemoteResultConverter : PSTypeConverter
{
    public override bool CanConvertFrom(object sourceValue, Type destinationType) => RemoteResult.CanRehydrate(sourceValue, destinationType);

    public override object ConvertFrom(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
        sourceValue is PSObject p && RemoteResult.CanRehydrate(p, destinationType)
            ? RemoteResult.Rehydrate(p, destinationType)
            : throw new InvalidCastException($"Cannot convert {sourceValue?.GetType().FullName ?? "null"} to {destinationType.FullName}.");

    public override bool CanConvertTo(object sourceValue, Type destinationType) => false;

    public override object ConvertTo(object sourceValue, Type destinationType, IFormatProvider formatProvider, bool ignoreCase) =>
        throw new InvalidCastException($"Cannot convert to {destinationType.FullName}.");
}
