using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// Hash commands over a paged hash (past the listpack thresholds): each field lives in a bucket page,
/// so a write reads and writes the field's bucket (and the one a split takes), never the whole hash.
/// Each method mirrors its inline counterpart in <see cref="HashCommands"/>; false (or -1) from a step
/// means the command stopped: it waits on disk and runs again, or it replied an error. Writes apply
/// to the command's staged pages and reach the store only in <see cref="PagedAccess.Commit"/>, after
/// every read, so a stopped attempt has written nothing.
/// </summary>
internal static partial class PagedHashes
{
    /// <summary>
    /// Reads issued in one round (Fetch) by the commands that read many buckets: the research doc's bound
    /// on outstanding page reads, as a scan step (<see cref="PagedHash.MaxScanBuckets"/>).
    /// </summary>
    private const int RoundReads = PagedHash.MaxScanBuckets;

    /// <summary>HSET/HMSET into a paged hash: the number of fields created, or -1 when the command stopped.</summary>
    public static long Set(ref CommandContext ctx, PagedMeta meta)
    {
        var pages = PagedAccess.Pages(ref ctx);
        if (ctx.Count == 4 && PagedHash.SetsInBucketAlone(meta, ctx[3].Length))
        {
            var was = meta;
            switch (BucketEdits.Set(ref ctx, pages, ref meta, ctx[2], ctx[3], out var result))
            {
                case InlineEdits.Outcome.Stopped:
                    return -1;
                case InlineEdits.Outcome.Done:
                    if (result != SetResult.Unchanged) pages.Log(new ElementRecord(ElementOp.HSet, meta.Cid, PagedAccess.StoreKey(ref ctx, ctx[1]), ctx[2], ctx[3]));
                    return PagedAccess.Commit(ref ctx, pages, KeyType.Hash, was, meta) ? (result == SetResult.Added ? 1 : 0) : -1;
            }
        }
        // Read-ahead: every field's bucket under the meta as it is, in one round of reads.
        for (int i = 2; i < ctx.Count; i += 2) PagedHash.NeedsSet(meta, ctx[i], ctx[i + 1].Length, pages.Pages, pages.Needs);
        if (!pages.Fetch()) return -1;
        var before = meta;
        long created = SetFields(ref ctx, pages, ref meta, 2);
        if (created < 0) return -1;
        return PagedAccess.Commit(ref ctx, pages, KeyType.Hash, before, meta) ? created : -1;
    }

    /// <summary>
    /// An inline hash that passed the listpack thresholds becomes a paged one: a new collection holding the
    /// writer's fields, then the command's field/value arguments from <paramref name="from"/> on (HSET stops
    /// editing the inline copy at the conversion). The fields created by those arguments, or -1 when the command stopped.
    /// </summary>
    public static long Convert(ref CommandContext ctx, ReadOnlySpan<byte> payload, long expiry, int from = int.MaxValue)
    {
        var pages = PagedAccess.Pages(ref ctx);
        var meta = PagedAccess.Create(ref ctx, pages, PagedKind.Hash, KeyType.Hash, expiry, PagedHash.PageShiftFor(LongestValue(ref ctx, payload, from)));
        var key = PagedAccess.StoreKey(ref ctx, ctx[1]);
        var e = Hash.Enumerate(payload);
        while (e.Next(out var field, out var value))
        {
            PagedHash.NeedsSet(meta, field, value.Length, pages.Pages, pages.Needs);
            pages.Fetch(); // a fresh collection's pages are never read
            if (!Fits(ref ctx, meta, pages, field, value.Length)) return -1;
            PagedHash.Set(ref meta, field, value, pages.Pages, pages);
            pages.Log(new ElementRecord(ElementOp.HSet, meta.Cid, key, field, value));
        }
        long created = from < ctx.Count ? SetFields(ref ctx, pages, ref meta, from) : 0;
        if (created < 0) return -1;
        return PagedAccess.Commit(ref ctx, pages, KeyType.Hash, meta) ? created : -1;
    }

    /// <summary>The longest value of the inline hash's <paramref name="payload"/> and of the command's field/value arguments from <paramref name="from"/> on.</summary>
    private static int LongestValue(ref CommandContext ctx, ReadOnlySpan<byte> payload, int from)
    {
        int longest = 0;
        var e = Hash.Enumerate(payload);
        while (e.Next(out _, out var value)) longest = Math.Max(longest, value.Length);
        for (int i = from; i < ctx.Count - 1; i += 2) longest = Math.Max(longest, ctx[i + 1].Length);
        return longest;
    }

