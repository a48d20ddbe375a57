using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace OpsTools.Module.Tests.Incidents;

internal static class IncidentTestSupport
{
    public static string Q(string s) => "'" + s.Replace("'", "''") + "'";

    /// <summary>Runs a command-line tool (sha256sum, stat) and returns its exit code and output.</summary>
    public static (int Code, string Output) Tool(string file, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, output);
    }

    /// <summary>The octal mode stat(1) reports for a path ("600").</summary>
    public static string Mode(string path) => Tool("stat", "/", "-c", "%a", path).Output.Trim();
}

/// <summary>A TCP endpoint that accepts connections and never answers: a target that is up but dead.</summary>
public sealed class SilentEndpoint : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _held = new();
    private readonly CancellationTokenSource _stop = new();

    public SilentEndpoint()
    {
        _listener.Start();
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try { var c = await _listener.AcceptTcpClientAsync(_stop.Token); lock (_held) _held.Add(c); }
                catch (Exception) { return; }
            }
        });
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;
    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_held) foreach (var c in _held) c.Dispose();
    }
}
