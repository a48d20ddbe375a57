using System.Globalization;
using OpsTools.Configuration;

namespace OpsTools.Engine.Configuration;

/// <summary>
/// Reads the metrics and alerting sections of an environment file: <c>Metrics</c>, <c>Prometheus</c>,
/// <c>Alertmanager</c>, <c>AppFigures</c>, <c>AppActions</c>. Unknown keys and secrets are refused with the
/// file, the key and what is expected.
/// </summary>
internal static class MetricsSettingsReader
{
    private static readonly string[] HttpKeys = { "Name", "Uri", "Url", "Headers", "BearerTokenVariable", "SkipCertificateCheck", "TimeoutSec" };
    private static readonly string[] MetricsKeys = HttpKeys.Concat(new[] { "RequestMetric", "LatencyMetric", "StatusLabel", "ConnectionsMetric", "ConnectionsWarning", "ConnectionsCritical", "MemoryMetric", "MemoryLimitBytes", "Figures" }).ToArray();
    private static readonly string[] FigureKeys = { "Name", "Metric", "Kind", "Labels", "Warning", "Critical" };
    private static readonly string[] PrometheusKeys = HttpKeys.Concat(new[] { "Checks", "OvernightHours", "Selector" }).ToArray();
    private static readonly string[] CheckKeys = { "Name", "Query", "Warning", "Critical", "Below", "IfEmpty", "Unit" };
    private static readonly string[] AppFigureKeys = HttpKeys.Concat(new[] { "Path", "Warning", "Critical", "Below", "Expected", "Otherwise" }).ToArray();
    private static readonly string[] AppActionKeys = HttpKeys.Concat(new[] { "Method", "Body", "ContentType", "Description" }).ToArray();
    private static readonly string[] Methods = { "GET", "POST", "PUT", "PATCH", "DELETE" };
    private static readonly string[] Kinds = { "Gauge", "Rate", "Increase", "Growth" };

    public static void Read(IDictionary<string, object?> data, string source, OpsEnvironment env)
    {
        if (EnvironmentReader.TryGet(data, "Metrics", out var metrics) && metrics is not null)
            env.Metrics = EnvironmentReader.AsList(metrics).Select((item, i) => ReadMetrics(item, $"{source}: Metrics[{i}]")).ToList();
        if (EnvironmentReader.TryGet(data, "Prometheus", out var prom) && prom is not null)
            env.Prometheus = ReadPrometheus(prom, $"{source}: Prometheus");
        if (EnvironmentReader.TryGet(data, "Alertmanager", out var am) && am is not null)
            env.Alertmanager = ReadHttp(new AlertmanagerSettings(), Table(am, $"{source}: Alertmanager", HttpKeys), $"{source}: Alertmanager", "alertmanager");
        if (EnvironmentReader.TryGet(data, "AppFigures", out var figures) && figures is not null)
            env.AppFigures = EnvironmentReader.AsList(figures).Select((item, i) => ReadAppFigure(item, $"{source}: AppFigures[{i}]")).ToList();
        if (EnvironmentReader.TryGet(data, "AppActions", out var actions) && actions is not null)
            env.AppActions = EnvironmentReader.AsList(actions).Select((item, i) => ReadAppAction(item, $"{source}: AppActions[{i}]")).ToList();
        Unique(env.Metrics.Select(m => m.Name), $"{source}: Metrics");
        Unique(env.AppFigures.Select(m => m.Name), $"{source}: AppFigures");
        Unique(env.AppActions.Select(m => m.Name), $"{source}: AppActions");
        if (env.Prometheus is not null) Unique(env.Prometheus.Checks.Select(c => c.Name), $"{source}: Prometheus.Checks");
    }

    private static MetricsEndpoint ReadMetrics(object? item, string where)
    {
        if (item is string s)
        {
            var uri = EnvironmentReader.ParseUri(s, where);
            return new MetricsEndpoint { Uri = uri, Name = EnvironmentReader.DefaultName(uri) };
        }
        var t = Table(item, where, MetricsKeys);
        var m = ReadHttp(new MetricsEndpoint(), t, where, null);
        m.RequestMetric = EnvironmentReader.GetString(t, "RequestMetric");
        m.LatencyMetric = EnvironmentReader.GetString(t, "LatencyMetric");
        m.StatusLabel = EnvironmentReader.GetString(t, "StatusLabel");
        m.ConnectionsMetric = EnvironmentReader.GetString(t, "ConnectionsMetric");
        m.ConnectionsWarning = Number(t, "ConnectionsWarning", where);
        m.ConnectionsCritical = Number(t, "ConnectionsCritical", where);
        m.MemoryMetric = EnvironmentReader.GetString(t, "MemoryMetric");
        m.MemoryLimitBytes = Number(t, "MemoryLimitBytes", where);
        if (EnvironmentReader.TryGet(t, "Figures", out var figs) && figs is not null)
            m.Figures = EnvironmentReader.AsList(figs).Select((f, i) => ReadFigure(f, $"{where}.Figures[{i}]")).ToList();
        return m;
    }