    /// <summary>The field/value arguments from <paramref name="from"/> on, applied to the staged pages: fields created, -1 when stopped.</summary>
    private static long SetFields(ref CommandContext ctx, CommandPages pages, ref PagedMeta meta, int from)
    {
        var key = PagedAccess.StoreKey(ref ctx, ctx[1]);
        long created = 0;
        for (int i = from; i < ctx.Count; i += 2)
        {
            // A split by an earlier field may have moved this one's bucket: a second round then.
            PagedHash.NeedsSet(meta, ctx[i], ctx[i + 1].Length, pages.Pages, pages.Needs);
            if (pages.Needs.Count > 0 && !pages.Fetch()) return -1;
            if (!Fits(ref ctx, meta, pages, ctx[i], ctx[i + 1].Length)) return -1;
            var r = PagedHash.Set(ref meta, ctx[i], ctx[i + 1], pages.Pages, pages);
            if (r == SetResult.Added) created++;
            if (r != SetResult.Unchanged) pages.Log(new ElementRecord(ElementOp.HSet, meta.Cid, key, ctx[i], ctx[i + 1]));
        }
        return created;
    }

    /// <summary>
    /// A bucket is one store record and fields are always inline, so a field near a log page in size could
    /// make its bucket too big for the store: the command is refused before anything is written (its pages
    /// are only staged), as an inline value too big for a page is. False after replying the error.
    /// </summary>
    internal static bool Fits(ref CommandContext ctx, in PagedMeta meta, CommandPages pages, scoped ReadOnlySpan<byte> field, int valueLength)
    {
        var page = pages.Pages.Get(PagedHash.BucketKey(meta, PagedHash.BucketOf(meta, field)));
        long used = BucketPage.UsedOf(page) + BucketPage.EntrySize(true, field.Length, valueLength, valueLength > PagedHash.InlineLimit(meta));
        long max = ctx.Server.Store.MaxValueLength;
        if (used <= max) return true;
        // Only a bucket near the limit looks for the entry the write replaces: that second scan of the bucket took
        // HSET into a 100k-field hash from 3.5 to 4.75 us of server CPU (redis-benchmark -t hset -r 100000 -P 16).
        if (BucketPage.Find(page, true, field, out var old)) used -= old.Length;
        if (used <= max) return true;
        ctx.Reply.Error($"ERR hash bucket of {used} bytes exceeds the store's maximum value size ({max} bytes)");
        return false;
    }

    /// <summary>HSETNX: 1 when the field was set, 0 when it existed, -1 when the command stopped.</summary>
    public static int SetIfAbsent(ref CommandContext ctx, PagedMeta meta)
    {
        var pages = PagedAccess.Pages(ref ctx);
        PagedHash.NeedsSet(meta, ctx[2], ctx[3].Length, pages.Pages, pages.Needs);
        if (!pages.Fetch()) return -1;
        if (PagedHash.Lookup(meta, ctx[2], pages.Pages, null)) return 0;
        if (!Fits(ref ctx, meta, pages, ctx[2], ctx[3].Length)) return -1;
        PagedHash.Set(ref meta, ctx[2], ctx[3], pages.Pages, pages);
        pages.Log(new ElementRecord(ElementOp.HSet, meta.Cid, PagedAccess.StoreKey(ref ctx, ctx[1]), ctx[2], ctx[3]));
        return PagedAccess.Commit(ref ctx, pages, KeyType.Hash, meta) ? 1 : -1;
    }

    /// <summary>
    /// HDEL: the fields deleted, or -1 when the command stopped. A delete never moves a bucket (buckets
    /// never merge), so the fields' buckets are read in rounds of at most <see cref="RoundReads"/>, each
    /// applied as it arrives; the last field removed deletes the key (Commit at Count 0).
    /// </summary>
    public static long Delete(ref CommandContext ctx, PagedMeta meta)
    {
        var pages = PagedAccess.Pages(ref ctx);
        if (ctx.Count == 3 && PagedSets.RemoveOne(ref ctx, pages, ref meta, ctx[2], ElementOp.HDel, KeyType.Hash) is var one and >= -1) return one;
        var key = PagedAccess.StoreKey(ref ctx, ctx[1]);
        long deleted = 0;
        for (int i = 2; i < ctx.Count && meta.Count > 0;)
        {
            int end = i;
            for (; end < ctx.Count && pages.Needs.Count < RoundReads; end++) PagedHash.NeedsDelete(meta, ctx[end], pages.Pages, pages.Needs);
            if (!pages.Fetch()) return -1;
            for (; i < end && meta.Count > 0; i++)
            {
                if (!PagedHash.Delete(ref meta, ctx[i], pages.Pages, pages)) continue;
                deleted++;
                pages.Log(new ElementRecord(ElementOp.HDel, meta.Cid, key, ctx[i]));
            }
        }
        if (deleted == 0) return 0;
        return PagedAccess.Commit(ref ctx, pages, KeyType.Hash, meta) ? deleted : -1;
    }

