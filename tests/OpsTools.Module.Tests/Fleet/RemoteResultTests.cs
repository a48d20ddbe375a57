using System.Collections;
using System.Management.Automation;
using System.Reflection;
using System.Text.Json;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Fleet;

/// <summary>
/// Results that cross PowerShell remoting: every result type of the model, filled with a value in every property, is
/// serialized as remoting does it (CLIXML, depth 3 as the module's types file sets for OpsTools.CheckResult), read back as
/// the property bag a caller without OpsTools gets, and turned back by RemoteResult (what Invoke-FleetCheck does): the
/// same type, every property equal (compared as JSON text). And the types file does it by itself for a caller that has
/// OpsTools imported (Import-Clixml), and lets Assert-CheckResult bind property bags.
/// </summary>
public sealed class RemoteResultTests
{
    private static readonly DateTime When = new(2026, 12, 1, 10, 30, 15, 123, DateTimeKind.Utc);

    [Fact]
    public void Every_result_type_comes_back_from_remoting_serialization_as_itself_with_every_property()
    {
        using var s = new ModuleSession();
        var model = (Assembly)s.Invoke("[OpsTools.CheckResult].Assembly")[0].BaseObject;
        var commands = (Assembly)s.Invoke("[OpsTools.Commands.Fleet.RemoteResult].Assembly")[0].BaseObject;
        var checkResult = model.GetType("OpsTools.CheckResult", throwOnError: true)!;
        var fromRemote = commands.GetType("OpsTools.Commands.Fleet.RemoteResult", throwOnError: true)!.GetMethod("FromRemote")!;
        var types = model.GetTypes()
            .Where(t => checkResult.IsAssignableFrom(t) && !t.IsAbstract && t.GetConstructor(Type.EmptyTypes) is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();
        Assert.True(types.Count >= 20, $"only {types.Count} result types found");

        var failures = new List<string>();
        foreach (var type in types)
        {
            var original = Sample(type, 0)!;
            var bag = PSSerializer.Deserialize(PSSerializer.Serialize(original, 3));
            var p = Assert.IsType<PSObject>(bag);
            Assert.IsType<PSCustomObject>(p.BaseObject);   // no runspace on this thread: nothing rehydrates on its own
            var back = fromRemote.Invoke(null, [p, "web1:2222"])!;
            if (back.GetType() != type) { failures.Add($"{type.FullName} came back as {back.GetType().FullName}"); continue; }
            Assert.Equal("web1:2222", checkResult.GetProperty("ComputerName")!.GetValue(back));
            // The data: settable properties (computed ones such as IsProblem or an Age from the clock follow from them).
            foreach (var prop in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(x => x.GetIndexParameters().Length == 0 && x.GetSetMethod() is not null))
            {
                if (prop.Name == "ComputerName") continue;
                var want = Json(prop.GetValue(original));
                var got = Json(prop.GetValue(back));
                if (want != got) failures.Add($"{type.FullName}.{prop.Name}: sent {want}, got {got}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void With_OpsTools_imported_Import_Clixml_gives_typed_results_and_Assert_CheckResult_takes_property_bags()
    {
        using var s = new ModuleSession();
        var file = Path.Combine(Path.GetTempPath(), $"opstools-remote-{Guid.NewGuid():N}.xml");
        try
        {
            s.Set("file", file);
            var typed = s.Invoke("Get-MemoryUsage -WarningPercent 0.001 -CriticalPercent 100 | Export-Clixml -LiteralPath $file; (Import-Clixml -LiteralPath $file).GetType().FullName");
            Assert.Equal("OpsTools.HostResources.MemoryUsageResult", typed[0].BaseObject);
            // A property bag (what Invoke-Command delivers) binds to Assert-CheckResult through the types file's converter.
            var r = s.Run("$bag = [System.Management.Automation.PSSerializer]::Deserialize([System.Management.Automation.PSSerializer]::Serialize((Get-MemoryUsage -WarningPercent 0.001 -CriticalPercent 100), 3)); " +
                          "$bag.PSObject.TypeNames.Insert(0, 'Deserialized.OpsTools.HostResources.MemoryUsageResult'); $bag | Assert-CheckResult -FailOn Warning");
            Assert.NotNull(r.Terminating);
            Assert.Contains("1 warning", r.Terminating!.Message);
        }
        finally { File.Delete(file); }
    }

    private static string Json(object? value) =>
        JsonSerializer.Serialize(value, value?.GetType() ?? typeof(object), JsonOptions);

    private static readonly JsonSerializerOptions JsonOptions = new() { IgnoreReadOnlyProperties = true };

    /// <summary>An instance of <paramref name="type"/> with a value in every settable property (nested OpsTools objects too).</summary>
    private static object? Sample(Type type, int depth)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string)) return "text-" + depth;
        if (t == typeof(int)) return 7 + depth;
        if (t == typeof(long)) return 7_000_000_000L + depth;
        if (t == typeof(double)) return 12.5 + depth;
        if (t == typeof(decimal)) return 3.25m;
        if (t == typeof(bool)) return true;
        if (t == typeof(DateTime)) return When;
        if (t == typeof(DateTimeOffset)) return new DateTimeOffset(When);
        if (t == typeof(TimeSpan)) return TimeSpan.FromMilliseconds(1500);
        if (t == typeof(Guid)) return new Guid("6f9619ff-8b86-d011-b42d-00c04fc964ff");
        if (t == typeof(Uri)) return new Uri("https://example.test/health");
        if (t == typeof(object)) return 42.5;
        if (t.IsEnum) return Enum.GetValues(t).Cast<object>().Last();
        if (t.IsArray) return ListOf(t.GetElementType()!, depth, array: true);
        if (t.IsGenericType)
        {
            var def = t.GetGenericTypeDefinition();
            var args = t.GetGenericArguments();
            if (def == typeof(IReadOnlyList<>) || def == typeof(List<>) || def == typeof(IList<>) || def == typeof(IEnumerable<>) || def == typeof(IReadOnlyCollection<>))
                return ListOf(args[0], depth, array: false);
            if (def == typeof(IReadOnlyDictionary<,>) || def == typeof(Dictionary<,>) || def == typeof(IDictionary<,>))
            {
                var d = (IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(args))!;
                d[Sample(args[0], depth + 1)!] = Sample(args[1], depth + 1);
                return d;
            }
        }
        if (depth > 3) return null;
        var ctor = t.GetConstructor(Type.EmptyTypes);
        object instance;
        if (ctor is not null || t.IsValueType && t.GetConstructors().Length == 0) instance = Activator.CreateInstance(t)!;
        else
        {
            var c = t.GetConstructors().OrderByDescending(x => x.GetParameters().Length).First();
            instance = c.Invoke(c.GetParameters().Select(p => Sample(p.ParameterType, depth + 1)).ToArray());
        }
        foreach (var prop in t.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (prop.GetIndexParameters().Length > 0 || prop.GetSetMethod() is null) continue;
            var v = Sample(prop.PropertyType, depth + 1);
            if (v is not null) prop.SetValue(instance, v);
        }
        return instance;
    }

    private static object ListOf(Type element, int depth, bool array)
    {
        var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(element))!;
        list.Add(Sample(element, depth + 1));
        list.Add(Sample(element, depth + 1));
        if (!array) return list;
        var a = Array.CreateInstance(element, list.Count);
        list.CopyTo(a, 0);
        return a;
    }
}
