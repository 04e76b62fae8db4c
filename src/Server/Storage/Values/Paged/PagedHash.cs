using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;

namespace NativeKv.Server.Storage.Values.Paged;

/// <summary>What a write did to the collection.</summary>
public enum SetResult : byte
{
    /// <summary>A new element (HSET answers 1, SADD 1).</summary>
    Added,
    /// <summary>An existing field got the value (HSET answers 0).</summary>
    Updated,
    /// <summary>Already there with that value (SADD answers 0): nothing was written.</summary>
    Unchanged,
}

/// <summary>
/// A paged hash or set by linear hashing: bucket b is the page (cid, Bucket, b); buckets are added one
/// at a time at the end by splitting the bucket at the split pointer, so the work per insert is bounded
/// (one bucket read and two written), and buckets never merge or move, which is what gives SCAN its
/// guarantee (see <see cref="Scan"/>). Pure code over pages in hand: every operation is a
/// <c>Needs*</c> method, which lists the pages it still lacks given a <see cref="PageSet"/>, and an
/// apply method that runs once they are all in hand. A command replayed after a disk read calls the
/// same pair again and finds more pages in hand; a mutation needs one round (its pages follow from the
/// meta alone), a read may need two (the bucket, then the chunks of an out-of-line value it holds).
/// </summary>
public static partial class PagedHash
{
    /// <summary>
    /// 2 KB bucket pages. Stored size barely moves with the page (1M 16-byte fields with 32-byte values,
    /// bucket records kept at whole pages: 69.1 B/field at 2 KB, 67.3 at 4 KB, 67.1 at 8 and 16 KB), but
    /// every change of a bucket larger than memory writes its whole page again: loading 1M such fields under
    /// maxmemory 32mb (100 per HSET, one reactor, AOT) took 12.2-13.3 us of server CPU a field at 2 KB against
    /// 18.5-18.8 at 4 KB (2.0 GB of log written against 3.6), 13-14 s against 19-20.
    /// </summary>
    public const int DefaultPageShift = 11;

    /// <summary>
    /// 1 KB bucket pages for a hash whose values were all short when it left its listpack (the common case:
    /// it outgrew it by count): half the bytes read, written and compacted a change. One hash of 5M fields
    /// (32-byte values) under maxmemory 32mb, 100 per HSET, one reactor, AOT, the same session: 13.3 us of
    /// server CPU a field at 2 KB against 11.1 at 1 KB, 11.5 GB of log written against 6.6, RSS after 224 MB
    /// against 147. A value past a quarter page goes out of line (<see cref="InlineLimit"/>), a second read
    /// for HGET, so a hash that already held a value over <see cref="ShortValue"/> keeps 2 KB pages. A set of short
    /// members gets them too: 5M 16-byte members loaded at 209k members/s against 159k at 2 KB (4.65 against 6.07 us).
    /// </summary>
    public const int SmallPageShift = 10;

    /// <summary>The longest value (or set member) that still counts as short for <see cref="PageShiftFor"/>: an eighth of a small page, so it holds 6 or more.</summary>
    public const int ShortValue = 128;

    /// <summary>The page shift of a new paged hash whose longest value so far (a set: member) is <paramref name="longest"/> bytes.</summary>
    public static int PageShiftFor(int longest) => longest <= ShortValue ? SmallPageShift : DefaultPageShift;

    /// <summary>
    /// A bucket is split when entry bytes pass this percent of the buckets' nominal room. Same data at
    /// 4 KB: 70% -> 71.9 B/field, 0.4% of buckets past a page; 85% -> 67.3, 14%; 100% -> 67.3, 34%
    /// (and 5.5 KB average reads): the knee.
    /// </summary>
    public const int DefaultLoadPercent = 85;

    /// <summary>
    /// Values longer than a quarter page go out of line, so a page still holds four or more fields, and
    /// a split or an overwrite moves 8 bytes instead of the value. 50k fields of 1500-byte values: out of
    /// line at 4 KB pages 1542 B/field stored, 5.3 KB written per insert, HGET 5.4 KB in two reads;
    /// inline at 8 KB pages 2378 B/field, 11.2 KB per insert, HGET 9.3 KB in one read.
    /// </summary>
    public static int InlineLimit(in PagedMeta meta) => meta.PageSize / 4;

    /// <summary>
    /// Out-of-line values are cut into chunks of this size, each one page record written once: all of a
    /// value's chunks are read in one round, and 64 KB keeps a 512 MB value at 8192 records, each far
    /// under the store's page (8 MB). Not measured against FASTER yet.
    /// </summary>
    public const int ValueChunkSize = 64 * 1024;