    private static MetricFigureSettings ReadFigure(object? item, string where)
    {
        var t = Table(item, where, FigureKeys);
        var metric = EnvironmentReader.GetString(t, "Metric")
            ?? throw Invalid($"{where}: a figure needs a Metric, e.g. @{{ Name = 'queue'; Metric = 'triage_queue_size'; Warning = 100 }}.");
        var kind = EnvironmentReader.GetString(t, "Kind") ?? "Gauge";
        var known = Kinds.FirstOrDefault(k => k.Equals(kind, StringComparison.OrdinalIgnoreCase))
            ?? throw Invalid($"{where}.Kind: '{kind}' is not one of {string.Join(", ", Kinds)}.");
        var f = new MetricFigureSettings
        {
            Name = EnvironmentReader.GetString(t, "Name") ?? metric,
            Metric = metric,
            Kind = known,
            Warning = Number(t, "Warning", where),
            Critical = Number(t, "Critical", where),
        };
        if (EnvironmentReader.TryGet(t, "Labels", out var labels) && labels is not null)
            f.Labels = EnvironmentReader.AsTable(labels, $"{where}.Labels").ToDictionary(kv => kv.Key, kv => Convert.ToString(kv.Value, CultureInfo.InvariantCulture) ?? "");
        return f;
    }

    private static PrometheusSettings ReadPrometheus(object? item, string where)
    {
        if (item is string s)
        {
            var uri = EnvironmentReader.ParseUri(s, where);
            return new PrometheusSettings { Uri = uri, Name = "prometheus" };
        }
        var t = Table(item, where, PrometheusKeys);
        var p = ReadHttp(new PrometheusSettings(), t, where, "prometheus");
        p.OvernightHours = Number(t, "OvernightHours", where);
        p.Selector = EnvironmentReader.GetString(t, "Selector");
        if (EnvironmentReader.TryGet(t, "Checks", out var checks) && checks is not null)
            p.Checks = EnvironmentReader.AsList(checks).Select((c, i) => ReadCheck(c, $"{where}.Checks[{i}]")).ToList();
        return p;
    }

    private static PromCheckSettings ReadCheck(object? item, string where)
    {
        var t = Table(item, where, CheckKeys);
        var query = EnvironmentReader.GetString(t, "Query");
        if (string.IsNullOrWhiteSpace(query))
            throw Invalid($"{where}: a check needs a Query, e.g. @{{ Name = 'queue-growth'; Query = 'rate(triage_queue_size[5m])'; Warning = 1 }}.");
        return new PromCheckSettings
        {
            Name = EnvironmentReader.GetString(t, "Name") ?? query,
            Query = query,
            Warning = Number(t, "Warning", where),
            Critical = Number(t, "Critical", where),
            Below = EnvironmentReader.GetBool(t, "Below", where),
            IfEmpty = Status(t, "IfEmpty", where) ?? CheckStatus.Unknown,
            Unit = EnvironmentReader.GetString(t, "Unit"),
        };
    }

    private static AppFigureSettings ReadAppFigure(object? item, string where)
    {
        var t = Table(item, where, AppFigureKeys);
        var f = ReadHttp(new AppFigureSettings(), t, where, null);
        f.Path = EnvironmentReader.GetString(t, "Path")
            ?? throw Invalid($"{where}: a figure needs a Path, e.g. @{{ Name = 'queue'; Uri = 'http://localhost:8000/triage/statistics'; Path = '.queue_size'; Warning = 100 }}.");
        f.Warning = Number(t, "Warning", where);
        f.Critical = Number(t, "Critical", where);
        f.Below = EnvironmentReader.GetBool(t, "Below", where);
        if (EnvironmentReader.TryGet(t, "Expected", out var expected) && expected is not null)
            f.Expected = EnvironmentReader.AsList(expected).Select(e => Convert.ToString(e, CultureInfo.InvariantCulture) ?? "").ToList();
        f.Otherwise = Status(t, "Otherwise", where) ?? CheckStatus.Critical;
        if (!EnvironmentReader.TryGet(t, "Name", out _)) f.Name = f.Path.TrimStart('.');
        return f;
    }

