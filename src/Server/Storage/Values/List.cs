using NativeKv.Server.Storage;

namespace NativeKv.Server.Storage.Values;

/// <summary>
/// A list's inline payload: the <see cref="Listpack"/> format (entries in list order, head first) under
/// encoding Listpack or Quicklist. The encoding byte follows Redis 7.2's conversions (t_list.c
/// listTypeTryConversionRaw), judged on what Redis's own listpack would weigh (<see cref="RedisBytes"/>):
/// a list goes to quicklist before an append that would pass list-max-listpack-size, and back to listpack
/// after a removal leaves it at half the limit. Redis converts back only when its quicklist has one node;
/// we keep no nodes, so a list that shrank from its head may read listpack here a little earlier.
/// Pure span code: commands edit a copy in a <see cref="SetBuffer"/> and the store writes it whole.
/// </summary>
public static class List
{
    /// <summary>The payload of an empty listpack list (what a new key starts from).</summary>
    public static ReadOnlySpan<byte> Empty => [(byte)CollectionEncoding.Listpack, 0, 0, 0, 0];

    public static CollectionEncoding EncodingOf(ReadOnlySpan<byte> payload) => Listpack.EncodingOf(payload);

    public static int Count(ReadOnlySpan<byte> payload) => Listpack.CountOf(payload);

    // Redis's listpack: a 6-byte header and an end byte (LP_HDR_SIZE + 1).
    private const long RedisEmptyBytes = 7;
    // quicklist.c: SIZE_SAFETY_LIMIT, and optimization_level (fill -1..-5).
    private const long SizeSafetyLimit = 8192;
    private static ReadOnlySpan<int> OptimizationLevel => [4096, 8192, 16384, 32768, 65536];

    /// <summary>
    /// quicklistNodeLimit: a negative fill limits a node's bytes (Redis clamps past -5), a positive one its
    /// entries (0 means 1). The other limit is unbounded (long.MaxValue).
    /// </summary>
    public static void Limits(long fill, out long bytes, out long count)
    {
        bytes = long.MaxValue;
        count = long.MaxValue;
        if (fill >= 0) count = fill == 0 ? 1 : fill;
        else bytes = OptimizationLevel[(int)Math.Min(-fill - 1, OptimizationLevel.Length - 1)];
    }

    /// <summary>quicklistNodeExceedsLimit: would a listpack of these bytes and entries be past the fill?</summary>
    public static bool ExceedsLimit(long fill, long bytes, long count)
    {
        Limits(fill, out long sizeLimit, out long countLimit);
        if (sizeLimit != long.MaxValue) return bytes > sizeLimit;
        // A count limit still keeps a node under 8 KB (sizeMeetsSafetyLimit).
        return bytes > SizeSafetyLimit || count > countLimit;
    }

    /// <summary>
    /// The encoding a list of <paramref name="payload"/> takes before <paramref name="addCount"/> elements of
    /// <paramref name="addBytes"/> bytes in all are added (listTypeTryConvertListpack: Redis counts the
    /// new elements' raw lengths, not their encoded size). A quicklist stays one.
    /// </summary>
    public static CollectionEncoding Growing(ReadOnlySpan<byte> payload, long addBytes, long addCount, long fill)
    {
        var enc = EncodingOf(payload);
        if (enc != CollectionEncoding.Listpack) return enc;
        return ExceedsLimit(fill, RedisBytes(payload) + addBytes, Count(payload) + addCount) ? CollectionEncoding.Quicklist : enc;
    }

    /// <summary>listTypeTryConvertQuicklist(shrinking): back to listpack at half the limits.</summary>
    public static CollectionEncoding Shrinking(ReadOnlySpan<byte> payload, long fill)
    {
        var enc = EncodingOf(payload);
        if (enc != CollectionEncoding.Quicklist) return enc;
        Limits(fill, out long sizeLimit, out long countLimit);
        if (RedisBytes(payload) > sizeLimit / 2 || Count(payload) > countLimit / 2) return enc;
        return CollectionEncoding.Listpack;
    }

    /// <summary>lpBytes of a Redis listpack holding these entries (its integer and string encodings, and back-lengths).</summary>
    public static long RedisBytes(ReadOnlySpan<byte> payload)
    {
        long total = RedisEmptyBytes;
        var r = new Listpack.Reader(payload);
        while (r.Next(out var e)) total += RedisEntryBytes(e);
        return total;
    }

    /// <summary>One entry in a Redis listpack (lpEncodeGetType, then lpEncodeBacklen's bytes).</summary>
    public static int RedisEntryBytes(ReadOnlySpan<byte> e)
    {
        int size;
        if (e.Length <= 20 && NumberFormat.TryParseLong(e, out long v))
        {
            size = v is >= 0 and <= 127 ? 1
                : v is >= -4096 and <= 4095 ? 2
                : v is >= short.MinValue and <= short.MaxValue ? 3
                : v is >= -(1 << 23) and < (1 << 23) ? 4
                : v is >= int.MinValue and <= int.MaxValue ? 5
                : 9;
        }
        else return RedisStringEntryBytes(e.Length);
        return size + Backlen(size);
    }

    /// <summary><see cref="RedisEntryBytes(ReadOnlySpan{byte})"/> of a string that is not an integer (any longer than 20 bytes), from its length.</summary>
    public static int RedisStringEntryBytes(int length)
    {
        int size = length < 64 ? 1 + length : length < 4096 ? 2 + length : 5 + length;
        return size + Backlen(size);
    }

    private static int Backlen(int size) => size <= 127 ? 1 : size < 16383 ? 2 : size < 2097151 ? 3 : size < 268435455 ? 4 : 5;

    /// <summary>Where the entry at <paramref name="index"/> (0 = head, in range) starts in the payload.</summary>
    public static int OffsetOf(ReadOnlySpan<byte> payload, int index)
    {
        var r = new Listpack.Reader(payload);
        for (int i = 0; i < index; i++) r.Next(out _);
        return r.Offset;
    }

    /// <summary>The entry at <paramref name="index"/> (0 = head, in range), and where it ends.</summary>
    public static ReadOnlySpan<byte> At(ReadOnlySpan<byte> payload, int index, out int start, out int end)
    {
        var r = new Listpack.Reader(payload);
        for (int i = 0; i < index; i++) r.Next(out _);
        start = r.Offset;
        r.Next(out var e);
        end = r.Offset;
        return e;
    }

    /// <summary>A Redis index (negative counts from the tail) into [0, count), or -1 when out of range.</summary>
    public static int Resolve(long index, int count)
    {
        if (index < 0) index += count;
        return index < 0 || index >= count ? -1 : (int)index;
    }

    /// <summary>Adds <paramref name="entry"/> at payload offset <paramref name="offset"/> of <paramref name="buf"/> and counts it.</summary>
    public static void InsertEntry(SetBuffer buf, int offset, ReadOnlySpan<byte> entry)
    {
        var room = buf.Insert(offset, Listpack.EntrySize(entry.Length));
        Listpack.WriteEntry(room, entry);
        buf.SetCount(Count(buf.Payload) + 1);
    }

    /// <summary>Removes <paramref name="entries"/> entries occupying [start, end) of <paramref name="buf"/> and uncounts them.</summary>
    public static void DeleteEntries(SetBuffer buf, int start, int end, int entries)
    {
        if (entries == 0) return;
        int count = Count(buf.Payload);
        buf.Delete(start, end - start);
        buf.SetCount(count - entries);
    }
}
