using System.Net.Sockets;

namespace OpsTools.TestKit;

/// <summary>
/// A unix-socket proxy in front of a Docker engine, for "the engine went away mid-command" tests without stopping the
/// shared dockerd: point -DockerHost at <see cref="Host"/>; <see cref="Cut"/> closes the listener, removes the socket
/// file and aborts every open connection, as a dying engine would.
/// </summary>
public sealed class DockerSocketProxy : IDisposable
{
    private readonly Socket _listener;
    private readonly string _upstream;
    private readonly string _dir;
    private readonly List<Socket> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private int _connections;

    /// <summary>The socket file the proxy listens on.</summary>
    public string Path { get; }
    /// <summary>unix://PATH, for -DockerHost.</summary>
    public string Host => $"unix://{Path}";
    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);
    /// <summary>True after <see cref="Cut"/>.</summary>
    public bool IsCut { get; private set; }

    public DockerSocketProxy(string upstream = "/var/run/docker.sock")
    {
        _upstream = upstream.StartsWith("unix://", StringComparison.Ordinal) ? upstream["unix://".Length..] : upstream;
        _dir = Directory.CreateTempSubdirectory("opstools-dproxy-").FullName;
        Path = System.IO.Path.Combine(_dir, "docker.sock");
        _listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        _listener.Bind(new UnixDomainSocketEndPoint(Path));
        _listener.Listen(64);
        _ = Task.Run(AcceptLoop);
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception) { return; }
            Interlocked.Increment(ref _connections);
            var upstream = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            try { await upstream.ConnectAsync(new UnixDomainSocketEndPoint(_upstream)).ConfigureAwait(false); }
            catch (SocketException) { client.Dispose(); upstream.Dispose(); continue; }
            lock (_open) { _open.Add(client); _open.Add(upstream); }
            _ = Pump(client, upstream);
            _ = Pump(upstream, client);
        }
    }

    private async Task Pump(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (n == 0) break;
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }
            try { to.Shutdown(SocketShutdown.Send); } catch (Exception) { }
        }
        catch (Exception) { Close(from); Close(to); }
    }

    private static void Close(Socket s)
    {
        try { s.Close(0); } catch (Exception) { }
    }

    /// <summary>The engine "goes away": no new connection is accepted (the socket file is gone) and open ones are aborted.</summary>
    public void Cut()
    {
        if (IsCut) return;
        IsCut = true;
        _stop.Cancel();
        try { _listener.Close(); } catch (Exception) { }
        try { File.Delete(Path); } catch (IOException) { }
        List<Socket> open;
        lock (_open) open = _open.ToList();
        foreach (var s in open) Close(s);
    }

    public void Dispose()
    {
        Cut();
        _stop.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