    private const ulong P1 = 0x9E3779B185EBCA87UL;
    private const ulong P2 = 0xC2B2AE3D27D4EB4FUL;

    /// <summary>
    /// The field's 64-bit hash: KeyComparer's mix, seeded with the cid so two collections do not
    /// share a layout. It decides the page layout, so it must never change for a stored collection
    /// (a new one needs a new meta version).
    /// </summary>
    public static ulong Hash(ReadOnlySpan<byte> field, ulong seed)
    {
        ulong h = ((ulong)field.Length * P1) ^ Mix(seed);
        int i = 0;
        for (; i + 8 <= field.Length; i += 8)
            h = BitOperations.RotateLeft(h ^ (BinaryPrimitives.ReadUInt64LittleEndian(field[i..]) * P2), 31) * P1;
        if (i < field.Length)
        {
            ulong tail = 0;
            for (int shift = 0; i < field.Length; i++, shift += 8) tail |= (ulong)field[i] << shift;
            h = BitOperations.RotateLeft(h ^ (tail * P2), 31) * P1;
        }
        return Mix(h);
    }

    /// <summary>MurmurHash3's fmix64.</summary>
    internal static ulong Mix(ulong h)
    {
        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCDUL;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53UL;
        h ^= h >> 33;
        return h;
    }

    /// <summary>Linear hashing's address: the hash's low level bits, one more bit below the split pointer.</summary>
    public static ulong BucketOf(in PagedMeta meta, ulong hash)
    {
        ulong b = hash & ((1UL << meta.Level) - 1);
        return b < meta.Split ? hash & ((2UL << meta.Level) - 1) : b;
    }

    public static ulong BucketOf(in PagedMeta meta, ReadOnlySpan<byte> field) => BucketOf(meta, Hash(field, meta.Cid));

    public static PageKey BucketKey(in PagedMeta meta, ulong bucket) => new(meta.Cid, PageKind.Bucket, bucket);

    public static PageKey ValueKey(in PagedMeta meta, ulong page) => new(meta.Cid, PageKind.Value, page);

    private static void Need(PageSet pages, List<PageKey> needs, in PageKey key)
    {
        // The set remembers what is listed (a list scan per field made an HSET of 100 fields quadratic).
        if (pages.State(key) == PageState.NotInHand && pages.MarkNeeded(key)) needs.Add(key);
    }

    private static bool HasValues(in PagedMeta meta) => meta.Kind == PagedKind.Hash;

    /// <summary>Room a bucket's entries have before the split rule counts it full.</summary>
    private static ulong Room(in PagedMeta meta, ulong buckets) => buckets * (ulong)(meta.PageSize - BucketPage.HeaderSize) * meta.LoadPercent / 100;

    // ---- writes ---------------------------------------------------------------------------------

    /// <summary>
    /// Pages <see cref="Set"/> needs: the field's bucket, and the buckets it may split (those the split
    /// rule would take if the whole entry were added, a bound on what a new field or a grown value takes).
    /// </summary>
    public static void NeedsSet(in PagedMeta meta, ReadOnlySpan<byte> field, int valueLength, PageSet pages, List<PageKey> needs)
    {
        Need(pages, needs, BucketKey(meta, BucketOf(meta, field)));
        bool outOfLine = HasValues(meta) && valueLength > InlineLimit(meta);
        ulong bound = meta.EntryBytes + (ulong)BucketPage.EntrySize(HasValues(meta), field.Length, valueLength, outOfLine);
        var m = meta;
        for (int i = 0, max = MaxSplits(meta, field.Length, valueLength); i < max && bound > Room(m, m.Buckets); i++)
        {
            Need(pages, needs, BucketKey(m, m.Split));
            Advance(ref m);
        }
    }

    /// <summary>
    /// Splits one insert may do: one, or as many as the entry's size needs to keep the load under the
    /// rule (a 20 KB field adds more than one bucket's room), so the work stays proportional to the input.
    /// </summary>
    private static int MaxSplits(in PagedMeta meta, int fieldLength, int valueLength)
    {
        int entry = fieldLength + Math.Min(valueLength, InlineLimit(meta)) + 16;
        long perSplit = (long)(meta.PageSize - BucketPage.HeaderSize) * meta.LoadPercent / 100;
        return 1 + (int)(entry / perSplit);
    }

    private static void Advance(ref PagedMeta m)
    {
        if (++m.Split == 1UL << m.Level)
        {
            m.Level++;
            m.Split = 0;
        }
    }

