using System.Collections.ObjectModel;
using System.Management.Automation.Language;
using System.Reflection;
using System.Runtime.InteropServices;

namespace OpsTools.HelpGen;

/// <summary>One parameter set entry of a parameter, as [Parameter(...)] declares it.</summary>
internal sealed record SetEntry(string Set, bool Mandatory, int? Position, bool ByValue, bool ByPropertyName);

internal sealed class ParamModel
{
    public required string Name { get; init; }
    public required string TypeName { get; init; }      // short, as PlatyPS shows it: Uri[], SwitchParameter
    public required string FullTypeName { get; init; }  // System.Uri[]
    public bool IsSwitch => TypeName == "SwitchParameter";
    public List<SetEntry> Sets { get; } = new();
    public List<string> Aliases { get; } = new();
    public List<string> ValidValues { get; } = new();
    public bool Globbing { get; set; }
    /// <summary>[Parameter(DontShow = true)]: documented, but left out of the syntax as PowerShell does.</summary>
    public bool Hidden { get; init; }
    public bool VariableLength => TypeName.EndsWith("[]", StringComparison.Ordinal);
}

internal sealed class CommandModel
{
    public const string AllSets = "__AllParameterSets";
    public required string Name { get; init; }
    public string Verb => Name.Split('-', 2)[0];
    public string Noun => Name.Split('-', 2).ElementAtOrDefault(1) ?? "";
    public bool IsFunction { get; init; }
    public bool SupportsShouldProcess { get; set; }
    public string? HelpUri { get; set; }
    public string? DefaultSet { get; set; }
    public List<ParamModel> Parameters { get; } = new();
    public List<string> OutputTypes { get; } = new();

    /// <summary>The named parameter sets, default first; one pseudo set when the command declares none.</summary>
    public List<string> SetNames()
    {
        var named = Parameters.SelectMany(p => p.Sets).Select(s => s.Set).Where(s => s != AllSets)
            .Distinct(StringComparer.OrdinalIgnoreCase).OrderBy(s => s, StringComparer.OrdinalIgnoreCase).ToList();
        if (named.Count == 0) return new List<string> { AllSets };
        if (DefaultSet != null && named.Remove(DefaultSet)) named.Insert(0, DefaultSet);
        return named;
    }

    public SetEntry? EntryFor(ParamModel p, string set) =>
        p.Sets.FirstOrDefault(s => string.Equals(s.Set, set, StringComparison.OrdinalIgnoreCase))
        ?? p.Sets.FirstOrDefault(s => s.Set == AllSets);
}

/// <summary>Reads the compiled cmdlets' metadata without loading them for execution (no file stays locked).</summary>
internal static class CmdletReflector
{
    public static List<CommandModel> Read(string moduleDir, string assemblyName)
    {
        var paths = new List<string>();
        paths.AddRange(Directory.GetFiles(moduleDir, "*.dll"));
        var deps = Path.Combine(moduleDir, "deps");
        if (Directory.Exists(deps)) paths.AddRange(Directory.GetFiles(deps, "*.dll"));
        paths.AddRange(Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll"));
        paths.Add(typeof(System.Management.Automation.PSObject).Assembly.Location);

        using var mlc = new MetadataLoadContext(new PathAssemblyResolver(paths));
        var asm = mlc.LoadFromAssemblyPath(Path.Combine(moduleDir, assemblyName));
        Type[] types;
        try { types = asm.GetTypes(); }
        catch (ReflectionTypeLoadException e) { types = e.Types.Where(t => t != null).ToArray()!; }

        var result = new List<CommandModel>();
        foreach (var type in types)
        {
            if (type.IsAbstract) continue;
            var cmdlet = Attr(type.GetCustomAttributesData(), "System.Management.Automation.CmdletAttribute");
            if (cmdlet == null) continue;
            var model = new CommandModel
            {
                Name = $"{cmdlet.ConstructorArguments[0].Value}-{cmdlet.ConstructorArguments[1].Value}",
                SupportsShouldProcess = Named(cmdlet, "SupportsShouldProcess") is true,
                HelpUri = Named(cmdlet, "HelpUri") as string,
                DefaultSet = Named(cmdlet, "DefaultParameterSetName") as string,
            };
            foreach (var ot in type.GetCustomAttributesData().Where(a => a.AttributeType.FullName == "System.Management.Automation.OutputTypeAttribute"))
                foreach (var arg in ot.ConstructorArguments)
                    foreach (var v in Values(arg))
                        model.OutputTypes.Add(v is Type t ? FullName(t) : v?.ToString() ?? "");

            var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            // Declared order, most derived class first (the order `Get-Command -Syntax` uses).
            for (var t = type; t != null && t.FullName != "System.Object"; t = t.BaseType)
            {
                foreach (var prop in t.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).OrderBy(p => p.MetadataToken))
                {
                    var attrs = prop.GetCustomAttributesData();
                    var parameterAttrs = attrs.Where(a => a.AttributeType.FullName == "System.Management.Automation.ParameterAttribute").ToList();
                    if (parameterAttrs.Count == 0 || !seen.Add(prop.Name)) continue;
                    var p = new ParamModel { Name = prop.Name, TypeName = ShortName(prop.PropertyType), FullTypeName = FullName(prop.PropertyType),
                        Hidden = parameterAttrs.Any(a => Named(a, "DontShow") is true) };
                    foreach (var pa in parameterAttrs)
                    {
                        p.Sets.Add(new SetEntry(
                            Named(pa, "ParameterSetName") as string ?? CommandModel.AllSets,
                            Named(pa, "Mandatory") is true,
                            Named(pa, "Position") is int pos && pos >= 0 ? pos : null,
                            Named(pa, "ValueFromPipeline") is true,
                            Named(pa, "ValueFromPipelineByPropertyName") is true));
                    }
                    foreach (var a in attrs)
                    {
                        switch (a.AttributeType.FullName)
                        {
                            case "System.Management.Automation.AliasAttribute":
                                p.Aliases.AddRange(a.ConstructorArguments.SelectMany(Values).Select(v => v?.ToString() ?? ""));
                                break;
                            case "System.Management.Automation.ValidateSetAttribute":
                                p.ValidValues.AddRange(a.ConstructorArguments.SelectMany(Values).OfType<string>());
                                break;
                            case "System.Management.Automation.SupportsWildcardsAttribute":
                                p.Globbing = true;
                                break;
                        }
                    }
                    var enumType = Nullable.GetUnderlyingType(prop.PropertyType) ?? prop.PropertyType;
                    if (enumType.IsArray) enumType = enumType.GetElementType()!;
                    if (p.ValidValues.Count == 0 && IsEnum(enumType))
                        p.ValidValues.AddRange(enumType.GetFields(BindingFlags.Public | BindingFlags.Static).Select(f => f.Name));
                    model.Parameters.Add(p);
                }
            }
            result.Add(model);
        }
        return result;
    }

