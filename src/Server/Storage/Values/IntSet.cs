using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace NativeKv.Server.Storage.Values;

/// <summary>
/// Redis's intset (intset.c) as a set payload: sorted distinct integers, all of one width, the
/// smallest of 2, 4 or 8 bytes that holds every member (upgraded when a wider one arrives, never
/// narrowed, as Redis). Payload: [encoding = IntSet: u8][count: u32 LE][width: u8][values LE]*.
/// Pure span code over payloads; edits go through a <see cref="SetBuffer"/>.
/// </summary>
public static class IntSet
{
    public const int HeaderSize = Listpack.HeaderSize + 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WidthOf(ReadOnlySpan<byte> payload) => payload[Listpack.HeaderSize];

    /// <summary>_intsetValueEncoding: the width <paramref name="v"/> needs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int WidthFor(long v) => v is < int.MinValue or > int.MaxValue ? 8 : v is < short.MinValue or > short.MaxValue ? 4 : 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long Get(ReadOnlySpan<byte> payload, int index)
    {
        int w = payload[Listpack.HeaderSize];
        var p = payload[(HeaderSize + index * w)..];
        return w switch
        {
            2 => BinaryPrimitives.ReadInt16LittleEndian(p),
            4 => BinaryPrimitives.ReadInt32LittleEndian(p),
            _ => BinaryPrimitives.ReadInt64LittleEndian(p),
        };
    }

    private static void Put(Span<byte> body, int width, int index, long v)
    {
        var p = body[(index * width)..];
        switch (width)
        {
            case 2: BinaryPrimitives.WriteInt16LittleEndian(p, (short)v); break;
            case 4: BinaryPrimitives.WriteInt32LittleEndian(p, (int)v); break;
            default: BinaryPrimitives.WriteInt64LittleEndian(p, v); break;
        }
    }

    /// <summary>intsetSearch: true when found; otherwise <paramref name="index"/> is where it would go.</summary>
    public static bool Find(ReadOnlySpan<byte> payload, long value, out int index)
    {
        int count = Listpack.CountOf(payload);
        int lo = 0, hi = count - 1;
        if (count == 0)
        {
            index = 0;
            return false;
        }
        // The ends first, as Redis: appends of growing ids (the common case) skip the search.
        if (value > Get(payload, hi)) { index = count; return false; }
        if (value < Get(payload, 0)) { index = 0; return false; }
        while (lo <= hi)
        {
            int mid = (int)((uint)(lo + hi) >> 1);
            long cur = Get(payload, mid);
            if (value > cur) lo = mid + 1;
            else if (value < cur) hi = mid - 1;
            else { index = mid; return true; }
        }
        index = lo;
        return false;
    }

    public static bool Contains(ReadOnlySpan<byte> payload, long value) => Find(payload, value, out _);

    /// <summary>An empty intset (2-byte members) in <paramref name="buf"/>.</summary>
    public static void Create(SetBuffer buf)
    {
        var s = buf.Reset(HeaderSize);
        Listpack.WriteHeader(s, CollectionEncoding.IntSet, 0);
        s[Listpack.HeaderSize] = 2;
    }

    /// <summary>intsetAdd: false when <paramref name="value"/> was there already.</summary>
    public static bool Add(SetBuffer buf, long value)
    {
        var payload = buf.Payload;
        int count = Listpack.CountOf(payload);
        int width = WidthOf(payload);
        int need = WidthFor(value);
        if (need > width)
        {
            Upgrade(buf, need, value);
            return true;
        }
        if (Find(payload, value, out int index)) return false;
        var at = buf.Insert(HeaderSize + index * width, width);
        Put(at, width, 0, value);
        buf.SetCount(count + 1);
        return true;
    }

    /// <summary>intsetUpgradeAndAdd: every member widened; the new one is the smallest or the largest.</summary>
    private static void Upgrade(SetBuffer buf, int width, long value)
    {
        int count = Listpack.CountOf(buf.Payload);
        int old = WidthOf(buf.Payload);
        buf.Insert(buf.Length, (count + 1) * width - count * old);
        var span = buf.Span;
        var body = span[HeaderSize..];
        int prepend = value < 0 ? 1 : 0;
        // From the back, so no member is overwritten before it moved.
        for (int i = count - 1; i >= 0; i--) Put(body, width, i + prepend, GetWidth(body, old, i));
        Put(body, width, prepend == 1 ? 0 : count, value);
        span[Listpack.HeaderSize] = (byte)width;
        buf.SetCount(count + 1);
    }

    private static long GetWidth(ReadOnlySpan<byte> body, int width, int index)
    {
        var p = body[(index * width)..];
        return width switch
        {
            2 => BinaryPrimitives.ReadInt16LittleEndian(p),
            4 => BinaryPrimitives.ReadInt32LittleEndian(p),
            _ => BinaryPrimitives.ReadInt64LittleEndian(p),
        };
    }

    /// <summary>intsetRemove.</summary>
    public static bool Remove(SetBuffer buf, long value)
    {
        var payload = buf.Payload;
        if (!Find(payload, value, out int index)) return false;
        int width = WidthOf(payload);
        int count = Listpack.CountOf(payload);
        buf.Delete(HeaderSize + index * width, width);
        buf.SetCount(count - 1);
        return true;
    }

    /// <summary>Removes the members at the ascending <paramref name="indexes"/> in one pass.</summary>
    public static void RemoveAt(SetBuffer buf, ReadOnlySpan<int> indexes)
    {
        var span = buf.Span;
        int width = span[Listpack.HeaderSize];
        int count = Listpack.CountOf(span);
        int write = HeaderSize, next = 0;
        for (int i = 0; i < count; i++)
        {
            if (next < indexes.Length && indexes[next] == i) { next++; continue; }
            int from = HeaderSize + i * width;
            if (from != write) span.Slice(from, width).CopyTo(span[write..]);
            write += width;
        }
        buf.Truncate(write);
        buf.SetCount(count - indexes.Length);
    }

    /// <summary>sdigits10 of the widest member: the longest decimal text a member has.</summary>
    public static int MaxDigits(ReadOnlySpan<byte> payload)
    {
        int count = Listpack.CountOf(payload);
        if (count == 0) return 0;
        return Math.Max(NumberFormat.DigitCount(Get(payload, 0)), NumberFormat.DigitCount(Get(payload, count - 1)));
    }
}