    /// <summary>
    /// Sets field to value (a set: adds the member; <paramref name="value"/> is ignored). Every page
    /// <see cref="NeedsSet"/> names must be in hand; changed pages are written to the page set and the store.
    /// </summary>
    public static SetResult Set(ref PagedMeta meta, ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, PageSet pages, IPageStore store)
    {
        bool hasValues = HasValues(meta);
        if (!hasValues) value = default;
        var key = BucketKey(meta, BucketOf(meta, field));
        var page = pages.Get(key);
        bool found = BucketPage.Find(page, hasValues, field, out var old);
        if (found && (!hasValues || (!old.OutOfLine && old.InlineValue.SequenceEqual(value)))) return SetResult.Unchanged;
        int oldStart = found ? old.Start : 0, oldLength = found ? old.Length : 0;
        bool oldOutOfLine = found && old.OutOfLine;
        ulong oldFirst = found ? old.FirstValuePage : 0;
        int oldValueLength = found ? old.ValueLength : 0;

        bool outOfLine = hasValues && value.Length > InlineLimit(meta);
        ulong first = 0;
        if (outOfLine)
        {
            first = meta.NextValuePage;
            meta.NextValuePage += (ulong)BucketPage.ChunksOf(value.Length);
            WriteChunks(meta, first, value, store);
        }
        if (oldOutOfLine) DeleteChunks(meta, oldFirst, oldValueLength, store);

        int size = BucketPage.EntrySize(hasValues, field.Length, value.Length, outOfLine);
        int used = BucketPage.UsedOf(page), count = BucketPage.CountOf(page);
        int newUsed = used - oldLength + size;
        var buf = pages.Edit(key, newUsed);
        int at = found ? oldStart : used;
        if (found) buf[(oldStart + oldLength)..used].CopyTo(buf[(oldStart + size)..]);
        BucketPage.WriteEntry(buf[at..], hasValues, field, outOfLine ? default : value, outOfLine, value.Length, first);
        BucketPage.WriteHeader(buf, newUsed, found ? count : count + 1);
        pages.SetLength(key, newUsed);
        store.Write(key, buf[..newUsed]);

        meta.EntryBytes = meta.EntryBytes - (ulong)oldLength + (ulong)size;
        if (!found) meta.Count++;
        // An overwrite that grows a value splits too, or a hash loaded small and rewritten large would keep its bucket count.
        for (int i = 0, max = MaxSplits(meta, field.Length, value.Length); i < max && meta.EntryBytes > Room(meta, meta.Buckets); i++)
            SplitOne(ref meta, pages, store);
        return found ? SetResult.Updated : SetResult.Added;
    }

    /// <summary>Pages <see cref="Delete"/> needs: the field's bucket (its value chunks are deleted blind).</summary>
    public static void NeedsDelete(in PagedMeta meta, ReadOnlySpan<byte> field, PageSet pages, List<PageKey> needs)
        => Need(pages, needs, BucketKey(meta, BucketOf(meta, field)));

    /// <summary>Removes the field (member); false when it was not there.</summary>
    public static bool Delete(ref PagedMeta meta, ReadOnlySpan<byte> field, PageSet pages, IPageStore store)
    {
        bool hasValues = HasValues(meta);
        var key = BucketKey(meta, BucketOf(meta, field));
        var page = pages.Get(key);
        if (!BucketPage.Find(page, hasValues, field, out var old)) return false;
        if (old.OutOfLine) DeleteChunks(meta, old.FirstValuePage, old.ValueLength, store);
        int used = BucketPage.UsedOf(page), count = BucketPage.CountOf(page);
        int start = old.Start, length = old.Length;
        meta.Count--;
        meta.EntryBytes -= (ulong)length;
        if (count == 1)
        {
            // An empty bucket has no page: missing reads as empty.
            store.Delete(key);
            pages.PutMissing(key);
            return true;
        }
        var buf = pages.Edit(key, used);
        buf[(start + length)..used].CopyTo(buf[start..]);
        BucketPage.WriteHeader(buf, used - length, count - 1);
        pages.SetLength(key, used - length);
        store.Write(key, buf[..(used - length)]);
        return true;
    }