    private static bool IsEnum(Type t)
    {
        if (t.IsGenericType && t.GetGenericTypeDefinition().FullName == "System.Nullable`1") t = t.GetGenericArguments()[0];
        return t.IsEnum;
    }

    private static CustomAttributeData? Attr(IList<CustomAttributeData> attrs, string fullName) =>
        attrs.FirstOrDefault(a => a.AttributeType.FullName == fullName);

    private static object? Named(CustomAttributeData a, string name) =>
        a.NamedArguments.Where(n => n.MemberName == name).Select(n => n.TypedValue.Value).FirstOrDefault();

    private static IEnumerable<object?> Values(CustomAttributeTypedArgument arg) =>
        arg.Value is ReadOnlyCollection<CustomAttributeTypedArgument> many ? many.Select(m => m.Value) : new[] { arg.Value };

    public static string ShortName(Type t)
    {
        if (t.IsArray) return ShortName(t.GetElementType()!) + "[]";
        if (t.IsGenericType)
        {
            if (t.GetGenericTypeDefinition().FullName == "System.Nullable`1") return ShortName(t.GetGenericArguments()[0]);
            return t.Name.Split('`')[0] + "[" + string.Join(",", t.GetGenericArguments().Select(ShortName)) + "]";
        }
        return t.Name;
    }

    public static string FullName(Type t)
    {
        if (t.IsArray) return FullName(t.GetElementType()!) + "[]";
        if (t.IsGenericType)
        {
            if (t.GetGenericTypeDefinition().FullName == "System.Nullable`1") return FullName(t.GetGenericArguments()[0]);
            var def = t.GetGenericTypeDefinition();
            return (def.Namespace + "." + def.Name.Split('`')[0]) + "[" + string.Join(",", t.GetGenericArguments().Select(FullName)) + "]";
        }
        return t.FullName ?? t.Name;
    }
}

/// <summary>Reads the script functions' metadata with PowerShell's own parser (nothing is run).</summary>
internal static class FunctionReader
{
    private static readonly Dictionary<string, (string Short, string Full)> Accelerators = new(StringComparer.OrdinalIgnoreCase)
    {
        ["string"] = ("String", "System.String"), ["int"] = ("Int32", "System.Int32"), ["long"] = ("Int64", "System.Int64"),
        ["double"] = ("Double", "System.Double"), ["bool"] = ("Boolean", "System.Boolean"), ["switch"] = ("SwitchParameter", "System.Management.Automation.SwitchParameter"),
        ["datetime"] = ("DateTime", "System.DateTime"), ["timespan"] = ("TimeSpan", "System.TimeSpan"), ["hashtable"] = ("Hashtable", "System.Collections.Hashtable"),
        ["object"] = ("Object", "System.Object"), ["scriptblock"] = ("ScriptBlock", "System.Management.Automation.ScriptBlock"),
        ["securestring"] = ("SecureString", "System.Security.SecureString"), ["pscredential"] = ("PSCredential", "System.Management.Automation.PSCredential"),
    };

