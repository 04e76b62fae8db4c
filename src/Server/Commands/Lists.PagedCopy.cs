using System.Buffers.Binary;
using NativeKv.Server.Storage;
using NativeKv.Server.Storage.Values.Paged;

namespace NativeKv.Server.Commands;

/// <summary>
/// COPY of a paged list: the copy gets pages of its own under a new cid (two keys naming one cid would lose both's
/// pages with either), built from every leaf of the source read in rounds (<see cref="ListScan.FetchRange"/>), pushed
/// one by one. The AOF gets the destination's creation image and a push record an element. O(N), as Redis's COPY.
/// </summary>
internal static unsafe class PagedListCopy
{
    [ThreadStatic] private static byte[]? t_key;

    /// <summary>1 when copied, 0 when the destination exists and REPLACE is off, -1 when the command stopped.</summary>
    public static int Copy(ref CommandContext ctx, int dstDb, long expiry, in ListRoot src, bool replace)
    {
        var store = Db.Store(ref ctx);
        var st = store.Read(dstDb, ctx[2], out _, OpFlags.HeaderOnly);
        if (st == OpStatus.Pending) return -1;
        if (st == OpStatus.Found && !replace) return 0;
        var pages = PagedAccess.Pages(ref ctx);
        if (!ListScan.FetchRange(pages, src, 0, src.Count, reverse: false)) return -1;

        var root = ListRoot.Create(store.CommandCollectionId(), src.Tree.PageShift);
        pages.Fresh(root.Cid);
        Span<byte> bytes = stackalloc byte[ListRoot.Size];
        root.Write(bytes);
        pages.LogCreation(dstDb, ctx[2], KeyType.List, expiry, bytes);
        var key = StoreKey(store.Store.Namespace(dstDb), ctx[2]);
        var pusher = Pusher.For(pages, root, key);
        ListScan.Visit(src, 0, src.Count, false, pages.Pages, pusher);
        root = pusher.Root;

        store.FrameWrites();
        pages.WritePages(0, ListRoot.TreeRoom);
        var held = store.CommandPinned(ListRoot.Size);
        root.Write(held);
        fixed (byte* p = held)
        {
            var input = new StoreInput
            {
                Op = StoreOp.Set, Flags = OpFlags.NoLog, Type = KeyType.List, Expiry = expiry, Now = StoreInput.LazyNow,
                Data = p, DataLength = ListRoot.Size,
            };
            st = store.RmwNamespace(store.Store.Namespace(dstDb), ctx[2], ref input, out _);
        }
        if (st == OpStatus.Pending) return -1;
        pages.LogRecords();
        return 1;
    }

    /// <summary>Pushes every element it is given at the tail of the copy, one push record each.</summary>
    private sealed class Pusher : ITreeSink
    {
        [ThreadStatic] private static Pusher? t_pusher;
        private CommandPages _pages = null!;
        private byte[] _key = [];
        private int _keyLength;
        private byte[] _element = new byte[1024];
        private readonly byte[] _field = new byte[PagedList.FieldSize];
        public ListRoot Root;

        public static Pusher For(CommandPages pages, in ListRoot root, ReadOnlySpan<byte> key)
        {
            var p = t_pusher ??= new Pusher();
            p._pages = pages;
            p.Root = root;
            if (p._key.Length < key.Length) p._key = new byte[key.Length];
            key.CopyTo(p._key);
            p._keyLength = key.Length;
            return p;
        }

        public void Element(ReadOnlySpan<byte> element)
        {
            // A copy first: the source's page is in the same page set the copy's pages are edited in.
            if (_element.Length < element.Length) _element = new byte[element.Length];
            element.CopyTo(_element);
            var e = _element.AsSpan(0, element.Length);
            while (!PagedList.TryPush(ref Root, false, e, _pages.Pages, _pages, _pages.Needs))
                _pages.Fetch(); // a fresh collection's pages are never read
            Root.Seq++;
            _pages.Log(PagedList.Record(ElementOp.RPush, Root.Cid, _key.AsSpan(0, _keyLength), _field, Root.Seq, 0, e));
        }
    }

    private static ReadOnlySpan<byte> StoreKey(int ns, ReadOnlySpan<byte> key)
    {
        int len = ValueLayout.KeyPrefix + key.Length;
        var buf = t_key is { } b && b.Length >= len ? b : t_key = new byte[Math.Max(len, 256)];
        BinaryPrimitives.WriteInt32LittleEndian(buf, ns);
        key.CopyTo(buf.AsSpan(ValueLayout.KeyPrefix));
        return buf.AsSpan(0, len);
    }
}
