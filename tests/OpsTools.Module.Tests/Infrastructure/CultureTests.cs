using System.Net;
using System.Net.Sockets;
using System.Management.Automation;
using OpsTools.TestKit;

namespace OpsTools.Module.Tests.Infrastructure;

/// <summary>
/// Messages, reasons and thresholds go to logs, CI annotations and reports that other tools read: their numbers are
/// culture-invariant whatever the user's culture (OpsCmdlet runs the work under the invariant culture, in one place).
/// </summary>
public sealed class CultureTests
{
    [Fact]
    public void A_german_session_reads_no_TLS_answer_within_0_5_s_not_0_comma_5()
    {
        // A port that accepts the connection and never speaks TLS: the probe times out after -TimeoutSec.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var s = new ModuleSession();
        var r = s.Run($"[System.Globalization.CultureInfo]::CurrentCulture = 'de-DE'; " +
                      $"'{{0}}' -f 0.5; Get-TlsCertificate 127.0.0.1:{port} -TimeoutSec 0.5");
        Assert.Equal("0,5", r.Output[0].BaseObject); // the session really is German
        var reason = (string)PSObject.AsPSObject(r.Output[1]).Properties["Reason"].Value;
        Assert.Contains("within 0.5 s", reason);
    }
}
