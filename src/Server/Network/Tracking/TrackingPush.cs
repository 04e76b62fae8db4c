using NativeKv.Server.Network.PubSub;
using NativeKv.Server.Protocol;

namespace NativeKv.Server.Network.Tracking;

/// <summary>
/// One invalidation on its way to the connection that reads it (sendTrackingMessage): the tracking client's own,
/// or the one it redirects to. <see cref="Keys"/> is the RESP of the key array (or the tracking client's null for
/// a flush), made once by the sender; a null <see cref="Keys"/> is the tracking-redir-broken notice.
/// </summary>
public sealed class TrackingPush(Client tracker, Client recipient, byte[]? keys, bool redirected) : Push
{
    public Client Tracker { get; } = tracker;
    public Client Recipient { get; } = recipient;
    public byte[]? Keys { get; } = keys;
    /// <summary>Sent to the REDIRECT client (a RESP2 one in pub/sub mode reads it as a message).</summary>
    public bool Redirected { get; } = redirected;
    public override int Size => (Keys?.Length ?? 0) + 64;

    private static readonly byte[] Channel = "__redis__:invalidate"u8.ToArray();

    /// <summary>On the recipient's reactor: the frame, as the recipient reads it now; false when it reads none.</summary>
    internal bool Write()
    {
        var c = Recipient;
        var o = c.Output;
        if (Keys is null)
        {
            // The redirect client was gone when this was sent.
            var t = c.TrackingOrNull;
            if (t is not null) t.BrokenRedirect = true;
            if (o.Protocol < 3) return false;
            o.PushHeader(2);
            o.Bulk("tracking-redir-broken"u8);
            o.Integer(t?.Redirect ?? 0);
            return true;
        }
        if (o.Protocol >= 3)
        {
            o.PushHeader(2);
            o.Bulk("invalidate"u8);
        }
        else if (Redirected && c.InPubSub)
        {
            // RESP2: a pub/sub message on __redis__:invalidate whose payload is the key array.
            o.ArrayHeader(3);
            o.Bulk("message"u8);
            o.Bulk(Channel);
        }
        else return false; // RESP2 without a redirect: nowhere to say it
        o.Raw(Keys);
        return true;
    }

    /// <summary>The RESP of a one-key array.</summary>
    internal static byte[] OneKey(ReadOnlySpan<byte> key)
    {
        var w = new ArrayBufferWriterLite(key.Length + 24);
        w.Append("*1\r\n$"u8);
        w.AppendNumber(key.Length);
        w.Append("\r\n"u8);
        w.Append(key);
        w.Append("\r\n"u8);
        return w.ToArray();
    }
}

/// <summary>A growing byte buffer for the few frames tracking builds (a BCAST key array, one key).</summary>
internal struct ArrayBufferWriterLite(int capacity)
{
    private byte[] _buffer = new byte[Math.Max(16, capacity)];
    private int _length;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > _buffer.Length) Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _length + bytes.Length));
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    public void AppendNumber(long n)
    {
        Span<byte> tmp = stackalloc byte[20];
        n.TryFormat(tmp, out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        Append(tmp[..written]);
    }

    public readonly byte[] ToArray() => _buffer.AsSpan(0, _length).ToArray();
}