    public static List<CommandModel> Read(string scriptPath, IEnumerable<string> names, out List<string> errors)
    {
        errors = new List<string>();
        var ast = Parser.ParseFile(scriptPath, out _, out var parseErrors);
        foreach (var e in parseErrors) errors.Add($"{scriptPath}({e.Extent.StartLineNumber}): error OTH010: {e.Message}");
        var wanted = new HashSet<string>(names, StringComparer.OrdinalIgnoreCase);
        var result = new List<CommandModel>();
        foreach (FunctionDefinitionAst fn in ast.FindAll(a => a is FunctionDefinitionAst f && wanted.Contains(f.Name), false))
        {
            var model = new CommandModel { Name = fn.Name, IsFunction = true };
            var paramBlock = fn.Body.ParamBlock;
            if (paramBlock != null)
            {
                foreach (var a in paramBlock.Attributes)
                {
                    if (Is(a, "CmdletBinding"))
                    {
                        model.SupportsShouldProcess = NamedBool(a, "SupportsShouldProcess");
                        model.DefaultSet = NamedValue(a, "DefaultParameterSetName") as string;
                        model.HelpUri = NamedValue(a, "HelpUri") as string;
                    }
                    else if (Is(a, "OutputType"))
                    {
                        foreach (var arg in a.PositionalArguments)
                            model.OutputTypes.Add(arg is TypeExpressionAst te ? te.TypeName.FullName : arg.SafeGetValue()?.ToString() ?? "");
                    }
                }
                var anyPosition = paramBlock.Parameters.Any(p => p.Attributes.OfType<AttributeAst>().Any(a => Is(a, "Parameter") && a.NamedArguments.Any(n => n.ArgumentName.Equals("Position", StringComparison.OrdinalIgnoreCase))));
                var implicitPosition = 0;
                foreach (var p in paramBlock.Parameters)
                {
                    var typeName = p.Attributes.OfType<TypeConstraintAst>().LastOrDefault()?.TypeName;
                    var (shortName, fullName) = TypeNames(typeName);
                    var pm = new ParamModel { Name = p.Name.VariablePath.UserPath, TypeName = shortName, FullTypeName = fullName };
                    foreach (var a in p.Attributes.OfType<AttributeAst>())
                    {
                        if (Is(a, "Parameter"))
                        {
                            var pos = NamedValue(a, "Position");
                            pm.Sets.Add(new SetEntry(NamedValue(a, "ParameterSetName") as string ?? CommandModel.AllSets, NamedBool(a, "Mandatory"),
                                pos is int i ? i : null, NamedBool(a, "ValueFromPipeline"), NamedBool(a, "ValueFromPipelineByPropertyName")));
                        }
                        else if (Is(a, "Alias")) pm.Aliases.AddRange(a.PositionalArguments.Select(x => x.SafeGetValue()?.ToString() ?? ""));
                        else if (Is(a, "ValidateSet")) pm.ValidValues.AddRange(a.PositionalArguments.Select(x => x.SafeGetValue()?.ToString() ?? ""));
                        else if (Is(a, "SupportsWildcards")) pm.Globbing = true;
                    }
                    if (pm.Sets.Count == 0) pm.Sets.Add(new SetEntry(CommandModel.AllSets, false, null, false, false));
                    if (!anyPosition && !pm.IsSwitch)
                    {
                        // PowerShell numbers the parameters itself when none declares a position.
                        var pos = implicitPosition++;
                        for (var k = 0; k < pm.Sets.Count; k++) pm.Sets[k] = pm.Sets[k] with { Position = pos };
                    }
                    model.Parameters.Add(pm);
                }
            }
            result.Add(model);
        }
        return result;
    }

    private static (string, string) TypeNames(ITypeName? t)
    {
        if (t == null) return ("Object", "System.Object");
        if (t is ArrayTypeName at)
        {
            var (s, f) = TypeNames(at.ElementType);
            return (s + "[]", f + "[]");
        }
        if (Accelerators.TryGetValue(t.FullName, out var known)) return known;
        var name = t.FullName;
        var shortName = name.Contains('.') ? name[(name.LastIndexOf('.') + 1)..] : name;
        return (shortName, name);
    }

    private static bool Is(AttributeAst a, string name) =>
        a.TypeName.Name.Equals(name, StringComparison.OrdinalIgnoreCase) || a.TypeName.Name.Equals(name + "Attribute", StringComparison.OrdinalIgnoreCase);

    private static object? NamedValue(AttributeAst a, string name)
    {
        var arg = a.NamedArguments.FirstOrDefault(n => n.ArgumentName.Equals(name, StringComparison.OrdinalIgnoreCase));
        if (arg == null) return null;
        if (arg.ExpressionOmitted) return true;
        return arg.Argument.SafeGetValue();
    }

    private static bool NamedBool(AttributeAst a, string name) => NamedValue(a, name) is true;
}
