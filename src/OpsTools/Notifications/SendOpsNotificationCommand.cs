using System.Globalization;
using System.Management.Automation;
using System.Net;
using System.Security;
using OpsTools.Commands.Configuration;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;
using OpsTools.Engine.Notifications;
using OpsTools.Engine.Security;
using OpsTools.Incidents;
using OpsTools.Notifications;

namespace OpsTools.Commands.Notifications;

/// <summary>
/// <para type="synopsis">Tells people: sends check results (one summary, or one alert per problem that resolves itself when the problem heals) or a plain message to Slack, Microsoft Teams, PagerDuty, Opsgenie/JSM or a JSON webhook.</para>
/// <para type="description">
/// Targets come from the environment's Notifications section (secrets named by variable, never written in the file)
/// or from -Service with -Secret. Check results from the pipeline become one summary message (Slack, Teams, webhook)
/// or one alert per problem with a stable dedup key from environment, check and target (PagerDuty, Opsgenie); a
/// problem alerted by an earlier run that has healed is resolved (the state file). -Title/-Message post a plain
/// message; entries of an incident's timeline (New-Incident, Add-IncidentNote, Set-IncidentStatus) piped in post the
/// runbooks' INCIDENT DECLARED / UPDATE / RESOLVED messages, one alert per incident. Every delivery is a NotificationResult (Accepted, Rejected with the service's
/// reason, Failed); 429 waits for Retry-After and 5xx is retried with backoff. -WhatIf prints the exact payload,
/// secrets masked.
/// </para>
/// </summary>
[Cmdlet(VerbsCommunications.Send, "OpsNotification", DefaultParameterSetName = ResultsSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium,
    HelpUri = HelpLinks.Base + "Send-OpsNotification.md")]
[OutputType(typeof(NotificationResult))]
public sealed class SendOpsNotificationCommand : OpsCmdlet
{
    private const string ResultsSet = "Results";
    private const string MessageSet = "Message";
    private const string IncidentSet = "Incident";

    /// <summary>Check results (from any OpsTools check or checklist).</summary>
    [Parameter(ParameterSetName = ResultsSet, Mandatory = true, ValueFromPipeline = true)]
    [AllowEmptyCollection]
    public CheckResult[] InputObject { get; set; } = Array.Empty<CheckResult>();

    /// <summary>The level at or above which a result is a problem: Warning (Warning, Critical, Unknown) or Critical. Default: the environment's Notifications.Level (Critical when the section leaves it out); Warning without an environment that has a Notifications section.</summary>
    [Parameter(ParameterSetName = ResultsSet)]
    [ValidateSet("Warning", "Critical")]
    public string? Level { get; set; }

    /// <summary>Send the summary even when nothing is at the level and nothing healed (an "all clear").</summary>
    [Parameter(ParameterSetName = ResultsSet)]
    public SwitchParameter Always { get; set; }

