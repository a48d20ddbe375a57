using OpsTools.Commands.Infrastructure;
using System.Management.Automation;
using OpsTools.Engine.PgBouncer;

namespace OpsTools.Commands.PgBouncer;

/// <summary>
/// <para type="synopsis">Reads one of PgBouncer's SHOW lists from the admin console (CLIENTS, SERVERS, STATS, CONFIG, DATABASES, POOLS, USERS, LISTS, MEM ...) as objects.</para>
/// <para type="description">Each row becomes an object with one property per column, as PgBouncer names it (cl_active, maxwait, avg_query_time ...); whole-number columns are numbers. The type name OpsTools.PgBouncer.&lt;Show&gt; picks the console view. The console speaks only the simple query protocol; OpsTools talks it directly (see Get-PgBouncerPool's notes).</para>
/// </summary>
[Cmdlet(VerbsCommon.Get, "PgBouncerInfo", HelpUri = HelpLinks.Base + "Get-PgBouncerInfo.md")]
[OutputType(typeof(PSObject))]
public sealed class GetPgBouncerInfoCommand : PgBouncerCmdlet
{
    /// <summary>Which SHOW: Pools, Clients, Servers, Stats, Config, Databases, Users, Lists, Mem, Totals, Sockets, Dns_Hosts, Dns_Zones, Version. Default Pools.</summary>
    [Parameter(Position = 0)]
    [ValidateSet("Pools", "Clients", "Servers", "Stats", "Config", "Databases", "Users", "Lists", "Mem", "Totals", "Sockets", "Dns_Hosts", "Dns_Zones", "Version", IgnoreCase = true)]
    public string Show { get; set; } = "Pools";

    protected override async Task ProcessRecordAsync(CancellationToken ct)
    {
        var target = ResolveTarget();
        var topic = PgBouncerAdmin.ShowTopics.First(t => t.Equals(Show, StringComparison.OrdinalIgnoreCase));
        List<IReadOnlyList<KeyValuePair<string, object?>>> rows;
        try { rows = await PgBouncerAdmin.ShowAsync(target, topic, ct).ConfigureAwait(false); }
        catch (OpsToolsException e) { Fail(e, e.ErrorId, GetPgBouncerPoolCommand.OpsCmdletCategory(e), target.Address); return; }
        foreach (var row in rows)
        {
            var o = new PSObject();
            o.TypeNames.Insert(0, "OpsTools.PgBouncer." + topic);
            o.Properties.Add(new PSNoteProperty("PgBouncer", target.Server));
            foreach (var (name, value) in row) o.Properties.Add(new PSNoteProperty(name, value));
            Output(o);
        }
    }
}
