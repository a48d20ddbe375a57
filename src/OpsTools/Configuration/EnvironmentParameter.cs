using System.Management.Automation;
using OpsTools.Configuration;

namespace OpsTools.Commands.Configuration;

/// <summary>
/// Lets <c>-Environment</c> take a path to a *.ops.psd1 file or an object from Get-OpsEnvironment.
/// </summary>
public sealed class EnvironmentTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject pso ? pso.BaseObject : inputData;
        switch (value)
        {
            case OpsEnvironment env:
                return env;
            case string path:
                var full = engineIntrinsics.SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
                try { return EnvironmentFile.Load(full); }
                catch (OpsToolsException e) { throw new ArgumentTransformationMetadataException(e.Message, e); }
            case FileSystemInfo file:
                try { return EnvironmentFile.Load(file.FullName); }
                catch (OpsToolsException e) { throw new ArgumentTransformationMetadataException(e.Message, e); }
            default:
                throw new ArgumentTransformationMetadataException(
                    $"-Environment takes the path of a *.ops.psd1 file or an object from Get-OpsEnvironment, not {value?.GetType().Name ?? "$null"}.");
        }
    }
}