    /// <summary>
    /// The second step of HINCRBY/HINCRBYFLOAT: stores the new value; <paramref name="pages"/> still holds
    /// what the first step (<see cref="TryGet(ref CommandContext, CommandPages, in PagedMeta, ReadOnlySpan{byte}, out bool, System.Buffers.ArrayBufferWriter{byte})"/>)
    /// read, so only the buckets a split may take are read now. False when the command stopped.
    /// </summary>
    public static bool Update(ref CommandContext ctx, CommandPages pages, PagedMeta meta, scoped ReadOnlySpan<byte> field, scoped ReadOnlySpan<byte> value)
    {
        PagedHash.NeedsSet(meta, field, value.Length, pages.Pages, pages.Needs);
        if (!pages.Fetch()) return false;
        if (!Fits(ref ctx, meta, pages, field, value.Length)) return false;
        if (PagedHash.Set(ref meta, field, value, pages.Pages, pages) != SetResult.Unchanged)
            pages.Log(new ElementRecord(ElementOp.HSet, meta.Cid, PagedAccess.StoreKey(ref ctx, ctx[1]), field, value));
        return PagedAccess.Commit(ref ctx, pages, KeyType.Hash, meta);
    }

    /// <summary>HGET: the value into <paramref name="value"/>; false when the command stopped.</summary>
    public static bool TryGet(ref CommandContext ctx, in PagedMeta meta, ReadOnlySpan<byte> field, out bool found, System.Buffers.ArrayBufferWriter<byte> value)
    {
        var pages = PagedAccess.Pages(ref ctx);
        switch (BucketEdits.Find(ref ctx, pages, meta, field, out found, out var inline))
        {
            case InlineEdits.Outcome.Stopped: return false;
            case InlineEdits.Outcome.Done:
                System.Buffers.BuffersExtensions.Write(value, inline);
                return true;
        }
        return TryGet(ref ctx, pages, meta, field, out found, value);
    }

    /// <summary>The value of <paramref name="field"/> through the command's <paramref name="pages"/> (its bucket, then its chunks when out of line).</summary>
    public static bool TryGet(ref CommandContext ctx, CommandPages pages, in PagedMeta meta, ReadOnlySpan<byte> field, out bool found, System.Buffers.ArrayBufferWriter<byte> value)
    {
        found = false;
        while (true)
        {
            PagedHash.NeedsLookup(meta, field, pages.Pages, pages.Needs);
            if (pages.Needs.Count == 0) break;
            if (!pages.Fetch()) return false;
        }
        found = PagedHash.Lookup(meta, field, pages.Pages, value);
        return true;
    }

    /// <summary>
    /// HEXISTS and HSTRLEN: whether the field is there and its value's length (an out-of-line value's
    /// length is in its entry: only the bucket is read). False when the command stopped.
    /// </summary>
    public static bool TryFind(ref CommandContext ctx, in PagedMeta meta, ReadOnlySpan<byte> field, out bool found, out int valueLength)
    {
        var pages = PagedAccess.Pages(ref ctx);
        var bucket = PagedHash.BucketKey(meta, PagedHash.BucketOf(meta, field));
        valueLength = 0;
        switch (BucketEdits.Find(ref ctx, pages, meta, field, out found, out var inline))
        {
            case InlineEdits.Outcome.Stopped: return false;
            case InlineEdits.Outcome.Done:
                valueLength = inline.Length;
                return true;
        }
        found = false;
        if (pages.Pages.State(bucket) == PageState.NotInHand) pages.Needs.Add(bucket);
        if (!pages.Fetch()) return false;
        found = BucketPage.Find(pages.Pages.Get(bucket), true, field, out var e);
        if (found) valueLength = e.ValueLength;
        return true;
    }
}
