namespace OpsTools.Configuration;

/// <summary>The <c>Incidents</c> section of an environment file: where incident folders live and who is told.</summary>
public sealed class IncidentSettings
{
    /// <summary>The folder that holds one folder per incident. Default: the user's data folder (see about_OpsTools_Incidents).</summary>
    public string? Path { get; set; }
    /// <summary>The notification target (a name the environment's notifications section defines) updates go to.</summary>
    public string? NotificationTarget { get; set; }
    /// <summary>The default commander of new incidents.</summary>
    public string? Commander { get; set; }
    /// <summary>Seconds each evidence collector may take (default 30).</summary>
    public double? EvidenceTimeoutSec { get; set; }
    /// <summary>Log lines kept per problem pod and per container (default 50).</summary>
    public int? LogTail { get; set; }

    public override string ToString() => Path ?? "(default incident folder)";
}
