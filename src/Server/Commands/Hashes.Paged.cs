using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// Hash commands over a paged hash (past the listpack thresholds): each field lives in a bucket page,
/// so a write reads and writes the field's bucket (and the one a split takes), never the whole hash.
/// Each method mirrors its inline counterpart in <see cref="HashCommands"/>; false from a step means
/// the command stopped (it waits on disk and runs again).
/// </summary>
internal static class PagedHashes
{
    /// <summary>HSET/HMSET into a paged hash: the number of fields created, or -1 when the command stopped.</summary>
    public static long Set(ref CommandContext ctx, PagedMeta meta)
    {
        var pages = PagedAccess.Pages(ref ctx);
        // Read-ahead: every field's bucket under the meta as it is, in one round of reads.
        for (int i = 2; i < ctx.Count; i += 2) PagedHash.NeedsSet(meta, ctx[i], ctx[i + 1].Length, pages.Pages, pages.Needs);
        if (!pages.Fetch()) return -1;
        var key = PagedAccess.StoreKey(ref ctx, ctx[1]);
        long created = 0;
        for (int i = 2; i < ctx.Count; i += 2)
        {
            // A split by an earlier field may have moved this one's bucket: a second round then.
            PagedHash.NeedsSet(meta, ctx[i], ctx[i + 1].Length, pages.Pages, pages.Needs);
            if (pages.Needs.Count > 0 && !pages.Fetch()) return -1;
            var r = PagedHash.Set(ref meta, ctx[i], ctx[i + 1], pages.Pages, pages);
            if (r == SetResult.Added) created++;
            if (r != SetResult.Unchanged) pages.Log(new ElementRecord(ElementOp.HSet, meta.Cid, key, ctx[i], ctx[i + 1]));
        }
        return PagedAccess.Commit(ref ctx, pages, KeyType.Hash, meta) ? created : -1;
    }

    /// <summary>
    /// An inline hash that passed the listpack thresholds (the writer holds every field, old and new) becomes
    /// a paged one: a new collection, its fields inserted one by one. False when the command stopped.
    /// </summary>
    public static bool Convert(ref CommandContext ctx, ReadOnlySpan<byte> payload, long expiry)
    {
        var pages = PagedAccess.Pages(ref ctx);
        var meta = PagedAccess.Create(ref ctx, pages, PagedKind.Hash, KeyType.Hash, expiry);
        var key = PagedAccess.StoreKey(ref ctx, ctx[1]);
        var e = Hash.Enumerate(payload);
        while (e.Next(out var field, out var value))
        {
            PagedHash.NeedsSet(meta, field, value.Length, pages.Pages, pages.Needs);
            pages.Fetch(); // a fresh collection's pages are never read
            PagedHash.Set(ref meta, field, value, pages.Pages, pages);
            pages.Log(new ElementRecord(ElementOp.HSet, meta.Cid, key, field, value));
        }
        return PagedAccess.Commit(ref ctx, pages, KeyType.Hash, meta);
    }

    /// <summary>HGET: the value into <paramref name="value"/>; null when the field is absent; false when the command stopped.</summary>
    public static bool TryGet(ref CommandContext ctx, in PagedMeta meta, ReadOnlySpan<byte> field, out bool found, System.Buffers.ArrayBufferWriter<byte> value)
    {
        var pages = PagedAccess.Pages(ref ctx);
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
}
