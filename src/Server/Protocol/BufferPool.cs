namespace NativeKv.Server.Protocol;

/// <summary>
/// Pinned buffers of one size, lent to a reactor's connections only while they have input to parse
/// or replies to send, so an idle connection holds none: 10,000 idle clients cost 89 MB when each
/// kept its own 16 KB input and output buffers from birth. Used by one reactor thread only.
/// The free list is bounded, and what stayed unused for a whole trim interval is let go.
/// </summary>
public sealed class BufferPool
{
    /// <summary>16 KB, Redis's PROTO_IOBUF_LEN: one read, or the replies to a pipeline of small commands.</summary>
    public const int DefaultBufferSize = 16 * 1024;

    private readonly byte[][] _free;
    private int _count;
    private int _lowWater; // fewest free buffers since the last trim: that many sat unused throughout

    /// <param name="maxFree">Free buffers kept at most; io_uring lends one per client with a send in flight.</param>
    public BufferPool(int bufferSize = DefaultBufferSize, int maxFree = 1024)
    {
        BufferSize = bufferSize;
        _free = new byte[maxFree][];
    }

    public int BufferSize { get; }

    /// <summary>Free buffers held now.</summary>
    public int FreeCount => _count;

    /// <summary>A pinned buffer of <see cref="BufferSize"/> bytes (contents undefined).</summary>
    public byte[] Rent()
    {
        if (_count == 0) return GC.AllocateUninitializedArray<byte>(BufferSize, pinned: true);
        var b = _free[--_count];
        _free[_count] = null!;
        if (_count < _lowWater) _lowWater = _count;
        return b;
    }

    /// <summary>Takes back a buffer of <see cref="BufferSize"/> bytes that nothing references any more.</summary>
    public void Return(byte[] buffer)
    {
        if (_count < _free.Length) _free[_count++] = buffer;
    }

    /// <summary>
    /// Lets go of the buffers that no connection needed since the last call, keeping
    /// <paramref name="keep"/> for the next reads. Called about once a second from the reactor's cron.
    /// </summary>
    public void Trim(int keep = 4)
    {
        int drop = Math.Min(_lowWater, _count - keep);
        for (int i = 0; i < drop; i++) _free[--_count] = null!;
        _lowWater = _count;
    }
}