    private static AppActionSettings ReadAppAction(object? item, string where)
    {
        var t = Table(item, where, AppActionKeys);
        if (!EnvironmentReader.TryGet(t, "Name", out _))
            throw Invalid($"{where}: an action needs a Name, e.g. @{{ Name = 'reset-circuit-breaker'; Method = 'POST'; Uri = 'https://api/api/ai-service?action=reset-circuit-breaker' }}.");
        var a = ReadHttp(new AppActionSettings(), t, where, null);
        var method = (EnvironmentReader.GetString(t, "Method") ?? "POST").ToUpperInvariant();
        if (!Methods.Contains(method))
            throw Invalid($"{where}.Method: '{method}' is not one of {string.Join(", ", Methods)}.");
        a.Method = method;
        a.Body = EnvironmentReader.GetString(t, "Body");
        a.ContentType = EnvironmentReader.GetString(t, "ContentType");
        a.Description = EnvironmentReader.GetString(t, "Description");
        return a;
    }

    private static T ReadHttp<T>(T target, IDictionary<string, object?> t, string where, string? defaultName) where T : HttpTargetSettings
    {
        var uriText = EnvironmentReader.GetString(t, "Uri") ?? EnvironmentReader.GetString(t, "Url")
            ?? throw Invalid($"{where}: needs a Uri, e.g. Uri = 'https://api.shop.example/metrics'.");
        target.Uri = EnvironmentReader.ParseUri(uriText, where);
        target.Name = EnvironmentReader.GetString(t, "Name") ?? defaultName ?? EnvironmentReader.DefaultName(target.Uri);
        target.BearerTokenVariable = EnvironmentReader.GetString(t, "BearerTokenVariable");
        target.SkipCertificateCheck = EnvironmentReader.GetBool(t, "SkipCertificateCheck", where);
        target.TimeoutSec = Number(t, "TimeoutSec", where);
        if (target.TimeoutSec is double timeout && (timeout < 0.05 || timeout > 3600 || double.IsNaN(timeout)))
            throw Invalid($"{where}.TimeoutSec: {timeout.ToString(CultureInfo.InvariantCulture)} is outside 0.05-3600 seconds.");
        if (EnvironmentReader.TryGet(t, "Headers", out var headers) && headers is not null)
            target.Headers = EnvironmentReader.AsTable(headers, $"{where}.Headers").ToDictionary(kv => kv.Key, kv => Convert.ToString(kv.Value, CultureInfo.InvariantCulture) ?? "");
        return target;
    }

    private static IDictionary<string, object?> Table(object? item, string where, string[] keys)
    {
        var t = EnvironmentReader.AsTable(item, where);
        EnvironmentReader.RejectUnknownKeys(t, keys, where, " Secrets never go in an environment file: name the variable that holds the token with BearerTokenVariable.");
        return t;
    }

    private static double? Number(IDictionary<string, object?> t, string key, string where)
    {
        if (!EnvironmentReader.TryGet(t, key, out var v) || v is null) return null;
        var d = EnvironmentReader.ToDouble(v, $"{where}.{key}");
        if (double.IsNaN(d) || double.IsInfinity(d))
            throw Invalid($"{where}.{key}: expected a finite number, not {EnvironmentReader.Describe(v)}.");
        return d;
    }

    private static CheckStatus? Status(IDictionary<string, object?> t, string key, string where)
    {
        var text = EnvironmentReader.GetString(t, key);
        if (text is null) return null;
        return Enum.TryParse<CheckStatus>(text, ignoreCase: true, out var s) && Enum.IsDefined(s) && !int.TryParse(text, out _)
            ? s
            : throw Invalid($"{where}.{key}: '{text}' is not one of Healthy, Unknown, Warning, Critical.");
    }

    private static void Unique(IEnumerable<string> names, string where)
    {
        var dup = names.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null) throw Invalid($"{where}: the name '{dup.Key}' is used twice; names pick entries, so each must be unique.");
    }

    private static OpsToolsException Invalid(string message) => new("EnvironmentFileInvalid", OpsErrorKind.InvalidData, message);
}
