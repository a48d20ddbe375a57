using System.Management.Automation;

namespace EmptyModule;

/// <summary>Does nothing; exists so the module has one cmdlet to register.</summary>
[Cmdlet(VerbsCommon.Get, "Nothing")]
public sealed class GetNothingCommand : PSCmdlet
{
    protected override void ProcessRecord() => WriteObject(null);
}
