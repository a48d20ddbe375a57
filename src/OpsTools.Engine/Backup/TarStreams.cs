using System.Security.Cryptography;

namespace OpsTools.Engine.Backup;

/// <summary>A write-through stream that hashes (SHA-256) and counts every byte written to the stream below it.</summary>
internal sealed class HashingWriteStream : Stream
{
    private readonly Stream _inner;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly CancellationToken _ct;

    public HashingWriteStream(Stream inner, CancellationToken ct) { _inner = inner; _ct = ct; }

    public long BytesWritten { get; private set; }

    /// <summary>The SHA-256 of everything written, lowercase hex. Call once, after the last write.</summary>
    public string FinishHash() => Convert.ToHexString(_hash.GetHashAndReset()).ToLowerInvariant();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesWritten; set => throw new NotSupportedException(); }
    public override void Flush() => _inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _ct.ThrowIfCancellationRequested();
        _inner.Write(buffer);
        _hash.AppendData(buffer);
        BytesWritten += buffer.Length;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>A read-through stream that hashes (SHA-256) and counts every byte read from the stream below it.</summary>
internal sealed class HashingReadStream : Stream
{
    private readonly Stream _inner;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly CancellationToken _ct;
    private readonly Action<long>? _onRead;

    public HashingReadStream(Stream inner, CancellationToken ct, Action<long>? onRead = null) { _inner = inner; _ct = ct; _onRead = onRead; }

    public long BytesRead { get; private set; }

    /// <summary>Reads what is left of the stream below (so the hash covers the whole file), then returns the hash.</summary>
    public string DrainAndFinishHash()
    {
        var buffer = new byte[1 << 16];
        while (Read(buffer, 0, buffer.Length) > 0) { }
        return Convert.ToHexString(_hash.GetHashAndReset()).ToLowerInvariant();
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        _ct.ThrowIfCancellationRequested();
        var n = _inner.Read(buffer);
        if (n > 0)
        {
            _hash.AppendData(buffer[..n]);
            BytesRead += n;
            _onRead?.Invoke(BytesRead);
        }
        return n;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) _hash.Dispose();
        base.Dispose(disposing);
    }
}

/// <summary>Thrown when a source file ends before the length it had when the backup started reading it.</summary>
internal sealed class FileShrankException : IOException
{
    public FileShrankException(long expected, long got) : base($"the file shrank while it was being read (expected {expected} bytes, got {got})") { }
}

/// <summary>
/// Exactly <c>length</c> bytes of a source file, as the tar header announced them: a file that grows
/// while it is read is cut at that length (the caller notices and warns); one that shrinks is an
/// error (its entry cannot be completed truthfully). Counts bytes for progress and honours cancellation.
/// </summary>
internal sealed class FixedLengthReadStream : Stream
{
    private readonly Stream _inner;
    private readonly long _length;
    private readonly CancellationToken _ct;
    private readonly Action<int>? _onRead;
    private long _position;

    public FixedLengthReadStream(Stream inner, long length, CancellationToken ct, Action<int>? onRead)
    {
        _inner = inner; _length = length; _ct = ct; _onRead = onRead;
    }

    /// <summary>True when the file had more bytes than announced (it grew while being read).</summary>
    public bool Grew { get; private set; }

    /// <summary>After the announced length was read: sets <see cref="Grew"/> when the file has more bytes.</summary>
    public void ProbeForGrowth()
    {
        if (Grew || _position < _length) return;
        Span<byte> probe = stackalloc byte[1];
        if (_inner.Read(probe) > 0) Grew = true;
    }

    public override bool CanRead => true;
    public override bool CanSeek => true; // so TarWriter takes the length from here instead of buffering
    public override bool CanWrite => false;
    public override long Length => _length;
    public override long Position
    {
        get => _position;
        set { if (value != _position) throw new NotSupportedException(); }
    }
    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch { SeekOrigin.Begin => offset, SeekOrigin.Current => _position + offset, _ => _length + offset };
        if (target != _position) throw new NotSupportedException("source files are read once, front to back");
        return _position;
    }
    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        _ct.ThrowIfCancellationRequested();
        var left = _length - _position;
        if (left <= 0)
        {
            ProbeForGrowth();
            return 0;
        }
        var want = (int)Math.Min(buffer.Length, left);
        var n = _inner.Read(buffer[..want]);
        if (n == 0) throw new FileShrankException(_length, _position);
        _position += n;
        _onRead?.Invoke(n);
        return n;
    }
}