    /// <summary>The message's title (an incident update: "UPDATE: api 5xx").</summary>
    [Parameter(ParameterSetName = MessageSet, Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string? Title { get; set; }

    /// <summary>The message's text, sent as written: Slack mrkdwn and mentions (&lt;@U0123&gt;, &lt;!here&gt;) pass through.</summary>
    [Parameter(ParameterSetName = MessageSet, Position = 0)]
    [AllowEmptyString]
    public string Message { get; set; } = "";

    /// <summary>Critical, Error, Warning or Info (default Info): the PagerDuty severity, the Opsgenie priority (P1, P2, P3, P5), the card's color.</summary>
    [Parameter(ParameterSetName = MessageSet)]
    [ValidateSet("Critical", "Error", "Warning", "Info")]
    public string Severity { get; set; } = "Info";

    /// <summary>
    /// Updates of an incident, from the pipeline: timeline entries (Add-IncidentNote, Set-IncidentStatus) or incidents
    /// (New-Incident: its opening entry; Get-Incident: its latest). Each posts its Title and Text; the incident's id is the
    /// dedup key (PagerDuty/Opsgenie: one alert per incident, resolved by the Resolved entry); the target defaults to the
    /// incident's NotificationTarget.
    /// </summary>
    [Parameter(ParameterSetName = IncidentSet, Mandatory = true, ValueFromPipeline = true)]
    public PSObject[] IncidentUpdate { get; set; } = Array.Empty<PSObject>();

    /// <summary>PagerDuty/Opsgenie: the alert's dedup key (default: from the environment and the title), so later updates and -Resolve reach the same alert.</summary>
    [Parameter(ParameterSetName = MessageSet)]
    [ValidateNotNullOrEmpty]
    public string? DedupKey { get; set; }

    /// <summary>PagerDuty/Opsgenie: resolve the alert -DedupKey names instead of triggering one (Slack, Teams and webhooks get the message).</summary>
    [Parameter(ParameterSetName = MessageSet)]
    public SwitchParameter Resolve { get; set; }

    /// <summary>Slack with a bot token: create this channel first (conversations.create), set -Topic, and post there.</summary>
    [Parameter(ParameterSetName = MessageSet)]
    [ValidatePattern("^[a-z0-9][a-z0-9_-]{0,79}$")]
    public string? CreateChannel { get; set; }

    /// <summary>Slack with a bot token: the topic of the channel created with -CreateChannel.</summary>
    [Parameter(ParameterSetName = MessageSet)]
    [ValidateNotNullOrEmpty]
    public string? Topic { get; set; }

    /// <summary>An environment file (*.ops.psd1) or an object from Get-OpsEnvironment: its Notifications section.</summary>
    [Parameter]
    [EnvironmentTransformation]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    [ValidateNotNull]
    public OpsEnvironment? Environment { get; set; }

    /// <summary>The environment's targets to send to, by name (default: the section's Default, or its only target).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(NotificationTargetCompleter))]
    public string[]? Target { get; set; }

    /// <summary>A target without an environment: Slack, Teams, PagerDuty, Opsgenie or Webhook (with -Secret or -SecretVariable).</summary>
    [Parameter]
    [ValidateSet("Slack", "Teams", "PagerDuty", "Opsgenie", "Webhook")]
    public string? Service { get; set; }

    /// <summary>With -Service: the webhook URL (Slack, Teams, Webhook), or the bot token (Slack with -Channel), routing key (PagerDuty) or API key (Opsgenie).</summary>
    [Parameter]
    [ValidateNotNull]
    public SecureString? Secret { get; set; }

    /// <summary>With -Service: the environment variable that holds what -Secret would.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SecretVariable { get; set; }

    /// <summary>With -Service: the service endpoint, which is not secret (PagerDuty's events URL, Opsgenie's or JSM's alerts URL, Slack's Web API base).</summary>
    [Parameter]
    [ValidateNotNull]
    public Uri? Uri { get; set; }

    /// <summary>With -Service Slack: the channel a bot token posts to (#ops or C0123...).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Channel { get; set; }

    /// <summary>The state file of alerted problems (default: the environment's Notifications.StatePath, else ~/.local/share/opstools/notifications/&lt;environment&gt;.json).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatePath { get; set; }

    /// <summary>Seconds one request may take (default 10, or the target's TimeoutSec).</summary>
    [Parameter]
    [ValidateRange(0.05, 3600.0)]
    public double TimeoutSec { get; set; } = 10;

    /// <summary>Requests per delivery at most, retries after 429 and 5xx included (default 4).</summary>
    [Parameter]
    [ValidateRange(1, 10)]
    public int MaxAttempts { get; set; } = NotificationSender.DefaultMaxAttempts;

    private readonly List<CheckResult> _results = new();
    private readonly List<IncidentTimelineEntry> _updates = new();

    protected override bool TallyOutput => false;

    protected override Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        if (ParameterSetName == ResultsSet) _results.AddRange(InputObject.Where(r => r is not null));
        if (ParameterSetName == IncidentSet)
            foreach (var o in IncidentUpdate)
            {
                switch (o?.BaseObject)
                {
                    case IncidentTimelineEntry e: _updates.Add(e); break;
                    case Incident i when i.Timeline.Count > 0: _updates.Add(i.Timeline[^1]); break;
                    default:
                        Error(new ErrorRecord(new ArgumentException($"Send-OpsNotification takes incidents and their timeline entries from the pipeline (New-Incident, Add-IncidentNote, Set-IncidentStatus), not {o?.BaseObject?.GetType().Name ?? "null"}."),
                            "NotificationUnsupportedInput", ErrorCategory.InvalidArgument, o));
                        break;
                }
            }
        return Task.CompletedTask;
    }

    private bool Bound(string name) => MyInvocation.BoundParameters.ContainsKey(name);

    protected override async Task EndProcessingAsync(CancellationToken cancellationToken)
    {
        if (Environment is not null && Service is not null)
            Fail(new ArgumentException("Use -Environment (its Notifications targets) or -Service with -Secret, not both."), "NotificationTargetConflict", ErrorCategory.InvalidArgument, null);
        if (Environment is null && Service is null)
            Fail(new ArgumentException("Name where to send: -Environment with a Notifications section, or -Service with -Secret or -SecretVariable."), "NotificationTargetMissing", ErrorCategory.InvalidArgument, null);
        var envName = Environment?.Name ?? _results.Select(r => r.Environment).FirstOrDefault(e => !string.IsNullOrEmpty(e)) ?? "default";
        var settings = Environment?.Notifications;
        var targets = new List<ResolvedTarget>();
        if (Environment is not null)
        {
            if (settings is null || settings.Targets.Count == 0)
                Fail(new ItemNotFoundException($"The environment '{Environment.Name}' has no Notifications targets (see about_OpsTools_Environments)."), "NotificationTargetNotFound", ErrorCategory.ObjectNotFound, Environment.Name);
            var fromIncident = ParameterSetName == IncidentSet ? _updates.Select(u => u.NotificationTarget).FirstOrDefault(n => !string.IsNullOrEmpty(n)) : null;
            var names = Target ?? (fromIncident is not null ? new[] { fromIncident } : null) ?? (settings!.Default is { } d ? new[] { d } : settings.Targets.Count == 1 ? new[] { settings.Targets[0].Name } : null);
            if (names is null)
                Fail(new ArgumentException($"The environment '{Environment.Name}' has {settings!.Targets.Count} notification targets and no Default: name them with -Target ({string.Join(", ", settings.Targets.Select(t => t.Name))})."),
                    "NotificationTargetAmbiguous", ErrorCategory.InvalidArgument, Environment.Name);
            foreach (var name in names!)
            {
                var t = settings!.Targets.FirstOrDefault(x => x.Name.Equals(name, StringComparison.OrdinalIgnoreCase));
                if (t is null)
                {
                    Error(new ErrorRecord(new ItemNotFoundException($"The environment '{Environment.Name}' has no notification target named '{name}'. Its targets: {string.Join(", ", settings.Targets.Select(x => x.Name))}."),
                        "NotificationTargetNotFound", ErrorCategory.ObjectNotFound, name));
                    continue;
                }
                try { targets.Add(FromSettings(t, envName)); }
                catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.InvalidArgument, name)); }
            }
        }
        else
        {
            try { targets.Add(AdHoc(envName)); }
            catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidArgument, Service); }
        }
        if (targets.Count == 0) return;

        var statePath = NotificationState.Expand(StatePath ?? settings?.StatePath ?? NotificationState.DefaultPath(envName));
        NotificationState state = null!;
        try { state = NotificationState.Load(statePath); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, ErrorCategory.InvalidData, statePath); }
        var level = Level ?? settings?.Level ?? "Warning";
        var changed = false;

        foreach (var t in targets)
        {
            var open = state.For(t.Name);
            List<Delivery> deliveries;
            try
            {
                deliveries = ParameterSetName switch
                {
                    ResultsSet => NotificationPlanner.ForResults(t, _results, level, envName, open, Always.IsPresent),
                    IncidentSet => _updates.Select(u => NotificationPlanner.ForMessage(t, u.Title, u.Text, u.Severity == "Resolved" ? "Info" : u.Severity,
                        envName, "opstools:incident:" + u.IncidentId, u.Severity == "Resolved", open)).ToList(),
                    _ => new List<Delivery> { NotificationPlanner.ForMessage(t, Title!, Message, Severity, envName, DedupKey, Resolve.IsPresent, open) },
                };
            }
            catch (OpsToolsException e) { Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.InvalidArgument, t.Name)); continue; }
            if (deliveries.Count == 0)
            {
                Verbose($"{t.Name} ({t.Service}): nothing at or above {level} among {_results.Count} result(s) and nothing healed; nothing sent.");
                continue;
            }
            if (ParameterSetName == MessageSet && CreateChannel is not null)
            {
                if (!t.UsesSlackApi)
                {
                    Error(new ErrorRecord(new ArgumentException($"-CreateChannel needs a Slack target with a bot token (KeyVariable); '{t.Name}' is {(t.Service == "Slack" ? "an incoming webhook" : t.Service)}."),
                        "NotificationChannelNotSupported", ErrorCategory.InvalidArgument, t.Name));
                    continue;
                }
                var channelId = await CreateChannelAsync(t, cancellationToken).ConfigureAwait(false);
                if (channelId is null) continue;
                var target = new ResolvedTarget
                {
                    Name = t.Name, Service = t.Service, Key = t.Key, Endpoint = t.Endpoint, Channel = channelId, Mention = t.Mention, Source = t.Source,
                    Timeout = t.Timeout, Environment = t.Environment,
                };
                deliveries = new List<Delivery> { NotificationPlanner.ForMessage(target, Title!, Message, Severity, envName, DedupKey, Resolve.IsPresent, open) };
            }
            foreach (var d in deliveries)
            {
                var result = await DeliverAsync(t, d, cancellationToken).ConfigureAwait(false);
                if (result is null) continue;
                if (result.Status == NotificationStatus.Accepted && d.OnAccepted is not null) changed = true;
            }
        }
        if (changed)
        {
            try { state.Save(statePath); Verbose($"Notification state saved: {statePath}"); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Error(new ErrorRecord(new OpsToolsException("NotificationStateNotSaved", OpsErrorKind.OperationFailed,
                    $"The notifications were sent, but the state file '{statePath}' could not be written ({e.Message}): the next run cannot resolve what heals.", statePath, e),
                    "NotificationStateNotSaved", ErrorCategory.WriteError, statePath));
            }
        }
    }

    private async Task<string?> CreateChannelAsync(ResolvedTarget t, CancellationToken ct)
    {
        var create = NotificationPlanner.CreateChannel(t, CreateChannel!);
        var created = await DeliverAsync(t, create, ct).ConfigureAwait(false);
        if (created is null) return "#" + CreateChannel; // -WhatIf: the message shows where it would go
        if (created.Status != NotificationStatus.Accepted) return null;
        var id = created.Channel ?? CreateChannel!;
        if (Topic is not null) await DeliverAsync(t, NotificationPlanner.SetTopic(t, id, Topic), ct).ConfigureAwait(false);
        return id;
    }

    /// <summary>Asks the confirmation rule (-WhatIf prints the payload, secrets masked), sends, writes the result and, when not accepted, an error.</summary>
    private async Task<NotificationResult?> DeliverAsync(ResolvedTarget t, Delivery d, CancellationToken ct)
    {
        var label = $"{t.Name} ({t.Service}{(d.Channel is null ? "" : " " + d.Channel)}): {d.Action}{(d.DedupKey is null ? "" : " " + d.DedupKey)}, POST {t.Show(d.Uri)}, " +
                    $"{d.Bytes.ToString(CultureInfo.InvariantCulture)} bytes{(d.Truncated ? " (cut to the service's limit: the message says so)" : "")}:{System.Environment.NewLine}{t.Redact(d.Json)}";
        if (!await ConfirmAsync(label, "Send notification").ConfigureAwait(false)) return null;
        Verbose($"{t.Name} ({t.Service}): {d.Action} POST {t.Show(d.Uri)} ({d.Bytes} bytes).");
        var result = await NotificationSender.SendAsync(t, d, MaxAttempts, Verbose, ct).ConfigureAwait(false);
        Output(result);
        if (result.Status != NotificationStatus.Accepted)
        {
            var id = result.Status == NotificationStatus.Rejected ? "NotificationRejected" : "NotificationFailed";
            var text = t.Redact($"{t.Name} ({t.Service}) {d.Action}{(d.DedupKey is null ? "" : " " + d.DedupKey)}: {(result.Status == NotificationStatus.Rejected ? "rejected" : "not delivered")}" +
                                $"{(result.HttpStatus is null ? "" : $" (HTTP {result.HttpStatus})")} after {result.Attempts} attempt(s): {result.Reason}");
            Error(new ErrorRecord(new OpsToolsException(id, result.Status == NotificationStatus.Rejected ? OpsErrorKind.InvalidData : OpsErrorKind.ConnectionError, text, t.Name),
                id, result.Status == NotificationStatus.Rejected ? ErrorCategory.InvalidResult : ErrorCategory.ConnectionError, t.Name));
        }
        return result;
    }

    private TimeSpan TimeoutFor(double? entry) =>
        TimeSpan.FromSeconds(Bound(nameof(TimeoutSec)) || entry is not > 0 ? TimeoutSec : entry.Value);

    private static string FromVariable(string variable, string target, string what)
    {
        var value = System.Environment.GetEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
            throw new OpsToolsException("NotificationSecretNotSet", OpsErrorKind.InvalidArgument,
                $"Notification target '{target}': the environment variable '{variable}' that should hold its {what} is not set or empty.", target);
        return value.Trim();
    }

    private static Uri WebhookUri(string text, string target)
    {
        if (System.Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == System.Uri.UriSchemeHttps || uri.Scheme == System.Uri.UriSchemeHttp))
            return uri;
        throw new OpsToolsException("NotificationSecretInvalid", OpsErrorKind.InvalidArgument,
            $"Notification target '{target}': its webhook URL is not an absolute http(s) URL (the value is not shown: it is a secret).", target);
    }

    private ResolvedTarget FromSettings(NotificationTarget t, string envName)
    {
        var slackApi = t.Service == "Slack" && t.KeyVariable is not null && t.Channel is not null;
        return new ResolvedTarget
        {
            Name = t.Name,
            Service = t.Service,
            WebhookUrl = slackApi || t.UrlVariable is null ? null : WebhookUri(FromVariable(t.UrlVariable, t.Name, "webhook URL"), t.Name),
            Key = t.KeyVariable is null || (t.Service == "Slack" && !slackApi) ? null
                : FromVariable(t.KeyVariable, t.Name, t.Service switch { "PagerDuty" => "routing key", "Opsgenie" => "API key", _ => "bot token" }),
            Endpoint = t.Uri,
            Channel = Bound(nameof(Channel)) ? Channel : t.Channel,
            BareCard = t.Format == "Card",
            Template = t.Template,
            Mention = t.Mention,
            Source = t.Source,
            Timeout = TimeoutFor(t.TimeoutSec),
            Environment = envName,
        };
    }

    private ResolvedTarget AdHoc(string envName)
    {
        if (Secret is not null && SecretVariable is not null)
            throw new OpsToolsException("NotificationSecretConflict", OpsErrorKind.InvalidArgument, "Use -Secret or -SecretVariable, not both.");
        var name = Service!;
        var secret = Secret is not null ? new NetworkCredential("", Secret).Password
            : SecretVariable is not null ? FromVariable(SecretVariable, name, "secret")
            : throw new OpsToolsException("NotificationSecretNotSet", OpsErrorKind.InvalidArgument,
                $"-Service {Service} needs -Secret (a SecureString) or -SecretVariable: the {(Service is "PagerDuty" ? "routing key" : Service is "Opsgenie" ? "API key" : "webhook URL")}.");
        var keyed = Service is "PagerDuty" or "Opsgenie" || (Service == "Slack" && Channel is not null);
        if (!keyed && Uri is not null)
            throw new OpsToolsException("NotificationUriNotSecret", OpsErrorKind.InvalidArgument,
                $"A {Service} webhook URL is a secret: give it with -Secret or -SecretVariable, not -Uri.");
        return new ResolvedTarget
        {
            Name = name,
            Service = Service!,
            WebhookUrl = keyed ? null : WebhookUri(secret, name),
            Key = keyed ? secret : null,
            Endpoint = Uri,
            Channel = Channel,
            Timeout = TimeSpan.FromSeconds(TimeoutSec),
            Environment = envName,
        };
    }
}