    /// <summary>
    /// Splits the bucket at the split pointer s into s and s + 2^level (entries whose hash has bit
    /// <c>level</c> set move up), then advances the pointer. Bucket s must be in hand; the new bucket has
    /// never existed (buckets only grow), so it is written without a read.
    /// </summary>
    private static void SplitOne(ref PagedMeta meta, PageSet pages, IPageStore store)
    {
        bool hasValues = HasValues(meta);
        var lowKey = BucketKey(meta, meta.Split);
        var highKey = BucketKey(meta, meta.Split + (1UL << meta.Level));
        ulong bit = 1UL << meta.Level;
        ulong cid = meta.Cid;
        Advance(ref meta);
        if (pages.State(lowKey) == PageState.Missing)
        {
            pages.PutMissing(highKey);
            return;
        }
        var low = pages.Edit(lowKey, BucketPage.UsedOf(pages.Get(lowKey)));
        int used = BucketPage.UsedOf(low);
        var high = pages.Edit(highKey, used);
        int keep = BucketPage.HeaderSize, move = BucketPage.HeaderSize, kept = 0, moved = 0;
        var r = new BucketPage.Reader(low[..used], hasValues);
        while (r.Next(out var e))
        {
            var src = low.Slice(e.Start, e.Length);
            if ((Hash(e.Field, cid) & bit) != 0)
            {
                src.CopyTo(high[move..]);
                move += e.Length;
                moved++;
            }
            else
            {
                // Kept entries slide down over moved ones; the reader is always ahead of the write.
                src.CopyTo(low[keep..]);
                keep += e.Length;
                kept++;
            }
        }
        Finish(lowKey, low, keep, kept, pages, store);
        Finish(highKey, high, move, moved, pages, store);
    }

    private static void Finish(in PageKey key, Span<byte> buf, int used, int count, PageSet pages, IPageStore store)
    {
        if (count == 0)
        {
            store.Delete(key);
            pages.PutMissing(key);
            return;
        }
        BucketPage.WriteHeader(buf, used, count);
        pages.SetLength(key, used);
        store.Write(key, buf[..used]);
    }

    private static void WriteChunks(in PagedMeta meta, ulong first, ReadOnlySpan<byte> value, IPageStore store)
    {
        for (ulong i = 0; !value.IsEmpty; i++)
        {
            int n = Math.Min(value.Length, ValueChunkSize);
            store.Write(ValueKey(meta, first + i), value[..n]);
            value = value[n..];
        }
    }

    private static void DeleteChunks(in PagedMeta meta, ulong first, int length, IPageStore store)
    {
        for (int i = 0, n = BucketPage.ChunksOf(length); i < n; i++) store.Delete(ValueKey(meta, first + (ulong)i));
    }

    // ---- reads ----------------------------------------------------------------------------------

    /// <summary>Pages <see cref="Lookup"/> still needs: the bucket, then the chunks of an out-of-line value.</summary>
    public static void NeedsLookup(in PagedMeta meta, ReadOnlySpan<byte> field, PageSet pages, List<PageKey> needs)
    {
        var key = BucketKey(meta, BucketOf(meta, field));
        if (pages.State(key) == PageState.NotInHand)
        {
            Need(pages, needs, key);
            return;
        }
        if (BucketPage.Find(pages.Get(key), HasValues(meta), field, out var e) && e.OutOfLine)
            NeedChunks(meta, e.FirstValuePage, e.ValueLength, pages, needs);
    }

    private static void NeedChunks(in PagedMeta meta, ulong first, int length, PageSet pages, List<PageKey> needs)
    {
        for (int i = 0, n = BucketPage.ChunksOf(length); i < n; i++) Need(pages, needs, ValueKey(meta, first + (ulong)i));
    }

    /// <summary>Whether the field (member) is there; its value goes to <paramref name="value"/> when given.</summary>
    public static bool Lookup(in PagedMeta meta, ReadOnlySpan<byte> field, PageSet pages, IBufferWriter<byte>? value)
    {
        if (!BucketPage.Find(pages.Get(BucketKey(meta, BucketOf(meta, field))), HasValues(meta), field, out var e)) return false;
        if (value is not null) CopyValue(meta, e, pages, value);
        return true;
    }

    /// <summary>An entry's value, gathered from its chunks when out of line (which must be in hand).</summary>
    public static void CopyValue(in PagedMeta meta, in BucketEntry e, PageSet pages, IBufferWriter<byte> dest)
    {
        if (!e.OutOfLine)
        {
            dest.Write(e.InlineValue);
            return;
        }
        for (int i = 0, n = BucketPage.ChunksOf(e.ValueLength); i < n; i++)
        {
            var chunk = pages.Get(ValueKey(meta, e.FirstValuePage + (ulong)i));
            if (chunk.Length != Math.Min(ValueChunkSize, e.ValueLength - i * ValueChunkSize))
                throw new InvalidDataException($"value chunk {e.FirstValuePage + (ulong)i} of collection {meta.Cid} has {chunk.Length} bytes");
            dest.Write(chunk);
        }
    }
}
