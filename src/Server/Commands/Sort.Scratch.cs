using NativeKv.Server.Storage.Values.Paged;
using NativeKv.Server.Storage;

namespace NativeKv.Server.Commands;

/// <summary>
/// A reactor's working memory for SORT (one per thread, emptied for each attempt: every attempt recomputes
/// the sort from its operations' slots). Bytes of the elements and of what their patterns looked up are
/// copied into one arena and named by offset and length (length -1: nothing found), so the arena may grow.
/// </summary>
internal sealed class SortScratch : ITreeSink
{
    [ThreadStatic] private static SortScratch? t_current;

    /// <summary>This thread's scratch, emptied.</summary>
    public static SortScratch Begin()
    {
        var s = t_current ??= new SortScratch();
        // A sort far past the steady state does not keep its megabytes between commands: 1 MB.
        if (s._bytes.Length > 1 << 20) s._bytes = new byte[4096];
        if (s.Items.Length > 1 << 16) s.Items = new SortItem[64];
        s._used = 0;
        s.Count = 0;
        return s;
    }

    private byte[] _bytes = new byte[4096];
    private int _used;

    /// <summary>The elements to sort, in the source's order until sorted.</summary>
    public SortItem[] Items = new SortItem[64];
    public int Count;

    /// <summary>Per looked-up element: the read of its pattern key (null when not found).</summary>
    public OpSlot?[] Slots = new OpSlot?[64];

    /// <summary>Per looked-up element: what its pattern found, as (offset, length) in the arena; length -1 for nothing.</summary>
    public int[] Found = new int[128];

    /// <summary>The key a pattern names for one element (rebuilt per element).</summary>
    public byte[] Key = new byte[256];

    public readonly System.Buffers.ArrayBufferWriter<byte> Value = new(256);

    public ReadOnlySpan<byte> Bytes(int offset, int length) => _bytes.AsSpan(offset, length);

    /// <summary>Copies <paramref name="bytes"/> into the arena: its offset.</summary>
    public int Keep(ReadOnlySpan<byte> bytes)
    {
        if (_used + bytes.Length > _bytes.Length)
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _used + bytes.Length));
        bytes.CopyTo(_bytes.AsSpan(_used));
        int at = _used;
        _used += bytes.Length;
        return at;
    }

    /// <summary>Appends an element of the source (the copy of <paramref name="element"/>).</summary>
    /// <summary>ITreeSink: an element of a paged list.</summary>
    public void Element(ReadOnlySpan<byte> element) => Add(element);

    public void Add(ReadOnlySpan<byte> element)
    {
        if (Count == Items.Length) Array.Resize(ref Items, Items.Length * 2);
        Items[Count] = new SortItem { Offset = Keep(element), Length = element.Length, ByLength = -1, Order = Count };
        Count++;
    }

    public ReadOnlySpan<byte> Element(in SortItem item) => _bytes.AsSpan(item.Offset, item.Length);

    /// <summary>Room for <paramref name="n"/> lookups (slots) and <paramref name="values"/> found values.</summary>
    public void Room(int n, int values)
    {
        if (Slots.Length < n) Array.Resize(ref Slots, Math.Max(n, Slots.Length * 2));
        if (Found.Length < 2 * values) Array.Resize(ref Found, Math.Max(2 * values, Found.Length * 2)); // keeps the earlier GET patterns' values
    }

    public Span<byte> KeyRoom(int length)
    {
        if (Key.Length < length) Key = new byte[Math.Max(length, Key.Length * 2)];
        return Key.AsSpan(0, length);
    }
}

/// <summary>One element to sort (redisSortObject): its bytes, its weight (score, or the BY value for ALPHA) and its place in the source.</summary>
internal struct SortItem
{
    public int Offset, Length;
    /// <summary>ALPHA BY: the looked-up value in the arena; length -1 when the pattern found nothing (cmpobj NULL).</summary>
    public int ByOffset, ByLength;
    public double Score;
    /// <summary>Position in the source: equal elements keep it (glibc's qsort is a stable merge sort).</summary>
    public int Order;
}
