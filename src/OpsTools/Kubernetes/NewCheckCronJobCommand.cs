using System.Management.Automation;
using System.Text;
using OpsTools.Commands.Infrastructure;
using OpsTools.Engine.Kubernetes;
using OpsTools.Engine.Security;
using OpsTools.Kubernetes;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Writes (and with -Apply, creates) what runs a checklist inside Kubernetes on a schedule: a ServiceAccount, a Role granting only the read verbs its checks use, a ConfigMap with the environment file and a CronJob running pwsh with OpsTools.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "CheckCronJob", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, HelpUri = HelpLinks.Base + "New-CheckCronJob.md")]
[OutputType(typeof(CheckCronJobManifest))]
public sealed class NewCheckCronJobCommand : KubeCmdlet
{
    /// <summary>The checklist the job runs.</summary>
    [Parameter(Position = 0)]
    [ValidateSet("Daily", "Weekly", "Monthly")]
    public string Checklist { get; set; } = "Daily";

    /// <summary>The image with pwsh and OpsTools (about_OpsTools has a Dockerfile recipe).</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string Image { get; set; } = "";

    /// <summary>Cron schedule; default 06:00 daily, 05:00 Mondays, 05:00 on the 1st.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Schedule { get; set; }

    /// <summary>The name of every object; default opstools-ENVIRONMENT-CHECKLIST.</summary>
    [Parameter]
    [ValidatePattern("^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$")]
    public string? Name { get; set; }

    /// <summary>Checklist steps the job skips (their verbs are not granted).</summary>
    [Parameter]
    [ValidateNotNull]
    public string[] Skip { get; set; } = Array.Empty<string>();

    /// <summary>The level at which the job fails (exit code 1; a failed Job in kubectl get jobs).</summary>
    [Parameter]
    public FailLevel FailOn { get; set; } = FailLevel.Critical;

    /// <summary>A Secret whose keys become the job's environment variables (the passwords the environment file names by variable).</summary>
    [Parameter]
    [ValidatePattern("^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")]
    public string? SecretName { get; set; }

    /// <summary>The job's deadline: a run that takes longer is stopped and counts as failed.</summary>
    [Parameter]
    [ValidateRange(60, 86400)]
    public int DeadlineSec { get; set; } = 1800;

    /// <summary>Writes the manifest to this file as well.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Creates the objects in the cluster, or replaces them when they exist.</summary>
    [Parameter]
    public SwitchParameter Apply { get; set; }

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        if (Environment?.Path is not { Length: > 0 } envPath || !File.Exists(envPath))
        {
            Fail(new OpsToolsException("EnvironmentRequired", OpsErrorKind.InvalidArgument,
                "New-CheckCronJob needs -Environment with an environment file (the job reads the same file from its ConfigMap).", null),
                "EnvironmentRequired", ErrorCategory.InvalidArgument, null);
            return;
        }
        var env = Environment;
        var schedule = Schedule ?? Checklist switch { "Daily" => "0 6 * * *", "Weekly" => "0 5 * * 1", _ => "0 5 1 * *" };
        if (schedule.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 5 && !schedule.StartsWith('@'))
        {
            Fail(new OpsToolsException("InvalidSchedule", OpsErrorKind.InvalidArgument,
                $"-Schedule '{schedule}' is not a cron schedule: give five fields (minute hour day-of-month month day-of-week), e.g. '0 6 * * *', or @daily/@weekly/@monthly.", schedule),
                "InvalidSchedule", ErrorCategory.InvalidArgument, schedule);
            return;
        }
        var name = Name ?? Sanitize($"opstools-{env.Name}-{Checklist}");
        var ns = Namespace ?? env.Kubernetes?.Namespace ?? "default";
        var rules = CheckCronJob.RulesFor(Checklist, env, Skip);
        var spec = new CheckCronJobSpec
        {
            Name = name, Namespace = ns, Checklist = Checklist, Schedule = schedule, Image = Image,
            EnvironmentFileName = System.IO.Path.GetFileName(envPath),
            EnvironmentFileText = await File.ReadAllTextAsync(envPath, ct),
            Environment = env, Skip = Skip, FailOn = FailOn.ToString(), SecretName = SecretName, ActiveDeadlineSeconds = DeadlineSec,
        };
        var result = CheckCronJob.Describe(spec, rules);
        var yaml = result.Yaml;
        if (Path is not null)
        {
            var full = await InvokeOnPipelineAsync(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(Path));
            await File.WriteAllTextAsync(full, yaml, new UTF8Encoding(false), ct);
            result.Path = full;
            Verbose($"Wrote the manifest to {full}.");
        }
        if (Apply)
        {
            var target = ResolveTarget();
            result.ClusterId = target.Id;
            if (!await ConfirmAsync($"{target.Describe(ns)}: ServiceAccount, ConfigMap, {(rules.Count > 0 ? "Role, RoleBinding, " : "")}CronJob '{name}'",
                    $"Create or replace the {Checklist} checklist CronJob ({schedule}, image {Image})"))
            {
                Output(result);
                return;
            }
            try
            {
                var version = await CheckCronJob.CronJobVersionAsync(target, ct);
                if (version != "batch/v1") Verbose($"The server serves CronJob as {version} (before Kubernetes 1.21): applied as {version}; the manifest stays batch/v1.");
                result.Objects = await CheckCronJob.ApplyAsync(target, spec, rules, version, ct);
                result.Applied = true;
                result.AppliedApiVersion = version;
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.NotSpecified, name));
            }
        }
        Output(result);
    }

    private static string Sanitize(string s)
    {
        var sb = new StringBuilder();
        foreach (var c in s.ToLowerInvariant()) sb.Append(c is >= 'a' and <= 'z' or >= '0' and <= '9' ? c : '-');
        var t = sb.ToString().Trim('-');
        while (t.Contains("--", StringComparison.Ordinal)) t = t.Replace("--", "-", StringComparison.Ordinal);
        return t.Length > 52 ? t[..52].TrimEnd('-') : t;
    }
}
