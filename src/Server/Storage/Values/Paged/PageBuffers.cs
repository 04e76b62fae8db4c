namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>
/// One reactor's free page buffers, by power-of-two size. A 100-field HSET into a big hash holds about
/// 100 bucket pages at once, far more than ArrayPool&lt;byte&gt;.Shared keeps per thread, so most of its
/// rents allocated and most returns were dropped: 4% of a 2M-field load's CPU went to the GC and
/// clearing new arrays. Single-threaded (the pages of one command), and bounded: at most
/// <see cref="KeptBytes"/> are kept; past that a returned buffer is left to the GC.
/// </summary>
public sealed class PageBuffers
{
    private const int MinShift = 8;            // 256 B
    private const int Classes = 13;            // .. 1 MB; a larger buffer is not kept
    /// <summary>Bytes kept at most: 1,024 pages of 2 KB, ten 100-field HSETs' worth.</summary>
    public const long KeptBytes = 2 << 20;

    private readonly Stack<byte[]>[] _free = new Stack<byte[]>[Classes];
    private long _kept;

    public PageBuffers()
    {
        for (int i = 0; i < Classes; i++) _free[i] = new Stack<byte[]>();
    }

    /// <summary>A buffer of at least <paramref name="size"/> bytes, its contents undefined.</summary>
    public byte[] Rent(int size)
    {
        int c = ClassOf(size);
        if (c >= Classes) return GC.AllocateUninitializedArray<byte>(size);
        var free = _free[c];
        if (free.Count == 0) return GC.AllocateUninitializedArray<byte>(1 << (c + MinShift));
        var b = free.Pop();
        _kept -= b.Length;
        return b;
    }

    public void Return(byte[] buffer)
    {
        int c = ClassOf(buffer.Length);
        if (c >= Classes || buffer.Length != 1 << (c + MinShift) || _kept + buffer.Length > KeptBytes) return;
        _free[c].Push(buffer);
        _kept += buffer.Length;
    }

    private static int ClassOf(int size)
        => size <= 1 << MinShift ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)size - 1) - MinShift;
}
