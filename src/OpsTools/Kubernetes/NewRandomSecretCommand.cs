using System.Management.Automation;
using System.Security;
using OpsTools.Engine.Kubernetes;
using OpsTools.Commands.Infrastructure;

namespace OpsTools.Commands.Kubernetes;

/// <summary>
/// <para type="synopsis">Generates a cryptographically random secret (passwords, JWT and session keys, API keys) as a SecureString.</para>
/// <para type="description">The runbooks' 'openssl rand -base64 64' is 'New-RandomSecret -Length 64'. Bytes come from the operating system's CSPRNG (RandomNumberGenerator). -AsPlainText returns a plain string instead: it then lives in memory, history and transcripts like any string.</para>
/// </summary>
[Cmdlet(VerbsCommon.New, "RandomSecret", HelpUri = HelpLinks.Base + "New-RandomSecret.md")]
[OutputType(typeof(SecureString), typeof(string))]
public sealed class NewRandomSecretCommand : PSCmdlet
{
    /// <summary>Random bytes for Base64, Base64Url and Hex (as openssl rand N); characters for Alphanumeric. Default 32.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(1, RandomSecret.MaxLength)]
    public int Length { get; set; } = 32;

    /// <summary>Base64 (default, as openssl rand -base64), Hex (openssl rand -hex), Alphanumeric (A-Z a-z 0-9) or Base64Url (URL-safe, no padding).</summary>
    [Parameter]
    [ValidateSet("Base64", "Hex", "Alphanumeric", "Base64Url")]
    public string Encoding { get; set; } = "Base64";

    /// <summary>How many secrets. Default 1.</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int Count { get; set; } = 1;

    /// <summary>Return a plain string instead of a SecureString. WARNING: a plain string can end up in the console, history, transcripts and logs.</summary>
    [Parameter]
    public SwitchParameter AsPlainText { get; set; }

    protected override void ProcessRecord()
    {
        var encoding = Enum.Parse<RandomSecretEncoding>(Encoding, ignoreCase: true);
        for (var i = 0; i < Count; i++)
        {
            var chars = RandomSecret.Generate(Length, encoding);
            try
            {
                if (AsPlainText) { WriteObject(new string(chars)); continue; }
                var secure = new SecureString();
                foreach (var c in chars) secure.AppendChar(c);
                secure.MakeReadOnly();
                WriteObject(secure);
            }
            finally { Array.Clear(chars); }
        }
    }
}
