using System.Net.Sockets;
using System.Text;

namespace NativeKv.Tests.Storage;

/// <summary>Pipelined raw-socket load/verify for the big storage tests (fixed-size replies, no parsing overhead).</summary>
internal sealed class BulkLoader : IDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _send = new byte[8 << 20];
    private readonly byte[] _recv = new byte[8 << 20];

    public BulkLoader(int port)
    {
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket.Connect("127.0.0.1", port);
        _socket.ReceiveTimeout = 120_000;
    }

    public static byte[] Key(long i) => Encoding.ASCII.GetBytes($"key:{i}");

    /// <summary>A 100-byte value derived from <paramref name="i"/> and <paramref name="round"/>.</summary>
    public static void Value(long i, int round, Span<byte> dest)
    {
        var head = Encoding.ASCII.GetBytes($"v{round}:{i}:");
        head.CopyTo(dest);
        for (int k = head.Length; k < 100; k++) dest[k] = (byte)('a' + (i + k) % 26);
    }

    private int AppendBulk(int pos, ReadOnlySpan<byte> s)
    {
        pos += Encoding.ASCII.GetBytes($"${s.Length}\r\n", _send.AsSpan(pos));
        s.CopyTo(_send.AsSpan(pos));
        pos += s.Length;
        _send[pos++] = (byte)'\r';
        _send[pos++] = (byte)'\n';
        return pos;
    }

    private void SendAll(int length)
    {
        int sent = 0;
        while (sent < length) sent += _socket.Send(_send, sent, length - sent, SocketFlags.None);
    }

    private void ReceiveExact(int length)
    {
        int got = 0;
        while (got < length)
        {
            int n = _socket.Receive(_recv, got, length - got, SocketFlags.None);
            if (n == 0) throw new EndOfStreamException();
            got += n;
        }
    }

    /// <summary>SETs keys [from, to) with <paramref name="round"/>'s values, <paramref name="batch"/> per round trip.</summary>
    public void Set(long from, long to, int round, int batch = 20_000, string? extra = null)
    {
        Span<byte> value = stackalloc byte[100];
        var extraArgs = extra is null ? [] : extra.Split(' ');
        for (long start = from; start < to; start += batch)
        {
            long end = Math.Min(to, start + batch);
            int pos = 0;
            for (long i = start; i < end; i++)
            {
                pos += Encoding.ASCII.GetBytes($"*{3 + extraArgs.Length}\r\n$3\r\nSET\r\n", _send.AsSpan(pos));
                pos = AppendBulk(pos, Key(i));
                Value(i, round, value);
                pos = AppendBulk(pos, value);
                foreach (var a in extraArgs) pos = AppendBulk(pos, Encoding.ASCII.GetBytes(a));
            }
            var sender = Task.Run(() => SendAll(pos));
            int n = (int)(end - start);
            ReceiveExact(n * 5);
            sender.Wait();
            for (int k = 0; k < n; k++)
            {
                if (_recv[k * 5] != (byte)'+') throw new InvalidDataException("SET failed: " + Encoding.ASCII.GetString(_recv, k * 5, Math.Min(80, n * 5 - k * 5)));
            }
        }
    }

    /// <summary>GETs keys [from, to) and checks every value; returns the number of mismatches.</summary>
    public long Verify(long from, long to, int round, int batch = 20_000)
    {
        Span<byte> value = stackalloc byte[100];
        long bad = 0;
        const int replyLength = 4 + 2 + 100 + 2; // $100\r\n + value + \r\n
        for (long start = from; start < to; start += batch)
        {
            long end = Math.Min(to, start + batch);
            int pos = 0;
            for (long i = start; i < end; i++)
            {
                pos += Encoding.ASCII.GetBytes("*2\r\n$3\r\nGET\r\n", _send.AsSpan(pos));
                pos = AppendBulk(pos, Key(i));
            }
            var sender = Task.Run(() => SendAll(pos));
            int n = (int)(end - start);
            ReceiveExact(n * replyLength);
            sender.Wait();
            for (int k = 0; k < n; k++)
            {
                Value(start + k, round, value);
                var reply = _recv.AsSpan(k * replyLength, replyLength);
                if (!reply[..6].SequenceEqual("$100\r\n"u8) || !reply.Slice(6, 100).SequenceEqual(value)) bad++;
            }
        }
        return bad;
    }

    public void Dispose() => _socket.Dispose();
}
