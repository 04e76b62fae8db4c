using System.Buffers.Binary;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// COPY of a paged hash or set: the copy gets a collection of its own (a new cid), built element by
/// element from the source's pages, since two keys naming one cid would lose both's pages when either
/// is deleted. O(N) like Redis's COPY of a hashtable. The AOF gets the destination's creation image
/// and one element record per element, as a conversion logs them, so replay rebuilds the copy.
/// </summary>
internal static unsafe class PagedCopy
{
    /// <summary>Pages read per round (<see cref="CommandPages.Fetch"/>): a scan step's bound on outstanding reads.</summary>
    private const int Round = PagedHash.MaxScanBuckets;

    /// <summary>
    /// Reads of one attempt that may wait on disk before it stops: the command runs again when they are
    /// in, its earlier reads answering from their slots. 1024 pages (4 MB at 4 KB pages) a round of disk
    /// reads keeps a cold 1M-field hash (15k buckets) at 15 reruns instead of one per 64 pages.
    /// </summary>
    private const int MaxWaiting = 1024;

    [ThreadStatic] private static byte[]? t_key;

    /// <summary>
    /// Copies the collection <paramref name="src"/> (the payload of <c>ctx[1]</c>) to <c>ctx[2]</c> in
    /// <paramref name="dstDb"/>: 1 when copied, 0 when the destination exists and <paramref name="replace"/>
    /// is off, -1 when the command stopped (a read went to disk: it runs again).
    /// </summary>
    public static int Copy(ref CommandContext ctx, int dstDb, KeyType type, long expiry, in PagedMeta src, bool replace)
    {
        var store = Db.Store(ref ctx);
        // Under COPY's exclusive lock on the destination: absent now means absent at the write.
        var st = store.Read(dstDb, ctx[2], out _, OpFlags.HeaderOnly);
        if (st == OpStatus.Pending) return -1;
        if (st == OpStatus.Found && !replace) return 0;

        var pages = PagedAccess.Pages(ref ctx);
        if (!ReadAll(pages, src)) return -1;

        var meta = PagedMeta.Create(store.CommandCollectionId(), src.Kind, src.PageShift, src.LoadPercent);
        pages.Fresh(meta.Cid);
        Span<byte> root = stackalloc byte[PagedRoot.Size];
        PagedRoot.Write(meta, root);
        pages.LogCreation(dstDb, ctx[2], type, expiry, root);
        var key = StoreKey(store.Store.Namespace(dstDb), ctx[2]);
        var op = src.Kind == PagedKind.Hash ? ElementOp.HSet : ElementOp.SAdd;
        var scratch = PagedAccess.Value;
        for (ulong b = 0; b < src.Buckets; b++)
        {
            var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(src, b)), src.Kind == PagedKind.Hash);
            while (r.Next(out var e))
            {
                var value = e.InlineValue;
                if (e.OutOfLine)
                {
                    scratch.ResetWrittenCount();
                    PagedHash.CopyValue(src, e, pages.Pages, scratch);
                    value = scratch.WrittenSpan;
                }
                PagedHash.NeedsSet(meta, e.Field, value.Length, pages.Pages, pages.Needs);
                pages.Fetch(); // a fresh collection's pages are never read
                PagedHash.Set(ref meta, e.Field, value, pages.Pages, pages);
                pages.Log(new ElementRecord(op, meta.Cid, key, e.Field, value));
            }
        }
        return Commit(ref ctx, pages, dstDb, type, expiry, meta) ? 1 : -1;
    }

    /// <summary>
    /// Every bucket of <paramref name="src"/>, then every out-of-line value chunk, in hand; false when
    /// some wait on disk. The reads go out in the same order each attempt, so a rerun's answer from slots.
    /// </summary>
    private static bool ReadAll(CommandPages pages, in PagedMeta src)
    {
        if (!BucketWalk.FetchAll(pages, src, MaxWaiting)) return false;
        if (src.Kind != PagedKind.Hash) return true;
        int waiting = 0;
        bool inHand = true;
        ulong buckets = src.Buckets;
        for (ulong b = 0; b < buckets; b++)
        {
            var r = new BucketPage.Reader(pages.Pages.Get(PagedHash.BucketKey(src, b)), true);
            while (r.Next(out var e))
            {
                if (!e.OutOfLine) continue;
                for (int i = 0, chunks = BucketPage.ChunksOf(e.ValueLength); i < chunks; i++)
                {
                    pages.Needs.Add(PagedHash.ValueKey(src, e.FirstValuePage + (ulong)i));
                    if (pages.Needs.Count < Round) continue;
                    if (!pages.Fetch())
                    {
                        inHand = false;
                        if ((waiting += Round) >= MaxWaiting) return false;
                    }
                }
            }
        }
        if (pages.Needs.Count > 0 && !pages.Fetch()) inHand = false;
        return inHand;
    }

    /// <summary>
    /// The copy's pages, then its meta under the destination key (with the source's TTL, unlogged: the
    /// creation image and the element records rebuild it), then those records. False when the command stopped.
    /// </summary>
    private static bool Commit(ref CommandContext ctx, CommandPages pages, int dstDb, KeyType type, long expiry, in PagedMeta meta)
    {
        var store = Db.Store(ref ctx);
        store.FrameWrites();
        pages.WritePages(meta.PageSize);
        var root = store.CommandPinned(PagedRoot.Size);
        PagedRoot.Write(meta, root);
        OpStatus st;
        fixed (byte* p = root)
        {
            var input = new StoreInput
            {
                Op = StoreOp.Set, Flags = OpFlags.NoLog, Type = type, Expiry = expiry, Now = StoreInput.LazyNow,
                Data = p, DataLength = PagedRoot.Size,
            };
            st = store.RmwNamespace(store.Store.Namespace(dstDb), ctx[2], ref input, out _);
        }
        if (st == OpStatus.Pending) return false;
        pages.LogRecords();
        return true;
    }

    /// <summary>[namespace][key], as element records name the destination.</summary>
    private static ReadOnlySpan<byte> StoreKey(int ns, ReadOnlySpan<byte> key)
    {
        int len = ValueLayout.KeyPrefix + key.Length;
        var buf = t_key is { } b && b.Length >= len ? b : t_key = new byte[Math.Max(len, 256)];
        BinaryPrimitives.WriteInt32LittleEndian(buf, ns);
        key.CopyTo(buf.AsSpan(ValueLayout.KeyPrefix));
        return buf.AsSpan(0, len);
    }
}
