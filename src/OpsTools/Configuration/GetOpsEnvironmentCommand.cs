using System.Management.Automation;
using OpsTools.Commands.Infrastructure;
using OpsTools.Configuration;

namespace OpsTools.Commands.Configuration;

/// <summary>Reads an environment file (<c>*.ops.psd1</c>) and returns what it names.</summary>
[Cmdlet(VerbsCommon.Get, "OpsEnvironment", HelpUri = HelpLinks.Base + "Get-OpsEnvironment.md")]
[OutputType(typeof(OpsEnvironment))]
public sealed class GetOpsEnvironmentCommand : OpsCmdlet
{
    /// <summary>Path(s) of environment files. Wildcards are not expanded: name the file.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("FullName", "Environment")]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(EnvironmentFileCompleter))]
    public string[] Path { get; set; } = Array.Empty<string>();

    protected override async Task ProcessRecordAsync(CancellationToken cancellationToken)
    {
        foreach (var p in Path)
        {
            string full;
            try
            {
                // Session state belongs to the pipeline thread.
                full = await InvokeOnPipelineAsync(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p));
            }
            catch (SessionStateException e)
            {
                Error(new ErrorRecord(new OpsToolsException("EnvironmentFileNotFound", OpsErrorKind.NotFound,
                    $"Environment file '{p}' cannot be found: {e.Message}", p, e), "EnvironmentFileNotFound", ErrorCategory.ObjectNotFound, p));
                continue;
            }
            try
            {
                Output(EnvironmentFile.Load(full));
            }
            catch (OpsToolsException e)
            {
                Error(ToErrorRecord(e, e.ErrorId, ErrorCategory.InvalidData, full));
            }
        }
    }
}
