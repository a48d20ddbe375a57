using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace OpsTools.Engine.PgBouncer;

/// <summary>A result set of the simple query protocol: column names and type OIDs, rows of text values, the command tag.</summary>
public sealed class PgTextResult
{
    public List<(string Name, int TypeOid)> Columns { get; } = new();
    public List<string?[]> Rows { get; } = new();
    public string CommandTag { get; set; } = "";
}

/// <summary>An error the server sent (ErrorResponse): SQLSTATE and message.</summary>
public sealed class PgServerError : Exception
{
    public PgServerError(string sqlState, string message) : base(message) => SqlState = sqlState;
    public string SqlState { get; }
}

/// <summary>
/// A minimal PostgreSQL wire-protocol (v3) client that speaks only the simple query protocol ('Q'), which is all the
/// PgBouncer admin console understands (it answers Parse/Bind/Execute, what Npgsql sends for every command, with
/// "unsupported pkt type"). Authentication: trust, cleartext, MD5 and SCRAM-SHA-256, as PgBouncer offers them.
/// No TLS: reach the console over loopback or its Unix socket, as the runbooks' psql does.
/// </summary>
public sealed class PgSimpleQueryClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;

    private PgSimpleQueryClient(Socket socket) { _socket = socket; _stream = new NetworkStream(socket, ownsSocket: true); }

    /// <summary>Connects and logs in. <paramref name="host"/> starting with '/' is a Unix socket directory.</summary>
    public static async Task<PgSimpleQueryClient> ConnectAsync(string host, int port, string user, string database, string? password, CancellationToken ct)
    {
        Socket socket;
        if (host.StartsWith('/'))
        {
            socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(Path.Combine(host, $".s.PGSQL.{port}")), ct).ConfigureAwait(false);
        }
        else
        {
            socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try { await socket.ConnectAsync(host, port, ct).ConfigureAwait(false); }
            catch { socket.Dispose(); throw; }
        }
        var client = new PgSimpleQueryClient(socket);
        try
        {
            await client.StartupAsync(user, database, password, ct).ConfigureAwait(false);
            return client;
        }
        catch
        {
            await client.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartupAsync(string user, string database, string? password, CancellationToken ct)
    {
        var body = new MemoryStream();
        WriteInt(body, 196608); // protocol 3.0
        foreach (var s in new[] { "user", user, "database", database, "application_name", "OpsTools" }) WriteCString(body, s);
        body.WriteByte(0);
        await SendAsync(null, body.ToArray(), ct).ConfigureAwait(false);
        Scram? scram = null;
        while (true)
        {
            var (type, payload) = await ReadAsync(ct).ConfigureAwait(false);
            switch (type)
            {
                case 'R':
                    var code = BinaryPrimitives.ReadInt32BigEndian(payload);
                    switch (code)
                    {
                        case 0: break; // AuthenticationOk
                        case 3: await SendPasswordAsync(Encoding.UTF8.GetBytes(NeedPassword(password) + "\0"), ct).ConfigureAwait(false); break;
                        case 5:
                            var salt = payload.AsSpan(4, 4).ToArray();
                            var inner = Md5Hex(Encoding.UTF8.GetBytes(NeedPassword(password) + user));
                            var outer = "md5" + Md5Hex(Encoding.ASCII.GetBytes(inner).Concat(salt).ToArray());
                            await SendPasswordAsync(Encoding.ASCII.GetBytes(outer + "\0"), ct).ConfigureAwait(false);
                            break;
                        case 10:
                            var mechanisms = Encoding.UTF8.GetString(payload, 4, payload.Length - 4).Split('\0', StringSplitOptions.RemoveEmptyEntries);
                            if (!mechanisms.Contains("SCRAM-SHA-256"))
                                throw new PgServerError("28000", $"the server offers only {string.Join(", ", mechanisms)} (SCRAM-SHA-256 expected)");
                            scram = new Scram(NeedPassword(password));
                            var first = Encoding.UTF8.GetBytes(scram.ClientFirst);
                            var msg = new MemoryStream();
                            WriteCString(msg, "SCRAM-SHA-256");
                            WriteInt(msg, first.Length);
                            msg.Write(first);
                            await SendPasswordAsync(msg.ToArray(), ct).ConfigureAwait(false);
                            break;
                        case 11:
                            var final = scram!.ClientFinal(Encoding.UTF8.GetString(payload, 4, payload.Length - 4));
                            await SendPasswordAsync(Encoding.UTF8.GetBytes(final), ct).ConfigureAwait(false);
                            break;
                        case 12:
                            if (!scram!.Verify(Encoding.UTF8.GetString(payload, 4, payload.Length - 4)))
                                throw new PgServerError("28000", "the server's SCRAM signature does not match (not the server it claims to be)");
                            break;
                        default: throw new PgServerError("28000", $"authentication method {code} is not supported");
                    }
                    break;
                case 'E': throw ParseError(payload);
                case 'Z': return;
                default: break; // ParameterStatus, BackendKeyData, NoticeResponse
            }
        }
    }

    private static string NeedPassword(string? password) =>
        password ?? throw new PgServerError("28P01", "the server asks for a password and none was given (-Credential, PasswordVariable, PGPASSWORD or ~/.pgpass)");

    /// <summary>Sends one statement with the simple query protocol and reads every result until ReadyForQuery.</summary>
    public async Task<PgTextResult> QueryAsync(string sql, CancellationToken ct)
    {
        await SendAsync('Q', Encoding.UTF8.GetBytes(sql + "\0"), ct).ConfigureAwait(false);
        var result = new PgTextResult();
        PgServerError? error = null;
        while (true)
        {
            var (type, p) = await ReadAsync(ct).ConfigureAwait(false);
            switch (type)
            {
                case 'T':
                    result.Columns.Clear();
                    var n = BinaryPrimitives.ReadInt16BigEndian(p);
                    var at = 2;
                    for (var i = 0; i < n; i++)
                    {
                        var end = Array.IndexOf(p, (byte)0, at);
                        var name = Encoding.UTF8.GetString(p, at, end - at);
                        at = end + 1;
                        var oid = BinaryPrimitives.ReadInt32BigEndian(p.AsSpan(at + 6));
                        at += 18;
                        result.Columns.Add((name, oid));
                    }
                    break;
                case 'D':
                    var count = BinaryPrimitives.ReadInt16BigEndian(p);
                    var row = new string?[count];
                    var pos = 2;
                    for (var i = 0; i < count; i++)
                    {
                        var len = BinaryPrimitives.ReadInt32BigEndian(p.AsSpan(pos));
                        pos += 4;
                        if (len < 0) continue;
                        row[i] = Encoding.UTF8.GetString(p, pos, len);
                        pos += len;
                    }
                    result.Rows.Add(row);
                    break;
                case 'C': result.CommandTag = Encoding.UTF8.GetString(p, 0, Math.Max(0, p.Length - 1)); break;
                case 'E': error = ParseError(p); break;
                case 'Z':
                    if (error is not null) throw error;
                    return result;
                default: break; // EmptyQueryResponse, NoticeResponse, ParameterStatus
            }
        }
    }

    private Task SendPasswordAsync(byte[] body, CancellationToken ct) => SendAsync('p', body, ct);

    private async Task SendAsync(char? type, byte[] body, CancellationToken ct)
    {
        var buffer = new byte[(type is null ? 0 : 1) + 4 + body.Length];
        var at = 0;
        if (type is char t) buffer[at++] = (byte)t;
        BinaryPrimitives.WriteInt32BigEndian(buffer.AsSpan(at), body.Length + 4);
        body.CopyTo(buffer, at + 4);
        await _stream.WriteAsync(buffer, ct).ConfigureAwait(false);
    }

    private async Task<(char Type, byte[] Payload)> ReadAsync(CancellationToken ct)
    {
        var header = new byte[5];
        await _stream.ReadExactlyAsync(header, ct).ConfigureAwait(false);
        var len = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
        if (len < 4 || len > 64 * 1024 * 1024) throw new InvalidDataException($"not a PostgreSQL protocol message (length {len})");
        var payload = new byte[len - 4];
        await _stream.ReadExactlyAsync(payload, ct).ConfigureAwait(false);
        return ((char)header[0], payload);
    }

    private static PgServerError ParseError(byte[] p)
    {
        string code = "", message = "";
        var at = 0;
        while (at < p.Length && p[at] != 0)
        {
            var field = (char)p[at++];
            var end = Array.IndexOf(p, (byte)0, at);
            if (end < 0) break;
            var value = Encoding.UTF8.GetString(p, at, end - at);
            at = end + 1;
            if (field == 'C') code = value;
            else if (field == 'M') message = value;
        }
        return new PgServerError(code, message);
    }

    private static void WriteInt(Stream s, int v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteInt32BigEndian(b, v); s.Write(b); }
    private static void WriteCString(Stream s, string v) { s.Write(Encoding.UTF8.GetBytes(v)); s.WriteByte(0); }
    private static string Md5Hex(byte[] data) => Convert.ToHexString(MD5.HashData(data)).ToLowerInvariant();

    public async ValueTask DisposeAsync()
    {
        try { await SendAsync('X', Array.Empty<byte>(), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(1)).ConfigureAwait(false); }
        catch (Exception) { /* the server may already be gone */ }
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }

    /// <summary>SCRAM-SHA-256 (RFC 5802/7677) without channel binding.</summary>
    private sealed class Scram
    {
        private readonly string _password;
        private readonly string _nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        private string _authMessage = "";
        private byte[] _saltedPassword = Array.Empty<byte>();

        public Scram(string password) => _password = password;
        private string ClientFirstBare => $"n=,r={_nonce}";
        public string ClientFirst => "n,," + ClientFirstBare;

        public string ClientFinal(string serverFirst)
        {
            var attrs = serverFirst.Split(',').Where(a => a.Length > 2 && a[1] == '=').ToDictionary(a => a[0], a => a[2..]);
            var nonce = attrs['r'];
            if (!nonce.StartsWith(_nonce, StringComparison.Ordinal)) throw new PgServerError("28000", "the server's SCRAM nonce does not extend ours");
            var salt = Convert.FromBase64String(attrs['s']);
            var iterations = int.Parse(attrs['i'], System.Globalization.CultureInfo.InvariantCulture);
            _saltedPassword = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(_password), salt, iterations, HashAlgorithmName.SHA256, 32);
            var clientKey = HMACSHA256.HashData(_saltedPassword, Encoding.ASCII.GetBytes("Client Key"));
            var storedKey = SHA256.HashData(clientKey);
            var withoutProof = $"c=biws,r={nonce}";
            _authMessage = $"{ClientFirstBare},{serverFirst},{withoutProof}";
            var signature = HMACSHA256.HashData(storedKey, Encoding.UTF8.GetBytes(_authMessage));
            var proof = new byte[clientKey.Length];
            for (var i = 0; i < proof.Length; i++) proof[i] = (byte)(clientKey[i] ^ signature[i]);
            return $"{withoutProof},p={Convert.ToBase64String(proof)}";
        }

        public bool Verify(string serverFinal)
        {
            var v = serverFinal.Split(',').FirstOrDefault(a => a.StartsWith("v=", StringComparison.Ordinal));
            if (v is null) return false;
            var serverKey = HMACSHA256.HashData(_saltedPassword, Encoding.ASCII.GetBytes("Server Key"));
            var expected = HMACSHA256.HashData(serverKey, Encoding.UTF8.GetBytes(_authMessage));
            return CryptographicOperations.FixedTimeEquals(expected, Convert.FromBase64String(v[2..]));
        }
    }
}
